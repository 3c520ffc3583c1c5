/* test_http_resp.c: unit tests for the bench's HTTP/1.1 response parser
 * (bench/http_resp.c).
 *
 * Every case is fed whole, byte by byte, and split in two at every offset (with an empty
 * feed at the split). Each way must give the same status, body, kept headers, bytes used,
 * and head + body + framing counts that add up to the bytes used; the head callback runs
 * exactly once whenever the head is complete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bench/http_resp.h"
#include "dynbuf.h"

enum { WHOLE_INPUT = -1 };

struct resp_case {
    const char *name;
    const char *in;   /* the bytes (NUL-terminated; no NULs inside) */
    int eof;          /* the server closes after them: call http_resp_eof */
    int want;         /* HTTP_RESP_DONE, HTTP_RESP_MORE or HTTP_RESP_ERROR */
    int status;       /* want status (when the status line is complete) */
    const char *body; /* want body so far */
    int used;         /* DONE: bytes of in that were the response (WHOLE_INPUT) */
    int body_mode;    /* want r->body once the head is done (-1: don't care) */
    const char *etag; /* want kept headers ("" when absent) */
    const char *lastmod;
    const char *accept;
    int close; /* want r->close */
};

#define LONG_JUNK                                                                          \
    "X-Junk: "                                                                             \
    "012345678901234567890123456789012345678901234567890123456789012345678901234567890123" \
    "4"                                                                                    \
    "567890123456789012345678901234567890123456789012345678901234567890123456789012345678" \
    "9"                                                                                    \
    "012345678901234567890123456789012345678901234567890123456789012345678901234567890123" \
    "4"                                                                                    \
    "56789\r\n"

static const struct resp_case cases[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0,
     HTTP_RESP_DONE, 200, "hello", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 0},
    {"the next response is not used",
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", 0, HTTP_RESP_DONE,
     200, "ok", 40, HTTP_BODY_LENGTH, "", "", "", 0},
    {"chunked",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 0,
     HTTP_RESP_DONE, 200, "hello", WHOLE_INPUT, HTTP_BODY_CHUNKED, "", "", "", 0},
    {"an open SSE stream (the lab server's)",
     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
     "chunked\r\n\r\nd\r\nretry: 3000\n\n\r\n",
     0, HTTP_RESP_MORE, 200, "retry: 3000\n\n", 0, HTTP_BODY_CHUNKED, "", "", "", 0},
    {"a stream that ends at the close (nchan's)",
     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: "
     "keep-alive\r\n\r\n: hi\n\n",
     1, HTTP_RESP_DONE, 200, ": hi\n\n", WHOLE_INPUT, HTTP_BODY_EOF, "", "", "", 0},
    {"a cut stream is still open without the close", "HTTP/1.1 200 OK\r\n\r\n: hi\n\n", 0,
     HTTP_RESP_MORE, 200, ": hi\n\n", 0, HTTP_BODY_EOF, "", "", "", 0},
    {"304 with validators (nchan's)",
     "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nLast-Modified: Tue, 01 Dec 2026 "
     "22:36:59 GMT\r\nEtag: 0\r\n\r\n",
     0, HTTP_RESP_DONE, 304, "", WHOLE_INPUT, HTTP_BODY_NONE, "0",
     "Tue, 01 Dec 2026 22:36:59 GMT", "", 0},
    {"304 ignores a Content-Length",
     "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0, HTTP_RESP_DONE, 304, "",
     WHOLE_INPUT, HTTP_BODY_NONE, "", "", "", 0},
    {"quoted ETag kept as sent",
     "HTTP/1.1 200 OK\r\nETag: \"42\"\r\nContent-Length: 1\r\n\r\nx", 0, HTTP_RESP_DONE,
     200, "x", WHOLE_INPUT, HTTP_BODY_LENGTH, "\"42\"", "", "", 0},
    {"101 then frames",
     "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\nConnection: upgrade\r\n"
     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nUpgrade: "
     "websocket\r\n\r\n\x81\x02hi",
     0, HTTP_RESP_DONE, 101, "", 148, HTTP_BODY_NONE, "", "",
     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 0},
    {"204", "HTTP/1.1 204 No Content\r\n\r\n", 0, HTTP_RESP_DONE, 204, "", WHOLE_INPUT,
     HTTP_BODY_NONE, "", "", "", 0},
    {"an interim 100 is skipped",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0,
     HTTP_RESP_DONE, 200, "ok", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 0},
    {"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\n\r\nbody", 1, HTTP_RESP_DONE, 200, "body",
     WHOLE_INPUT, HTTP_BODY_EOF, "", "", "", 1},
    {"HTTP/1.0 with keep-alive",
     "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 0,
     HTTP_RESP_DONE, 200, "x", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 0},
    {"Connection: close",
     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 0,
     HTTP_RESP_DONE, 200, "x", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 1},
    {"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0, HTTP_RESP_DONE,
     200, "ok", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 0},
    {"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, HTTP_RESP_DONE,
     200, "", WHOLE_INPUT, HTTP_BODY_NONE, "", "", "", 0},
    {"names in any case, blanks around values",
     "HTTP/1.1 200 OK\r\ncontent-LENGTH: \t 3 \t\r\nLAST-modified:  x  \r\n\r\nabc", 0,
     HTTP_RESP_DONE, 200, "abc", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "x", "", 0},
    {"a long header we do not keep is skipped",
     "HTTP/1.1 200 OK\r\n" LONG_JUNK "Content-Length: 1\r\n\r\nz", 0, HTTP_RESP_DONE, 200,
     "z", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 0},
    {"chunked wins over Content-Length",
     "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: "
     "chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
     0, HTTP_RESP_DONE, 200, "a", WHOLE_INPUT, HTTP_BODY_CHUNKED, "", "", "", 0},
    {"a coding without chunked last runs to the close",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nzz", 1, HTTP_RESP_DONE,
     200, "zz", WHOLE_INPUT, HTTP_BODY_EOF, "", "", "", 0},
    {"two equal Content-Lengths",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nq", 0,
     HTTP_RESP_DONE, 200, "q", WHOLE_INPUT, HTTP_BODY_LENGTH, "", "", "", 0},
    {"unfinished head", "HTTP/1.1 200 OK\r\nContent-Le", 0, HTTP_RESP_MORE, 200, "", 0, -1,
     "", "", "", 0},
    {"closed inside the head", "HTTP/1.1 200 OK\r\nContent-Le", 1, HTTP_RESP_ERROR, 200, "",
     0, -1, "", "", "", 0},
    {"closed inside a Content-Length body",
     "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 1, HTTP_RESP_ERROR, 200, "abc", 0,
     HTTP_BODY_LENGTH, "", "", "", 0},
    {"error: HTTP/2", "HTTP/2 200 OK\r\n\r\n", 0, HTTP_RESP_ERROR, 0, "", 0, -1, "", "", "",
     0},
    {"error: two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 0, HTTP_RESP_ERROR, 0, "", 0, -1,
     "", "", "", 0},
    {"error: status 099", "HTTP/1.1 099 Low\r\n\r\n", 0, HTTP_RESP_ERROR, 0, "", 0, -1, "",
     "", "", 0},
    {"error: header without a colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 0,
     HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
    {"error: obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", 0,
     HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
    {"error: blank in a header name", "HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n", 0,
     HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
    {"error: conflicting Content-Lengths",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0,
     HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
    {"error: Content-Length not digits", "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", 0,
     HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
    {"error: Content-Length empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0,
     HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
    {"error: malformed chunk",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, HTTP_RESP_ERROR, 200,
     "", 0, HTTP_BODY_CHUNKED, "", "", "", 0},
    {"error: an ETag longer than kept",
     "HTTP/1.1 200 OK\r\nETag: "
     "\"01234567890123456789012345678901234567890123456789012345678901234567890123456789012"
     "34"
     "567890123456789\"\r\n\r\n",
     0, HTTP_RESP_ERROR, 200, "", 0, -1, "", "", "", 0},
};

struct sink {
    struct dynbuf body;
    int heads;
    int refuse; /* on_head refuses */
};

static int on_head(void *ctx, const struct http_resp *r)
{
    struct sink *s = ctx;
    assert_true(r->head_done);
    s->heads++;
    return s->refuse;
}

static void on_body(void *ctx, const char *buf, size_t len)
{
    struct sink *s = ctx;
    assert_int_equal(dynbuf_add(&s->body, buf, len), 0);
}

/* Feed in pieces ending at the cut points (and the end); at the end, the close if asked.
 * Returns the status; *consumed is the bytes the parser took. */
static int feed(const struct resp_case *tc, const size_t *cuts, size_t ncuts,
                struct http_resp *r, size_t *consumed)
{
    size_t len = strlen(tc->in), start = 0;
    int st = HTTP_RESP_MORE;
    *consumed = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        size_t used = 0;
        st = http_resp_feed(r, tc->in + start, end - start, &used);
        if (st == HTTP_RESP_ERROR)
            return st;
        *consumed += used;
        if (st == HTTP_RESP_DONE)
            return st;
        assert_int_equal(used, end - start);
        start = end;
    }
    if (tc->eof)
        st = http_resp_eof(r);
    return st;
}

static void check(const struct resp_case *tc, int st, const struct http_resp *r,
                  const struct sink *s, size_t consumed, const char *how)
{
    const char *body = s->body.mem ? s->body.mem : "";
    size_t want_used = tc->used == WHOLE_INPUT ? strlen(tc->in) : (size_t)tc->used;
    if (st != tc->want || strcmp(body, tc->body) != 0)
        fail_msg("%s (%s): status %d want %d, body '%s' want '%s' (error: %s)", tc->name,
                 how, st, tc->want, body, tc->body, r->error ? r->error : "none");
    if (st == HTTP_RESP_ERROR)
        return;
    assert_int_equal(r->status, tc->status);
    if (st == HTTP_RESP_DONE && consumed != want_used)
        fail_msg("%s (%s): used %zu want %zu", tc->name, how, consumed, want_used);
    assert_int_equal(r->head_bytes + r->body_bytes + r->framing_bytes, consumed);
    assert_int_equal(s->heads, r->head_done ? 1 : 0);
    if (r->head_done && tc->body_mode >= 0)
        assert_int_equal(r->body, tc->body_mode);
    assert_string_equal(r->etag, tc->etag);
    assert_string_equal(r->last_modified, tc->lastmod);
    assert_string_equal(r->ws_accept, tc->accept);
    if (r->head_done)
        assert_int_equal(r->close, tc->close);
}

static void run_way(const struct resp_case *tc, const size_t *cuts, size_t ncuts,
                    const char *how)
{
    struct sink s = {.heads = 0};
    dynbuf_init(&s.body, 1 << 20);
    struct http_resp_callbacks cb = {on_head, on_body, &s};
    struct http_resp r;
    http_resp_init(&r, &cb);
    size_t consumed;
    int st = feed(tc, cuts, ncuts, &r, &consumed);
    check(tc, st, &r, &s, consumed, how);
    dynbuf_free(&s.body);
}

static void test_table(void **state)
{
    (void)state;
    size_t cuts[4096];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct resp_case *tc = &cases[i];
        size_t len = strlen(tc->in);
        assert_true(len < sizeof(cuts) / sizeof(cuts[0]));
        run_way(tc, NULL, 0, "whole");
        for (size_t k = 0; k < len; k++)
            cuts[k] = k + 1;
        run_way(tc, cuts, len, "byte by byte");
        for (size_t at = 0; at <= len; at++) {
            size_t two[2] = {at, at};
            char how[32];
            snprintf(how, sizeof(how), "split at %zu", at);
            run_way(tc, two, 2, how);
        }
    }
}

/* A head the caller refuses ends the feed with an error, and the body is not read. */
static void test_refused_head(void **state)
{
    (void)state;
    struct sink s = {.refuse = 1};
    dynbuf_init(&s.body, 1024);
    struct http_resp_callbacks cb = {on_head, on_body, &s};
    struct http_resp r;
    http_resp_init(&r, &cb);
    const char *in = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnot";
    assert_int_equal(http_resp_feed(&r, in, strlen(in), NULL), HTTP_RESP_ERROR);
    assert_string_equal(r.error, "refused by caller");
    assert_int_equal(r.status, 404);
    assert_int_equal(s.body.len, 0);
    dynbuf_free(&s.body);
}

/* Responses one after the other on a kept-alive connection: init again after DONE. */
static void test_keep_alive_sequence(void **state)
{
    (void)state;
    const char *in =
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"
        "HTTP/1.1 304 Not Modified\r\n\r\n";
    size_t len = strlen(in), off = 0;
    int statuses[3];
    for (int k = 0; k < 3; k++) {
        struct http_resp r;
        http_resp_init(&r, NULL);
        size_t used = 0;
        assert_int_equal(http_resp_feed(&r, in + off, len - off, &used), HTTP_RESP_DONE);
        statuses[k] = r.status;
        off += used;
    }
    assert_int_equal(off, len);
    assert_int_equal(statuses[0], 200);
    assert_int_equal(statuses[1], 200);
    assert_int_equal(statuses[2], 304);
}

/* A head larger than the cap fails, however it is split. */
static void test_head_cap(void **state)
{
    (void)state;
    struct http_resp r;
    http_resp_init(&r, NULL);
    assert_int_equal(http_resp_feed(&r, "HTTP/1.1 200 OK\r\nX: ", 21, NULL),
                     HTTP_RESP_MORE);
    char junk[1024];
    memset(junk, 'a', sizeof(junk));
    int st = HTTP_RESP_MORE;
    for (int i = 0; i < 80 && st == HTTP_RESP_MORE; i++)
        st = http_resp_feed(&r, junk, sizeof(junk), NULL);
    assert_int_equal(st, HTTP_RESP_ERROR);
    assert_string_equal(r.error, "response head too long");
}

/* Nothing is fed after the end. */
static void test_sticky_end(void **state)
{
    (void)state;
    struct http_resp r;
    http_resp_init(&r, NULL);
    const char *in = "HTTP/1.1 204 No Content\r\n\r\n";
    assert_int_equal(http_resp_feed(&r, in, strlen(in), NULL), HTTP_RESP_DONE);
    assert_int_equal(http_resp_feed(&r, "x", 1, NULL), HTTP_RESP_ERROR);
    http_resp_init(&r, NULL);
    assert_int_equal(http_resp_eof(&r), HTTP_RESP_ERROR);
    assert_string_equal(r.error, "closed before the response");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_refused_head),
        cmocka_unit_test(test_keep_alive_sequence),
        cmocka_unit_test(test_head_cap),
        cmocka_unit_test(test_sticky_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
