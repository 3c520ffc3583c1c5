/* test_radio.c: the cellular radio model (lab/radio.c) on timelines small enough to work
 * out by hand, with the LTE and 3G defaults, and traffic.csv read whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/radio.h"

#define near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* LTE, Huang et al. Table 3: promotion 0.2601 s at 1.2107 W, tail 11.576 s at 1.060 W,
 * idle 0.5943 W x 43.2/1280.2. Transfers of 0 bytes take no time. */
static const double pro_s = 0.2601, pro_w = 1.2107, tail_s = 11.576, tail_w = 1.060;

static double idle_w(void)
{
    return 0.5943 * 43.2 / 1280.2;
}

static void lte_defaults_are_the_papers(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    near(p.promotion_s, pro_s, 1e-12);
    near(p.promotion_w, pro_w, 1e-12);
    near(p.tail_s, tail_s, 1e-12);
    near(p.tail_w, tail_w, 1e-12);
    near(p.beta_w, 1.28804, 1e-12);
    near(p.alpha_up_w, 0.43839, 1e-12);
    near(p.alpha_down_w, 0.05197, 1e-12);
    near(p.idle_w, 0.020054, 1e-6); /* about 20 mW */
    assert_true(p.tail2_s == 0);
    assert_string_equal(radio_model_name(RADIO_LTE), "lte");
    assert_string_equal(radio_model_name(RADIO_3G), "3g");
}

static void nothing_sent_costs_idle_only(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    struct radio_sim s;
    radio_sim_init(&s, &p, 0);
    struct radio_result r = radio_sim_at(&s, 3600);
    near(r.duration_s, 3600, 1e-9);
    near(r.promotions, 0, 0);
    near(r.high_s, 0, 0);
    near(r.energy_j, 3600 * idle_w(), 1e-9);
    near(radio_traffic_j_per_hour(r), 0, 1e-9);
}

static void one_burst_is_a_promotion_and_a_tail(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    struct radio_sim s;
    radio_sim_init(&s, &p, 0);
    radio_sim_burst(&s, 10, 0, 0);
    struct radio_result r = radio_sim_at(&s, 100);
    near(r.promotions, 1, 0);
    near(r.high_s, pro_s + tail_s, 1e-9);
    double want = pro_s * pro_w + tail_s * tail_w + (100 - pro_s - tail_s) * idle_w();
    near(r.energy_j, want, 1e-9);
    /* above idle: 0.2601 * (1.2107 - 0.02005) + 11.576 * (1.060 - 0.02005) */
    near(r.energy_j - r.idle_j, pro_s * (pro_w - idle_w()) + tail_s * (tail_w - idle_w()),
         1e-9);
}

static void a_burst_inside_the_tail_rides_it(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    struct radio_sim s;
    radio_sim_init(&s, &p, 0);
    radio_sim_burst(&s, 0, 0, 0);
    radio_sim_burst(&s, 5, 0, 0); /* 5 s in: the tail is running */
    struct radio_result r = radio_sim_at(&s, 60);
    near(r.promotions, 1, 0);
    /* high from 0 to 5 + 11.576 */
    near(r.high_s, 5 + tail_s, 1e-9);
    double want =
        pro_s * pro_w + (5 + tail_s - pro_s) * tail_w + (60 - 5 - tail_s) * idle_w();
    near(r.energy_j, want, 1e-9);
    /* and one after the tail has ended wakes the radio again */
    radio_sim_burst(&s, 60, 0, 0);
    r = radio_sim_at(&s, 120);
    near(r.promotions, 2, 0);
    near(r.high_s, 5 + tail_s + pro_s + tail_s, 1e-9);
}

static void polling_faster_than_the_tail_never_sleeps(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    struct radio_sim s;
    radio_sim_init(&s, &p, 0);
    for (int k = 0; k < 360; k++) /* every 10 s for an hour */
        radio_sim_burst(&s, 10.0 * k, 0, 0);
    struct radio_result r = radio_sim_at(&s, 3600);
    near(r.promotions, 1, 0);
    near(r.high_s, 3600, 1e-6); /* the last tail runs past the hour: cut there */
    /* every 60 s: one wake-up each, 11.836 s high each */
    radio_sim_init(&s, &p, 0);
    for (int k = 0; k < 60; k++)
        radio_sim_burst(&s, 60.0 * k, 0, 0);
    r = radio_sim_at(&s, 3600);
    near(r.promotions, 60, 0);
    near(r.high_s, 60 * (pro_s + tail_s), 1e-6);
    near(radio_per_hour(r).high_s, 60 * (pro_s + tail_s), 1e-6);
}

static void bytes_take_time_at_the_link_rate(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    struct radio_sim s;
    radio_sim_init(&s, &p, 0);
    /* 6 Mbit/s up: 750,000 bytes take 1 s; 13 Mbit/s down: 1,625,000 bytes take 1 s */
    radio_sim_burst(&s, 0, 750000, 1625000);
    struct radio_result r = radio_sim_at(&s, 100);
    near(r.high_s, pro_s + 2 + tail_s, 1e-9);
    double up_w = 1.28804 + 0.43839 * 6, down_w = 1.28804 + 0.05197 * 13;
    double want = pro_s * pro_w + up_w + down_w + tail_s * tail_w +
                  (100 - pro_s - 2 - tail_s) * idle_w();
    near(r.energy_j, want, 1e-9);
    /* a burst during the transfer waits for it, and the tail starts after both */
    radio_sim_init(&s, &p, 0);
    radio_sim_burst(&s, 0, 750000, 0);
    radio_sim_burst(&s, 0.5, 750000, 0);
    r = radio_sim_at(&s, 100);
    near(r.promotions, 1, 0);
    near(r.high_s, pro_s + 2 + tail_s, 1e-9);
}

static void three_g_has_two_tails(void **state)
{
    (void)state;
    struct radio_params p;
    radio_defaults(RADIO_3G, &p);
    near(p.tail_s + p.tail2_s, 14, 1e-12);
    struct radio_sim s;
    radio_sim_init(&s, &p, 0);
    radio_sim_burst(&s, 0, 0, 0); /* promotion 2 s at 0.65 W, DCH 4 s, FACH 10 s */
    struct radio_result r = radio_sim_at(&s, 100);
    near(r.promotions, 1, 0);
    near(r.high_s, 2 + 4 + 10, 1e-9);
    near(r.energy_j, 2 * 0.65 + 4 * 1.30 + 10 * 0.30, 1e-9);
    /* a burst in FACH (at 2 + 4 + 3 = 9 s) promotes from FACH: 1.5 s at 0.80 W */
    radio_sim_init(&s, &p, 0);
    radio_sim_burst(&s, 0, 0, 0);
    radio_sim_burst(&s, 9, 0, 0);
    r = radio_sim_at(&s, 100);
    near(r.promotions, 2, 0);
    near(r.high_s, 9 + 1.5 + 4 + 10, 1e-9);
    near(r.energy_j, 2 * 0.65 + 4 * 1.30 + 3 * 0.30 + 1.5 * 0.80 + 4 * 1.30 + 10 * 0.30,
         1e-9);
}

static void traffic_csv_per_user_over_the_window(void **state)
{
    (void)state;
    char path[] = "/tmp/pushpull-traffic-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    /* user 1: a burst in the warm-up (its tail reaches into the window) and one at 30 s;
     * user 2: two bursts 5 s apart; rows out of order on purpose */
    fputs("user,t_ms,bytes_up,bytes_down\n2,5000,0,0\n1,30000,0,0\n1,-5000,0,0\n"
          "2,0,0,0\n",
          f);
    fclose(f);
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    struct radio_result sum;
    double users;
    char err[256];
    assert_int_equal(radio_read_traffic(path, &p, 60, 1, &sum, &users, err, sizeof(err)),
                     0);
    near(users, 2, 0);
    near(sum.duration_s, 120, 1e-9);
    /* user 1: the warm-up burst's promotion is not the window's; its tail runs from 0 to
     * -5 + 0.2601 + 11.576; then a promotion at 30 s and a tail. User 2: one promotion,
     * high from 0 to 5 + 11.576. */
    near(sum.promotions, 2, 0);
    double u1 = (-5 + pro_s + tail_s) + pro_s + tail_s, u2 = 5 + tail_s;
    near(sum.high_s, u1 + u2, 1e-9);
    /* time compressed 2x: the 60 s window is 120 s of the full clock */
    assert_int_equal(radio_read_traffic(path, &p, 60, 2, &sum, &users, err, sizeof(err)),
                     0);
    near(sum.duration_s, 240, 1e-9);
    /* a bad row is named */
    f = fopen(path, "w");
    fputs("user,t_ms,bytes_up,bytes_down\n1,0,0,0\n1,abc,0,0\n", f);
    fclose(f);
    assert_int_equal(radio_read_traffic(path, &p, 60, 1, &sum, &users, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "line 3"));
    unlink(path);
    assert_int_equal(radio_read_traffic(path, &p, 60, 1, &sum, &users, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lte_defaults_are_the_papers),
        cmocka_unit_test(nothing_sent_costs_idle_only),
        cmocka_unit_test(one_burst_is_a_promotion_and_a_tail),
        cmocka_unit_test(a_burst_inside_the_tail_rides_it),
        cmocka_unit_test(polling_faster_than_the_tail_never_sleeps),
        cmocka_unit_test(bytes_take_time_at_the_link_rate),
        cmocka_unit_test(three_g_has_two_tails),
        cmocka_unit_test(traffic_csv_per_user_over_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
