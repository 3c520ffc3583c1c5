/* test_update_json.c: unit tests for reading the server's replies (clients/update_json.c):
 * both shapes, the "no update yet" reply, the reset flag, and every malformed variant the
 * client must refuse rather than misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
