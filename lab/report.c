/* report.c: report.md for a results directory: the scenario, the environment, one
 * table per approach with each measured value beside the model's prediction and the
 * deviation, a few plain findings computed from the numbers, and the plots.
 *
 * Every run becomes a struct lab_row (report.h): its parameters from its run.json, its
 * measurements from the client's and the server's documents, and its model from its
 * approach's row of the table (lab/approach.h), which also writes that approach's table
 * cells, sentences and paragraphs. This file knows no approach by name: it walks the
 * table, in order, for the approaches the runs had. The formulas and their sources are
 * docs/MODELS.md, which the report links. A measurement that departs from its model by
 * more than 25% is listed under "Where measurement and model disagree"
 * (report_faults.c), with what usually causes it, because a reader pasting this into a
 * decision record must not take either number on trust.
 *
 * The network is per run: a run that went through the link emulator carries the link's
 * --stats document ("link", merged from link_stats.json), whose settings give that run's
 * one-way delay d for the models and the Setup line's description of its path; a run
 * without one was on loopback (d = 0).
 */
#include "report.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approach.h"
#include "lab.h"

void report_appendf(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

double report_bytes_per_update(const struct lab_row *r)
{
    double total = r->bytes_min * r->clients * r->duration_s / 60.0;
    return r->received > 0 ? total / r->received : NAN;
}

bool report_any_restart(const struct lab_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].restart)
            return true;
    return false;
}

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

/* The model's input common to every approach; the approach adds its own, then predicts. */
static void fill_model(struct lab_row *r)
{
    struct model_input in = {0};
    const char *proc = lab_str(r->cfg, "process");
    in.approach = r->approach;
    in.choice = r->choice;
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
    /* the longest seq the run saw: an in-memory successor's may be the smaller */
    double newest = fmax(
        lab_num(r->srv, "newest_seq"),
        lab_num(cJSON_GetObjectItemCaseSensitive(r->run, "server_crashed"), "newest_seq"));
    if (!(newest >= 1)) /* a document from before newest_seq: the count is the seq */
        newest = lab_num(r->srv, "updates_published");
    in.seq_digits = newest >= 1 ? floor(log10(newest)) + 1 : 1;
    /* {"seq":N,"ts_ns":T,"data":"P"}: 46 bytes around N, a 19-digit T and the payload */
    in.json_bytes = 46 + in.seq_digits + lab_num(r->cfg, "payload_bytes");
    if (r->approach->model_inputs)
        r->approach->model_inputs(r, &in);
    model_predict(&in, &r->m);
}

/* One run of summary.json into r. 0, or -1 with err when its run.json names no approach
 * of the table. */
static int fill_row(struct lab_row *r, const cJSON *run, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->run = run;
    r->id = lab_str(run, "run_id");
    r->record = cJSON_GetObjectItemCaseSensitive(run, "run");
    r->settings = cJSON_GetObjectItemCaseSensitive(r->record, "settings");
    r->res = cJSON_GetObjectItemCaseSensitive(run, "results");
    r->srv = cJSON_GetObjectItemCaseSensitive(run, "server");
    r->cfg = cJSON_GetObjectItemCaseSensitive(r->srv, "config");
    r->meta = cJSON_GetObjectItemCaseSensitive(run, "meta");
    r->link = cJSON_GetObjectItemCaseSensitive(run, "link");
    r->link_cfg = cJSON_GetObjectItemCaseSensitive(r->link, "config");
    r->restart = cJSON_GetObjectItemCaseSensitive(run, "restart");
    r->delay_ms = link_delay_ms(r->link_cfg);
    r->approach = lab_approach_find(lab_str(r->record, "approach"));
    if (!r->approach) {
        snprintf(err, errlen, "run %s: approach \"%s\" is not one this lab knows", r->id,
                 lab_str(r->record, "approach"));
        return -1;
    }
    const struct lab_choice *ch = r->approach->choice;
    if (ch) {
        const char *v = lab_str(r->settings, ch->key);
        for (size_t k = 0; k < ch->n_values; k++)
            if (strcmp(ch->values[k], v) == 0)
                r->choice = (unsigned)k;
    }
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
    fill_model(r);
    return 0;
}

/* One run's path in words: loopback, or what the link emulated (its own settings). */
static void network_text(const struct lab_row *r, char *buf, size_t len)
{
    const cJSON *c = r->link_cfg;
    buf[0] = '\0';
    if (!c) {
        report_appendf(buf, len, "loopback, no emulated delay (d = 0)");
        return;
    }
    report_appendf(buf, len, "%g ms one-way delay", r->delay_ms);
    if (lab_num(c, "jitter_down_ms") > 0)
        report_appendf(buf, len, " +- %g ms jitter", lab_num(c, "jitter_down_ms"));
    if (lab_num(c, "rate_down_bps") > 0)
        report_appendf(buf, len, ", %g kbit/s per connection and direction",
                       lab_num(c, "rate_down_bps") / 1000);
    if (lab_num(c, "drop_every_s") > 0)
        report_appendf(buf, len, ", each connection reset %g s after it opened",
                       lab_num(c, "drop_every_s"));
    if (lab_num(c, "idle_timeout_s") > 0)
        report_appendf(buf, len, ", connections idle for %g s cut",
                       lab_num(c, "idle_timeout_s"));
    if (lab_num(c, "buffer_bytes") > 0)
        report_appendf(buf, len,
                       ", responses held until %g bytes gather (a buffering proxy)",
                       lab_num(c, "buffer_bytes"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "handshake")))
        report_appendf(buf, len, ", a round trip per new connection (handshake)");
}

/* The Setup line on the network: one sentence when every run had the same path, else
 * one line per run. */
static int network_setup(struct dynbuf *b, const struct lab_row *rows, size_t n)
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

/* The columns an approach's table may have: header, and the cell of a row. */
static const char *const column_headers[REPORT_COLUMNS] = {
    [REPORT_REQUESTS] = "requests / client / min",
    [REPORT_EMPTY] = "empty share",
    [REPORT_MISSED] = "missed share",
    [REPORT_LATENCY] = "latency mean ms",
    [REPORT_P99] = "latency p99 ms",
    [REPORT_STALE] = "staleness mean ms",
    [REPORT_BYTES] = "bytes / client / min",
};

static int column_cell(struct dynbuf *b, const struct lab_row *r, enum report_column c)
{
    switch (c) {
    case REPORT_REQUESTS:
        return cell(b, r->req_min, r->m.requests_per_client_min, "%.4g");
    case REPORT_EMPTY:
        return cell(b, r->empty, r->m.empty_share, "%.3f");
    case REPORT_MISSED:
        return cell(b, r->missed, r->m.missed_share, "%.3f");
    case REPORT_LATENCY:
        return cell(b, r->lat_mean, r->m.latency_mean_ms, "%.3g");
    case REPORT_P99:
        return cell(b, r->lat_p99, r->m.latency_max_ms, "%.3g");
    case REPORT_STALE:
        return cell(b, r->stale, r->m.staleness_mean_ms, "%.3g");
    default:
        return dynbuf_addf(b, " %.0f |", r->bytes_min);
    }
}

/* The table of approach a's runs, with the columns its row lists. */
static int table(struct dynbuf *b, const struct lab_row *rows, size_t n,
                 const struct lab_approach *a)
{
    static const enum report_column all[] = {REPORT_REQUESTS, REPORT_EMPTY, REPORT_MISSED,
                                             REPORT_LATENCY,  REPORT_P99,   REPORT_STALE,
                                             REPORT_BYTES};
    const enum report_column *cols = a->columns ? a->columns : all;
    size_t ncols = a->columns ? a->n_columns : sizeof(all) / sizeof(all[0]);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += rows[i].approach == a;
    if (count == 0)
        return 0;
    int rc = dynbuf_addf(b, "\n### %s\n\n| run | setting | clients |", a->title);
    for (size_t c = 0; rc == 0 && c < ncols; c++)
        rc = dynbuf_addf(b, " %s |", column_headers[cols[c]]);
    rc = rc ? rc : dynbuf_adds(b, "\n|---|---|---|");
    for (size_t c = 0; rc == 0 && c < ncols; c++)
        rc = dynbuf_adds(b, "---|");
    rc = rc ? rc : dynbuf_adds(b, "\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        if (r->approach != a)
            continue;
        char s[128] = "";
        if (a->setting_text)
            a->setting_text(r, s, sizeof(s));
        rc = dynbuf_addf(b, "| %s | %s | %g |", r->id, s, r->clients);
        for (size_t c = 0; rc == 0 && c < ncols; c++)
            rc = column_cell(b, r, cols[c]);
        rc = rc ? rc : dynbuf_adds(b, "\n");
    }
    return rc;
}

/* The baseline's run that others are held against: of the runs whose approach is the
 * baseline, the one its row ranks best (short polling: the interval nearest 1 s). */
static const struct lab_row *baseline_row(const struct lab_row *rows, size_t n)
{
    const struct lab_row *best = NULL;
    double best_rank = INFINITY;
    for (size_t i = 0; i < n; i++) {
        const struct lab_approach *a = rows[i].approach;
        if (!a->baseline)
            continue;
        double rank = a->plot_rank ? a->plot_rank(rows[i].settings) : 0;
        if (!best || rank < best_rank) {
            best = &rows[i];
            best_rank = rank;
        }
    }
    return best;
}

/* "- SSE delivered ... using P% of the bytes of short polling every 1000 ms ..." for the
 * first run of each compared approach. */
static int comparisons(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    const struct lab_row *base = baseline_row(rows, n);
    if (!base || !(base->bytes_min > 0))
        return 0;
    char base_name[128];
    base->approach->describe(base, base_name, sizeof(base_name));
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        const struct lab_row *r = NULL;
        for (size_t i = 0; a->compared && !r && i < n; i++)
            if (rows[i].approach == a)
                r = &rows[i];
        if (!r)
            continue;
        char name[128];
        a->describe(r, name, sizeof(name));
        rc = dynbuf_addf(b,
                         "- %s delivered %.0f of %.0f updates (p99 %.3g ms, staleness %.3g "
                         "ms) using %.1f%% of the bytes of %s, which delivered %.0f (mean "
                         "latency %.3g ms, staleness %.3g ms): %.0f bytes per update "
                         "delivered against %.0f.\n",
                         name, r->received, r->published, r->lat_p99, r->stale,
                         100 * r->bytes_min / base->bytes_min, base_name, base->received,
                         base->lat_mean, base->stale, report_bytes_per_update(r),
                         report_bytes_per_update(base));
    }
    return rc;
}

/* Findings: the comparisons, each approach's own sentences, the byte accounting. */
static int findings(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = dynbuf_adds(b, "\n## Findings\n\n");
    rc = rc ? rc : comparisons(b, rows, n);
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        if (a->findings)
            rc = a->findings(b, rows, n);
    }
    size_t ok = 0, unacc = 0;
    for (size_t i = 0; i < n; i++) {
        ok += strcmp(lab_str(rows[i].res, "bytes_check"), "ok") == 0;
        unacc += lab_num(rows[i].srv, "unaccounted_bytes") != 0;
    }
    return rc ? rc
              : dynbuf_addf(
                    b,
                    "- Byte accounting: in %zu of %zu runs the client's counts equal "
                    "the kernel's (TCP_INFO, both directions)%s.\n",
                    ok, n,
                    unacc ? "; the server left bytes unexplained in some runs"
                          : ", and the server explained every byte it sent");
}

static int environment(struct dynbuf *b, const struct lab_row *r)
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

/* docs/MODELS.md as a link from the report in dir: relative when both paths resolve
 * (the report's directory is made from the repository's root), else its plain name. */
static void models_link(const char *dir, char *out, size_t cap)
{
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(out, cap, "docs/MODELS.md");
    if (!realpath(dir, from) || !realpath("docs/MODELS.md", to))
        return;
    size_t i = 0;
    while (from[i] && from[i] == to[i])
        i++;
    size_t common = i; /* where the paths part, at a '/' of both */
    if (!(from[i] == '\0' && to[i] == '/'))
        while (common > 0 && from[common] != '/')
            common--;
    out[0] = '\0';
    for (const char *p = from + common; *p; p++)
        if (*p == '/' && p[1] != '\0')
            report_appendf(out, cap, "../");
    report_appendf(out, cap, "%s", to + common + 1);
}

static int sources(struct dynbuf *b, const struct lab_row *rows, size_t n, const char *dir)
{
    char link[PATH_MAX];
    models_link(dir, link, sizeof(link));
    int rc = dynbuf_addf(
        b,
        "\n## How the numbers were measured, and the models' sources\n\n"
        "Every model, its derivation and its sources: [docs/MODELS.md](%s).\n\n"
        "- Latency: the client's CLOCK_REALTIME at receipt minus the update's publish "
        "stamp (the server's CLOCK_REALTIME), on one machine.\n"
        "- Bytes: request and response headers, bodies and framing as read and written by "
        "the client, checked per socket against the kernel's TCP_INFO counts; the server's "
        "figures come from the kernel too.\n"
        "- Staleness: time-averaged age of each client's view against the server's newest "
        "update (Cho and Garcia-Molina, \"Synchronizing a database to improve freshness\", "
        "SIGMOD 2000).\n",
        link);
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used = used || rows[i].approach == a;
        if (used && a->model_source)
            rc = dynbuf_addf(b, "- %s\n", a->model_source);
    }
    return rc;
}

/* The report's body, in order. 0, or non-zero when out of memory. */
static int write_report(struct dynbuf *b, const cJSON *scenario, const struct lab_row *rows,
                        size_t n, const char *dir)
{
    int w = dynbuf_addf(b, "# %s: poll, long-poll or stream?\n\n%s\n",
                        lab_str(scenario, "name"), lab_str(scenario, "description"));
    w = w ? w
          : dynbuf_addf(
                b,
                "\n## Setup\n\n- Updates: %s, %g per second, %g-byte payloads.\n"
                "- Each run: %g simulated clients for %g s after a warmup; one server "
                "per run.\n- Request headers: %s.\n",
                lab_str(rows[0].cfg, "process"), lab_num(rows[0].cfg, "rate_hz"),
                lab_num(rows[0].cfg, "payload_bytes"), rows[0].clients, rows[0].duration_s,
                lab_str(rows[0].res, "headers"));
    double compression = lab_num(rows[0].record, "time_compression");
    if (w == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rows[0].record, "quick")))
        w = dynbuf_addf(b,
                        "- The quick version (--quick): a %g s window where the full one "
                        "has %g s%s.\n",
                        rows[0].duration_s, lab_num(rows[0].record, "full_duration_s"),
                        compression > 1 ? ", its clock running faster (the rates and "
                                          "intervals scaled together)"
                                        : "");
    w = w ? w : network_setup(b, rows, n);
    w = w ? w : findings(b, rows, n);
    w = w ? w
          : dynbuf_adds(
                b, "\n## Measured, beside the model\n\nEach cell: measured (model, "
                   "deviation). Latency p99 is set beside the model's worst case. The "
                   "models are evaluated at the update rate that occurred in each run's "
                   "window.\n");
    for (size_t k = 0; w == 0 && k < lab_approach_count(); k++)
        w = table(b, rows, n, lab_approach_at(k));
    for (size_t k = 0; w == 0 && k < lab_approach_count(); k++)
        if (lab_approach_at(k)->details)
            w = lab_approach_at(k)->details(b, rows, n);
    w = w ? w : report_faults(b, rows, n, dir);
    w = w ? w : report_restarts(b, rows, n, dir);
    w = w ? w : report_disagreements(b, rows, n);
    w = w ? w
          : dynbuf_adds(
                b, "\n## Plots\n\n![trade-off](plots/tradeoff.png)\n"
                   "![requests](plots/requests.png)\n![bytes](plots/bytes.png)\n"
                   "![latency distribution](plots/cdf.png)\n"
                   "![staleness](plots/staleness.png)\n![server cost](plots/server.png)\n");
    w = w ? w : environment(b, &rows[0]);
    return w ? w : sources(b, rows, n, dir);
}

int lab_report(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    int rc = -1;
    struct dynbuf b;
    dynbuf_init(&b, (size_t)64 << 20);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    cJSON *doc = lab_read_json(path, err, errlen);
    struct lab_row *rows = NULL;
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
    cJSON_ArrayForEach(run, runs)
    {
        if (fill_row(&rows[i++], run, err, errlen) != 0)
            goto end;
    }
    if (write_report(&b, scenario, rows, n, dir) != 0) {
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
