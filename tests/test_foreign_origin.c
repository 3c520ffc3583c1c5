/* test_foreign_origin.c: the real client against a foreign server this test scripts
 * (tests/fake_origin.h), for what nginx + nchan (test_foreign.c) never sends.
 *
 * Validators (clients/foreign.h): a poll server whose ETag is 100 bytes (a strong ETag of
 * a hash is about that long) gets it back whole as If-None-Match, and its 304s follow;
 * one whose ETag is 300 bytes, past the 255 the client keeps, sees polls without
 * If-None-Match, but with its 100-byte Last-Modified whole as If-Modified-Since, and the
 * client counts every such answer (validators_too_long) and names it once on stderr. No
 * timing is asserted beyond generous bounds of counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_harness.h"
#include "clock.h"
#include "fake_origin.h"

/* What the scripted poll server does and saw (under the origin's mutex). */
struct poll_script {
    size_t etag_len;    /* bytes of the ETag it sends, quotes included */
    size_t lastmod_len; /* bytes of its Last-Modified; 0: none */
    int64_t t0_ns;      /* its start (monotonic): the update changes every 300 ms */
    unsigned polls;     /* requests answered */
    unsigned inm_whole; /* with If-None-Match equal to an ETag it sent */
    unsigned inm_other; /* with another If-None-Match */
    unsigned ims_whole; /* with If-Modified-Since equal to the Last-Modified it sent */
    unsigned ims_other; /* with another If-Modified-Since */
    unsigned answered_304;
};

/* A validator of len bytes for update seq: c repeated around the number. */
static void validator(char *out, size_t len, char c, uint64_t seq, bool quoted)
{
    memset(out, c, len);
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, seq);
    memcpy(out + 1, num, (size_t)n);
    if (quoted) {
        out[0] = '"';
        out[len - 1] = '"';
    }
    out[len] = '\0';
}

static int serve_poll(struct fake_origin *o, int fd, const char *head)
{
    struct poll_script *s = o->ctx;
    char etag[512], lastmod[512], inm[600], ims[600], ans[2048];
    uint64_t seq = 1 + (uint64_t)((clock_mono_ns() - s->t0_ns) / (300 * NS_PER_MS));
    validator(etag, s->etag_len, 'e', seq, true);
    if (s->lastmod_len)
        validator(lastmod, s->lastmod_len, 'm', seq, false);
    long inm_len = fake_origin_header(head, "If-None-Match", inm, sizeof(inm));
    long ims_len = fake_origin_header(head, "If-Modified-Since", ims, sizeof(ims));
    /* an earlier update's validator, sent back whole, is as good as the current one's */
    bool inm_ok = inm_len == (long)s->etag_len && inm[0] == '"' && inm[1] != 'e';
    bool ims_ok = s->lastmod_len && ims_len == (long)s->lastmod_len && ims[1] != 'm';
    bool fresh = (inm_len >= 0 && strcmp(inm, etag) == 0) ||
                 (ims_len >= 0 && s->lastmod_len && strcmp(ims, lastmod) == 0);
    pthread_mutex_lock(&o->mu);
    s->polls++;
    s->inm_whole += inm_len >= 0 && inm_ok;
    s->inm_other += inm_len >= 0 && !inm_ok;
    s->ims_whole += ims_len >= 0 && ims_ok;
    s->ims_other += ims_len >= 0 && !ims_ok;
    s->answered_304 += fresh;
    pthread_mutex_unlock(&o->mu);
    char body[128];
    snprintf(body, sizeof(body), "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64 "}", seq,
             clock_real_ns());
    char lm_line[560] = "";
    if (s->lastmod_len)
        snprintf(lm_line, sizeof(lm_line), "Last-Modified: %s\r\n", lastmod);
    if (fresh)
        snprintf(ans, sizeof(ans), "HTTP/1.1 304 Not Modified\r\nETag: %s\r\n%s\r\n", etag,
                 lm_line);
    else
        snprintf(ans, sizeof(ans),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: %s\r\n%s"
                 "Content-Length: %zu\r\n\r\n%s",
                 etag, lm_line, strlen(body), body);
    return fake_origin_send(o, fd, ans, strlen(ans)) != 0;
}

struct outcome {
    int rc;        /* exit status */
    char *stderr_; /* its stderr (owned) */
    cJSON *root;   /* summary.json (owned) */
    char dir[64];
};

/* One interval-polling user on o's /poll for 1.5 s. */
static void run_poller(const struct fake_origin *o, struct outcome *out)
{
    char server[64];
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", o->port);
    assert_int_equal(client_harness_tempdir(out->dir, sizeof(out->dir)), 0);
    const char *args[] = {"--server", server,      "--url",      "/poll",      "--approach",
                          "short",    "--clients", "1",          "--interval", "100ms",
                          "--warmup", "0",         "--duration", "1500ms",     "--drain",
                          "300ms",    "--out",     out->dir,     NULL};
    out->rc = client_harness_run(out->dir, args, 60);
    out->stderr_ = client_harness_slurp(out->dir, "stderr.txt");
    out->root = client_harness_summary(out->dir);
    if (!out->root)
        fail_msg("no summary.json (exit %d): %s", out->rc,
                 out->stderr_ ? out->stderr_ : "");
}

static void outcome_free(struct outcome *o)
{
    cJSON_Delete(o->root);
    free(o->stderr_);
    client_harness_rmdir(o->dir);
}

static double res(const struct outcome *o, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "results.%s", field);
    double v = client_harness_num(o->root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

/* How many times needle occurs in hay. */
static unsigned occurrences(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_long_etag_comes_back_whole(void **state)
{
    (void)state;
    struct poll_script s = {.etag_len = 100, .t0_ns = clock_mono_ns()};
    struct fake_origin o;
    struct outcome out;
    assert_int_equal(fake_origin_start(&o, serve_poll, &s), 0);
    run_poller(&o, &out);
    fake_origin_stop(&o);
    if (out.rc != 0)
        fail_msg("exit %d: %s", out.rc, out.stderr_ ? out.stderr_ : "");
    /* every poll after the first sends the 100-byte ETag back, whole */
    if (s.inm_other != 0 || s.inm_whole + 1 < s.polls || s.polls < 5)
        fail_msg("%u polls: %u with the ETag whole, %u with another If-None-Match", s.polls,
                 s.inm_whole, s.inm_other);
    if (s.answered_304 == 0 || res(&out, "responses_304") == 0)
        fail_msg("no 304 (%u answered): the validator did not work", s.answered_304);
    assert_true(res(&out, "validators_too_long") == 0);
    assert_true(res(&out, "errors_parse") == 0);
    outcome_free(&out);
}

static void test_etag_past_the_limit_is_counted(void **state)
{
    (void)state;
    struct poll_script s = {.etag_len = 300, .lastmod_len = 100, .t0_ns = clock_mono_ns()};
    struct fake_origin o;
    struct outcome out;
    assert_int_equal(fake_origin_start(&o, serve_poll, &s), 0);
    run_poller(&o, &out);
    fake_origin_stop(&o);
    if (out.rc != 0)
        fail_msg("exit %d: %s", out.rc, out.stderr_ ? out.stderr_ : "");
    /* no ETag goes back (none cut short), the Last-Modified does, whole */
    if (s.inm_whole + s.inm_other != 0 || s.ims_other != 0 || s.ims_whole + 1 < s.polls ||
        s.polls < 5)
        fail_msg("%u polls: If-None-Match %u whole %u other; If-Modified-Since %u whole "
                 "%u other",
                 s.polls, s.inm_whole, s.inm_other, s.ims_whole, s.ims_other);
    /* every answer in the window (200 and 304 both carry the ETag) is counted; a poll
     * answered across the window's edge may fall on either side of it */
    double answers = res(&out, "responses_news") + res(&out, "responses_empty") +
                     res(&out, "responses_304");
    double counted = res(&out, "validators_too_long");
    if (!(counted >= 1 && fabs(counted - answers) <= 1))
        fail_msg("validators_too_long %.0f for %.0f answers", counted, answers);
    /* named once, with the header, its length and the limit */
    if (occurrences(out.stderr_, "validators_too_long") != 1 ||
        !strstr(out.stderr_, "ETag of 300 bytes, past the 255"))
        fail_msg("stderr should name the ETag once: %s", out.stderr_ ? out.stderr_ : "");
    outcome_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_etag_comes_back_whole),
        cmocka_unit_test(test_etag_past_the_limit_is_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
