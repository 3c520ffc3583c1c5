/* hist.c: log-linear latency histogram, 1 us to 10 min (see hist.h for the contract).
 *
 * Layout, after HdrHistogram with two significant digits: values 0..255 each have a
 * bucket of their own (index == value, exact). Above that, each power-of-two range
 * [2^k, 2^(k+1)), k = 8..29, is cut into 128 equal sub-buckets 2^(k-7) wide. A bucket is
 * then at most 1/128 (0.78%) of the smallest value in it, so reporting a bucket by its
 * highest value overstates a latency by less than 1% and never understates it. 2^30 is
 * the first power of two above HIST_HIGHEST_US, so there are 256 + 22 * 128 = 3072
 * buckets of 8 bytes: 24 KiB per histogram, whatever is recorded.
 *
 * Recording clamps the value into [HIST_LOWEST_US, HIST_HIGHEST_US] for the bucket (and
 * counts what was clamped as underflow or overflow), then finds the bucket with one
 * count-leading-zeros and two shifts. min, max and the sum for the mean use the value as
 * given. The sum is a long double: exact while its magnitude stays below 2^64 (x86-64's
 * 64-bit mantissa), e.g. 30 billion values of 10 minutes; past that its relative error is
 * 2^-64, and it never overflows.
 *
 * Percentiles walk the buckets in order (3072 steps), which is fine for a report at the
 * end of a run; nothing on the recording path depends on it.
 */
#include "hist.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#define HIST_SUB_BITS   7                    /* 128 sub-buckets per power of two */
#define HIST_SUB_COUNT  (1 << HIST_SUB_BITS) /* 128 */
#define HIST_LINEAR_MAX (2 * HIST_SUB_COUNT) /* values below 256 are exact */
#define HIST_TOP_BIT    30                   /* 2^30 > HIST_HIGHEST_US */
#define HIST_BUCKETS    (HIST_LINEAR_MAX + (HIST_TOP_BIT - 8) * HIST_SUB_COUNT)

struct hist {
    uint64_t counts[HIST_BUCKETS]; /* values per bucket; index 0 is never used */
    uint64_t total;     /* all values recorded, underflow and overflow included */
    uint64_t underflow; /* values below HIST_LOWEST_US */
    uint64_t overflow;  /* values above HIST_HIGHEST_US */
    int64_t min;        /* exact smallest value; valid when total > 0 */
    int64_t max;        /* exact largest value; valid when total > 0 */
    long double sum;    /* exact sum of values (see above) */
};

struct hist *hist_new(void)
{
    return calloc(1, sizeof(struct hist));
}

void hist_free(struct hist *h)
{
    free(h);
}

/* The bucket of v, for HIST_LOWEST_US <= v <= HIST_HIGHEST_US. */
static int bucket_of(int64_t v)
{
    if (v < HIST_LINEAR_MAX)
        return (int)v;
    int k = 63 - __builtin_clzll((unsigned long long)v); /* 2^k <= v < 2^(k+1), k >= 8 */
    int sub = (int)(v >> (k - HIST_SUB_BITS));           /* 128..255 */
    return HIST_LINEAR_MAX + (k - 8) * HIST_SUB_COUNT + (sub - HIST_SUB_COUNT);
}

/* The highest value that falls into bucket i. */
static int64_t bucket_high(int i)
{
    if (i < HIST_LINEAR_MAX)
        return i;
    int k = 8 + (i - HIST_LINEAR_MAX) / HIST_SUB_COUNT;
    int64_t sub = HIST_SUB_COUNT + (i - HIST_LINEAR_MAX) % HIST_SUB_COUNT;
    int shift = k - HIST_SUB_BITS;
    return ((sub + 1) << shift) - 1;
}

void hist_record(struct hist *h, int64_t value_us)
{
    int64_t v = value_us;
    if (v < HIST_LOWEST_US) {
        v = HIST_LOWEST_US;
        h->underflow++;
    } else if (v > HIST_HIGHEST_US) {
        v = HIST_HIGHEST_US;
        h->overflow++;
    }
    h->counts[bucket_of(v)]++;
    if (h->total == 0 || value_us < h->min)
        h->min = value_us;
    if (h->total == 0 || value_us > h->max)
        h->max = value_us;
    h->total++;
    h->sum += (long double)value_us;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    if (src->total == 0)
        return;
    for (int i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->total == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->total += src->total;
    dst->underflow += src->underflow;
    dst->overflow += src->overflow;
    dst->sum += src->sum;
}

uint64_t hist_count(const struct hist *h)
{
    return h->total;
}

uint64_t hist_underflow(const struct hist *h)
{
    return h->underflow;
}

uint64_t hist_overflow(const struct hist *h)
{
    return h->overflow;
}

int64_t hist_min(const struct hist *h)
{
    return h->total ? h->min : 0;
}

int64_t hist_max(const struct hist *h)
{
    return h->total ? h->max : 0;
}

double hist_mean(const struct hist *h)
{
    return h->total ? (double)(h->sum / (long double)h->total) : 0.0;
}

/* How many values must be at or below the answer for percentile p: ceil(p% of total),
 * at least 1. p*total/100 is computed in floating point, so a result within rounding error
 * of an integer is taken as that integer (99.9% of 1000 is 999, not 1000). */
static uint64_t count_for_percentile(const struct hist *h, double p)
{
    if (!(p > 0.0)) /* also NaN */
        return 1;
    if (p >= 100.0)
        return h->total;
    double x = p / 100.0 * (double)h->total;
    double r = nearbyint(x);
    double want = fabs(x - r) <= 8 * DBL_EPSILON * x ? r : ceil(x);
    uint64_t n = (uint64_t)want;
    if (n < 1)
        n = 1;
    return n > h->total ? h->total : n;
}

/* The value reported for bucket i: its highest value, but never above the exact max. */
static int64_t bucket_report(const struct hist *h, int i)
{
    int64_t v = bucket_high(i);
    return v < h->max ? v : h->max;
}

int64_t hist_value_at_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    uint64_t want = count_for_percentile(h, p);
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want)
            return bucket_report(h, i);
    }
    return h->max; /* not reached: the counts add up to total */
}

static int csv_row(FILE *f, double pct, int64_t us, uint64_t at_or_below)
{
    int n = fprintf(f, "%.6f,%" PRId64 ",%.3f,%" PRIu64 "\n", pct, us, (double)us / 1000.0,
                    at_or_below);
    return n < 0 ? -1 : 0;
}

/* Rows are in increasing percentile order: each fixed row comes just before the row of
 * the bucket that answers it, with the bucket's value and cumulative count. On an empty
 * histogram only the fixed rows are written, with value and count 0. */
int hist_write_csv(const struct hist *h, FILE *f)
{
    static const double fixed[] = {50.0, 90.0, 99.0, 99.9, 99.99, 100.0};
    const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    size_t next = 0;

    if (fprintf(f, "percentile,latency_us,latency_ms,count_at_or_below\n") < 0)
        return -1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS && h->total > 0; i++) {
        if (h->counts[i] == 0)
            continue;
        seen += h->counts[i];
        int64_t us = bucket_report(h, i);
        while (next < nfixed && count_for_percentile(h, fixed[next]) <= seen) {
            if (csv_row(f, fixed[next], us, seen) != 0)
                return -1;
            next++;
        }
        if (csv_row(f, 100.0 * (double)seen / (double)h->total, us, seen) != 0)
            return -1;
    }
    for (; next < nfixed; next++) {
        if (csv_row(f, fixed[next], 0, 0) != 0)
            return -1;
    }
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return 0;
}
