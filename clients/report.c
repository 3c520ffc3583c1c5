/* report.c: the field list behind summary.csv and summary.json, the human summary, and
 * the run's verdict (report.h); the files themselves are report_files.c.
 *
 * Window figures (what the summary and CSV show) follow the window rule in counters.h and
 * freshness.h. The kernel check compares whole-run totals, because the kernel's counts are
 * per socket and sockets outlive the window: bytes the application handed to libcurl's
 * sockets (request heads and bodies) against the kernel's bytes sent, and bytes libcurl
 * read (response heads, bodies, chunk framing) against the kernel's bytes received. The
 * observer's connection is in neither side.
 */
#include "report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "clock.h"
#include "hist.h"
#include "transport.h"

/* ---- derived figures ---------------------------------------------------------------- */

static uint64_t app_sent(const struct counters *c)
{
    return c->run[CTR_REQ_HEADER_BYTES] + c->run[CTR_REQ_BODY_BYTES];
}

static uint64_t app_received(const struct counters *c)
{
    return c->run[CTR_RESP_HEADER_BYTES] + c->run[CTR_RESP_BODY_BYTES] +
           c->run[CTR_CHUNK_FRAMING_BYTES];
}

int report_bytes_match(const struct run_results *res)
{
    const struct counters *c = &res->users;
    return app_sent(c) == c->run[CTR_KERNEL_BYTES_SENT] &&
           app_received(c) == c->run[CTR_KERNEL_BYTES_RECEIVED] &&
           c->run[CTR_KERNEL_READ_ERRORS] == 0;
}

static uint64_t window_bytes(const struct counters *c)
{
    return c->win[CTR_REQ_HEADER_BYTES] + c->win[CTR_REQ_BODY_BYTES] +
           c->win[CTR_RESP_HEADER_BYTES] + c->win[CTR_RESP_BODY_BYTES] +
           c->win[CTR_CHUNK_FRAMING_BYTES];
}

static double per_client_min(const struct run_results *res, double v)
{
    double minutes = res->window_s / 60.0;
    return (minutes > 0 && res->cfg->clients) ? v / res->cfg->clients / minutes : 0;
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

/* The mean length of the window's outages, open ones up to the run's end. */
static double outage_mean_ms(const struct counters *c)
{
    uint64_t n = c->win[CTR_OUTAGES];
    return n ? (double)c->win[CTR_OUTAGE_NS] / (double)n / NS_PER_MS : 0;
}

/* ---- the field list ----------------------------------------------------------------- */

static void add_num(struct report_fields *o, const char *name, double v, int decimals)
{
    if (o->n < REPORT_MAX_FIELDS)
        o->f[o->n++] = (struct report_field){name, NULL, v, decimals};
}

static void add_str(struct report_fields *o, const char *name, const char *s)
{
    if (o->n < REPORT_MAX_FIELDS)
        o->f[o->n++] = (struct report_field){name, s, 0, 0};
}

void report_fields(const struct run_results *res, struct report_fields *o)
{
    const struct client_config *cfg = res->cfg;
    const struct counters *c = &res->users;
    const struct hist *h = res->fr->latency;
    const struct freshness_summary *fs = &res->fresh;
    bool is_short = cfg->approach == APPROACH_SHORT;
    o->n = 0;

    /* settings */
    add_str(o, "label", cfg->label ? cfg->label : "");
    add_str(o, "approach", cli_approach_name(cfg->approach));
    add_str(o, "poll_mode", is_short ? cli_poll_name(cfg->poll) : "");
    add_num(o, "clients", cfg->clients, 0);
    add_num(o, "duration_s", (double)cfg->duration_ns / NS_PER_S, 3);
    add_num(o, "warmup_s", (double)cfg->warmup_ns / NS_PER_S, 3);
    add_num(o, "drain_s", (double)cli_drain_ns(cfg) / NS_PER_S, 3);
    add_num(o, "interval_ms", is_short ? (double)cfg->interval_ns / NS_PER_MS : 0, 3);
    add_num(o, "longpoll_timeout_s",
            cfg->approach == APPROACH_LONG ? (double)cfg->longpoll_timeout_ns / NS_PER_S
                                           : 0,
            0);
    add_num(o, "error_backoff_ms",
            cfg->approach == APPROACH_LONG ? (double)LONG_POLL_ERROR_BACKOFF_NS / NS_PER_MS
                                           : 0,
            0);
    add_num(o, "response_timeout_ms", (double)cfg->response_timeout_ns / NS_PER_MS, 3);
    add_num(o, "open_timeout_ms", (double)cfg->open_timeout_ns / NS_PER_MS, 3);
    add_num(o, "max_body_bytes", (double)cfg->max_body_bytes, 0);
    add_num(o, "max_clock_skew_ms", (double)cfg->max_clock_skew_ns / NS_PER_MS, 3);
    add_str(o, "headers", res->profile->name);
    add_num(o, "req_head_profile_bytes", (double)res->req_head_bytes, 0);
    add_num(o, "cookie_bytes", (double)cfg->cookie_bytes, 0);
    add_num(o, "seed", (double)cfg->seed, 0);

    /* window counts: every counter but the kernel's (those are whole-run, below) */
    for (int k = 0; k < CTR_KERNEL_BYTES_SENT; k++)
        add_num(o, counters_name((enum counter)k), (double)c->win[k], 0);
    uint64_t responses =
        c->win[CTR_RESP_NEWS] + c->win[CTR_RESP_EMPTY] + c->win[CTR_RESP_304];
    uint64_t total = window_bytes(c);
    add_num(o, "total_bytes", (double)total, 0);
    add_num(o, "bytes_per_client_min", per_client_min(res, (double)total), 1);
    add_num(o, "requests_per_client_min", per_client_min(res, (double)c->win[CTR_REQUESTS]),
            3);
    add_num(o, "empty_share",
            responses ? (double)(c->win[CTR_RESP_EMPTY] + c->win[CTR_RESP_304]) / responses
                      : 0,
            4);

    /* freshness */
    add_num(o, "updates_published", (double)fs->published, 0);
    add_num(o, "updates_unseen", (double)fs->unseen, 0);
    add_num(o, "updates_expected", (double)fs->expected, 0);
    add_num(o, "updates_received", (double)fs->received, 0);
    add_num(o, "missed", (double)fs->missed, 0);
    add_num(o, "missed_share", fs->expected ? (double)fs->missed / fs->expected : 0, 4);
    add_num(o, "duplicates", (double)fs->duplicates, 0);
    add_num(o, "latency_count", (double)hist_count(h), 0);
    add_num(o, "latency_mean_ms", hist_mean(h) / 1000.0, 3);
    add_num(o, "latency_p50_ms", ms(hist_value_at_percentile(h, 50)), 3);
    add_num(o, "latency_p90_ms", ms(hist_value_at_percentile(h, 90)), 3);
    add_num(o, "latency_p95_ms", ms(hist_value_at_percentile(h, 95)), 3);
    add_num(o, "latency_p99_ms", ms(hist_value_at_percentile(h, 99)), 3);
    add_num(o, "latency_p999_ms", ms(hist_value_at_percentile(h, 99.9)), 3);
    add_num(o, "latency_max_ms", ms(hist_max(h)), 3);
    add_num(o, "staleness_mean_ms", fs->staleness_mean_ms, 3);
    add_num(o, "staleness_max_client_ms", fs->staleness_max_ms, 3);
    add_num(o, "staleness_unknown_stamps", (double)fs->unknown_stamps, 0);
    add_num(o, "feed_restarts", (double)fs->feed_restarts, 0);
    add_num(o, "feed_stamps_inconsistent", (double)fs->inconsistent, 0);
    add_num(o, "users_stopped", res->users_stopped, 0);
    add_num(o, "users_never_connected", res->users_never_connected, 0);
    add_num(o, "users_served", res->users_served, 0);
    char line[8];
    add_str(o, "verdict", report_verdict(res, line, sizeof(line)) ? "nothing" : "served");

    /* recovery: outages begun in the window (user.h) */
    add_num(o, "outages", (double)c->win[CTR_OUTAGES], 0);
    add_num(o, "outage_mean_ms", outage_mean_ms(c), 3);
    add_num(o, "outage_max_ms", (double)c->outage_max_win_ns / NS_PER_MS, 3);
    add_num(o, "outages_open", (double)c->win[CTR_OUTAGES_OPEN], 0);

    /* kernel check, whole run */
    add_num(o, "app_bytes_sent_run", (double)app_sent(c), 0);
    add_num(o, "kernel_bytes_sent_run", (double)c->run[CTR_KERNEL_BYTES_SENT], 0);
    add_num(o, "app_bytes_received_run", (double)app_received(c), 0);
    add_num(o, "kernel_bytes_received_run", (double)c->run[CTR_KERNEL_BYTES_RECEIVED], 0);
    add_num(o, "kernel_segs_out_run", (double)c->run[CTR_KERNEL_SEGS_OUT], 0);
    add_num(o, "kernel_segs_in_run", (double)c->run[CTR_KERNEL_SEGS_IN], 0);
    add_num(o, "connections_opened_run", (double)c->run[CTR_CONNECTIONS], 0);
    add_num(o, "requests_run", (double)c->run[CTR_REQUESTS], 0);
    add_str(o, "bytes_check", report_bytes_match(res) ? "ok" : "MISMATCH");

    /* the instrument itself */
    add_num(o, "client_cpu_s", res->cpu_window_s, 3);
    add_num(o, "client_cpu_pct",
            res->window_s > 0 ? 100.0 * res->cpu_window_s / res->window_s : 0, 1);
    add_num(o, "client_cpu_total_s", res->cpu_total_s, 3);
    add_num(o, "client_peak_rss_kb", (double)res->peak_rss_kb, 0);
}

/* ---- human summary ------------------------------------------------------------------ */

void report_print_summary(FILE *out, const struct run_results *res)
{
    const struct client_config *cfg = res->cfg;
    const struct counters *c = &res->users;
    const uint64_t *w = c->win;
    const struct hist *h = res->fr->latency;
    const struct freshness_summary *fs = &res->fresh;
    uint64_t total = window_bytes(c);
    char mode[64] = "";
    if (cfg->approach == APPROACH_SHORT)
        snprintf(mode, sizeof(mode), " every %.0f ms (%s)",
                 (double)cfg->interval_ns / NS_PER_MS, cli_poll_name(cfg->poll));
    else if (cfg->approach == APPROACH_LONG)
        snprintf(mode, sizeof(mode), " (hold %.0f s)",
                 (double)cfg->longpoll_timeout_ns / NS_PER_S);

    fprintf(out, "pushpull-client %s: %s%s, %u users, %.1f s window after %.1f s warmup\n",
            PUSHPULL_CLIENT_VERSION, cli_approach_name(cfg->approach), mode, cfg->clients,
            res->window_s, (double)cfg->warmup_ns / NS_PER_S);
    fprintf(out,
            "  %-13s %s (%s), headers %s (%zu B request head), cookie %" PRIu64 " B%s%s\n",
            "server", cfg->server, res->address, res->profile->name, res->req_head_bytes,
            cfg->cookie_bytes, cfg->label && cfg->label[0] ? ", label " : "",
            cfg->label ? cfg->label : "");
    fprintf(out,
            "  %-13s %" PRIu64 " (%.2f per user per minute)  news %" PRIu64
            "  empty %" PRIu64 "  304 %" PRIu64 "\n",
            "requests", w[CTR_REQUESTS], per_client_min(res, (double)w[CTR_REQUESTS]),
            w[CTR_RESP_NEWS], w[CTR_RESP_EMPTY], w[CTR_RESP_304]);
    fprintf(out,
            "  %-13s connect %" PRIu64 "  timeout %" PRIu64 "  status %" PRIu64
            "  parse %" PRIu64 " (%" PRIu64 " too big)  io %" PRIu64
            "  (stopped users %u, served %u)\n",
            "errors", w[CTR_ERR_CONNECT], w[CTR_ERR_TIMEOUT], w[CTR_ERR_STATUS],
            w[CTR_ERR_PARSE], w[CTR_ERR_PARSE_TOO_BIG], w[CTR_ERR_IO], res->users_stopped,
            res->users_served);
    fprintf(out,
            "  %-13s %" PRIu64 " opened in window (%" PRIu64 " in run), %" PRIu64
            " reconnects, %" PRIu64 " resets\n",
            "connections", w[CTR_CONNECTIONS], c->run[CTR_CONNECTIONS], w[CTR_RECONNECTS],
            w[CTR_RESETS]);
    fprintf(out,
            "  %-13s request head %" PRIu64 "  response head %" PRIu64 "  body %" PRIu64
            "  framing %" PRIu64 "\n",
            "bytes", w[CTR_REQ_HEADER_BYTES], w[CTR_RESP_HEADER_BYTES],
            w[CTR_RESP_BODY_BYTES], w[CTR_CHUNK_FRAMING_BYTES]);
    fprintf(out, "  %-13s %.0f B per user per minute (%" PRIu64 " B in all)\n", "",
            per_client_min(res, (double)total), total);
    if (cfg->approach == APPROACH_SSE)
        fprintf(out,
                "  %-13s data %" PRIu64 "  fields %" PRIu64 "  comments %" PRIu64
                " (%" PRIu64 " heartbeats)  events %" PRIu64 "\n",
                "sse body", w[CTR_SSE_DATA_BYTES], w[CTR_SSE_FRAMING_BYTES],
                w[CTR_SSE_COMMENT_BYTES], w[CTR_SSE_COMMENTS], w[CTR_SSE_EVENTS]);
    fprintf(out,
            "  %-13s %" PRIu64 " published, %" PRIu64 " received of %" PRIu64 ", %" PRIu64
            " missed, %" PRIu64 " duplicates\n",
            "updates", fs->published, fs->received, fs->expected, fs->missed,
            fs->duplicates);
    fprintf(out,
            "  %-13s %" PRIu64 " begun in window, mean %.1f ms, max %.1f ms, %" PRIu64
            " open at the end; feed restarts %" PRIu64 "\n",
            "outages", w[CTR_OUTAGES], outage_mean_ms(c),
            (double)c->outage_max_win_ns / NS_PER_MS, w[CTR_OUTAGES_OPEN],
            fs->feed_restarts);
    fprintf(out,
            "  %-13s seq backwards %" PRIu64 "  future stamps %" PRIu64
            "  invalid events %" PRIu64 "  unseen updates %" PRIu64
            "  inconsistent stamps %" PRIu64 "\n",
            "anomalies", w[CTR_SEQ_BACKWARDS], w[CTR_STAMPS_FUTURE],
            w[CTR_SSE_EVENTS_INVALID], fs->unseen, fs->inconsistent);
    if (fs->inconsistent > 0)
        fprintf(out,
                "  %-13s %" PRIu64 " publish stamps fit no feed epoch or disagree "
                "(freshness.h): the update figures are suspect\n",
                "warning", fs->inconsistent);
    fprintf(out,
            "  %-13s mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
            "latency", hist_mean(h) / 1000.0, ms(hist_value_at_percentile(h, 50)),
            ms(hist_value_at_percentile(h, 90)), ms(hist_value_at_percentile(h, 99)),
            ms(hist_value_at_percentile(h, 99.9)), ms(hist_max(h)));
    fprintf(out, "  %-13s mean %.3f ms per user (worst user %.3f ms)\n", "staleness",
            fs->staleness_mean_ms, fs->staleness_max_ms);
    fprintf(out,
            "  %-13s sent %" PRIu64 " app = %" PRIu64 " kernel, received %" PRIu64
            " app = %" PRIu64 " kernel: %s\n",
            "kernel check", app_sent(c), c->run[CTR_KERNEL_BYTES_SENT], app_received(c),
            c->run[CTR_KERNEL_BYTES_RECEIVED], report_bytes_match(res) ? "ok" : "MISMATCH");
    fprintf(out,
            "  %-13s cpu %.2f s in the window (%.1f%%), %.2f s in all, peak rss %ld kB\n",
            "client", res->cpu_window_s,
            res->window_s > 0 ? 100.0 * res->cpu_window_s / res->window_s : 0,
            res->cpu_total_s, res->peak_rss_kb);
}

/* ---- verdict ------------------------------------------------------------------------ */

/* Append ", <what> N" to line when n > 0. */
static void add_reason(char *line, size_t len, const char *what, uint64_t n)
{
    size_t used = strlen(line);
    if (n > 0 && used < len)
        snprintf(line + used, len - used, "%s%s %" PRIu64, used ? ", " : "", what, n);
}

int report_verdict(const struct run_results *res, char *line, size_t len)
{
    const uint64_t *r = res->users.run;
    uint64_t errors = r[CTR_ERR_CONNECT] + r[CTR_ERR_TIMEOUT] + r[CTR_ERR_STATUS] +
                      r[CTR_ERR_PARSE] + r[CTR_ERR_IO];
    uint64_t anomalies =
        r[CTR_SEQ_BACKWARDS] + r[CTR_STAMPS_FUTURE] + r[CTR_SSE_EVENTS_INVALID];
    uint32_t users = res->cfg->clients;
    bool nothing =
        r[CTR_DELIVERIES] == 0 &&
        (res->users_served == 0 || errors + anomalies > 0 || res->users_stopped == users);
    line[0] = '\0';
    if (!nothing)
        return 0;
    char why[400] = "";
    add_reason(why, sizeof(why), "connect errors", r[CTR_ERR_CONNECT]);
    add_reason(why, sizeof(why), "timeouts", r[CTR_ERR_TIMEOUT]);
    add_reason(why, sizeof(why), "status errors", r[CTR_ERR_STATUS]);
    add_reason(why, sizeof(why), "parse errors", r[CTR_ERR_PARSE]);
    add_reason(why, sizeof(why), "of them too big", r[CTR_ERR_PARSE_TOO_BIG]);
    add_reason(why, sizeof(why), "io errors", r[CTR_ERR_IO]);
    add_reason(why, sizeof(why), "seq backwards", r[CTR_SEQ_BACKWARDS]);
    add_reason(why, sizeof(why), "future stamps", r[CTR_STAMPS_FUTURE]);
    add_reason(why, sizeof(why), "invalid events", r[CTR_SSE_EVENTS_INVALID]);
    add_reason(why, sizeof(why), "transfers open at the end", r[CTR_ABORTED]);
    add_reason(why, sizeof(why), "users stopped by the server", res->users_stopped);
    snprintf(line, len, "no user received anything: 0 updates, %u of %u users answered%s%s",
             res->users_served, users, why[0] ? "; " : "", why);
    return 1;
}
