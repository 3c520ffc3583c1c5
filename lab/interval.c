/* interval.c: 95% intervals and effective samples (see interval.h). */
#include "interval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const struct interval unknown = {NAN, NAN};

struct interval interval_wilson(double p, double n)
{
    if (!(n > 0) || isnan(p) || p < 0 || p > 1)
        return unknown;
    double z = INTERVAL_Z, z2 = z * z;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z / (1 + z2 / n) * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    struct interval iv = {p == 0 ? 0 : fmax(0, centre - half),
                          p == 1 ? 1 : fmin(1, centre + half)};
    return iv;
}

struct interval interval_mean(double mean, double sd, double n)
{
    if (!(n >= 2) || isnan(mean) || isnan(sd) || sd < 0)
        return unknown;
    double half = INTERVAL_Z * sd / sqrt(n);
    struct interval iv = {mean - half, mean + half};
    return iv;
}

bool interval_contains(struct interval iv, double v)
{
    return !isnan(iv.lo) && !isnan(iv.hi) && v >= iv.lo && v <= iv.hi;
}

double interval_effective_n(double users, double updates)
{
    if (isnan(users) || isnan(updates))
        return NAN;
    double n = fmin(users, updates);
    return n > 0 ? fmax(1, floor(n)) : 0;
}

int interval_latency_spread(const char *path, double *mean_ms, double *sd_ms, double *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    double below = 0, sum = 0, sum2 = 0;
    while (fgets(line, sizeof(line), f)) {
        double v[4];
        const char *p = line;
        size_t k = 0;
        for (; k < 4; k++) {
            char *end;
            v[k] = strtod(p, &end);
            if (end == p)
                break;
            p = *end == ',' ? end + 1 : end;
        }
        if (k < 4 || v[3] < below)
            continue;                    /* the header, or a row out of order */
        double in_bucket = v[3] - below; /* receipts whose value is this row's */
        below = v[3];
        sum += in_bucket * v[2];
        sum2 += in_bucket * v[2] * v[2];
    }
    fclose(f);
    if (below <= 0)
        return -1;
    *count = below;
    *mean_ms = sum / below;
    double var = below > 1 ? (sum2 - sum * sum / below) / (below - 1) : 0;
    *sd_ms = var > 0 ? sqrt(var) : 0;
    return 0;
}
