/* test_hostile.c: the server against hostile and careless peers (issue 10), replayed
 * against the real ASan binary over raw sockets.
 *
 * Each probe checks three things: the answer on the wire (a status, or a close, never
 * silence), what /stats says about it, and that the server still stops cleanly: SIGTERM
 * gives exit status 0, which the ASan build turns non-zero on any sanitizer report or
 * leak. Every wait is bounded; no assertion is about speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "jsonw.h"

/* ---- helpers -------------------------------------------------------------- */

/* The server a test started and has not stopped yet: a failed assertion leaves the
 * test early, and the teardown then stops it by pid. */
static pid_t running;

static struct harness_server start(const char *const *args)
{
    struct harness_server s;
    assert_int_equal(harness_server_start(&s, args), 0);
    running = s.pid;
    return s;
}

static void stop(struct harness_server *s)
{
    running = 0;
    assert_int_equal(harness_server_stop(s), 0);
}

static int teardown(void **state)
{
    (void)state;
    if (running > 0)
        harness_stop_pid(running);
    running = 0;
    return 0;
}

/* Open GET /events and read until the stream's retry line: the stream is then parked. */
static int open_parked_stream(unsigned port)
{
    int fd = harness_connect(port);
    assert_true(fd >= 0);
    const char req[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 16);
    assert_int_equal(harness_read_until(fd, &raw, "retry: ", 5000), 1);
    dynbuf_free(&raw);
    return fd;
}

/* connections_open, waited for (2 s at most) to come down to `most`. */
static void expect_connections_at_most(unsigned port, double most, const char *when)
{
    double open = harness_stat_wait_at_most(port, "connections_open", most, 2000);
    if (open < 0 || open > most)
        fail_msg("%s: connections_open is %g, expected at most %g within 2 s", when, open,
                 most);
}

/* GET /stats once the number at path is at least `least` (the server counts some things
 * as it closes a connection, just after the client has seen the close), 2 s at most. The
 * caller deletes the document. */
static cJSON *stats_once(unsigned port, const char *path, double least)
{
    for (int i = 0; i < 100; i++) {
        cJSON *st = harness_stats(port);
        if (harness_stat(st, path) >= least)
            return st;
        cJSON_Delete(st);
        harness_sleep_ms(20);
    }
    return harness_stats(port);
}

/* ---- 1: streams that end free their connection ----------------------------- */

/* The leak of issue 10 item 1: with an idle keep-alive connection open, a parked stream
 * that ends (its peer gone, or POST /drop) used to leave its connection behind for good.
 * Thousands of reconnects, in rounds; after every round the connections come back to
 * the baseline (the idle one and the /stats request's own) within 2 s. */
static void parked_streams_that_end_free_their_connection(void **state)
{
    (void)state;
    enum { ROUNDS = 100, PER_ROUND = 25 };
    const char *args[] = {"--rate", "0", "--max-connections", "50", "--heartbeat",
                          "250ms",  NULL};
    struct harness_server s = start(args);
    int idle = harness_connect(s.port);
    assert_true(idle >= 0);
    const char poll_req[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(idle, poll_req, sizeof(poll_req) - 1), 0);
    struct harness_response r;
    assert_int_equal(harness_read_response(idle, &r, 2000), 0);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    expect_connections_at_most(s.port, 2, "baseline");

    for (int round = 0; round < ROUNDS; round++) {
        int fds[PER_ROUND];
        for (int i = 0; i < PER_ROUND; i++)
            fds[i] = open_parked_stream(s.port);
        bool drop = round % 3 == 2;
        if (drop) {
            /* POST /drop cuts every parked stream without a word */
            assert_int_equal(harness_http(s.port, "POST", "/drop", NULL, "", 0, &r), 0);
            assert_int_equal(r.status, 200);
            harness_response_free(&r);
            for (int i = 0; i < PER_ROUND; i++)
                assert_true(harness_wait_eof(fds[i], 2000));
        }
        for (int i = 0; i < PER_ROUND; i++)
            close(fds[i]);
        char when[64];
        snprintf(when, sizeof(when), "after round %d (%s)", round + 1,
                 drop ? "POST /drop" : "the clients left");
        expect_connections_at_most(s.port, 2, when);
    }
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.events.requests"), ROUNDS * PER_ROUND);
    assert_int_equal(harness_stat(st, "transports.events.open"), 0);
    assert_int_equal(harness_stat(st, "parked"), 0);
    cJSON_Delete(st);
    /* the idle connection is still served */
    assert_int_equal(harness_send(idle, poll_req, sizeof(poll_req) - 1), 0);
    assert_int_equal(harness_read_response(idle, &r, 2000), 0);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    close(idle);
    stop(&s);
}

/* ---- 2: deadlines for what holds a socket without a request ------------------- */

/* Read what comes back on fd until the server closes it (EOF or reset), at most ms. */
static bool closed_within(int fd, int ms)
{
    struct dynbuf sink;
    dynbuf_init(&sink, 1 << 20);
    int rc = harness_read_until(fd, &sink, NULL, ms);
    dynbuf_free(&sink);
    return rc != 0;
}

/* A silent socket, a slowloris, a short body and an idle keep-alive connection are each
 * closed once past their deadline, and counted; a held long poll and a parked stream,
 * held longer than both timeouts, are not. */
static void deadlines_close_what_holds_a_socket_without_a_request(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--request-timeout", "1s", "--idle-timeout",
                          "2s",     NULL};
    struct harness_server s = start(args);

    /* held ones first: a long poll of 5 s and a stream */
    int lp = harness_connect(s.port);
    const char lpreq[] = "GET /longpoll?since=0&timeout=5 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(lp, lpreq, sizeof(lpreq) - 1), 0);
    int sse = open_parked_stream(s.port);

    int silent = harness_connect(s.port);
    int slow = harness_connect(s.port);
    int shortbody = harness_connect(s.port);
    const char post[] =
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b";
    assert_int_equal(harness_send(shortbody, post, sizeof(post) - 1), 0);
    int idle = harness_connect(s.port);
    const char poll_req[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(idle, poll_req, sizeof(poll_req) - 1), 0);
    struct harness_response r;
    assert_int_equal(harness_read_response(idle, &r, 2000), 0);
    harness_response_free(&r);

    /* the slowloris: a request line, then a header byte every 100 ms for 6 s */
    const char line[] = "GET /poll HTTP/1.1\r\nX-Slow: ";
    assert_int_equal(harness_send(slow, line, sizeof(line) - 1), 0);
    bool slow_cut = false;
    for (int i = 0; i < 60 && !slow_cut; i++) {
        if (harness_send(slow, "a", 1) != 0)
            slow_cut = true;
        else
            slow_cut = closed_within(slow, 100);
    }
    assert_true(slow_cut);
    assert_true(closed_within(silent, 5000));
    assert_true(closed_within(shortbody, 5000));
    assert_true(closed_within(idle, 5000));

    /* the long poll, held past both timeouts, is answered at its own */
    assert_int_equal(harness_read_response(lp, &r, 5000), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"next\":0,\"events\":[]}");
    harness_response_free(&r);
    /* the stream, parked all along, still delivers */
    assert_int_equal(harness_publish(s.port, "still here"), 1);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 16);
    assert_int_equal(harness_read_until(sse, &raw, "\"data\":\"still here\"", 3000), 1);
    dynbuf_free(&raw);

    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "timeouts"), 4);
    assert_int_equal(harness_stat(st, "config.request_timeout_s"), 1);
    assert_int_equal(harness_stat(st, "config.idle_timeout_s"), 2);
    /* the short body's ten bytes and the slowloris's request: never whole, never routed */
    assert_true(harness_stat(st, "transports.rejected.req_header_bytes") > 0);
    cJSON_Delete(st);
    close(lp);
    close(sse);
    close(silent);
    close(slow);
    close(shortbody);
    close(idle);
    stop(&s);
}

/* ---- 2: descriptors in reserve, so the 503 path can answer ------------------------ */

/* Start the server under an open-file limit of `nofile` (prlimit sets it, then runs the
 * server in its place). */
static struct harness_server start_with_nofile(const char *nofile, const char *const *args)
{
    const char *bin = getenv("PUSHPULL_SERVER");
    const char *argv[32];
    size_t n = 0;
    argv[n++] = "/usr/bin/prlimit";
    argv[n++] = nofile;
    argv[n++] = "--";
    argv[n++] = bin ? bin : "build/asan/bin/pushpull-server";
    argv[n++] = "--port";
    argv[n++] = "0";
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct harness_server s = {0};
    struct proc p;
    char err[512];
    struct proc_spec spec = {.argv = argv, .name = "the server", .out = PROC_PIPE};
    if (proc_start(&p, &spec, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    s.pid = p.pid;
    s.out = p.out;
    running = s.pid;
    s.port = harness_listening_port(&p, "listening on http://");
    assert_true(s.port > 0);
    return s;
}

/* Under a low open-file limit the default connection limit leaves descriptors in reserve:
 * with every connection the limit allows held open by silent clients and the 503
 * headroom nearly full, a new request still gets its 503, and it is served once they go.
 * (The limit used to equal the open-file limit: accepting then failed with "Too many open
 * files" and new clients waited with no answer at all.) */
static void the_503_path_always_has_a_descriptor(void **state)
{
    (void)state;
    enum { NOFILE = 256 };
    const char *args[] = {"--rate", "0", "--request-timeout", "60s", NULL};
    struct harness_server s = start_with_nofile("--nofile=256:256", args);
    cJSON *st = harness_stats(s.port);
    int max = (int)harness_stat(st, "config.max_connections");
    cJSON_Delete(st);
    /* 2 threads, the master and the WebSocket thread: 64 connections of headroom, 32 +
     * 4 x 4 of the server's own */
    assert_int_equal(max, NOFILE - (64 + 32 + 4 * 4));
    int n = max + 63;
    int *fds = calloc((size_t)n, sizeof(*fds));
    assert_non_null(fds);
    for (int i = 0; i < n; i++) {
        fds[i] = harness_connect(s.port);
        assert_true(fds[i] >= 0);
    }
    harness_sleep_ms(300); /* let the server accept them all */
    int fd = harness_connect(s.port);
    const char req[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    struct harness_response r;
    assert_int_equal(harness_read_response(fd, &r, 3000), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "server busy"));
    harness_response_free(&r);
    close(fd);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    expect_connections_at_most(s.port, 1, "after the silent clients left");
    struct harness_response ok;
    assert_int_equal(harness_http(s.port, "GET", "/poll", NULL, NULL, 0, &ok), 0);
    assert_int_equal(ok.status, 200);
    harness_response_free(&ok);
    stop(&s);
}

/* ---- 3: a half-close after a keep-alive request ------------------------------------ */

/* Count the complete "HTTP/1.1 " status lines in out. */
static int answers_in(const struct dynbuf *out)
{
    int n = 0;
    for (const char *p = out->mem; p && (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
        n++;
    return n;
}

/* A client that sends its keep-alive request and shuts its side at once gets its answer
 * and then the close, not a socket left in CLOSE-WAIT; with two requests pipelined
 * before the half-close, both are answered first. */
static void half_close_after_a_request_is_answered_then_closed(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 5; i++) {
        const char one[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
        struct dynbuf out;
        dynbuf_init(&out, 1 << 16);
        assert_int_equal(harness_exchange(s.port, one, sizeof(one) - 1, true, 2000, &out),
                         1);
        assert_int_equal(answers_in(&out), 1);
        assert_non_null(strstr(out.mem, "HTTP/1.1 200 OK\r\n"));
        dynbuf_free(&out);

        const char two[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /poll?since=0 HTTP/1.1\r\nHost: x\r\n\r\n";
        dynbuf_init(&out, 1 << 16);
        assert_int_equal(harness_exchange(s.port, two, sizeof(two) - 1, true, 2000, &out),
                         1);
        assert_int_equal(answers_in(&out), 2);
        assert_non_null(strstr(out.mem, "{\"next\":0,\"events\":[]}"));
        dynbuf_free(&out);
    }
    /* an unfinished request and a half-close: closed soon (about two sweeps, a second
     * each), not at the 10 s request timeout */
    const char part[] = "GET /poll HTTP/1.1\r\nHost: x\r\n";
    struct dynbuf out;
    dynbuf_init(&out, 1 << 16);
    assert_int_equal(harness_exchange(s.port, part, sizeof(part) - 1, true, 4000, &out), 1);
    assert_int_equal(out.len, 0);
    dynbuf_free(&out);
    expect_connections_at_most(s.port, 1, "after the half-closed clients");
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.poll.requests"), 15);
    assert_int_equal(harness_stat(st, "transports.poll.responses.200"), 15);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- 4: every request gets an answer or a close ------------------------------------ */

/* GET /poll?since=0&p1&p2... with n parameters in all, and extra header lines. */
static size_t params_request(char *buf, size_t cap, int n, const char *headers)
{
    size_t len = (size_t)snprintf(buf, cap, "GET /poll?since=0");
    for (int i = 1; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "&p%d", i);
    len +=
        (size_t)snprintf(buf + len, cap - len, " HTTP/1.1\r\nHost: x\r\n%s\r\n", headers);
    assert_true(len < cap);
    return len;
}

/* A query with more parameters than libmicrohttpd's per-connection memory holds used to
 * get neither an answer nor a close (232 and more). Now up to 64 are served, beside a
 * browser's 4 KiB cookie too, and more are closed at once (well before the request
 * timeout), counted as rejected without an answer. */
static void every_request_gets_an_answer_or_a_close(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--request-timeout", "60s", NULL};
    struct harness_server s = start(args);
    static char req[16384];
    static char cookie[4200];
    int c = snprintf(cookie, sizeof(cookie),
                     "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                     "Accept: application/json\r\nCookie: s=");
    memset(cookie + c, 'c', 4096);
    snprintf(cookie + c + 4096, sizeof(cookie) - (size_t)c - 4096, "\r\n");
    const int served[] = {1, 64};
    for (size_t i = 0; i < 2; i++) {
        for (int with_cookie = 0; with_cookie <= 1; with_cookie++) {
            size_t len =
                params_request(req, sizeof(req), served[i], with_cookie ? cookie : "");
            struct dynbuf out;
            dynbuf_init(&out, 1 << 16);
            assert_int_equal(harness_exchange(s.port, req, len, true, 3000, &out), 1);
            if (!out.mem || !strstr(out.mem, "HTTP/1.1 200 OK\r\n"))
                fail_msg("%d parameters%s: %s", served[i],
                         with_cookie ? " and a cookie" : "",
                         out.mem ? out.mem : "(nothing)");
            dynbuf_free(&out);
        }
    }
    const int closed[] = {65, 240, 1000};
    for (size_t i = 0; i < 3; i++) {
        size_t len = params_request(req, sizeof(req), closed[i], "");
        struct dynbuf out;
        dynbuf_init(&out, 1 << 16);
        int64_t t0 = harness_now_ms();
        int rc = harness_exchange(s.port, req, len, false, 5000, &out);
        if (rc != 1 || out.len != 0)
            fail_msg("%d parameters: %s after %lld ms: %.60s", closed[i],
                     rc == 1 ? "closed" : "still open", (long long)(harness_now_ms() - t0),
                     out.mem ? out.mem : "");
        dynbuf_free(&out);
    }
    cJSON *st = stats_once(s.port, "transports.rejected.requests", 3);
    assert_int_equal(harness_stat(st, "transports.poll.requests"), 4);
    assert_int_equal(harness_stat(st, "transports.poll.responses.200"), 4);
    assert_int_equal(harness_stat(st, "transports.rejected.requests"), 3);
    const cJSON *rej = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(st, "transports"), "rejected");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rej, "responses")),
                     0);
    cJSON_Delete(st);
    stop(&s);
}

/* A browser's request head (Chrome's lines, as clients/headers.c has them) with a 4 KiB
 * cookie: about 4.7 KB, the most the lab's client sends. */
static size_t browser_request(char *buf, size_t cap, const char *method, const char *target,
                              const char *extra, size_t body_len)
{
    static char cookie[4096 + 1];
    memset(cookie, 'c', 4096);
    cookie[4096] = '\0';
    int n = snprintf(
        buf, cap,
        "%s %s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        "sec-ch-ua-platform: \"Windows\"\r\nCache-Control: no-cache\r\n"
        "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n"
        "sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A "
        "Brand\";v=\"24\"\r\nsec-ch-ua-mobile: ?0\r\nAccept: */*\r\n"
        "Origin: http://127.0.0.1:8080\r\nSec-Fetch-Site: same-origin\r\n"
        "Sec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\n"
        "Referer: http://127.0.0.1:8080/\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
        "Accept-Language: en-US,en;q=0.9\r\nCookie: sid=%s\r\n%s",
        method, target, cookie, extra);
    if (body_len > 0)
        n += snprintf(buf + n, cap - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(buf + n, cap - (size_t)n, "\r\n");
    assert_true(n > 4096 + 500 && (size_t)n < cap);
    return (size_t)n;
}

/* The browser profile's 4 KiB cookie is served on every route at the pool size
 * libmicrohttpd is given (server.c, SERVER_CONN_MEMORY): no 431. An SSE stream with it
 * still delivers after it has parked once (sse.c gives its idle buffer pages back then). */
static void a_4_KiB_cookie_is_served_on_every_route(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--longpoll-timeout", "5s", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "first");
    const char *ka = "Connection: keep-alive\r\n";
    const struct {
        const char *method, *target, *extra, *body;
        int status;
    } routes[] = {
        {"GET", "/poll", ka, "", 200},
        {"GET", "/poll?since=0&limit=5", ka, "", 200},
        {"GET", "/longpoll?since=0", ka, "", 200},
        {"GET", "/stats", ka, "", 200},
        {"GET", "/time", ka, "", 200},
        {"GET", "/", ka, "", 200},
        {"GET", "/www/app.js", ka, "", 200},
        {"POST", "/publish", ka, "second", 201},
        {"POST", "/control?rate=0", ka, "", 200},
        {"POST", "/drop", ka, "", 200},
        {"GET", "/ws",
         "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
         "", 101},
        {"GET", "/events", ka, "", 200},
    };
    static char req[8192];
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t body_len = strlen(routes[i].body);
        size_t len = browser_request(req, sizeof(req) - body_len, routes[i].method,
                                     routes[i].target, routes[i].extra, body_len);
        memcpy(req + len, routes[i].body, body_len);
        int fd = harness_connect(s.port);
        assert_true(fd >= 0);
        assert_int_equal(harness_send(fd, req, len + body_len), 0);
        struct dynbuf in;
        dynbuf_init(&in, 1 << 20);
        assert_int_equal(harness_read_until(fd, &in, "\r\n\r\n", 5000), 1);
        char want[32];
        snprintf(want, sizeof(want), "HTTP/1.1 %d ", routes[i].status);
        if (strncmp(in.mem, want, strlen(want)) != 0)
            fail_msg("%s %s with a 4 KiB cookie: %.40s", routes[i].method, routes[i].target,
                     in.mem);
        if (strcmp(routes[i].target, "/events") == 0) {
            assert_int_equal(harness_read_until(fd, &in, "retry: ", 5000), 1);
            harness_sleep_ms(200); /* parked, its buffer's pages given back */
            harness_publish(s.port, "after-the-park");
            assert_int_equal(harness_read_until(fd, &in, "after-the-park", 5000), 1);
        }
        dynbuf_free(&in);
        close(fd);
    }
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.rejected.requests"), 0);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- 5, 6: smuggling primitives and oversized bodies ----------------------------- */

/* One raw exchange that must end with the server's close; returns what came back (the
 * caller frees it). */
static struct dynbuf exchange_closed(unsigned port, const char *req, size_t len)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    if (harness_exchange(port, req, len, false, 3000, &out) != 1)
        fail_msg("the server kept the connection open after: %.80s", req);
    return out;
}

/* The status of the first answer in out, and that it is the only one. */
static int only_status(const struct dynbuf *out)
{
    int status = 0;
    if (!out->mem || sscanf(out->mem, "HTTP/1.1 %d", &status) != 1)
        return 0;
    /* a second answer would follow the first's blank line or its JSON body */
    if (strstr(out->mem, "\nHTTP/1.1 ") || strstr(out->mem, "}HTTP/1.1 "))
        fail_msg("a second answer followed: %s", out->mem);
    return status;
}

/* RFC 9112 section 6.3: each request whose body's end is ambiguous gets a 400 (501 for a
 * coding the server does not know) and the close, and what it smuggles behind is never
 * answered or published. A plain chunked publish still works. */
static void smuggling_primitives_are_refused_and_closed(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    static const struct {
        const char *req;
        int status;
    } probes[] = {
        {"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: "
         "10\r\n\r\n"
         "helloGET /poll HTTP/1.1\r\nHost: x\r\n\r\n",
         400},
        {"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
         "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         400},
        {"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
         "5\r\nhello\r\n0\r\n\r\n",
         400},
        {"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello", 400},
        {"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
         "5\r\nhello\r\n0\r\n\r\n",
         501},
        {"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         400},
        {"POST /publish HTTP/1.0\r\nTransfer-Encoding: "
         "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         400},
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        struct dynbuf out = exchange_closed(s.port, probes[i].req, strlen(probes[i].req));
        if (only_status(&out) != probes[i].status)
            fail_msg("probe %zu: expected %d, got: %s", i, probes[i].status,
                     out.mem ? out.mem : "(nothing)");
        assert_non_null(strstr(out.mem, "\r\nConnection: close\r\n"));
        assert_non_null(strstr(out.mem, "{\"error\":\""));
        dynbuf_free(&out);
    }
    const char chunked[] =
        "POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "\r\n5\r\nhello\r\n0\r\n\r\n";
    struct dynbuf out;
    dynbuf_init(&out, 1 << 16);
    harness_exchange(s.port, chunked, sizeof(chunked) - 1, true, 3000, &out);
    assert_non_null(strstr(out.mem, "HTTP/1.1 201 Created\r\n"));
    dynbuf_free(&out);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "updates_published"), 1);
    assert_int_equal(harness_stat(st, "transports.publish.responses.400"), 6);
    assert_int_equal(harness_stat(st, "transports.publish.responses.501"), 1);
    assert_int_equal(harness_stat(st, "transports.poll.requests"), 0); /* never smuggled */
    cJSON_Delete(st);
    stop(&s);
}

/* A body declared over --max-publish-bytes is refused at once: 413 before any
 * "100 Continue" and without waiting for the body, then the close. */
static void oversized_bodies_are_refused_before_they_are_read(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-publish-bytes", "100", NULL};
    struct harness_server s = start(args);
    const char *heads[] = {
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
        "Expect: 100-continue\r\n\r\n",
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
        "GET /poll HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
    };
    for (size_t i = 0; i < 3; i++) {
        /* the head only: the answer must not wait for the body */
        struct dynbuf out = exchange_closed(s.port, heads[i], strlen(heads[i]));
        assert_int_equal(only_status(&out), 413);
        assert_null(strstr(out.mem, "100 Continue"));
        assert_non_null(strstr(out.mem, "100-byte limit"));
        dynbuf_free(&out);
    }
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.publish.responses.413"), 2);
    assert_int_equal(harness_stat(st, "transports.poll.responses.413"), 1);
    assert_int_equal(harness_stat(st, "transports.publish.req_body_bytes"), 0);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- 8: HEAD, Host, and lines that are no request --------------------------------- */

/* The response head of raw, without its Date line (it changes between answers). */
static void head_without_date(const char *raw, char *out, size_t cap)
{
    const char *end = strstr(raw, "\r\n\r\n");
    assert_non_null(end);
    size_t o = 0;
    for (const char *p = raw; p < end;) {
        const char *eol = strstr(p, "\r\n");
        if (eol > end)
            eol = end;
        if (strncmp(p, "Date: ", 6) != 0) {
            assert_true(o + (size_t)(eol - p) + 3 < cap);
            memcpy(out + o, p, (size_t)(eol - p));
            o += (size_t)(eol - p);
            out[o++] = '\n';
        }
        p = eol + 2;
    }
    out[o] = '\0';
}

/* HEAD is answered wherever GET is, with GET's header fields and no body (RFC 9110
 * section 9.3.2); HTTP/1.1 without Host, or with two, is a 400; a request line with no
 * space is closed without an answer (libmicrohttpd 0.9.75 allows no other), and one that
 * begins with a NUL byte (which libmicrohttpd takes for an empty line) by the request
 * timeout. */
static void head_host_and_lines_that_are_no_request(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--request-timeout", "1s", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "headline");
    int fd = harness_connect(s.port);
    const char get[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    const char head[] = "HEAD /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    struct harness_response rg;
    assert_int_equal(harness_send(fd, get, sizeof(get) - 1), 0);
    assert_int_equal(harness_read_response(fd, &rg, 2000), 0);
    assert_int_equal(harness_send(fd, head, sizeof(head) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 16);
    assert_int_equal(harness_read_until(fd, &raw, "\r\n\r\n", 2000), 1);
    harness_read_until(fd, &raw, "\x01never", 200); /* a body would arrive by now */
    char hg[1024], hh[1024];
    head_without_date(rg.raw.mem, hg, sizeof(hg));
    head_without_date(raw.mem, hh, sizeof(hh));
    assert_string_equal(hh, hg); /* Content-Length and ETag included */
    assert_int_equal(raw.len, (size_t)(strstr(raw.mem, "\r\n\r\n") - raw.mem) + 4);
    /* the connection is still good for the next request */
    assert_int_equal(harness_send(fd, get, sizeof(get) - 1), 0);
    harness_response_free(&rg);
    assert_int_equal(harness_read_response(fd, &rg, 2000), 0);
    assert_int_equal(rg.status, 200);
    harness_response_free(&rg);
    dynbuf_free(&raw);
    close(fd);

    const char sse_head[] = "HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n";
    struct dynbuf out = exchange_closed(s.port, sse_head, sizeof(sse_head) - 1);
    assert_int_equal(only_status(&out), 200);
    assert_non_null(strstr(out.mem, "\r\nContent-Type: text/event-stream\r\n"));
    assert_null(strstr(out.mem, "Content-Length"));
    assert_int_equal(out.len, (size_t)(strstr(out.mem, "\r\n\r\n") - out.mem) + 4);
    dynbuf_free(&out);
    const char head_post[] = "HEAD /publish HTTP/1.1\r\nHost: x\r\n\r\n";
    out = exchange_closed(s.port, head_post, sizeof(head_post) - 1);
    assert_int_equal(only_status(&out), 405);
    assert_non_null(strstr(out.mem, "\r\nAllow: POST\r\n"));
    dynbuf_free(&out);

    const char nohost[] = "GET /poll HTTP/1.1\r\n\r\n";
    out = exchange_closed(s.port, nohost, sizeof(nohost) - 1);
    assert_int_equal(only_status(&out), 400);
    assert_non_null(strstr(out.mem, "Host: required"));
    dynbuf_free(&out);
    const char twohosts[] = "GET /poll HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    out = exchange_closed(s.port, twohosts, sizeof(twohosts) - 1);
    assert_int_equal(only_status(&out), 400);
    dynbuf_free(&out);
    const char http10[] = "GET /poll HTTP/1.0\r\n\r\n";
    out = exchange_closed(s.port, http10, sizeof(http10) - 1);
    assert_int_equal(only_status(&out), 200);
    dynbuf_free(&out);
    const char garbage[] = "garbage\r\n\r\n";
    out = exchange_closed(s.port, garbage, sizeof(garbage) - 1);
    assert_int_equal(out.len, 0);
    dynbuf_free(&out);
    const char nul[] = "\0\x01\x02 / HTTP/1.1\r\n\r\n";
    out = exchange_closed(s.port, nul, sizeof(nul) - 1);
    assert_int_equal(out.len, 0);
    dynbuf_free(&out);

    cJSON *st = stats_once(s.port, "transports.rejected.requests", 2);
    assert_int_equal(harness_stat(st, "transports.poll.responses.200"), 4);
    assert_int_equal(harness_stat(st, "transports.poll.responses.400"), 2);
    assert_int_equal(harness_stat(st, "transports.events.responses.200"), 1);
    assert_int_equal(harness_stat(st, "transports.events.open"), 0);
    assert_int_equal(harness_stat(st, "transports.rejected.requests"), 2);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- 9, 10: client tags and error bodies -------------------------------------------- */

/* The request answers status with a valid JSON error body whose message mentions what. */
static void expect_json_error(unsigned port, const char *method, const char *target,
                              int status, const char *mention)
{
    struct harness_response r;
    assert_int_equal(harness_http(port, method, target, NULL, NULL, 0, &r), 0);
    if (r.status != status)
        fail_msg("%s %s: expected %d, got %d", method, target, status, r.status);
    if (!jsonw_valid_utf8(r.body, r.body_len))
        fail_msg("%s %s: the body is not valid UTF-8: %.*s", method, target,
                 (int)r.body_len, r.body);
    cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (!cJSON_IsString(e) || !strstr(e->valuestring, mention))
        fail_msg("%s %s: error does not mention \"%s\": %.*s", method, target, mention,
                 (int)r.body_len, r.body);
    cJSON_Delete(doc);
    harness_response_free(&r);
}

/* An invalid client tag is a 400 on every route (ab%00cd too, not "ab"); once the table
 * of 256 tags is full, asking /stats for a new one says so instead of showing zeros. */
static void client_tags_are_checked_everywhere(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    const char *targets[] = {"/poll?client=bad%20tag",   "/poll?client=ab%00cd",
                             "/longpoll?client=ab%00cd", "/events?client=%ff",
                             "/stats?client=ab%00cd",    "/?client=" /* empty */};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        expect_json_error(s.port, "GET", targets[i], 400, "client");
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.poll.responses.400"), 2);
    cJSON_Delete(st);
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "GET", "/stats?client=ab", NULL, NULL, 0, &r), 0);
    cJSON *t = cJSON_ParseWithLength(r.body, r.body_len);
    assert_int_equal(harness_stat(t, "requests"), 0); /* "ab%00cd" counted nowhere */
    cJSON_Delete(t);
    harness_response_free(&r);

    for (int i = 0; i < 256; i++) {
        char target[64];
        snprintf(target, sizeof(target), "/poll?client=t%d", i);
        assert_int_equal(harness_http(s.port, "GET", target, NULL, NULL, 0, &r), 0);
        assert_int_equal(r.status, 200);
        harness_response_free(&r);
    }
    assert_int_equal(harness_http(s.port, "GET", "/poll?client=late", NULL, NULL, 0, &r),
                     0);
    assert_int_equal(r.status, 200); /* served, only not tracked */
    harness_response_free(&r);
    expect_json_error(s.port, "GET", "/stats?client=late", 404, "256");
    assert_int_equal(harness_http(s.port, "GET", "/stats?client=t255", NULL, NULL, 0, &r),
                     0);
    assert_int_equal(r.status, 200);
    t = cJSON_ParseWithLength(r.body, r.body_len);
    assert_int_equal(harness_stat(t, "requests"), 1);
    cJSON_Delete(t);
    harness_response_free(&r);
    stop(&s);
}

/* Error bodies quote what the client sent, as valid JSON whatever it was: a byte that is
 * no UTF-8, a character cut by the quote's length, a NUL, a method of raw bytes. */
static void error_bodies_are_valid_json(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    expect_json_error(s.port, "GET", "/poll?since=%ff", 400, "since");
    expect_json_error(s.port, "GET", "/poll?since=%e2%82", 400, "since");
    expect_json_error(s.port, "GET", "/poll?since=1%002", 400, "since");
    /* 41 three-byte characters: the 40-character quote must not cut the 40th */
    char target[512] = "/longpoll?timeout=";
    for (int i = 0; i < 41; i++)
        strcat(target, "%e2%82%ac");
    expect_json_error(s.port, "GET", target, 400, "timeout");
    expect_json_error(s.port, "POST", "/control?rate=%c3", 400, "rate");
    expect_json_error(s.port, "GET", "/www/%ff%fe.js", 404, "no such file");
    expect_json_error(s.port, "\xff\xfe", "/poll", 405, "/poll");
    stop(&s);
}

/* ---- 11: a Last-Event-ID that is no number --------------------------------------- */

/* An unusable Last-Event-ID (or lastEventId) is taken as unknown: the stream says
 * "event: reset" and replays from the oldest update kept, and /stats counts it. */
static void unusable_last_event_ids_replay_from_the_oldest(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--buffer", "3", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 5; i++)
        harness_publish(s.port, "kept?");
    const char *reqs[] = {
        "GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: abc\r\n\r\n",
        "GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 4 \r\n\r\n",
        "GET /events?lastEventId=1.5 HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < 3; i++) {
        int fd = harness_connect(s.port);
        assert_int_equal(harness_send(fd, reqs[i], strlen(reqs[i])), 0);
        struct dynbuf raw;
        dynbuf_init(&raw, 1 << 16);
        assert_int_equal(harness_read_until(fd, &raw, "id: 5\n", 3000), 1);
        assert_non_null(strstr(raw.mem, "HTTP/1.1 200 OK\r\n"));
        const char *reset =
            strstr(raw.mem, "event: reset\ndata: {\"since\":null,\"first\":3}");
        const char *first = strstr(raw.mem, "id: 3\n");
        assert_non_null(reset);
        assert_non_null(first);
        assert_true(reset < first);
        assert_null(strstr(raw.mem, "id: 2\n"));
        dynbuf_free(&raw);
        close(fd);
    }
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "last_event_id_unusable"), 3);
    assert_int_equal(harness_stat(st, "transports.events.responses.200"), 3);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- 12: --bind -------------------------------------------------------------------- */

/* Addresses where no connection can arrive are refused with one line and status 2; an
 * address beyond loopback is served with a warning on stderr. */
static void bind_refuses_what_cannot_accept_and_warns_beyond_loopback(void **state)
{
    (void)state;
    const char *refused[] = {"255.255.255.255", "224.0.0.1", "240.0.0.1", "0.0.0.7"};
    for (size_t i = 0; i < 4; i++) {
        const char *args[] = {"--port", "0", "--bind", refused[i], NULL};
        struct dynbuf err;
        dynbuf_init(&err, 1 << 16);
        int status = harness_server_run(args, &err);
        if (status != 2 || !err.mem || !strstr(err.mem, "--bind: ") ||
            strchr(err.mem, '\n') != err.mem + err.len - 1)
            fail_msg("--bind %s: exit %d, stderr: %s", refused[i], status,
                     err.mem ? err.mem : "");
        dynbuf_free(&err);
    }
    const char *bin = getenv("PUSHPULL_SERVER");
    const char *argv[] = {bin ? bin : "build/asan/bin/pushpull-server",
                          "--port",
                          "0",
                          "--rate",
                          "0",
                          "--bind",
                          "0.0.0.0",
                          NULL};
    int errfd = -1;
    pid_t pid = harness_spawn(argv, STDERR_FILENO, true, &errfd);
    assert_true(pid > 0);
    running = pid;
    struct dynbuf err;
    dynbuf_init(&err, 1 << 16);
    assert_int_equal(harness_read_until(errfd, &err, "beyond loopback", 5000), 1);
    running = 0;
    assert_int_equal(harness_stop_pid(pid), 0);
    close(errfd);
    dynbuf_free(&err);

    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args); /* 127.0.0.1: no warning */
    stop(&s);
}

/* ---- 7: what libmicrohttpd refuses itself is counted ------------------------------- */

/* One exchange on a fresh connection; the bytes received go to *got (may be NULL) and
 * the status line's code is returned (0 when nothing came). The server must close. */
static int refused(unsigned port, const char *req, size_t len, size_t *got)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(harness_exchange(port, req, len, false, 5000, &out), 1);
    int status = 0;
    if (out.len > 0 && sscanf(out.mem, "HTTP/1.1 %d", &status) != 1)
        status = -1;
    if (got)
        *got = out.len;
    dynbuf_free(&out);
    return status;
}

/* Requests libmicrohttpd answers with an error of its own, before or instead of any
 * route, show in the "rejected" row of /stats: each request, its status, and the bytes
 * both ways exactly, so they are explained rather than lost (unaccounted_bytes stays 0).
 * A request line with no space at all is closed without an answer (libmicrohttpd gives
 * no way to answer it); its bytes are counted there too. */
static void what_libmicrohttpd_refuses_is_counted(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    size_t sent = 0, got = 0, n;

    const char v99[] = "GET / HTTP/9.9\r\n\r\n";
    assert_int_equal(refused(s.port, v99, sizeof(v99) - 1, &n), 505);
    sent += sizeof(v99) - 1;
    got += n;
    const char nocolon[] = "GET /poll HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    assert_int_equal(refused(s.port, nocolon, sizeof(nocolon) - 1, &n), 400);
    sent += sizeof(nocolon) - 1;
    got += n;
    const char garbage[] = "garbage\r\n\r\n";
    assert_int_equal(refused(s.port, garbage, sizeof(garbage) - 1, &n), 0);
    assert_int_equal(n, 0);
    sent += sizeof(garbage) - 1;
    /* each connection's bytes are counted as the server lets go of it, just after the
     * client has seen the close */
    cJSON_Delete(stats_once(s.port, "transports.rejected.resp_header_bytes", (double)got));
    cJSON *st = stats_once(s.port, "transports.rejected.req_header_bytes", (double)sent);
    assert_int_equal(harness_stat(st, "transports.rejected.requests"), 3); /* garbage too */
    assert_int_equal(harness_stat(st, "transports.rejected.responses.505"), 1);
    assert_int_equal(harness_stat(st, "transports.rejected.responses.400"), 1);
    assert_int_equal(harness_stat(st, "transports.rejected.req_header_bytes"), sent);
    assert_int_equal(harness_stat(st, "transports.rejected.resp_header_bytes"), got);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);

    /* a URL and a header over libmicrohttpd's memory: 414 and 431 */
    static char big[20100];
    int len = snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\nHost: x\r\n\r\n", 20000, 7);
    assert_int_equal(refused(s.port, big, (size_t)len, NULL), 414);
    len = snprintf(big, sizeof(big), "GET /poll HTTP/1.1\r\nHost: x\r\nX-Big: %0*d\r\n\r\n",
                   20000, 7);
    assert_int_equal(refused(s.port, big, (size_t)len, NULL), 431);
    st = stats_once(s.port, "transports.rejected.requests", 5);
    assert_int_equal(harness_stat(st, "transports.rejected.requests"), 5);
    assert_int_equal(harness_stat(st, "transports.rejected.responses.414"), 1);
    assert_int_equal(harness_stat(st, "transports.rejected.responses.431"), 1);
    /* no route counted any of them */
    assert_int_equal(harness_stat(st, "transports.poll.requests"), 0);
    assert_int_equal(harness_stat(st, "transports.other.requests"), 0);
    cJSON_Delete(st);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(parked_streams_that_end_free_their_connection, teardown),
        cmocka_unit_test_teardown(deadlines_close_what_holds_a_socket_without_a_request,
                                  teardown),
        cmocka_unit_test_teardown(the_503_path_always_has_a_descriptor, teardown),
        cmocka_unit_test_teardown(half_close_after_a_request_is_answered_then_closed,
                                  teardown),
        cmocka_unit_test_teardown(every_request_gets_an_answer_or_a_close, teardown),
        cmocka_unit_test_teardown(a_4_KiB_cookie_is_served_on_every_route, teardown),
        cmocka_unit_test_teardown(what_libmicrohttpd_refuses_is_counted, teardown),
        cmocka_unit_test_teardown(smuggling_primitives_are_refused_and_closed, teardown),
        cmocka_unit_test_teardown(oversized_bodies_are_refused_before_they_are_read,
                                  teardown),
        cmocka_unit_test_teardown(head_host_and_lines_that_are_no_request, teardown),
        cmocka_unit_test_teardown(client_tags_are_checked_everywhere, teardown),
        cmocka_unit_test_teardown(error_bodies_are_valid_json, teardown),
        cmocka_unit_test_teardown(unusable_last_event_ids_replay_from_the_oldest, teardown),
        cmocka_unit_test_teardown(bind_refuses_what_cannot_accept_and_warns_beyond_loopback,
                                  teardown),
    };
    return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
