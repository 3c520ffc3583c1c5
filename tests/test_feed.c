/* test_feed.c: the feed's ring, cursor ranges, and parked waiters, without HTTP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "servers/feed.h"

/* A waiter that records its wakes. */
struct probe {
    struct feed_waiter w;
    int wakes;
};

static void probe_wake(struct feed_waiter *w)
{
    ((struct probe *)w)->wakes++;
}

static void probe_init(struct probe *p, int fd, int64_t deadline)
{
    memset(p, 0, sizeof(*p));
    p->w.wake = probe_wake;
    p->w.fd = fd;
    p->w.deadline_ns = deadline;
}

static void publish_n(struct feed *f, int n)
{
    for (int i = 0; i < n; i++)
        assert_true(feed_publish(f, "x", 1) > 0);
}

static void empty_feed(void **state)
{
    (void)state;
    struct feed *f = feed_new(4);
    feed_lock(f);
    assert_int_equal(feed_newest_locked(f), 0);
    assert_int_equal(feed_oldest_locked(f), 0);
    assert_null(feed_get_locked(f, 0));
    assert_null(feed_get_locked(f, 1));
    struct feed_range r = feed_range_locked(f, 0, 0);
    assert_int_equal(r.count, 0);
    assert_false(r.reset);
    r = feed_range_locked(f, 5, 0); /* a cursor from another run */
    assert_true(r.reset);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.first, 1);
    feed_unlock(f);
    feed_free(f);
    assert_null(feed_new(0));
}

static void publish_renders_json_once(void **state)
{
    (void)state;
    struct feed *f = feed_new(4);
    int64_t before = clock_real_ns();
    assert_int_equal(feed_publish(f, "a\"b\\c\n", 6), 1);
    int64_t after = clock_real_ns();
    feed_lock(f);
    const struct feed_update *u = feed_get_locked(f, 1);
    assert_non_null(u);
    assert_int_equal(u->seq, 1);
    assert_true(u->ts_ns >= before && u->ts_ns <= after);
    char want[128];
    snprintf(want, sizeof(want), "{\"seq\":1,\"ts_ns\":%lld,\"data\":\"a\\\"b\\\\c\\n\"}",
             (long long)u->ts_ns);
    assert_string_equal(u->json, want);
    assert_int_equal(u->json_len, strlen(want));
    feed_unlock(f);
    feed_free(f);
}

static void ring_wraps_and_ranges(void **state)
{
    (void)state;
    struct feed *f = feed_new(4);
    publish_n(f, 10);
    feed_lock(f);
    assert_int_equal(feed_newest_locked(f), 10);
    assert_int_equal(feed_oldest_locked(f), 7);
    assert_null(feed_get_locked(f, 6));
    assert_int_equal(feed_get_locked(f, 7)->seq, 7);
    assert_int_equal(feed_get_locked(f, 10)->seq, 10);
    assert_null(feed_get_locked(f, 11));

    struct feed_range r = feed_range_locked(f, 6, 0); /* exactly at the edge: no gap */
    assert_false(r.reset);
    assert_int_equal(r.first, 7);
    assert_int_equal(r.count, 4);
    r = feed_range_locked(f, 5, 0); /* 6 is lost */
    assert_true(r.reset);
    assert_int_equal(r.first, 7);
    assert_int_equal(r.count, 4);
    r = feed_range_locked(f, 8, 1);
    assert_false(r.reset);
    assert_int_equal(r.first, 9);
    assert_int_equal(r.count, 1);
    r = feed_range_locked(f, 10, 0);
    assert_int_equal(r.count, 0);
    assert_false(r.reset);
    r = feed_range_locked(f, 11, 0);
    assert_true(r.reset);
    assert_int_equal(r.first, 7);
    assert_int_equal(r.count, 4);
    feed_unlock(f);
    assert_int_equal(feed_published(f), 10);
    feed_free(f);
}

/* Wakes in the order they came, for wakes_others_before_its_own. */
static struct feed_waiter *wake_order[4];
static int wake_count;

static void order_wake(struct feed_waiter *w)
{
    if (wake_count < 4)
        wake_order[wake_count] = w;
    wake_count++;
}

struct park_job {
    struct feed *f;
    struct feed_waiter *w;
};

static void *park_on_other_thread(void *arg)
{
    struct park_job *job = arg;
    feed_lock(job->f);
    int rc = feed_park_locked(job->f, job->w);
    feed_unlock(job->f);
    return rc == 0 ? job : NULL;
}

/* A thread that publishes wakes the waiters other threads parked before the ones it
 * parked itself (it cannot serve its own before it is done waking), each group oldest
 * first, every waiter once. */
static void wakes_others_before_its_own(void **state)
{
    (void)state;
    struct feed *f = feed_new(8);
    struct feed_waiter w[4];
    memset(w, 0, sizeof(w));
    wake_count = 0;
    for (int i = 0; i < 4; i++) {
        w[i].wake = order_wake;
        w[i].fd = -1;
        w[i].deadline_ns = INT64_MAX;
    }
    /* parked in this order: mine, other, mine, other; a publish wakes oldest first */
    for (int i = 0; i < 4; i++) {
        if (i % 2 == 0) {
            feed_lock(f);
            assert_int_equal(feed_park_locked(f, &w[i]), 0);
            feed_unlock(f);
        } else {
            struct park_job job = {f, &w[i]};
            pthread_t t;
            void *ret = NULL;
            assert_int_equal(pthread_create(&t, NULL, park_on_other_thread, &job), 0);
            assert_int_equal(pthread_join(t, &ret), 0);
            assert_non_null(ret);
        }
    }
    publish_n(f, 1);
    assert_int_equal(wake_count, 4);
    assert_ptr_equal(wake_order[0], &w[1]);
    assert_ptr_equal(wake_order[1], &w[3]);
    assert_ptr_equal(wake_order[2], &w[0]);
    assert_ptr_equal(wake_order[3], &w[2]);
    for (int i = 0; i < 4; i++)
        assert_false(w[i].parked);
    assert_int_equal(feed_parked(f), 0);
    feed_free(f);
}

static void publish_wakes_every_waiter_once(void **state)
{
    (void)state;
    struct feed *f = feed_new(8);
    struct probe p[3];
    feed_lock(f);
    for (int i = 0; i < 3; i++) {
        probe_init(&p[i], -1, INT64_MAX);
        assert_int_equal(feed_park_locked(f, &p[i].w), 0);
    }
    feed_unpark_locked(f, &p[1].w); /* one request ends while parked */
    feed_unpark_locked(f, &p[1].w); /* twice is harmless */
    feed_unlock(f);
    assert_int_equal(feed_parked(f), 2);
    publish_n(f, 1);
    assert_int_equal(p[0].wakes, 1);
    assert_int_equal(p[1].wakes, 0);
    assert_int_equal(p[2].wakes, 1);
    assert_int_equal(p[0].w.why, FEED_WAKE_NEWS);
    assert_false(p[0].w.parked);
    assert_int_equal(feed_parked(f), 0);
    publish_n(f, 1); /* nobody parked: nobody woken again */
    assert_int_equal(p[0].wakes, 1);
    feed_free(f);
}

static void sweep_wakes_by_deadline(void **state)
{
    (void)state;
    struct feed *f = feed_new(8);
    struct probe early, late;
    probe_init(&early, -1, 1000);
    probe_init(&late, -1, 5000);
    feed_lock(f);
    feed_park_locked(f, &early.w);
    feed_park_locked(f, &late.w);
    feed_unlock(f);
    int64_t next = 0;
    assert_int_equal(feed_sweep(f, 999, false, &next), 0);
    assert_int_equal(next, 1000);
    assert_int_equal(feed_sweep(f, 1000, false, &next), 1);
    assert_int_equal(early.wakes, 1);
    assert_int_equal(early.w.why, FEED_WAKE_DEADLINE);
    assert_int_equal(next, 5000);
    assert_int_equal(feed_sweep(f, 6000, false, &next), 1);
    assert_int_equal(late.wakes, 1);
    assert_int_equal(next, INT64_MAX);
    feed_free(f);
}

static void sweep_notices_a_vanished_peer(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int live[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, live), 0);
    struct feed *f = feed_new(8);
    struct probe gone, stay;
    probe_init(&gone, sv[0], INT64_MAX);
    probe_init(&stay, live[0], INT64_MAX);
    feed_lock(f);
    feed_park_locked(f, &gone.w);
    feed_park_locked(f, &stay.w);
    feed_unlock(f);
    assert_int_equal(feed_sweep(f, 0, true, NULL), 0);
    close(sv[1]);                                       /* the peer leaves */
    assert_int_equal(feed_sweep(f, 0, false, NULL), 0); /* peers not checked this time */
    assert_int_equal(feed_sweep(f, 0, true, NULL), 1);
    assert_int_equal(gone.wakes, 1);
    assert_int_equal(gone.w.why, FEED_WAKE_GONE);
    assert_int_equal(stay.wakes, 0);
    feed_close(f);
    assert_int_equal(stay.wakes, 1);
    assert_int_equal(stay.w.why, FEED_WAKE_SHUTDOWN);
    feed_free(f);
    close(sv[0]);
    close(live[0]);
    close(live[1]);
}

static void closed_feed_refuses(void **state)
{
    (void)state;
    struct feed *f = feed_new(2);
    publish_n(f, 1);
    feed_close(f);
    assert_int_equal(feed_publish(f, "late", 4), 0);
    struct probe p;
    probe_init(&p, -1, INT64_MAX);
    feed_lock(f);
    assert_int_equal(feed_park_locked(f, &p.w), -1);
    assert_true(feed_closing_locked(f));
    assert_int_equal(feed_newest_locked(f), 1);
    feed_unlock(f);
    feed_wait_sweep(f, INT64_MAX); /* returns at once when closing */
    feed_free(f);
}

static void wait_sweep_honours_earlier_park(void **state)
{
    (void)state;
    struct feed *f = feed_new(2);
    struct probe p;
    probe_init(&p, -1, clock_mono_ns() + 20 * NS_PER_MS);
    feed_lock(f);
    feed_park_locked(f, &p.w);
    feed_unlock(f);
    int64_t t0 = clock_mono_ns();
    feed_wait_sweep(f, t0 + 5 * NS_PER_S); /* must not sleep past the parked deadline */
    assert_true(clock_mono_ns() - t0 < 2 * NS_PER_S);
    feed_close(f);
    feed_free(f);
}

static void restore_in_order_only(void **state)
{
    (void)state;
    struct feed *f = feed_new(4);
    const char *j1 = "{\"seq\":1,\"ts_ns\":5,\"data\":\"a\"}";
    assert_int_equal(feed_restore(f, 2, 5, j1, strlen(j1)), -1); /* a gap */
    assert_int_equal(feed_restore(f, 1, 5, j1, strlen(j1)), 0);
    assert_int_equal(feed_restore(f, 1, 5, j1, strlen(j1)), -1); /* twice */
    feed_lock(f);
    assert_int_equal(feed_newest_locked(f), 1);
    assert_string_equal(feed_get_locked(f, 1)->json, j1);
    assert_int_equal(feed_get_locked(f, 1)->ts_ns, 5);
    feed_unlock(f);
    assert_int_equal(feed_publish(f, "b", 1), 2); /* numbering continues */
    feed_free(f);
}

/* Updates published elsewhere go in rendered exactly as a local publish renders them,
 * wake the parked waiters once per batch, and skip what is held already. */
static void insert_renders_as_publish_does(void **state)
{
    (void)state;
    struct feed *local = feed_new(4), *cache = feed_new(4);
    assert_int_equal(feed_publish(local, "a\"b\\c\n", 6), 1);
    feed_lock(local);
    const struct feed_update *u = feed_get_locked(local, 1);
    struct feed_entry e = {.seq = 1, .ts_ns = u->ts_ns, .data = "a\"b\\c\n", .len = 6};
    struct probe p;
    probe_init(&p, -1, INT64_MAX);
    feed_lock(cache);
    assert_int_equal(feed_park_locked(cache, &p.w), 0);
    feed_unlock(cache);
    assert_int_equal(feed_insert(cache, &e, 1), 1);
    assert_int_equal(p.wakes, 1);
    feed_lock(cache);
    assert_string_equal(feed_get_locked(cache, 1)->json, u->json);
    assert_int_equal(feed_get_locked(cache, 1)->ts_ns, u->ts_ns);
    feed_unlock(cache);
    feed_unlock(local);
    assert_int_equal(feed_insert(cache, &e, 1), 0); /* held already */
    struct feed_entry two[2] = {{2, 7, "b", 1}, {3, 8, "c", 1}};
    assert_int_equal(feed_insert(cache, two, 2), 2);
    assert_int_equal(feed_published(cache), 0); /* nothing published here */
    assert_int_equal(feed_newest(cache), 3);
    feed_free(local);
    feed_free(cache);
}

/* An insert past newest + 1 leaves a gap: a cursor in it gets a reset starting after the
 * gap, and nothing below the gap is served, though the ring has room. */
static void insert_after_a_gap_resets_cursors_in_it(void **state)
{
    (void)state;
    struct feed *f = feed_new(8);
    struct feed_entry e[3] = {{1, 1, "a", 1}, {2, 2, "b", 1}, {6, 6, "f", 1}};
    assert_int_equal(feed_insert(f, e, 3), 3);
    feed_lock(f);
    assert_int_equal(feed_oldest_locked(f), 6);
    assert_null(feed_get_locked(f, 2));
    struct feed_range r = feed_range_locked(f, 2, 0);
    assert_true(r.reset);
    assert_int_equal(r.first, 6);
    assert_int_equal(r.count, 1);
    r = feed_range_locked(f, 5, 0);
    assert_false(r.reset);
    assert_int_equal(r.count, 1);
    feed_unlock(f);
    feed_free(f);
}

/* A reset forgets everything and wakes the waiters; their cursors are then ahead of the
 * feed (a reset for them), and the numbering may begin again at 1. */
static void reset_forgets_and_wakes(void **state)
{
    (void)state;
    struct feed *f = feed_new(4);
    struct feed_entry e[2] = {{1, 1, "a", 1}, {2, 2, "b", 1}};
    assert_int_equal(feed_insert(f, e, 2), 2);
    struct probe p;
    probe_init(&p, -1, INT64_MAX);
    feed_lock(f);
    assert_int_equal(feed_park_locked(f, &p.w), 0);
    assert_int_equal(feed_reset_generation_locked(f), 0);
    feed_unlock(f);
    feed_reset(f);
    feed_lock(f); /* seq 1 will name another update: the generation says so */
    assert_int_equal(feed_reset_generation_locked(f), 1);
    feed_unlock(f);
    assert_int_equal(p.wakes, 1);
    assert_int_equal(p.w.why, FEED_WAKE_NEWS);
    feed_lock(f);
    assert_int_equal(feed_newest_locked(f), 0);
    assert_null(feed_get_locked(f, 1));
    struct feed_range r = feed_range_locked(f, 2, 0);
    assert_true(r.reset);
    assert_int_equal(r.count, 0);
    feed_unlock(f);
    struct feed_entry again = {1, 9, "new", 3};
    assert_int_equal(feed_insert(f, &again, 1), 1);
    feed_lock(f);
    assert_string_equal(feed_get_locked(f, 1)->json,
                        "{\"seq\":1,\"ts_ns\":9,\"data\":\"new\"}");
    feed_unlock(f);
    feed_free(f);
}

/* A publisher, once set, does every publish; its refusal and reason reach the caller, and
 * only what it accepted counts as published. */
static uint64_t fake_publisher(void *ctx, const char *data, size_t len, char *err,
                               size_t errlen)
{
    int *calls = ctx;
    (*calls)++;
    if (len == 4 && memcmp(data, "fail", 4) == 0) {
        snprintf(err, errlen, "the broker is away");
        return 0;
    }
    return 41 + (uint64_t)*calls;
}

static void a_publisher_takes_every_publish(void **state)
{
    (void)state;
    struct feed *f = feed_new(4);
    int calls = 0;
    feed_set_publisher(f, fake_publisher, &calls);
    char err[64] = "";
    assert_int_equal(feed_publish_err(f, "x", 1, err, sizeof(err)), 42);
    assert_int_equal(feed_publish_err(f, "fail", 4, err, sizeof(err)), 0);
    assert_string_equal(err, "the broker is away");
    assert_int_equal(calls, 2);
    assert_int_equal(feed_published(f), 1);
    assert_int_equal(feed_newest(f), 0); /* the ring fills from feed_insert only */
    feed_close(f);
    assert_int_equal(feed_publish_err(f, "x", 1, err, sizeof(err)), 0);
    assert_string_equal(err, "the feed is shutting down");
    assert_int_equal(calls, 2);
    feed_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_feed),
        cmocka_unit_test(publish_renders_json_once),
        cmocka_unit_test(ring_wraps_and_ranges),
        cmocka_unit_test(publish_wakes_every_waiter_once),
        cmocka_unit_test(sweep_wakes_by_deadline),
        cmocka_unit_test(sweep_notices_a_vanished_peer),
        cmocka_unit_test(closed_feed_refuses),
        cmocka_unit_test(wait_sweep_honours_earlier_park),
        cmocka_unit_test(restore_in_order_only),
        cmocka_unit_test(insert_renders_as_publish_does),
        cmocka_unit_test(insert_after_a_gap_resets_cursors_in_it),
        cmocka_unit_test(reset_forgets_and_wakes),
        cmocka_unit_test(a_publisher_takes_every_publish),
        cmocka_unit_test(wakes_others_before_its_own),
    };
    return cmocka_run_group_tests_name("feed", tests, NULL, NULL);
}
