/* interval.h: how sure a measured value is: 95% intervals for a mean and for a share,
 * and the sample a run's figures really rest on.
 *
 * Methods (docs/MODELS.md, "How sure each number is"):
 *   - a share (missed updates, empty answers): Wilson's score interval, which stays
 *     inside [0, 1] and is honest at 0 and at small n (Wilson 1927; Brown, Cai and
 *     DasGupta, "Interval Estimation for a Binomial Proportion", Statistical Science
 *     2001, recommend it over the normal approximation);
 *   - a mean latency: the normal approximation, mean +- 1.96 s / sqrt(n), s the spread
 *     of single receipts read from the run's latency histogram (latency.csv).
 * n is the effective sample, not the count of receipts: every user receives the same
 * update at about the same moment, and one user's polls keep their phase, so receipts
 * cluster by update and by user. The smaller of the two cluster counts (users, updates
 * in the window) is what a mean or a share of that run rests on; it is conservative for
 * either kind of clustering. With a per-user spread in the client's results (not there
 * yet) the mean's interval could be taken over per-user means instead.
 */
#ifndef PUSHPULL_LAB_INTERVAL_H
#define PUSHPULL_LAB_INTERVAL_H

#include <stdbool.h>

#define INTERVAL_Z           1.959964 /* the normal quantile of a two-sided 95% interval */
#define INTERVAL_MIN_UPDATES 30       /* fewer updates in a window: "too few samples" */

struct interval {
    double lo, hi; /* the bounds; NAN when the interval is unknown */
};

/* Wilson's 95% interval for a share p observed over n trials (n > 0), else NANs. */
struct interval interval_wilson(double p, double n);
/* mean +- z sd / sqrt(n) (n >= 2, sd known), else NANs. */
struct interval interval_mean(double mean, double sd, double n);
/* Whether v lies inside iv (false when iv is unknown). */
bool interval_contains(struct interval iv, double v);
/* The effective sample of a run: min(users, updates each was to receive), at least 1
 * when both are positive; NAN when either is unknown. */
double interval_effective_n(double users, double updates);

/* The spread of single receipts from a latency.csv (the client's histogram spectrum:
 * percentile, latency_us, latency_ms, count_at_or_below, one row per bucket): their
 * mean and standard deviation in ms and their count. 0, or -1 when the file is missing
 * or holds no receipt. */
int interval_latency_spread(const char *path, double *mean_ms, double *sd_ms,
                            double *count);

#endif
