/* test_freshness.c: unit tests for the client's accounting of updates (clients/freshness.c)
 * and counters (clients/counters.c): latency recording, missed and duplicate updates, the
 * window rule, and staleness against hand-computed integrals, including a stamp that only
 * arrives after the user's own receipt (the settle-later path); feed epochs across server
 * restarts (in-memory: a new epoch; durable, replays, duplicates: none; a user that sees
 * the new feed before the observer; the epoch cap); outage maxima and activity bins.
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
    /* seqs have no gaps, so the 8988 between the three stamps were published, but no
     * connection showed them: unseen, not counted as published (or missed) */
    assert_int_equal(s.published, 3);
    assert_int_equal(s.unseen, 8988);
    freshness_free(&f);
}

/* A server that numbers downwards, a new connection each time (so no connection sees a
 * step back): every step reads as a restarted feed, but the numbers each restart skips
 * were never shown to anyone, so they are unseen; published and missed stay with what
 * was received. (Counting the whole index range made 3 receipts into 198 published and
 * 195 missed.) */
static void test_hostile_numbering_keeps_missed_sane(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, false);
    for (int k = 0; k < 3; k++)
        assert_int_equal(
            freshness_receive(&f, &u, (uint64_t)(100 - k), S(1100 + k), S(1100 + k)), 1);
    freshness_finish_user(&f, &u);
    struct freshness_summary s;
    freshness_summarize(&f, &u, 1, &s);
    assert_int_equal(s.feed_restarts, 2);
    assert_int_equal(s.published, 3);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.missed, 0);
    assert_int_equal(s.unseen, 98 + 97); /* the second feed's 1..98, the third's 1..97 */
    freshness_user_free(&u);
    freshness_free(&f);
}

/* ---- feed epochs -------------------------------------------------------------------- */

/* The old feed: seq k (1..30) at 1000 + 10(k-1) s; the restarted one: seq k (1..20) at
 * 1400 + 10(k-1) s. */
#define OLD_TS(k) S(1000 + 10 * ((k)-1))
#define NEW_TS(k) S(1400 + 10 * ((k)-1))

/* An in-memory restart (old 1..30, new 1..20): one new epoch, 50 updates published; a
 * user that got everything missed nothing, one that lost the old feed's tail (26..30, in
 * flight when the server died) missed exactly those, and no receipt is a duplicate. */
static void test_restart_in_memory(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u[2];
    new_fresh(&f);
    freshness_user_init(&u[0], true);
    freshness_user_init(&u[1], false);
    for (int k = 1; k <= 30; k++) {
        freshness_published(&f, (uint64_t)k, OLD_TS(k)); /* the observer */
        assert_int_equal(freshness_receive(&f, &u[0], (uint64_t)k, OLD_TS(k), OLD_TS(k)),
                         1);
        if (k <= 25)
            assert_int_equal(
                freshness_receive(&f, &u[1], (uint64_t)k, OLD_TS(k), OLD_TS(k)), 1);
    }
    assert_int_equal(f.nepochs, 1);
    for (int k = 1; k <= 20; k++) {
        freshness_published(&f, (uint64_t)k, NEW_TS(k));
        for (int i = 0; i < 2; i++)
            assert_int_equal(
                freshness_receive(&f, &u[i], (uint64_t)k, NEW_TS(k), NEW_TS(k)), 1);
    }
    assert_int_equal(f.nepochs, 2);
    assert_int_equal(f.epochs[1].offset, 30);
    assert_int_equal(u[0].known, 50);
    assert_int_equal(u[1].known, 50);
    /* a late duplicate of either feed's update is placed in its own epoch */
    assert_int_equal(freshness_receive(&f, &u[0], 20, OLD_TS(20), S(1700)), 0);
    assert_int_equal(freshness_receive(&f, &u[0], 20, NEW_TS(20), S(1700)), 0);
    for (int i = 0; i < 2; i++)
        freshness_finish_user(&f, &u[i]);
    struct freshness_summary s;
    freshness_summarize(&f, &u[0], 1, &s);
    assert_int_equal(s.published, 50);
    assert_int_equal(s.first_seq, 1);
    assert_int_equal(s.last_seq, 50);
    assert_int_equal(s.feed_restarts, 1);
    assert_int_equal(s.missed, 0);
    assert_int_equal(s.inconsistent, 0);
    assert_int_equal(u[0].win_received, 50);
    assert_int_equal(u[1].win_received, 45);
    freshness_summarize(&f, u, 2, &s);
    assert_int_equal(s.expected, 100);
    assert_int_equal(s.missed, 5); /* user 1: the old feed's 26..30 */
    assert_int_equal(s.duplicates, 2);
    assert_int_equal(s.unknown_stamps, 0);
    /* the sample user's staleness: nothing from 1290 s (old 30) until new 1 at 1400 s,
     * received at once: the user was never behind */
    assert_true(s.staleness_max_ms >= 0);
    assert_true(fabs(u[0].stale_area) < 1e-6);
    /* user 1 lacked old 26 from its publication (1250 s) until new 1 came (1400 s) */
    double want = 150.0 * 150.0 / 2.0 / 1000.0 * 1e3;
    assert_true(fabs(s.staleness_max_ms - want) < 1e-6);
    /* the timeline counts on in global indices across the restart */
    char buf[1 << 14];
    FILE *out = fmemopen(buf, sizeof(buf), "w");
    assert_non_null(out);
    assert_int_equal(freshness_write_timeline(&f, out, S(100)), 0);
    fclose(out);
    assert_non_null(strstr(buf, "\n300.000,30,30,0.000\n400.000,31,31,0.000\n"));
    assert_non_null(strstr(buf, "\n600.000,50,50,0.000\n"));
    for (int i = 0; i < 2; i++)
        freshness_user_free(&u[i]);
    freshness_free(&f);
}

/* A durable restart: the observer's reconnect replays the old updates with their old
 * stamps, then the seqs continue: no epoch. */
static void test_restart_durable(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, false);
    for (int k = 1; k <= 30; k++)
        freshness_receive(&f, &u, (uint64_t)k, OLD_TS(k), OLD_TS(k));
    for (int k = 1; k <= 30; k++) /* the replay */
        freshness_published(&f, (uint64_t)k, OLD_TS(k));
    for (int k = 31; k <= 50; k++)
        freshness_receive(&f, &u, (uint64_t)k, OLD_TS(k), OLD_TS(k));
    freshness_finish_user(&f, &u);
    struct freshness_summary s;
    freshness_summarize(&f, &u, 1, &s);
    assert_int_equal(f.nepochs, 1);
    assert_int_equal(s.feed_restarts, 0);
    assert_int_equal(s.published, 50);
    assert_int_equal(s.missed, 0);
    assert_int_equal(s.duplicates, 0);
    assert_int_equal(s.inconsistent, 0);
    freshness_user_free(&u);
    freshness_free(&f);
}

/* The same stamp seen again, by the observer or by a user, newest or oldest, never opens
 * an epoch. */
static void test_duplicates_open_no_epoch(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, false);
    for (int k = 1; k <= 30; k++)
        freshness_receive(&f, &u, (uint64_t)k, OLD_TS(k), OLD_TS(k));
    for (int rep = 0; rep < 3; rep++) {
        freshness_published(&f, 30, OLD_TS(30));
        freshness_published(&f, 1, OLD_TS(1));
        assert_int_equal(freshness_receive(&f, &u, 30, OLD_TS(30), S(1500)), 0);
        assert_int_equal(freshness_receive(&f, &u, 1, OLD_TS(1), S(1500)), 0);
    }
    assert_int_equal(f.nepochs, 1);
    assert_int_equal(f.duplicates, 6);
    assert_int_equal(f.inconsistent, 0);
    freshness_user_free(&u);
    freshness_free(&f);
}

/* A user learns of the new feed (its seq 3) before the observer has seen any of it: the
 * epoch opens on the user's receipt, and the observer's new 1 and 2, stamped earlier than
 * new 3 but after old 30, fall into it. */
static void test_user_sees_new_epoch_first(void **state)
{
    (void)state;
    struct freshness f;
    struct fresh_user u;
    new_fresh(&f);
    freshness_user_init(&u, false);
    for (int k = 1; k <= 30; k++) {
        freshness_published(&f, (uint64_t)k, OLD_TS(k));
        freshness_receive(&f, &u, (uint64_t)k, OLD_TS(k), OLD_TS(k));
    }
    assert_int_equal(freshness_receive(&f, &u, 3, NEW_TS(3), NEW_TS(3)), 1);
    assert_int_equal(f.nepochs, 2);
    assert_int_equal(u.known, 33);
    for (int k = 1; k <= 20; k++)
        freshness_published(&f, (uint64_t)k, NEW_TS(k));
    assert_int_equal(f.nepochs, 2);
    for (int k = 4; k <= 20; k++)
        assert_int_equal(freshness_receive(&f, &u, (uint64_t)k, NEW_TS(k), NEW_TS(k)), 1);
    assert_int_equal(u.known, 50);
    freshness_finish_user(&f, &u);
    struct freshness_summary s;
    freshness_summarize(&f, &u, 1, &s);
    assert_int_equal(s.published, 50);
    assert_int_equal(s.feed_restarts, 1);
    assert_int_equal(s.missed, 2); /* new 1 and 2, skipped over */
    assert_int_equal(s.duplicates, 0);
    assert_int_equal(s.inconsistent, 0);
    assert_int_equal(s.unknown_stamps, 0);
    freshness_user_free(&u);
    freshness_free(&f);
}

/* More restarts than FRESH_MAX_EPOCHS: the client stops following, and says so. A new
 * feed first seen past the old one's newest seq is taken for a continuation, and its
 * stamps then disagree with the old ones: counted too. */
static void test_epoch_cap_and_inconsistency(void **state)
{
    (void)state;
    struct freshness f;
    new_fresh(&f);
    for (int run = 0; run <= FRESH_MAX_EPOCHS; run++)
        for (int k = 1; k <= 2; k++)
            freshness_published(&f, (uint64_t)k, S(1000 + 10 * run + k));
    struct freshness_summary s;
    freshness_summarize(&f, NULL, 0, &s);
    assert_int_equal(f.nepochs, FRESH_MAX_EPOCHS);
    assert_true(f.epochs_full);
    assert_int_equal(s.feed_restarts, FRESH_MAX_EPOCHS - 1);
    assert_int_equal(s.published, 2 * FRESH_MAX_EPOCHS);
    assert_int_equal(s.inconsistent, 2); /* the last run's two stamps */
    freshness_free(&f);

    new_fresh(&f);
    for (int k = 1; k <= 5; k++)
        freshness_published(&f, (uint64_t)k, OLD_TS(k));
    freshness_published(&f, 8, NEW_TS(8)); /* the new feed, first seen at seq 8 */
    for (int k = 1; k <= 7; k++)
        freshness_published(&f, (uint64_t)k, NEW_TS(k));
    freshness_summarize(&f, NULL, 0, &s);
    assert_int_equal(s.feed_restarts, 0);
    assert_int_equal(s.inconsistent, 5); /* new 1..5 disagree with old 1..5 */
    freshness_free(&f);
}

/* ---- outages and activity ----------------------------------------------------------- */

static void test_outage_maxima(void **state)
{
    (void)state;
    struct counters a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    counters_add_outage(&a, 300 * NS_PER_MS, true);
    counters_add_outage(&a, 900 * NS_PER_MS, false);
    counters_add_outage(&b, 500 * NS_PER_MS, true);
    assert_int_equal(a.win[CTR_OUTAGE_NS], 300 * NS_PER_MS);
    assert_int_equal(a.run[CTR_OUTAGE_NS], 1200 * NS_PER_MS);
    assert_int_equal(a.outage_max_win_ns, 300 * NS_PER_MS);
    assert_int_equal(a.outage_max_run_ns, 900 * NS_PER_MS);
    counters_merge(&a, &b);
    assert_int_equal(a.outage_max_win_ns, 500 * NS_PER_MS);
    assert_int_equal(a.outage_max_run_ns, 900 * NS_PER_MS);
    assert_int_equal(a.win[CTR_OUTAGE_NS], 800 * NS_PER_MS);
    assert_string_equal(counters_name(CTR_OUTAGES_OPEN), "outages_open");
}

/* counters_add bins the four activity counters by the time of the call; before the start
 * nothing is binned, past the last bin it is counted as unbinned. */
static void test_activity_bins(void **state)
{
    (void)state;
    char err[128];
    struct activity act;
    struct counters c;
    memset(&c, 0, sizeof(c));
    /* bin 2 is [200, 300) ms after t0: "now" is 250 ms after it; a slow machine may
     * reach bin 3 or 4 before the additions, so the bin is bounded by clock reads taken
     * around them rather than assumed */
    int64_t t0 = clock_mono_ns() - 250 * NS_PER_MS;
    assert_int_equal(activity_init(&act, t0, 450 * NS_PER_MS, err, sizeof(err)), 0);
    assert_int_equal(act.nbins, 5);
    c.activity = &act;
    size_t lo = (size_t)((clock_mono_ns() - t0) / ACTIVITY_BIN_NS);
    counters_add(&c, CTR_REQUESTS, 1, false);
    counters_add(&c, CTR_CONNECTIONS, 2, false);
    counters_add(&c, CTR_ERR_CONNECT, 1, false);
    counters_add(&c, CTR_ERR_IO, 1, false);
    counters_add(&c, CTR_DELIVERIES, 7, true);
    counters_add(&c, CTR_RESP_BODY_BYTES, 100, true); /* not an activity column */
    size_t hi = (size_t)((clock_mono_ns() - t0) / ACTIVITY_BIN_NS);
    if (hi != lo)
        fail_msg("the additions straddled a bin edge (%zu to %zu): a machine stalled "
                 "100 ms",
                 lo, hi);
    assert_true(lo >= 2 && lo < 5);
    assert_int_equal(act.bins[lo][ACT_REQUESTS], 1);
    assert_int_equal(act.bins[lo][ACT_CONNECTIONS], 2);
    assert_int_equal(act.bins[lo][ACT_ERRORS], 2);
    assert_int_equal(act.bins[lo][ACT_DELIVERIES], 7);
    char buf[512], want[512];
    FILE *out = fmemopen(buf, sizeof(buf), "w");
    assert_non_null(out);
    assert_int_equal(activity_write_csv(&act, out), 0);
    fclose(out);
    size_t w = (size_t)snprintf(want, sizeof(want),
                                "time_s,requests,connections,errors,deliveries\n");
    for (size_t i = 0; i < 5; i++)
        w += (size_t)snprintf(want + w, sizeof(want) - w, "0.%zu,%s\n", i,
                              i == lo ? "1,2,2,7" : "0,0,0,0");
    assert_string_equal(buf, want);
    activity_free(&act);

    assert_int_equal(
        activity_init(&act, clock_mono_ns() - NS_PER_S, 100 * NS_PER_MS, err, sizeof(err)),
        0);
    c.activity = &act;
    counters_add(&c, CTR_REQUESTS, 3, true);
    assert_int_equal(act.unbinned, 3);
    activity_free(&act);
    assert_int_equal(
        activity_init(&act, clock_mono_ns() + 10 * NS_PER_S, NS_PER_S, err, sizeof(err)),
        0);
    c.activity = &act;
    counters_add(&c, CTR_REQUESTS, 3, false); /* the warmup: not binned */
    assert_int_equal(act.unbinned, 0);
    assert_int_equal(act.bins[0][ACT_REQUESTS], 0);
    activity_free(&act);
    assert_int_equal(c.run[CTR_REQUESTS], 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_window_rule),
        cmocka_unit_test(test_hostile_numbering_keeps_missed_sane),
        cmocka_unit_test(test_push_user),
        cmocka_unit_test(test_polling_user_staleness),
        cmocka_unit_test(test_settle_later),
        cmocka_unit_test(test_silent_user),
        cmocka_unit_test(test_log_grows_both_ways),
        cmocka_unit_test(test_restart_in_memory),
        cmocka_unit_test(test_restart_durable),
        cmocka_unit_test(test_duplicates_open_no_epoch),
        cmocka_unit_test(test_user_sees_new_epoch_first),
        cmocka_unit_test(test_epoch_cap_and_inconsistency),
        cmocka_unit_test(test_outage_maxima),
        cmocka_unit_test(test_activity_bins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
