/* test_numfmt.c: numbers for people (lab/numfmt.c): never exponent notation, grouped
 * thousands, "≈0" and "-". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "lab/numfmt.h"

static void check(double v, int sig, const char *want)
{
    char buf[NUMFMT_LEN];
    assert_string_equal(numfmt(buf, sizeof(buf), v, sig), want);
    assert_null(strchr(buf, 'e'));
}

static void significant_digits_without_exponents(void **state)
{
    (void)state;
    check(1970, 3, "1970");
    check(3000, 3, "3000");
    check(1968.4, 3, "1970");
    check(92.54, 3, "92.5");
    check(7.94, 3, "7.94");
    check(0.0421, 3, "0.0421");
    check(0.2, 3, "0.2");
    check(1, 3, "1");
    check(10000, 9, "10,000");
    check(5, 6, "5");
    check(20.04, 3, "20");
    check(1.5, 3, "1.5");
    check(-0.0001, 2, "-0.0001");
    check(0.00042, 2, "0.00042");
    check(-12.34, 3, "-12.3");
    check(999.6, 3, "1000");
    check(0, 3, "0");
    check(1e-9, 3, "≈0");
    check(NAN, 3, "-");
    check(INFINITY, 3, "-");
}

static void thousands_are_grouped(void **state)
{
    (void)state;
    check(9999, 4, "9999");
    check(50000, 3, "50,000");
    check(1234567, 7, "1,234,567");
    check(1234567, 3, "1,230,000");
    check(-2500000, 2, "-2,500,000");
    check(12345.678, 7, "12,345.68");
    check(1e15, 3, "1,000,000,000,000,000");
}

static void percentages(void **state)
{
    (void)state;
    char buf[NUMFMT_LEN];
    assert_string_equal(numfmt_int(buf, sizeof(buf), 447548.04), "447,548");
    assert_string_equal(numfmt_int(buf, sizeof(buf), 97.6), "98");
    assert_string_equal(numfmt_int(buf, sizeof(buf), NAN), "-");
    assert_string_equal(numfmt_pct(buf, sizeof(buf), 0.0321, 2), "3.2%");
    assert_string_equal(numfmt_pct(buf, sizeof(buf), 0.475, 3), "47.5%");
    assert_string_equal(numfmt_pct(buf, sizeof(buf), 0, 2), "0%");
    assert_string_equal(numfmt_pct(buf, sizeof(buf), 1, 3), "100%");
    assert_string_equal(numfmt_pct(buf, sizeof(buf), 0.004, 1), "0.4%");
    assert_string_equal(numfmt_pct(buf, sizeof(buf), NAN, 2), "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(significant_digits_without_exponents),
        cmocka_unit_test(thousands_are_grouped),
        cmocka_unit_test(percentages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
