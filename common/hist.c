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
 *
 * The raw form (hist_write_buckets / hist_read_buckets) is what makes a merge of separate
 * processes exact: the totals and every non-empty bucket, named by its highest value (so
 * the file reads without knowing the layout's constants, and a file from another layout
 * is refused rather than misread). The sum is written as a whole number: the values are
 * whole microseconds, so it is one while it is exact (above).
 */
#include "hist.h"

#include <errno.h>
#include <float.h>
#include <stdbool.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

uint64_t hist_count_at_or_below(const struct hist *h, int64_t v_us)
{
    uint64_t n = 0;
    for (int i = 1; i < HIST_BUCKETS && bucket_high(i) <= v_us; i++)
        n += h->counts[i];
    return n;
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

/* ---- raw buckets -------------------------------------------------------------------- */

int hist_write_buckets(const struct hist *h, FILE *f)
{
    if (fprintf(f,
                "kind,bucket_high_us,value\ncount,,%" PRIu64 "\nunderflow,,%" PRIu64
                "\noverflow,,%" PRIu64 "\nmin_us,,%" PRId64 "\nmax_us,,%" PRId64
                "\nsum_us,,%.0Lf\n",
                h->total, h->underflow, h->overflow, hist_min(h), hist_max(h), h->sum) < 0)
        return -1;
    for (int i = 1; i < HIST_BUCKETS; i++) {
        if (h->counts[i] == 0)
            continue;
        if (fprintf(f, "bucket,%" PRId64 ",%" PRIu64 "\n", bucket_high(i), h->counts[i]) <
            0)
            return -1;
    }
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return 0;
}

/* A whole number filling all of s (an optional '-' when sign). 0 or -1. */
static int parse_whole(const char *s, bool sign, long double *out)
{
    const char *p = s;
    if (sign && *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    char *end = NULL;
    *out = strtold(s, &end);
    return end && *end == '\0' ? 0 : -1;
}

enum { T_COUNT, T_UNDER, T_OVER, T_MIN, T_MAX, T_SUM, T__N };
static const char *const total_names[T__N] = {"count",  "underflow", "overflow",
                                              "min_us", "max_us",    "sum_us"};

/* One data line "kind,high,value" into t (a scratch histogram) and seen. 0, or -1 with
 * what was wrong in err. */
static int read_line(struct hist *t, long double *tot, bool *seen, char *line, char *err,
                     size_t errlen)
{
    char *c1 = strchr(line, ',');
    char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c2 || strchr(c2 + 1, ',')) {
        snprintf(err, errlen, "expected three fields kind,bucket_high_us,value");
        return -1;
    }
    *c1 = *c2 = '\0';
    const char *kind = line, *high = c1 + 1, *value = c2 + 1;
    long double v, hv;
    if (strcmp(kind, "bucket") == 0) {
        if (parse_whole(high, false, &hv) != 0 || hv < 1 || hv > (long double)INT64_MAX ||
            parse_whole(value, false, &v) != 0 || v < 1 || v > 0x1p64L - 1) {
            snprintf(err, errlen, "expected bucket,<highest value>,<count>");
            return -1;
        }
        int64_t hi = (int64_t)hv;
        int i = bucket_of(hi < HIST_HIGHEST_US ? hi : HIST_HIGHEST_US); /* the top one's
                                                                high is above the range */
        if (i < 1 || bucket_high(i) != hi) {
            snprintf(err, errlen, "%" PRId64 " is not a bucket's highest value", hi);
            return -1;
        }
        if (t->counts[i] != 0) {
            snprintf(err, errlen, "bucket %" PRId64 " twice", hi);
            return -1;
        }
        t->counts[i] = (uint64_t)v;
        return 0;
    }
    for (int k = 0; k < T__N; k++) {
        if (strcmp(kind, total_names[k]) != 0)
            continue;
        bool sign = k == T_MIN || k == T_MAX || k == T_SUM;
        if (high[0] != '\0' || parse_whole(value, sign, &v) != 0 || seen[k]) {
            snprintf(err, errlen, "expected one row %.20s,,<whole number>", kind);
            return -1;
        }
        seen[k] = true;
        tot[k] = v;
        return 0;
    }
    snprintf(err, errlen,
             "unknown kind '%.20s' (count, underflow, overflow, min_us, max_us, "
             "sum_us or bucket)",
             kind);
    return -1;
}

/* The totals read agree with the buckets read; fill them into t. 0 or -1 with err. */
static int check_totals(struct hist *t, const long double *tot, const bool *seen, char *err,
                        size_t errlen)
{
    for (int k = 0; k < T__N; k++)
        if (!seen[k]) {
            snprintf(err, errlen, "no %s row", total_names[k]);
            return -1;
        }
    uint64_t n = 0;
    for (int i = 0; i < HIST_BUCKETS; i++)
        n += t->counts[i];
    if (tot[T_COUNT] != (long double)n || tot[T_UNDER] + tot[T_OVER] > tot[T_COUNT] ||
        (n > 0 && tot[T_MIN] > tot[T_MAX]) || tot[T_MIN] < (long double)INT64_MIN ||
        tot[T_MAX] > (long double)INT64_MAX) {
        snprintf(err, errlen,
                 "the totals disagree with the buckets (count %.0Lf, buckets "
                 "%" PRIu64 ")",
                 tot[T_COUNT], n);
        return -1;
    }
    t->total = n;
    t->underflow = (uint64_t)tot[T_UNDER];
    t->overflow = (uint64_t)tot[T_OVER];
    t->min = (int64_t)tot[T_MIN];
    t->max = (int64_t)tot[T_MAX];
    t->sum = tot[T_SUM];
    return 0;
}

int hist_read_buckets(struct hist *h, FILE *f, char *err, size_t errlen)
{
    int rc = -1;
    char line[256], why[160];
    long double tot[T__N] = {0};
    bool seen[T__N] = {false};
    unsigned lineno = 0;
    struct hist *t = hist_new();
    if (!t) {
        snprintf(err, errlen, "hist_new: out of memory");
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            snprintf(err, errlen, "line %u: too long or not ended by a newline", lineno);
            goto end;
        }
        line[len - 1] = '\0';
        if (lineno == 1) {
            if (strcmp(line, "kind,bucket_high_us,value") != 0) {
                snprintf(err, errlen,
                         "line 1: expected the header kind,bucket_high_us,value");
                goto end;
            }
            continue;
        }
        if (read_line(t, tot, seen, line, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "line %u: %s", lineno, why);
            goto end;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "read: %s", strerror(errno));
        goto end;
    }
    if (lineno == 0) {
        snprintf(err, errlen, "empty file (expected the header kind,bucket_high_us,value)");
        goto end;
    }
    if (check_totals(t, tot, seen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s", why);
        goto end;
    }
    hist_merge(h, t);
    rc = 0;
end:
    hist_free(t);
    return rc;
}
