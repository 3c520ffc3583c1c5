/* test_bench_floor.c: the floor server's head parser, and the server as wrk meets it.
 *
 * The parser: a head split anywhere is "more" until its blank line, field names are
 * case-insensitive with their whitespace trimmed, the query is not part of the path, and
 * what the floor cannot read (no version, a line without a colon, a length that is not
 * a number, a chunked body, a head over the limit) is refused. The server (the ASan
 * build, started as the bench starts it): the first poll is a 200 with ETag "0" and no
 * body; a publish makes the posted body the next 200 with ETag "1"; that ETag sent back
 * is a 304 with no body; two requests in one write get two answers in order; a request
 * whose body comes in two writes is answered once it is whole; a bad head gets a 400 with
 * a JSON error and the close, an unknown path a 404, a head over 8 KiB a 431; a peer that
 * shuts its side after two requests gets both answers and the close; and SIGTERM
 * ends it with status 0 (ASan's leak check runs at that exit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/floor_req.h"
#include "proc.h"

#define BENCH "build/asan/bin/pushpull-bench"

/* ---- the parser ------------------------------------------------------------------- */

static void head_split_anywhere_is_more_until_its_blank_line(void **state)
{
    (void)state;
    const char *h =
        "GET /poll?x=1 HTTP/1.1\r\nif-none-match:  \"7\" \r\nHost: a\r\n\r\nGET";
    size_t whole = strlen(h) - 3;
    struct floor_req r;
    for (size_t n = 0; n < whole; n++)
        assert_int_equal(floor_req_parse(h, n, 8192, &r), FLOOR_MORE);
    assert_int_equal(floor_req_parse(h, strlen(h), 8192, &r), FLOOR_HEAD);
    assert_int_equal(r.head_len, whole);
    assert_int_equal(r.method.len, 3);
    assert_memory_equal(r.method.p, "GET", 3);
    assert_int_equal(r.path.len, 5);
    assert_memory_equal(r.path.p, "/poll", 5);
    assert_int_equal(r.if_none.len, 3);
    assert_memory_equal(r.if_none.p, "\"7\"", 3);
    assert_int_equal(r.content_length, 0);
}

static void what_the_floor_cannot_read_is_refused(void **state)
{
    (void)state;
    struct floor_req r;
    const char *bad[] = {
        "GET /poll\r\n\r\n",                                        /* no version */
        "GET /poll HTTP/2.0\r\n\r\n",                               /* not HTTP/1.x */
        "GET  HTTP/1.1\r\n\r\n",                                    /* no target */
        "GET /poll HTTP/1.1\r\nNo colon here\r\n\r\n",              /* a line without ':' */
        "POST /pub HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",         /* not a number */
        "POST /pub HTTP/1.1\r\nContent-Length:\r\n\r\n",            /* empty */
        "POST /pub HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", /* chunks */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (floor_req_parse(bad[i], strlen(bad[i]), 8192, &r) != FLOOR_BAD)
            fail_msg("accepted: %s", bad[i]);
    const char *post = "POST /pub HTTP/1.1\r\nCONTENT-LENGTH: 12\r\n\r\n";
    assert_int_equal(floor_req_parse(post, strlen(post), 8192, &r), FLOOR_HEAD);
    assert_int_equal(r.content_length, 12);
    char big[200];
    memset(big, 'a', sizeof(big));
    assert_int_equal(floor_req_parse(big, sizeof(big), 100, &r), FLOOR_TOO_BIG);
    assert_int_equal(floor_req_parse(big, 99, 100, &r), FLOOR_MORE);
}

/* ---- the server ------------------------------------------------------------------- */

struct floor_proc {
    struct proc p;
    unsigned port;
};

static int start_floor(void **state)
{
    struct floor_proc *f = calloc(1, sizeof(*f));
    const char *argv[] = {BENCH, "floor", "--threads", "2", NULL};
    struct proc_spec spec = {
        .argv = argv, .name = "floor", .out = PROC_PIPE, .err = PROC_INHERIT};
    char err[256] = "out of memory", line[128];
    if (f)
        proc_init(&f->p);
    if (!f || proc_start(&f->p, &spec, err, sizeof(err)) != 0 ||
        proc_first_line(&f->p, 30000, line, sizeof(line), err, sizeof(err)) != 0 ||
        sscanf(line, "listening on http://127.0.0.1:%u", &f->port) != 1) {
        fprintf(stderr, "floor did not start: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int stop_floor(void **state)
{
    struct floor_proc *f = *state;
    int rc = proc_stop(&f->p, 10000);
    proc_close(&f->p);
    free(f);
    return rc == 0 ? 0 : -1; /* a leak or a crash at exit shows here */
}

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t len = strlen(s);
    assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read until want bytes of answers are in out, or the peer closes (then *closed = 1). */
static size_t read_some(int fd, char *out, size_t cap, size_t want, int *closed)
{
    size_t len = 0;
    *closed = 0;
    while (len < want) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 20000), 1); /* a hang fails, it does not block */
        ssize_t n = recv(fd, out + len, cap - 1 - len, 0);
        assert_true(n >= 0);
        if (n == 0) {
            *closed = 1;
            break;
        }
        len += (size_t)n;
    }
    out[len] = '\0';
    return len;
}

/* One answer on a fresh connection, read until the server closes or want bytes came. */
static void exchange(unsigned port, const char *req, char *out, size_t cap, size_t want,
                     int *closed)
{
    int fd = connect_to(port);
    send_all(fd, req);
    read_some(fd, out, cap, want, closed);
    close(fd);
}

static void polls_publishes_and_304s(void **state)
{
    struct floor_proc *f = *state;
    char buf[4096];
    int closed;
    int fd = connect_to(f->port);
    send_all(fd, "GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
    read_some(fd, buf, sizeof(buf), 1, &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "ETag: \"0\"\r\n"));
    assert_non_null(strstr(buf, "Content-Length: 0\r\n\r\n"));
    /* the body in a second write: answered once it is whole */
    send_all(fd, "POST /pub HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"seq\"");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 300), 0); /* nothing answered for half a body */
    send_all(fd, ":1}\r\n");
    size_t n = read_some(fd, buf, sizeof(buf), 1, &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 201 Created\r\n"));
    assert_memory_equal(buf + n - 9, "{\"seq\":1}", 9);
    /* two requests in one write: the 200 with the body, then the 304 */
    send_all(
        fd, "GET /poll HTTP/1.1\r\n\r\nGET /poll HTTP/1.1\r\nIf-None-Match: \"1\"\r\n\r\n");
    n = 0;
    for (int tries = 0; tries < 50 && !strstr(buf, "304 Not Modified\r\n"); tries++)
        n += read_some(fd, buf + n, sizeof(buf) - n, 1, &closed);
    const char *ok = strstr(buf, "HTTP/1.1 200 OK\r\n"), *nm = strstr(buf, "HTTP/1.1 304");
    assert_non_null(ok);
    assert_non_null(nm);
    assert_true(ok < nm);
    assert_non_null(strstr(ok, "ETag: \"1\"\r\nContent-Length: 11\r\n\r\n{\"seq\":1}\r\n"));
    assert_non_null(strstr(nm, "ETag: \"1\"\r\n\r\n"));
    assert_null(strstr(nm, "Content-Length")); /* RFC 9110 section 15.4.5: no body */
    assert_string_equal(nm + strlen(nm) - 4, "\r\n\r\n");
    assert_int_equal(closed, 0);
    close(fd);
}

static void bad_requests_get_an_error_and_the_close(void **state)
{
    struct floor_proc *f = *state;
    char buf[4096];
    int closed;
    exchange(f->port, "GARBAGE\r\n\r\n", buf, sizeof(buf), sizeof(buf) - 1, &closed);
    assert_int_equal(closed, 1);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(buf, "{\"error\":\"malformed request head\"}"));
    exchange(f->port, "GET /events HTTP/1.1\r\n\r\n", buf, sizeof(buf), sizeof(buf) - 1,
             &closed);
    assert_int_equal(closed, 1);
    assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found\r\n"));
    char big[9000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "GET /poll HTTP/1.1\r\nX: ", 23);
    exchange(f->port, big, buf, sizeof(buf), sizeof(buf) - 1, &closed);
    assert_int_equal(closed, 1);
    assert_non_null(strstr(buf, "HTTP/1.1 431 "));
    /* and it still serves */
    exchange(f->port, "GET /poll HTTP/1.1\r\n\r\n", buf, sizeof(buf), 20, &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
}

/* A client that sends its request and shuts its side gets the answer, then the close. */
static void half_closed_peer_is_answered_then_closed(void **state)
{
    struct floor_proc *f = *state;
    char buf[4096];
    int closed;
    int fd = connect_to(f->port);
    send_all(fd, "GET /poll HTTP/1.1\r\n\r\nGET /poll HTTP/1.1\r\n\r\n");
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    read_some(fd, buf, sizeof(buf), sizeof(buf) - 1, &closed);
    close(fd);
    assert_int_equal(closed, 1);
    const char *first = strstr(buf, "HTTP/1.1 200 OK\r\n");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "HTTP/1.1 200 OK\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_split_anywhere_is_more_until_its_blank_line),
        cmocka_unit_test(what_the_floor_cannot_read_is_refused),
        cmocka_unit_test_setup_teardown(polls_publishes_and_304s, start_floor, stop_floor),
        cmocka_unit_test_setup_teardown(bad_requests_get_an_error_and_the_close,
                                        start_floor, stop_floor),
        cmocka_unit_test_setup_teardown(half_closed_peer_is_answered_then_closed,
                                        start_floor, stop_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
