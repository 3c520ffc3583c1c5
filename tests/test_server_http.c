/* test_server_http.c: the server's HTTP contract, end to end, against the real binary.
 *
 * Each test starts its own pushpull-server (the ASan build) on a free port, talks raw
 * HTTP/1.1 to it, and stops it by pid, expecting a clean exit (a leak or sanitizer
 * report makes the exit status non-zero and fails the test). Every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "clock.h"
#include "harness.h"
#include "netns.h"

/* ---- helpers -------------------------------------------------------------- */

/* The server a test started last and has not stopped: a failed assertion leaves the
 * test early, and the teardown then stops it by pid instead of leaving it running. */
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
    if (running == s->pid)
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

static struct harness_response get(unsigned port, const char *target, const char *headers)
{
    struct harness_response r;
    assert_int_equal(harness_http(port, "GET", target, headers, NULL, 0, &r), 0);
    return r;
}

static void assert_header(const struct harness_response *r, const char *name,
                          const char *want)
{
    char v[256];
    assert_int_equal(harness_header(r, name, v, sizeof(v)), 0);
    assert_string_equal(v, want);
}

/* Open GET /events with extra header lines; returns the socket with the response head
 * already read into *raw. */
static int open_stream(unsigned port, const char *target, const char *headers,
                       struct dynbuf *raw)
{
    int fd = harness_connect(port);
    assert_true(fd >= 0);
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", target,
                     headers ? headers : "");
    assert_int_equal(harness_send(fd, req, (size_t)n), 0);
    dynbuf_init(raw, 1 << 24);
    assert_int_equal(harness_read_until(fd, raw, "\r\n\r\n", 5000), 1);
    return fd;
}

/* Read the stream until its de-chunked text contains `needle`; returns that text (caller
 * frees with dynbuf_free). */
static struct dynbuf stream_until(int fd, struct dynbuf *raw, const char *needle, int ms)
{
    struct dynbuf text;
    dynbuf_init(&text, 1 << 24);
    int64_t end = harness_now_ms() + ms;
    for (;;) {
        size_t head = (size_t)(strstr(raw->mem, "\r\n\r\n") - raw->mem) + 4;
        int ended;
        dynbuf_reset(&text);
        harness_dechunk(raw->mem + head, raw->len - head, &text, &ended);
        if ((text.mem && strstr(text.mem, needle)) || ended || harness_now_ms() >= end)
            break;
        harness_read_until(fd, raw, "\x01never", 50);
    }
    if (!text.mem || !strstr(text.mem, needle))
        fail_msg("stream never said \"%s\"; it said: %s", needle, text.mem ? text.mem : "");
    return text;
}

/* ---- short polling -------------------------------------------------------- */

/* RFC 9110 section 8.6: a 304 carries no Content-Length, or the 200's (which some
 * clients, wrk's http_parser among them, would wait for as a body). libmicrohttpd before
 * 0.9.77 adds "Content-Length: 0" to every 304 and offers no way to leave it out
 * (servers/reply.c, create_bodiless): with it, the header must be that one, once. The
 * head is the status line up to the blank line; a header name starts a line. */
static void assert_not_modified_length(const struct harness_response *r)
{
    size_t found = 0;
    for (size_t i = 0; i + 16 <= r->head_len; i++)
        if (r->raw.mem[i] == '\n' &&
            strncasecmp(r->raw.mem + i + 1, "Content-Length:", 15) == 0)
            found++;
#if MHD_VERSION >= 0x00097701
    assert_int_equal(found, 0);
#else
    assert_int_equal(found, 1);
    assert_header(r, "Content-Length", "0");
#endif
}

static void poll_latest_etag_and_304(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);

    struct harness_response r = get(s.port, "/poll", NULL);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "application/json");
    assert_header(&r, "Cache-Control", "no-cache");
    assert_header(&r, "ETag", "\"0\"");
    assert_memory_equal(r.body, "{\"seq\":0}", 9);
    harness_response_free(&r);

    assert_int_equal(harness_publish(s.port, "hello"), 1);
    r = get(s.port, "/poll", "If-None-Match: \"0\"\r\n");
    assert_int_equal(r.status, 200);
    assert_header(&r, "ETag", "\"1\"");
    assert_non_null(strstr(r.body, "\"seq\":1,\"ts_ns\":"));
    assert_non_null(strstr(r.body, "\"data\":\"hello\"}"));
    harness_response_free(&r);

    r = get(s.port, "/poll", "If-None-Match: \"1\"\r\n");
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    assert_header(&r, "ETag", "\"1\"");
    assert_header(&r, "Cache-Control", "no-cache");
    assert_not_modified_length(&r);
    harness_response_free(&r);

    r = get(s.port, "/poll", "If-None-Match: W/\"7\", \"1\"\r\n");
    assert_int_equal(r.status, 304);
    harness_response_free(&r);

    assert_int_equal(harness_publish(s.port, "again"), 2);
    r = get(s.port, "/poll", "If-None-Match: \"1\"\r\n");
    assert_int_equal(r.status, 200);
    assert_header(&r, "ETag", "\"2\"");
    harness_response_free(&r);
    stop(&s);
}

static void poll_since_cursor(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct harness_response r = get(s.port, "/poll?since=0", NULL);
    assert_string_equal(r.body, "{\"next\":0,\"events\":[]}");
    harness_response_free(&r);

    harness_publish(s.port, "a");
    harness_publish(s.port, "b\n\"quoted\"");
    harness_publish(s.port, "c");
    r = get(s.port, "/poll?since=0", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "{\"next\":3,\"events\":[{\"seq\":1,"));
    assert_non_null(strstr(r.body, "\"data\":\"b\\n\\\"quoted\\\"\"}"));
    assert_non_null(strstr(r.body, "{\"seq\":3,"));
    harness_response_free(&r);

    r = get(s.port, "/poll?since=1&limit=1", NULL);
    assert_non_null(strstr(r.body, "{\"next\":2,\"events\":[{\"seq\":2,"));
    assert_null(strstr(r.body, "\"seq\":3"));
    harness_response_free(&r);
    /* the same cursor without the limit: another answer (answers are shared per
     * question, since_answers.c) */
    r = get(s.port, "/poll?since=1", NULL);
    assert_non_null(strstr(r.body, "{\"next\":3,\"events\":[{\"seq\":2,"));
    assert_non_null(strstr(r.body, "{\"seq\":3,"));
    harness_response_free(&r);

    r = get(s.port, "/poll?since=3", NULL);
    assert_string_equal(r.body, "{\"next\":3,\"events\":[]}");
    harness_response_free(&r);
    stop(&s);
}

static void poll_reset_after_wrap_and_future_cursor(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--buffer", "4", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 10; i++)
        harness_publish(s.port, "x");
    struct harness_response r = get(s.port, "/poll?since=2", NULL);
    assert_non_null(strstr(r.body, "{\"next\":10,\"reset\":true,\"events\":[{\"seq\":7,"));
    harness_response_free(&r);

    r = get(s.port, "/poll?since=6", NULL); /* 7 is still kept: no gap */
    assert_non_null(strstr(r.body, "{\"next\":10,\"events\":[{\"seq\":7,"));
    harness_response_free(&r);

    r = get(s.port, "/poll?since=99", NULL); /* a cursor from another run */
    assert_non_null(strstr(r.body, "{\"next\":10,\"reset\":true,\"events\":[{\"seq\":7,"));
    harness_response_free(&r);
    stop(&s);
}

/* ---- long polling --------------------------------------------------------- */

static void longpoll_held_until_publish(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "first");

    int fd = harness_connect(s.port);
    const char req[] = "GET /longpoll?since=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    struct dynbuf early;
    dynbuf_init(&early, 4096);
    assert_int_equal(harness_read_until(fd, &early, "\r\n", 300),
                     0); /* held, not answered */
    dynbuf_free(&early);

    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.longpoll.open"), 1);
    assert_int_equal(harness_stat(st, "parked"), 1);
    cJSON_Delete(st);

    int64_t t0 = harness_now_ms();
    assert_int_equal(harness_publish(s.port, "second"), 2);
    struct harness_response r;
    assert_int_equal(harness_read_response(fd, &r, 2000), 0);
    int64_t waited = harness_now_ms() - t0;
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "{\"next\":2,\"events\":[{\"seq\":2,"));
    /* The publish call's own round trip is included, so this bound is generous. */
    assert_true(waited < 100);
    harness_response_free(&r);
    close(fd);
    stop(&s);
}

static void longpoll_news_already_there_and_timeout(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "a");
    struct harness_response r = get(s.port, "/longpoll?since=0", NULL);
    assert_non_null(strstr(r.body, "{\"next\":1,\"events\":[{\"seq\":1,"));
    harness_response_free(&r);

    int64_t t0 = harness_now_ms();
    r = get(s.port, "/longpoll?since=1&timeout=1", NULL);
    int64_t took = harness_now_ms() - t0;
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"next\":1,\"events\":[]}");
    assert_true(took >= 950 && took < 1600);
    harness_response_free(&r);
    stop(&s);
}

static void longpoll_batches_and_server_default_timeout(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--longpoll-timeout", "1s", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 3; i++)
        harness_publish(s.port, "burst");
    struct harness_response r = get(s.port, "/longpoll?since=0", NULL);
    assert_non_null(strstr(r.body, "{\"next\":3,\"events\":[{\"seq\":1,"));
    assert_non_null(strstr(r.body, "{\"seq\":3,"));
    harness_response_free(&r);
    int64_t t0 = harness_now_ms();
    r = get(s.port, "/longpoll", NULL); /* no cursor: wait for what comes next */
    assert_string_equal(r.body, "{\"next\":3,\"events\":[]}");
    assert_true(harness_now_ms() - t0 >= 950);
    harness_response_free(&r);
    stop(&s);
}

static void longpoll_answered_on_shutdown(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    int fd = harness_connect(s.port);
    const char req[] = "GET /longpoll?since=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    harness_sleep_ms(200);
    stop(&s);
    struct harness_response r;
    assert_int_equal(harness_read_response(fd, &r, 2000), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"next\":0,\"events\":[]}");
    harness_response_free(&r);
    close(fd);
}

/* Send a request on fd and read its answer; counts what went each way. */
static struct harness_response lp_ask(int fd, const char *target, size_t *sent,
                                      size_t *head, size_t *body)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target);
    assert_int_equal(harness_send(fd, req, (size_t)n), 0);
    *sent += (size_t)n;
    struct harness_response r;
    assert_int_equal(harness_read_response(fd, &r, 2000), 0);
    assert_int_equal(r.status, 200);
    *head += r.head_len;
    *body += r.body_len;
    return r;
}

/* Long polls answered from one feed state share one answer per cursor (since_answers.c):
 * two cursors must still get their own answers, an answer must not outlive the update
 * after it, and the bytes are counted exactly as for an answer built for one request. */
static void longpoll_shared_answers_are_per_cursor_and_fresh(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "one");
    harness_publish(s.port, "two");
    size_t sent = 0, head = 0, body = 0;
    int a = harness_connect(s.port), b = harness_connect(s.port),
        c = harness_connect(s.port);
    const char hold[] = "GET /longpoll?since=2 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(a, hold, sizeof(hold) - 1), 0);
    assert_int_equal(harness_send(b, hold, sizeof(hold) - 1), 0);
    sent += 2 * (sizeof(hold) - 1);
    for (int i = 0; i < 100; i++) { /* both parked before the publish */
        cJSON *st = harness_stats(s.port);
        int64_t parked = harness_stat(st, "parked");
        cJSON_Delete(st);
        if (parked == 2)
            break;
        harness_sleep_ms(20);
    }
    assert_int_equal(harness_publish(s.port, "three"), 3);
    struct harness_response ra, rb;
    assert_int_equal(harness_read_response(a, &ra, 2000), 0);
    assert_int_equal(harness_read_response(b, &rb, 2000), 0);
    head += ra.head_len + rb.head_len;
    body += ra.body_len + rb.body_len;
    assert_non_null(strstr(ra.body, "{\"next\":3,\"events\":[{\"seq\":3,"));
    assert_null(strstr(ra.body, "\"seq\":2,"));
    assert_string_equal(ra.body, rb.body);
    /* another cursor, the same feed: its own answer, with seq 2 and 3 */
    struct harness_response rc = lp_ask(c, "/longpoll?since=1", &sent, &head, &body);
    assert_non_null(strstr(rc.body, "{\"next\":3,\"events\":[{\"seq\":2,"));
    assert_non_null(strstr(rc.body, "{\"seq\":3,"));
    harness_response_free(&rc);
    /* one update later, since=2 again: seq 3 and 4, not the answer above */
    assert_int_equal(harness_publish(s.port, "four"), 4);
    rc = lp_ask(c, "/longpoll?since=2", &sent, &head, &body);
    assert_string_not_equal(rc.body, ra.body);
    assert_non_null(strstr(rc.body, "{\"next\":4,\"events\":[{\"seq\":3,"));
    assert_non_null(strstr(rc.body, "{\"seq\":4,"));
    harness_response_free(&rc);
    rc = lp_ask(a, "/longpoll?since=4&timeout=1", &sent, &head, &body);
    assert_string_equal(rc.body, "{\"next\":4,\"events\":[]}");
    harness_response_free(&rc);
    harness_response_free(&ra);
    harness_response_free(&rb);
    harness_sleep_ms(50); /* the counts are taken as each answer completes */
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.longpoll.req_header_bytes"), sent);
    assert_int_equal(harness_stat(st, "transports.longpoll.resp_header_bytes"), head);
    assert_int_equal(harness_stat(st, "transports.longpoll.resp_body_bytes"), body);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);
    close(a);
    close(b);
    close(c);
    stop(&s);
}

/* ---- Server-Sent Events --------------------------------------------------- */

static void sse_headers_retry_and_ids(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--retry-ms", "1500", NULL};
    struct harness_server s = start(args);
    struct dynbuf raw;
    int fd = open_stream(s.port, "/events", NULL, &raw);
    assert_non_null(strstr(raw.mem, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(raw.mem, "\r\nContent-Type: text/event-stream\r\n"));
    assert_non_null(strstr(raw.mem, "\r\nCache-Control: no-cache\r\n"));
    assert_non_null(strstr(raw.mem, "\r\nX-Accel-Buffering: no\r\n"));
    assert_non_null(strstr(raw.mem, "\r\nTransfer-Encoding: chunked\r\n"));
    struct dynbuf text = stream_until(fd, &raw, "retry: 1500\n\n", 2000);
    assert_memory_equal(text.mem, "retry: 1500\n\n", 13);
    dynbuf_free(&text);

    harness_publish(s.port, "one");
    harness_publish(s.port, "two");
    text = stream_until(fd, &raw, "\"data\":\"two\"}\n\n", 2000);
    const char *e1 = strstr(text.mem, "id: 1\ndata: {\"seq\":1,\"ts_ns\":");
    const char *e2 = strstr(text.mem, "id: 2\ndata: {\"seq\":2,\"ts_ns\":");
    assert_non_null(e1);
    assert_non_null(e2);
    assert_true(e1 < e2);
    assert_null(strstr(text.mem, "event:")); /* plain messages reach onmessage */
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

static void sse_heartbeat(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--heartbeat", "200ms", NULL};
    struct harness_server s = start(args);
    struct dynbuf raw;
    int fd = open_stream(s.port, "/events", NULL, &raw);
    int64_t t0 = harness_now_ms();
    struct dynbuf text = stream_until(fd, &raw, ": keepalive\n\n", 2000);
    int64_t took = harness_now_ms() - t0;
    assert_true(took >= 150 && took < 1000);
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

static void sse_resume_from_last_event_id(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 5; i++)
        harness_publish(s.port, "r");
    struct dynbuf raw;
    int fd = open_stream(s.port, "/events", "Last-Event-ID: 2\r\n", &raw);
    struct dynbuf text = stream_until(fd, &raw, "id: 5\n", 2000);
    assert_null(strstr(text.mem, "id: 2\n"));
    const char *a = strstr(text.mem, "id: 3\n"), *b = strstr(text.mem, "id: 4\n");
    assert_true(a && b && a < b);
    assert_null(strstr(text.mem, "event: reset"));
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);

    fd = open_stream(s.port, "/events?lastEventId=4", NULL, &raw);
    text = stream_until(fd, &raw, "id: 5\n", 2000);
    assert_null(strstr(text.mem, "id: 4\n"));
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

static void sse_reset_when_id_left_the_buffer(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--buffer", "4", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 10; i++)
        harness_publish(s.port, "w");
    struct dynbuf raw;
    int fd = open_stream(s.port, "/events", "Last-Event-ID: 1\r\n", &raw);
    struct dynbuf text = stream_until(fd, &raw, "id: 10\n", 2000);
    const char *reset =
        strstr(text.mem, "event: reset\ndata: {\"since\":1,\"first\":7}\n\n");
    const char *first = strstr(text.mem, "id: 7\n");
    assert_non_null(reset);
    assert_non_null(first);
    assert_true(reset < first);
    assert_null(strstr(text.mem, "id: 6\n"));
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

static void sse_end_on_shutdown(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct dynbuf raw;
    int fd = open_stream(s.port, "/events", NULL, &raw);
    struct dynbuf text = stream_until(fd, &raw, "retry:", 2000);
    dynbuf_free(&text);
    stop(&s);
    text = stream_until(fd, &raw, "event: end\ndata: {\"reason\":\"shutdown\"}\n\n", 3000);
    dynbuf_free(&text);
    /* the chunked body was properly terminated */
    assert_true(raw.len >= 5);
    assert_memory_equal(raw.mem + raw.len - 5, "0\r\n\r\n", 5);
    dynbuf_free(&raw);
    close(fd);
}

/* ---- cleanup, fan-out, accounting ----------------------------------------- */

static void disconnect_cleanup(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    int fds[6];
    struct dynbuf raw;
    for (int i = 0; i < 3; i++) {
        fds[i] = open_stream(s.port, "/events", NULL, &raw);
        dynbuf_free(&raw);
        fds[3 + i] = harness_connect(s.port);
        const char req[] = "GET /longpoll?since=0&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(harness_send(fds[3 + i], req, sizeof(req) - 1), 0);
    }
    harness_sleep_ms(200);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.events.open"), 3);
    assert_int_equal(harness_stat(st, "transports.longpoll.open"), 3);
    assert_int_equal(harness_stat(st, "parked"), 6);
    assert_int_equal(harness_stat(st, "connections_open"), 7); /* and this /stats request */
    assert_int_equal(harness_stat(st, "connections_peak"), 7);
    cJSON_Delete(st);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    /* Noticed within one sweep of the parked sockets (about a second). */
    int64_t end = harness_now_ms() + 3000;
    double open_sse = -1, open_lp = -1, parked = -1, conns = -1;
    while (harness_now_ms() < end) {
        st = harness_stats(s.port);
        open_sse = harness_stat(st, "transports.events.open");
        open_lp = harness_stat(st, "transports.longpoll.open");
        parked = harness_stat(st, "parked");
        conns = harness_stat(st, "connections_open");
        cJSON_Delete(st);
        if (open_sse == 0 && open_lp == 0 && parked == 0 && conns <= 1)
            break;
        harness_sleep_ms(100);
    }
    assert_int_equal(open_sse, 0);
    assert_int_equal(open_lp, 0);
    assert_int_equal(parked, 0);
    assert_true(conns <= 1); /* only the /stats request's own connection */
    stop(&s);
}

static void fanout_to_streams_and_polls(void **state)
{
    (void)state;
    enum { N = 100 };
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    int sse[N], lp[N];
    struct dynbuf raws[N];
    for (int i = 0; i < N; i++) {
        sse[i] = open_stream(s.port, "/events", NULL, &raws[i]);
        lp[i] = harness_connect(s.port);
        const char req[] = "GET /longpoll?since=0 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(harness_send(lp[i], req, sizeof(req) - 1), 0);
    }
    int64_t end = harness_now_ms() + 3000;
    while (harness_now_ms() < end) {
        cJSON *st = harness_stats(s.port);
        double parked = harness_stat(st, "parked");
        cJSON_Delete(st);
        if (parked == 2 * N)
            break;
        harness_sleep_ms(20);
    }
    assert_int_equal(harness_publish(s.port, "to everyone"), 1);
    for (int i = 0; i < N; i++) {
        struct dynbuf text =
            stream_until(sse[i], &raws[i], "\"data\":\"to everyone\"}\n\n", 3000);
        dynbuf_free(&text);
        dynbuf_free(&raws[i]);
        struct harness_response r;
        assert_int_equal(harness_read_response(lp[i], &r, 3000), 0);
        assert_non_null(strstr(r.body, "\"data\":\"to everyone\""));
        harness_response_free(&r);
        close(sse[i]);
        close(lp[i]);
    }
    stop(&s);
}

/* The server's header and body byte counts equal what this raw client put on and took
 * off the wire, for several requests on one keep-alive connection and for a stream. */
static void byte_accounting_matches_the_wire(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "payload");
    int fd = harness_connect(s.port);
    const char *reqs[] = {
        "GET /poll HTTP/1.1\r\nHost: x\r\nUser-Agent: exact-count\r\n\r\n",
        "GET /poll HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"1\"\r\n\r\n",
        "GET /poll?since=0 HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nX-Pad: "
        "0123456789012345678901234567890123456789\r\n\r\n",
    };
    size_t sent = 0, head = 0, body = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(harness_send(fd, reqs[i], strlen(reqs[i])), 0);
        sent += strlen(reqs[i]);
        struct harness_response r;
        assert_int_equal(harness_read_response(fd, &r, 2000), 0);
        head += r.head_len;
        body += r.body_len;
        assert_int_equal(r.raw.len, r.head_len + r.body_len);
        harness_response_free(&r);
    }
    /* The counts are taken when each response completes; /stats on another connection. */
    harness_sleep_ms(50);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.poll.req_header_bytes"), sent);
    assert_int_equal(harness_stat(st, "transports.poll.resp_header_bytes"), head);
    assert_int_equal(harness_stat(st, "transports.poll.resp_body_bytes"), body);
    cJSON_Delete(st);
    close(fd);

    const char sreq[] =
        "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
    fd = harness_connect(s.port);
    assert_int_equal(harness_send(fd, sreq, sizeof(sreq) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 20);
    assert_int_equal(harness_read_until(fd, &raw, "retry: 3000\n\n", 2000), 1);
    for (int i = 0; i < 5; i++)
        harness_publish(s.port, "streamed");
    struct dynbuf text = stream_until(fd, &raw, "id: 6\n", 2000);
    harness_read_until(fd, &raw, "\x01never", 100); /* anything still in flight */
    size_t shead = (size_t)(strstr(raw.mem, "\r\n\r\n") - raw.mem) + 4;
    st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.events.req_header_bytes"),
                     sizeof(sreq) - 1);
    assert_int_equal(harness_stat(st, "transports.events.resp_header_bytes"), shead);
    assert_int_equal(harness_stat(st, "transports.events.resp_body_bytes"), text.len);
    assert_int_equal(harness_stat(st, "transports.events.resp_body_bytes") +
                         harness_stat(st, "transports.events.framing_bytes"),
                     raw.len - shead);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

/* The server reads its sockets' counts at each request's end with a floor, what
 * libmicrohttpd has parsed, and stops at one call when the count meets it (request.c).
 * Requests pipelined in one segment (the second read along with the first: the floor
 * lies under the count), requests sent back to back without waiting (each one's
 * successor already in, or arriving while the server reads the counts), and an empty
 * line before a request line (read, not in the parsed head) are all counted to the byte
 * the client sent, and every answer to the byte it received. */
static void pipelined_requests_count_to_the_byte(void **state)
{
    (void)state;
    enum { BACK_TO_BACK = 40, AFTER = 5 };
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "payload");
    int fd = harness_connect(s.port);
    char req[512];
    size_t sent = 0, n = 0;
    const char pair[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /poll?since=0 HTTP/1.1\r\nHost: x\r\nX-Second: 2\r\n\r\n";
    assert_int_equal(harness_send(fd, pair, sizeof(pair) - 1), 0);
    sent += sizeof(pair) - 1;
    n += 2;
    for (int i = 0; i < BACK_TO_BACK + 1 + AFTER; i++) {
        /* an empty line before the request line: libmicrohttpd skips it unparsed */
        const char *lead = i == BACK_TO_BACK ? "\r\n" : "";
        int len = snprintf(req, sizeof(req),
                           "%sGET /poll HTTP/1.1\r\nHost: x\r\n%s: %.*s\r\n\r\n", lead,
                           i % 2 ? "If-None-Match" : "X-Pad", 1 + i % 37,
                           "\"1\"0123456789012345678901234567890123456789");
        assert_int_equal(harness_send(fd, req, (size_t)len), 0);
        sent += (size_t)len;
        n++;
    }
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 20);
    size_t answers = 0;
    for (int tries = 0; tries < 100 && answers < n; tries++) {
        harness_read_until(fd, &raw, "\x01never", 50);
        answers = 0;
        for (const char *p = raw.mem; p && (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
            answers++;
    }
    assert_int_equal(answers, n);
    harness_read_until(fd, &raw, "\x01never", 100); /* anything still in flight */
    harness_sleep_ms(50);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.poll.requests"), n);
    assert_int_equal(harness_stat(st, "transports.poll.req_header_bytes"), sent);
    assert_int_equal(harness_stat(st, "transports.poll.req_body_bytes"), 0);
    assert_int_equal(harness_stat(st, "transports.poll.resp_header_bytes") +
                         harness_stat(st, "transports.poll.resp_body_bytes"),
                     raw.len);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

/* A client that sends its request and closes at once meets the answer with a reset; the
 * server's socket is then CLOSED, where the TCP state no longer says that the client's
 * FIN came. Its request is still counted to the byte, not one over (issue 13). */
static void a_request_then_close_counts_no_fin(void **state)
{
    (void)state;
    enum { N = 30 };
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    const char req[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < N; i++) {
        int fd = harness_connect(s.port);
        assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
        close(fd);
    }
    double n = -1;
    for (int i = 0; i < 100 && n != N; i++) {
        cJSON *st = harness_stats(s.port);
        n = harness_stat(st, "transports.poll.responses.200");
        cJSON_Delete(st);
        harness_sleep_ms(20);
    }
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.poll.requests"), N);
    assert_int_equal(harness_stat(st, "transports.poll.req_header_bytes"),
                     N * (sizeof(req) - 1));
    cJSON_Delete(st);
    stop(&s);
}

/* ---- who may publish ----------------------------------------------------- */

/* A request from another host: the child of netns_fork, inside a namespace, sends
 * `request` to the server at `server`:`port` and exits with 0 for a 201, 3 for a 403
 * whose error names the flag (for /publish) or the loopback rule, 1 for anything else. */
struct remote_request {
    struct in_addr server;
    unsigned port;
    const char *request;
    const char *mention; /* the 403's error must say this */
};

static int remote_send(void *arg)
{
    const struct remote_request *a = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port), .sin_addr = a->server};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return 1;
    struct harness_response r;
    if (harness_send(fd, a->request, strlen(a->request)) != 0 ||
        harness_read_response(fd, &r, 5000) != 0)
        return 1;
    close(fd);
    int rc = r.status == 201 ? 0 : r.status == 403 && strstr(r.body, a->mention) ? 3 : 1;
    harness_response_free(&r);
    return rc;
}

static void expect_remote(const struct netns *ns, unsigned port, const char *request,
                          const char *mention, int want)
{
    char err[512];
    struct remote_request a = {ns->host_addr, port, request, mention};
    pid_t pid = netns_fork(ns, remote_send, &a, err, sizeof(err));
    if (pid < 0)
        fail_msg("%s", err);
    int rc = harness_wait(pid, 15000);
    if (rc != want)
        fail_msg("from another host, %.30s...: exit %d, expected %d", request, rc, want);
}

/* POST /publish is for loopback peers unless the server runs with --open-publish, which
 * opens it (and WebSocket messages, test_ws_server.c) to every peer; /control and /drop
 * stay loopback-only. The other host is a network namespace of the test's own. */
static void open_publish_lets_other_hosts_publish(void **state)
{
    (void)state;
    struct netns ns;
    char err[512];
    if (netns_create(&ns, "publish", err, sizeof(err)) != 0)
        fail_msg("%s", err);
    char bind[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ns.host_addr, bind, sizeof(bind));
    const char publish[] =
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nfar!";
    const char control[] =
        "POST /control?rate=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    const char drop[] = "POST /drop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    const char *closed[] = {"--rate", "0", "--bind", bind, NULL};
    struct harness_server s = start(closed);
    expect_remote(&ns, s.port, publish, "--open-publish", 3);
    expect_remote(&ns, s.port, control, "only loopback", 3);
    stop(&s);
    const char *open[] = {"--rate", "0", "--bind", bind, "--open-publish", NULL};
    s = start(open);
    expect_remote(&ns, s.port, publish, "", 0);
    expect_remote(&ns, s.port, control, "only loopback", 3);
    expect_remote(&ns, s.port, drop, "only loopback", 3);
    stop(&s);
    assert_int_equal(netns_remove(&ns, err, sizeof(err)), 0);
}

/* POST /publish from source address `from` (a loopback address; the socket is bound to it
 * before connecting to 127.0.0.1:port). Returns the status. */
static int publish_from(unsigned port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
    const char req[] = "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnear";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    struct harness_response r;
    assert_int_equal(harness_read_response(fd, &r, 5000), 0);
    close(fd);
    int status = r.status;
    harness_response_free(&r);
    return status;
}

/* Every loopback address is loopback, unless --local-peer names the one that is: then
 * 127.0.0.2 (the demo's second door, through the link) is refused as another host is. */
static void local_peer_narrows_loopback(void **state)
{
    (void)state;
    const char *any[] = {"--rate", "0", NULL};
    struct harness_server s = start(any);
    assert_int_equal(publish_from(s.port, "127.0.0.2"), 201);
    stop(&s);
    const char *one[] = {"--rate", "0", "--local-peer", "127.0.0.1", NULL};
    s = start(one);
    assert_int_equal(publish_from(s.port, "127.0.0.2"), 403);
    assert_int_equal(publish_from(s.port, "127.0.0.1"), 201);
    stop(&s);
}

/* ---- errors --------------------------------------------------------------- */

static void expect_error(unsigned port, const char *method, const char *target,
                         const char *headers, int status, const char *mention)
{
    struct harness_response r;
    assert_int_equal(harness_http(port, method, target, headers, NULL, 0, &r), 0);
    assert_int_equal(r.status, status);
    assert_header(&r, "Content-Type", "application/json");
    cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(doc);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    assert_true(cJSON_IsString(e));
    if (!strstr(e->valuestring, mention))
        fail_msg("error \"%s\" does not mention \"%s\"", e->valuestring, mention);
    cJSON_Delete(doc);
    harness_response_free(&r);
}

static void errors_are_json_and_name_the_parameter(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-publish-bytes", "100", NULL};
    struct harness_server s = start(args);
    expect_error(s.port, "GET", "/poll?since=abc", NULL, 400, "since");
    expect_error(s.port, "GET", "/poll?since=-1", NULL, 400, "since");
    expect_error(s.port, "GET", "/poll?since=99999999999999999999999", NULL, 400, "since");
    expect_error(s.port, "GET", "/poll?since=1&limit=0", NULL, 400, "limit");
    expect_error(s.port, "GET", "/poll?since=1&limit=ten", NULL, 400, "limit");
    expect_error(s.port, "GET", "/longpoll?since=x", NULL, 400, "since");
    expect_error(s.port, "GET", "/longpoll?since=0&timeout=121", NULL, 400, "timeout");
    expect_error(s.port, "GET", "/longpoll?since=0&timeout=1s", NULL, 400, "timeout");
    /* an unusable Last-Event-ID or lastEventId is no error: test_hostile.c */
    expect_error(s.port, "GET", "/nope", NULL, 404, "no such path");
    expect_error(s.port, "POST", "/poll", NULL, 405, "GET");
    expect_error(s.port, "DELETE", "/events", NULL, 405, "GET");
    expect_error(s.port, "GET", "/publish", NULL, 405, "POST");

    struct harness_response r;
    char big[200];
    memset(big, 'b', sizeof(big));
    assert_int_equal(harness_http(s.port, "POST", "/publish", NULL, big, sizeof(big), &r),
                     0);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "100-byte limit"));
    harness_response_free(&r);
    assert_int_equal(harness_http(s.port, "POST", "/publish", NULL, "\xff\xfe", 2, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "UTF-8"));
    harness_response_free(&r);
    assert_int_equal(harness_http(s.port, "POST", "/poll", NULL, "x", 1, &r), 0);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.raw.mem, "\r\nAllow: GET, HEAD\r\n"));
    harness_response_free(&r);

    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.poll.responses.400"), 5);
    assert_int_equal(harness_stat(st, "transports.other.responses.404"), 1);
    assert_int_equal(harness_stat(st, "transports.publish.responses.413"), 1);
    assert_int_equal(harness_stat(st, "updates_published"), 0);
    /* 20000, or what the open-file limit allows (19936 under a limit of 20000) */
    assert_true(harness_stat(st, "config.max_connections") > 19000 &&
                harness_stat(st, "config.max_connections") <= 20000);
    assert_int_equal(harness_stat(st, "config.rate_hz"), 0);
    assert_int_equal(harness_stat(st, "config.longpoll_timeout_s"), 30);
    cJSON_Delete(st);
    stop(&s);
}

static void busy_server_answers_503(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-connections", "2", NULL};
    struct harness_server s = start(args);
    int idle1 = harness_connect(s.port), idle2 = harness_connect(s.port);
    assert_true(idle1 >= 0 && idle2 >= 0);
    harness_sleep_ms(100);
    expect_error(s.port, "GET", "/poll", NULL, 503, "busy");
    close(idle1);
    close(idle2);
    harness_sleep_ms(200);
    struct harness_response r = get(s.port, "/poll", NULL);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    stop(&s);
}

static void publish_answers_201_with_seq(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "POST", "/publish", NULL, "caf\xc3\xa9", 5, &r),
                     0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "{\"seq\":1}");
    harness_response_free(&r);
    r = get(s.port, "/poll", NULL);
    assert_non_null(strstr(r.body, "\"data\":\"caf\xc3\xa9\"}"));
    harness_response_free(&r);
    stop(&s);
}

/* GET /time: the server's CLOCK_REALTIME in ns, between the client's readings before and
 * after (one machine, one clock); HEAD gets the fields without the body; counted in the
 * "time" row; anything but GET or HEAD is a 405. */
static void time_answers_the_server_clock(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    long long before = (long long)clock_real_ns();
    struct harness_response r = get(s.port, "/time", NULL);
    long long after = (long long)clock_real_ns();
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "application/json");
    assert_header(&r, "Cache-Control", "no-cache");
    assert_int_equal(strncmp(r.body, "{\"t_ns\":", 8), 0);
    char *end;
    long long t = strtoll(r.body + 8, &end, 10);
    assert_string_equal(end, "}");
    assert_true(before <= t && t <= after);
    char length[16];
    assert_int_equal(harness_header(&r, "Content-Length", length, sizeof(length)), 0);
    harness_response_free(&r);
    int fd = harness_connect(s.port);
    const char head[] = "HEAD /time HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(fd, head, sizeof(head) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 16);
    assert_int_equal(harness_read_until(fd, &raw, "\r\n\r\n", 2000), 1);
    harness_read_until(fd, &raw, "\x01never", 200); /* a body would arrive by now */
    assert_int_equal(strncmp(raw.mem, "HTTP/1.1 200 ", 13), 0);
    char want[48];
    snprintf(want, sizeof(want), "Content-Length: %s\r\n", length);
    assert_non_null(strstr(raw.mem, want));
    assert_int_equal(raw.len, (size_t)(strstr(raw.mem, "\r\n\r\n") - raw.mem) + 4);
    dynbuf_free(&raw);
    close(fd);
    assert_int_equal(harness_http(s.port, "POST", "/time", NULL, "x", 1, &r), 0);
    assert_int_equal(r.status, 405);
    assert_header(&r, "Allow", "GET, HEAD");
    harness_response_free(&r);
    cJSON *st = harness_stats(s.port);
    assert_true(harness_stat(st, "transports.time.requests") == 3);
    assert_true(harness_stat(st, "transports.time.responses.200") == 2);
    assert_true(harness_stat(st, "transports.time.responses.405") == 1);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- the generator -------------------------------------------------------- */

static void generator_bursts_and_payload_size(void **state)
{
    (void)state;
    const char *args[] = {"--rate",          "100",          "--process",
                          "burst",           "--burst-size", "5",
                          "--payload-bytes", "37",           NULL};
    struct harness_server s = start(args);
    harness_sleep_ms(300);
    struct harness_response r = get(s.port, "/poll?since=0", NULL);
    cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
    int n = cJSON_GetArraySize(events);
    assert_true(n >= 10);
    /* Bursts of 5, 50 ms apart: stamps within a burst are microseconds apart, so runs of
     * stamps less than 10 ms apart are the bursts. Each is 5 updates, except that the
     * read may have caught the last one half published (a burst is five publishes, as
     * five chat messages sent at once would be, not one). */
    const cJSON *ev;
    int64_t prev_seq = 0;
    double prev_ms = 0;
    int in_burst = 0, bursts = 0;
    cJSON_ArrayForEach(ev, events)
    {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
        assert_int_equal(strlen(data->valuestring), 37);
        int64_t seq = (int64_t)cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble;
        assert_int_equal(seq, prev_seq + 1);
        prev_seq = seq;
        double ms = cJSON_GetObjectItemCaseSensitive(ev, "ts_ns")->valuedouble / 1e6;
        if (in_burst > 0 && ms - prev_ms >= 10) {
            assert_int_equal(in_burst, 5); /* a whole burst before the gap */
            in_burst = 0;
        }
        if (in_burst == 0)
            bursts++;
        in_burst++;
        prev_ms = ms;
    }
    assert_true(in_burst >= 1 && in_burst <= 5);
    assert_true(bursts >= 2);
    cJSON_Delete(doc);
    harness_response_free(&r);
    stop(&s);
}

static void generator_replays_a_trace(void **state)
{
    (void)state;
    char path[] = "/tmp/pushpull-trace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char csv[] = "t_s\n0.2\n0.4\n0.4\n0.7\n";
    assert_int_equal(write(fd, csv, sizeof(csv) - 1), (ssize_t)(sizeof(csv) - 1));
    close(fd);
    const char *args[] = {"--trace", path, "--payload-bytes", "5", NULL};
    struct harness_server s = start(args);
    harness_sleep_ms(1200);
    struct harness_response r = get(s.port, "/poll?since=0", NULL);
    cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
    assert_int_equal(cJSON_GetArraySize(events), 4); /* and nothing after the trace ends */
    double ts[4];
    for (int i = 0; i < 4; i++) {
        const cJSON *ev = cJSON_GetArrayItem(events, i);
        /* read ts_ns from the text: a double cannot hold it, but ms differences can */
        ts[i] = cJSON_GetObjectItemCaseSensitive(ev, "ts_ns")->valuedouble / 1e6;
    }
    double gaps[3] = {ts[1] - ts[0], ts[2] - ts[1], ts[3] - ts[2]};
    assert_true(gaps[0] > 150 && gaps[0] < 260);
    assert_true(gaps[1] >= 0 && gaps[1] < 30);
    assert_true(gaps[2] > 250 && gaps[2] < 360);
    cJSON_Delete(doc);
    harness_response_free(&r);
    stop(&s);
    unlink(path);
}

/* ---- the demo's levers: client tags, rate control, drop, the page ------------- */

static void client_tags_count_their_own_bytes(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "tagged");
    const char req[] = "GET /poll?client=panel-1 HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = harness_connect(s.port);
    size_t head = 0, body = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
        struct harness_response r;
        assert_int_equal(harness_read_response(fd, &r, 2000), 0);
        head += r.head_len;
        body += r.body_len;
        harness_response_free(&r);
    }
    close(fd);
    struct harness_response other =
        get(s.port, "/poll?client=panel-2", NULL); /* not ours */
    harness_response_free(&other);
    harness_sleep_ms(50);
    struct harness_response r = get(s.port, "/stats?client=panel-1", NULL);
    cJSON *t = cJSON_ParseWithLength(r.body, r.body_len);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "client")->valuestring,
                        "panel-1");
    assert_int_equal(harness_stat(t, "requests"), 2);
    assert_int_equal(harness_stat(t, "req_header_bytes"), 2 * (sizeof(req) - 1));
    assert_int_equal(harness_stat(t, "resp_header_bytes"), head);
    assert_int_equal(harness_stat(t, "resp_body_bytes"), body);
    assert_int_equal(harness_stat(t, "responses.200"), 2);
    cJSON_Delete(t);
    harness_response_free(&r);
    r = get(s.port, "/stats?client=never-seen", NULL);
    t = cJSON_ParseWithLength(r.body, r.body_len);
    assert_int_equal(harness_stat(t, "requests"), 0);
    cJSON_Delete(t);
    harness_response_free(&r);
    expect_error(s.port, "GET", "/stats?client=bad%20tag", NULL, 400, "client");

    /* A tagged stream counts live: its header bytes as it opens, its events as sent. */
    struct dynbuf raw;
    fd = open_stream(s.port, "/events?client=sse-1", NULL, &raw);
    harness_publish(s.port, "live");
    struct dynbuf text = stream_until(fd, &raw, "\"data\":\"live\"}\n\n", 2000);
    harness_sleep_ms(50);
    r = get(s.port, "/stats?client=sse-1", NULL);
    t = cJSON_ParseWithLength(r.body, r.body_len);
    size_t shead = (size_t)(strstr(raw.mem, "\r\n\r\n") - raw.mem) + 4;
    assert_int_equal(harness_stat(t, "open"), 1);
    assert_int_equal(harness_stat(t, "resp_header_bytes"), shead);
    assert_int_equal(harness_stat(t, "resp_body_bytes"), text.len);
    cJSON_Delete(t);
    harness_response_free(&r);
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

static void control_sets_the_rate_live(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_sleep_ms(300);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "updates_published"), 0);
    cJSON_Delete(st);
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "POST", "/control?rate=50", NULL, "", 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"rate_hz\":50}");
    harness_response_free(&r);
    harness_sleep_ms(500);
    st = harness_stats(s.port);
    double n = harness_stat(st, "updates_published");
    assert_true(n >= 15 && n <= 35);
    assert_int_equal(harness_stat(st, "config.rate_hz"), 50);
    cJSON_Delete(st);
    assert_int_equal(harness_http(s.port, "POST", "/control?rate=0", NULL, "", 0, &r), 0);
    harness_response_free(&r);
    st = harness_stats(s.port);
    n = harness_stat(st, "updates_published");
    cJSON_Delete(st);
    harness_sleep_ms(300);
    st = harness_stats(s.port);
    assert_true(harness_stat(st, "updates_published") == n); /* paused */
    cJSON_Delete(st);
    expect_error(s.port, "POST", "/control?rate=fast", NULL, 400, "rate");
    expect_error(s.port, "POST", "/control?rate=5000", NULL, 400, "rate");
    expect_error(s.port, "POST", "/control", NULL, 400, "rate");
    expect_error(s.port, "GET", "/control?rate=1", NULL, 405, "POST");
    stop(&s);
}

static void drop_cuts_streams_and_they_resume(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "before");
    struct dynbuf raw;
    int sse = open_stream(s.port, "/events", NULL, &raw);
    struct dynbuf text = stream_until(sse, &raw, "retry:", 2000);
    dynbuf_free(&text);
    int lp = harness_connect(s.port);
    const char lreq[] = "GET /longpoll?since=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(lp, lreq, sizeof(lreq) - 1), 0);
    harness_sleep_ms(200);
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "POST", "/drop", NULL, "", 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"dropped\":2}");
    harness_response_free(&r);
    /* Both are cut without a word: no "event: end", no answer to the long poll. */
    assert_true(harness_wait_eof(sse, 2000));
    assert_null(strstr(raw.mem, "event: end"));
    struct dynbuf lraw;
    dynbuf_init(&lraw, 4096);
    assert_int_equal(harness_read_until(lp, &lraw, "HTTP/1.1", 2000),
                     -1); /* EOF, no reply */
    dynbuf_free(&lraw);
    dynbuf_free(&raw);
    close(sse);
    close(lp);
    /* What was published meanwhile comes back on resume. */
    harness_publish(s.port, "during");
    sse = open_stream(s.port, "/events", "Last-Event-ID: 1\r\n", &raw);
    text = stream_until(sse, &raw, "id: 2\ndata: {\"seq\":2,", 2000);
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(sse);
    stop(&s);
}

static void the_demo_page_is_served_and_nothing_else(void **state)
{
    (void)state;
    char dir[] = "/tmp/pushpull-www-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    fputs("<!doctype html><title>demo</title>", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/app.js", dir);
    f = fopen(path, "w");
    fputs("console.log(1);", f);
    fclose(f);
    const char *args[] = {"--rate", "0", "--www", dir, NULL};
    struct harness_server s = start(args);
    struct harness_response r = get(s.port, "/", NULL);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "text/html; charset=utf-8");
    assert_memory_equal(r.body, "<!doctype html>", 15);
    harness_response_free(&r);
    r = get(s.port, "/www/app.js", NULL);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "text/javascript; charset=utf-8");
    harness_response_free(&r);
    expect_error(s.port, "GET", "/www/../README.md", NULL, 404, "no such file");
    expect_error(s.port, "GET", "/www/.hidden.js", NULL, 404, "no such file");
    expect_error(s.port, "GET", "/www/run.sh", NULL, 404, "no such file");
    expect_error(s.port, "GET", "/www/missing.css", NULL, 404, "missing.css");
    stop(&s);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

static void rejected_bodies_count_as_bodies(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-publish-bytes", "100", NULL};
    struct harness_server s = start(args);
    char big[2000];
    memset(big, 'b', sizeof(big));
    int fd = harness_connect(s.port);
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
                     sizeof(big));
    assert_int_equal(harness_send(fd, head, (size_t)n), 0);
    assert_int_equal(harness_send(fd, big, sizeof(big)), 0);
    struct harness_response r;
    assert_int_equal(harness_read_response(fd, &r, 2000), 0);
    assert_int_equal(r.status, 413);
    harness_response_free(&r);
    close(fd);
    harness_sleep_ms(50);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.publish.req_header_bytes"), n);
    assert_int_equal(harness_stat(st, "transports.publish.req_body_bytes"), sizeof(big));
    cJSON_Delete(st);
    stop(&s);
}

static void big_backlogs_come_in_pieces(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-publish-bytes", "64k", NULL};
    struct harness_server s = start(args);
    static char big[60001];
    memset(big, 'z', sizeof(big) - 1);
    for (int i = 0; i < 40; i++) /* 40 x 60 kB = 2.4 MB behind a cursor of 0 */
        assert_int_equal(harness_publish(s.port, big), (uint64_t)i + 1);
    uint64_t cursor = 0;
    int pieces = 0;
    while (cursor < 40 && pieces < 10) {
        char target[64];
        snprintf(target, sizeof(target), "/poll?since=%llu", (unsigned long long)cursor);
        struct harness_response r = get(s.port, target, NULL);
        assert_true(r.body_len <= 1024 * 1024 + 61000); /* about 1 MiB, one update over */
        cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
        assert_non_null(doc);
        assert_null(cJSON_GetObjectItemCaseSensitive(doc, "reset"));
        uint64_t next = (uint64_t)harness_stat(doc, "next");
        assert_int_equal(
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "events")),
            next - cursor);
        cursor = next;
        pieces++;
        cJSON_Delete(doc);
        harness_response_free(&r);
    }
    assert_int_equal(cursor, 40);
    assert_true(pieces >= 3); /* the backlog did not come in one response */
    stop(&s);
}

static void http10_streams_count_no_chunk_framing(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    int fd = harness_connect(s.port);
    const char req[] = "GET /events HTTP/1.0\r\n\r\n";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 20);
    assert_int_equal(harness_read_until(fd, &raw, "retry: 3000\n\n", 2000), 1);
    assert_null(strstr(raw.mem, "Transfer-Encoding"));
    harness_publish(s.port, "plain");
    assert_int_equal(harness_read_until(fd, &raw, "\"data\":\"plain\"}\n\n", 2000), 1);
    size_t head = (size_t)(strstr(raw.mem, "\r\n\r\n") - raw.mem) + 4;
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.events.framing_bytes"), 0);
    assert_int_equal(harness_stat(st, "transports.events.resp_body_bytes"), raw.len - head);
    assert_int_equal(harness_stat(st, "transports.events.resp_header_bytes"), head);
    cJSON_Delete(st);
    dynbuf_free(&raw);
    close(fd);
    stop(&s);
}

/* ---- the durable feed ------------------------------------------------------ */

static void feed_file_survives_a_restart(void **state)
{
    (void)state;
    char path[] = "/tmp/pushpull-feed-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *args[] = {"--rate", "0", "--feed-file", path, NULL};
    struct harness_server s = start(args);
    harness_publish(s.port, "one");
    harness_publish(s.port, "two");
    harness_publish(s.port, "three");
    struct harness_response before = get(s.port, "/poll?since=0", NULL);
    stop(&s);

    /* A write cut short by a crash leaves a partial last line: it is dropped. */
    FILE *f = fopen(path, "a");
    fputs("{\"seq\":4,\"ts_", f);
    fclose(f);

    s = start(args);
    struct harness_response after = get(s.port, "/poll?since=0", NULL);
    assert_int_equal(after.body_len, before.body_len);
    assert_memory_equal(after.body, before.body,
                        before.body_len); /* same seqs and stamps */
    harness_response_free(&before);
    harness_response_free(&after);
    /* A client resuming from 3 gets what follows, not a reset. */
    struct dynbuf raw;
    int sse = open_stream(s.port, "/events", "Last-Event-ID: 3\r\n", &raw);
    struct dynbuf text = stream_until(sse, &raw, "retry:", 2000);
    dynbuf_free(&text);
    assert_int_equal(harness_publish(s.port, "four"), 4);
    text = stream_until(sse, &raw, "id: 4\ndata: {\"seq\":4,", 2000);
    assert_null(strstr(text.mem, "event: reset"));
    dynbuf_free(&text);
    dynbuf_free(&raw);
    close(sse);
    stop(&s);

    /* A damaged log stops the server with one line naming the file and line. */
    f = fopen(path, "a");
    fputs("not json\n", f);
    fclose(f);
    struct dynbuf err;
    dynbuf_init(&err, 1 << 16);
    int status = harness_server_run(args, &err);
    assert_int_not_equal(status, 0);
    char want[128];
    snprintf(want, sizeof(want), "%s:5: expected {\"seq\":N", path);
    if (!err.mem || !strstr(err.mem, want))
        fail_msg("stderr: %s", err.mem ? err.mem : "");
    dynbuf_free(&err);
    unlink(path);
}

/* SIGUSR1, the restart experiment's crash: the /stats document as one line on stdout,
 * exit 0, and every connection cut without a goodbye. The in-memory successor on the same
 * port starts again at seq 1, so an old cursor is answered with a reset; with a durable
 * feed the successor carries on, and the two documents add up. */
static void crash_then_restart_on_the_same_port(void **state)
{
    (void)state;
    char path[] = "/tmp/pushpull-feed-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int durable = 0; durable <= 1; durable++) {
        /* in memory, the NULL ends the list before the path */
        const char *args[] = {"--rate", "0", durable ? "--feed-file" : NULL, path, NULL};
        struct harness_server s = start(args);
        harness_publish(s.port, "one");
        harness_publish(s.port, "two");
        struct dynbuf raw;
        int sse = open_stream(s.port, "/events", "Last-Event-ID: 2\r\n", &raw);
        struct dynbuf text = stream_until(sse, &raw, "retry:", 2000);
        dynbuf_free(&text);
        int lp = harness_connect(s.port);
        const char lpreq[] = "GET /longpoll?since=2 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(harness_send(lp, lpreq, sizeof(lpreq) - 1), 0);
        for (int i = 0; i < 100; i++) { /* until the long poll is parked (5 s at most) */
            cJSON *st = harness_stats(s.port);
            double parked = harness_stat(st, "parked");
            cJSON_Delete(st);
            if (parked == 2)
                break;
            usleep(50 * 1000);
        }

        assert_int_equal(kill(s.pid, SIGUSR1), 0);
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        assert_int_equal(harness_read_until(s.out, &out, NULL, 5000), 1);
        int status = harness_wait(s.pid, 5000);
        s.pid = 0;
        running = 0; /* reaped: never signal its pid again */
        assert_int_equal(status, 0);
        cJSON *doc = cJSON_Parse(out.mem);
        assert_non_null(doc);
        assert_true(harness_stat(doc, "updates_published") == 2);
        assert_true(harness_stat(doc, "newest_seq") == 2);
        assert_true(harness_stat(doc, "transports.events.requests") == 1);
        assert_true(harness_stat(doc, "parked") == 2);
        cJSON_Delete(doc);
        dynbuf_free(&out);
        /* both cut: the stream without "event: end", the long poll without an answer */
        assert_int_equal(harness_read_until(sse, &raw, NULL, 2000), 1); /* EOF */
        assert_null(strstr(raw.mem, "event: end"));
        assert_null(strstr(raw.mem, "\r\n0\r\n")); /* nor the chunked body's end */
        dynbuf_free(&raw);
        close(sse);
        struct dynbuf lpraw;
        dynbuf_init(&lpraw, 1 << 16);
        assert_int_equal(harness_read_until(lp, &lpraw, NULL, 2000), 1);
        assert_int_equal(lpraw.len, 0);
        dynbuf_free(&lpraw);
        close(lp);

        char port[16];
        snprintf(port, sizeof(port), "%u", s.port);
        const char *again[] = {
            "--rate", "0", "--port", port, durable ? "--feed-file" : NULL, path, NULL};
        struct harness_server s2 = start(again);
        assert_int_equal(s2.port, s.port);
        assert_int_equal(harness_publish(s2.port, "three"), durable ? 3 : 1);
        struct harness_response r = get(s2.port, "/poll?since=2", NULL);
        assert_int_equal(r.status, 200);
        if (durable) {
            assert_null(strstr(r.body, "\"reset\""));
            assert_non_null(strstr(r.body, "\"seq\":3,"));
        } else {
            assert_non_null(strstr(r.body, "\"reset\":true"));
            assert_non_null(strstr(r.body, "\"seq\":1,"));
        }
        harness_response_free(&r);
        cJSON *st = harness_stats(s2.port);
        assert_true(harness_stat(st, "updates_published") == 1); /* restored ones not */
        assert_true(harness_stat(st, "newest_seq") == (durable ? 3 : 1));
        cJSON_Delete(st);
        stop(&s2);
        if (s.out >= 0)
            close(s.out);
    }
    unlink(path);
}

/* ---- the command line ---------------------------------------------------- */

static void expect_bad_flag(const char *flag, const char *value, const char *mention)
{
    const char *args[] = {flag, value, NULL};
    struct dynbuf err;
    dynbuf_init(&err, 1 << 16);
    int status = harness_server_run(args, &err);
    if (status != 2 || !err.mem || !strstr(err.mem, mention))
        fail_msg("%s %s: exit %d, stderr: %s", flag, value ? value : "", status,
                 err.mem ? err.mem : "");
    assert_non_null(strchr(err.mem, '\n'));
    assert_ptr_equal(strchr(err.mem, '\n'), err.mem + err.len - 1); /* one line */
    dynbuf_free(&err);
}

static void bad_flags_get_one_clear_line(void **state)
{
    (void)state;
    expect_bad_flag("--rate", "fast", "--rate: expected 0, or updates per second");
    expect_bad_flag("--rate", "0.0000001", "--rate: expected 0, or updates per second");
    expect_bad_flag("--port", "70000", "--port: expected a whole number from 0 to 65535");
    expect_bad_flag("--process", "sometimes",
                    "--process: expected periodic, poisson, burst or trace");
    expect_bad_flag("--longpoll-timeout", "121s",
                    "--longpoll-timeout: expected a duration");
    expect_bad_flag("--heartbeat", "5ms", "--heartbeat: expected 0 (off) or at least 10ms");
    expect_bad_flag("--buffer", "0", "--buffer: expected a whole number from 1");
    expect_bad_flag("--request-timeout", "500ms",
                    "--request-timeout: expected a duration from 1s to 1h");
    expect_bad_flag("--idle-timeout", "2h", "--idle-timeout: expected a duration from 1s");
    expect_bad_flag("--bind", "localhost", "--bind: expected an IPv4 address");
    expect_bad_flag("--local-peer", "10.0.0.1",
                    "--local-peer: expected a loopback IPv4 address");
    expect_bad_flag("--no-such-flag", NULL, "--no-such-flag: unknown option (see --help)");
    expect_bad_flag("--rate", NULL, "--rate: expects a value");
    expect_bad_flag("stray", NULL, "unexpected argument \"stray\"");
    expect_bad_flag("--trace", "/nonexistent/trace.csv", "--trace: cannot open");
    expect_bad_flag("--process", "trace", "expected --trace FILE as well");

    const char *help[] = {"--help", NULL};
    struct dynbuf err;
    dynbuf_init(&err, 1 << 16);
    assert_int_equal(harness_server_run(help, &err), 0);
    dynbuf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(poll_latest_etag_and_304, teardown),
        cmocka_unit_test_teardown(poll_since_cursor, teardown),
        cmocka_unit_test_teardown(poll_reset_after_wrap_and_future_cursor, teardown),
        cmocka_unit_test_teardown(longpoll_held_until_publish, teardown),
        cmocka_unit_test_teardown(longpoll_news_already_there_and_timeout, teardown),
        cmocka_unit_test_teardown(longpoll_batches_and_server_default_timeout, teardown),
        cmocka_unit_test_teardown(longpoll_answered_on_shutdown, teardown),
        cmocka_unit_test_teardown(longpoll_shared_answers_are_per_cursor_and_fresh,
                                  teardown),
        cmocka_unit_test_teardown(sse_headers_retry_and_ids, teardown),
        cmocka_unit_test_teardown(sse_heartbeat, teardown),
        cmocka_unit_test_teardown(sse_resume_from_last_event_id, teardown),
        cmocka_unit_test_teardown(sse_reset_when_id_left_the_buffer, teardown),
        cmocka_unit_test_teardown(sse_end_on_shutdown, teardown),
        cmocka_unit_test_teardown(disconnect_cleanup, teardown),
        cmocka_unit_test_teardown(fanout_to_streams_and_polls, teardown),
        cmocka_unit_test_teardown(byte_accounting_matches_the_wire, teardown),
        cmocka_unit_test_teardown(a_request_then_close_counts_no_fin, teardown),
        cmocka_unit_test_teardown(pipelined_requests_count_to_the_byte, teardown),
        cmocka_unit_test_teardown(open_publish_lets_other_hosts_publish, teardown),
        cmocka_unit_test_teardown(errors_are_json_and_name_the_parameter, teardown),
        cmocka_unit_test_teardown(busy_server_answers_503, teardown),
        cmocka_unit_test_teardown(publish_answers_201_with_seq, teardown),
        cmocka_unit_test_teardown(time_answers_the_server_clock, teardown),
        cmocka_unit_test_teardown(generator_bursts_and_payload_size, teardown),
        cmocka_unit_test_teardown(generator_replays_a_trace, teardown),
        cmocka_unit_test_teardown(client_tags_count_their_own_bytes, teardown),
        cmocka_unit_test_teardown(control_sets_the_rate_live, teardown),
        cmocka_unit_test_teardown(drop_cuts_streams_and_they_resume, teardown),
        cmocka_unit_test_teardown(the_demo_page_is_served_and_nothing_else, teardown),
        cmocka_unit_test_teardown(feed_file_survives_a_restart, teardown),
        cmocka_unit_test_teardown(crash_then_restart_on_the_same_port, teardown),
        cmocka_unit_test_teardown(rejected_bodies_count_as_bodies, teardown),
        cmocka_unit_test_teardown(big_backlogs_come_in_pieces, teardown),
        cmocka_unit_test_teardown(http10_streams_count_no_chunk_framing, teardown),
        cmocka_unit_test_teardown(bad_flags_get_one_clear_line, teardown),
        cmocka_unit_test_teardown(local_peer_narrows_loopback, teardown),
    };
    return cmocka_run_group_tests_name("server_http", tests, NULL, NULL);
}
