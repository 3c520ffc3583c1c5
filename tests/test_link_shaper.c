/* test_link_shaper.c: unit tests for one direction of the link emulator
 * (servers/link_shaper.c), with made-up times: no sockets, no clock.
 *
 * Delay and rate are checked to the nanosecond against the arithmetic in the header
 * (a 1448-byte segment at 1 Mbit/s takes exactly 11,584,000 ns); jitter by its bounds and
 * mean over many isolated segments; order by pushing a numbered stream under heavy
 * jitter; buffer mode by what is released at each push; the FIN by when it may follow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "clock.h"
#include "link/link_shaper.h"

static struct link_shaper_config config(int64_t delay_ns, int64_t jitter_ns, uint64_t rate,
                                        size_t hold)
{
    struct link_shaper_config c;
    memset(&c, 0, sizeof(c));
    c.delay_ns = delay_ns;
    c.jitter_ns = jitter_ns;
    c.rate_bps = rate;
    c.hold_bytes = hold;
    c.seed = 42;
    return c;
}

/* Take the next segment out: assert it is due exactly at `when` (not a ns earlier), that
 * it holds len bytes, and consume it. */
static void expect_segment(struct link_shaper *s, int64_t when, size_t len)
{
    const char *data = NULL;
    assert_int_equal(link_shaper_next_ns(s), when);
    assert_int_equal(link_shaper_peek(s, when - 1, &data), 0);
    assert_int_equal(link_shaper_peek(s, when, &data), len);
    link_shaper_consume(s, len);
}

static void plain_pipe_releases_at_once(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(0, 0, 0, 0);
    link_shaper_init(&s, &c);
    assert_int_equal(link_shaper_next_ns(&s), INT64_MAX);
    assert_int_equal(link_shaper_push(&s, 100, "hello", 5), 0);
    const char *data = NULL;
    assert_int_equal(link_shaper_peek(&s, 100, &data), 5);
    assert_memory_equal(data, "hello", 5);
    assert_int_equal(link_shaper_pending(&s), 5);
    link_shaper_consume(&s, 5);
    assert_int_equal(link_shaper_pending(&s), 0);
    assert_int_equal(link_shaper_next_ns(&s), INT64_MAX);
    /* Without a rate cap a push stays one piece, however large. */
    static char big[100000];
    assert_int_equal(link_shaper_push(&s, 200, big, sizeof(big)), 0);
    assert_int_equal(link_shaper_peek(&s, 200, &data), sizeof(big));
    assert_int_equal(link_shaper_free(&s), sizeof(big));
}

static void delay_is_exact(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(50 * NS_PER_MS, 0, 0, 0);
    link_shaper_init(&s, &c);
    assert_int_equal(link_shaper_push(&s, 1000, "a", 1), 0);
    assert_int_equal(link_shaper_push(&s, 7 * NS_PER_MS, "bc", 2), 0);
    expect_segment(&s, 1000 + 50 * NS_PER_MS, 1);
    expect_segment(&s, 57 * NS_PER_MS, 2);
    assert_int_equal(link_shaper_free(&s), 0);
}

static void jitter_stays_in_bounds_and_centres_on_delay(void **state)
{
    (void)state;
    enum { N = 20000 };
    const int64_t delay = 50 * NS_PER_MS, jitter = 10 * NS_PER_MS;
    struct link_shaper s;
    struct link_shaper_config c = config(delay, jitter, 0, 0);
    link_shaper_init(&s, &c);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    double sum = 0;
    for (int i = 0; i < N; i++) {
        int64_t t = (int64_t)i * NS_PER_S; /* far apart: order never holds one back */
        assert_int_equal(link_shaper_push(&s, t, "x", 1), 0);
        int64_t d = link_shaper_next_ns(&s) - t;
        const char *data;
        assert_int_equal(link_shaper_peek(&s, t + d, &data), 1);
        link_shaper_consume(&s, 1);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += (double)d;
    }
    assert_true(lo >= delay - jitter);
    assert_true(hi <= delay + jitter);
    assert_true(lo < delay - jitter + NS_PER_MS / 2); /* the whole range is used */
    assert_true(hi > delay + jitter - NS_PER_MS / 2);
    double mean = sum / N;
    assert_true(mean > (double)delay - 0.2e6 && mean < (double)delay + 0.2e6);
    link_shaper_free(&s);

    /* Jitter larger than the delay is clamped at zero, never negative. */
    c = config(NS_PER_MS, 5 * NS_PER_MS, 0, 0);
    link_shaper_init(&s, &c);
    for (int i = 0; i < 1000; i++) {
        int64_t t = (int64_t)i * NS_PER_S;
        assert_int_equal(link_shaper_push(&s, t, "x", 1), 0);
        assert_true(link_shaper_next_ns(&s) >= t);
        assert_true(link_shaper_next_ns(&s) <= t + 6 * NS_PER_MS);
        link_shaper_consume(&s, 1);
    }
    link_shaper_free(&s);
}

static void jitter_is_reproducible_from_the_seed(void **state)
{
    (void)state;
    struct link_shaper a, b, other;
    struct link_shaper_config c = config(20 * NS_PER_MS, 5 * NS_PER_MS, 0, 0);
    link_shaper_init(&a, &c);
    link_shaper_init(&b, &c);
    c.seed = 43;
    link_shaper_init(&other, &c);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        int64_t t = (int64_t)i * NS_PER_S;
        link_shaper_push(&a, t, "x", 1);
        link_shaper_push(&b, t, "x", 1);
        link_shaper_push(&other, t, "x", 1);
        assert_int_equal(link_shaper_next_ns(&a), link_shaper_next_ns(&b));
        differ += link_shaper_next_ns(&a) != link_shaper_next_ns(&other);
        link_shaper_consume(&a, 1);
        link_shaper_consume(&b, 1);
        link_shaper_consume(&other, 1);
    }
    assert_true(differ > 90);
    link_shaper_free(&a);
    link_shaper_free(&b);
    link_shaper_free(&other);
}

static void order_is_kept_under_jitter(void **state)
{
    (void)state;
    enum { N = 5000 };
    const int64_t delay = 10 * NS_PER_MS, jitter = 9 * NS_PER_MS;
    struct link_shaper s;
    struct link_shaper_config c = config(delay, jitter, 0, 0);
    link_shaper_init(&s, &c);
    int64_t arrival[N];
    for (int i = 0; i < N; i++) { /* one numbered byte every 100 us: jitter >> spacing */
        arrival[i] = (int64_t)i * 100 * NS_PER_US;
        unsigned char b = (unsigned char)(i % 251);
        assert_int_equal(link_shaper_push(&s, arrival[i], &b, 1), 0);
    }
    int64_t prev = INT64_MIN;
    int held_back = 0;
    for (int i = 0; i < N; i++) {
        int64_t t = link_shaper_next_ns(&s);
        assert_true(t >= prev); /* never earlier than the one ahead */
        assert_true(t >= arrival[i] + delay - jitter); /* never before its own earliest */
        assert_true(t <= arrival[i] + delay + jitter); /* the floor never adds beyond */
        held_back += t > arrival[i] + delay + jitter / 2; /* some did wait for a slow one */
        const char *data;
        assert_int_equal(link_shaper_peek(&s, t, &data), 1);
        assert_int_equal((unsigned char)data[0], (unsigned char)(i % 251));
        link_shaper_consume(&s, 1);
        prev = t;
    }
    assert_true(held_back > N / 4);
    assert_int_equal(link_shaper_free(&s), 0);
}

static void rate_serialises_segment_by_segment(void **state)
{
    (void)state;
    const int64_t seg_ns = 11584000; /* 1448 bytes * 8 bits / 1e6 bit/s */
    struct link_shaper s;
    struct link_shaper_config c = config(0, 0, 1000000, 0);
    link_shaper_init(&s, &c);
    static char buf[14480];
    assert_int_equal(link_shaper_push(&s, 0, buf, sizeof(buf)), 0);
    for (int k = 1; k <= 10; k++)
        expect_segment(&s, k * seg_ns, LINK_SHAPER_SEGMENT_BYTES);
    /* An idle link starts at once: 100 bytes take 800 us. */
    assert_int_equal(link_shaper_push(&s, NS_PER_S, buf, 100), 0);
    expect_segment(&s, NS_PER_S + 800 * NS_PER_US, 100);
    /* A busy link queues: the second segment starts when the first is done. */
    assert_int_equal(link_shaper_push(&s, 2 * NS_PER_S, buf, 1448), 0);
    assert_int_equal(link_shaper_push(&s, 2 * NS_PER_S + 5 * NS_PER_MS, buf, 1448), 0);
    expect_segment(&s, 2 * NS_PER_S + seg_ns, 1448);
    expect_segment(&s, 2 * NS_PER_S + 2 * seg_ns, 1448);
    link_shaper_free(&s);

    /* 200,000 bytes at 1 Mbit/s: the last byte leaves at exactly 1.6 s, plus the delay. */
    c = config(50 * NS_PER_MS, 0, 1000000, 0);
    link_shaper_init(&s, &c);
    static char payload[200000];
    assert_int_equal(link_shaper_push(&s, 0, payload, sizeof(payload)), 0);
    int64_t last = 0;
    size_t total = 0;
    while (link_shaper_pending(&s) > 0) {
        const char *data;
        last = link_shaper_next_ns(&s);
        size_t n = link_shaper_peek(&s, last, &data);
        assert_true(n > 0 && n <= LINK_SHAPER_SEGMENT_BYTES);
        total += n;
        link_shaper_consume(&s, n);
    }
    assert_int_equal(total, sizeof(payload));
    assert_int_equal(last, 1600 * NS_PER_MS + 50 * NS_PER_MS);
    link_shaper_free(&s);

    /* A rate that does not divide evenly: rounding never drifts by more than 1 ns a
     * segment. */
    c = config(0, 0, 7000000, 0);
    link_shaper_init(&s, &c);
    static char many[1448 * 100];
    assert_int_equal(link_shaper_push(&s, 0, many, sizeof(many)), 0);
    while (link_shaper_pending(&s) > LINK_SHAPER_SEGMENT_BYTES)
        link_shaper_consume(&s, LINK_SHAPER_SEGMENT_BYTES);
    double exact = 1448.0 * 100 * 8 * 1e9 / 7e6;
    assert_true(fabs((double)link_shaper_next_ns(&s) - exact) <= 100);
    link_shaper_free(&s);
}

static void custom_segment_size_and_partial_consume(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(0, 0, 8000000, 0); /* 1 byte per us */
    c.segment_bytes = 100;
    link_shaper_init(&s, &c);
    char buf[250];
    for (int i = 0; i < 250; i++)
        buf[i] = (char)i;
    assert_int_equal(link_shaper_push(&s, 0, buf, sizeof(buf)), 0);
    const char *data;
    assert_int_equal(link_shaper_peek(&s, 100 * NS_PER_US, &data), 100);
    link_shaper_consume(&s, 60); /* a short write */
    assert_int_equal(link_shaper_pending(&s), 190);
    assert_int_equal(link_shaper_peek(&s, 100 * NS_PER_US, &data), 40);
    assert_int_equal((unsigned char)data[0], 60);
    link_shaper_consume(&s, 40);
    expect_segment(&s, 200 * NS_PER_US, 100);
    expect_segment(&s, 250 * NS_PER_US, 50);
    link_shaper_free(&s);
}

static void buffer_mode_holds_until_n(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(10 * NS_PER_MS, 0, 0, 1000);
    link_shaper_init(&s, &c);
    static char buf[1500];
    assert_int_equal(link_shaper_push(&s, 0, buf, 999), 0);
    const char *data;
    assert_int_equal(link_shaper_peek(&s, 10 * NS_PER_S, &data), 0);
    assert_int_equal(link_shaper_next_ns(&s), INT64_MAX); /* no time to wake up for */
    assert_int_equal(link_shaper_pending(&s), 999);
    /* The 1000th byte lets all of them go, one delay after it arrived. */
    assert_int_equal(link_shaper_push(&s, 5 * NS_PER_MS, buf, 1), 0);
    expect_segment(&s, 15 * NS_PER_MS, 1000);
    /* More than N at once goes at once. */
    assert_int_equal(link_shaper_push(&s, 20 * NS_PER_MS, buf, 1500), 0);
    expect_segment(&s, 30 * NS_PER_MS, 1500);
    /* The sender closes: what is held goes on, and the FIN follows it. */
    assert_int_equal(link_shaper_push(&s, 40 * NS_PER_MS, buf, 10), 0);
    assert_int_equal(link_shaper_next_ns(&s), INT64_MAX);
    assert_int_equal(link_shaper_close(&s, 45 * NS_PER_MS), 0);
    expect_segment(&s, 55 * NS_PER_MS, 10);
    assert_int_equal(link_shaper_take_fin(&s, 55 * NS_PER_MS), 1);
    assert_int_equal(link_shaper_free(&s), 0);

    /* Freed while holding: the held bytes are reported as discarded. */
    link_shaper_init(&s, &c);
    assert_int_equal(link_shaper_push(&s, 0, buf, 500), 0);
    assert_int_equal(link_shaper_free(&s), 500);
}

static void fin_follows_the_last_byte(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(50 * NS_PER_MS, 0, 0, 0);
    link_shaper_init(&s, &c);
    assert_int_equal(link_shaper_push(&s, 0, "abc", 3), 0);
    assert_int_equal(link_shaper_close(&s, NS_PER_MS), 0);
    assert_int_equal(link_shaper_close(&s, 2 * NS_PER_MS), 0); /* twice is harmless */
    assert_int_equal(link_shaper_push(&s, 2 * NS_PER_MS, "d", 1), -1);
    assert_int_equal(errno, EPIPE);
    /* Not while bytes are still queued, even when its own time has come. */
    assert_int_equal(link_shaper_take_fin(&s, 60 * NS_PER_MS), 0);
    expect_segment(&s, 50 * NS_PER_MS, 3);
    assert_int_equal(link_shaper_next_ns(&s), 51 * NS_PER_MS);
    assert_int_equal(link_shaper_take_fin(&s, 51 * NS_PER_MS - 1), 0);
    assert_int_equal(link_shaper_take_fin(&s, 51 * NS_PER_MS), 1);
    assert_int_equal(link_shaper_take_fin(&s, 52 * NS_PER_MS), 0); /* once */
    assert_int_equal(link_shaper_next_ns(&s), INT64_MAX);
    link_shaper_free(&s);

    /* Under jitter the FIN never passes a byte that drew a long delay. */
    c = config(10 * NS_PER_MS, 9 * NS_PER_MS, 0, 0);
    for (uint64_t seed = 1; seed <= 50; seed++) {
        c.seed = seed;
        link_shaper_init(&s, &c);
        link_shaper_push(&s, 0, "x", 1);
        int64_t byte_at = link_shaper_next_ns(&s);
        link_shaper_close(&s, 0);
        link_shaper_consume(&s, 1);
        assert_true(link_shaper_next_ns(&s) >= byte_at);
        link_shaper_free(&s);
    }

    /* Under a rate cap the FIN waits for the serialiser too. */
    c = config(5 * NS_PER_MS, 0, 1000000, 0);
    link_shaper_init(&s, &c);
    static char seg[1448];
    link_shaper_push(&s, 0, seg, sizeof(seg));
    link_shaper_close(&s, 0);
    expect_segment(&s, 11584000 + 5 * NS_PER_MS, 1448);
    assert_int_equal(link_shaper_next_ns(&s), 11584000 + 5 * NS_PER_MS);
    link_shaper_free(&s);
}

static void not_before_floors_arrivals(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(50 * NS_PER_MS, 0, 0, 0);
    c.not_before_ns = 100 * NS_PER_MS; /* e.g. a handshake still under way */
    link_shaper_init(&s, &c);
    link_shaper_push(&s, 0, "a", 1);
    link_shaper_push(&s, 200 * NS_PER_MS, "b", 1);
    expect_segment(&s, 150 * NS_PER_MS, 1);
    expect_segment(&s, 250 * NS_PER_MS, 1);
    link_shaper_free(&s);
}

/* A segment costs memory beyond its bytes, the same whatever its size: a thousand
 * one-byte pushes take far more than a thousand bytes, one push of a thousand bytes
 * hardly more; bytes held in buffer mode sit in one buffer and cost nothing extra. */
static void memory_counts_each_segment(void **state)
{
    (void)state;
    struct link_shaper s;
    struct link_shaper_config c = config(10 * NS_PER_MS, 0, 0, 0);
    link_shaper_init(&s, &c);
    for (int64_t i = 0; i < 1000; i++)
        assert_int_equal(link_shaper_push(&s, i * 1000, "x", 1), 0);
    assert_int_equal(link_shaper_pending(&s), 1000);
    assert_true(link_shaper_memory(&s) >= 1000 * (1 + 32)); /* a header is 32 bytes */
    const char *data;
    while (link_shaper_peek(&s, NS_PER_S, &data) > 0)
        link_shaper_consume(&s, 1);
    assert_int_equal(link_shaper_memory(&s), 0);
    static char big[1000];
    assert_int_equal(link_shaper_push(&s, NS_PER_S, big, sizeof(big)), 0);
    assert_true(link_shaper_memory(&s) > 1000 && link_shaper_memory(&s) < 1100);
    assert_int_equal(link_shaper_free(&s), 1000);
    assert_int_equal(link_shaper_memory(&s), 0);

    c = config(10 * NS_PER_MS, 0, 0, 1000);
    link_shaper_init(&s, &c);
    for (int64_t i = 0; i < 999; i++)
        assert_int_equal(link_shaper_push(&s, i, "x", 1), 0);
    assert_int_equal(link_shaper_memory(&s), 999);
    assert_int_equal(link_shaper_free(&s), 999);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_pipe_releases_at_once),
        cmocka_unit_test(delay_is_exact),
        cmocka_unit_test(jitter_stays_in_bounds_and_centres_on_delay),
        cmocka_unit_test(jitter_is_reproducible_from_the_seed),
        cmocka_unit_test(order_is_kept_under_jitter),
        cmocka_unit_test(rate_serialises_segment_by_segment),
        cmocka_unit_test(custom_segment_size_and_partial_consume),
        cmocka_unit_test(buffer_mode_holds_until_n),
        cmocka_unit_test(fin_follows_the_last_byte),
        cmocka_unit_test(not_before_floors_arrivals),
        cmocka_unit_test(memory_counts_each_segment),
    };
    return cmocka_run_group_tests_name("link_shaper", tests, NULL, NULL);
}
