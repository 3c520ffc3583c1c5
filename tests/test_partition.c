/* test_partition.c: unit tests for --partition's arithmetic (clients/partition.c).
 *
 * For every population up to 300 and every N up to 17, the N partitions' users are the
 * population exactly once each (their counts add up, their global ids cover 0..total-1
 * without a repeat); a user's seed depends on its global id and --seed only, so it is the
 * same whichever partition runs it; and "I/N" is parsed, or refused with one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clients/partition.h"

static void test_partitions_cover_the_population(void **state)
{
    (void)state;
    for (uint32_t total = 1; total <= 300; total++) {
        bool *seen = calloc(total, sizeof(*seen));
        assert_non_null(seen);
        for (uint32_t n = 1; n <= 17; n++) {
            memset(seen, 0, total * sizeof(*seen));
            uint32_t users = 0;
            for (uint32_t i = 1; i <= n; i++) {
                uint32_t here = partition_users(total, i, n);
                users += here;
                for (uint32_t k = 0; k < here; k++) {
                    uint32_t gid = partition_global_id(i, n, k);
                    assert_true(gid < total);
                    assert_int_equal(gid % n, i - 1);
                    assert_false(seen[gid]);
                    seen[gid] = true;
                }
            }
            assert_int_equal(users, total);
        }
        free(seen);
    }
    assert_int_equal(partition_users(3, 5, 5), 0); /* more partitions than users */
    assert_int_equal(partition_users(200000, 1, 1), 200000);
}

static void test_user_seed_is_the_users_own(void **state)
{
    (void)state;
    /* global user 6 is local 6 of 1/1, local 3 of 1/2, local 2 of 1/3, local 1 of 2/4 */
    assert_int_equal(partition_global_id(1, 1, 6), 6);
    assert_int_equal(partition_global_id(1, 2, 3), 6);
    assert_int_equal(partition_global_id(1, 3, 2), 6);
    assert_int_equal(partition_global_id(3, 4, 1), 6);
    uint64_t s = partition_user_seed(42, 6);
    assert_true(s == partition_user_seed(42, 6));
    assert_true(s != partition_user_seed(42, 7));
    assert_true(s != partition_user_seed(43, 6));
    /* neighbours differ in about half their bits */
    int bits = __builtin_popcountll(partition_user_seed(1, 0) ^ partition_user_seed(1, 1));
    assert_true(bits > 16 && bits < 48);
}

static void test_parse(void **state)
{
    (void)state;
    uint32_t i = 0, n = 0;
    char err[200];
    assert_int_equal(partition_parse("2/4", &i, &n, err, sizeof(err)), 0);
    assert_true(i == 2 && n == 4);
    assert_int_equal(partition_parse("1024/1024", &i, &n, err, sizeof(err)), 0);
    static const char *const bad[] = {"",     "1",    "/2",     "1/",           "0/1",
                                      "2/1",  "1/0",  "1/1025", "-1/2",         "1/2/3",
                                      " 1/2", "1/2 ", "a/b",    "99999999999/1"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        err[0] = '\0';
        assert_int_equal(partition_parse(bad[k], &i, &n, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "--partition: expected I/N with 1 <= I <= N <= 1024"));
        assert_null(strchr(err, '\n'));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partitions_cover_the_population),
        cmocka_unit_test(test_user_seed_is_the_users_own),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests_name("partition", tests, NULL, NULL);
}
