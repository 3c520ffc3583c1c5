/* test_scale_client.c: the client's side of the load tier (issue 16) against real
 * servers: partitions that merge into one population's result, and the clock offset.
 *
 * Partitions: two client processes (--partition 1/2 and 2/2 of 21 SSE users) run at once
 * against one server ($PUSHPULL_SERVER, ASan build), then `pushpull-client merge` adds
 * them up. The merged result must be the population's: 21 users (11 + 10), every user got
 * every update of its window, every counter the sum of the partitions', the kernel check
 * whole, the latency samples all there (the bucket-exact percentiles are test_hist's).
 * merge must refuse a missing partition, a partition given twice, a merge of a merge and
 * a partition of another run (another --seed), each with one line.
 *
 * Clock offset: a server started with --clock-offset-ms 5000 (a test aid: its stamps and
 * GET /time read 5 s ahead, as a host whose clock is 5 s fast would) and an SSE client.
 * Uncorrected, every stamp would be 5 s in the future and dropped (stamps_future, past
 * --max-clock-skew 1s); corrected, the client's estimate must lie within its stated
 * uncertainty of 5000 ms (the NTP bound is a hard one), nothing is dropped or missed, no
 * latency is below minus the uncertainty, and the median is near an unshifted run's.
 *
 * Failover: a redis-server of the test's own and two instances on its feed (the second
 * publishes 10 updates a second), and three clients (SSE, long polling, WebSocket) with
 * both URLs: user u starts on instance u % 2, the observer on the first. The first
 * instance is killed (SIGKILL) 1.5 s into the window: its users (and the observer) must
 * move to the second (failovers counted) and resume by their cursors, so every user gets
 * every update of the window, none twice, and no feed restart is seen.
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

#include <signal.h>

#include "client_harness.h"
#include "harness.h"
#include "redis_harness.h"

#define RUN_LIMIT_S 60

static double num(const cJSON *root, const char *path)
{
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

/* The value of one total row ("min_us") of a bucket file. */
static double bucket_total(const char *dir, const char *file, const char *kind)
{
    char *text = client_harness_slurp(dir, file);
    assert_non_null(text);
    char key[64];
    snprintf(key, sizeof(key), "\n%s,,", kind);
    char *at = strstr(text, key);
    assert_non_null(at);
    double v = strtod(at + strlen(key), NULL);
    free(text);
    return v;
}

/* The deliveries column of dir/activity.csv, added up. */
static double activity_deliveries(const char *dir)
{
    char *act = client_harness_slurp(dir, "activity.csv");
    assert_non_null(act);
    double sum = 0;
    for (char *line = strchr(act, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        double t, q, c, e, d;
        assert_int_equal(sscanf(line + 1, "%lf,%lf,%lf,%lf,%lf", &t, &q, &c, &e, &d), 5);
        sum += d;
    }
    free(act);
    return sum;
}

/* dir/traffic.csv added up: its rows, their bytes each way, the users in it (a bit each,
 * ids under 64), and its first row's user and time. */
struct traffic_sum {
    double rows, up, down, first_t;
    uint64_t users;
    unsigned first_user;
};

static struct traffic_sum traffic_of(const char *dir)
{
    struct traffic_sum t = {0, 0, 0, 0, 0, 0};
    char *text = client_harness_slurp(dir, "traffic.csv");
    assert_non_null(text);
    assert_true(strncmp(text, "user,t_ms,bytes_up,bytes_down\n", 30) == 0);
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        unsigned user;
        double ms, up, down;
        assert_int_equal(sscanf(line + 1, "%u,%lf,%lf,%lf", &user, &ms, &up, &down), 4);
        assert_true(user < 64);
        if (t.rows == 0) {
            t.first_user = user;
            t.first_t = ms;
        }
        t.rows++;
        t.up += up;
        t.down += down;
        t.users |= UINT64_C(1) << user;
    }
    free(text);
    return t;
}

/* Start a client with these args after --server url --out dir (dir made fresh). */
static pid_t start_client(const char *url, char *dir, size_t dirlen,
                          const char *const *extra)
{
    const char *args[40];
    size_t n = 0;
    assert_int_equal(client_harness_tempdir(dir, dirlen), 0);
    args[n++] = "--server";
    args[n++] = url;
    args[n++] = "--out";
    args[n++] = dir;
    for (size_t i = 0; extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    pid_t pid = client_harness_start(dir, args);
    assert_true(pid > 0);
    return pid;
}

static void finish_ok(pid_t pid, const char *dir)
{
    int rc = client_harness_finish(pid, RUN_LIMIT_S);
    if (rc != 0) {
        char *err = client_harness_slurp(dir, "stderr.txt");
        fail_msg("client in %s exited %d: %s", dir, rc, err ? err : "(no stderr)");
    }
}

/* Run `pushpull-client merge --out out ins...` (stdout/stderr into out's parent files
 * in log_dir). Its exit status; *err_line gets its stderr (caller frees). */
static int run_merge(const char *log_dir, const char *out, const char *const *ins,
                     char **err_line)
{
    const char *args[16] = {"merge", "--out", out};
    size_t n = 3;
    for (size_t i = 0; ins[i] && n < 15; i++)
        args[n++] = ins[i];
    args[n] = NULL;
    int rc = client_harness_run(log_dir, args, RUN_LIMIT_S);
    if (err_line)
        *err_line = client_harness_slurp(log_dir, "stderr.txt");
    return rc;
}

/* ---- partitions and merge ----------------------------------------------------------- */

struct parts {
    struct harness_server srv;
    char url[64];
    char p1[256], p2[256], merged[256], logs[256];
};

static int parts_setup(void **state)
{
    static struct parts P;
    const char *args[] = {"--rate", "10", "--heartbeat", "1s", NULL};
    if (harness_server_start(&P.srv, args) != 0)
        return -1;
    snprintf(P.url, sizeof(P.url), "http://127.0.0.1:%u", P.srv.port);
    *state = &P;
    return 0;
}

static int parts_teardown(void **state)
{
    struct parts *P = *state;
    harness_server_stop(&P->srv);
    const char *dirs[] = {P->p1, P->p2, P->merged, P->logs};
    for (size_t i = 0; i < 4; i++)
        if (dirs[i][0])
            client_harness_rmdir(dirs[i]);
    return 0;
}

static const char *const part_args[2][14] = {
    {"--approach", "sse", "--clients", "21", "--duration", "3s", "--warmup", "1s", "--seed",
     "7", "--partition", "1/2", NULL},
    {"--approach", "sse", "--clients", "21", "--duration", "3s", "--warmup", "1s", "--seed",
     "7", "--partition", "2/2", NULL},
};

static void test_partitions_merge(void **state)
{
    struct parts *P = *state;
    pid_t a = start_client(P->url, P->p1, sizeof(P->p1), part_args[0]);
    pid_t b = start_client(P->url, P->p2, sizeof(P->p2), part_args[1]);
    finish_ok(a, P->p1);
    finish_ok(b, P->p2);
    assert_int_equal(client_harness_tempdir(P->logs, sizeof(P->logs)), 0);
    assert_int_equal(client_harness_tempdir(P->merged, sizeof(P->merged)), 0);
    const char *ins[] = {P->p2, P->p1, NULL}; /* any order */
    char *err = NULL;
    int rc = run_merge(P->logs, P->merged, ins, &err);
    if (rc != 0)
        fail_msg("merge exited %d: %s", rc, err ? err : "");
    free(err);

    cJSON *r1 = client_harness_summary(P->p1), *r2 = client_harness_summary(P->p2);
    cJSON *m = client_harness_summary(P->merged);
    assert_true(r1 && r2 && m);
    /* the slices: 11 users (0, 2, ..., 20) and 10 (1, 3, ..., 19) of 21 */
    assert_true(num(r1, "partition.users") == 11 && num(r2, "partition.users") == 10);
    assert_true(num(r1, "partition.index") == 1 && num(r2, "partition.index") == 2);
    assert_true(num(r1, "partition.users_total") == 21);
    assert_true(num(m, "partition.users_total") == 21 && num(m, "partition.count") == 2);
    assert_true(
        cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "partition"), "merged")));
    assert_true(num(m, "results.clients") == 21);
    assert_true(num(m, "results.users_served") == 21);
    /* every user got every update of its window, none twice */
    double expected = num(m, "results.updates_expected");
    assert_true(expected > 0);
    assert_true(expected ==
                num(r1, "results.updates_expected") + num(r2, "results.updates_expected"));
    assert_true(num(m, "results.updates_received") == expected);
    assert_true(num(m, "results.missed") == 0 && num(m, "results.duplicates") == 0);
    assert_true(num(m, "results.latency_count") == expected);
    /* every counter is the sum of the partitions', window and whole run */
    const cJSON *names =
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "merge_inputs"), "users_window");
    assert_non_null(names);
    int checked = 0;
    for (const cJSON *c = names->child; c; c = c->next) {
        char path[160];
        const char *objs[] = {"users_window", "users_run", "upstream_run"};
        for (size_t o = 0; o < 3; o++) {
            snprintf(path, sizeof(path), "merge_inputs.%s.%s", objs[o], c->string);
            if (num(m, path) != num(r1, path) + num(r2, path))
                fail_msg("%s: merged %.0f, partitions %.0f + %.0f", path, num(m, path),
                         num(r1, path), num(r2, path));
            checked++;
        }
        snprintf(path, sizeof(path), "run_totals.%s", c->string);
        assert_true(num(m, path) == num(r1, path) + num(r2, path));
    }
    assert_true(checked > 100);
    assert_true(num(m, "results.requests_run") == 21); /* one stream each, pinned */
    assert_true(num(m, "results.connections_opened_run") == 21);
    assert_string_equal(client_harness_str(m, "results.bytes_check"), "ok");
    assert_true(num(m, "results.kernel_bytes_received_run") ==
                num(r1, "results.kernel_bytes_received_run") +
                    num(r2, "results.kernel_bytes_received_run"));
    /* the histograms: every sample, the extremes of both */
    assert_true(bucket_total(P->merged, "latency_buckets.csv", "count") == expected);
    double max1 = bucket_total(P->p1, "latency_buckets.csv", "max_us");
    double max2 = bucket_total(P->p2, "latency_buckets.csv", "max_us");
    assert_true(bucket_total(P->merged, "latency_buckets.csv", "max_us") ==
                (max1 > max2 ? max1 : max2));
    /* on one machine the clock is one: its offset is within its bound, never applied */
    assert_false(
        cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r1, "clock"), "applied")));
    /* activity adds bin by bin: the same rows, each the partitions' sum */
    assert_true(activity_deliveries(P->merged) > 0);
    assert_true(activity_deliveries(P->merged) ==
                activity_deliveries(P->p1) + activity_deliveries(P->p2));
    /* traffic.csv: every row of both (p2's first, as given), on the merged clock: p2's
     * times moved by its window start less the earlier one */
    struct traffic_sum t1 = traffic_of(P->p1), t2 = traffic_of(P->p2);
    struct traffic_sum tm = traffic_of(P->merged);
    assert_true(t1.rows == num(r1, "results.traffic_rows") && t1.rows > 0);
    assert_true(tm.rows == t1.rows + t2.rows && tm.rows == num(m, "results.traffic_rows"));
    assert_true(tm.up == t1.up + t2.up && tm.down == t1.down + t2.down);
    assert_true((t1.users & t2.users) == 0 && tm.users == (t1.users | t2.users));
    assert_int_equal(__builtin_popcountll(tm.users), 21);
    double ws1 = num(r1, "meta.window_start_unix_ns"),
           ws2 = num(r2, "meta.window_start_unix_ns");
    double shift_ms = (ws2 - (ws1 < ws2 ? ws1 : ws2)) / 1e6;
    assert_int_equal(tm.first_user, t2.first_user);
    if (fabs(tm.first_t - (t2.first_t + shift_ms)) > 0.0015)
        fail_msg("merged first row at %.3f ms, partition 2's at %.3f + %.3f", tm.first_t,
                 t2.first_t, shift_ms);
    char *timeline = client_harness_slurp(P->merged, "timeline.csv");
    char *timeline1 = client_harness_slurp(P->p1, "timeline.csv");
    assert_true(timeline && timeline1);
    assert_string_equal(timeline, timeline1); /* user 0's, partition 1's */
    free(timeline);
    free(timeline1);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    cJSON_Delete(m);
}

/* Runs after test_partitions_merge, on its directories. */
static void test_merge_refusals(void **state)
{
    struct parts *P = *state;
    char out[256], other[256];
    assert_int_equal(client_harness_tempdir(out, sizeof(out)), 0);
    static const struct {
        int which; /* inputs: 0 p1 alone, 1 p1 twice, 2 the merged, 3 p1 + other run */
        const char *expect;
    } cases[] = {
        {0, "partition 2/2 is missing (1 of 2 given)"},
        {1, "both hold partition 1/2"},
        {2, "already a merge of partitions"},
        {3, "are different runs: their --seed differs"},
    };
    /* another run's partition 2/2: the same but for --seed */
    const char *args[] = {"--approach",  "sse",      "--clients", "21",     "--duration",
                          "3s",          "--warmup", "1s",        "--seed", "8",
                          "--partition", "2/2",      NULL};
    pid_t pid = start_client(P->url, other, sizeof(other), args);
    finish_ok(pid, other);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *ins[3][3] = {{P->p1, NULL}, {P->p1, P->p1, NULL}, {P->merged, NULL}};
        const char *mixed[] = {P->p1, other, NULL};
        const char *const *in = cases[i].which == 3 ? mixed : ins[cases[i].which];
        char *err = NULL;
        int rc = run_merge(P->logs, out, in, &err);
        assert_int_equal(rc, 1);
        assert_non_null(err);
        if (!strstr(err, cases[i].expect) || strchr(err, '\n') != strrchr(err, '\n'))
            fail_msg("case %zu: '%s' is not one line with '%s'", i, err, cases[i].expect);
        free(err);
    }
    /* a bad command line is exit 2 */
    const char *none[] = {NULL};
    assert_int_equal(run_merge(P->logs, "", none, NULL), 2);
    client_harness_rmdir(other);
    client_harness_rmdir(out);
}

/* ---- clock offset ------------------------------------------------------------------- */

static cJSON *run_sse(const char *url, char *dir, size_t dirlen, const char *probes)
{
    const char *args[] = {"--approach", "sse", "--clients",     "10",   "--duration", "2s",
                          "--warmup",   "1s",  "--clock-probe", probes, NULL};
    pid_t pid = start_client(url, dir, dirlen, args);
    finish_ok(pid, dir);
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    return root;
}

static void test_clock_offset(void **state)
{
    (void)state;
    struct harness_server plain, shifted;
    const char *plain_args[] = {"--rate", "10", NULL};
    const char *shifted_args[] = {"--rate", "10", "--clock-offset-ms", "5000", NULL};
    assert_int_equal(harness_server_start(&plain, plain_args), 0);
    assert_int_equal(harness_server_start(&shifted, shifted_args), 0);
    char url[64], d0[256], d1[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", plain.port);
    cJSON *r0 = run_sse(url, d0, sizeof(d0), "8");
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", shifted.port);
    cJSON *r1 = run_sse(url, d1, sizeof(d1), "8");

    double offset = num(r1, "clock.offset_ms"), unc = num(r1, "clock.uncertainty_ms");
    if (fabs(offset - 5000.0) > unc + 0.001)
        fail_msg("estimated %.3f ms +- %.3f, the server is 5000 ms ahead", offset, unc);
    assert_true(unc > 0 && num(r1, "clock.probes") == 8);
    assert_true(
        cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r1, "clock"), "applied")));
    assert_true(num(r1, "results.clock_offset_applied") == 1);
    /* corrected: nothing looks like the future, nothing missed */
    assert_true(num(r1, "results.stamps_future") == 0);
    assert_true(num(r1, "results.updates_published") > 0);
    assert_true(num(r1, "results.missed") == 0);
    /* no latency below what the estimate's error allows, and the median on the unshifted
     * run's side of half the offset (uncorrected it would be 5000 ms away; no bound on
     * how fast this machine is) */
    assert_true(bucket_total(d1, "latency_buckets.csv", "min_us") >= -unc * 1000.0);
    double p50 = num(r1, "results.latency_p50_ms"),
           p50_plain = num(r0, "results.latency_p50_ms");
    if (fabs(p50 - p50_plain) > 2500.0)
        fail_msg("median %.3f ms shifted, %.3f ms unshifted", p50, p50_plain);
    /* the unshifted run: within its bound, not applied */
    assert_true(fabs(num(r0, "clock.offset_ms")) <=
                num(r0, "clock.uncertainty_ms") + 0.001);
    assert_true(num(r0, "results.clock_offset_applied") == 0);
    char *out = client_harness_slurp(d1, "stdout.txt");
    assert_non_null(out);
    assert_non_null(strstr(out, "latencies corrected"));
    free(out);
    cJSON_Delete(r0);
    cJSON_Delete(r1);
    client_harness_rmdir(d0);
    client_harness_rmdir(d1);
    harness_server_stop(&plain);
    harness_server_stop(&shifted);
}

/* ---- failover ----------------------------------------------------------------------- */

static void test_failover(void **state)
{
    (void)state;
    struct redis_proc redis;
    struct instance inst[2];
    memset(&redis, 0, sizeof(redis));
    memset(inst, 0, sizeof(inst));
    assert_int_equal(redis_harness_start(&redis, false), 0);
    const char *quiet[] = {"--redis", redis.addr, "--rate", "0", "--heartbeat", "1s", NULL};
    const char *gen[] = {"--redis", redis.addr, "--rate", "10", "--heartbeat", "1s", NULL};
    assert_int_equal(instance_start(&inst[0], redis.dir, "doomed", quiet), 0);
    assert_int_equal(instance_start(&inst[1], redis.dir, "survivor", gen), 0);
    char urls[128];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%u,http://127.0.0.1:%u", inst[0].port,
             inst[1].port);
    static const char *const approaches[] = {"sse", "long", "ws"};
    enum { N = 3 };
    char dirs[N][256];
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        const char *args[] = {"--approach",   approaches[i], "--clients", "10",
                              "--duration",   "4s",          "--warmup",  "1s",
                              "--ws-backoff", "100ms",       NULL};
        pids[i] = start_client(urls, dirs[i], sizeof(dirs[i]), args);
    }
    harness_sleep_ms(2500); /* 1.5 s into the window */
    assert_int_equal(proc_signal(&inst[0].proc, SIGKILL), 0);
    instance_stop(&inst[0]); /* reaps it: -1, it died of a signal */
    for (int i = 0; i < N; i++)
        finish_ok(pids[i], dirs[i]);
    for (int i = 0; i < N; i++) {
        cJSON *r = client_harness_summary(dirs[i]);
        assert_non_null(r);
        const char *a = approaches[i];
        double published = num(r, "results.updates_published");
        if (published < 20 || num(r, "results.missed") != 0 ||
            num(r, "results.duplicates") != 0 ||
            num(r, "results.updates_received") != published * 10)
            fail_msg("%s: %.0f published, %.0f received of %.0f, %.0f missed, %.0f twice",
                     a, published, num(r, "results.updates_received"),
                     num(r, "results.updates_expected"), num(r, "results.missed"),
                     num(r, "results.duplicates"));
        /* the 5 users on the killed instance moved, at least once each */
        if (num(r, "results.failovers") < 5)
            fail_msg("%s: %.0f failovers", a, num(r, "results.failovers"));
        assert_true(num(r, "run_totals.failovers") >= 5);
        assert_true(num(r, "observer_totals.failovers") >= 1); /* it was on the first */
        assert_true(num(r, "results.feed_restarts") == 0);
        assert_true(num(r, "results.feed_stamps_inconsistent") == 0);
        assert_true(num(r, "results.seq_backwards") == 0);
        assert_true(num(r, "results.users_served") == 10);
        cJSON_Delete(r);
        client_harness_rmdir(dirs[i]);
    }
    assert_int_equal(instance_stop(&inst[1]), 0);
    redis_harness_cleanup(&redis);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partitions_merge),
        cmocka_unit_test(test_merge_refusals),
        cmocka_unit_test(test_clock_offset),
        cmocka_unit_test(test_failover),
    };
    return cmocka_run_group_tests_name("scale_client", tests, parts_setup, parts_teardown);
}
