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
#include "report_protocols.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approach.h"
#include "lab.h"
#include "numfmt.h"

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

bool report_few_samples(const struct lab_row *r)
{
    return !(r->window_updates >= INTERVAL_MIN_UPDATES);
}

void report_path_text(const struct lab_row *r, char *buf, size_t len)
{
    if (!r->link_cfg)
        snprintf(buf, len, "on loopback");
    else
        snprintf(buf, len, "across a %.15g ms one-way delay", r->delay_ms);
}

int report_too_few(struct dynbuf *b, const struct lab_row *r, const char *what)
{
    char num[NUMFMT_LEN];
    return dynbuf_addf(b,
                       "- %s: too few samples (%s updates in the window; a finding needs "
                       "%d)%s.\n",
                       what, numfmt(num, sizeof(num), r->window_updates, 3),
                       INTERVAL_MIN_UPDATES,
                       r->quick ? ", the quick version: run the full scenario" : "");
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
    in.send_bytes =
        lab_num(r->settings, "send_rate_hz") > 0 ? lab_num(r->settings, "send_bytes") : 0;
    if (r->approach->model_inputs)
        r->approach->model_inputs(r, &in);
    model_predict(&in, &r->m);
    /* the same workload on the full scenario's clock: times c times longer, rates c times
     * lower, the network's delay as it was */
    double c = r->compression;
    in.rate_hz /= c;
    in.client_gap_s *= c;
    in.interval_s *= c;
    in.timeout_s *= c;
    in.heartbeat_s *= c;
    model_predict(&in, &r->m_full);
}

/* One run of summary.json into r (dir: its results directory, for latency.csv). 0, or
 * -1 with err when its run.json names no approach of the table. */
static int fill_row(struct lab_row *r, const cJSON *run, const char *dir, char *err,
                    size_t errlen)
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
    r->cap = cJSON_GetObjectItemCaseSensitive(run, "capacity");
    r->quick = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->record, "quick"));
    r->compression = lab_num(r->record, "time_compression");
    if (!(r->compression > 0))
        r->compression = 1;
    r->warmup_s = lab_num(r->settings, "warmup_s");
    double set[LAB_MAX_SETTINGS];
    lab_approach_settings_of(r->approach, r->settings, set);
    r->settle_s = r->approach->settle_s ? r->approach->settle_s(set) : 0;
    fill_model(r);
    r->n_eff = interval_effective_n(r->clients, r->window_updates);
    char path[4096];
    double mean, count;
    snprintf(path, sizeof(path), "%s/runs/%s/latency.csv", dir, r->id);
    r->lat_sd = NAN;
    if (interval_latency_spread(path, &mean, &r->lat_sd, &count) != 0)
        r->lat_sd = NAN;
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
    report_appendf(buf, len, "%.15g ms one-way delay", r->delay_ms);
    if (lab_num(c, "jitter_down_ms") > 0)
        report_appendf(buf, len, " +- %.15g ms jitter", lab_num(c, "jitter_down_ms"));
    if (lab_num(c, "rate_down_bps") > 0)
        report_appendf(buf, len, ", %.15g kbit/s per connection and direction",
                       lab_num(c, "rate_down_bps") / 1000);
    if (lab_num(c, "drop_every_s") > 0)
        report_appendf(buf, len, ", each connection reset %.15g s after it opened",
                       lab_num(c, "drop_every_s"));
    if (lab_num(c, "idle_timeout_s") > 0)
        report_appendf(buf, len, ", connections idle for %.15g s cut",
                       lab_num(c, "idle_timeout_s"));
    if (lab_num(c, "buffer_bytes") > 0)
        report_appendf(buf, len,
                       ", responses held until %.15g bytes gather (a buffering proxy)",
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

/* The table of approach a's runs, with the columns its row lists, after a column of
 * what each rests on: the updates each user was to receive in the window. */
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
    int rc = dynbuf_addf(b, "\n### %s\n\n| run | setting | clients | updates in window |",
                         a->title);
    for (size_t c = 0; rc == 0 && c < ncols; c++)
        rc = dynbuf_addf(b, " %s |", report_column_header(cols[c]));
    rc = rc ? rc : dynbuf_adds(b, "\n|---|---|---|---|");
    for (size_t c = 0; rc == 0 && c < ncols; c++)
        rc = dynbuf_adds(b, "---|");
    rc = rc ? rc : dynbuf_adds(b, "\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        if (r->approach != a)
            continue;
        char s[128] = "", upd[NUMFMT_LEN], cl[NUMFMT_LEN];
        if (a->setting_text)
            a->setting_text(r, s, sizeof(s));
        rc = dynbuf_addf(b, "| %s | %s | %s | %s%s |", r->id, s,
                         numfmt(cl, sizeof(cl), r->clients, 6),
                         numfmt(upd, sizeof(upd), r->window_updates, 3),
                         report_few_samples(r) ? " (too few)" : "");
        for (size_t c = 0; rc == 0 && c < ncols; c++)
            rc = report_cell(b, r, cols[c]);
        rc = rc ? rc : dynbuf_adds(b, "\n");
    }
    return rc;
}

static int environment(struct dynbuf *b, const struct lab_row *r)
{
    return dynbuf_addf(
        b,
        "\n## Environment\n\n| | |\n|---|---|\n| machine | %s, %.15g CPUs (%s), %s "
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

static int sources(struct dynbuf *b, const struct lab_row *rows, size_t n, const char *link)
{
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
        "SIGMOD 2000).\n"
        "- How sure: a share's 95%% interval is Wilson's; a mean latency's is the normal "
        "approximation, mean ± 1.96 s / √n, with s the spread of single receipts "
        "(latency.csv). n is the effective sample, the smaller of users and updates in "
        "the window, because receipts cluster by update (every user gets it at once) and "
        "by user (a poller keeps its phase). A finding needs %d updates in the window.\n"
        "- Capacity: the window's counts per user, scaled linearly to the target; the "
        "server's CPU and memory from its /stats read before the client started, at the "
        "window's start and after the client ended (lab/capacity.h).\n"
        "- The phone's radio: Huang et al., \"A Close Examination of Performance and "
        "Power Characteristics of 4G LTE Networks\", MobiSys 2012 (LTE); AT&T's ARO "
        "profile of a measured handset and Balasubramanian et al., \"Energy Consumption "
        "in Mobile Phones\", IMC 2009 (3G).\n",
        link, INTERVAL_MIN_UPDATES);
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

/* The quick version's banner, under the title: what was compressed and what that means
 * for the figures. */
static int quick_banner(struct dynbuf *b, const struct lab_row *r)
{
    if (!r->quick)
        return 0;
    char c[NUMFMT_LEN];
    numfmt(c, sizeof(c), r->compression, 3);
    return dynbuf_addf(
        b,
        "\n> **The quick version** (--quick): %.15g s windows where the full scenario has "
        "%.15g s%s%s%s. Findings that rest on fewer than %d updates say so instead of "
        "concluding.\n",
        r->duration_s, lab_num(r->record, "full_duration_s"),
        r->compression > 1 ? ", its clock running " : "", r->compression > 1 ? c : "",
        r->compression > 1
            ? " times faster (rates and intervals scaled together): per-minute figures and "
              "latencies below are on that clock; the capacity and radio sections convert "
              "them back to the full scenario's"
            : "",
        INTERVAL_MIN_UPDATES);
}

/* The Setup line on warm-ups: one when every run had the same, else the rule; and a
 * line for each run whose warm-up was shorter than its poll interval. */
static int warmup_setup(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    bool same = true;
    for (size_t i = 1; i < n; i++)
        same = same && rows[i].warmup_s == rows[0].warmup_s;
    int rc =
        same ? dynbuf_addf(b, "- Warm-up: %.15g s before each window.\n", rows[0].warmup_s)
             : dynbuf_adds(b, "- Warm-up: per run, one poll interval or 2 s, "
                              "whichever is longer.\n");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (rows[i].settle_s > rows[i].warmup_s + 1e-9)
            rc = dynbuf_addf(
                b,
                "- Warning: %s warmed up %.15g s, shorter than its poll interval "
                "(%.15g s): its users' first polls fell inside the window (more "
                "empty answers; with a cursor, updates before a first poll "
                "count as missed).\n",
                rows[i].id, rows[i].warmup_s, rows[i].settle_s);
    return rc;
}

static int setup(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    const struct lab_row *r = &rows[0];
    double lo = r->clients, hi = r->clients;
    for (size_t i = 1; i < n; i++) {
        lo = fmin(lo, rows[i].clients);
        hi = fmax(hi, rows[i].clients);
    }
    char clients[96], rate[NUMFMT_LEN], full[NUMFMT_LEN], users[NUMFMT_LEN];
    if (lo == hi)
        snprintf(clients, sizeof(clients), "%.15g simulated clients", lo);
    else
        snprintf(clients, sizeof(clients), "%.15g to %.15g simulated clients", lo, hi);
    numfmt(rate, sizeof(rate), lab_num(r->cfg, "rate_hz"), 4);
    numfmt(full, sizeof(full), lab_num(r->cfg, "rate_hz") / r->compression, 4);
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(r->record, "target");
    const cJSON *radio = cJSON_GetObjectItemCaseSensitive(r->record, "radio");
    int rc = dynbuf_addf(
        b,
        "\n## Setup\n\n- Updates: %s, %s per second%s%s%s, %.15g-byte "
        "payloads.\n- Each run: %s for %.15g s; one server per run.\n"
        "- Request headers: %s.\n",
        lab_str(r->cfg, "process"), rate,
        r->compression > 1 ? " (the full scenario's " : "", r->compression > 1 ? full : "",
        r->compression > 1 ? " on its clock)" : "", lab_num(r->cfg, "payload_bytes"),
        clients, r->duration_s, lab_str(r->res, "headers"));
    rc = rc ? rc : warmup_setup(b, rows, n);
    rc = rc ? rc : network_setup(b, rows, n);
    rc = rc ? rc : report_scale(b, rows, n);
    if (rc == 0 && target)
        rc = dynbuf_addf(b,
                         "- Scaled to: %s users, egress at %.15g US dollars per GB; their "
                         "phones' radio: %s (see The phone's radio).\n",
                         numfmt(users, sizeof(users), lab_num(target, "users"), 9),
                         lab_num(target, "egress_usd_per_gb"),
                         strcmp(lab_str(radio, "model"), "3g") == 0 ? "3G" : "LTE");
    return rc;
}

/* The report's body, in order. 0, or non-zero when out of memory. */
static int write_report(struct dynbuf *b, const cJSON *scenario, const struct lab_row *rows,
                        size_t n, const char *dir)
{
    char link[PATH_MAX];
    models_link(dir, link, sizeof(link));
    int w = dynbuf_addf(b, "# %s: poll, long-poll or stream?\n\n%s\n",
                        lab_str(scenario, "name"), lab_str(scenario, "description"));
    w = w ? w : quick_banner(b, &rows[0]);
    w = w ? w : setup(b, rows, n);
    w = w ? w : report_findings(b, rows, n);
    w = w ? w : report_capacity(b, rows, n);
    w = w ? w : report_radio(b, rows, n);
    w = w ? w : report_protocols(b, rows, n);
    w = w ? w
          : dynbuf_adds(
                b,
                "\n## Measured, beside the model\n\nEach cell: measured, its 95% interval "
                "where one is known, then (model, deviation). The deviation is left out "
                "where the model is too close to 0 to tell apart (≈0; on loopback, where "
                "the network adds nothing) and for shares, which are judged in points. "
                "Latency p99 is set beside the model's worst case. The models are "
                "evaluated "
                "at the update rate that occurred in each run's window; updates in window: "
                "how many each user was to receive, what every figure of the run rests "
                "on.\n");
    for (size_t k = 0; w == 0 && k < lab_approach_count(); k++)
        w = table(b, rows, n, lab_approach_at(k));
    for (size_t k = 0; w == 0 && k < lab_approach_count(); k++)
        if (lab_approach_at(k)->details)
            w = lab_approach_at(k)->details(b, rows, n);
    w = w ? w : report_upstream(b, rows, n);
    w = w ? w : report_faults(b, rows, n, dir);
    w = w ? w : report_restarts(b, rows, n, dir);
    w = w ? w : report_disagreements(b, rows, n);
    w = w ? w
          : dynbuf_adds(
                b, "\n## Plots\n\n![trade-off](plots/tradeoff.png)\n"
                   "![requests](plots/requests.png)\n![bytes](plots/bytes.png)\n"
                   "![latency distribution](plots/cdf.png)\n"
                   "![staleness](plots/staleness.png)\n![server cost](plots/server.png)\n"
                   "![cost at scale](plots/capacity.png)\n"
                   "![radio energy](plots/radio.png)\n");
    w = w ? w : environment(b, &rows[0]);
    w = w ? w : sources(b, rows, n, link);
    return w ? w : report_decision_record(b, scenario, rows, n, link);
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
        if (fill_row(&rows[i++], run, dir, err, errlen) != 0)
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
