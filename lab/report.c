/* report.c: report.md for a results directory: the scenario, the environment, one
 * table per approach with each measured value beside the model's prediction and the
 * deviation, a few plain findings computed from the numbers, and the plots.
 *
 * The models are lab/models.c (formulas and sources in docs/MODELS.md). A
 * measurement that departs from its model by more than DEVIATION_FLAG_PCT is listed
 * under "Where measurement and model disagree", with what usually causes it, because a
 * reader pasting this into a decision record must not take either number on trust.
 *
 * The network is per run: a run that went through the link emulator carries the link's
 * --stats document ("link", merged from link_stats.json), whose settings give that run's
 * one-way delay d for the models and the Setup line's description of its path; a run
 * without one was on loopback (d = 0). When the link injected faults (resets, idle cuts)
 * or users reconnected, a section counts the reconnects and the receipts that arrived
 * later than the approach's fault-free worst case, read off each run's latency.csv.
 */
#include "lab.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "models.h"

#define DEVIATION_FLAG_PCT 25.0
/* Beyond the model's worst case, what a receipt may take before it counts as late: the
 * machine's own scheduling on a loaded 2-core box (loopback p99 reaches ~20 ms). */
#define LATE_SLACK_MS 50.0

/* One run's measured values and the model's, as the report uses them. */
struct row {
    const cJSON *run, *res, *srv, *cfg, *meta;
    const cJSON *link;     /* the link's --stats document, or NULL: loopback */
    const cJSON *link_cfg; /* its settings ("config"), or NULL */
    const cJSON *restart;  /* the runner's record of a crash and restart, or NULL */
    double delay_ms;       /* d: the link's one-way delay (mean of both directions), or 0 */
    const char *id, *approach, *mode;
    struct model_prediction m;
    double interval_ms, clients, duration_s;
    double bytes_min, req_min, empty, missed, lat_mean, lat_p99, stale, published, received;
    double window_updates; /* updates published in the window (each client expects them) */
};

/* The run's one-way delay in ms from its link settings; 0 without a link. */
static double link_delay_ms(const cJSON *link_cfg)
{
    if (!link_cfg)
        return 0;
    double up = lab_num(link_cfg, "delay_up_ms"), down = lab_num(link_cfg, "delay_down_ms");
    if (isnan(up) || isnan(down))
        return 0;
    return (up + down) / 2;
}

static void fill_row(struct row *r, const cJSON *run)
{
    memset(r, 0, sizeof(*r));
    r->run = run;
    r->id = lab_str(run, "run_id");
    r->res = cJSON_GetObjectItemCaseSensitive(run, "results");
    r->srv = cJSON_GetObjectItemCaseSensitive(run, "server");
    r->cfg = cJSON_GetObjectItemCaseSensitive(r->srv, "config");
    r->meta = cJSON_GetObjectItemCaseSensitive(run, "meta");
    r->link = cJSON_GetObjectItemCaseSensitive(run, "link");
    r->link_cfg = cJSON_GetObjectItemCaseSensitive(r->link, "config");
    r->restart = cJSON_GetObjectItemCaseSensitive(run, "restart");
    r->delay_ms = link_delay_ms(r->link_cfg);
    r->approach = lab_str(r->res, "approach");
    r->mode = lab_str(r->res, "poll_mode");
    r->interval_ms = lab_num(r->res, "interval_ms");
    r->clients = lab_num(r->res, "clients");
    r->duration_s = lab_num(r->res, "duration_s");
    r->bytes_min = lab_num(r->res, "bytes_per_client_min");
    r->req_min = lab_num(r->res, "requests_per_client_min");
    r->empty = lab_num(r->res, "empty_share");
    r->missed = lab_num(r->res, "missed_share");
    r->lat_mean = lab_num(r->res, "latency_mean_ms");
    r->lat_p99 = lab_num(r->res, "latency_p99_ms");
    r->stale = lab_num(r->res, "staleness_mean_ms");
    r->published = lab_num(r->res, "updates_expected");
    r->received = lab_num(r->res, "updates_received");

    struct model_input in = {0};
    const char *proc = lab_str(r->cfg, "process");
    in.process = strcmp(proc, "poisson") == 0 ? MODEL_POISSON
                 : strcmp(proc, "burst") == 0 ? MODEL_BURST
                 : strcmp(proc, "trace") == 0 ? MODEL_TRACE
                                              : MODEL_PERIODIC;
    /* The models are evaluated at the rate that actually occurred in the window (a
     * Poisson source publishes 24 updates in 4 s as readily as 20), so a count-based
     * prediction is held against the arrivals that happened, not their expectation. */
    in.rate_hz = lab_num(r->cfg, "rate_hz");
    r->window_updates = r->clients > 0 ? r->published / r->clients : NAN;
    if (r->window_updates > 0 && r->duration_s > 0 && strcmp(proc, "trace") != 0)
        in.rate_hz = r->window_updates / r->duration_s;
    in.burst_size = lab_num(r->cfg, "burst_size");
    in.delay_s = r->delay_ms / 1000.0;
    in.interval_s = r->interval_ms / 1000.0;
    in.timeout_s = lab_num(r->res, "longpoll_timeout_s");
    in.heartbeat_s = lab_num(r->cfg, "heartbeat_s");
    /* the longest seq the run saw: an in-memory successor's may be the smaller */
    double newest = fmax(
        lab_num(r->srv, "newest_seq"),
        lab_num(cJSON_GetObjectItemCaseSensitive(run, "server_crashed"), "newest_seq"));
    if (!(newest >= 1)) /* a document from before newest_seq: the count is the seq */
        newest = lab_num(r->srv, "updates_published");
    in.seq_digits = newest >= 1 ? floor(log10(newest)) + 1 : 1;
    /* {"seq":N,"ts_ns":T,"data":"P"}: 46 bytes around N, a 19-digit T and the payload */
    in.json_bytes = 46 + in.seq_digits + lab_num(r->cfg, "payload_bytes");
    if (strcmp(r->approach, "short") == 0)
        in.approach =
            strcmp(r->mode, "events") == 0 ? MODEL_SHORT_EVENTS : MODEL_SHORT_STATE;
    else if (strcmp(r->approach, "long") == 0)
        in.approach = MODEL_LONG;
    else
        in.approach = MODEL_SSE;
    model_predict(&in, &r->m);
}

/* Append printf-style text to buf[len], truncating. */
static void appendf(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* One run's path in words: loopback, or what the link emulated (its own settings). */
static void network_text(const struct row *r, char *buf, size_t len)
{
    const cJSON *c = r->link_cfg;
    buf[0] = '\0';
    if (!c) {
        appendf(buf, len, "loopback, no emulated delay (d = 0)");
        return;
    }
    appendf(buf, len, "%g ms one-way delay", r->delay_ms);
    if (lab_num(c, "jitter_down_ms") > 0)
        appendf(buf, len, " +- %g ms jitter", lab_num(c, "jitter_down_ms"));
    if (lab_num(c, "rate_down_bps") > 0)
        appendf(buf, len, ", %g kbit/s per connection and direction",
                lab_num(c, "rate_down_bps") / 1000);
    if (lab_num(c, "drop_every_s") > 0)
        appendf(buf, len, ", each connection reset %g s after it opened",
                lab_num(c, "drop_every_s"));
    if (lab_num(c, "idle_timeout_s") > 0)
        appendf(buf, len, ", connections idle for %g s cut", lab_num(c, "idle_timeout_s"));
    if (lab_num(c, "buffer_bytes") > 0)
        appendf(buf, len, ", responses held until %g bytes gather (a buffering proxy)",
                lab_num(c, "buffer_bytes"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "handshake")))
        appendf(buf, len, ", a round trip per new connection (handshake)");
}

/* The Setup line on the network: one sentence when every run had the same path, else
 * one line per run. */
static int network_setup(struct dynbuf *b, const struct row *rows, size_t n)
{
    char first[512], other[512];
    network_text(&rows[0], first, sizeof(first));
    bool same = true;
    for (size_t i = 1; i < n && same; i++) {
        network_text(&rows[i], other, sizeof(other));
        same = strcmp(first, other) == 0;
    }
    if (same)
        return dynbuf_addf(
            b, "- Network: %s%s.\n",
            rows[0].link_cfg ? "through the link emulator (pushpull-link), " : "", first);
    int rc = dynbuf_adds(b, "- Network, per run (through the link emulator, pushpull-link, "
                            "unless loopback):\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        network_text(&rows[i], other, sizeof(other));
        rc = dynbuf_addf(b, "  - %s: %s.\n", rows[i].id, other);
    }
    return rc;
}

/* "measured (model, +d%)" in one cell; "-" parts where a side is unknown. */
static int cell(struct dynbuf *b, double measured, double model, const char *fmt)
{
    char mv[32] = "-", mo[32] = "-", dv[32] = "";
    if (!isnan(measured))
        snprintf(mv, sizeof(mv), fmt, measured);
    if (!isnan(model))
        snprintf(mo, sizeof(mo), fmt, model);
    double dev = model_deviation_pct(measured, model);
    if (!isnan(dev))
        snprintf(dv, sizeof(dv), ", %+.0f%%", dev);
    if (isnan(model))
        return dynbuf_addf(b, " %s |", mv);
    return dynbuf_addf(b, " %s (%s%s) |", mv, mo, dv);
}

static const char *setting(const struct row *r, char *buf, size_t len)
{
    if (strcmp(r->approach, "short") == 0)
        snprintf(buf, len, "every %g ms, %s", r->interval_ms,
                 strcmp(r->mode, "events") == 0 ? "cursor" : "If-None-Match");
    else if (strcmp(r->approach, "long") == 0)
        snprintf(buf, len, "timeout %g s", lab_num(r->res, "longpoll_timeout_s"));
    else
        snprintf(buf, len, "heartbeat %g s", lab_num(r->cfg, "heartbeat_s"));
    return buf;
}

static int table(struct dynbuf *b, const struct row *rows, size_t n, const char *approach,
                 const char *title)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += strcmp(rows[i].approach, approach) == 0;
    if (count == 0)
        return 0;
    int rc = dynbuf_addf(
        b,
        "\n### %s\n\n| run | setting | clients | requests / client / min | empty "
        "share | missed share | latency mean ms | latency p99 ms | "
        "staleness mean ms | bytes / client / min |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n",
        title);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->approach, approach) != 0)
            continue;
        char s[96];
        rc =
            dynbuf_addf(b, "| %s | %s | %g |", r->id, setting(r, s, sizeof(s)), r->clients);
        rc = rc ? rc : cell(b, r->req_min, r->m.requests_per_client_min, "%.4g");
        rc = rc ? rc : cell(b, r->empty, r->m.empty_share, "%.3f");
        rc = rc ? rc : cell(b, r->missed, r->m.missed_share, "%.3f");
        rc = rc ? rc : cell(b, r->lat_mean, r->m.latency_mean_ms, "%.3g");
        rc = rc ? rc : cell(b, r->lat_p99, r->m.latency_max_ms, "%.3g");
        rc = rc ? rc : cell(b, r->stale, r->m.staleness_mean_ms, "%.3g");
        rc = rc ? rc : dynbuf_addf(b, " %.0f |\n", r->bytes_min);
    }
    return rc;
}

/* SSE's bytes per event: the event text plus its chunk framing, measured and modelled. */
static int sse_bytes(struct dynbuf *b, const struct row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct row *r = &rows[i];
        double events = lab_num(r->res, "sse_events");
        if (strcmp(r->approach, "sse") != 0 || !(events > 0))
            continue;
        /* Every body and chunk-framing byte of the window, per event: this includes any
         * heartbeats (and, had the stream opened in the window, its retry line). */
        double total =
            lab_num(r->res, "resp_body_bytes") + lab_num(r->res, "framing_bytes");
        rc = dynbuf_addf(
            b,
            "\nBytes per SSE event (%s): %.1f measured (body and chunk framing of "
            "the window over its %.0f events, %.0f heartbeats included), model "
            "%.1f for one event.\n",
            r->id, total / events, events, lab_num(r->res, "sse_comments"),
            r->m.sse_bytes_per_event);
    }
    return rc;
}

/* Every byte of the window (all clients) over the updates they received. */
static double bytes_per_update(const struct row *r)
{
    double total = r->bytes_min * r->clients * r->duration_s / 60.0;
    return r->received > 0 ? total / r->received : NAN;
}

/* Findings: a few sentences computed from the numbers. */
static int findings(struct dynbuf *b, const struct row *rows, size_t n)
{
    const struct row *sse = NULL, *poll1 = NULL, *fast = NULL, *slow = NULL, *lp = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->approach, "sse") == 0 && !sse)
            sse = r;
        if (strcmp(r->approach, "long") == 0 && !lp)
            lp = r;
        if (strcmp(r->approach, "short") != 0)
            continue;
        if (!poll1 ||
            fabs(log(r->interval_ms / 1000)) < fabs(log(poll1->interval_ms / 1000)))
            poll1 = r;
        if (!fast || r->interval_ms < fast->interval_ms)
            fast = r;
        if (!slow || r->interval_ms > slow->interval_ms)
            slow = r;
    }
    int rc = dynbuf_adds(b, "\n## Findings\n\n");
    if (sse && poll1 && poll1->bytes_min > 0)
        rc =
            rc ? rc
               : dynbuf_addf(
                     b,
                     "- SSE delivered %.0f of %.0f updates (p99 %.3g ms, staleness %.3g "
                     "ms) "
                     "using %.1f%% of the bytes of short polling every %g ms, which "
                     "delivered %.0f (mean latency %.3g ms, staleness %.3g ms): %.0f bytes "
                     "per update delivered against %.0f.\n",
                     sse->received, sse->published, sse->lat_p99, sse->stale,
                     100 * sse->bytes_min / poll1->bytes_min, poll1->interval_ms,
                     poll1->received, poll1->lat_mean, poll1->stale, bytes_per_update(sse),
                     bytes_per_update(poll1));
    if (fast && fast->empty > 0)
        rc = rc ? rc
                : dynbuf_addf(
                      b,
                      "- Polling every %g ms, %.0f%% of the answers brought nothing new "
                      "(model %.0f%%): each still cost a full header exchange.\n",
                      fast->interval_ms, 100 * fast->empty, 100 * fast->m.empty_share);
    if (slow && slow->missed > 0)
        rc = rc ? rc
                : dynbuf_addf(
                      b,
                      "- Polling the latest state every %g ms never saw %.0f%% of the "
                      "updates (model %.0f%%); a cursor (`since`) would have fetched "
                      "them, late.\n",
                      slow->interval_ms, 100 * slow->missed, 100 * slow->m.missed_share);
    if (lp && lp->received > 0)
        rc = rc ? rc
                : dynbuf_addf(
                      b,
                      "- Long polling sent %.2f requests per update received (%.4g per "
                      "client per minute) at a mean latency of %.3g ms.\n",
                      lab_num(lp->res, "requests") / lp->received, lp->req_min,
                      lp->lat_mean);
    size_t ok = 0, unacc = 0;
    for (size_t i = 0; i < n; i++) {
        ok += strcmp(lab_str(rows[i].res, "bytes_check"), "ok") == 0;
        unacc += lab_num(rows[i].srv, "unaccounted_bytes") != 0;
    }
    rc = rc ? rc
            : dynbuf_addf(
                  b,
                  "- Byte accounting: in %zu of %zu runs the client's counts equal the "
                  "kernel's (TCP_INFO, both directions)%s.\n",
                  ok, n,
                  unacc ? "; the server left bytes unexplained in some runs"
                        : ", and the server explained every byte it sent");
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
static int faults(struct dynbuf *b, const struct row *rows, size_t n, const char *dir)
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
        "leaves a gap. SSE waits its retry delay (the stream's `retry:`) and resumes "
        "with `Last-Event-ID`. A poll that dies on a kept-alive connection before any "
        "answer byte is sent again at once on a fresh one (libcurl does this, as browsers "
        "do for a GET), so long and cursor polling mostly lose a round trip and a "
        "handshake; any other failure is a transfer error and waits the client's backoff "
        "(1 s for long polling) before resuming with the cursor. What is published in "
        "the gap is replayed, not missed, but it arrives late. A receipt counts as late "
        "here when it took longer than the approach's fault-free worst case (the model's, "
        "plus twice the jitter and %.0f ms for the machine's own scheduling: the limit "
        "column). Link resets and idle cuts count the whole run, warmup included; the "
        "client's columns count the window.\n\n"
        "| run | link resets | idle cuts | reconnects | transfer errors | gaps signalled | "
        "missed | limit ms | arrived late | latency p99 ms | latency max ms |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n",
        LATE_SLACK_MS);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct row *r = &rows[i];
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
        rc = dynbuf_addf(
            b, "| %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %.3g | %.3g |\n",
            r->id, resets, cuts, lab_num(r->res, "reconnects"),
            lab_num(r->res, "errors_io") + lab_num(r->res, "errors_timeout") +
                lab_num(r->res, "errors_connect"),
            lab_num(r->res, "resets"), lab_num(r->res, "missed"), limit_text, late_text,
            r->lat_p99, lab_num(r->res, "latency_max_ms"));
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

/* Whether any run's server was crashed and restarted. */
static bool any_restart(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].restart)
            return true;
    return false;
}

/* The server was crashed and restarted in some runs: what each approach lost and how
 * long its users took to come back. */
static int restarts(struct dynbuf *b, const struct row *rows, size_t n, const char *dir)
{
    if (!any_restart(rows, n))
        return 0;
    int rc = dynbuf_adds(
        b,
        "\n## The restart\n\n"
        "The runner crashed the server mid-run (SIGUSR1: the process died without a "
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
        "moment the runner saw the successor's first line, at most 10 ms after it was "
        "written): short polling "
        "max(D, T), T its interval (a user's outage begins at its first poll after the "
        "crash, which falls uniformly within an interval, and ends a whole number of "
        "intervals later at the first poll the successor answers, so the mean is D when "
        "D >= T; when D < T only the share D / T of users has a poll in the gap, each out "
        "for one interval, and the others have no outage at all); long polling "
        "b * ceil(D / b), b the client's backoff after a failed poll (the held poll "
        "failed at the crash; a poll that reaches the successor ends the outage even "
        "while it is held, waiting for news); SSE r * ceil(D / r), r the stream's "
        "`retry:` (the stream was cut at the crash, and each attempt waits r).\n\n"
        "| run | feed | crash at s | down s | gaps signalled | feed restarts seen | "
        "missed | outages | outage mean ms (model) | outage max ms | requests/s before | "
        "peak requests/s after (at s) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct row *r = &rows[i];
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
        double down_ms = down_s * 1000, model_ms = NAN, step_ms = NAN;
        if (strcmp(r->approach, "short") == 0)
            model_ms = fmax(down_ms, r->interval_ms);
        else
            step_ms = strcmp(r->approach, "long") == 0 ? lab_num(r->res, "error_backoff_ms")
                                                       : lab_num(r->cfg, "retry_ms");
        if (step_ms > 0)
            model_ms = step_ms * ceil(down_ms / step_ms);
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
    if (rc == 0)
        rc = dynbuf_adds(
            b,
            "\nWhat to read: in memory, what the old server had published and a user had "
            "not fetched yet died with it: for short polling what half an interval holds "
            "on average (rate * T / 2 per user; with a periodic source it also depends on "
            "where the crash falls between two publishes), for long polling and SSE next "
            "to nothing, since each update left the "
            "moment it was published. The durable feed loses nothing. Recovery is set by "
            "how each approach retries: SSE users all lost their streams at the same "
            "instant and all wait the same `retry:` delay, so they return in one burst "
            "one retry after the crash; long-polling users back off in step and knock on "
            "the closed port together; short-polling users keep their random phases and "
            "never bunch. A server restarted under load wants those returns spread out (a "
            "per-client random `retry:`, jittered backoff), or its first second back is "
            "its busiest. The crashed server's own /stats document (printed as it died) "
            "is added to its successor's in the server columns; requests held at the "
            "crash are counted there, but their header bytes, settled when a request "
            "ends, are in neither.\n\n![restart](plots/restart.png)\n");
    return rc;
}

/* The causes the link adds, for the runs that had them. */
static int network_causes(struct dynbuf *b, const struct row *rows, size_t n)
{
    double buffer = 0, rate = 0;
    bool faults_seen = false;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (lab_num(r->link_cfg, "buffer_bytes") > buffer)
            buffer = lab_num(r->link_cfg, "buffer_bytes");
        if (lab_num(r->link_cfg, "rate_down_bps") > 0)
            rate = lab_num(r->link_cfg, "rate_down_bps");
        faults_seen = faults_seen || lab_num(r->link, "resets_injected") > 0 ||
                      lab_num(r->link, "idle_cuts") > 0;
    }
    int rc = 0;
    if (buffer > 0)
        rc = dynbuf_addf(
            b,
            "\nA buffering middlebox sat in front of the stream (up to %.0f bytes held "
            "until they gather, as nginx's proxy_buffering does): an event waits until "
            "enough later events and heartbeats have arrived to fill the buffer, so SSE's "
            "latency becomes the time the feed takes to produce that many bytes, not one "
            "transit (RFC 6202 section 3.2). This is why the server sends "
            "`X-Accel-Buffering: no` (nginx then passes the stream through unbuffered); a "
            "proxy that does not honour it needs buffering turned off for the stream's "
            "path. Updates still in the buffer when the run ended never reached the users: "
            "they count as missed, though they were only delayed. Long polling and short "
            "polling answer with complete responses, which a real proxy forwards whole.\n",
            buffer);
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

static int disagreements(struct dynbuf *b, const struct row *rows, size_t n)
{
    int rc = 0, any = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct row *r = &rows[i];
        struct {
            const char *what;
            double measured, model;
        } q[] = {
            {"mean latency", r->lat_mean, r->m.latency_mean_ms},
            {"requests per client per minute", r->req_min, r->m.requests_per_client_min},
            {"staleness", r->stale, r->m.staleness_mean_ms}};
        for (size_t k = 0; rc == 0 && k < sizeof(q) / sizeof(q[0]); k++) {
            double dev = model_deviation_pct(q[k].measured, q[k].model);
            /* Sub-millisecond models (loopback push) deviate by ratio, not by meaning. */
            if (isnan(dev) || fabs(dev) <= DEVIATION_FLAG_PCT || fabs(q[k].model) < 1)
                continue;
            if (!any)
                rc = dynbuf_adds(b, "\n## Where measurement and model disagree\n\n");
            any = 1;
            rc = rc ? rc
                    : dynbuf_addf(b,
                                  "- %s: %s measured %.3g, model %.3g (%+.0f%%), from %.0f "
                                  "updates published in the window.\n",
                                  r->id, q[k].what, q[k].measured, q[k].model, dev,
                                  r->window_updates);
        }
    }
    if (rc == 0 && any)
        rc = dynbuf_adds(
            b, "\nUsual causes: a run too short for its period (with a few dozen updates, "
               "every client sees the same few gaps between them, so a mean over "
               "thousands of receipts is still a mean over a few dozen arrivals: run "
               "the full scenario, not --quick), a warmup that leaves the first interval's "
               "phase "
               "uneven, processing and scheduling time the model leaves out on a "
               "loaded machine, or a model that assumes Poisson arrivals applied to "
               "another process.\n");
    if (rc == 0 && any)
        rc = network_causes(b, rows, n);
    if (rc == 0 && any && any_restart(rows, n))
        rc = dynbuf_adds(b, "\nThe server was crashed and restarted during the window: "
                            "the outage and the reconnects after it lengthen latency and "
                            "staleness beyond the fault-free models, and a poll that "
                            "failed still counts as a request (see The restart).\n");
    return rc;
}

static int environment(struct dynbuf *b, const struct row *r)
{
    return dynbuf_addf(
        b,
        "\n## Environment\n\n| | |\n|---|---|\n| machine | %s, %g CPUs (%s), %s "
        "|\n| client | pushpull-client %s, %s |\n| server | pushpull-server, "
        "libmicrohttpd 0.9.75 |\n| commit | %s |\n| started | %s |\n",
        lab_str(r->meta, "hostname"), lab_num(r->meta, "cpus"),
        lab_str(r->meta, "cpu_model"), lab_str(r->meta, "kernel"),
        lab_str(r->meta, "version"), lab_str(r->meta, "libcurl"),
        lab_str(r->meta, "commit"), lab_str(r->meta, "started_utc"));
}

int lab_report(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    int rc = -1;
    struct dynbuf b;
    dynbuf_init(&b, (size_t)64 << 20);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    cJSON *doc = lab_read_json(path, err, errlen);
    struct row *rows = NULL;
    if (!doc)
        goto end;
    const cJSON *scenario = cJSON_GetObjectItemCaseSensitive(doc, "scenario");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    size_t n = (size_t)cJSON_GetArraySize(runs);
    if (n == 0) {
        snprintf(err, errlen, "%s: no runs", path);
        goto end;
    }
    rows = calloc(n, sizeof(*rows));
    if (!rows) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto end;
    }
    size_t i = 0;
    const cJSON *run;
    cJSON_ArrayForEach(run, runs) fill_row(&rows[i++], run);

    int w = dynbuf_addf(&b, "# %s: poll, long-poll or stream?\n\n%s\n",
                        lab_str(scenario, "name"), lab_str(scenario, "description"));
    w = w ? w
          : dynbuf_addf(
                &b,
                "\n## Setup\n\n- Updates: %s, %g per second, %g-byte payloads.\n"
                "- Each run: %g simulated clients for %g s after a warmup; one server "
                "per run.\n- Request headers: %s.\n",
                lab_str(rows[0].cfg, "process"), lab_num(rows[0].cfg, "rate_hz"),
                lab_num(rows[0].cfg, "payload_bytes"), rows[0].clients, rows[0].duration_s,
                lab_str(rows[0].res, "headers"));
    w = w ? w : network_setup(&b, rows, n);
    w = w ? w : findings(&b, rows, n);
    w = w ? w
          : dynbuf_adds(
                &b, "\n## Measured, beside the model\n\nEach cell: measured (model, "
                    "deviation). Latency p99 is set beside the model's worst case. The "
                    "models are evaluated at the update rate that occurred in each run's "
                    "window.\n");
    w = w ? w : table(&b, rows, n, "short", "Short polling");
    w = w ? w : table(&b, rows, n, "long", "Long polling");
    w = w ? w : table(&b, rows, n, "sse", "Server-Sent Events");
    w = w ? w : sse_bytes(&b, rows, n);
    w = w ? w : faults(&b, rows, n, dir);
    w = w ? w : restarts(&b, rows, n, dir);
    w = w ? w : disagreements(&b, rows, n);
    w = w ? w
          : dynbuf_adds(
                &b,
                "\n## Plots\n\n![trade-off](plots/tradeoff.png)\n"
                "![requests](plots/requests.png)\n![bytes](plots/bytes.png)\n"
                "![latency distribution](plots/cdf.png)\n"
                "![staleness](plots/staleness.png)\n![server cost](plots/server.png)\n");
    w = w ? w : environment(&b, &rows[0]);
    w = w ? w
          : dynbuf_adds(
                &b,
                "\n## How the numbers were measured, and the models' sources\n\n"
                "- Latency: the client's CLOCK_REALTIME at receipt minus the update's "
                "publish "
                "stamp (the server's CLOCK_REALTIME), on one machine.\n"
                "- Bytes: request and response headers, bodies and framing as read and "
                "written by the client, checked per socket against the kernel's TCP_INFO "
                "counts; the server's figures come from the kernel too.\n"
                "- Staleness: time-averaged age of each client's view against the server's "
                "newest update (Cho and Garcia-Molina, \"Synchronizing a database to "
                "improve "
                "freshness\", SIGMOD 2000).\n"
                "- Short polling: uniform wait within the period, T/2 + d; redundant and "
                "missed polls as in Bozdag, Mesbah and van Deursen, \"A Comparison of Push "
                "and Pull Techniques for Ajax\" (2007).\n"
                "- Long polling: RFC 6202 section 2.2 (latency up to three transits, "
                "batching in the blind window).\n"
                "- SSE: one transit; framing per the WHATWG HTML event-stream format.\n");
    if (w != 0) {
        snprintf(err, errlen, "%s: out of memory writing the report", dir);
        goto end;
    }
    snprintf(path, sizeof(path), "%s/report.md", dir);
    if (lab_write_file(path, b.mem, b.len, err, errlen) != 0)
        goto end;
    rc = 0;
end:
    free(rows);
    cJSON_Delete(doc);
    dynbuf_free(&b);
    return rc;
}

int lab_table(const char *dir, FILE *out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    cJSON *doc = lab_read_json(path, err, errlen);
    if (!doc)
        return -1;
    const cJSON *scenario = cJSON_GetObjectItemCaseSensitive(doc, "scenario");
    fprintf(out, "%s\n  %-44s %14s %12s %12s %8s %10s\n", lab_str(scenario, "name"), "run",
            "bytes/cl/min", "lat mean ms", "lat p99 ms", "missed", "req/cl/min");
    const cJSON *run;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
        fprintf(out, "  %-44.44s %14.0f %12.3g %12.3g %7.1f%% %10.3g\n",
                lab_str(run, "run_id"), lab_num(res, "bytes_per_client_min"),
                lab_num(res, "latency_mean_ms"), lab_num(res, "latency_p99_ms"),
                100 * lab_num(res, "missed_share"),
                lab_num(res, "requests_per_client_min"));
    }
    cJSON_Delete(doc);
    return 0;
}
