/* test_units.c: command-line values with units. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "units.h"

static void durations(void **state)
{
    (void)state;
    int64_t ns = -1;
    assert_int_equal(units_parse_duration_ns("250ms", NS_PER_S, &ns), 0);
    assert_int_equal(ns, 250 * NS_PER_MS);
    assert_int_equal(units_parse_duration_ns("30", NS_PER_S, &ns), 0);
    assert_int_equal(ns, 30 * NS_PER_S);
    assert_int_equal(units_parse_duration_ns("1.5s", NS_PER_S, &ns), 0);
    assert_int_equal(ns, 1500 * NS_PER_MS);
    assert_int_equal(units_parse_duration_ns("2m", NS_PER_S, &ns), 0);
    assert_int_equal(ns, 120 * NS_PER_S);
    assert_int_equal(units_parse_duration_ns("1h", NS_PER_S, &ns), 0);
    assert_int_equal(units_parse_duration_ns("10us", NS_PER_S, &ns), 0);
    assert_int_equal(ns, 10 * NS_PER_US);
    assert_int_equal(units_parse_duration_ns("3000", NS_PER_MS, &ns), 0);
    assert_int_equal(ns, 3 * NS_PER_S);
    ns = 7;
    const char *bad[] = {"",    "-1s", "+1s",  "1x",     "s",    "1 s",
                         "inf", "nan", "0x10", "1e300h", "1sec", " 1s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(units_parse_duration_ns(bad[i], NS_PER_S, &ns), -1);
    assert_int_equal(ns, 7); /* untouched on error */
}

static void counts_numbers_bitrates(void **state)
{
    (void)state;
    uint64_t n = 0;
    assert_int_equal(units_parse_count("10k", &n), 0);
    assert_int_equal(n, 10000);
    assert_int_equal(units_parse_count("2M", &n), 0);
    assert_int_equal(n, 2000000);
    assert_int_equal(units_parse_count("1.5k", &n), 0);
    assert_int_equal(n, 1500);
    assert_int_equal(units_parse_count("1.5", &n), -1);
    assert_int_equal(units_parse_count("-3", &n), -1);
    assert_int_equal(units_parse_count("3m", &n), -1);
    double d = 0;
    assert_int_equal(units_parse_number("0.5", &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(units_parse_number("fast", &d), -1);
    assert_int_equal(units_parse_bitrate("1mbit", &n), 0);
    assert_int_equal(n, 1000000);
    assert_int_equal(units_parse_bitrate("512kbit", &n), 0);
    assert_int_equal(n, 512000);
    assert_int_equal(units_parse_bitrate("1mb", &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations),
        cmocka_unit_test(counts_numbers_bitrates),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
