/* test_interval.c: 95% intervals (lab/interval.c) against values worked out
 * independently, and the spread of a latency histogram file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lab/interval.h"

#define near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void wilson_matches_the_textbook(void **state)
{
    (void)state;
    /* Brown, Cai and DasGupta's example shape: 0 of 10 gives [0, 0.2775] */
    struct interval iv = interval_wilson(0, 10);
    near(iv.lo, 0, 1e-12);
    near(iv.hi, 0.27753, 1e-4);
    /* 5 of 10: symmetric around 0.5, [0.2366, 0.7634] */
    iv = interval_wilson(0.5, 10);
    near(iv.lo, 0.23659, 1e-4);
    near(iv.hi, 0.76341, 1e-4);
    /* 1 of 1: [0.2065, 1] */
    iv = interval_wilson(1, 1);
    near(iv.lo, 0.20654, 1e-4);
    near(iv.hi, 1, 1e-12);
    assert_true(interval_contains(interval_wilson(0.03, 100), 0.05));
    assert_false(interval_contains(interval_wilson(0.03, 10000), 0.05));
    iv = interval_wilson(0, 3); /* 0 exactly, never a rounding error above it */
    assert_true(iv.lo == 0);
    iv = interval_wilson(0.5, 0);
    assert_true(isnan(iv.lo) && isnan(iv.hi));
    assert_false(interval_contains(iv, 0.5));
}

static void mean_is_normal_approximation(void **state)
{
    (void)state;
    struct interval iv = interval_mean(100, 20, 100); /* +- 1.96 * 2 */
    near(iv.lo, 100 - 3.919928, 1e-5);
    near(iv.hi, 100 + 3.919928, 1e-5);
    iv = interval_mean(100, 20, 1);
    assert_true(isnan(iv.lo));
}

static void effective_sample_is_the_smaller_cluster_count(void **state)
{
    (void)state;
    near(interval_effective_n(200, 45), 45, 0);
    near(interval_effective_n(5, 45), 5, 0);
    near(interval_effective_n(100, 0.5), 1, 0);
    near(interval_effective_n(100, 0), 0, 0);
    assert_true(isnan(interval_effective_n(NAN, 4)));
}

static void spread_from_the_histogram_file(void **state)
{
    (void)state;
    char path[] = "/tmp/pushpull-latency-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    /* two receipts at 10 ms, two at 30 ms (the fixed percentile rows repeat a count) */
    fputs("percentile,latency_us,latency_ms,count_at_or_below\n"
          "50.000,10000,10.000,2\n50.000,10000,10.000,2\n100.000,30000,30.000,4\n"
          "99.990,0,0.000,0\n",
          f);
    fclose(f);
    double mean, sd, count;
    assert_int_equal(interval_latency_spread(path, &mean, &sd, &count), 0);
    near(count, 4, 0);
    near(mean, 20, 1e-12);
    near(sd, sqrt(400.0 / 3), 1e-9); /* sample sd of 10, 10, 30, 30 */
    unlink(path);
    assert_int_equal(interval_latency_spread(path, &mean, &sd, &count), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wilson_matches_the_textbook),
        cmocka_unit_test(mean_is_normal_approximation),
        cmocka_unit_test(effective_sample_is_the_smaller_cluster_count),
        cmocka_unit_test(spread_from_the_histogram_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
