/* test_update_scan.c: unit tests for the bench's update scanner (bench/update_scan.c):
 * the lab's shapes, what must not be taken for a member, malformed text, and a cross-check
 * against cJSON on generated long-poll answers with awkward data strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "bench/update_scan.h"
#include "dynbuf.h"
#include "rng.h"

struct found {
    int n;
    uint64_t seq[16];
    int64_t ts[16];
    int64_t pub[16];
};

static void collect(void *ctx, const struct update_found *u)
{
    struct found *f = ctx;
    assert_true(f->n < 16);
    f->seq[f->n] = u->seq;
    f->ts[f->n] = u->ts_ns;
    f->pub[f->n] = u->pub_ns;
    f->n++;
}

static int scan(const char *s, struct found *f, struct update_scan_result *res)
{
    memset(f, 0, sizeof(*f));
    return update_scan(s, strlen(s), collect, f, res);
}

static void test_one_update(void **state)
{
    (void)state;
    struct found f;
    struct update_scan_result res;
    assert_int_equal(
        scan("{\"seq\":42,\"ts_ns\":1763700000123456789,\"data\":\"hello\"}", &f, &res), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.seq[0], 42);
    assert_true(f.ts[0] == INT64_C(1763700000123456789));
    assert_int_equal(res.updates, 1);
    assert_false(res.has_next);
    assert_false(res.reset);
}

static void test_long_poll_answer(void **state)
{
    (void)state;
    struct found f;
    struct update_scan_result res;
    assert_int_equal(
        scan(" { \"next\" : 9 , \"events\" : [ {\"seq\":7,\"ts_ns\":70,\"data\":"
             "\"a\"}, {\"data\":\"b\", \"ts_ns\" : 80 , \"seq\" : 8} ] }\n",
             &f, &res),
        0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.seq[0], 7);
    assert_int_equal(f.ts[0], 70);
    assert_int_equal(f.seq[1], 8);
    assert_int_equal(f.ts[1], 80);
    assert_true(res.has_next);
    assert_int_equal(res.next, 9);
    assert_int_equal(scan("{\"next\":3,\"events\":[],\"reset\":true}", &f, &res), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(res.next, 3);
    assert_true(res.reset);
}

/* Members named inside strings, or in the wrong place, are not members. */
static void test_not_members(void **state)
{
    (void)state;
    struct found f;
    struct update_scan_result res;
    /* an escaped update inside data */
    assert_int_equal(scan("{\"data\":\"{\\\"seq\\\":1,\\\"ts_ns\\\":5}\"}", &f, &res), 0);
    assert_int_equal(f.n, 0);
    /* a backslash at the end of a string does not escape the closing quote */
    assert_int_equal(scan("{\"data\":\"x\\\\\",\"ts_ns\":6}", &f, &res), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.ts[0], 6);
    /* "next" inside an event is not the cursor; "ts_ns" as a value is not a member */
    assert_int_equal(
        scan("{\"events\":[{\"next\":4,\"ts_ns\":1}],\"x\":\"ts_ns\"}", &f, &res), 0);
    assert_int_equal(f.n, 1);
    assert_false(res.has_next);
    /* a string ts_ns, a negative one, and one of 20 digits are not stamps */
    assert_int_equal(
        scan("[{\"ts_ns\":\"5\"},{\"ts_ns\":-5},{\"ts_ns\":12345678901234567890}]", &f,
             &res),
        0);
    assert_int_equal(f.n, 0);
    /* in an array, a string followed by ':' is not a member */
    assert_int_equal(scan("[\"ts_ns\", 5]", &f, &res), 0);
    assert_int_equal(f.n, 0);
}

/* The publisher's stamp: a "pub_ns" member, or the start of the data string. */
static void test_publisher_stamp(void **state)
{
    (void)state;
    struct found f;
    assert_int_equal(scan("{\"seq\":1,\"ts_ns\":10,\"pub_ns\":7}", &f, NULL), 0);
    assert_int_equal(f.pub[0], 7);
    /* the lab server's update of the bench's publish, and nchan's relay of it */
    assert_int_equal(
        scan("{\"seq\":2,\"ts_ns\":20,\"data\":\"pub_ns=1764000000123456789;abcdef\"}", &f,
             NULL),
        0);
    assert_int_equal(f.n, 1);
    assert_true(f.pub[0] == INT64_C(1764000000123456789));
    assert_int_equal(f.ts[0], 20);
    /* in a long-poll answer, each event its own */
    assert_int_equal(
        scan("{\"next\":3,\"events\":[{\"seq\":1,\"ts_ns\":1,\"data\":\"pub_ns=5;"
             "\"},{\"seq\":2,\"ts_ns\":2,\"data\":\"x\"}]}",
             &f, NULL),
        0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.pub[0], 5);
    assert_int_equal(f.pub[1], 0);
    /* not at the start, no digits, or a data that is not a string: no stamp */
    assert_int_equal(
        scan("[{\"ts_ns\":1,\"data\":\"x pub_ns=5\"},{\"ts_ns\":1,\"data\":\"pub_"
             "ns=\"},{\"ts_ns\":1,\"data\":5}]",
             &f, NULL),
        0);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.pub[0] + f.pub[1] + f.pub[2], 0);
    /* a data string cut after its prefix is still skipped whole */
    assert_int_equal(scan("{\"ts_ns\":1,\"data\":\"pub_ns=12", &f, NULL), -1);
}

/* Nested objects: each object answers for its own members. */
static void test_nesting(void **state)
{
    (void)state;
    struct found f;
    assert_int_equal(scan("{\"seq\":3,\"inner\":{\"ts_ns\":5},\"ts_ns\":9}", &f, NULL), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.seq[0], 0); /* the inner object has no seq */
    assert_int_equal(f.ts[0], 5);
    assert_int_equal(f.seq[1], 3);
    assert_int_equal(f.ts[1], 9);
}

static void test_malformed(void **state)
{
    (void)state;
    struct found f;
    const char *bad[] = {
        "{\"seq\":1,\"ts_ns\":2",              /* not closed */
        "{\"data\":\"open}",                   /* unterminated string */
        "{\"a\":1]",                           /* wrong closer */
        "]",                                   /* stray closer */
        "{} {}",                               /* two values */
        "{\"a\":1} x",                         /* junk after */
        "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", /* 17 levels */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (scan(bad[i], &f, NULL) != -1)
            fail_msg("accepted: %s", bad[i]);
    /* updates before the fault were still handed out */
    assert_int_equal(scan("[{\"ts_ns\":1},{\"ts_ns\":2}", &f, NULL), -1);
    assert_int_equal(f.n, 2);
    /* 16 levels are fine, and so are empty text and a bare scalar */
    assert_int_equal(scan("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", &f, NULL), 0);
    assert_int_equal(scan("", &f, NULL), 0);
    assert_int_equal(scan("  42 ", &f, NULL), 0);
}

/* Generated long-poll answers with data strings full of quotes, backslashes, braces and
 * fake members: the scanner finds what cJSON finds. Stamps stay below 2^53 so cJSON's
 * doubles hold them exactly. */
static void test_against_cjson(void **state)
{
    (void)state;
    static const char *const pieces[] = {"\\\"", "\\\\", "{", "}",     "[",
                                         "]",    ":",    ",", "ts_ns", "\\\"ts_ns\\\":1",
                                         "seq",  " ",    "x", "\\n"};
    struct rng rng;
    rng_seed(&rng, 14);
    for (int round = 0; round < 500; round++) {
        struct dynbuf b;
        dynbuf_init(&b, 1 << 20);
        int events = (int)(rng_next(&rng) % 5);
        dynbuf_addf(&b, "{\"next\":%d,\"events\":[", round);
        for (int e = 0; e < events; e++) {
            dynbuf_addf(&b, "%s{\"seq\":%d,\"ts_ns\":%llu,\"data\":\"", e ? "," : "", e + 1,
                        (unsigned long long)(rng_next(&rng) >> 12));
            int n = (int)(rng_next(&rng) % 12);
            for (int k = 0; k < n; k++)
                dynbuf_adds(&b,
                            pieces[rng_next(&rng) % (sizeof(pieces) / sizeof(*pieces))]);
            dynbuf_adds(&b, "\"}");
        }
        dynbuf_adds(&b, "]}");
        cJSON *doc = cJSON_Parse(b.mem);
        assert_non_null(doc);
        struct found f;
        struct update_scan_result res;
        assert_int_equal(scan(b.mem, &f, &res), 0);
        const cJSON *evs = cJSON_GetObjectItem(doc, "events");
        assert_int_equal(f.n, cJSON_GetArraySize(evs));
        for (int e = 0; e < f.n; e++) {
            const cJSON *ev = cJSON_GetArrayItem(evs, e);
            assert_int_equal(f.seq[e],
                             (uint64_t)cJSON_GetObjectItem(ev, "seq")->valuedouble);
            assert_int_equal(f.ts[e],
                             (int64_t)cJSON_GetObjectItem(ev, "ts_ns")->valuedouble);
        }
        assert_int_equal(res.next, (uint64_t)round);
        cJSON_Delete(doc);
        dynbuf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_update),    cmocka_unit_test(test_long_poll_answer),
        cmocka_unit_test(test_not_members),   cmocka_unit_test(test_publisher_stamp),
        cmocka_unit_test(test_nesting),       cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_against_cjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
