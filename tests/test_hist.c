/* test_hist.c: unit tests for the log-linear latency histogram (common/hist.c).
 *
 * The error bound is checked through the public API only. A bucket walk records the lowest
 * and highest value of every bucket from 1 us to 10 min, with a sentinel at the top so the
 * answer is not capped at the max. Every value 1..2^24 is recorded and read back from the
 * CSV spectrum. Known distributions and a random log-uniform sample are compared with exact
 * percentiles from a sorted copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/* Reported value r for exact value v: never below, at most 1% above. */
#define assert_within_1pct(r, v)                                                           \
    do {                                                                                   \
        int64_t r_ = (r), v_ = (v);                                                        \
        if (r_ < v_ || (double)(r_ - v_) > 0.01 * (double)v_)                              \
            fail_msg("reported %" PRId64 " for %" PRId64 " (line %d)", r_, v_, __LINE__);  \
    } while (0)

static const double some_percentiles[] = {0.001, 0.1,  1,    5,     10,     25,
                                          33.3,  50,   66.7, 75,    90,     95,
                                          99,    99.5, 99.9, 99.99, 99.999, 100};
#define NPCT (sizeof(some_percentiles) / sizeof(some_percentiles[0]))

/* A small fixed-seed generator (xorshift64*), so failures reproduce. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Log-uniform in [1, HIST_HIGHEST_US]: every octave equally likely. */
static int64_t rng_latency(uint64_t *s)
{
    double u = (double)(rng_next(s) >> 11) / 9007199254740992.0; /* [0, 1) */
    int64_t v = (int64_t)exp(u * log((double)HIST_HIGHEST_US));
    return v < 1 ? 1 : v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The exact percentile of sorted values: the smallest v with at least p% at or below. */
static int64_t exact_percentile(const int64_t *sorted, size_t n, double p)
{
    double x = p / 100.0 * (double)n;
    double r = nearbyint(x);
    size_t k = fabs(x - r) < 1e-9 * x ? (size_t)r : (size_t)ceil(x);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return sorted[k - 1];
}

static void test_empty(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_underflow(h), 0);
    assert_int_equal(hist_overflow(h), 0);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 0);
    assert_true(hist_mean(h) == 0.0);
    for (size_t i = 0; i < NPCT; i++)
        assert_int_equal(hist_value_at_percentile(h, some_percentiles[i]), 0);
    struct hist *e = hist_new();
    assert_non_null(e);
    hist_merge(h, e);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_min(h), 0);
    hist_free(e);
    hist_free(h);
    hist_free(NULL);
}

static void test_single_value(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    hist_record(h, 12345);
    assert_int_equal(hist_count(h), 1);
    assert_int_equal(hist_min(h), 12345);
    assert_int_equal(hist_max(h), 12345);
    assert_true(hist_mean(h) == 12345.0);
    /* The bucket's top is capped at the exact max, so one value reads back exactly. */
    for (size_t i = 0; i < NPCT; i++)
        assert_int_equal(hist_value_at_percentile(h, some_percentiles[i]), 12345);
    hist_free(h);
}

/* Below 256 every value has its own bucket. */
static void test_low_values_exact(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    hist_record(h, HIST_HIGHEST_US); /* sentinel: keeps the cap out of the way */
    for (int64_t v = 1; v < 256; v++)
        hist_record(h, v);
    for (int64_t k = 1; k < 256; k++)
        assert_int_equal(hist_value_at_percentile(h, 100.0 * (double)k / 256.0), k);
    hist_free(h);
}

/* Walk the buckets upward: record a bucket's lowest value, read back its top r, record r
 * and read it back as r too; the next bucket starts at r + 1. The worst error in a bucket
 * is its top against its lowest value. */
static void test_every_bucket_within_1pct(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    hist_record(h, HIST_HIGHEST_US + 1); /* sentinel in the top bucket */
    uint64_t k = 0;
    int buckets = 0;
    int64_t v = HIST_LOWEST_US;
    while (v <= HIST_HIGHEST_US) {
        hist_record(h, v);
        k++;
        int64_t r = hist_value_at_percentile(h, 100.0 * (double)k / (double)(k + 1));
        assert_within_1pct(r, v);
        hist_record(h, r < HIST_HIGHEST_US ? r : HIST_HIGHEST_US);
        k++;
        assert_int_equal(hist_value_at_percentile(h, 100.0 * (double)k / (double)(k + 1)),
                         r);
        v = r + 1;
        buckets++;
    }
    /* Fixed memory, few tens of KiB: a bucket count in the low thousands. */
    assert_true(buckets > 1000 && buckets < 4000);
    hist_free(h);
}

/* One CSV row. */
struct row {
    double pct;
    int64_t us;
    double ms;
    uint64_t count;
};

/* Parse "pct,us,ms,count\n" strictly. 0 on success. */
static int parse_row(const char *line, struct row *out)
{
    char *end;
    errno = 0;
    out->pct = strtod(line, &end);
    if (end == line || *end != ',')
        return -1;
    const char *s = end + 1;
    out->us = strtoll(s, &end, 10);
    if (end == s || *end != ',')
        return -1;
    s = end + 1;
    out->ms = strtod(s, &end);
    if (end == s || *end != ',')
        return -1;
    s = end + 1;
    out->count = strtoull(s, &end, 10);
    if (end == s || *end != '\n' || end[1] != '\0' || errno != 0)
        return -1;
    return 0;
}

/* Write h as CSV into a temporary file and read the rows back. Returns the row count;
 * *rows is malloc'ed (the caller frees it). */
static size_t csv_rows(const struct hist *h, struct row **rows)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(hist_write_csv(h, f), 0);
    rewind(f);
    char line[256];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "percentile,latency_us,latency_ms,count_at_or_below\n");
    size_t n = 0, cap = 64;
    *rows = malloc(cap * sizeof(**rows));
    assert_non_null(*rows);
    while (fgets(line, sizeof(line), f)) {
        if (n == cap) {
            cap *= 2;
            *rows = realloc(*rows, cap * sizeof(**rows));
            assert_non_null(*rows);
        }
        if (parse_row(line, &(*rows)[n]) != 0)
            fail_msg("bad CSV row: %s", line);
        n++;
    }
    assert_false(ferror(f));
    fclose(f);
    return n;
}

/* Every value 1..2^24 once, read back from the spectrum: bucket i holds exactly the values
 * in (top of bucket i-1, top of bucket i], and its top is within 1% of its lowest value. */
static void test_every_value_via_csv(void **state)
{
    (void)state;
    const int64_t n = INT64_C(1) << 24;
    struct hist *h = hist_new();
    assert_non_null(h);
    for (int64_t v = 1; v <= n; v++)
        hist_record(h, v);
    struct row *rows;
    size_t nrows = csv_rows(h, &rows);
    int64_t prev_top = 0;
    uint64_t prev_count = 0;
    size_t buckets = 0;
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].count == prev_count)
            continue; /* a fixed percentile row, or a repeat of the bucket */
        if (rows[i].count - prev_count != (uint64_t)(rows[i].us - prev_top))
            fail_msg("bucket ending at %" PRId64 " holds %" PRIu64 " values, want %" PRId64,
                     rows[i].us, rows[i].count - prev_count, rows[i].us - prev_top);
        assert_within_1pct(rows[i].us, prev_top + 1);
        prev_top = rows[i].us;
        prev_count = rows[i].count;
        buckets++;
    }
    assert_int_equal(prev_top, n);
    assert_int_equal(prev_count, n);
    assert_int_equal(nrows, buckets + 6);
    free(rows);
    hist_free(h);
}

static void test_uniform(void **state)
{
    (void)state;
    const int64_t n = 100000;
    struct hist *h = hist_new();
    assert_non_null(h);
    for (int64_t v = n; v >= 1; v--) /* order must not matter */
        hist_record(h, v);
    assert_int_equal(hist_count(h), n);
    assert_int_equal(hist_min(h), 1);
    assert_int_equal(hist_max(h), n);
    assert_true(hist_mean(h) == 50000.5);
    for (size_t i = 0; i < NPCT; i++) {
        double p = some_percentiles[i];
        int64_t exact = (int64_t)ceil(p / 100.0 * (double)n - 1e-9);
        if (exact < 1)
            exact = 1;
        assert_within_1pct(hist_value_at_percentile(h, p), exact);
    }
    assert_int_equal(hist_value_at_percentile(h, 100), n);
    hist_free(h);
}

/* 900 values of 100 us and 100 of 1 s: "at least p%" is exact at the step. */
static void test_bimodal(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    for (int i = 0; i < 900; i++)
        hist_record(h, 100);
    for (int i = 0; i < 100; i++)
        hist_record(h, 1000000);
    assert_int_equal(hist_value_at_percentile(h, 50), 100);
    assert_int_equal(hist_value_at_percentile(h, 90), 100);
    assert_int_equal(hist_value_at_percentile(h, 90.1), 1000000);
    assert_int_equal(hist_value_at_percentile(h, 99.9), 1000000);
    assert_true(fabs(hist_mean(h) - 100090.0) < 1e-9);
    hist_free(h);
}

static void test_random_against_sorted(void **state)
{
    (void)state;
    const size_t n = 200000;
    int64_t *vals = malloc(n * sizeof(*vals));
    assert_non_null(vals);
    struct hist *h = hist_new();
    assert_non_null(h);
    uint64_t seed = 0x9E3779B97F4A7C15u;
    long double sum = 0;
    for (size_t i = 0; i < n; i++) {
        vals[i] = rng_latency(&seed);
        sum += vals[i];
        hist_record(h, vals[i]);
    }
    qsort(vals, n, sizeof(*vals), cmp_i64);
    assert_int_equal(hist_min(h), vals[0]);
    assert_int_equal(hist_max(h), vals[n - 1]);
    assert_true(hist_mean(h) == (double)(sum / n));
    for (size_t i = 0; i < NPCT; i++) {
        double p = some_percentiles[i];
        assert_within_1pct(hist_value_at_percentile(h, p), exact_percentile(vals, n, p));
    }
    for (double p = 0.5; p <= 100.0; p += 0.5)
        assert_within_1pct(hist_value_at_percentile(h, p), exact_percentile(vals, n, p));
    free(vals);
    hist_free(h);
}

/* Write the CSV of h into a malloc'ed string (the caller frees it). */
static char *csv_text(const struct hist *h)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(hist_write_csv(h, f), 0);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    char *s = malloc((size_t)len + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    s[len] = '\0';
    fclose(f);
    return s;
}

static void assert_same_hist(const struct hist *a, const struct hist *b)
{
    assert_int_equal(hist_count(a), hist_count(b));
    assert_int_equal(hist_underflow(a), hist_underflow(b));
    assert_int_equal(hist_overflow(a), hist_overflow(b));
    assert_int_equal(hist_min(a), hist_min(b));
    assert_int_equal(hist_max(a), hist_max(b));
    assert_true(hist_mean(a) == hist_mean(b));
    for (size_t i = 0; i < NPCT; i++)
        assert_int_equal(hist_value_at_percentile(a, some_percentiles[i]),
                         hist_value_at_percentile(b, some_percentiles[i]));
    char *ta = csv_text(a);
    char *tb = csv_text(b);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
}

static void test_merge(void **state)
{
    (void)state;
    struct hist *a = hist_new(), *b = hist_new(), *both = hist_new(), *empty = hist_new();
    assert_true(a && b && both && empty);
    uint64_t seed = 42;
    for (int i = 0; i < 50000; i++) {
        int64_t v = rng_latency(&seed);
        hist_record(a, v);
        hist_record(both, v);
    }
    for (int i = 0; i < 30000; i++) {
        int64_t v = rng_latency(&seed) / 1000 - 5; /* some below 1: underflow */
        hist_record(b, v);
        hist_record(both, v);
    }
    hist_record(b, HIST_HIGHEST_US * 2);
    hist_record(both, HIST_HIGHEST_US * 2);

    hist_merge(empty, a); /* into an empty one: min and max come from src */
    assert_same_hist(empty, a);
    hist_merge(a, b);
    assert_same_hist(a, both);
    struct hist *none = hist_new();
    assert_non_null(none);
    hist_merge(a, none); /* an empty src changes nothing */
    assert_same_hist(a, both);
    hist_free(none);
    hist_free(a);
    hist_free(b);
    hist_free(both);
    hist_free(empty);
}

/* A histogram through its raw-bucket file: write h, read it back into a fresh one. */
static struct hist *through_buckets(const struct hist *h)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(hist_write_buckets(h, f), 0);
    rewind(f);
    struct hist *back = hist_new();
    assert_non_null(back);
    char err[200];
    assert_int_equal(hist_read_buckets(back, f, err, sizeof(err)), 0);
    fclose(f);
    return back;
}

/* The exact merge the issue asks for: the samples of one population split among N
 * histograms (as N client partitions would record them), each written to its bucket file,
 * the files read into one histogram: every figure and the whole percentile spectrum equal
 * those of the one histogram that saw every sample. */
static void test_buckets_merge_exact(void **state)
{
    (void)state;
    enum { N = 5 };
    struct hist *all = hist_new(), *part[N], *merged = hist_new();
    assert_true(all && merged);
    for (int i = 0; i < N; i++) {
        part[i] = hist_new();
        assert_non_null(part[i]);
    }
    uint64_t seed = 7;
    for (int i = 0; i < 200000; i++) {
        int64_t v = rng_latency(&seed);
        if (i % 97 == 0)
            v = -(v % 5000); /* clock skew: underflow, negative min */
        if (i % 1013 == 0)
            v = HIST_HIGHEST_US + v; /* overflow */
        hist_record(all, v);
        hist_record(part[(rng_next(&seed) >> 7) % N], v); /* uneven shares */
    }
    struct hist *none = hist_new(); /* a partition that recorded nothing */
    assert_non_null(none);
    for (int i = 0; i < N + 1; i++) {
        FILE *f = tmpfile();
        assert_non_null(f);
        assert_int_equal(hist_write_buckets(i < N ? part[i] : none, f), 0);
        rewind(f);
        char err[200] = "";
        if (hist_read_buckets(merged, f, err, sizeof(err)) != 0)
            fail_msg("partition %d: %s", i, err);
        fclose(f);
    }
    assert_same_hist(merged, all);
    for (double p = 0.5; p <= 100.0; p += 0.5)
        assert_int_equal(hist_value_at_percentile(merged, p),
                         hist_value_at_percentile(all, p));
    /* one histogram through its file is itself, the empty one too */
    struct hist *back = through_buckets(all);
    assert_same_hist(back, all);
    hist_free(back);
    back = through_buckets(none);
    assert_same_hist(back, none);
    hist_free(back);
    for (int i = 0; i < N; i++)
        hist_free(part[i]);
    hist_free(none);
    hist_free(all);
    hist_free(merged);
}

/* Read text as a bucket file into h; the return code, err holds the message. */
static int read_text(struct hist *h, const char *text, char *err, size_t errlen)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs(text, f);
    rewind(f);
    int rc = hist_read_buckets(h, f, err, errlen);
    fclose(f);
    return rc;
}

static void test_buckets_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"", "empty file"},
        {"percentile,latency_us\n", "line 1: expected the header"},
        {"kind,bucket_high_us,value\ncount,,1\n", "no underflow row"},
        {"kind,bucket_high_us,value\ncount,,1\nunderflow,,0\noverflow,,0\nmin_us,,5\n"
         "max_us,,5\nsum_us,,5\n",
         "the totals disagree"},
        {"kind,bucket_high_us,value\nbucket,258,1\n", "258 is not a bucket's highest"},
        {"kind,bucket_high_us,value\nbucket,5,x\n", "line 2: expected bucket,"},
        {"kind,bucket_high_us,value\nbucket,5,1\nbucket,5,1\n", "line 3: bucket 5 twice"},
        {"kind,bucket_high_us,value\ncount,,1\ncount,,1\n", "line 3: expected one row"},
        {"kind,bucket_high_us,value\nmean,,1\n", "unknown kind 'mean'"},
        {"kind,bucket_high_us,value\ncount,1\n", "expected three fields"},
        {"kind,bucket_high_us,value\ncount,,1", "line 2: too long or not ended"},
    };
    struct hist *h = hist_new();
    assert_non_null(h);
    hist_record(h, 1234);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[200] = "";
        assert_int_equal(read_text(h, bad[i].text, err, sizeof(err)), -1);
        if (!strstr(err, bad[i].expect))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].expect);
    }
    /* unchanged by every failure */
    assert_int_equal(hist_count(h), 1);
    assert_int_equal(hist_min(h), 1234);
    assert_int_equal(hist_max(h), 1234);
    hist_free(h);
}

static void test_count_at_or_below(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    assert_int_equal(hist_count_at_or_below(h, 1000), 0);
    const int64_t vals[] = {-5, 0, 1, 100, 255, 256, 257, 1000, 1007, 5000};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        hist_record(h, vals[i]);
    assert_int_equal(hist_count_at_or_below(h, 0), 0);
    assert_int_equal(hist_count_at_or_below(h, 1), 3); /* -5 and 0 count as 1 (underflow) */
    assert_int_equal(hist_count_at_or_below(h, 255), 5);
    assert_int_equal(hist_count_at_or_below(h, 257), 7);  /* 256 and 257 share a bucket */
    assert_int_equal(hist_count_at_or_below(h, 256), 5);  /* that bucket straddles 256 */
    assert_int_equal(hist_count_at_or_below(h, 1003), 8); /* 1000's bucket: [1000, 1003] */
    assert_int_equal(hist_count_at_or_below(h, 1002), 7); /* straddled: left out */
    assert_int_equal(hist_count_at_or_below(h, 1007), 9);
    assert_int_equal(hist_count_at_or_below(h, INT64_MAX), 10);
    hist_free(h);
}

static void test_underflow_overflow(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    const int64_t vals[] = {
        0, -1, INT64_MIN, 1, HIST_HIGHEST_US, HIST_HIGHEST_US + 1, INT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        hist_record(h, vals[i]);
    assert_int_equal(hist_count(h), 7);
    assert_int_equal(hist_underflow(h), 3);
    assert_int_equal(hist_overflow(h), 2);
    assert_int_equal(hist_min(h), INT64_MIN);
    assert_int_equal(hist_max(h), INT64_MAX);
    /* INT64_MIN + INT64_MAX = -1, and the rest add up to 1200000001. */
    assert_true(fabs(hist_mean(h) - 1200000000.0 / 7.0) < 1e-6);
    /* Underflow sits in the lowest bucket, overflow in the highest. */
    assert_int_equal(hist_value_at_percentile(h, 100.0 * 4 / 7), 1);
    int64_t top = hist_value_at_percentile(h, 100);
    assert_within_1pct(top, HIST_HIGHEST_US);
    assert_int_equal(hist_value_at_percentile(h, 100.0 * 5 / 7), top);

    /* All below range: the answer is capped at the exact max. */
    struct hist *low = hist_new();
    assert_non_null(low);
    hist_record(low, 0);
    hist_record(low, -7);
    assert_int_equal(hist_value_at_percentile(low, 50), 0);
    assert_int_equal(hist_min(low), -7);
    assert_true(hist_mean(low) == -3.5);
    hist_free(low);
    hist_free(h);
}

static void test_percentile_edges(void **state)
{
    (void)state;
    struct hist *h = hist_new();
    assert_non_null(h);
    for (int64_t v = 1; v <= 1000; v++)
        hist_record(h, v);
    /* 99.9% of 1000 is 999 exactly, not 1000 from rounding in p/100*n. */
    assert_int_equal(hist_value_at_percentile(h, 99.9), 999);
    assert_int_equal(hist_value_at_percentile(h, 0.1), 1);
    assert_int_equal(hist_value_at_percentile(h, 1e-9), 1);
    assert_int_equal(hist_value_at_percentile(h, 100), 1000);
    /* Outside (0, 100]: clamped to the lowest and highest value. */
    assert_int_equal(hist_value_at_percentile(h, 0), 1);
    assert_int_equal(hist_value_at_percentile(h, -5), 1);
    assert_int_equal(hist_value_at_percentile(h, 150), 1000);
    assert_int_equal(hist_value_at_percentile(h, NAN), 1);
    hist_free(h);

    /* "At least p%" rounds the count up: 40% of 3 values needs 2 of them (1 is 33%). */
    h = hist_new();
    assert_non_null(h);
    hist_record(h, 10);
    hist_record(h, 20);
    hist_record(h, 30);
    assert_int_equal(hist_value_at_percentile(h, 33.3), 10);
    assert_int_equal(hist_value_at_percentile(h, 34), 20);
    assert_int_equal(hist_value_at_percentile(h, 40), 20);
    assert_int_equal(hist_value_at_percentile(h, 100.0 * 2 / 3), 20);
    assert_int_equal(hist_value_at_percentile(h, 67), 30);
    hist_free(h);
}

static void test_csv(void **state)
{
    (void)state;
    static const double fixed[] = {50, 90, 99, 99.9, 99.99, 100};
    struct hist *h = hist_new();
    assert_non_null(h);
    uint64_t seed = 7;
    for (int i = 0; i < 20000; i++)
        hist_record(h, rng_latency(&seed));
    struct row *rows;
    size_t n = csv_rows(h, &rows);
    assert_true(n > 6);
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        assert_true(r->pct > 0 && r->pct <= 100);
        assert_true(r->count >= 1 && r->count <= hist_count(h));
        assert_true(fabs(r->ms * 1000.0 - (double)r->us) < 0.5);
        if (i > 0) {
            assert_true(r->pct >= rows[i - 1].pct);
            assert_true(r->us >= rows[i - 1].us);
            assert_true(r->count >= rows[i - 1].count);
        }
        /* A bucket row's percentile is its cumulative share. */
        if (found < 6 && fabs(r->pct - fixed[found]) < 1e-9) {
            assert_int_equal(r->us, hist_value_at_percentile(h, fixed[found]));
            found++;
        } else {
            assert_true(fabs(r->pct - 100.0 * (double)r->count / (double)hist_count(h)) <
                        1e-5);
        }
    }
    assert_int_equal(found, 6);
    assert_int_equal(rows[n - 1].count, hist_count(h));
    assert_int_equal(rows[n - 1].us, hist_max(h));
    free(rows);

    /* Empty: the header and the six fixed rows, all zero. */
    struct hist *e = hist_new();
    assert_non_null(e);
    n = csv_rows(e, &rows);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(rows[i].pct - fixed[i]) < 1e-9);
        assert_int_equal(rows[i].us, 0);
        assert_int_equal(rows[i].count, 0);
    }
    free(rows);
    hist_free(e);
    hist_free(h);
}

static void test_csv_write_error(void **state)
{
    (void)state;
    /* Long output fails in fprintf once the stdio buffer fills; short output only at the
     * final flush. Both must be reported. */
    struct hist *h = hist_new();
    assert_non_null(h);
    hist_record(h, 5);
    for (int round = 0; round < 2; round++) {
        FILE *f = fopen("/dev/full", "w");
        if (!f)
            skip();
        assert_int_equal(hist_write_csv(h, f), -1);
        fclose(f);
        for (int64_t v = 1; v < 100000; v += 7)
            hist_record(h, v);
    }
    hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_low_values_exact),
        cmocka_unit_test(test_every_bucket_within_1pct),
        cmocka_unit_test(test_every_value_via_csv),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_bimodal),
        cmocka_unit_test(test_random_against_sorted),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_buckets_merge_exact),
        cmocka_unit_test(test_buckets_bad_input),
        cmocka_unit_test(test_count_at_or_below),
        cmocka_unit_test(test_underflow_overflow),
        cmocka_unit_test(test_percentile_edges),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
