/* test_chunked.c: unit tests for the chunked transfer decoder (common/chunked.c).
 *
 * Every case is fed three ways: whole, byte by byte, and split in two at every offset
 * (with an empty feed at the split). Each way must give the same payload, the same status,
 * the same number of bytes used, and payload + framing counts that add up to the bytes
 * used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "chunked.h"
#include "dynbuf.h"

struct chunk_case {
    const char *name;
    const char *in;       /* raw bytes (NUL-terminated; no NULs inside) */
    int want_status;      /* CHUNKED_DONE, CHUNKED_MORE or CHUNKED_ERROR */
    const char *want_out; /* decoded payload (up to the error, for errors) */
    size_t want_used;     /* bytes used (for DONE: the body's length) */
};

static const struct chunk_case cases[] = {
    {"one chunk", "5\r\nhello\r\n0\r\n\r\n", CHUNKED_DONE, "hello", 15},
    {"two chunks", "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", CHUNKED_DONE, "abcdefg", 22},
    {"upper and lower hex", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", CHUNKED_DONE,
     "0123456789abcdefghij", 35},
    {"leading zeros in size", "0005\r\nhello\r\n000\r\n\r\n", CHUNKED_DONE, "hello", 20},
    {"extensions skipped", "5;name=val\r\nhello\r\n0;last\r\n\r\n", CHUNKED_DONE, "hello",
     29},
    {"blank before extension", "5 ;x\r\nhello\r\n0\r\n\r\n", CHUNKED_DONE, "hello", 18},
    {"trailer fields", "2\r\nok\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n", CHUNKED_DONE, "ok", 28},
    {"bare LF line ends", "5\nhello\n0\n\n", CHUNKED_DONE, "hello", 11},
    {"bytes after the end are not used", "1\r\nx\r\n0\r\n\r\nHTTP/1.1", CHUNKED_DONE, "x",
     11},
    {"empty body", "0\r\n\r\n", CHUNKED_DONE, "", 5},
    {"CRLF inside data is payload", "4\r\n\r\n\r\n\r\n0\r\n\r\n", CHUNKED_DONE, "\r\n\r\n",
     14},
    {"unfinished: mid data", "5\r\nhel", CHUNKED_MORE, "hel", 6},
    {"unfinished: before trailer end", "1\r\na\r\n0\r\n", CHUNKED_MORE, "a", 9},
    {"SSE-like stream, open",
     "d\r\nretry: 3000\n\n\r\n15\r\nid: 1\ndata: {\"a\":1}\n\n\r\n", CHUNKED_MORE,
     "retry: 3000\n\nid: 1\ndata: {\"a\":1}\n\n", 45},
    {"error: junk size", "x\r\n", CHUNKED_ERROR, "", 0},
    {"error: empty size", "\r\n", CHUNKED_ERROR, "", 0},
    {"error: no CRLF after data", "2\r\nabc\r\n", CHUNKED_ERROR, "ab", 5},
    {"error: CR without LF", "2\rx", CHUNKED_ERROR, "", 2},
    {"error: 17 hex digits", "00000000000000001\r\n", CHUNKED_ERROR, "", 16},
};

struct sink {
    struct dynbuf out;
};

static void collect(void *ctx, const char *buf, size_t len)
{
    struct sink *s = ctx;
    assert_int_equal(dynbuf_add(&s->out, buf, len), 0);
}

/* Feed `in` in the pieces given by the split points, stopping at DONE or ERROR. */
static int feed_pieces(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                       struct chunked *c, struct sink *s, size_t *used_total)
{
    size_t start = 0;
    int st = CHUNKED_MORE;
    *used_total = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        size_t used = 0;
        st = chunked_feed(c, in + start, end - start, &used, collect, s);
        *used_total += used;
        if (st != CHUNKED_MORE)
            return st;
        assert_int_equal(used, end - start);
        start = end;
    }
    return st;
}

static void check(const struct chunk_case *tc, int st, const struct chunked *c,
                  const struct sink *s, size_t used, const char *how)
{
    const char *got = s->out.mem ? s->out.mem : "";
    if (st != tc->want_status || strcmp(got, tc->want_out) != 0 || used != tc->want_used) {
        fail_msg("%s (%s): status %d want %d, used %zu want %zu, out '%s' want '%s'",
                 tc->name, how, st, tc->want_status, used, tc->want_used, got,
                 tc->want_out);
    }
    assert_int_equal(c->payload_bytes, strlen(tc->want_out));
    assert_int_equal(c->payload_bytes + c->framing_bytes, used);
}

static void run_case(const struct chunk_case *tc)
{
    size_t len = strlen(tc->in);
    struct chunked c;
    struct sink s;
    size_t used;

    /* whole */
    chunked_init(&c);
    dynbuf_init(&s.out, 1 << 20);
    int st = feed_pieces(tc->in, len, NULL, 0, &c, &s, &used);
    check(tc, st, &c, &s, used, "whole");
    dynbuf_free(&s.out);

    /* byte by byte */
    chunked_init(&c);
    dynbuf_init(&s.out, 1 << 20);
    st = CHUNKED_MORE;
    used = 0;
    for (size_t i = 0; i < len && st == CHUNKED_MORE; i++) {
        size_t u = 0;
        st = chunked_feed(&c, tc->in + i, 1, &u, collect, &s);
        used += u;
    }
    check(tc, st, &c, &s, used, "byte by byte");
    dynbuf_free(&s.out);

    /* every split, with an empty feed at the split point */
    for (size_t at = 0; at <= len; at++) {
        size_t cuts[2] = {at, at};
        char how[32];
        snprintf(how, sizeof(how), "split at %zu", at);
        chunked_init(&c);
        dynbuf_init(&s.out, 1 << 20);
        st = feed_pieces(tc->in, len, cuts, 2, &c, &s, &used);
        check(tc, st, &c, &s, used, how);
        dynbuf_free(&s.out);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* After DONE the decoder uses no more bytes; after ERROR it stays in error. */
static void test_sticky_end_states(void **state)
{
    (void)state;
    struct chunked c;
    size_t used = 99;
    chunked_init(&c);
    assert_int_equal(chunked_feed(&c, "0\r\n\r\n", 5, &used, NULL, NULL), CHUNKED_DONE);
    assert_int_equal(chunked_feed(&c, "5\r\n", 3, &used, NULL, NULL), CHUNKED_DONE);
    assert_int_equal(used, 0);

    chunked_init(&c);
    assert_int_equal(chunked_feed(&c, "zz", 2, &used, NULL, NULL), CHUNKED_ERROR);
    assert_int_equal(chunked_feed(&c, "5\r\n", 3, &used, NULL, NULL), CHUNKED_ERROR);
    assert_int_equal(used, 0);
}

/* The largest size the grammar allows here (16 hex digits) is accepted. */
static void test_max_size(void **state)
{
    (void)state;
    struct chunked c;
    size_t used = 0;
    chunked_init(&c);
    assert_int_equal(chunked_feed(&c, "ffffffffffffffff\r\nab", 20, &used, NULL, NULL),
                     CHUNKED_MORE);
    assert_int_equal(c.remaining, UINT64_MAX - 2);
    assert_int_equal(c.payload_bytes, 2);
    assert_int_equal(c.framing_bytes, 18);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_sticky_end_states),
        cmocka_unit_test(test_max_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
