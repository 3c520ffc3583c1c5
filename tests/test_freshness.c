/* test_freshness.c: unit tests for the client's accounting of updates (clients/freshness.c)
 * and counters (clients/counters.c): latency recording, missed and duplicate updates, the
 * window rule, and staleness against hand-computed integrals, including a stamp that only
 * arrives after the user's own receipt (the settle-later path).
 *
 * Times are small made-up nanosecond values; the window is [1000 s, 2000 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/counters.h"
#include "clients/freshness.h"
#include "clock.h"

#define S(x) ((int64_t)((x) * (double)NS_PER_S))
#define W0   S(1000)
#define W1   S(2000)

static void new_fresh(struct freshness *f)
{
    char err[64];
    assert_int_equal(freshness_init(f, W0, W1, err, sizeof(err)), 0);
}

static void test_counters_window_rule(void **state)
{
    (void)state;
    struct counters c;
    memset(&c, 0, sizeof(c));
    counters_add(&c, CTR_REQUESTS, 1, false);
    counters_add(&c, CTR_REQUESTS, 2, true);
    counters_add(&c, CTR_RESP_BODY_BYTES, 100, true);
    assert_int_equal(c.run[CTR_REQUESTS], 3);
    assert_int_equal(c.win[CTR_REQUESTS], 2);
    struct counters d;
    memset(&d, 0, sizeof(d));
    counters_merge(&d, &c);
    counters_merge(&d, &c);
    assert_int_equal(d.run[CTR_RESP_BODY_BYTES], 200);
    assert_int_equal(d.win[CTR_REQUESTS], 4);
    assert_string_equal(counters_name(CTR_REQ_HEADER_BYTES), "req_header_bytes");
    assert_string_equal(counters_name(CTR_CHUNK_FRAMING_BYTES), "framing_bytes");
    for (int k = 0; k < CTR__COUNT; k++)
        assert_non_null(counters_name((enum counter)k));
}

/* Every update received at once by an SSE-like user: latency, no staleness but in-flight.
 */
static void test_push_user(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, false);
    /* updates every 100 s from 900 s to 2100 s, received 1 ms after publishing */
    for (int k = 0; k <= 12; k++) {
        int64_t ts = S(900 + 100 * k);
        assert_int_equal(freshness_receive(&f, &u, (uint64_t)k + 1, ts, ts + NS_PER_MS), 1);
    }
    /* a duplicate of seq 5 (published at 1300 s, in the window) */
    assert_int_equal(freshness_receive(&f, &u, 5, S(1300), S(1300.5)), 0);
    freshness_finish_user(&f, &u);
    struct freshness_summary s;
    freshness_summarize(&f, &u, 1, &s);
    assert_int_equal(s.published, 10); /* 1000 .. 1900 */
    assert_int_equal(s.first_seq, 2);
    assert_int_equal(s.last_seq, 11);
    assert_int_equal(s.received, 10);
    assert_int_equal(s.missed, 0);
    assert_int_equal(s.duplicates, 1);
    assert_int_equal(hist_count(f.latency), 10);
    assert_int_equal(hist_min(f.latency), 1000);
    assert_int_equal(hist_max(f.latency), 1000);
    /* 10 in-window transits of 1 ms each: area 10 * (1ms)^2 / 2 over 1000 s */
    double want_ms = 10 * 0.5 * 1e-3 * 1e-3 / 1000.0 * 1e3;
    assert_true(fabs(s.staleness_mean_ms - want_ms) < 1e-9);
    freshness_user_free(&u);
    freshness_free(&f);
}

/* A state-mode poller: sees only some updates; missed and the age integral by hand. */
static void test_polling_user_staleness(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, true);
    /* the observer's stamps: seq k published at 1000 + 100*(k-1) s, k = 1..10 */
    for (int k = 1; k <= 10; k++)
        freshness_published(&f, (uint64_t)k, S(1000 + 100 * (k - 1)));
    /* the user knew seq 1 since before the window, then polls at 1550 s (gets 6) and
     * at 1950 s (gets 10) */
    freshness_receive(&f, &u, 1, S(1000), S(999)); /* impossible early receipt: fine */
    freshness_receive(&f, &u, 6, S(1500), S(1550));
    freshness_receive(&f, &u, 10, S(1900), S(1950));
    freshness_finish_user(&f, &u);
    struct freshness_summary s;
    freshness_summarize(&f, &u, 1, &s);
    assert_int_equal(s.published, 10);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.missed, 7);
    /* staleness: knew 1 over [1000, 1550): stale from p(2) = 1100: area 450^2/2;
     * knew 6 over [1550, 1950): p(7) = 1600: area 350^2/2; knew 10 over [1950, 2000):
     * nothing newer: 0 */
    double area = (450.0 * 450.0 + 350.0 * 350.0) / 2.0; /* s^2 */
    double want_ms = area / 1000.0 * 1e3;
    assert_true(fabs(s.staleness_mean_ms - want_ms) < 1e-6);
    assert_true(fabs(s.staleness_max_ms - want_ms) < 1e-6);
    assert_int_equal(s.unknown_stamps, 0);

    /* the timeline samples the same function */
    char buf[1 << 16];
    FILE *out = fmemopen(buf, sizeof(buf), "w");
    assert_non_null(out);
    assert_int_equal(freshness_write_timeline(&f, out, S(100)), 0);
    fclose(out);
    assert_non_null(strstr(buf,
                           "time_s,newest_seq_known,server_newest_seq,staleness_ms\n"
                           "0.000,1,1,0.000\n100.000,1,2,0.000\n200.000,1,3,100000.000\n"));
    assert_non_null(strstr(buf, "600.000,6,7,0.000\n700.000,6,8,100000.000\n"));
    freshness_user_free(&u);
    freshness_free(&f);
}

/* The user learns of seq 5 before the observer has delivered seq 2's stamp: the segment
 * waits, and is settled when the stamp arrives (at the next change or the end). */
static void test_settle_later(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, false);
    freshness_published(&f, 1, S(1000));
    freshness_receive(&f, &u, 1, S(1000), S(1000));
    freshness_receive(&f, &u, 5, S(1400), S(1500)); /* stamps 2..4 unknown yet */
    assert_int_equal(u.npending, 1);
    for (int k = 2; k <= 5; k++)
        freshness_published(&f, (uint64_t)k, S(1000 + 100 * (k - 1)));
    freshness_finish_user(&f, &u);
    assert_int_equal(u.npending, 0);
    struct freshness_summary s;
    freshness_summarize(&f, &u, 1, &s);
    /* knew 1 over [1000, 1500): p(2) = 1100: area 400^2/2 */
    double want_ms = 400.0 * 400.0 / 2.0 / 1000.0 * 1e3;
    assert_true(fabs(s.staleness_mean_ms - want_ms) < 1e-6);
    assert_int_equal(s.missed, 3); /* 2, 3, 4 */
    freshness_user_free(&u);
    freshness_free(&f);
}

/* A user that never received anything is stale for the whole window, and misses all. */
static void test_silent_user(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user users[2];
    new_fresh(&f);
    freshness_user_init(&users[0], false);
    freshness_user_init(&users[1], false);
    freshness_published(&f, 1, S(1500));
    freshness_receive(&f, &users[0], 1, S(1500), S(1500));
    for (int i = 0; i < 2; i++)
        freshness_finish_user(&f, &users[i]);
    struct freshness_summary s;
    freshness_summarize(&f, users, 2, &s);
    assert_int_equal(s.expected, 2);
    assert_int_equal(s.missed, 1);
    /* user 1: stale from 1500 s to 2000 s: 500^2/2 / 1000 s = 125 s */
    assert_true(fabs(s.staleness_max_ms - 125000.0) < 1e-6);
    assert_true(fabs(s.staleness_mean_ms - 62500.0) < 1e-6);
    for (int i = 0; i < 2; i++)
        freshness_user_free(&users[i]);
    freshness_free(&f);
}

/* Stamps may arrive in any order; the log grows both ways. */
static void test_log_grows_both_ways(void **state)
{
    (void)state;
    struct freshness f;
    new_fresh(&f);
    freshness_published(&f, 5000, S(1500));
    freshness_published(&f, 10, S(1001));
    freshness_published(&f, 9000, S(1900));
    assert_int_equal(f.log.base, 10);
    assert_int_equal(f.log.len, 8991);
    struct freshness_summary s;
    freshness_summarize(&f, NULL, 0, &s);
    assert_int_equal(s.first_seq, 10);
    assert_int_equal(s.last_seq, 9000);
    assert_int_equal(s.published, 8991); /* seqs have no gaps */
    freshness_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_window_rule),
        cmocka_unit_test(test_push_user),
        cmocka_unit_test(test_polling_user_staleness),
        cmocka_unit_test(test_settle_later),
        cmocka_unit_test(test_silent_user),
        cmocka_unit_test(test_log_grows_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
