/* test_client_integration.c: the real client against the real server, one run per
 * approach, checking the invariants of the output files.
 *
 * The server ($PUSHPULL_SERVER, ASan build by default) publishes 5 periodic updates per
 * second with a 1 s heartbeat; each test runs $PUSHPULL_CLIENT for a few seconds with
 * --out in a fresh temporary directory, then reads summary.json. What every run must
 * show: the application's byte counts equal the kernel's (both directions), the byte
 * columns add up, no errors, one keep-alive connection per user (pinning works), every
 * latency sample is a received update. Per approach: no update missed in events, long and
 * SSE modes; short polling's mean latency near interval/2 and state mode's missed and
 * empty shares near the periodic models (MODELS.md); push latencies far below a poll
 * interval. Tolerances are wide enough for an ASan build on a busy 2-core machine.
 *
 * Messages upstream: with --send-rate, each user of short polling (events mode), long
 * polling and SSE posts its messages on a connection of its own; every message must come
 * back to its sender once, each POST's head must be exactly the profile's (browser and
 * minimal), the senders' bytes must be in the kernel check, and the server's own /stats
 * for POST /publish must show the same requests and bytes as the senders counted.
 *
 * Server restarts: a server of its own is killed (SIGKILL) 1.5 s into the window while
 * one client per approach runs, and a new one is started on the same port 0.6 s later,
 * with an in-memory feed (its seqs start again at 1) or on the same --feed-file (they
 * continue). Every user must keep trying, notice exactly one outage of plausible length,
 * and the update figures must stay true across the two feeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_harness.h"
#include "harness.h"

#define CLIENTS     "20"
#define N_CLIENTS   20.0
#define RUN_LIMIT_S 60

struct fixture {
    struct harness_server srv;
    char url[64];
};

static int setup(void **state)
{
    static struct fixture fx;
    const char *args[] = {"--rate", "5", "--heartbeat", "1s", NULL};
    if (harness_server_start(&fx.srv, args) != 0)
        return -1;
    snprintf(fx.url, sizeof(fx.url), "http://127.0.0.1:%u", fx.srv.port);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    harness_server_stop(&fx->srv);
    return 0;
}

/* Run the client with --server, --clients, --out and extra args; exit 0 is required. */
static cJSON *run_client(const struct fixture *fx, char *dir, size_t dirlen,
                         const char *const *extra)
{
    const char *args[48];
    size_t n = 0;
    assert_int_equal(client_harness_tempdir(dir, dirlen), 0);
    args[n++] = "--server";
    args[n++] = fx->url;
    args[n++] = "--clients";
    args[n++] = CLIENTS;
    args[n++] = "--out";
    args[n++] = dir;
    for (size_t i = 0; extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    int rc = client_harness_run(dir, args, RUN_LIMIT_S);
    if (rc != 0) {
        char *err = client_harness_slurp(dir, "stderr.txt");
        fail_msg("client exited %d: %s", rc, err ? err : "(no stderr)");
    }
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    return root;
}

static double num(const cJSON *root, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "results.%s", field);
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

#define EXPECT_EQ(root, a, b)                                                              \
    do {                                                                                   \
        double va_ = num(root, a), vb_ = num(root, b);                                     \
        if (va_ != vb_)                                                                    \
            fail_msg("%s = %.0f but %s = %.0f", a, va_, b, vb_);                           \
    } while (0)
#define EXPECT_RANGE(root, f, lo, hi)                                                      \
    do {                                                                                   \
        double v_ = num(root, f);                                                          \
        if (!(v_ >= (lo) && v_ <= (hi)))                                                   \
            fail_msg("%s = %.3f, expected in [%.3f, %.3f]", f, v_, (double)(lo),           \
                     (double)(hi));                                                        \
    } while (0)

/* What every run must show. */
static void check_common(const cJSON *root)
{
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    EXPECT_EQ(root, "app_bytes_sent_run", "kernel_bytes_sent_run");
    EXPECT_EQ(root, "app_bytes_received_run", "kernel_bytes_received_run");
    double parts = num(root, "req_header_bytes") + num(root, "req_body_bytes") +
                   num(root, "resp_header_bytes") + num(root, "resp_body_bytes") +
                   num(root, "framing_bytes");
    if (parts != num(root, "total_bytes"))
        fail_msg("byte columns add to %.0f, total_bytes %.0f", parts,
                 num(root, "total_bytes"));
    EXPECT_RANGE(root, "errors_connect", 0, 0);
    EXPECT_RANGE(root, "errors_timeout", 0, 0);
    EXPECT_RANGE(root, "errors_status", 0, 0);
    EXPECT_RANGE(root, "errors_parse", 0, 0);
    EXPECT_RANGE(root, "errors_io", 0, 0);
    EXPECT_RANGE(root, "users_never_connected", 0, 0);
    EXPECT_RANGE(root, "users_stopped", 0, 0);
    EXPECT_RANGE(root, "staleness_unknown_stamps", 0, 0);
    /* a healthy server: no anomaly, every user served */
    EXPECT_RANGE(root, "errors_parse_too_big", 0, 0);
    EXPECT_RANGE(root, "seq_backwards", 0, 0);
    EXPECT_RANGE(root, "stamps_future", 0, 0);
    EXPECT_RANGE(root, "sse_events_invalid", 0, 0);
    EXPECT_RANGE(root, "updates_unseen", 0, 0);
    EXPECT_RANGE(root, "users_served", N_CLIENTS, N_CLIENTS);
    assert_string_equal(client_harness_str(root, "results.verdict"), "served");
    /* pinning: one keep-alive connection per user for the whole run */
    EXPECT_RANGE(root, "connections_opened_run", N_CLIENTS, N_CLIENTS);
    EXPECT_RANGE(root, "reconnects", 0, 0);
    EXPECT_EQ(root, "latency_count", "updates_received");
    double published = num(root, "updates_published");
    EXPECT_RANGE(root, "updates_published", 15, 25); /* 5 per second for 4 s */
    EXPECT_RANGE(root, "updates_expected", published * N_CLIENTS, published * N_CLIENTS);
    EXPECT_RANGE(root, "duplicates", 0, 0);
}

static void check_files(const char *dir)
{
    char *tl = client_harness_slurp(dir, "timeline.csv");
    char *lat = client_harness_slurp(dir, "latency.csv");
    char *csv = client_harness_slurp(dir, "summary.csv");
    assert_non_null(tl);
    assert_non_null(lat);
    assert_non_null(csv);
    assert_memory_equal(tl, "time_s,newest_seq_known,server_newest_seq,staleness_ms\n", 54);
    assert_memory_equal(lat, "percentile,latency_us,latency_ms,count_at_or_below\n", 51);
    assert_non_null(strstr(csv, "latency_p99_ms"));
    assert_non_null(strstr(csv, "bytes_per_client_min"));
    size_t lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2); /* header and one row */
    free(tl);
    free(lat);
    free(csv);
}

static void test_short_events(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    const char *args[] = {"--approach", "short", "--poll",     "events",
                          "--interval", "500ms", "--duration", "4s",
                          "--warmup",   "1s",    NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    check_common(root);
    check_files(dir);
    EXPECT_RANGE(root, "missed", 0, 0);
    /* 4 s / 0.5 s = 8 polls per user, +-1 for where the phase falls */
    EXPECT_RANGE(root, "requests", 7 * N_CLIENTS, 9 * N_CLIENTS);
    /* every poll answered: at most one per user still in flight at the window's end */
    double answered = num(root, "responses_news") + num(root, "responses_empty") +
                      num(root, "responses_304");
    double requests = num(root, "requests");
    if (fabs(answered - requests) > N_CLIENTS)
        fail_msg("%.0f requests but %.0f responses", requests, answered);
    /* mean latency T/2 = 250 ms (MODELS.md), spread by 20 users' fixed phases */
    EXPECT_RANGE(root, "latency_mean_ms", 150, 350);
    EXPECT_RANGE(root, "latency_max_ms", 0, 600);
    EXPECT_RANGE(root, "staleness_mean_ms", 1, 500);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_short_state(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    /* T = 50 ms < P = 200 ms: every update seen, three polls in four redundant
     * (1 - T/P); a poll may come up to 150 ms late (a loaded machine) and still see each */
    const char *args[] = {"--approach", "short", "--poll",   "state", "--interval", "50ms",
                          "--duration", "4s",    "--warmup", "1s",    NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    check_common(root);
    EXPECT_RANGE(root, "missed", 0, 0);
    EXPECT_RANGE(root, "empty_share", 0.6, 0.9);
    EXPECT_RANGE(root, "responses_304", 1, 1e9);
    EXPECT_RANGE(root, "responses_empty", 0, 0);
    EXPECT_RANGE(root, "latency_mean_ms", 10, 45); /* T/2 = 25 ms */
    cJSON_Delete(root);
    client_harness_rmdir(dir);

    /* T = 1 s > P = 200 ms: state mode misses 1 - P/T = 80% */
    const char *slow[] = {"--approach", "short", "--poll",   "state", "--interval", "1s",
                          "--duration", "4s",    "--warmup", "1s",    NULL};
    root = run_client(fx, dir, sizeof(dir), slow);
    check_common(root);
    EXPECT_RANGE(root, "missed_share", 0.7, 0.9);
    EXPECT_RANGE(root, "empty_share", 0, 0.1);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_long(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    const char *args[] = {"--approach", "long", "--duration", "4s", "--warmup", "1s", NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    check_common(root);
    check_files(dir);
    EXPECT_RANGE(root, "missed", 0, 0);
    /* one request per update per user, give or take the held one at each end */
    double per_user = num(root, "requests") / N_CLIENTS;
    double published = num(root, "updates_published");
    if (per_user < published - 2 || per_user > published + 2)
        fail_msg("%.1f requests per user for %.0f updates", per_user, published);
    EXPECT_RANGE(root, "latency_p99_ms", 0, 100); /* about one transit, not an interval */
    EXPECT_RANGE(root, "staleness_mean_ms", 0, 20);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* The libcurl driver (--http-driver curl) counts and delivers as the raw one does. */
static void test_long_curl(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    const char *args[] = {"--approach", "long",          "--duration", "3s", "--warmup",
                          "1s",         "--http-driver", "curl",       NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    check_common(root);
    EXPECT_RANGE(root, "missed", 0, 0);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_sse(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    const char *args[] = {"--approach", "sse", "--duration", "4s", "--warmup", "1s", NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    check_common(root);
    check_files(dir);
    EXPECT_RANGE(root, "missed", 0, 0);
    EXPECT_RANGE(root, "requests", 0, 0); /* streams were opened in the warmup */
    EXPECT_RANGE(root, "requests_run", N_CLIENTS, N_CLIENTS);
    EXPECT_RANGE(root, "transfers_aborted_at_end", 0, 0); /* counted after the window */
    EXPECT_EQ(root, "sse_events", "updates_received");
    EXPECT_RANGE(root, "framing_bytes", 1, 1e12); /* chunked */
    double body = num(root, "resp_body_bytes");
    double split = num(root, "sse_data_bytes") + num(root, "sse_framing_bytes") +
                   num(root, "sse_comment_bytes");
    if (body != split)
        fail_msg("SSE body %.0f bytes but data+fields+comments %.0f", body, split);
    EXPECT_RANGE(root, "latency_p99_ms", 0, 100);
    EXPECT_RANGE(root, "staleness_mean_ms", 0, 20);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* ---- messages upstream ----------------------------------------------------------------
 */

/* POST /publish as the server counted it so far: requests and header/body bytes. */
struct publish_stats {
    double requests, req_header, req_body, resp_header, resp_body;
};

static struct publish_stats publish_stats(unsigned port)
{
    struct publish_stats p = {0, 0, 0, 0, 0};
    cJSON *st = harness_stats(port);
    assert_non_null(st);
    p.requests = harness_stat(st, "transports.publish.requests");
    p.req_header = harness_stat(st, "transports.publish.req_header_bytes");
    p.req_body = harness_stat(st, "transports.publish.req_body_bytes");
    p.resp_header = harness_stat(st, "transports.publish.resp_header_bytes");
    p.resp_body = harness_stat(st, "transports.publish.resp_body_bytes");
    cJSON_Delete(st);
    return p;
}

static double up_total(const cJSON *root, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "upstream_totals.%s", field);
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

/* One run with messages at 2 per user per second, periodic, 100 bytes each. */
static void run_with_messages(const struct fixture *fx, const char *approach,
                              const char *headers)
{
    char dir[64];
    struct publish_stats before = publish_stats(fx->srv.port);
    const char *args[] = {"--approach",   approach, "--poll",      "events",
                          "--interval",   "500ms",  "--duration",  "4s",
                          "--warmup",     "1s",     "--headers",   headers,
                          "--send-rate",  "2",      "--send-mode", "periodic",
                          "--send-bytes", "100",    NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    EXPECT_RANGE(root, "errors_connect", 0, 0);
    EXPECT_RANGE(root, "errors_io", 0, 0);
    EXPECT_RANGE(root, "errors_status", 0, 0);
    EXPECT_RANGE(root, "missed", 0, 0);
    EXPECT_RANGE(root, "duplicates", 0, 0);
    /* 2 a second for 4 s, periodic: exactly 8 due in the window per user; each came back
     * once, and only to its sender as its own */
    EXPECT_RANGE(root, "msgs_sent", 8 * N_CLIENTS, 8 * N_CLIENTS);
    EXPECT_EQ(root, "msgs_echoed", "msgs_sent");
    EXPECT_RANGE(root, "msgs_echo_duplicates", 0, 0);
    EXPECT_RANGE(root, "msgs_unechoed", 0, 0);
    EXPECT_EQ(root, "msg_rtt_count", "msgs_echoed");
    /* one keep-alive connection per sender; every POST answered 201 */
    EXPECT_RANGE(root, "up_connections_opened_run", N_CLIENTS, N_CLIENTS);
    EXPECT_RANGE(root, "up_errors", 0, 0);
    double posts = up_total(root, "requests");
    if (posts != client_harness_num(root, "run_totals.msgs_sent"))
        fail_msg("%.0f POSTs for %.0f messages", posts,
                 client_harness_num(root, "run_totals.msgs_sent"));
    if (up_total(root, "responses_empty") + up_total(root, "transfers_aborted_at_end") !=
        posts)
        fail_msg("POSTs not answered 201");
    /* each POST's head is exactly the profile's, and its body the message */
    double head = num(root, "send_head_profile_bytes");
    if (up_total(root, "req_header_bytes") != posts * head ||
        up_total(root, "req_body_bytes") != posts * 100)
        fail_msg("POST heads %.0f, bodies %.0f for %.0f POSTs of %.0f + 100 bytes",
                 up_total(root, "req_header_bytes"), up_total(root, "req_body_bytes"),
                 posts, head);
    double parts = num(root, "msg_header_bytes") + num(root, "msg_payload_bytes") +
                   num(root, "msg_reply_bytes");
    if (parts != num(root, "msg_wire_bytes") ||
        num(root, "msg_header_bytes") !=
            num(root, "up_req_header_bytes") + num(root, "up_resp_header_bytes"))
        fail_msg("message byte columns do not add up");
    /* the server counted the same POSTs, byte for byte (its count of a connection's last
     * request lands when the connection closes: wait for it) */
    struct publish_stats after = publish_stats(fx->srv.port);
    for (int i = 0; i < 60 && after.requests - before.requests < posts; i++) {
        harness_sleep_ms(50);
        after = publish_stats(fx->srv.port);
    }
    /* A POST still unanswered when the client stopped (aborted at the end) was answered
     * by a server that counts what it wrote; the client, gone, read none or part of it.
     * Those answers may differ by up to one head (with "Connection: close" added: 64 B of
     * slack) and one body each; every other figure must agree to the byte. */
    double aborted = up_total(root, "transfers_aborted_at_end");
    double answered = posts - aborted;
    double head_gap =
        after.resp_header - before.resp_header - up_total(root, "resp_header_bytes");
    double body_gap =
        after.resp_body - before.resp_body - up_total(root, "resp_body_bytes");
    double head_each = answered > 0 ? up_total(root, "resp_header_bytes") / answered : 0;
    double body_each = answered > 0 ? up_total(root, "resp_body_bytes") / answered : 0;
    if (after.requests - before.requests != posts ||
        after.req_header - before.req_header != up_total(root, "req_header_bytes") ||
        after.req_body - before.req_body != up_total(root, "req_body_bytes") ||
        head_gap < 0 || head_gap > aborted * (head_each + 64) || body_gap < 0 ||
        body_gap > aborted * body_each)
        fail_msg("server: %.0f POSTs, heads %.0f/%.0f, bodies %.0f/%.0f; client: %.0f "
                 "(%.0f aborted at the end), %.0f/%.0f, %.0f/%.0f",
                 after.requests - before.requests, after.req_header - before.req_header,
                 after.resp_header - before.resp_header, after.req_body - before.req_body,
                 after.resp_body - before.resp_body, posts, aborted,
                 up_total(root, "req_header_bytes"), up_total(root, "resp_header_bytes"),
                 up_total(root, "req_body_bytes"), up_total(root, "resp_body_bytes"));
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_messages_short(void **state)
{
    run_with_messages(*state, "short", "minimal");
}

static void test_messages_long(void **state)
{
    run_with_messages(*state, "long", "minimal");
}

static void test_messages_sse(void **state)
{
    run_with_messages(*state, "sse", "browser");
}

/* The browser profile's request head is what goes out: one EventSource request per user,
 * each exactly req_head_profile_bytes (no Last-Event-ID on a first connection). */
static void test_browser_headers_exact(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    const char *args[] = {"--approach",     "sse", "--headers",  "browser",
                          "--cookie-bytes", "200", "--duration", "2s",
                          "--warmup",       "1s",  NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    double head = num(root, "req_head_profile_bytes");
    double sent = num(root, "app_bytes_sent_run");
    if (sent != head * N_CLIENTS)
        fail_msg("sent %.0f bytes, want %.0f users x %.0f", sent, N_CLIENTS, head);
    EXPECT_RANGE(root, "req_head_profile_bytes", 593 + 210, 593 + 210 + 2);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* 150 users span three libcurl multi handles (loop.h, shards of 64): each user still keeps
 * exactly one connection, and the byte accounts still agree with the kernel. */
static void test_many_users_across_shards(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    const char *args[] = {"--server", fx->url,  "--clients",  "150", "--approach", "short",
                          "--poll",   "events", "--interval", "1s",  "--duration", "3s",
                          "--warmup", "1s",     "--out",      dir,   NULL};
    assert_int_equal(client_harness_run(dir, args, RUN_LIMIT_S), 0);
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    EXPECT_RANGE(root, "connections_opened_run", 150, 150);
    EXPECT_RANGE(root, "requests", 2 * 150, 4 * 150);
    EXPECT_RANGE(root, "missed", 0, 0);
    EXPECT_RANGE(root, "errors_io", 0, 0);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* No server: connect errors are counted, the run still completes and reports, and exits
 * 3 with one line saying the users received nothing. */
static void test_server_down(void **state)
{
    (void)state;
    char dir[64];
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    const char *args[] = {"--server",   "http://127.0.0.1:1",
                          "--clients",  "3",
                          "--approach", "short",
                          "--interval", "200ms",
                          "--duration", "1s",
                          "--warmup",   "0",
                          "--out",      dir,
                          NULL};
    assert_int_equal(client_harness_run(dir, args, RUN_LIMIT_S), 3);
    char *err = client_harness_slurp(dir, "stderr.txt");
    assert_non_null(err);
    assert_non_null(strstr(err, "pushpull-client: no user received anything: 0 updates, 0 "
                                "of 3 users answered; connect errors "));
    free(err);
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    assert_string_equal(client_harness_str(root, "results.verdict"), "nothing");
    EXPECT_RANGE(root, "errors_connect", 10, 20);
    EXPECT_RANGE(root, "users_never_connected", 0,
                 0); /* sockets were opened, then refused */
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* A bad flag: exit 2 and one line naming it. */
static void test_bad_flag(void **state)
{
    (void)state;
    char dir[64];
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    const char *args[] = {"--clients", "many", NULL};
    assert_int_equal(client_harness_run(dir, args, 10), 2);
    char *err = client_harness_slurp(dir, "stderr.txt");
    assert_non_null(err);
    assert_string_equal(err, "pushpull-client: --clients: expected a count from 1 to 200k "
                             "(like 100 or 10k), got 'many'\n");
    free(err);
    client_harness_rmdir(dir);
}

/* ---- server restarts ---------------------------------------------------------------- */

#define RESTART_USERS   "4"
#define N_RESTART_USERS 4.0
#define N_APPROACHES    3

struct restart_client {
    const char *approach; /* "sse", "long", "short" */
    char dir[64];         /* its --out directory ("" when none) */
    pid_t pid;            /* the running client, 0 when none */
};

/* Everything one restart test starts, so its teardown can stop and remove what is left
 * when an assertion cuts the test short. */
struct restart_fixture {
    struct restart_client cl[N_APPROACHES];
    struct harness_server srv; /* the server running now (pid 0: none) */
    char feed_dir[64];         /* holds feed.log ("" when none) */
};

static int restart_setup(void **state)
{
    static struct restart_fixture rf;
    memset(&rf, 0, sizeof(rf));
    *state = &rf;
    return 0;
}

static int restart_teardown(void **state)
{
    struct restart_fixture *rf = *state;
    for (int i = 0; i < N_APPROACHES; i++) {
        if (rf->cl[i].pid > 0)
            client_harness_finish(rf->cl[i].pid, 0); /* kills it (by pid) and reaps */
        rf->cl[i].pid = 0;
        if (rf->cl[i].dir[0])
            client_harness_rmdir(rf->cl[i].dir);
        rf->cl[i].dir[0] = '\0';
    }
    if (rf->srv.pid > 0)
        harness_server_stop(&rf->srv);
    if (rf->feed_dir[0])
        client_harness_rmdir(rf->feed_dir);
    rf->feed_dir[0] = '\0';
    return 0;
}

/* Start the server on a fixed port (or 0), with an optional --feed-file. */
static int start_restart_server(struct harness_server *srv, unsigned port,
                                const char *feed_file)
{
    char port_s[16];
    snprintf(port_s, sizeof(port_s), "%u", port);
    const char *args[] = {"--rate", "10",   "--retry-ms", "300ms", "--heartbeat", "1s",
                          "--port", port_s, NULL,         NULL,    NULL};
    if (feed_file) {
        args[8] = "--feed-file";
        args[9] = feed_file;
    }
    return harness_server_start(srv, args);
}

/* The sum of one column of activity.csv and the number of rows. */
static double activity_sum(const char *csv, int col, int *rows)
{
    double sum = 0;
    *rows = 0;
    const char *line = strchr(csv, '\n');
    for (int guard = 0; line && line[1] && guard < 100000; guard++) {
        line++;
        const char *p = line;
        for (int c = 0; c < col && p; c++) {
            p = strchr(p, ',');
            if (p)
                p++;
        }
        if (p)
            sum += strtod(p, NULL);
        (*rows)++;
        line = strchr(line, '\n');
    }
    return sum;
}

/* Users spread over three loops (--threads 3), with messages: the counts, the activity
 * series and the latency figures are the run's, whole, after the merge. */
static void test_threads(void **state)
{
    struct fixture *fx = *state;
    char dir[64];
    const char *args[] = {"--approach",  "long", "--duration",  "3s",
                          "--warmup",    "1s",   "--threads",   "3",
                          "--send-rate", "2",    "--send-mode", "periodic",
                          NULL};
    cJSON *root = run_client(fx, dir, sizeof(dir), args);
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    check_files(dir);
    EXPECT_RANGE(root, "errors_io", 0, 0);
    EXPECT_RANGE(root, "users_served", N_CLIENTS, N_CLIENTS);
    EXPECT_RANGE(root, "client_threads", 3, 3);
    EXPECT_RANGE(root, "missed", 0, 0);
    EXPECT_EQ(root, "updates_received", "updates_expected");
    EXPECT_EQ(root, "msgs_echoed", "msgs_sent");
    EXPECT_RANGE(root, "up_connections_opened_run", N_CLIENTS, N_CLIENTS);
    if (num(root, "loop_turns") < 1 ||
        num(root, "loop_full_turns") > num(root, "loop_turns"))
        fail_msg("loop turns %.0f, full %.0f", num(root, "loop_turns"),
                 num(root, "loop_full_turns"));
    /* every worker's activity is in the series: from the window's start it holds at least
     * the window's first receipts, and at most every receipt of the run */
    char *act = client_harness_slurp(dir, "activity.csv");
    assert_non_null(act);
    int rows;
    double deliveries = activity_sum(act, 4, &rows);
    free(act);
    if (deliveries < num(root, "updates_received") ||
        deliveries > client_harness_num(root, "run_totals.deliveries"))
        fail_msg("activity.csv: %.0f deliveries; %.0f received in the window, %.0f in all",
                 deliveries, num(root, "updates_received"),
                 client_harness_num(root, "run_totals.deliveries"));
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* One restart run: a server, three clients (SSE, long polling, short polling in events
 * mode), SIGKILL 1.5 s into their window, a new server on the same port 0.6 s later. */
static void restart_run(struct restart_fixture *rf, bool durable)
{
    char feed_file[128];
    assert_int_equal(client_harness_tempdir(rf->feed_dir, sizeof(rf->feed_dir)), 0);
    snprintf(feed_file, sizeof(feed_file), "%s/feed.log", rf->feed_dir);
    const char *feed = durable ? feed_file : NULL;
    assert_int_equal(start_restart_server(&rf->srv, 0, feed), 0);
    unsigned port = rf->srv.port;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);

    const char *names[N_APPROACHES] = {"sse", "long", "short"};
    for (int i = 0; i < N_APPROACHES; i++) {
        struct restart_client *c = &rf->cl[i];
        c->approach = names[i];
        assert_int_equal(client_harness_tempdir(c->dir, sizeof(c->dir)), 0);
        const char *args[] = {
            "--server",   url,      "--clients",  RESTART_USERS, "--approach", names[i],
            "--duration", "4s",     "--warmup",   "1s",          "--out",      c->dir,
            "--poll",     "events", "--interval", "200ms",       NULL};
        c->pid = client_harness_start(c->dir, args);
        assert_true(c->pid > 0);
    }
    /* the clients' windows open about 1 s from now (plus their start-up) */
    harness_sleep_ms(2500);
    assert_int_equal(kill(rf->srv.pid, SIGKILL), 0);
    harness_server_stop(&rf->srv); /* reaps it (the SIGTERM finds it dead) */
    harness_sleep_ms(600);
    assert_int_equal(start_restart_server(&rf->srv, port, feed), 0);
    assert_int_equal(rf->srv.port, port);
    for (int i = 0; i < N_APPROACHES; i++) {
        struct restart_client *c = &rf->cl[i];
        int rc = client_harness_finish(c->pid, RUN_LIMIT_S);
        c->pid = 0;
        if (rc != 0) {
            char *err = client_harness_slurp(c->dir, "stderr.txt");
            fail_msg("%s client exited %d: %s", c->approach, rc, err ? err : "");
        }
    }
    harness_server_stop(&rf->srv);
}

/* What both kinds of restart must show, per client. */
static void check_restart_common(const cJSON *root, const char *dir)
{
    EXPECT_RANGE(root, "users_stopped", 0, 0);
    EXPECT_RANGE(root, "duplicates", 0, 0);
    EXPECT_RANGE(root, "feed_stamps_inconsistent", 0, 0);
    /* a restart is no anomaly: the new feed is met on new connections, after a reset */
    EXPECT_RANGE(root, "seq_backwards", 0, 0);
    EXPECT_RANGE(root, "updates_unseen", 0, 0);
    EXPECT_RANGE(root, "staleness_unknown_stamps", 0, 0);
    EXPECT_RANGE(root, "updates_published", 20, 45); /* 10 per second, 4 s, less the gap */
    /* every user noticed the crash once and was served again */
    EXPECT_RANGE(root, "outages", N_RESTART_USERS, N_RESTART_USERS);
    EXPECT_RANGE(root, "outages_open", 0, 0);
    EXPECT_RANGE(root, "outage_mean_ms", 300, 5000);
    EXPECT_RANGE(root, "outage_max_ms", 300, 5000);
    EXPECT_RANGE(root, "reconnects", N_RESTART_USERS, 1e6);
    /* activity.csv: 100 ms rows over window and drain; the crash shows as failed
     * transfers, the recovery as new connections */
    char *act = client_harness_slurp(dir, "activity.csv");
    assert_non_null(act);
    assert_memory_equal(act, "time_s,requests,connections,errors,deliveries\n", 46);
    int rows = 0;
    double errors = activity_sum(act, 3, &rows);
    double connections = activity_sum(act, 2, &rows);
    double deliveries = activity_sum(act, 4, &rows);
    if (rows < 49 || rows > 53)
        fail_msg("activity.csv has %d rows for 5 to 5.2 s", rows);
    if (errors < N_RESTART_USERS || connections < N_RESTART_USERS ||
        deliveries < num(root, "updates_received") * 0.9)
        fail_msg("activity.csv: %.0f errors, %.0f connections, %.0f deliveries", errors,
                 connections, deliveries);
    free(act);
}

/* An in-memory restart: the client recognises the new feed (one epoch more), every user
 * got a reset (its cursor was ahead of the new feed), and only what was published between
 * a user's last receipt and the crash can be lost. */
static void test_restart_in_memory(void **state)
{
    struct restart_fixture *rf = *state;
    struct restart_client *cl = rf->cl;
    restart_run(rf, false);
    for (int i = 0; i < N_APPROACHES; i++) {
        cJSON *root = client_harness_summary(cl[i].dir);
        assert_non_null(root);
        check_restart_common(root, cl[i].dir);
        EXPECT_RANGE(root, "feed_restarts", 1, 1);
        EXPECT_RANGE(root, "resets", N_RESTART_USERS, 1e6);
        /* push: at most the update in flight at the crash; short polling at 200 ms and
         * 10 updates a second: what came after the last poll, about 2 per user */
        double lost = strcmp(cl[i].approach, "short") == 0 ? 3 : 1;
        EXPECT_RANGE(root, "missed", 0, lost * N_RESTART_USERS);
        cJSON_Delete(root);
    }
}

/* A durable restart: the seqs continue, so no new epoch, no reset, nothing missed. */
static void test_restart_durable(void **state)
{
    struct restart_fixture *rf = *state;
    struct restart_client *cl = rf->cl;
    restart_run(rf, true);
    for (int i = 0; i < N_APPROACHES; i++) {
        cJSON *root = client_harness_summary(cl[i].dir);
        assert_non_null(root);
        check_restart_common(root, cl[i].dir);
        EXPECT_RANGE(root, "feed_restarts", 0, 0);
        EXPECT_RANGE(root, "resets", 0, 0);
        EXPECT_RANGE(root, "missed", 0, 0);
        cJSON_Delete(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_events),
        cmocka_unit_test(test_short_state),
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_long_curl),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_sse),
        cmocka_unit_test(test_browser_headers_exact),
        cmocka_unit_test(test_messages_short),
        cmocka_unit_test(test_messages_long),
        cmocka_unit_test(test_messages_sse),
        cmocka_unit_test(test_many_users_across_shards),
        cmocka_unit_test(test_server_down),
        cmocka_unit_test(test_bad_flag),
        cmocka_unit_test_setup_teardown(test_restart_in_memory, restart_setup,
                                        restart_teardown),
        cmocka_unit_test_setup_teardown(test_restart_durable, restart_setup,
                                        restart_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
