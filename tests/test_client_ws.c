/* test_client_ws.c: the real client's WebSocket users against a WebSocket server written
 * in the test (tests/ws_test_server.c), while the real server has no /ws.
 *
 * Each test runs $PUSHPULL_CLIENT --approach ws with 5 users for a few seconds against a
 * fresh test server that publishes an update every 100 ms, acts on the server during the
 * run when the test needs it, and reads summary.json and what the server saw. Checked:
 *   - the feed: every update delivered, none twice, pings answered with pongs, frame
 *     headers of 2 bytes for small updates, no mask from the server, the handshake's
 *     bytes equal to what the server read and wrote, and the application's byte counts
 *     equal to the kernel's to the byte (bytes_check), in every test;
 *   - a cut (no close frame): every user reconnects after --ws-backoff, resumes with
 *     ?since= its last seq, and misses nothing and gets nothing twice;
 *   - a reset: updates gone while the users were away are signalled by a reset frame,
 *     counted as resets, and exactly those updates count as missed;
 *   - close 1001 from the server: users stop, answer with a close frame, do not come back;
 *   - a wrong Sec-WebSocket-Accept: every handshake refused and counted, users stop, and
 *     the run exits 3 (nothing received);
 *   - a refused connection: users retry with backoff until the server appears;
 *   - a server that closes at once and resets when the request comes: the FIN is not
 *     taken for a byte read (the socket ends CLOSED, where its state no longer says a
 *     FIN came), and users retry;
 *   - messages upstream: text frames, masked, each back to its sender once, with the
 *     bytes the server read;
 *   - a server that breaks the protocol once per user (invalid UTF-8 in a text frame, a
 *     masked frame, a message past --max-body): each user fails the connection with the
 *     RFC's close code (1007, 1002, 1009), counts a parse error, reconnects and resumes
 *     without missing anything.
 * No timing is asserted beyond generous counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_harness.h"
#include "harness.h"
#include "ws_test_server.h"

#define CLIENTS     "5"
#define N_CLIENTS   5
#define RUN_LIMIT_S 60

static double num(const cJSON *root, const char *path)
{
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

#define R(root, f)   num(root, "results." f)
#define RUN(root, f) num(root, "run_totals." f)
#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fail_msg(__VA_ARGS__);                                                         \
    } while (0)

/* Start the client against w with the common flags and extra; the caller finishes it. */
static pid_t start_client(unsigned port, char *dir, size_t dirlen, const char *const *extra)
{
    static char url[64];
    const char *args[48];
    size_t n = 0;
    assert_int_equal(client_harness_tempdir(dir, dirlen), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    const char *common[] = {"--server",   url,     "--approach", "ws",       "--clients",
                            CLIENTS,      "--out", dir,          "--warmup", "1s",
                            "--duration", "3s",    NULL};
    for (size_t i = 0; common[i]; i++)
        args[n++] = common[i];
    for (size_t i = 0; extra && extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    pid_t pid = client_harness_start(dir, args);
    assert_true(pid > 0);
    return pid;
}

static cJSON *finish_client(pid_t pid, const char *dir, int want_rc)
{
    int rc = client_harness_finish(pid, RUN_LIMIT_S);
    if (rc != want_rc) {
        char *err = client_harness_slurp(dir, "stderr.txt");
        fail_msg("client exited %d, expected %d: %s", rc, want_rc, err ? err : "");
    }
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    return root;
}

/* What every WebSocket run must show (dir: its --out). */
static void check_bytes(const cJSON *root, const char *dir, const struct wts_stats *st)
{
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    EXPECT(R(root, "app_bytes_sent_run") == R(root, "kernel_bytes_sent_run"),
           "sent: app %.0f kernel %.0f", R(root, "app_bytes_sent_run"),
           R(root, "kernel_bytes_sent_run"));
    EXPECT(R(root, "app_bytes_received_run") == R(root, "kernel_bytes_received_run"),
           "received: app %.0f kernel %.0f", R(root, "app_bytes_received_run"),
           R(root, "kernel_bytes_received_run"));
    /* the window's byte columns add up to total_bytes */
    static const char *const parts[] = {
        "ws_handshake_req_bytes", "ws_handshake_resp_bytes",  "ws_frame_header_bytes_down",
        "ws_mask_bytes_down",     "ws_payload_bytes_down",    "ws_ping_pong_bytes_down",
        "ws_close_bytes_down",    "ws_frame_header_bytes_up", "ws_mask_bytes_up",
        "ws_payload_bytes_up",    "ws_ping_pong_bytes_up",    "ws_close_bytes_up"};
    double sum = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        char path[96];
        snprintf(path, sizeof(path), "results.%s", parts[i]);
        sum += num(root, path);
    }
    EXPECT(sum == R(root, "total_bytes"), "parts %.0f, total_bytes %.0f", sum,
           R(root, "total_bytes"));
    /* traffic.csv (clients/traffic_log.h) holds the same bytes: the window's rows the
     * window's, all its rows the whole run's */
    struct client_harness_traffic t;
    size_t bad = 0;
    EXPECT(client_harness_traffic(dir, R(root, "duration_s") * 1000, N_CLIENTS, &t, &bad) ==
               0,
           "traffic.csv missing or malformed at line %zu", bad);
    EXPECT(t.win_up + t.win_down == sum,
           "traffic.csv's window rows %.0f B, the window %.0f", t.win_up + t.win_down, sum);
    EXPECT(t.up == R(root, "app_bytes_sent_run") &&
               t.down == R(root, "app_bytes_received_run"),
           "traffic.csv's rows %.0f B up, %.0f down; the run's %.0f, %.0f", t.up, t.down,
           R(root, "app_bytes_sent_run"), R(root, "app_bytes_received_run"));
    EXPECT(R(root, "traffic_rows") == t.rows && R(root, "traffic_rows_dropped") == 0,
           "traffic_rows %.0f for %.0f rows", R(root, "traffic_rows"), t.rows);
    /* the handshakes, as the server read and wrote them */
    EXPECT(RUN(root, "ws_handshake_req_bytes") == (double)st->req_bytes,
           "handshake requests: client wrote %.0f, server read %llu",
           RUN(root, "ws_handshake_req_bytes"), (unsigned long long)st->req_bytes);
    EXPECT(RUN(root, "ws_handshake_resp_bytes") == (double)st->resp_bytes,
           "handshake answers: client read %.0f, server wrote %llu",
           RUN(root, "ws_handshake_resp_bytes"), (unsigned long long)st->resp_bytes);
    EXPECT(RUN(root, "requests") - RUN(root, "errors_connect") == st->handshakes,
           "%.0f attempts (%.0f refused), %u handshakes", RUN(root, "requests"),
           RUN(root, "errors_connect"), st->handshakes);
    EXPECT(st->unmasked_frames == 0, "%u unmasked client frames", st->unmasked_frames);
}

/* A server that keeps the RFC: no masks; updates under 126 bytes (no messages among them)
 * have 2-byte frame headers, longer ones 4. */
static void check_frames(const cJSON *root, bool small_updates)
{
    EXPECT(RUN(root, "ws_mask_bytes_down") == 0, "a mask from the server");
    double frames = RUN(root, "ws_data_frames_down");
    double headers = RUN(root, "ws_frame_header_bytes_down");
    EXPECT(small_updates ? headers == 2 * frames
                         : headers > 2 * frames && headers <= 4 * frames,
           "frame headers %.0f for %.0f frames", headers, frames);
}

static void check_clean(const cJSON *root)
{
    static const char *const zero[] = {
        "errors_connect", "errors_timeout",      "errors_status",
        "errors_parse",   "errors_io",           "seq_backwards",
        "stamps_future",  "ws_messages_invalid", "ws_handshakes_refused",
        "updates_unseen", "duplicates"};
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
        char path[96];
        snprintf(path, sizeof(path), "results.%s", zero[i]);
        EXPECT(num(root, path) == 0, "%s = %.0f", zero[i], num(root, path));
    }
    EXPECT(R(root, "latency_count") == R(root, "updates_received"), "latency samples");
    EXPECT(R(root, "users_served") == N_CLIENTS, "users served %.0f",
           R(root, "users_served"));
    assert_string_equal(client_harness_str(root, "results.verdict"), "served");
}

/* Wait (at most 3 s) for the server's connection threads to read the users' close frames.
 */
static void settle(struct wts *w, struct wts_stats *st, unsigned closes)
{
    for (int i = 0; i < 60; i++) {
        wts_stats(w, st);
        if (st->closes_received >= closes)
            return;
        harness_sleep_ms(50);
    }
}

static struct wts *server(int ping_ms)
{
    struct wts_config cfg = {.port = 0, .publish_ms = 100, .ping_ms = ping_ms};
    struct wts *w = wts_start(&cfg);
    assert_non_null(w);
    return w;
}

static void feed_heartbeat_and_bytes(void **state)
{
    (void)state;
    struct wts *w = server(250);
    char dir[64];
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), NULL);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    check_frames(root, true);
    check_clean(root);
    EXPECT(R(root, "missed") == 0, "missed %.0f", R(root, "missed"));
    EXPECT(R(root, "updates_published") >= 20, "published %.0f",
           R(root, "updates_published"));
    EXPECT(R(root, "updates_received") == N_CLIENTS * R(root, "updates_published"),
           "received %.0f of %.0f", R(root, "updates_received"),
           N_CLIENTS * R(root, "updates_published"));
    EXPECT(RUN(root, "connections_opened") == N_CLIENTS, "connections %.0f",
           RUN(root, "connections_opened"));
    EXPECT(R(root, "reconnects") == 0 && R(root, "outages") == 0, "reconnects or outages");
    /* the handshake each user made is the one the report names */
    EXPECT((double)st.req_bytes == N_CLIENTS * R(root, "req_head_profile_bytes"),
           "handshakes %llu bytes, %d x %.0f expected", (unsigned long long)st.req_bytes,
           N_CLIENTS, R(root, "req_head_profile_bytes"));
    /* heartbeats: 12 pings per user in 3 s; each answered; "hb" pings, masked pongs */
    double pings = RUN(root, "ws_pings_down"), pongs = RUN(root, "ws_pongs_up");
    EXPECT(pings >= N_CLIENTS * 8, "only %.0f pings", pings);
    EXPECT(pongs == pings, "%.0f pongs for %.0f pings", pongs, pings);
    EXPECT(RUN(root, "ws_ping_pong_bytes_down") == 4 * pings, "ping bytes");
    EXPECT(RUN(root, "ws_ping_pong_bytes_up") == 8 * pongs, "pong bytes");
    EXPECT(st.pongs_received == pongs, "server got %u pongs, client sent %.0f",
           st.pongs_received, pongs);
    /* the end of the run: every user says goodbye with 1001, counted as aborted */
    EXPECT(st.closes_received == N_CLIENTS && st.last_close_code == 1001,
           "%u closes, last code %u", st.closes_received, st.last_close_code);
    EXPECT(RUN(root, "ws_close_bytes_up") == N_CLIENTS * 8, "close bytes up %.0f",
           RUN(root, "ws_close_bytes_up"));
    EXPECT(RUN(root, "transfers_aborted_at_end") == N_CLIENTS, "aborted %.0f",
           RUN(root, "transfers_aborted_at_end"));
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void resume_after_cut(void **state)
{
    (void)state;
    struct wts *w = server(0);
    char dir[64];
    const char *extra[] = {"--ws-backoff", "300ms", NULL};
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), extra);
    harness_sleep_ms(2500);
    wts_cut_all(w);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    check_frames(root, true);
    check_clean(root);
    /* nothing missed and nothing twice: each resumed exactly from its last seq */
    EXPECT(R(root, "missed") == 0, "missed %.0f", R(root, "missed"));
    EXPECT(st.handshakes == 2 * N_CLIENTS, "%u handshakes", st.handshakes);
    for (unsigned i = 0; i < st.handshakes; i++) {
        if (i < N_CLIENTS)
            EXPECT(st.since[i] == -1, "first handshake %u with since=%lld", i,
                   (long long)st.since[i]);
        else
            EXPECT(st.since[i] >= 1, "reconnection %u without since", i);
    }
    EXPECT(R(root, "reconnects") == N_CLIENTS, "reconnects %.0f", R(root, "reconnects"));
    EXPECT(R(root, "outages") == N_CLIENTS && R(root, "outages_open") == 0, "outages %.0f",
           R(root, "outages"));
    EXPECT(R(root, "resets") == 0, "resets %.0f", R(root, "resets"));
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void reset_after_gap(void **state)
{
    (void)state;
    struct wts *w = server(0);
    char dir[64];
    const char *extra[] = {"--ws-backoff", "500ms", NULL};
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), extra);
    harness_sleep_ms(2500);
    wts_cut_all(w);
    harness_sleep_ms(100);
    wts_publish(w, "gone 1");
    wts_publish(w, "gone 2");
    uint64_t forgotten = wts_forget_all(w);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    check_frames(root, true);
    check_clean(root);
    EXPECT(st.handshakes == 2 * N_CLIENTS, "%u handshakes", st.handshakes);
    double gone = 0;
    for (unsigned i = N_CLIENTS; i < st.handshakes; i++) {
        EXPECT(st.since[i] >= 1 && (uint64_t)st.since[i] < forgotten, "since %lld",
               (long long)st.since[i]);
        gone += (double)(forgotten - (uint64_t)st.since[i]);
    }
    EXPECT(st.resets_sent == N_CLIENTS, "%u reset frames", st.resets_sent);
    EXPECT(R(root, "resets") == N_CLIENTS, "resets %.0f", R(root, "resets"));
    EXPECT(R(root, "missed") == gone, "missed %.0f, gone %.0f", R(root, "missed"), gone);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void goodbye_1001_stops(void **state)
{
    (void)state;
    struct wts *w = server(0);
    char dir[64];
    const char *extra[] = {"--ws-backoff", "100ms", NULL};
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), extra);
    harness_sleep_ms(2000);
    wts_close_all(w, 1001);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    check_frames(root, true);
    check_clean(root);
    EXPECT(R(root, "users_stopped") == N_CLIENTS, "stopped %.0f", R(root, "users_stopped"));
    EXPECT(st.handshakes == N_CLIENTS, "%u handshakes: someone came back", st.handshakes);
    EXPECT(R(root, "outages") == 0, "outages %.0f", R(root, "outages"));
    /* 1001 down (2 + 2 bytes), the same code back, masked (2 + 4 + 2) */
    EXPECT(R(root, "ws_close_bytes_down") == N_CLIENTS * 4, "close down %.0f",
           R(root, "ws_close_bytes_down"));
    EXPECT(R(root, "ws_close_bytes_up") == N_CLIENTS * 8, "close up %.0f",
           R(root, "ws_close_bytes_up"));
    EXPECT(st.closes_received == N_CLIENTS && st.last_close_code == 1001, "%u closes, %u",
           st.closes_received, st.last_close_code);
    EXPECT(RUN(root, "transfers_aborted_at_end") == 0, "aborted");
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void bad_accept_is_refused(void **state)
{
    (void)state;
    struct wts_config cfg = {.port = 0, .publish_ms = 100, .bad_accept = true};
    struct wts *w = wts_start(&cfg);
    assert_non_null(w);
    char dir[64];
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), NULL);
    cJSON *root = finish_client(pid, dir, 3);
    struct wts_stats st;
    wts_stats(w, &st);
    check_bytes(root, dir, &st);
    check_frames(root, true);
    EXPECT(RUN(root, "ws_handshakes_refused") == N_CLIENTS, "refused %.0f",
           RUN(root, "ws_handshakes_refused"));
    EXPECT(RUN(root, "errors_status") == N_CLIENTS, "errors_status %.0f",
           RUN(root, "errors_status"));
    EXPECT(R(root, "users_stopped") == N_CLIENTS, "stopped %.0f", R(root, "users_stopped"));
    EXPECT(st.handshakes == N_CLIENTS, "%u handshakes: a refused user retried",
           st.handshakes);
    EXPECT(RUN(root, "ws_data_frames_down") == 0, "frames after a refused handshake");
    EXPECT(R(root, "updates_received") == 0, "received %.0f", R(root, "updates_received"));
    assert_string_equal(client_harness_str(root, "results.verdict"), "nothing");
    char *err = client_harness_slurp(dir, "stderr.txt");
    assert_non_null(err);
    assert_non_null(strstr(err, "handshakes refused 5"));
    free(err);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

/* A port nothing listens on now (bound, read, closed). */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void refused_then_served(void **state)
{
    (void)state;
    unsigned port = free_port();
    char dir[64];
    const char *extra[] = {"--ws-backoff", "100ms", NULL};
    pid_t pid = start_client(port, dir, sizeof(dir), extra);
    harness_sleep_ms(1500);
    struct wts_config cfg = {.port = port, .publish_ms = 100};
    struct wts *w = wts_start(&cfg);
    assert_non_null(w);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    check_frames(root, true);
    double refused = RUN(root, "errors_connect");
    EXPECT(refused >= N_CLIENTS, "only %.0f refused attempts", refused);
    EXPECT(RUN(root, "requests") == refused + N_CLIENTS, "%.0f attempts, %.0f refused",
           RUN(root, "requests"), refused);
    EXPECT(R(root, "users_served") == N_CLIENTS, "served %.0f", R(root, "users_served"));
    EXPECT(R(root, "updates_received") > 0, "nothing received");
    EXPECT(R(root, "outages") == 0, "an outage before the first success");
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void fin_then_reset(void **state)
{
    (void)state;
    struct wts_config cfg = {.port = 0, .publish_ms = 100, .fin_reset_budget = N_CLIENTS};
    struct wts *w = wts_start(&cfg);
    assert_non_null(w);
    char dir[64];
    const char *extra[] = {"--ws-backoff", "100ms", NULL};
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), extra);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    EXPECT(st.fin_resets == N_CLIENTS, "%u FIN-then-reset connections", st.fin_resets);
    EXPECT(RUN(root, "errors_io") == N_CLIENTS, "%.0f I/O errors", RUN(root, "errors_io"));
    EXPECT(RUN(root, "kernel_fin_received") >= N_CLIENTS, "%.0f FINs",
           RUN(root, "kernel_fin_received"));
    EXPECT(R(root, "users_served") == N_CLIENTS, "served %.0f", R(root, "users_served"));
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void messages_as_frames(void **state)
{
    (void)state;
    struct wts *w = server(0);
    char dir[64];
    const char *extra[] = {"--send-rate",  "4",   "--send-mode", "periodic",
                           "--send-bytes", "100", NULL};
    pid_t pid = start_client(wts_port(w), dir, sizeof(dir), extra);
    cJSON *root = finish_client(pid, dir, 0);
    struct wts_stats st;
    settle(w, &st, N_CLIENTS);
    check_bytes(root, dir, &st);
    check_frames(root, false);
    check_clean(root);
    EXPECT(R(root, "missed") == 0, "missed %.0f", R(root, "missed"));
    /* 4 a second for 3 s, periodic: exactly 12 due in the window per user */
    EXPECT(R(root, "msgs_sent") == 12 * N_CLIENTS, "sent %.0f", R(root, "msgs_sent"));
    EXPECT(R(root, "msgs_echoed") == R(root, "msgs_sent") && R(root, "msgs_unechoed") == 0,
           "echoed %.0f", R(root, "msgs_echoed"));
    EXPECT(R(root, "msgs_echo_duplicates") == 0, "duplicates");
    EXPECT(R(root, "msg_rtt_count") == R(root, "msgs_echoed"), "round trips");
    /* every message the server read, as sent: 100 bytes, masked, 2 bytes of header */
    double sent = RUN(root, "msgs_sent");
    EXPECT(st.texts_received == sent, "server read %u messages, %.0f sent",
           st.texts_received, sent);
    EXPECT(RUN(root, "ws_payload_bytes_up") == 100 * sent &&
               (double)st.text_bytes_received == 100 * sent,
           "payload up %.0f, server %llu", RUN(root, "ws_payload_bytes_up"),
           (unsigned long long)st.text_bytes_received);
    EXPECT(RUN(root, "ws_mask_bytes_up") == 4 * sent, "masks %.0f",
           RUN(root, "ws_mask_bytes_up"));
    EXPECT(RUN(root, "ws_frame_header_bytes_up") == 2 * sent, "headers up %.0f",
           RUN(root, "ws_frame_header_bytes_up"));
    EXPECT(R(root, "msg_wire_bytes_per_msg_run") == 106, "%.1f bytes per message",
           R(root, "msg_wire_bytes_per_msg_run"));
    EXPECT(R(root, "up_connections_opened_run") == 0 && R(root, "up_requests") == 0,
           "a WebSocket user needs no POST sender");
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    wts_stop(w);
}

static void bad_frames_fail_the_connection(void **state)
{
    (void)state;
    static const struct {
        enum wts_bad kind;
        unsigned code;
    } cases[] = {{WTS_BAD_UTF8, 1007}, {WTS_MASKED, 1002}, {WTS_BIG_MESSAGE, 1009}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wts_config cfg = {.port = 0, .publish_ms = 100, .bad_budget = N_CLIENTS};
        cfg.bad_frame = cases[i].kind;
        struct wts *w = wts_start(&cfg);
        assert_non_null(w);
        char dir[64];
        const char *extra[] = {"--ws-backoff", "200ms", "--max-body", "1KiB",
                               "--warmup",     "2s",    NULL};
        pid_t pid = start_client(wts_port(w), dir, sizeof(dir), extra);
        /* the bad frames come in the warmup (users connect in its first second) */
        harness_sleep_ms(1800);
        struct wts_stats mid;
        wts_stats(w, &mid);
        EXPECT(mid.closes_received == N_CLIENTS && mid.last_close_code == cases[i].code,
               "case %zu: %u closes, last code %u (want %u)", i, mid.closes_received,
               mid.last_close_code, cases[i].code);
        cJSON *root = finish_client(pid, dir, 0);
        struct wts_stats st;
        settle(w, &st, 2 * N_CLIENTS);
        check_bytes(root, dir, &st);
        EXPECT(RUN(root, "ws_mask_bytes_down") ==
                   (cases[i].code == 1002 ? 4 * N_CLIENTS : 0),
               "case %zu: masks down %.0f", i, RUN(root, "ws_mask_bytes_down"));
        EXPECT(st.bad_sent == N_CLIENTS && st.handshakes == 2 * N_CLIENTS,
               "case %zu: %u bad frames, %u handshakes", i, st.bad_sent, st.handshakes);
        EXPECT(RUN(root, "errors_parse") == N_CLIENTS, "case %zu: %.0f parse errors", i,
               RUN(root, "errors_parse"));
        EXPECT(RUN(root, "errors_parse_too_big") == (cases[i].code == 1009 ? N_CLIENTS : 0),
               "case %zu: too big %.0f", i, RUN(root, "errors_parse_too_big"));
        /* the close frame each user sent: 2 + 4 + 2 bytes */
        EXPECT(RUN(root, "ws_close_bytes_up") == N_CLIENTS * 8 * 2,
               "case %zu: close up %.0f", i, RUN(root, "ws_close_bytes_up"));
        EXPECT(R(root, "missed") == 0 && R(root, "duplicates") == 0 &&
                   R(root, "users_served") == N_CLIENTS,
               "case %zu: missed %.0f, duplicates %.0f", i, R(root, "missed"),
               R(root, "duplicates"));
        cJSON_Delete(root);
        client_harness_rmdir(dir);
        wts_stop(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(feed_heartbeat_and_bytes),
        cmocka_unit_test(resume_after_cut),
        cmocka_unit_test(reset_after_gap),
        cmocka_unit_test(goodbye_1001_stops),
        cmocka_unit_test(bad_accept_is_refused),
        cmocka_unit_test(refused_then_served),
        cmocka_unit_test(fin_then_reset),
        cmocka_unit_test(messages_as_frames),
        cmocka_unit_test(bad_frames_fail_the_connection),
    };
    return cmocka_run_group_tests_name("client_ws", tests, NULL, NULL);
}
