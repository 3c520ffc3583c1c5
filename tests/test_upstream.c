/* test_upstream.c: a user's messages (clients/upstream.c): their size and text, the
 * schedules (periodic gaps exact, Poisson gaps with the right mean for a fixed seed), the
 * window rule, and recognising one's own message among others'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clients/upstream.h"
#include "clock.h"

struct fixture {
    struct upstream_env env;
    struct counters ctr;
};

static void setup_env(struct fixture *f, double rate, bool poisson, size_t bytes)
{
    memset(f, 0, sizeof(*f));
    f->env.rate_hz = rate;
    f->env.poisson = poisson;
    f->env.bytes = bytes;
    snprintf(f->env.run, sizeof(f->env.run), "0badf00d");
    f->env.start_ns = 10 * NS_PER_S;
    f->env.w0 = 20 * NS_PER_S;
    f->env.w1 = 30 * NS_PER_S;
    f->env.rtt = hist_new();
    assert_non_null(f->env.rtt);
}

static void compose_text_and_size(void **state)
{
    (void)state;
    struct fixture f;
    setup_env(&f, 2, false, 64);
    struct upstream up;
    upstream_init(&up, &f.env, &f.ctr, 199999, 1);
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    for (int i = 0; i < 3; i++) {
        int64_t due = upstream_due(&up);
        dynbuf_reset(&b);
        assert_int_equal(upstream_compose(&up, &b), 0);
        assert_int_equal(b.len, 64);
        char want[64];
        int n =
            snprintf(want, sizeof(want), "m 0badf00d.199999 %d %" PRId64 " ", i + 1, due);
        assert_memory_equal(b.mem, want, (size_t)n);
        for (size_t k = (size_t)n; k < b.len; k++)
            assert_int_equal(b.mem[k], 'x');
    }
    /* the longest prefix there can be still fits the smallest size */
    up.n = UINT64_MAX - 1;
    up.due = INT64_MAX / 2; /* 19 digits, as many as there can be */
    dynbuf_reset(&b);
    assert_int_equal(upstream_compose(&up, &b), 0);
    assert_true(b.len >= 64);
    assert_int_equal(f.ctr.run[CTR_MSGS_SENT], 4);
    dynbuf_free(&b);
    hist_free(f.env.rtt);
}

static void schedules(void **state)
{
    (void)state;
    struct fixture f;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    /* periodic at 4 Hz: a phase in [0, 250 ms), then exactly 250 ms apart */
    setup_env(&f, 4, false, 100);
    struct upstream up;
    upstream_init(&up, &f.env, &f.ctr, 3, 7);
    int64_t first = upstream_due(&up);
    assert_true(first >= f.env.start_ns && first < f.env.start_ns + 250 * NS_PER_MS);
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(upstream_compose(&up, &b), 0);
        assert_int_equal(upstream_due(&up), first + i * 250 * NS_PER_MS);
    }
    /* the same seed and user give the same schedule; another user another phase */
    struct upstream again, other;
    upstream_init(&again, &f.env, &f.ctr, 3, 7);
    upstream_init(&other, &f.env, &f.ctr, 4, 7);
    assert_int_equal(upstream_due(&again), first);
    assert_int_not_equal(upstream_due(&other), first);
    hist_free(f.env.rtt);

    /* Poisson at 10 Hz: 20000 gaps average 100 ms (within 3%), and vary */
    setup_env(&f, 10, true, 100);
    upstream_init(&up, &f.env, &f.ctr, 0, 42);
    int64_t t = f.env.start_ns, min_gap = INT64_MAX, max_gap = 0;
    for (int i = 0; i < 20000; i++) {
        int64_t due = upstream_due(&up);
        if (due - t < min_gap)
            min_gap = due - t;
        if (due - t > max_gap)
            max_gap = due - t;
        t = due;
        dynbuf_reset(&b);
        assert_int_equal(upstream_compose(&up, &b), 0);
    }
    double mean = (double)(t - f.env.start_ns) / 20000 / NS_PER_MS;
    assert_true(mean > 97 && mean < 103);
    assert_true(min_gap < 5 * NS_PER_MS && max_gap > 500 * NS_PER_MS);
    dynbuf_free(&b);
    hist_free(f.env.rtt);
}

/* Compose a message from up whose due time is `due`; its text in b. */
static void message_due(struct upstream *up, int64_t due, struct dynbuf *b)
{
    up->due = due;
    dynbuf_reset(b);
    assert_int_equal(upstream_compose(up, b), 0);
}

static void recognise_own_echoes(void **state)
{
    (void)state;
    struct fixture f;
    setup_env(&f, 1, false, 100);
    struct upstream me, you;
    struct counters yours;
    memset(&yours, 0, sizeof(yours));
    upstream_init(&me, &f.env, &f.ctr, 17, 1);
    upstream_init(&you, &f.env, &yours, 1, 1);
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    char head[64];

    /* message 1, due in the window, back 7 ms later: an echo with its round trip */
    message_due(&me, 21 * NS_PER_S, &b);
    snprintf(head, sizeof(head), "%.63s", b.mem);
    upstream_recognise(&me, head, 21 * NS_PER_S + 7 * NS_PER_MS);
    assert_int_equal(f.ctr.win[CTR_MSGS_ECHOED], 1);
    assert_int_equal(hist_count(f.env.rtt), 1);
    assert_int_equal(hist_max(f.env.rtt), 7000);
    /* the same again: a duplicate, no second round trip */
    upstream_recognise(&me, head, 21 * NS_PER_S + 9 * NS_PER_MS);
    assert_int_equal(f.ctr.win[CTR_MSGS_ECHO_DUPLICATES], 1);
    assert_int_equal(f.ctr.win[CTR_MSGS_ECHOED], 1);
    /* another user's message (user 1 is a prefix of user 17's digits), another run's,
     * and text that only looks like a message: not mine */
    message_due(&you, 22 * NS_PER_S, &b);
    snprintf(head, sizeof(head), "%.63s", b.mem);
    upstream_recognise(&me, head, 22 * NS_PER_S);
    upstream_recognise(&me, "m 0badf00e.17 2 22000000000 xxxx", 22 * NS_PER_S);
    upstream_recognise(&me, "m 0badf00d.17 x 22000000000 xxxx", 22 * NS_PER_S);
    upstream_recognise(&me, "m 0badf00d.17 2", 22 * NS_PER_S);
    upstream_recognise(&me, "tick 5", 22 * NS_PER_S);
    assert_int_equal(f.ctr.run[CTR_MSGS_ECHOED], 1);
    assert_int_equal(f.ctr.run[CTR_MSGS_ECHO_DUPLICATES], 1);
    /* message 2 due before the window: counted in the run only, no round trip */
    message_due(&me, 19 * NS_PER_S, &b);
    snprintf(head, sizeof(head), "%.63s", b.mem);
    upstream_recognise(&me, head, 21 * NS_PER_S);
    assert_int_equal(f.ctr.run[CTR_MSGS_ECHOED], 2);
    assert_int_equal(f.ctr.win[CTR_MSGS_ECHOED], 1);
    assert_int_equal(f.ctr.win[CTR_MSGS_SENT], 1); /* message 1; 2 was due before */
    assert_int_equal(hist_count(f.env.rtt), 1);
    dynbuf_free(&b);
    hist_free(f.env.rtt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compose_text_and_size),
        cmocka_unit_test(schedules),
        cmocka_unit_test(recognise_own_echoes),
    };
    return cmocka_run_group_tests_name("upstream", tests, NULL, NULL);
}
