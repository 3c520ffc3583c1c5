/* test_client_hostile.c: the real client against servers that lie, stall or flood
 * (issue 10, items 14 and 15).
 *
 * A tiny raw-socket server runs in this process: one thread accepts on 127.0.0.1:0, one
 * thread per connection reads request heads and answers each with the test's behaviour
 * (keep-alive unless the behaviour closes). The client's observer stream (its first
 * request carries "Last-Event-ID: 0") gets a silent open stream, so it stays out of the
 * way. Each test runs the real pushpull-client binary for a second or two and reads its
 * exit status, its stderr line and summary.json. Checked:
 *   - a 50 MB poll body is refused at --max-body as a parse error (errors_parse_too_big),
 *     and the client stops reading it there (its body bytes stay near the cap), with the
 *     byte accounting still equal to the kernel's;
 *   - a server that never answers: an SSE user times out after --open-timeout
 *     (errors_timeout); without it, and for polls within --response-timeout, the
 *     requests still open at the end are named; exit 3 either way;
 *   - a stream whose every event is invalid: counted as it comes (sse_events_invalid),
 *     exit 3;
 *   - seq going backwards on one connection: dropped and counted (seq_backwards), no
 *     invented feed restart, no absurd missed count; across connections (Connection:
 *     close each time) it looks like restarts, but missed stays sane and the gaps show
 *     as updates_unseen; on an SSE stream, backwards is an anomaly but after an
 *     "event: reset" it is not;
 *   - stamps an hour in the future: dropped and counted (stamps_future), exit 3.
 * No timing is asserted beyond generous bounds of counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_harness.h"
#include "clock.h"
#include "dynbuf.h"

#define MAX_CONNS     64
#define HUGE_BYTES    ((size_t)50 * 1000 * 1000)
#define OBSERVER_MARK "Last-Event-ID: 0\r\n"

struct fake;
/* Answer one request (its head). Return 0 to keep the connection for the next request,
 * 1 to close it. */
typedef int (*serve_fn)(struct fake *f, int fd, const char *head);

struct fake {
    int lfd;
    unsigned port;
    serve_fn serve;
    pthread_t accepter;
    pthread_mutex_t mu;
    bool stop;                   /* under mu */
    uint64_t requests;           /* user requests answered so far, under mu */
    pthread_t conns[MAX_CONNS];  /* connection threads, joined at the end */
    int nconns;                  /* under mu */
    size_t huge_sent[MAX_CONNS]; /* serve_huge: body bytes written per request */
    int nhuge;                   /* under mu */
};

struct conn_arg {
    struct fake *f;
    int fd;
};

static bool stopping(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    bool s = f->stop;
    pthread_mutex_unlock(&f->mu);
    return s;
}

/* The number of this user request (0, 1, 2, ...). */
static uint64_t next_request(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    uint64_t n = f->requests++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Write all of buf; -1 when the peer is gone or the test is over. */
static int send_all(struct fake *f, int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && !stopping(f))
                continue; /* SO_SNDTIMEO passed: look at the stop flag, then go on */
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Hold fd open until the test ends or the peer closes, sending drip (if any) every 50 ms.
 * Always returns 1 (close). */
static int hold(struct fake *f, int fd, const char *drip)
{
    while (!stopping(f)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            char tmp[4096];
            if (read(fd, tmp, sizeof(tmp)) <= 0)
                return 1;
        }
        if (drip && send_all(f, fd, drip, strlen(drip)) != 0)
            return 1;
    }
    return 1;
}

static bool is_observer(const char *head)
{
    return strncmp(head, "GET /events", 11) == 0 && strstr(head, OBSERVER_MARK);
}

#define STREAM_HEAD                                                                        \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"    \
    "Connection: close\r\n\r\n"

/* The observer's stream: open and silent. */
static int serve_observer(struct fake *f, int fd)
{
    if (send_all(f, fd, STREAM_HEAD ": observer\n\n", strlen(STREAM_HEAD) + 13) != 0)
        return 1;
    return hold(f, fd, NULL);
}

/* Read one request head into buf (NUL-terminated). 0, or -1 on EOF, error or stop. */
static int read_head(struct fake *f, int fd, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    while (!strstr(buf, "\r\n\r\n")) {
        if (stopping(f) || len + 1 >= cap)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return 0;
}

static void *conn_main(void *arg)
{
    struct conn_arg *a = arg;
    struct fake *f = a->f;
    int fd = a->fd;
    free(a);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char head[4096];
    while (read_head(f, fd, head, sizeof(head)) == 0) {
        int done = is_observer(head) ? serve_observer(f, fd) : f->serve(f, fd, head);
        if (done)
            break;
    }
    close(fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct fake *f = arg;
    while (!stopping(f)) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) != 1)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct conn_arg *a = malloc(sizeof(*a));
        pthread_mutex_lock(&f->mu);
        bool room = a && f->nconns < MAX_CONNS;
        if (room) {
            a->f = f;
            a->fd = fd;
            if (pthread_create(&f->conns[f->nconns], NULL, conn_main, a) == 0)
                f->nconns++;
            else
                room = false;
        }
        pthread_mutex_unlock(&f->mu);
        if (!room) {
            free(a);
            close(fd);
        }
    }
    return NULL;
}

static void fake_start(struct fake *f, serve_fn serve)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->serve = serve;
    /* non-blocking: a connection reset between poll and accept must not hang accept */
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(f->lfd >= 0);
    int one = 1;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 64), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->accepter, NULL, accept_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->accepter, NULL);
    for (int i = 0; i < f->nconns; i++)
        pthread_join(f->conns[i], NULL);
    close(f->lfd);
    pthread_mutex_destroy(&f->mu);
}

/* ---- running the client ------------------------------------------------------------- */

struct outcome {
    int rc;        /* exit status */
    char *stderr_; /* its stderr (owned) */
    cJSON *root;   /* summary.json (owned) */
    char dir[64];
};

/* Run the client against f with --out and the NULL-terminated extra args. */
static void run_client(const struct fake *f, struct outcome *o, const char *const *extra)
{
    char url[64];
    const char *args[40];
    size_t n = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
    assert_int_equal(client_harness_tempdir(o->dir, sizeof(o->dir)), 0);
    args[n++] = "--server";
    args[n++] = url;
    args[n++] = "--out";
    args[n++] = o->dir;
    args[n++] = "--warmup";
    args[n++] = "0";
    args[n++] = "--drain";
    args[n++] = "300ms";
    for (size_t i = 0; extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    o->rc = client_harness_run(o->dir, args, 60);
    o->stderr_ = client_harness_slurp(o->dir, "stderr.txt");
    o->root = client_harness_summary(o->dir);
    if (!o->root)
        fail_msg("no summary.json (exit %d): %s", o->rc, o->stderr_ ? o->stderr_ : "");
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

#define EXPECT_RANGE(o, f, lo, hi)                                                         \
    do {                                                                                   \
        double v_ = res(o, f);                                                             \
        if (!(v_ >= (lo) && v_ <= (hi)))                                                   \
            fail_msg("%s = %.0f, expected in [%.0f, %.0f]", f, v_, (double)(lo),           \
                     (double)(hi));                                                        \
    } while (0)

#define EXPECT_EQ_FIELDS(o, a, b)                                                          \
    do {                                                                                   \
        double va_ = res(o, a), vb_ = res(o, b);                                           \
        if (va_ != vb_)                                                                    \
            fail_msg("%s = %.0f but %s = %.0f", a, va_, b, vb_);                           \
    } while (0)

/* Exit 3, with the one line naming `reason` on stderr, and the verdict in the file. */
static void expect_nothing(const struct outcome *o, const char *reason)
{
    const char *err = o->stderr_ ? o->stderr_ : "";
    if (o->rc != 3)
        fail_msg("exit %d, want 3: %s", o->rc, err);
    if (!strstr(err, "pushpull-client: no user received anything") || !strstr(err, reason))
        fail_msg("stderr lacks the verdict naming '%s': %s", reason, err);
    assert_string_equal(client_harness_str(o->root, "results.verdict"), "nothing");
}

/* Exit 0: the users were served. */
static void expect_served(const struct outcome *o)
{
    if (o->rc != 0)
        fail_msg("exit %d, want 0: %s", o->rc, o->stderr_ ? o->stderr_ : "");
    assert_string_equal(client_harness_str(o->root, "results.verdict"), "served");
}

/* A poll answer: 200, JSON, with this body. */
static int send_json(struct fake *f, int fd, const char *body, bool close_after)
{
    char head[256];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "%s\r\n",
             strlen(body), close_after ? "Connection: close\r\n" : "");
    if (send_all(f, fd, head, strlen(head)) != 0 ||
        send_all(f, fd, body, strlen(body)) != 0)
        return 1;
    return close_after ? 1 : 0;
}

/* ---- item 14: a huge body ----------------------------------------------------------- */

/* GET /poll: a 50 MB body of "1,1,1,...", written until the client hangs up. */
static int serve_huge(struct fake *f, int fd, const char *head)
{
    (void)head;
    char hdr[160];
    snprintf(
        hdr, sizeof(hdr),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
        HUGE_BYTES);
    if (send_all(f, fd, hdr, strlen(hdr)) != 0)
        return 1;
    static char chunk[65536];
    for (size_t i = 0; i < sizeof(chunk); i += 2)
        memcpy(chunk + i, "1,", 2);
    size_t sent = 0;
    while (sent < HUGE_BYTES && send_all(f, fd, chunk, sizeof(chunk)) == 0)
        sent += sizeof(chunk);
    pthread_mutex_lock(&f->mu);
    if (f->nhuge < MAX_CONNS)
        f->huge_sent[f->nhuge++] = sent;
    pthread_mutex_unlock(&f->mu);
    return 1;
}

static void test_huge_body_is_refused_at_the_cap(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_huge);
    const char *args[] = {"--approach", "short", "--clients",  "2",
                          "--interval", "500ms", "--duration", "1500ms",
                          "--max-body", "1MiB",  NULL};
    run_client(&f, &o, args);
    fake_stop(&f);
    expect_nothing(&o, "parse errors");
    double requests = res(&o, "requests");
    EXPECT_RANGE(&o, "requests", 2, 20);
    EXPECT_RANGE(&o, "errors_parse", 2, requests);
    EXPECT_EQ_FIELDS(&o, "errors_parse_too_big", "errors_parse");
    /* each body was read to the cap and a little past it (what one read brings, at most
     * libcurl's 16 KiB buffer), not to its 50 MB: the client stopped reading there */
    double parse = res(&o, "errors_parse");
    EXPECT_RANGE(&o, "resp_body_bytes", parse * (1 << 20),
                 requests * ((1 << 20) + (64 << 10)));
    assert_string_equal(client_harness_str(o.root, "results.bytes_check"), "ok");
    outcome_free(&o);
}

/* ---- item 15: a server that never answers ------------------------------------------- */

/* Read the request and say nothing, until the test ends. */
static int serve_silence(struct fake *f, int fd, const char *head)
{
    (void)head;
    return hold(f, fd, NULL);
}

static void test_sse_server_that_never_answers_times_out(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_silence);
    const char *args[] = {"--approach", "sse",    "--clients",      "2",
                          "--duration", "1500ms", "--open-timeout", "300ms",
                          NULL};
    run_client(&f, &o, args);
    fake_stop(&f);
    expect_nothing(&o, "timeouts 2");
    EXPECT_RANGE(&o, "errors_timeout", 2,
                 2); /* then the 3 s retry delay outlasts the run */
    EXPECT_RANGE(&o, "errors_connect", 0, 0);
    EXPECT_RANGE(&o, "users_served", 0, 0);
    outcome_free(&o);
}

static void test_sse_never_answered_without_open_timeout(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_silence);
    const char *args[] = {"--approach", "sse", "--clients", "2", "--duration", "1s", NULL};
    run_client(&f, &o, args);
    fake_stop(&f);
    expect_nothing(&o, "transfers open at the end 2");
    EXPECT_RANGE(&o, "errors_timeout", 0, 0); /* a browser would still be waiting */
    outcome_free(&o);
}

static void test_polls_never_answered_are_named(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_silence);
    /* the default response timeout (10 s) outlasts the run: no timeout is counted, yet the
     * users got nothing, and the line says their requests were still open */
    const char *args[] = {"--approach", "short", "--clients", "2",
                          "--duration", "1s",    NULL};
    run_client(&f, &o, args);
    fake_stop(&f);
    expect_nothing(&o, "transfers open at the end 2");
    EXPECT_RANGE(&o, "errors_timeout", 0, 0);
    outcome_free(&o);
}

/* ---- item 15: every event invalid -------------------------------------------------- */

static int serve_invalid_events(struct fake *f, int fd, const char *head)
{
    (void)head;
    if (send_all(f, fd, STREAM_HEAD, strlen(STREAM_HEAD)) != 0)
        return 1;
    return hold(f, fd, "id: 1\ndata: {\"seq\":\"one\"}\n\ndata: not json at all\n\n");
}

static void test_all_sse_events_invalid(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_invalid_events);
    const char *args[] = {"--approach", "sse",    "--clients", "2",
                          "--duration", "1500ms", NULL};
    run_client(&f, &o, args);
    fake_stop(&f);
    expect_nothing(&o, "invalid events");
    EXPECT_RANGE(&o, "sse_events_invalid", 10, 1e6); /* two per 50 ms per user */
    EXPECT_EQ_FIELDS(&o, "sse_events_invalid", "sse_events");
    EXPECT_RANGE(&o, "updates_received", 0, 0);
    EXPECT_RANGE(&o, "users_served", 2,
                 2); /* the streams opened, and said nothing useful */
    outcome_free(&o);
}

/* ---- item 15: seq going backwards --------------------------------------------------- */

/* GET /poll: each answer numbered one below the last (from 100), stamped now. */
static int backwards_answer(struct fake *f, int fd, bool close_after)
{
    char body[128];
    uint64_t n = next_request(f);
    snprintf(body, sizeof(body),
             "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64 ",\"data\":\"x\"}",
             (uint64_t)100 - n, clock_real_ns());
    return send_json(f, fd, body, close_after);
}

static int serve_backwards(struct fake *f, int fd, const char *head)
{
    (void)head;
    return backwards_answer(f, fd, false);
}

static int serve_backwards_closing(struct fake *f, int fd, const char *head)
{
    (void)head;
    return backwards_answer(f, fd, true);
}

static const char *const poll_one_user[] = {"--approach", "short",      "--clients",
                                            "1",          "--interval", "100ms",
                                            "--duration", "1500ms",     NULL};

static void test_seq_backwards_on_one_connection(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_backwards);
    run_client(&f, &o, poll_one_user);
    fake_stop(&f);
    expect_served(&o); /* the first answer was an update */
    double requests = res(&o, "requests");
    EXPECT_RANGE(&o, "requests", 10, 20);
    /* every answer after the first went backwards on the same connection: dropped */
    EXPECT_RANGE(&o, "seq_backwards", requests - 2, requests);
    EXPECT_RANGE(&o, "connections_opened_run", 1, 1);
    EXPECT_RANGE(&o, "updates_received", 1, 1);
    EXPECT_RANGE(&o, "feed_restarts", 0, 0);
    EXPECT_RANGE(&o, "missed", 0, 0); /* not ~100 per step, as invented restarts made it */
    outcome_free(&o);
}

static void test_seq_backwards_across_connections(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_backwards_closing);
    run_client(&f, &o, poll_one_user);
    fake_stop(&f);
    expect_served(&o);
    /* a new connection each time: each step down looks like a restarted feed (that is
     * what a restart looks like), but the numbers it skips were never shown, so they are
     * unseen, not missed */
    double received = res(&o, "updates_received");
    EXPECT_RANGE(&o, "updates_received", 5, 20);
    EXPECT_EQ_FIELDS(&o, "updates_published", "updates_received");
    EXPECT_RANGE(&o, "missed", 0, 0);
    EXPECT_RANGE(&o, "updates_unseen", 80 * (received - 1), 1e9);
    EXPECT_RANGE(&o, "seq_backwards", 0, 0);
    outcome_free(&o);
}

/* An SSE stream: 5, then 3 (backwards: an anomaly), then a reset and 1, 2 (not one). */
static int serve_sse_backwards(struct fake *f, int fd, const char *head)
{
    (void)head;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    int64_t t = clock_real_ns();
    dynbuf_adds(&b, STREAM_HEAD);
    const uint64_t seqs[] = {5, 3, 0, 1, 2};
    for (int i = 0; i < 5; i++) {
        if (seqs[i] == 0)
            dynbuf_adds(&b, "event: reset\ndata: {}\n\n");
        else
            dynbuf_addf(&b,
                        "id: %" PRIu64 "\ndata: {\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64
                        ",\"data\":\"x\"}\n\n",
                        seqs[i], seqs[i], t + i * 1000);
    }
    int rc = send_all(f, fd, b.mem, b.len);
    dynbuf_free(&b);
    return rc != 0 ? 1 : hold(f, fd, NULL);
}

static void test_seq_backwards_on_a_stream(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_sse_backwards);
    const char *args[] = {"--approach", "sse", "--clients", "1", "--duration", "1s", NULL};
    run_client(&f, &o, args);
    fake_stop(&f);
    expect_served(&o);
    EXPECT_RANGE(&o, "seq_backwards", 1, 1);
    EXPECT_RANGE(&o, "resets", 1, 1);
    EXPECT_RANGE(&o, "sse_events", 5, 5);
    outcome_free(&o);
}

/* ---- item 15: stamps from the future ------------------------------------------------ */

static int serve_future(struct fake *f, int fd, const char *head)
{
    (void)head;
    char body[128];
    uint64_t n = next_request(f) + 1;
    snprintf(body, sizeof(body),
             "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64 ",\"data\":\"x\"}", n,
             clock_real_ns() + 3600 * NS_PER_S);
    return send_json(f, fd, body, false);
}

static void test_stamps_from_the_future(void **state)
{
    (void)state;
    struct fake f;
    struct outcome o;
    fake_start(&f, serve_future);
    run_client(&f, &o, poll_one_user);
    fake_stop(&f);
    expect_nothing(&o, "future stamps");
    double requests = res(&o, "requests");
    EXPECT_RANGE(&o, "stamps_future", requests - 1, requests);
    EXPECT_RANGE(&o, "updates_received", 0, 0);
    EXPECT_RANGE(&o, "latency_count", 0, 0);
    EXPECT_RANGE(&o, "users_served", 1, 1); /* answered, with lies */
    outcome_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_body_is_refused_at_the_cap),
        cmocka_unit_test(test_sse_server_that_never_answers_times_out),
        cmocka_unit_test(test_sse_never_answered_without_open_timeout),
        cmocka_unit_test(test_polls_never_answered_are_named),
        cmocka_unit_test(test_all_sse_events_invalid),
        cmocka_unit_test(test_seq_backwards_on_one_connection),
        cmocka_unit_test(test_seq_backwards_across_connections),
        cmocka_unit_test(test_seq_backwards_on_a_stream),
        cmocka_unit_test(test_stamps_from_the_future),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
