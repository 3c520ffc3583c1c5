/* hist.h: a log-linear latency histogram, 1 us to 10 min with at most 1% error.
 *
 * After HdrHistogram: values fall into power-of-two ranges, each split into equal
 * sub-buckets, so the relative error is bounded everywhere and memory is fixed (a few tens
 * of KiB) no matter how many values are recorded. Recording is O(1), no allocation. One
 * histogram per thread, merged at the end.
 */
#ifndef PUSHPULL_HIST_H
#define PUSHPULL_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_LOWEST_US  INT64_C(1)         /* values below are counted as underflow */
#define HIST_HIGHEST_US INT64_C(600000000) /* 10 min; values above count as overflow */

struct hist; /* opaque */

/* Allocate an empty histogram; NULL when out of memory. Free it with hist_free. */
struct hist *hist_new(void);
void hist_free(struct hist *h);
/* Record one value in microseconds. Below HIST_LOWEST_US (including 0 and negatives, e.g.
 * clock skew) it counts in the lowest bucket and in underflow; above HIST_HIGHEST_US in
 * the highest bucket and in overflow. min, max and mean always use the exact value. */
void hist_record(struct hist *h, int64_t value_us);
/* Add every count of src to dst. */
void hist_merge(struct hist *dst, const struct hist *src);
uint64_t hist_count(const struct hist *h);
uint64_t hist_underflow(const struct hist *h);
uint64_t hist_overflow(const struct hist *h);
int64_t hist_min(const struct hist *h); /* exact; 0 when empty */
int64_t hist_max(const struct hist *h); /* exact; 0 when empty */
double hist_mean(const struct hist *h); /* exact (kept as a running sum); 0 when empty */
/* The value at percentile p (0..100]: the smallest bucket value v such that at least p%
 * of the recorded values are <= v (reported as the bucket's highest equivalent value,
 * capped at hist_max). 0 when empty. */
int64_t hist_value_at_percentile(const struct hist *h, double p);
/* How many recorded values are certainly at or below v_us: those in buckets whose highest
 * value is at most v_us (a bucket straddling v_us is left out, so this is a lower bound,
 * exact for v_us below 256 us or on a bucket's highest value). 0 when v_us < 1. */
uint64_t hist_count_at_or_below(const struct hist *h, int64_t v_us);
/* Write the percentile spectrum as CSV with header
 * "percentile,latency_us,latency_ms,count_at_or_below": one row per non-empty bucket,
 * plus fixed rows for 50, 90, 99, 99.9, 99.99 and 100. Returns 0, or -1 on a write error.
 */
int hist_write_csv(const struct hist *h, FILE *f);
/* Write the raw histogram, so another process can rebuild it exactly (an exact merge of
 * runs: pushpull-client merge). CSV with header "kind,bucket_high_us,value": six rows of
 * totals (kind count, underflow, overflow, min_us, max_us, sum_us; bucket_high_us empty),
 * then one row per non-empty bucket in increasing order (kind bucket, the bucket's highest
 * value, its count). Returns 0, or -1 on a write error. */
int hist_write_buckets(const struct hist *h, FILE *f);
/* Read a file written by hist_write_buckets and add it to h (as hist_merge would: read
 * several files into one histogram to merge them). 0, or -1 with one line in err naming
 * the line and what was expected; h is unchanged on failure. */
int hist_read_buckets(struct hist *h, FILE *f, char *err, size_t errlen);

#endif
