/* test_update_json.c: unit tests for reading the server's replies (clients/update_json.c):
 * both shapes, the "no update yet" reply, the reset flag, and every malformed variant the
 * client must refuse rather than misread; and the incremental reader: every reply read
 * whole, byte by byte and split at every point gives the same result, the byte cap wins
 * over everything, hostile shapes (deep nesting, a long array of 1s) fail early without
 * holding the text, and stamps are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/update_json.h"

static int parse_one(const char *s, struct update *u)
{
    return update_json_parse_one(s, strlen(s), u);
}

static void test_one(void **state)
{
    (void)state;
    struct update u;
    assert_int_equal(
        parse_one("{\"seq\":42,\"ts_ns\":1763700000123456789,\"data\":\"x\"}", &u), 0);
    assert_int_equal(u.seq, 42);
    /* doubles hold ts_ns to 256 ns (documented in update_json.h) */
    int64_t diff = u.ts_ns - INT64_C(1763700000123456789);
    assert_true(diff >= -128 && diff <= 128);
    assert_int_equal(parse_one("{\"seq\":0}", &u), 0);
    assert_int_equal(u.seq, 0);
    assert_int_equal(u.ts_ns, 0);
    const char *bad[] = {"",
                         "{",
                         "[]",
                         "{\"seq\":\"42\",\"ts_ns\":1}",
                         "{\"seq\":-1}",
                         "{\"seq\":1.5,\"ts_ns\":1}",
                         "{\"seq\":3}",
                         "{\"seq\":3,\"ts_ns\":0}",
                         "{\"ts_ns\":5}",
                         "{\"seq\":3,\"ts_ns\":true}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse_one(bad[i], &u) != -1)
            fail_msg("accepted '%s'", bad[i]);
}

struct seen {
    uint64_t seqs[8];
    int n;
};

static void collect(void *ctx, const struct update *u)
{
    struct seen *s = ctx;
    if (s->n < 8)
        s->seqs[s->n++] = u->seq;
}

static void test_events(void **state)
{
    (void)state;
    struct seen s = {.n = 0};
    uint64_t next = 0;
    bool reset = true;
    const char *ok = "{\"next\":9,\"events\":[{\"seq\":8,\"ts_ns\":100,\"data\":\"a\"},"
                     "{\"seq\":9,\"ts_ns\":200,\"data\":\"b\"}]}";
    assert_int_equal(update_json_parse_events(ok, strlen(ok), &next, &reset, collect, &s),
                     0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seqs[0], 8);
    assert_int_equal(s.seqs[1], 9);
    assert_int_equal(next, 9);
    assert_false(reset);

    const char *empty = "{\"next\":9,\"events\":[]}";
    s.n = 0;
    assert_int_equal(
        update_json_parse_events(empty, strlen(empty), &next, &reset, collect, &s), 0);
    assert_int_equal(s.n, 0);

    const char *gap = "{\"next\":30,\"reset\":true,\"events\":[{\"seq\":30,\"ts_ns\":5}]}";
    assert_int_equal(update_json_parse_events(gap, strlen(gap), &next, &reset, collect, &s),
                     0);
    assert_true(reset);
    assert_int_equal(next, 30);

    const char *bad[] = {"{\"events\":[]}",
                         "{\"next\":1}",
                         "{\"next\":1,\"events\":{}}",
                         "{\"next\":1,\"events\":[],\"reset\":1}",
                         "{\"next\":1,\"events\":[{\"seq\":0}]}",
                         "{\"next\":1,\"events\":[{\"seq\":2}]}",
                         "nonsense"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (update_json_parse_events(bad[i], strlen(bad[i]), &next, &reset, NULL, NULL) !=
            -1)
            fail_msg("accepted '%s'", bad[i]);
}

/* ---- the incremental reader -------------------------------------------------------- */

/* A digest of a finished reply: status, updates, next, reset. */
struct digest {
    enum update_read_status st;
    size_t n;
    uint64_t seqs[8];
    int64_t ts[8];
    char heads[8][UPDATE_HEAD_MAX + 1];
    uint64_t next;
    bool reset;
};

static void digest_of(struct update_reader *r, struct digest *d)
{
    memset(d, 0, sizeof(*d));
    d->st = update_reader_finish(r);
    const struct update *u = update_reader_updates(r, &d->n);
    for (size_t i = 0; i < d->n && i < 8; i++) {
        d->seqs[i] = u[i].seq;
        d->ts[i] = u[i].ts_ns;
        memcpy(d->heads[i], u[i].data_head, sizeof(d->heads[i]));
    }
    d->next = update_reader_next(r);
    d->reset = update_reader_reset(r);
}

/* Read text whole, byte by byte, and split at every point: the same digest each time. */
static void same_every_way(const char *text, enum update_shape shape, struct digest *out)
{
    size_t len = strlen(text);
    struct update_reader *r = update_reader_new(1 << 20);
    assert_non_null(r);
    update_reader_begin(r, shape);
    update_reader_feed(r, text, len);
    digest_of(r, out);
    struct digest d;
    update_reader_begin(r, shape);
    for (size_t i = 0; i < len; i++)
        update_reader_feed(r, text + i, 1);
    digest_of(r, &d);
    assert_memory_equal(&d, out, sizeof(d));
    for (size_t cut = 0; cut <= len; cut++) {
        update_reader_begin(r, shape);
        update_reader_feed(r, text, cut);
        update_reader_feed(r, text + cut, len - cut);
        digest_of(r, &d);
        if (memcmp(&d, out, sizeof(d)) != 0)
            fail_msg("'%s' split at %zu reads differently", text, cut);
    }
    update_reader_free(r);
}

static void test_incremental_every_split(void **state)
{
    (void)state;
    struct digest d;
    same_every_way(
        "{\"next\":9,\"reset\":true,\"events\":[{\"seq\":8,\"ts_ns\":"
        "1763700000123456789,\"data\":\"a \\\"q\\\" \\u00e9\\n\"},{\"x\":[1,-2.5e3,"
        "{\"seq\":0}],\"seq\":9,\"ts_ns\":200,\"data\":null}]} \r\n",
        UPDATE_SHAPE_EVENTS, &d);
    assert_int_equal(d.st, UPDATE_READ_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.seqs[0], 8);
    assert_int_equal(d.ts[0], INT64_C(1763700000123456789)); /* exact, not a double's */
    assert_int_equal(d.seqs[1], 9);
    assert_int_equal(d.next, 9);
    assert_true(d.reset);
    same_every_way(" {\"data\":{\"seq\":7},\"seq\":42,\"ts_ns\":5}", UPDATE_SHAPE_ONE, &d);
    assert_int_equal(d.st, UPDATE_READ_OK);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.seqs[0], 42); /* the nested "seq" is not the update's */
    same_every_way("{\"seq\":42,\"ts_ns\":5,\"data\":\"x\"", UPDATE_SHAPE_ONE, &d);
    assert_int_equal(d.st, UPDATE_READ_ERROR); /* the body ended inside the reply */
    same_every_way("{\"seq\":4,\"ts_ns\":5} x", UPDATE_SHAPE_ONE, &d);
    assert_int_equal(d.st, UPDATE_READ_ERROR); /* trailing garbage */
}

/* The head of a string "data" is kept, as written, up to the first escape or
 * UPDATE_HEAD_MAX bytes, whatever the split; other values of "data", and "data" outside
 * an update, leave it empty. */
static void test_data_head(void **state)
{
    (void)state;
    struct digest d;
    char text[1024];
    char long_data[200];
    memset(long_data, 'y', sizeof(long_data) - 1);
    long_data[sizeof(long_data) - 1] = '\0';
    snprintf(text, sizeof(text),
             "{\"next\":5,\"events\":["
             "{\"seq\":1,\"ts_ns\":1,\"data\":\"m 1a2b3c4d.17 3 123456789 xxxx\"},"
             "{\"data\":\"before \\\"q\\\" after\",\"seq\":2,\"ts_ns\":1},"
             "{\"seq\":3,\"ts_ns\":1,\"data\":{\"data\":\"nested\"}},"
             "{\"seq\":4,\"ts_ns\":1,\"data\":\"%s\"},"
             "{\"seq\":5,\"ts_ns\":1,\"data\":\"\",\"data\":\"second\"}]}",
             long_data);
    same_every_way(text, UPDATE_SHAPE_EVENTS, &d);
    assert_int_equal(d.st, UPDATE_READ_OK);
    assert_int_equal(d.n, 5);
    assert_string_equal(d.heads[0], "m 1a2b3c4d.17 3 123456789 xxxx");
    assert_string_equal(d.heads[1], "before ");
    assert_string_equal(d.heads[2], "");
    assert_int_equal(strlen(d.heads[3]), UPDATE_HEAD_MAX);
    assert_memory_equal(d.heads[3], long_data, UPDATE_HEAD_MAX);
    assert_string_equal(d.heads[4], "second");
    same_every_way("{\"seq\":9,\"ts_ns\":1,\"data\":\"hello\"}", UPDATE_SHAPE_ONE, &d);
    assert_string_equal(d.heads[0], "hello");
    same_every_way("{\"seq\":9,\"ts_ns\":1,\"data\":7}", UPDATE_SHAPE_ONE, &d);
    assert_int_equal(d.st, UPDATE_READ_OK);
    assert_string_equal(d.heads[0], "");
}

static void test_incremental_refuses(void **state)
{
    (void)state;
    const char *bad_one[] = {
        "{\"seq\":4,\"seq\":5,\"ts_ns\":1}",          /* a field twice */
        "{\"seq\":4,\"ts_ns\":9223372036854775808}",  /* past INT64_MAX */
        "{\"seq\":18446744073709551616,\"ts_ns\":1}", /* past UINT64_MAX */
        "{\"seq\":04,\"ts_ns\":1}",                   /* a leading zero */
        "{\"seq\":4e0,\"ts_ns\":1}",                  /* not written as digits */
        "{\"seq\":4,\"ts_ns\":1,\"data\":\"a\tb\"}",  /* a raw control character */
        "{\"seq\":4,\"ts_ns\":1,\"data\":\"\\x\"}",   /* a bad escape */
        "{\"seq\":4,\"ts_ns\":1,\"data\":tru}",       /* a bad literal */
        "{\"seq\":4,\"ts_ns\":1,}",                   /* a trailing comma */
        "{\"seq\":null}",
        "{\"seq\":true}",
        "1,1,1,1"};
    struct update u;
    for (size_t i = 0; i < sizeof(bad_one) / sizeof(bad_one[0]); i++)
        if (update_json_parse_one(bad_one[i], strlen(bad_one[i]), &u) != -1)
            fail_msg("accepted '%s'", bad_one[i]);
    uint64_t next;
    bool reset;
    const char *bad_events[] = {
        "{\"next\":1,\"events\":[1]}", "{\"next\":1,\"events\":[[]]}",
        "{\"next\":1,\"events\":[{\"seq\":1,\"ts_ns\":1}],"
        "\"events\":[]}",
        "{\"next\":1,\"reset\":null,\"events\":[]}", "{\"next\":-1,\"events\":[]}"};
    for (size_t i = 0; i < sizeof(bad_events) / sizeof(bad_events[0]); i++)
        if (update_json_parse_events(bad_events[i], strlen(bad_events[i]), &next, &reset,
                                     NULL, NULL) != -1)
            fail_msg("accepted '%s'", bad_events[i]);
}

/* Hostile bodies: nesting past the limit fails at that depth; an array of a million 1s
 * under the cap is read to its end holding nothing (the reply then fails for want of
 * "events"); 1s at the top fail at once, and past the cap are refused as too big even
 * after that error. */
static void test_incremental_hostile(void **state)
{
    (void)state;
    struct update_reader *r = update_reader_new(4 << 20);
    assert_non_null(r);
    char deep[UPDATE_JSON_MAX_DEPTH + 2];
    deep[0] = '{';
    memcpy(deep + 1, "\"x\":", 4);
    update_reader_begin(r, UPDATE_SHAPE_ONE);
    assert_int_equal(update_reader_feed(r, deep, 5), UPDATE_READ_OK);
    memset(deep, '[', sizeof(deep));
    assert_int_equal(update_reader_feed(r, deep, UPDATE_JSON_MAX_DEPTH - 1),
                     UPDATE_READ_OK);
    assert_int_equal(update_reader_feed(r, deep, 1), UPDATE_READ_ERROR);

    size_t big = (size_t)2 << 20;
    char *ones = malloc(big);
    assert_non_null(ones);
    for (size_t i = 0; i < big; i += 2)
        memcpy(ones + i, "1,", 2);
    update_reader_begin(r, UPDATE_SHAPE_EVENTS);
    assert_int_equal(update_reader_feed(r, "{\"next\":1,\"x\":[", 15), UPDATE_READ_OK);
    assert_int_equal(update_reader_feed(r, ones, big), UPDATE_READ_OK);
    /* the top closes without "events": refused there */
    assert_int_equal(update_reader_feed(r, "1]}", 3), UPDATE_READ_ERROR);

    update_reader_begin(r, UPDATE_SHAPE_ONE);
    assert_int_equal(update_reader_feed(r, ones, big), UPDATE_READ_ERROR);
    assert_int_equal(update_reader_feed(r, ones, big), UPDATE_READ_ERROR); /* = the cap */
    assert_int_equal(update_reader_feed(r, ones, 1), UPDATE_READ_TOO_BIG);
    assert_int_equal(update_reader_finish(r), UPDATE_READ_TOO_BIG);
    free(ones);

    /* the cap counts every byte: exactly the cap is fine, one more is not */
    struct update_reader *small = update_reader_new(20);
    assert_non_null(small);
    update_reader_begin(small, UPDATE_SHAPE_ONE);
    assert_int_equal(update_reader_feed(small, "{\"seq\":1,\"ts_ns\":2} ", 20),
                     UPDATE_READ_OK);
    assert_int_equal(update_reader_finish(small), UPDATE_READ_OK);
    update_reader_begin(small, UPDATE_SHAPE_ONE);
    assert_int_equal(update_reader_feed(small, "{\"seq\":1,\"ts_ns\":2}  ", 21),
                     UPDATE_READ_TOO_BIG);
    update_reader_free(small);
    update_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_incremental_every_split),
        cmocka_unit_test(test_data_head),
        cmocka_unit_test(test_incremental_refuses),
        cmocka_unit_test(test_incremental_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
