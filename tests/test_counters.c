/* test_counters.c: the client's counters (clients/counters.c): what each addition reaches
 * (the run, the window, the activity bin of its time) and how the threads' sets are
 * added up at the end: counters by value, outage maxima as maxima, activity bin by bin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clients/counters.h"
#include "clock.h"

static void additions_reach_run_window_and_bin(void **state)
{
    (void)state;
    char err[128];
    struct activity a;
    assert_int_equal(
        activity_init(&a, clock_mono_ns() - 250 * NS_PER_MS, NS_PER_S, err, sizeof(err)),
        0);
    struct counters c = {.activity = &a};
    counters_add(&c, CTR_DELIVERIES, 3, true);
    counters_add(&c, CTR_DELIVERIES, 2, false);
    counters_add(&c, CTR_RESP_HEADER_BYTES, 100, true); /* no activity column */
    assert_int_equal(c.run[CTR_DELIVERIES], 5);
    assert_int_equal(c.win[CTR_DELIVERIES], 3);
    assert_int_equal(c.win[CTR_RESP_HEADER_BYTES], 100);
    uint64_t binned = 0;
    for (size_t i = 0; i < a.nbins; i++)
        binned += a.bins[i][ACT_DELIVERIES];
    assert_int_equal(binned, 5);
    assert_int_equal(a.bins[2][ACT_DELIVERIES] + a.bins[3][ACT_DELIVERIES], 5);
    activity_free(&a);
}

static void threads_add_up_exactly(void **state)
{
    (void)state;
    char err[128];
    int64_t t0 = clock_mono_ns();
    struct activity total, part[3];
    assert_int_equal(activity_init(&total, t0, NS_PER_S, err, sizeof(err)), 0);
    struct counters sum = {.activity = &total};
    struct counters c[3];
    for (int t = 0; t < 3; t++) {
        assert_int_equal(activity_init(&part[t], t0, NS_PER_S, err, sizeof(err)), 0);
        c[t] = (struct counters){.activity = &part[t]};
        part[t].bins[t][ACT_REQUESTS] = (uint64_t)(10 * (t + 1));
        part[t].bins[9][ACT_ERRORS] = 1;
        part[t].unbinned = 2;
        c[t].run[CTR_REQUESTS] = (uint64_t)(100 + t);
        c[t].win[CTR_REQUESTS] = (uint64_t)t;
        c[t].outage_max_run_ns = (uint64_t)(t == 1 ? 700 : 5);
        c[t].outage_max_win_ns = (uint64_t)(t == 2 ? 90 : 1);
    }
    for (int t = 0; t < 3; t++) {
        counters_merge(&sum, &c[t]);
        activity_merge(&total, &part[t]);
    }
    assert_int_equal(sum.run[CTR_REQUESTS], 303);
    assert_int_equal(sum.win[CTR_REQUESTS], 3);
    assert_int_equal(sum.outage_max_run_ns, 700); /* maxima stay maxima */
    assert_int_equal(sum.outage_max_win_ns, 90);
    assert_ptr_equal(sum.activity, &total); /* the destination keeps its series */
    assert_int_equal(total.bins[0][ACT_REQUESTS], 10);
    assert_int_equal(total.bins[1][ACT_REQUESTS], 20);
    assert_int_equal(total.bins[2][ACT_REQUESTS], 30);
    assert_int_equal(total.bins[9][ACT_ERRORS], 3);
    assert_int_equal(total.unbinned, 6);
    for (int t = 0; t < 3; t++)
        activity_free(&part[t]);
    activity_free(&total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(additions_reach_run_window_and_bin),
        cmocka_unit_test(threads_add_up_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
