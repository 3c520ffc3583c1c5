/* test_http_reader.c: the HTTP/1.1 response reader of the client's raw-socket driver
 * (clients/http_reader.c).
 *
 * Every case runs whole, byte by byte, and split in two at every point. Each way must
 * give the same verdict, status code and keep-alive, hand on the same head lines and
 * (but after a fault inside a chunked body, where the rest of the failing feed is handed
 * on) the same body bytes, and use the same number of bytes of a complete response,
 * leaving what follows it. In every way, each byte fed is handed on, held (part of a
 * line) or unused: nothing is lost to the caller's byte accounting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/http_reader.h"
#include "dynbuf.h"

struct outcome {
    enum http_reader_status st;
    int status;
    bool keep_alive;
    size_t used; /* bytes used over every feed */
    size_t held; /* bytes held at the stop */
    size_t fed;  /* bytes fed before the stop */
    struct dynbuf lines, body;
    const char *error;
};

static void on_line(void *ctx, const char *line, size_t len)
{
    struct outcome *o = ctx;
    assert_int_equal(dynbuf_add(&o->lines, line, len), 0);
}

static void on_body(void *ctx, const char *buf, size_t len)
{
    struct outcome *o = ctx;
    assert_int_equal(dynbuf_add(&o->body, buf, len), 0);
}

static const struct http_reader_callbacks cbs = {on_line, on_body};

/* Feed text in pieces that start at each offset in cuts (cuts[0] == 0), as a caller
 * does: stop at the first DONE or ERROR; then, with eof, tell it the peer closed. */
static struct outcome feed_pieces(const char *text, size_t len, const size_t *cuts,
                                  size_t ncuts, bool eof)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    dynbuf_init(&o.lines, 1 << 20);
    dynbuf_init(&o.body, 1 << 20);
    struct http_reader r;
    http_reader_init(&r);
    o.st = HTTP_READER_MORE;
    for (size_t i = 0; i < ncuts && o.st == HTTP_READER_MORE; i++) {
        size_t from = cuts[i], to = i + 1 < ncuts ? cuts[i + 1] : len;
        size_t used = 12345;
        o.st = http_reader_feed(&r, text + from, to - from, &used, &cbs, &o);
        assert_true(used <= to - from);
        if (o.st == HTTP_READER_MORE)
            assert_int_equal(used, to - from);
        o.used += used;
        o.fed = to;
    }
    if (eof && o.st == HTTP_READER_MORE)
        o.st = http_reader_eof(&r);
    o.status = r.status;
    o.keep_alive = r.keep_alive;
    o.held = http_reader_held(&r);
    o.error = r.error;
    /* the accounting: handed on + held == used */
    assert_int_equal(o.lines.len + o.body.len + o.held, o.used);
    if (o.st == HTTP_READER_DONE)
        assert_int_equal(o.held, 0);
    http_reader_free(&r);
    return o;
}

static void outcome_free(struct outcome *o)
{
    dynbuf_free(&o->lines);
    dynbuf_free(&o->body);
}

static bool same_bytes(const struct dynbuf *a, const struct dynbuf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->mem, b->mem, a->len) == 0);
}

/* Whole, byte by byte and at every split, against the whole run; returns the whole run's
 * outcome (the caller checks it and frees it). */
static struct outcome check_all(const char *text, bool eof)
{
    size_t len = strlen(text);
    size_t whole[] = {0};
    struct outcome w = feed_pieces(text, len, whole, 1, eof);
    size_t *bytes = malloc((len + 1) * sizeof(*bytes));
    assert_non_null(bytes);
    bytes[0] = 0;
    for (size_t i = 0; i < len; i++)
        bytes[i] = i;
    for (size_t cut = 0; cut <= len + 1; cut++) {
        struct outcome g;
        if (cut == len + 1) {
            g = feed_pieces(text, len, bytes, len ? len : 1, eof);
        } else {
            size_t two[] = {0, cut};
            g = feed_pieces(text, len, two, 2, eof);
        }
        bool chunk_fault = w.st == HTTP_READER_ERROR && strstr(w.error, "chunked") != NULL;
        if (g.st != w.st || g.status != w.status || g.keep_alive != w.keep_alive ||
            !same_bytes(&g.lines, &w.lines) ||
            (!chunk_fault && !same_bytes(&g.body, &w.body)) ||
            (w.st == HTTP_READER_DONE && g.used != w.used))
            fail_msg(
                "split at %zu%s: status %d code %d keep %d used %zu lines %zu body %zu; "
                "whole: %d %d %d %zu %zu %zu",
                cut, cut == len + 1 ? " (byte by byte)" : "", g.st, g.status, g.keep_alive,
                g.used, g.lines.len, g.body.len, w.st, w.status, w.keep_alive, w.used,
                w.lines.len, w.body.len);
        outcome_free(&g);
    }
    free(bytes);
    return w;
}

#define OK200 "HTTP/1.1 200 OK\r\n"

static void length_body_and_what_follows(void **state)
{
    (void)state;
    const char *head = OK200 "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n";
    char text[256];
    snprintf(text, sizeof(text), "%shelloHTTP/1.1 200 OK\r\n", head);
    struct outcome o = check_all(text, false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_int_equal(o.status, 200);
    assert_true(o.keep_alive);
    assert_int_equal(o.used, strlen(head) + 5); /* the next response is left */
    assert_int_equal(o.lines.len, strlen(head));
    assert_memory_equal(o.body.mem, "hello", 5);
    outcome_free(&o);
}

static void chunked_body_raw_with_framing(void **state)
{
    (void)state;
    const char *text = OK200 "Transfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\nXYZ";
    struct outcome o = check_all(text, false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_true(o.keep_alive);
    const char *body = "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n";
    assert_int_equal(o.body.len, strlen(body));
    assert_memory_equal(o.body.mem, body, strlen(body));
    assert_int_equal(o.used, strlen(text) - 3);
    outcome_free(&o);
    /* gzip then chunked: chunked last, so chunked; chunked then gzip: until close */
    o = check_all(OK200 "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    outcome_free(&o);
    o = check_all(OK200 "Transfer-Encoding: chunked, gzip\r\n\r\nabc", true);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_false(o.keep_alive);
    assert_int_equal(o.body.len, 3);
    outcome_free(&o);
    /* Transfer-Encoding wins over Content-Length */
    o = check_all(
        OK200 "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    outcome_free(&o);
}

static void responses_without_a_body(void **state)
{
    (void)state;
    struct outcome o =
        check_all("HTTP/1.1 304 Not Modified\r\nETag: \"7\"\r\n\r\nX", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_int_equal(o.status, 304);
    assert_true(o.keep_alive);
    assert_int_equal(o.body.len, 0);
    outcome_free(&o);
    o = check_all("HTTP/1.1 204 No Content\r\n\r\n", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_true(o.keep_alive);
    outcome_free(&o);
    o = check_all(OK200 "Content-Length: 0\r\n\r\n", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_true(o.keep_alive);
    outcome_free(&o);
    /* 101: no body, and the connection is not HTTP any more */
    o = check_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_false(o.keep_alive);
    outcome_free(&o);
}

static void interim_responses_then_the_real_one(void **state)
{
    (void)state;
    const char *text =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n"
        "\r\n" OK200 "Content-Length: 2\r\n\r\nok";
    struct outcome o = check_all(text, false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.used, strlen(text));
    assert_int_equal(o.lines.len, strlen(text) - 2); /* every head line is handed on */
    outcome_free(&o);
}

static void keep_alive_rules(void **state)
{
    (void)state;
    struct outcome o =
        check_all(OK200 "Connection: close\r\nContent-Length: 1\r\n\r\nx", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_false(o.keep_alive);
    outcome_free(&o);
    o = check_all(OK200 "Connection: Keep-Alive, CLOSE\r\nContent-Length: 1\r\n\r\nx",
                  false);
    assert_false(o.keep_alive);
    outcome_free(&o);
    o = check_all("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_false(o.keep_alive);
    outcome_free(&o);
    o = check_all("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
                  false);
    assert_true(o.keep_alive);
    outcome_free(&o);
    /* a body that runs until close: MORE until the end of file, then DONE */
    o = check_all(OK200 "Content-Type: text/plain\r\n\r\nall of it", false);
    assert_int_equal(o.st, HTTP_READER_MORE);
    outcome_free(&o);
    o = check_all(OK200 "Content-Type: text/plain\r\n\r\nall of it", true);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_false(o.keep_alive);
    assert_int_equal(o.body.len, 9);
    outcome_free(&o);
}

static void lenient_forms(void **state)
{
    (void)state;
    /* bare LF line ends, no reason phrase, blanks around values, repeated equal lengths */
    const char *text = "HTTP/1.1 200\nContent-Length:  \t3 \t\nContent-Length: 3\n\nabc";
    struct outcome o = check_all(text, false);
    assert_int_equal(o.st, HTTP_READER_DONE);
    assert_int_equal(o.status, 200);
    assert_memory_equal(o.body.mem, "abc", 3);
    outcome_free(&o);
}

static void malformed_heads(void **state)
{
    (void)state;
    const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "\r\n" OK200 "\r\n",
        OK200 "NoColon\r\n\r\n",
        OK200 "Name : value\r\n\r\n",
        OK200 "A: b\r\n folded\r\n\r\n",
        OK200 "A: b\x01\r\n\r\n",
        OK200 "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
        OK200 "Content-Length: 3x\r\n\r\nabc",
        OK200 "Content-Length: -3\r\n\r\nabc",
        OK200 "Content-Length: 12345678901234567890\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct outcome o = check_all(bad[i], false);
        if (o.st != HTTP_READER_ERROR)
            fail_msg("case %zu (%s) gave %d", i, bad[i], o.st);
        outcome_free(&o);
    }
}

static void faults_in_a_chunked_body(void **state)
{
    (void)state;
    const char *text = OK200 "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n";
    struct outcome o = check_all(text, false);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    assert_non_null(strstr(o.error, "chunked"));
    outcome_free(&o);
    o = check_all(OK200 "Transfer-Encoding: chunked\r\n\r\nzz\r\n", false);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    outcome_free(&o);
}

static void the_peer_closes(void **state)
{
    (void)state;
    struct outcome o = check_all("", true);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    assert_string_equal(o.error, "closed"); /* before a byte: a caller may try again */
    outcome_free(&o);
    o = check_all("HTTP/1.1 200 O", true);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    assert_string_equal(o.error, "closed mid-response");
    outcome_free(&o);
    o = check_all(OK200 "Content-Length: 10\r\n\r\nabc", true);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    assert_int_equal(o.body.len, 3);
    outcome_free(&o);
}

static void limits(void **state)
{
    (void)state;
    size_t n = HTTP_READER_LINE_MAX + 100;
    char *text = malloc(n + 64);
    assert_non_null(text);
    /* a line at the limit is fine; one byte past it is refused */
    int head = snprintf(text, 64, OK200 "X: ");
    size_t fill = HTTP_READER_LINE_MAX - strlen("X: \r\n"); /* the line: exactly the max */
    memset(text + head, 'a', fill);
    strcpy(text + head + fill, "\r\n\r\n");
    struct outcome o = check_all(text, true);
    assert_int_equal(o.st, HTTP_READER_DONE);
    outcome_free(&o);
    memset(text + head, 'a', fill + 1);
    strcpy(text + head + fill + 1, "\r\n\r\n");
    o = check_all(text, true);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    assert_string_equal(o.error, "line too long");
    outcome_free(&o);
    free(text);
    /* many short lines past the head's cap */
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    assert_int_equal(dynbuf_adds(&b, OK200), 0);
    while (b.len <= HTTP_READER_HEAD_MAX)
        assert_int_equal(dynbuf_adds(&b, "X-Filler: 0123456789012345678901234567890\r\n"),
                         0);
    assert_int_equal(dynbuf_adds(&b, "\r\n"), 0);
    size_t whole[] = {0};
    o = feed_pieces(b.mem, b.len, whole, 1, true);
    assert_int_equal(o.st, HTTP_READER_ERROR);
    assert_string_equal(o.error, "head too big");
    outcome_free(&o);
    dynbuf_free(&b);
}

/* One parser, two responses on one connection: begin resets all but the buffer. */
static void responses_in_turn(void **state)
{
    (void)state;
    struct outcome o;
    memset(&o, 0, sizeof(o));
    dynbuf_init(&o.lines, 1 << 16);
    dynbuf_init(&o.body, 1 << 16);
    struct http_reader r;
    http_reader_init(&r);
    const char *a = "HTTP/1.1 200 OK\r\nContent-";
    const char *b = "Length: 2\r\n\r\nhiHTTP/1.1 304 Not Modified\r\n\r\n";
    size_t used;
    assert_int_equal(http_reader_feed(&r, a, strlen(a), &used, &cbs, &o), HTTP_READER_MORE);
    assert_int_equal(http_reader_held(&r), strlen("Content-"));
    assert_int_equal(http_reader_feed(&r, b, strlen(b), &used, &cbs, &o), HTTP_READER_DONE);
    assert_int_equal(r.status, 200);
    size_t rest = strlen(b) - used;
    http_reader_begin(&r);
    assert_false(r.started);
    assert_int_equal(http_reader_feed(&r, b + used, rest, &used, &cbs, &o),
                     HTTP_READER_DONE);
    assert_int_equal(used, rest);
    assert_int_equal(r.status, 304);
    assert_true(r.keep_alive);
    http_reader_free(&r);
    outcome_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(length_body_and_what_follows),
        cmocka_unit_test(chunked_body_raw_with_framing),
        cmocka_unit_test(responses_without_a_body),
        cmocka_unit_test(interim_responses_then_the_real_one),
        cmocka_unit_test(keep_alive_rules),
        cmocka_unit_test(lenient_forms),
        cmocka_unit_test(malformed_heads),
        cmocka_unit_test(faults_in_a_chunked_body),
        cmocka_unit_test(the_peer_closes),
        cmocka_unit_test(limits),
        cmocka_unit_test(responses_in_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
