/* report_cells.c: the per-approach tables' cells: each measured value with its 95%
 * interval, beside its model, and judged against it.
 *
 * What a cell prints (numbers in plain digits, lab/numfmt.h):
 *   - a mean latency: "92.5 ±4.1": the normal approximation over the run's effective
 *     sample (lab/interval.h); a share: "3.2% [1.1–8.9%]": Wilson's interval;
 *   - then the model in parentheses, with the deviation only where it means something:
 *     a model too close to 0 for the column to tell apart (under 1 ms, half a percent,
 *     0.05 requests a minute) prints "≈0", and "≈0 on loopback" where it is 0 because
 *     the run had no network delay; latency p99 is set beside the model's worst case, as
 *     a bound, not as a prediction.
 * A value disagrees with its model when it is farther from it than the column's
 * tolerance (25%, and an absolute floor: 5 ms, 1 point of a share, half a request a
 * minute) and the model lies outside the value's 95% interval. Its likeliest cause is
 * picked from what the run did, in order: too few samples, a warm-up shorter than one
 * poll interval, a saturated client or a busy machine (its CPU, or its load average
 * while the run ran), a burst the model takes as one arrival,
 * faults on the path, and otherwise none found.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "numfmt.h"

#define TOLERANCE_PCT     25.0
#define FLOOR_MS          5.0  /* latency and staleness */
#define FLOOR_SHARE       0.01 /* empty and missed */
#define FLOOR_REQUESTS    0.5  /* per client per minute */
#define ZERO_MS           1.0  /* a model below: ≈0 */
#define ZERO_SHARE        0.005
#define ZERO_REQUESTS     0.05
#define BOUND_SLACK_MS    50.0 /* a p99 this far above the worst case is flagged */
#define CLIENT_BUSY_PCT   85.0 /* of its one core */
#define MACHINE_BUSY_FRAC 0.9  /* of every core */
#define LOAD_BUSY_FRAC    1.5  /* a load average above this many per core: busy */

/* The higher of the machine's two load averages the run recorded, or NAN. */
static double report_load(const struct lab_row *r)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(r->record, "stats");
    return fmax(lab_num(st, "loadavg_window"), lab_num(st, "loadavg_end"));
}

static const char *const headers[REPORT_COLUMNS] = {
    [REPORT_REQUESTS] = "requests / client / min",
    [REPORT_EMPTY] = "empty share [95%]",
    [REPORT_MISSED] = "missed share [95%]",
    [REPORT_LATENCY] = "latency mean ms ±95%",
    [REPORT_P99] = "latency p99 ms (worst case)",
    [REPORT_STALE] = "staleness mean ms",
    [REPORT_BYTES] = "bytes / client / min",
};

const char *report_column_header(enum report_column c)
{
    return c < REPORT_COLUMNS ? headers[c] : "";
}

/* Whether the run's path was faulty on purpose: a restart, resets, cuts, a buffer or a
 * rate cap. */
static bool faults(const struct lab_row *r)
{
    return r->restart || lab_num(r->link, "resets_injected") > 0 ||
           lab_num(r->link, "idle_cuts") > 0 || lab_num(r->link_cfg, "buffer_bytes") > 0 ||
           lab_num(r->link_cfg, "rate_down_bps") > 0;
}

static enum report_cause cause_of(const struct lab_row *r, enum report_column c)
{
    if (report_few_samples(r))
        return CAUSE_FEW_SAMPLES;
    if (r->settle_s > r->warmup_s + 1e-9 &&
        (c == REPORT_EMPTY || c == REPORT_MISSED || c == REPORT_REQUESTS))
        return CAUSE_WARMUP;
    double client = lab_num(r->res, "client_cpu_pct");
    if (client >= CLIENT_BUSY_PCT)
        return CAUSE_CLIENT_BUSY;
    double server =
        lab_num(r->cap, "server_cpu_window_s") / lab_num(r->cap, "server_window_s");
    double cpus = lab_num(r->meta, "cpus");
    if (cpus > 0 && (client / 100 + server >= MACHINE_BUSY_FRAC * cpus ||
                     report_load(r) > LOAD_BUSY_FRAC * cpus))
        return CAUSE_MACHINE_BUSY;
    if (strcmp(lab_str(r->settings, "update_process"), "burst") == 0 && c != REPORT_MISSED)
        return CAUSE_BURSTS;
    if (faults(r))
        return CAUSE_FAULTS;
    return CAUSE_UNKNOWN;
}

void report_judge(const struct lab_row *r, enum report_column c, struct report_judgement *j)
{
    double zero = ZERO_MS, floor_abs = FLOOR_MS;
    bool share = false;
    j->iv = (struct interval){NAN, NAN};
    switch (c) {
    case REPORT_REQUESTS:
        j->measured = r->req_min;
        j->model = r->m.requests_per_client_min;
        zero = ZERO_REQUESTS;
        floor_abs = FLOOR_REQUESTS;
        break;
    case REPORT_EMPTY:
        j->measured = r->empty;
        j->model = r->m.empty_share;
        j->iv = interval_wilson(r->empty, r->n_eff);
        share = true;
        break;
    case REPORT_MISSED:
        j->measured = r->missed;
        j->model = r->m.missed_share;
        j->iv = interval_wilson(r->missed, r->n_eff);
        share = true;
        break;
    case REPORT_LATENCY:
        j->measured = r->lat_mean;
        j->model = r->m.latency_mean_ms;
        j->iv = interval_mean(r->lat_mean, r->lat_sd, r->n_eff);
        break;
    case REPORT_P99:
        j->measured = r->lat_p99;
        j->model = r->m.latency_max_ms;
        break;
    case REPORT_STALE:
        j->measured = r->stale;
        j->model = r->m.staleness_mean_ms;
        break;
    default:
        j->measured = r->bytes_min;
        j->model = NAN;
        break;
    }
    if (share) {
        zero = ZERO_SHARE;
        floor_abs = FLOOR_SHARE;
    }
    j->model_near_zero = !isnan(j->model) && fabs(j->model) < zero;
    j->deviation_pct = j->model_near_zero || c == REPORT_P99
                           ? NAN
                           : model_deviation_pct(j->measured, j->model);
    if (share)
        j->deviation_pct = NAN; /* a share is judged in points, not in percent of itself */
    double diff = j->measured - j->model;
    if (isnan(diff))
        j->disagrees = false;
    else if (c == REPORT_P99)
        j->disagrees = diff > BOUND_SLACK_MS;
    else
        j->disagrees = fabs(diff) > floor_abs &&
                       (share || j->model_near_zero ||
                        fabs(diff) > TOLERANCE_PCT / 100 * fabs(j->model)) &&
                       !interval_contains(j->iv, j->model);
    j->cause = j->disagrees ? cause_of(r, c) : CAUSE_NONE;
}

/* The model's part of a cell: " (M, +d%)", " (≈0 on loopback)", " (worst case B)". */
static int model_part(struct dynbuf *b, const struct lab_row *r, enum report_column c,
                      const struct report_judgement *j)
{
    char mo[NUMFMT_LEN], dv[32] = "";
    bool share = c == REPORT_EMPTY || c == REPORT_MISSED;
    if (isnan(j->model))
        return 0;
    if (j->model_near_zero && j->model != 0)
        snprintf(mo, sizeof(mo), "≈0");
    else if (share)
        numfmt_pct(mo, sizeof(mo), j->model, 2);
    else
        numfmt(mo, sizeof(mo), j->model, 3);
    if (j->model_near_zero && r->delay_ms == 0 &&
        (c == REPORT_LATENCY || c == REPORT_P99 || c == REPORT_STALE))
        snprintf(mo, sizeof(mo), "≈0 on loopback");
    if (!isnan(j->deviation_pct))
        snprintf(dv, sizeof(dv), ", %+.0f%%", j->deviation_pct);
    if (c == REPORT_P99)
        return dynbuf_addf(b, " (%s %s)",
                           j->disagrees ? "above the worst case" : "worst case", mo);
    return dynbuf_addf(b, " (%s%s)", mo, dv);
}

int report_cell(struct dynbuf *b, const struct lab_row *r, enum report_column c)
{
    struct report_judgement j;
    report_judge(r, c, &j);
    char mv[NUMFMT_LEN], lo[NUMFMT_LEN], hi[NUMFMT_LEN];
    bool share = c == REPORT_EMPTY || c == REPORT_MISSED;
    if (share)
        numfmt_pct(mv, sizeof(mv), j.measured, 2);
    else
        numfmt(mv, sizeof(mv), j.measured, c == REPORT_BYTES ? 4 : 3);
    int rc = dynbuf_addf(b, " %s", mv);
    if (rc == 0 && !isnan(j.iv.lo) && share)
        rc = dynbuf_addf(b, " [%s–%s]", numfmt_pct(lo, sizeof(lo), j.iv.lo, 2),
                         numfmt_pct(hi, sizeof(hi), j.iv.hi, 2));
    else if (rc == 0 && !isnan(j.iv.lo))
        rc = dynbuf_addf(b, " ±%s", numfmt(lo, sizeof(lo), (j.iv.hi - j.iv.lo) / 2, 2));
    rc = rc ? rc : model_part(b, r, c, &j);
    return rc ? rc : dynbuf_adds(b, " |");
}

void report_cause_text(const struct lab_row *r, enum report_cause cause, char *buf,
                       size_t len)
{
    char num[NUMFMT_LEN];
    switch (cause) {
    case CAUSE_FEW_SAMPLES:
        snprintf(buf, len,
                 "too few samples: %s updates in the window, so the whole run saw only a "
                 "few gaps between them%s",
                 numfmt(num, sizeof(num), r->window_updates, 3),
                 r->quick ? " (the quick version; run the full scenario)" : "");
        break;
    case CAUSE_WARMUP:
        snprintf(
            buf, len,
            "the warm-up (%.15g s) was shorter than one poll interval (%.15g s), so some "
            "users' first polls fell inside the window",
            r->warmup_s, r->settle_s);
        break;
    case CAUSE_CLIENT_BUSY:
        snprintf(buf, len,
                 "the client was saturated (%s%% of its one core in the window): it "
                 "polled and read later than asked",
                 numfmt(num, sizeof(num), lab_num(r->res, "client_cpu_pct"), 3));
        break;
    case CAUSE_MACHINE_BUSY:
        if (report_load(r) > LOAD_BUSY_FRAC * lab_num(r->meta, "cpus"))
            snprintf(buf, len,
                     "the machine was busy: a load average of %s on its %.15g cores (this "
                     "run's programs and any other work on it), so every program waited "
                     "for a core",
                     numfmt(num, sizeof(num), report_load(r), 2), lab_num(r->meta, "cpus"));
        else
            snprintf(buf, len,
                     "the machine was saturated: client and server together used most of "
                     "its %.15g cores",
                     lab_num(r->meta, "cpus"));
        break;
    case CAUSE_BURSTS:
        snprintf(buf, len,
                 "a model idealisation: the model takes a burst of %.15g as one arrival, "
                 "while the server publishes its updates one by one",
                 lab_num(r->settings, "burst_size"));
        break;
    case CAUSE_FAULTS:
        snprintf(buf, len,
                 "faults on purpose (a restart, resets, idle cuts, a buffer or a rate cap) "
                 "that the fault-free model leaves out");
        break;
    case CAUSE_UNKNOWN:
        snprintf(buf, len,
                 "none of the checks found a cause (samples, warm-up, load, "
                 "bursts, faults): look at this run");
        break;
    default:
        snprintf(buf, len, "-");
        break;
    }
}
