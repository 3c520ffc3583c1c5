/* test_h2load.c: the client's HPACK figure held against h2load's header "space savings"
 * (Debian's nghttp2-client), through the lab's front (nghttpx, lab/front.c), over h2c
 * and h2.
 *
 * What h2load reports (nghttp2's src/h2load.cc and h2load_http2_session.cc): its
 * "space savings" is 1 - bytes_head / bytes_head_decomp over the responses it received,
 * where bytes_head is each received HEADERS frame's payload (less padding and priority)
 * and bytes_head_decomp the sum of each decoded field's name and value length, :status
 * included, with no per-field overhead. So it measures HPACK on the way down only; its
 * own requests' headers are in no figure it prints. The client measures the same thing
 * its own way (clients/wire.h: fields from libcurl's head lines, blocks derived from the
 * kernel's bytes or the TLS records' plaintext), so the two figures come from different
 * programs, different HTTP/2 stacks' counts and different connections.
 *
 * The same workload for both: one server that publishes nothing (--rate 0), so every
 * answer carries the same fields but `date`, which changes once a second; 4 users with
 * the browser's headers and a 200-byte cookie polling every 50 ms by cursor, which after
 * each user's first request (GET /poll) is always GET /poll?since=0; then h2load with
 * the same request lines (clients/headers.c's browser profile, the cookie included) for
 * /poll?since=0, on as many connections, with as many requests on each, one at a time
 * (-m 1), as the client made over its whole run.
 *
 * Tolerance: 3 percentage points. The two runs' answers differ only where `date`
 * changes (the client's polls span about 2.5 s, h2load's come back to back) and in each
 * user's first answer (GET /poll: one field more, an ETag). A changed date is a new
 * literal of 20-odd bytes (29 characters, Huffman-coded) where an indexed field costs
 * 1 B; against about 120 B of fields
 * per answer and 50 answers per connection that is under half a point per change, and
 * the client sees two or three more changes per connection than h2load. A wrong measure
 * is far outside: counting the frames' 9-byte headers as header bytes moves the figure
 * by about 7 points, and a different number of answers per connection by far more (one
 * answer per connection, all literals, saves about 50%: the test checks that h2load's
 * figure for that differs from the client's by more than the tolerance, so agreement
 * here says something). The decoded bytes per answer, which both count from the same
 * fields, must agree to 2%.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client_harness.h"
#include "clients/headers.h"
#include "harness.h"
#include "front_harness.h"

#define USERS         4
#define COOKIE_BYTES  200
#define TOLERANCE_PTS 3.0
#define H2LOAD        "/usr/bin/h2load"
#define TARGET        "/poll?since=0"

static struct front_fixture fx;

static int setup(void **state)
{
    const char *args[] = {"--rate", "0", NULL};
    if (access(H2LOAD, X_OK) != 0) {
        fprintf(stderr,
                "test_h2load: %s is not installed (Debian package nghttp2-client; "
                "./run.sh setup installs it)\n",
                H2LOAD);
        return -1;
    }
    if (front_harness_start(&fx, args, "test_h2load") != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state; /* also after a failed setup, which leaves it NULL */
    front_harness_stop(&fx);
    return 0;
}

/* What the client measured over its whole run. */
struct lab_figure {
    double requests, connections; /* whole run */
    double fields, block;         /* decoded field bytes, HEADERS blocks' bytes */
    double heads;                 /* answers' header blocks */
    double saving_pct;
};

static double must(const cJSON *root, const char *path)
{
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

static struct lab_figure lab_run(const char *protocol, const char *url)
{
    char dir[64], users[16], cookie[16];
    snprintf(users, sizeof(users), "%d", USERS);
    snprintf(cookie, sizeof(cookie), "%d", COOKIE_BYTES);
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    const char *args[] = {
        "--server",   url,    "--protocol", protocol,  "--cacert",       fx.front.cert,
        "--clients",  users,  "--approach", "short",   "--poll",         "events",
        "--interval", "50ms", "--headers",  "browser", "--cookie-bytes", cookie,
        "--duration", "1s",   "--warmup",   "500ms",   "--out",          dir,
        NULL};
    int rc = client_harness_run(dir, args, 60);
    if (rc != 0) {
        char *err = client_harness_slurp(dir, "stderr.txt");
        fail_msg("%s: the client exited %d: %s", protocol, rc, err ? err : "(no stderr)");
    }
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    struct lab_figure f = {
        .requests = must(root, "results.requests_run"),
        .connections = must(root, "results.connections_opened_run"),
        .fields = must(root, "results.hpack_resp_field_bytes_run"),
        .block = must(root, "results.hpack_resp_block_bytes_run"),
        .heads = must(root, "run_totals.h2_resp_heads"),
        .saving_pct = must(root, "results.hpack_resp_saving_pct_run"),
    };
    /* a healthy run: every answer came, in HTTP/2, and none was news (the feed is still,
     * so every poll after a user's first asked the same URL as h2load will) */
    assert_true(must(root, "run_totals.errors_status") +
                    must(root, "run_totals.errors_io") +
                    must(root, "run_totals.errors_timeout") ==
                0);
    assert_true(must(root, "run_totals.responses_news") == 0);
    assert_true(f.connections == USERS);
    if (!(f.heads >= f.requests - USERS && f.heads <= f.requests))
        fail_msg("%s: %.0f answers to %.0f requests", protocol, f.heads, f.requests);
    if (!(f.fields > 0 && f.block > 0 && f.block < f.fields))
        fail_msg("%s: no HPACK figure: %.0f field bytes, %.0f block bytes", protocol,
                 f.fields, f.block);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    return f;
}

/* What h2load reported. */
struct h2load_figure {
    double succeeded;
    double head_bytes;  /* its bytes_head: the HEADERS frames' payload */
    double saving_pct;  /* its "space savings" */
    double field_bytes; /* bytes_head_decomp, back from the two */
};

/* h2load's "traffic:" and "requests:" lines, e.g.
 * "traffic: 10.32KB (10564) total, 2.18KB (2236) headers (space savings 90.94%), ..." */
static int parse_h2load(const char *out, struct h2load_figure *f)
{
    const char *t = strstr(out, "\ntraffic: ");
    const char *r = strstr(out, "\nrequests: ");
    if (!t || !r)
        return -1;
    const char *h = strstr(t, ") headers (space savings ");
    if (!h)
        return -1;
    const char *open = h;
    while (open > t && *open != '(')
        open--;
    double total, done, ok;
    if (sscanf(open, "(%lf) headers (space savings %lf%%)", &f->head_bytes,
               &f->saving_pct) != 2 ||
        sscanf(r, "\nrequests: %lf total, %*f started, %lf done, %lf succeeded", &total,
               &done, &ok) != 3)
        return -1;
    f->succeeded = ok;
    f->field_bytes = f->saving_pct < 100 ? f->head_bytes / (1 - f->saving_pct / 100) : NAN;
    return 0;
}

/* h2load against url + TARGET: n requests over c connections, one at a time on each,
 * with the browser profile's request lines (the cookie included; Connection left out,
 * which HTTP/2 forbids and libcurl drops too; Host becomes :authority from the URL). */
static struct h2load_figure h2load_run(const char *url, double n, double c)
{
    struct header_profile prof;
    char err[256], dir[64], nbuf[32], cbuf[32], target[128], why[256], path[128];
    memset(&prof, 0, sizeof(prof));
    if (headers_profile_load(&prof, "browser", COOKIE_BYTES, 1, err, sizeof(err)) != 0)
        fail_msg("the browser profile: %s", err);
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    snprintf(nbuf, sizeof(nbuf), "%.0f", n);
    snprintf(cbuf, sizeof(cbuf), "%.0f", c);
    snprintf(target, sizeof(target), "%s%s", url, TARGET);
    const char *argv[64] = {H2LOAD, "-n", nbuf, "-c", cbuf, "-m", "1"};
    size_t k = 7;
    for (size_t i = 0; i < prof.count[REQUEST_FETCH] && k < 60; i++) {
        const char *line = prof.lines[REQUEST_FETCH][i];
        if (strncasecmp(line, "Connection:", 11) == 0)
            continue;
        argv[k++] = "-H";
        argv[k++] = line;
    }
    argv[k++] = target;
    argv[k] = NULL;
    snprintf(path, sizeof(path), "%s/h2load.out", dir);
    struct proc p;
    proc_init(&p);
    struct proc_spec spec = {.argv = argv,
                             .name = "h2load",
                             .out = PROC_FILE,
                             .out_path = path,
                             .err = PROC_DEVNULL};
    if (proc_start(&p, &spec, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    if (!proc_wait(&p, 60000)) {
        proc_stop(&p, 1000);
        fail_msg("h2load took more than 60 s");
    }
    char *out = client_harness_slurp(dir, "h2load.out");
    assert_non_null(out);
    struct h2load_figure f;
    if (proc_exit_code(&p) != 0 || parse_h2load(out, &f) != 0)
        fail_msg("h2load exited %d; its output: %s", proc_exit_code(&p), out);
    if (f.succeeded != n)
        fail_msg("h2load: %.0f of %.0f requests succeeded: %s", f.succeeded, n, out);
    free(out);
    headers_profile_free(&prof);
    client_harness_rmdir(dir);
    return f;
}

static void compare(const char *protocol, const char *url)
{
    struct lab_figure lab = lab_run(protocol, url);
    struct h2load_figure same = h2load_run(url, lab.requests, lab.connections);
    print_message(
        "%s: the client: %.0f answers on %.0f connections, %.0f B of fields, "
        "%.0f B of blocks, %.2f%% saved; h2load: %.0f B of blocks, %.2f%% saved\n",
        protocol, lab.heads, lab.connections, lab.fields, lab.block, lab.saving_pct,
        same.head_bytes, same.saving_pct);
    /* both measures in a plausible range: HPACK saves most of a repeated head, never all */
    if (!(lab.saving_pct > 50 && lab.saving_pct < 99 && same.saving_pct > 50 &&
          same.saving_pct < 99))
        fail_msg("%s: savings %.2f%% (client) and %.2f%% (h2load), expected 50-99%%",
                 protocol, lab.saving_pct, same.saving_pct);
    if (fabs(lab.saving_pct - same.saving_pct) > TOLERANCE_PTS)
        fail_msg("%s: the client measured %.2f%% saved, h2load %.2f%% (more than %.1f "
                 "points apart)",
                 protocol, lab.saving_pct, same.saving_pct, TOLERANCE_PTS);
    double lab_per = lab.fields / lab.heads, h2l_per = same.field_bytes / lab.requests;
    if (fabs(lab_per - h2l_per) > 0.02 * h2l_per)
        fail_msg("%s: %.1f B of fields per answer (client), %.1f (h2load)", protocol,
                 lab_per, h2l_per);
    /* the comparison can tell workloads apart: one answer per connection (every field a
     * literal) is far from the client's figure */
    struct h2load_figure first = h2load_run(url, lab.connections, lab.connections);
    print_message("%s: h2load with one answer per connection: %.2f%% saved\n", protocol,
                  first.saving_pct);
    if (!(fabs(lab.saving_pct - first.saving_pct) > TOLERANCE_PTS))
        fail_msg("%s: h2load with one answer per connection saves %.2f%%, within %.1f "
                 "points of the client's %.2f%%: the comparison would not tell",
                 protocol, first.saving_pct, TOLERANCE_PTS, lab.saving_pct);
}

static void test_h2c_agrees_with_h2load(void **state)
{
    struct front_fixture *f = *state;
    compare("h2c", f->plain);
}

static void test_h2_agrees_with_h2load(void **state)
{
    struct front_fixture *f = *state;
    compare("h2", f->tls);
}

static void test_parse_h2load(void **state)
{
    (void)state;
    struct h2load_figure f;
    const char *out =
        "\nfinished in 10.1ms, 100 req/s, 1MB/s\n"
        "requests: 204 total, 204 started, 204 done, 204 succeeded, 0 failed, "
        "0 errored, 0 timeout\n"
        "status codes: 204 2xx, 0 3xx, 0 4xx, 0 5xx\n"
        "traffic: 10.32KB (10564) total, 2.18KB (2236) headers (space "
        "savings 90.94%), 4.38KB (4488) data\n";
    assert_int_equal(parse_h2load(out, &f), 0);
    assert_true(f.succeeded == 204 && f.head_bytes == 2236 && f.saving_pct == 90.94);
    assert_true(fabs(f.field_bytes - 24680.1) < 1);
    assert_int_equal(parse_h2load("\nrequests: 1 total\ntraffic: nothing\n", &f), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_h2load),
        cmocka_unit_test(test_h2c_agrees_with_h2load),
        cmocka_unit_test(test_h2_agrees_with_h2load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
