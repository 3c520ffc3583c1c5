/* test_redis_stream.c: reading the feed's entries out of Redis replies, without Redis.
 *
 * The replies are made the way hiredis makes them from the wire: RESP text fed to
 * hiredis's own reader, whole and byte by byte, so the shapes are exactly those a real
 * XRANGE or XREAD answer has.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "servers/redis_stream.h"

/* The reply RESP text makes, fed in pieces of `step` bytes (0: whole). The caller frees
 * it with freeReplyObject. */
static redisReply *reply_of(const char *resp, size_t step)
{
    redisReader *rd = redisReaderCreate();
    size_t len = strlen(resp);
    void *reply = NULL;
    for (size_t off = 0; off < len && !reply;) {
        size_t n = step && len - off > step ? step : len - off;
        assert_int_equal(redisReaderFeed(rd, resp + off, n), REDIS_OK);
        off += n;
        assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    }
    redisReaderFree(rd);
    assert_non_null(reply);
    return reply;
}

/* XRANGE's answer: two entries, fields in either order, an extra field ignored. */
static const char xrange[] = "*2\r\n"
                             "*2\r\n$3\r\n7-0\r\n*4\r\n$2\r\nts\r\n$3\r\n123\r\n"
                             "$4\r\ndata\r\n$5\r\nh\"llo\r\n"
                             "*2\r\n$3\r\n8-0\r\n*6\r\n$4\r\ndata\r\n$0\r\n\r\n"
                             "$2\r\nts\r\n$3\r\n124\r\n$3\r\nnew\r\n$1\r\nx\r\n";

static void entries_of_xrange(void **state)
{
    (void)state;
    for (size_t step = 0; step <= 3; step++) {
        redisReply *r = reply_of(xrange, step);
        const redisReply *entries;
        size_t n;
        char err[128];
        assert_int_equal(redis_stream_entries(r, false, &entries, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 2);
        struct feed_entry e;
        assert_int_equal(redis_stream_entry(entries->element[0], &e, err, sizeof(err)), 0);
        assert_int_equal(e.seq, 7);
        assert_int_equal(e.ts_ns, 123);
        assert_int_equal(e.len, 5);
        assert_memory_equal(e.data, "h\"llo", 5);
        assert_int_equal(redis_stream_entry(entries->element[1], &e, err, sizeof(err)), 0);
        assert_int_equal(e.seq, 8);
        assert_int_equal(e.ts_ns, 124);
        assert_int_equal(e.len, 0);
        freeReplyObject(r);
    }
}

static void entries_of_xread(void **state)
{
    (void)state;
    const char *nil = "*-1\r\n"; /* BLOCK ran out */
    redisReply *r = reply_of(nil, 0);
    const redisReply *entries;
    size_t n = 9;
    char err[128];
    assert_int_equal(redis_stream_entries(r, true, &entries, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    freeReplyObject(r);
    const char *one =
        "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n"
        "*2\r\n$4\r\n10-0\r\n*4\r\n$2\r\nts\r\n$1\r\n5\r\n$4\r\ndata\r\n$1\r\nz\r\n";
    r = reply_of(one, 1);
    assert_int_equal(redis_stream_entries(r, true, &entries, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    struct feed_entry e;
    assert_int_equal(redis_stream_entry(entries->element[0], &e, err, sizeof(err)), 0);
    assert_int_equal(e.seq, 10);
    freeReplyObject(r);
    r = reply_of(xrange, 0); /* an XRANGE shape is no XREAD answer */
    assert_int_equal(redis_stream_entries(r, true, &entries, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "XREAD: expected nil or [[key, [entries]]]"));
    freeReplyObject(r);
}

/* Entries pushpull did not write are refused with the reason. */
static void malformed_entries_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *resp, *why;
    } cases[] = {
        {"*2\r\n$15\r\n1700000000000-1\r\n*4\r\n$2\r\nts\r\n$1\r\n1\r\n$4\r\ndata\r\n$"
         "1\r\nx\r\n",
         "expected the id <seq>-0"},
        {"*2\r\n$3\r\n0-0\r\n*4\r\n$2\r\nts\r\n$1\r\n1\r\n$4\r\ndata\r\n$1\r\nx\r\n",
         "expected the id <seq>-0"},
        {"*2\r\n$4\r\n07-0\r\n*4\r\n$2\r\nts\r\n$1\r\n1\r\n$4\r\ndata\r\n$1\r\nx\r\n",
         "expected the id <seq>-0"},
        {"*2\r\n$3\r\n1-0\r\n*2\r\n$4\r\ndata\r\n$1\r\nx\r\n",
         "expected the fields ts and data"},
        {"*2\r\n$3\r\n1-0\r\n*4\r\n$2\r\nts\r\n$2\r\n-1\r\n$4\r\ndata\r\n$1\r\nx\r\n",
         "ts: expected nanoseconds"},
        {"*2\r\n$3\r\n1-0\r\n*4\r\n$2\r\nts\r\n$20\r\n99999999999999999999\r\n$"
         "4\r\ndata\r\n$"
         "1\r\nx\r\n",
         "ts: expected nanoseconds"},
        {"*2\r\n$3\r\n1-0\r\n*4\r\n$2\r\nts\r\n$1\r\n1\r\n$4\r\ndata\r\n$1\r\n\xff\r\n",
         "data: expected UTF-8"},
        {"*2\r\n$3\r\n1-0\r\n*3\r\n$2\r\nts\r\n$1\r\n1\r\n$4\r\ndata\r\n",
         "expected an entry [id, [field, value, ...]]"},
        {"$3\r\n1-0\r\n", "expected an entry"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redisReply *r = reply_of(cases[i].resp, 0);
        struct feed_entry e;
        char err[160];
        if (redis_stream_entry(r, &e, err, sizeof(err)) != -1 || !strstr(err, cases[i].why))
            fail_msg("case %zu: expected \"%s\", got \"%s\"", i, cases[i].why, err);
        freeReplyObject(r);
    }
    assert_int_equal(redis_stream_id_seq("42-0", 4), 42);
    assert_int_equal(redis_stream_id_seq("42-00", 5), 0);
    assert_int_equal(redis_stream_id_seq("9223372036854775808-0", 21), 0); /* > INT64_MAX */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entries_of_xrange),
        cmocka_unit_test(entries_of_xread),
        cmocka_unit_test(malformed_entries_are_refused),
    };
    return cmocka_run_group_tests_name("redis_stream", tests, NULL, NULL);
}
