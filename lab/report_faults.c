/* report_faults.c: the report's sections for what went wrong on purpose: reconnects
 * and late arrivals (the link reset or cut connections), the restart (the server was
 * crashed and started again), and where measurement and model disagree, with the
 * likely causes. Each approach's part of the story (how it reconnects, its outage model,
 * what a crash costs it) is its row's text (lab/approach.h), written for the approaches
 * the runs had, in table order.
 */
#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approach.h"
#include "lab.h"
#include "numfmt.h"

/* Beyond the model's worst case, what a receipt may take before it counts as late: the
 * machine's own scheduling on a loaded 2-core box (loopback p99 reaches ~20 ms). */
#define LATE_SLACK_MS 50.0

/* Whether some row is of approach a (and, with restarted, had a restart). */
static bool has_approach(const struct lab_row *rows, size_t n, const struct lab_approach *a,
                         bool restarted)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].approach == a && (!restarted || rows[i].restart))
            return true;
    return false;
}

/* Each approach the runs had: how it comes back from a reset or a cut. */
static int reconnect_texts(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        if (a->reconnect_text && has_approach(rows, n, a, false))
            rc = dynbuf_addf(b, "- %s: %s\n", a->title, a->reconnect_text);
    }
    return rc ? rc : dynbuf_adds(b, "\n");
}

/* Each restarted approach's outage model, "; " between, "." at the end. */
static int outage_models(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0, first = 1;
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        if (!a->outage_model_text || !has_approach(rows, n, a, true))
            continue;
        rc = dynbuf_addf(b, "%s%s", first ? "" : "; ", a->outage_model_text);
        first = 0;
    }
    return rc ? rc : dynbuf_adds(b, ".\n\n");
}

/* Each restarted approach's lesson, in table order. */
static int restart_lessons(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        if (a->restart_lesson && has_approach(rows, n, a, true))
            rc = dynbuf_addf(b, " %s", a->restart_lesson);
    }
    return rc;
}

/* Receipts slower than limit_ms in run id's latency.csv (the client's percentile
 * spectrum: percentile, latency_us, latency_ms, count_at_or_below, one row per histogram
 * bucket, so the split is as fine as the buckets: 1%). *late of *total; -1 when the file
 * cannot be read. */
static int late_receipts(const char *dir, const char *id, double limit_ms, double *late,
                         double *total)
{
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s/runs/%s/latency.csv", dir, id);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    double below = 0, all = 0;
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
        if (k < 4)
            continue; /* the header */
        all = v[3];
        if (v[2] <= limit_ms)
            below = v[3];
    }
    fclose(f);
    *late = all - below;
    *total = all;
    return 0;
}

/* Reconnects and what they cost, when the link injected faults or users reconnected. */
int report_faults(struct dynbuf *b, const struct lab_row *rows, size_t n, const char *dir)
{
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any = any || lab_num(rows[i].link, "resets_injected") > 0 ||
              lab_num(rows[i].link, "idle_cuts") > 0 ||
              lab_num(rows[i].res, "reconnects") > 0;
    if (!any)
        return 0;
    int rc = dynbuf_addf(
        b,
        "\n## Reconnects and late arrivals\n\n"
        "Connections were reset or cut on the way, or users reconnected. Each reconnect "
        "leaves a gap, closed as each approach closes it (below). What is published in "
        "the gap is replayed, not missed, but it arrives late. A receipt counts as late "
        "here when it took longer than the approach's fault-free worst case (the model's, "
        "plus twice the jitter and %.0f ms for the machine's own scheduling: the limit "
        "column). Link resets and idle cuts count the whole run, warmup included; the "
        "client's columns count the window.\n\n",
        LATE_SLACK_MS);
    rc = rc ? rc : reconnect_texts(b, rows, n);
    rc =
        rc ? rc
           : dynbuf_adds(
                 b, "| run | link resets | idle cuts | reconnects | transfer errors | gaps "
                    "signalled | "
                    "missed | limit ms | arrived late | latency p99 ms | latency max ms |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        double jitter = lab_num(r->link_cfg, "jitter_down_ms");
        double limit =
            r->m.latency_max_ms + 2 * (isnan(jitter) ? 0 : jitter) + LATE_SLACK_MS;
        char late_text[64] = "-", limit_text[32] = "-", resets[32] = "-", cuts[32] = "-";
        double late, total;
        if (r->link) {
            snprintf(resets, sizeof(resets), "%.0f", lab_num(r->link, "resets_injected"));
            snprintf(cuts, sizeof(cuts), "%.0f", lab_num(r->link, "idle_cuts"));
        }
        if (!isnan(limit) && late_receipts(dir, r->id, limit, &late, &total) == 0) {
            snprintf(limit_text, sizeof(limit_text), "%.0f", limit);
            snprintf(late_text, sizeof(late_text), "%.0f of %.0f (%.1f%%)", late, total,
                     total > 0 ? 100 * late / total : 0);
        }
        char p99[NUMFMT_LEN], max[NUMFMT_LEN];
        rc = dynbuf_addf(
            b, "| %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %s | %s |\n", r->id,
            resets, cuts, lab_num(r->res, "reconnects"),
            lab_num(r->res, "errors_io") + lab_num(r->res, "errors_timeout") +
                lab_num(r->res, "errors_connect"),
            lab_num(r->res, "resets"), lab_num(r->res, "missed"), limit_text, late_text,
            numfmt(p99, sizeof(p99), r->lat_p99, 3),
            numfmt(max, sizeof(max), lab_num(r->res, "latency_max_ms"), 3));
    }
    return rc;
}

/* From runs/<id>/activity.csv (time_s,requests,...; 100 ms bins from the window's
 * start): the users' mean request rate before crash_s and the busiest bin at or after it,
 * both in requests per second. 0, or -1 when the file is missing or has no such bins. */
static int request_rates(const char *dir, const char *id, double crash_s, double *before,
                         double *peak, double *peak_at)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/runs/%s/activity.csv", dir, id);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    double sum = 0, bins = 0, t, req;
    *peak = -1;
    *peak_at = NAN;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lf,%lf", &t, &req) != 2)
            continue; /* the header */
        if (t < 0)
            continue;
        if (t < crash_s) {
            sum += req;
            bins++;
        } else if (req > *peak) {
            *peak = req;
            *peak_at = t;
        }
    }
    fclose(f);
    if (bins == 0 || *peak < 0)
        return -1;
    *before = sum / bins * 10; /* 100 ms bins */
    *peak *= 10;
    return 0;
}

/* The server was crashed and restarted in some runs: what each approach lost and how
 * long its users took to come back. */
int report_restarts(struct dynbuf *b, const struct lab_row *rows, size_t n, const char *dir)
{
    if (!report_any_restart(rows, n))
        return 0;
    int rc = dynbuf_adds(
        b,
        "\n## The restart\n\n"
        "The conductor crashed the server mid-run (SIGUSR1: the process died without a "
        "goodbye, so the kernel closed every connection and held polls went unanswered) "
        "and started it again on the same port. Nothing was published while it was down. "
        "`feed` is where the server kept its updates: `memory` starts again at seq 1, so "
        "every cursor the users held is ahead of the new newest update and is answered "
        "with a reset (gaps signalled); `file` reloads its append-only log, numbers carry "
        "on and cursors are honoured. Missed: updates published in the window that a user "
        "never received; the client tells the restarted feed's numbers from the old ones "
        "by their publish stamps (feed restarts seen). An outage runs from a user's first "
        "failed request to its next answered one: that is how long the approach took to "
        "recover. Request rates are what the users sent, per second, in 100 ms bins "
        "(activity.csv; the server receives them one transit later).\n\n"
        "The outage model, with D the time the server was down (from the crash to the "
        "moment the conductor saw the successor's first line, at most 2 ms after it was "
        "written): ");
    rc = rc ? rc : outage_models(b, rows, n);
    rc = rc ? rc
            : dynbuf_adds(b, "| run | feed | crash at s | down s | gaps signalled | feed "
                             "restarts seen | "
                             "missed | outages | outage mean ms (model) | outage max ms | "
                             "requests/s before | "
                             "peak requests/s after (at s) |\n"
                             "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        const cJSON *rs = r->restart;
        if (!rs)
            continue;
        double w0 = lab_num(r->meta, "window_start_unix_ns");
        double crash_s = (lab_num(rs, "crash_unix_ns") - w0) / 1e9;
        double down_s = (lab_num(rs, "up_unix_ns") - lab_num(rs, "crash_unix_ns")) / 1e9;
        const cJSON *durable = cJSON_GetObjectItemCaseSensitive(r->cfg, "durable");
        char rates[96] = "-", before_text[32] = "-";
        double before, peak, peak_at;
        if (!isnan(crash_s) &&
            request_rates(dir, r->id, crash_s, &before, &peak, &peak_at) == 0) {
            snprintf(before_text, sizeof(before_text), "%.0f", before);
            snprintf(rates, sizeof(rates), "%.0f (%.1f)", peak, peak_at);
        }
        double model_ms = r->approach->outage_model_ms
                              ? r->approach->outage_model_ms(r, down_s * 1000)
                              : NAN;
        rc = dynbuf_addf(
            b,
            "| %s | %s | %.1f | %.2f | %.0f | %.0f | %.0f of %.0f | %.0f | %.0f (%.0f) | "
            "%.0f | %s | %s |\n",
            r->id, cJSON_IsTrue(durable) ? "file" : "memory", crash_s, down_s,
            lab_num(r->res, "resets"), lab_num(r->res, "feed_restarts"),
            lab_num(r->res, "missed"), lab_num(r->res, "updates_expected"),
            lab_num(r->res, "outages"), lab_num(r->res, "outage_mean_ms"), model_ms,
            lab_num(r->res, "outage_max_ms"), before_text, rates);
    }
    rc =
        rc ? rc
           : dynbuf_adds(b, "\nWhat to read: in memory, what the old server had published "
                            "and a user had not fetched yet died with it. The durable feed "
                            "loses nothing. Recovery is set by how each approach retries.");
    rc = rc ? rc : restart_lessons(b, rows, n);
    rc = rc ? rc
            : dynbuf_adds(
                  b,
                  " A server restarted under load wants those returns spread out (a "
                  "per-client random `retry:`, jittered backoff), or its first second back "
                  "is "
                  "its busiest. The crashed server's own /stats document (printed as it "
                  "died) "
                  "is added to its successor's in the server columns; requests held at the "
                  "crash are counted there, but their header bytes, settled when a request "
                  "ends, are in neither.\n\n![restart](plots/restart.png)\n");
    return rc;
}

/* The causes the link adds, for the runs that had them. */
static int network_causes(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    double buffer = 0, rate = 0;
    bool faults_seen = false;
    for (size_t i = 0; i < n; i++) {
        const struct lab_row *r = &rows[i];
        if (lab_num(r->link_cfg, "buffer_bytes") > buffer)
            buffer = lab_num(r->link_cfg, "buffer_bytes");
        if (lab_num(r->link_cfg, "rate_down_bps") > 0)
            rate = lab_num(r->link_cfg, "rate_down_bps");
        faults_seen = faults_seen || lab_num(r->link, "resets_injected") > 0 ||
                      lab_num(r->link, "idle_cuts") > 0;
    }
    int rc = 0;
    if (buffer > 0) {
        rc = dynbuf_addf(b,
                         "\nA buffering middlebox sat in front of the server (up to %.0f "
                         "bytes held until they gather, as nginx's proxy_buffering does).",
                         buffer);
        for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
            const struct lab_approach *a = lab_approach_at(k);
            if (a->buffering_text && has_approach(rows, n, a, false))
                rc = dynbuf_addf(b, " %s", a->buffering_text);
        }
        rc = rc ? rc : dynbuf_adds(b, "\n");
    }
    if (rc == 0 && rate > 0)
        rc = dynbuf_addf(b,
                         "\nA %.0f kbit/s rate cap adds serialisation to every transit "
                         "(8 ms per kilobyte at 1 Mbit/s) and queues what comes at once, "
                         "which the models' single d leaves out.\n",
                         rate / 1000);
    if (rc == 0 && faults_seen)
        rc = dynbuf_adds(b, "\nConnections were reset or cut on the way: the updates "
                            "held back by reconnects lengthen the tail (see Reconnects "
                            "and late arrivals).\n");
    return rc;
}

/* The columns every run is judged in, with how a sentence names each. */
static const struct {
    enum report_column c;
    const char *what;
} judged[] = {
    {REPORT_REQUESTS, "requests per client per minute"},
    {REPORT_EMPTY, "empty share"},
    {REPORT_MISSED, "missed share"},
    {REPORT_LATENCY, "mean latency"},
    {REPORT_P99, "latency p99 against the worst case"},
    {REPORT_STALE, "staleness"},
};

/* "measured 12.5, model 10 (+25%)" or, for a share, "measured 3.2%, model 0%". */
static void pair_text(enum report_column c, const struct report_judgement *j, char *buf,
                      size_t len)
{
    char m[NUMFMT_LEN], mo[NUMFMT_LEN];
    bool share = c == REPORT_EMPTY || c == REPORT_MISSED;
    if (share) {
        numfmt_pct(m, sizeof(m), j->measured, 2);
        numfmt_pct(mo, sizeof(mo), j->model, 2);
    } else {
        numfmt(m, sizeof(m), j->measured, 3);
        if (j->model_near_zero)
            snprintf(mo, sizeof(mo), "≈0");
        else
            numfmt(mo, sizeof(mo), j->model, 3);
    }
    snprintf(buf, len, "measured %s, %s %s", m, c == REPORT_P99 ? "worst case" : "model",
             mo);
    if (!isnan(j->deviation_pct))
        report_appendf(buf, len, " (%+.0f%%)", j->deviation_pct);
    if (share && !isnan(j->iv.lo)) {
        char lo[NUMFMT_LEN], hi[NUMFMT_LEN];
        report_appendf(buf, len, ", 95%% interval %s–%s",
                       numfmt_pct(lo, sizeof(lo), j->iv.lo, 2),
                       numfmt_pct(hi, sizeof(hi), j->iv.hi, 2));
    }
}

int report_disagreements(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0, any = 0;
    bool any_faults = false;
    /* first the runs that disagree with enough samples, then those with too few */
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        bool header = false;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const struct lab_row *r = &rows[i];
            for (size_t k = 0; rc == 0 && k < sizeof(judged) / sizeof(judged[0]); k++) {
                struct report_judgement j;
                report_judge(r, judged[k].c, &j);
                if (!j.disagrees || (j.cause == CAUSE_FEW_SAMPLES) != (pass == 1))
                    continue;
                if (!any)
                    rc = dynbuf_adds(
                        b, "\n## Where measurement and model disagree\n\nEvery column of "
                           "every run is held against its model: a value disagrees when "
                           "it is farther from the model than 25% (and than 5 ms, 1 "
                           "point of a share or half a request a minute) and the model "
                           "lies outside its 95% interval. Each comes with the likeliest "
                           "cause found in what the run did.\n");
                any = 1;
                if (!header && pass == 1)
                    rc = rc ? rc
                            : dynbuf_addf(b,
                                          "\nToo few samples to judge (fewer than %d "
                                          "updates in the window):\n\n",
                                          INTERVAL_MIN_UPDATES);
                else if (!header)
                    rc = rc ? rc : dynbuf_adds(b, "\n");
                header = true;
                char pair[256], cause[512];
                pair_text(judged[k].c, &j, pair, sizeof(pair));
                report_cause_text(r, j.cause, cause, sizeof(cause));
                any_faults = any_faults || j.cause == CAUSE_FAULTS;
                rc = rc ? rc
                        : dynbuf_addf(b, "- %s: %s %s: %s.\n", r->id, judged[k].what, pair,
                                      cause);
            }
        }
    }
    if (rc == 0 && any_faults)
        rc = network_causes(b, rows, n);
    if (rc == 0 && any_faults && report_any_restart(rows, n))
        rc = dynbuf_adds(b, "\nThe server was crashed and restarted during the window: "
                            "the outage and the reconnects after it lengthen latency and "
                            "staleness beyond the fault-free models, and a poll that "
                            "failed still counts as a request (see The restart).\n");
    return rc;
}
