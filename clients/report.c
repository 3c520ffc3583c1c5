/* report.c: the field list behind summary.csv and summary.json, the human summary, and
 * the run's verdict (report.h); the files themselves are report_files.c.
 *
 * Window figures (what the summary and CSV show) follow the window rule in counters.h and
 * freshness.h. The kernel check compares whole-run totals, because the kernel's counts are
 * per socket and sockets outlive the window: bytes the application handed to libcurl's
 * sockets (request heads and bodies) against the kernel's bytes sent, and bytes libcurl
 * read (response heads, bodies, chunk framing) against the kernel's bytes received; for a
 * WebSocket, the handshake's bytes and every frame byte (header, masking key, payload,
 * ping/pong, close) each way. The users' message senders (POST /publish, publish.c) are
 * on both sides; the observer's connection is in neither. The window's total_bytes
 * counts the senders' bytes too: a user's messages are part of what it costs.
 */
#include "report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "clock.h"
#include "foreign.h"
#include "hist.h"
#include "transport.h"
#include "wire.h"

/* ---- derived figures ---------------------------------------------------------------- */

/* The counters that add up to the bytes written to the sockets, and to those read. */
static const enum counter sent_parts[] = {
    CTR_REQ_HEADER_BYTES,     CTR_REQ_BODY_BYTES,    CTR_WS_HANDSHAKE_REQ_BYTES,
    CTR_WS_HEADER_BYTES_UP,   CTR_WS_MASK_BYTES_UP,  CTR_WS_PAYLOAD_BYTES_UP,
    CTR_WS_PINGPONG_BYTES_UP, CTR_WS_CLOSE_BYTES_UP,
};
static const enum counter received_parts[] = {
    CTR_RESP_HEADER_BYTES,       CTR_RESP_BODY_BYTES,        CTR_CHUNK_FRAMING_BYTES,
    CTR_WS_HANDSHAKE_RESP_BYTES, CTR_WS_HEADER_BYTES_DOWN,   CTR_WS_MASK_BYTES_DOWN,
    CTR_WS_PAYLOAD_BYTES_DOWN,   CTR_WS_PINGPONG_BYTES_DOWN, CTR_WS_CLOSE_BYTES_DOWN,
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t sum(const uint64_t *v, const enum counter *parts, size_t n)
{
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += v[parts[i]];
    return t;
}

/* Whole-run totals of the users and their POST senders together: the sockets the
 * kernel check covers. */
static uint64_t both(const struct run_results *res, enum counter k)
{
    return res->users.run[k] + res->upstream.run[k];
}

static uint64_t app_sent(const struct run_results *res)
{
    return sum(res->users.run, sent_parts, N_OF(sent_parts)) +
           sum(res->upstream.run, sent_parts, N_OF(sent_parts));
}

static uint64_t app_received(const struct run_results *res)
{
    return sum(res->users.run, received_parts, N_OF(received_parts)) +
           sum(res->upstream.run, received_parts, N_OF(received_parts));
}

/* The kernel check holds the application's split against the kernel only where the
 * split is what crossed the wire: plain HTTP/1.1 (a WebSocket's included, which stays
 * HTTP/1.1 under h2c).
 * Over TLS the kernel also counts records and handshakes, and under HTTP/2 libcurl hands
 * over headers decoded from HPACK and bodies without their frames, so there the split is
 * decoded sizes and the kernel's counts alone are the wire (bytes_check "decoded"). */
static bool split_is_wire(const struct run_results *res)
{
    enum protocol p = res->cfg->protocol;
    /* a WebSocket is HTTP/1.1 and its own frames under h2c too (ws_tls.h) */
    return p == PROTO_HTTP1 || (p == PROTO_H2C && res->cfg->approach == APPROACH_WS);
}

int report_bytes_match(const struct run_results *res)
{
    return app_sent(res) == both(res, CTR_KERNEL_BYTES_SENT) &&
           app_received(res) == both(res, CTR_KERNEL_BYTES_RECEIVED) &&
           both(res, CTR_KERNEL_READ_ERRORS) == 0;
}

int report_client_saturated(const struct run_results *res)
{
    int64_t lag99 = res->loop_lag ? hist_value_at_percentile(res->loop_lag, 99) : 0;
    return res->loop_busy_max >= REPORT_SATURATED_BUSY ||
           lag99 >= REPORT_SATURATED_LAG_US || res->loop_full_turns > 0;
}

/* Everything the users moved in the window, their messages' POSTs included. */
static uint64_t window_bytes(const struct run_results *res)
{
    const struct counters *c = &res->users, *up = &res->upstream;
    return sum(c->win, sent_parts, N_OF(sent_parts)) +
           sum(c->win, received_parts, N_OF(received_parts)) +
           sum(up->win, sent_parts, N_OF(sent_parts)) +
           sum(up->win, received_parts, N_OF(received_parts));
}

/* The messages' bytes on the wire, by part: HTTP heads both ways (or WebSocket frame
 * headers and masks), the messages themselves, and the POSTs' answers' bodies; the
 * window's (by when the bytes crossed) or the whole run's. */
struct msg_bytes {
    uint64_t header, payload, reply;
};

static struct msg_bytes message_bytes(const struct run_results *res, bool whole_run)
{
    const uint64_t *u = whole_run ? res->users.run : res->users.win;
    const uint64_t *p = whole_run ? res->upstream.run : res->upstream.win;
    struct msg_bytes m = {p[CTR_REQ_HEADER_BYTES] + p[CTR_RESP_HEADER_BYTES] +
                              u[CTR_WS_HEADER_BYTES_UP] + u[CTR_WS_MASK_BYTES_UP],
                          p[CTR_REQ_BODY_BYTES] + u[CTR_WS_PAYLOAD_BYTES_UP],
                          p[CTR_RESP_BODY_BYTES] + p[CTR_CHUNK_FRAMING_BYTES]};
    return m;
}

/* Wire bytes per message over the whole run: exact, where the window's bytes (counted
 * when they cross) and its messages (counted by when they were due) may differ by the
 * messages that straddle an edge. */
static double bytes_per_message(const struct run_results *res)
{
    struct msg_bytes m = message_bytes(res, true);
    uint64_t sent = res->users.run[CTR_MSGS_SENT];
    return sent ? (double)(m.header + m.payload + m.reply) / (double)sent : 0;
}

static uint64_t upstream_errors(const struct counters *c)
{
    return c->win[CTR_ERR_CONNECT] + c->win[CTR_ERR_TIMEOUT] + c->win[CTR_ERR_STATUS] +
           c->win[CTR_ERR_PARSE] + c->win[CTR_ERR_IO];
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
    const struct counters *up = &res->upstream;
    const struct hist *h = res->fr->latency;
    const struct hist *rtt = res->msg_rtt;
    const struct freshness_summary *fs = &res->fresh;
    bool is_short = cfg->approach == APPROACH_SHORT;
    o->n = 0;

    /* settings */
    add_str(o, "label", cfg->label ? cfg->label : "");
    add_str(o, "approach", cli_approach_name(cfg->approach));
    add_str(o, "protocol", cli_protocol_name(cfg->protocol));
    add_num(o, "users_per_connection", (double)cfg->users_per_connection, 0);
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
    add_num(o, "ws_backoff_ms",
            cfg->approach == APPROACH_WS ? (double)cfg->ws_backoff_ns / NS_PER_MS : 0, 3);
    add_num(o, "max_body_bytes", (double)cfg->max_body_bytes, 0);
    add_num(o, "max_clock_skew_ms", (double)cfg->max_clock_skew_ns / NS_PER_MS, 3);
    add_str(o, "headers", res->profile->name);
    add_num(o, "req_head_profile_bytes", (double)res->req_head_bytes, 0);
    add_num(o, "send_rate_hz", cfg->send_rate_hz, 3);
    add_str(o, "send_mode",
            cfg->send_rate_hz > 0 ? cli_send_mode_name(cfg->send_mode) : "");
    add_num(o, "send_bytes", cfg->send_rate_hz > 0 ? (double)cfg->send_bytes : 0, 0);
    add_num(o, "send_head_profile_bytes", (double)res->send_head_bytes, 0);
    add_num(o, "publish_rate_hz", cfg->publish_url ? cfg->publish_rate_hz : 0, 3);
    add_num(o, "cookie_bytes", (double)cfg->cookie_bytes, 0);
    add_num(o, "seed", (double)cfg->seed, 0);

    /* window counts: every counter but the kernel's (those are whole-run, below) */
    for (int k = 0; k < CTR_KERNEL_BYTES_SENT; k++)
        add_num(o, counters_name((enum counter)k), (double)c->win[k], 0);
    uint64_t responses =
        c->win[CTR_RESP_NEWS] + c->win[CTR_RESP_EMPTY] + c->win[CTR_RESP_304];
    /* the window's bytes on the wire: the split's sum where the split is the wire
     * (plain HTTP/1.1: it equals the kernel's), the kernel's count otherwise */
    uint64_t wire_sent =
        c->win[CTR_KERNEL_BYTES_SENT] + res->upstream.win[CTR_KERNEL_BYTES_SENT];
    uint64_t wire_received =
        c->win[CTR_KERNEL_BYTES_RECEIVED] + res->upstream.win[CTR_KERNEL_BYTES_RECEIVED];
    uint64_t total = split_is_wire(res) ? window_bytes(res) : wire_sent + wire_received;
    add_num(o, "total_bytes", (double)total, 0);
    add_num(o, "wire_bytes_sent", (double)wire_sent, 0);
    add_num(o, "wire_bytes_received", (double)wire_received, 0);
    add_num(o, "split_bytes", (double)window_bytes(res), 0);
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
    /* the server's clock (clock_offset.h): latencies above are corrected by the offset
     * when applied, and uncertain by the uncertainty */
    const struct clock_estimate *ck = &res->clock;
    add_num(o, "clock_offset_ms", (double)ck->offset_ns / NS_PER_MS, 3);
    add_num(o, "clock_uncertainty_ms", (double)ck->rtt_ns / 2 / NS_PER_MS, 3);
    add_num(o, "clock_offset_applied", ck->applied, 0);
    /* latencies that may be 0 for all the offset's uncertainty tells (at least these) */
    add_num(o, "latency_below_uncertainty",
            ck->answered ? (double)hist_count_at_or_below(h, ck->rtt_ns / 2 / NS_PER_US)
                         : 0,
            0);
    add_num(o, "users_stopped", res->users_stopped, 0);
    add_num(o, "users_never_connected", res->users_never_connected, 0);
    add_num(o, "users_served", res->users_served, 0);
    char line[8];
    add_str(o, "verdict", report_verdict(res, line, sizeof(line)) ? "nothing" : "served");

    /* messages upstream (upstream.h): by when they were due; the POST senders' traffic */
    add_num(o, "msgs_unechoed", (double)(c->win[CTR_MSGS_SENT] - c->win[CTR_MSGS_ECHOED]),
            0);
    add_num(o, "msg_rtt_count", (double)hist_count(rtt), 0);
    add_num(o, "msg_rtt_mean_ms", hist_mean(rtt) / 1000.0, 3);
    add_num(o, "msg_rtt_p50_ms", ms(hist_value_at_percentile(rtt, 50)), 3);
    add_num(o, "msg_rtt_p90_ms", ms(hist_value_at_percentile(rtt, 90)), 3);
    add_num(o, "msg_rtt_p99_ms", ms(hist_value_at_percentile(rtt, 99)), 3);
    add_num(o, "msg_rtt_max_ms", ms(hist_max(rtt)), 3);
    add_num(o, "up_requests", (double)up->win[CTR_REQUESTS], 0);
    add_num(o, "up_errors", (double)upstream_errors(up), 0);
    add_num(o, "up_req_header_bytes", (double)up->win[CTR_REQ_HEADER_BYTES], 0);
    add_num(o, "up_req_body_bytes", (double)up->win[CTR_REQ_BODY_BYTES], 0);
    add_num(o, "up_resp_header_bytes", (double)up->win[CTR_RESP_HEADER_BYTES], 0);
    add_num(o, "up_resp_body_bytes",
            (double)(up->win[CTR_RESP_BODY_BYTES] + up->win[CTR_CHUNK_FRAMING_BYTES]), 0);
    add_num(o, "up_connections_opened_run", (double)up->run[CTR_CONNECTIONS], 0);
    struct msg_bytes mb = message_bytes(res, false);
    add_num(o, "msg_header_bytes", (double)mb.header, 0);
    add_num(o, "msg_payload_bytes", (double)mb.payload, 0);
    add_num(o, "msg_reply_bytes", (double)mb.reply, 0);
    add_num(o, "msg_wire_bytes", (double)(mb.header + mb.payload + mb.reply), 0);
    add_num(o, "msg_wire_bytes_per_msg_run", bytes_per_message(res), 1);

    /* recovery: outages begun in the window (user.h) */
    add_num(o, "outages", (double)c->win[CTR_OUTAGES], 0);
    add_num(o, "outage_mean_ms", outage_mean_ms(c), 3);
    add_num(o, "outage_max_ms", (double)c->outage_max_win_ns / NS_PER_MS, 3);
    add_num(o, "outages_open", (double)c->win[CTR_OUTAGES_OPEN], 0);

    /* kernel check, whole run */
    add_num(o, "app_bytes_sent_run", (double)app_sent(res), 0);
    add_num(o, "kernel_bytes_sent_run", (double)both(res, CTR_KERNEL_BYTES_SENT), 0);
    add_num(o, "app_bytes_received_run", (double)app_received(res), 0);
    add_num(o, "kernel_bytes_received_run", (double)both(res, CTR_KERNEL_BYTES_RECEIVED),
            0);
    add_num(o, "kernel_segs_out_run", (double)both(res, CTR_KERNEL_SEGS_OUT), 0);
    add_num(o, "kernel_segs_in_run", (double)both(res, CTR_KERNEL_SEGS_IN), 0);
    add_num(o, "connections_opened_run", (double)c->run[CTR_CONNECTIONS], 0);
    /* connection setup, whole run: most connections open in the warm-up */
    add_num(o, "conn_setups_run", (double)both(res, CTR_SETUPS), 0);
    add_num(o, "conn_setup_bytes_run", (double)both(res, CTR_SETUP_BYTES), 0);
    add_num(o, "tls_handshake_us_run", (double)both(res, CTR_TLS_HANDSHAKE_US), 0);
    add_num(o, "requests_run", (double)c->run[CTR_REQUESTS], 0);
    /* HPACK on the way down, whole run, h2load's measure (wire.h); -1: not derived */
    uint64_t block = 0, fields = 0;
    bool hpack = (cfg->protocol == PROTO_H2C || cfg->protocol == PROTO_H2) &&
                 wire_hpack_down(c->run, cfg->protocol == PROTO_H2, &block, &fields) == 0;
    add_num(o, "hpack_resp_heads_run", hpack ? (double)c->run[CTR_H2_RESP_HEADS] : -1, 0);
    add_num(o, "hpack_resp_field_bytes_run", hpack ? (double)fields : -1, 0);
    add_num(o, "hpack_resp_block_bytes_run", hpack ? (double)block : -1, 0);
    add_num(o, "hpack_resp_saving_pct_run",
            hpack && fields > 0 ? 100.0 * (1.0 - (double)block / (double)fields) : -1, 2);
    add_str(o, "bytes_check",
            !split_is_wire(res)       ? "decoded"
            : report_bytes_match(res) ? "ok"
                                      : "MISMATCH");
    /* the wire, whatever the protocol: the kernel's bytes both ways per request (every
     * user's and sender's), and what the protocol's layers added to (or, by HPACK,
     * took from) the decoded split */
    uint64_t wire = both(res, CTR_KERNEL_BYTES_SENT) + both(res, CTR_KERNEL_BYTES_RECEIVED);
    uint64_t reqs = c->run[CTR_REQUESTS] + res->upstream.run[CTR_REQUESTS];
    add_num(o, "wire_bytes_per_request_run", reqs ? (double)wire / (double)reqs : 0, 1);
    add_num(o, "wire_minus_split_bytes_run",
            (double)wire - (double)(app_sent(res) + app_received(res)), 0);

    /* the instrument itself */
    add_num(o, "client_cpu_s", res->cpu_window_s, 3);
    add_num(o, "client_cpu_pct",
            res->window_s > 0 ? 100.0 * res->cpu_window_s / res->window_s : 0, 1);
    add_num(o, "client_cpu_total_s", res->cpu_total_s, 3);
    add_num(o, "client_peak_rss_kb", (double)res->peak_rss_kb, 0);
    uint64_t win_reqs = c->win[CTR_REQUESTS];
    add_num(o, "client_cpu_us_per_request",
            win_reqs ? 1e6 * res->cpu_window_s / (double)win_reqs : 0, 2);
    add_str(o, "http_driver", cli_http_driver_name(cli_http_driver(cfg)));
    add_num(o, "client_threads", res->threads, 0);
    add_num(o, "loop_turns", (double)res->loop_turns, 0);
    add_num(o, "loop_full_turns", (double)res->loop_full_turns, 0);
    add_num(o, "loop_full_turn_share",
            res->loop_turns ? (double)res->loop_full_turns / (double)res->loop_turns : 0,
            6);
    add_num(o, "loop_busy_max_pct", 100.0 * res->loop_busy_max, 1);
    const struct hist *lag = res->loop_lag;
    add_num(o, "loop_lag_p50_ms", lag ? ms(hist_value_at_percentile(lag, 50)) : 0, 3);
    add_num(o, "loop_lag_p99_ms", lag ? ms(hist_value_at_percentile(lag, 99)) : 0, 3);
    add_num(o, "loop_lag_max_ms", lag ? ms(hist_max(lag)) : 0, 3);
    add_num(o, "client_saturated", report_client_saturated(res), 0);
    /* traffic.csv (traffic_log.h): -1 when none was written */
    add_num(o, "traffic_rows", res->traffic_on ? (double)res->traffic_rows : -1, 0);
    add_num(o, "traffic_rows_dropped",
            res->traffic_on ? (double)res->traffic_rows_dropped : -1, 0);
}

/* ---- human summary ------------------------------------------------------------------ */

void report_print_summary(FILE *out, const struct run_results *res)
{
    const struct client_config *cfg = res->cfg;
    const struct counters *c = &res->users;
    const uint64_t *w = c->win;
    const struct hist *h = res->fr->latency;
    const struct freshness_summary *fs = &res->fresh;
    uint64_t total = window_bytes(res);
    char mode[64] = "";
    if (cfg->approach == APPROACH_SHORT)
        snprintf(mode, sizeof(mode), " every %.0f ms (%s)",
                 (double)cfg->interval_ns / NS_PER_MS, cli_poll_name(cfg->poll));
    else if (cfg->approach == APPROACH_LONG)
        snprintf(mode, sizeof(mode), " (hold %.0f s)",
                 (double)cfg->longpoll_timeout_ns / NS_PER_S);

    fprintf(out,
            "pushpull-client %s: %s%s over %s, %u users, %.1f s window after %.1f s "
            "warmup\n",
            PUSHPULL_CLIENT_VERSION, cli_approach_name(cfg->approach), mode,
            cli_protocol_name(cfg->protocol), cfg->clients, res->window_s,
            (double)cfg->warmup_ns / NS_PER_S);
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
    if (cfg->approach == APPROACH_WS) {
        fprintf(out,
                "  %-13s handshake %" PRIu64 " up %" PRIu64 " down  (%" PRIu64
                " refused)\n",
                "websocket", w[CTR_WS_HANDSHAKE_REQ_BYTES], w[CTR_WS_HANDSHAKE_RESP_BYTES],
                w[CTR_WS_HANDSHAKES_REFUSED]);
        fprintf(out,
                "  %-13s down: %" PRIu64 " frames, header %" PRIu64 "  mask %" PRIu64
                "  payload %" PRIu64 "  ping/pong %" PRIu64 " (%" PRIu64
                " pings)  close %" PRIu64 "\n",
                "", w[CTR_WS_DATA_FRAMES_DOWN], w[CTR_WS_HEADER_BYTES_DOWN],
                w[CTR_WS_MASK_BYTES_DOWN], w[CTR_WS_PAYLOAD_BYTES_DOWN],
                w[CTR_WS_PINGPONG_BYTES_DOWN], w[CTR_WS_PINGS_DOWN],
                w[CTR_WS_CLOSE_BYTES_DOWN]);
        fprintf(out,
                "  %-13s up:   header %" PRIu64 "  mask %" PRIu64 "  payload %" PRIu64
                "  ping/pong %" PRIu64 " (%" PRIu64 " pongs)  close %" PRIu64 "\n",
                "", w[CTR_WS_HEADER_BYTES_UP], w[CTR_WS_MASK_BYTES_UP],
                w[CTR_WS_PAYLOAD_BYTES_UP], w[CTR_WS_PINGPONG_BYTES_UP], w[CTR_WS_PONGS_UP],
                w[CTR_WS_CLOSE_BYTES_UP]);
    }
    if (cfg->send_rate_hz > 0) {
        const struct hist *rtt = res->msg_rtt;
        struct msg_bytes mb = message_bytes(res, false);
        uint64_t sent = w[CTR_MSGS_SENT];
        fprintf(out,
                "  %-13s %" PRIu64 " sent (%.3g per user per second, %s, %" PRIu64
                " B), %" PRIu64 " came back, %" PRIu64 " twice; POST errors %" PRIu64 "\n",
                "messages", sent, cfg->send_rate_hz, cli_send_mode_name(cfg->send_mode),
                cfg->send_bytes, w[CTR_MSGS_ECHOED], w[CTR_MSGS_ECHO_DUPLICATES],
                upstream_errors(&res->upstream));
        fprintf(out,
                "  %-13s header %" PRIu64 "  payload %" PRIu64 "  reply %" PRIu64
                "  (%.1f B per message over the run)\n",
                "", mb.header, mb.payload, mb.reply, bytes_per_message(res));
        fprintf(out,
                "  %-13s round trip mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms\n",
                "", hist_mean(rtt) / 1000.0, ms(hist_value_at_percentile(rtt, 50)),
                ms(hist_value_at_percentile(rtt, 90)),
                ms(hist_value_at_percentile(rtt, 99)), ms(hist_max(rtt)));
    }
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
            w[CTR_SSE_EVENTS_INVALID] + w[CTR_WS_MESSAGES_INVALID], fs->unseen,
            fs->inconsistent);
    if (w[CTR_VALIDATORS_TOO_LONG] > 0)
        fprintf(out,
                "  %-13s %" PRIu64
                " ETag, Last-Modified or SSE id values past %d bytes were not "
                "sent back: the requests after them went without (validators_too_long)\n",
                "warning", w[CTR_VALIDATORS_TOO_LONG], FOREIGN_VALIDATOR_MAX);
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
    if (w[CTR_DELIVERIES_BY_ORDER] > 0 || w[CTR_UPDATES_UNMATCHED] > 0)
        fprintf(out,
                "  %-13s %" PRIu64 " of %" PRIu64 " deliveries unstamped, timed by the "
                "publisher's send matched by order (weaker); %" PRIu64 " unmatched\n",
                "by order", w[CTR_DELIVERIES_BY_ORDER], w[CTR_DELIVERIES],
                w[CTR_UPDATES_UNMATCHED]);
    fprintf(out, "  %-13s mean %.3f ms per user (worst user %.3f ms)\n", "staleness",
            fs->staleness_mean_ms, fs->staleness_max_ms);
    const struct clock_estimate *ck = &res->clock;
    if (ck->answered > 0)
        fprintf(
            out,
            "  %-13s server %+.3f ms from this one, +-%.3f ms (round trip %.3f ms, best "
            "of %u GET /time): %s\n",
            "clock", (double)ck->offset_ns / NS_PER_MS, (double)ck->rtt_ns / 2 / NS_PER_MS,
            (double)ck->rtt_ns / NS_PER_MS, ck->answered,
            ck->applied ? "latencies corrected" : "within its uncertainty, not applied");
    else if (ck->probes > 0)
        fprintf(out, "  %-13s not measured (%u GET /time probes, none answered)\n", "clock",
                ck->probes);
    else
        fprintf(out,
                "  %-13s not probed (the server is on this host's loopback, or "
                "--clock-probe 0)\n",
                "clock");
    fprintf(out,
            "  %-13s sent %" PRIu64 " app = %" PRIu64 " kernel, received %" PRIu64
            " app = %" PRIu64 " kernel: %s\n",
            "kernel check", app_sent(res), both(res, CTR_KERNEL_BYTES_SENT),
            app_received(res), both(res, CTR_KERNEL_BYTES_RECEIVED),
            !split_is_wire(res) ? "decoded sizes (TLS or HTTP/2: the kernel's are the wire)"
            : report_bytes_match(res) ? "ok"
                                      : "MISMATCH");
    uint64_t block, fields;
    if ((res->cfg->protocol == PROTO_H2C || res->cfg->protocol == PROTO_H2) &&
        wire_hpack_down(c->run, res->cfg->protocol == PROTO_H2, &block, &fields) == 0 &&
        fields > 0)
        fprintf(out,
                "  %-13s response fields %" PRIu64 " B decoded, %" PRIu64
                " B in HEADERS frames: %.2f%% saved (whole run, h2load's measure)\n",
                "hpack", fields, block, 100.0 * (1.0 - (double)block / (double)fields));
    fprintf(out,
            "  %-13s cpu %.2f s in the window (%.1f%%), %.2f s in all, peak rss %ld kB\n",
            "client", res->cpu_window_s,
            res->window_s > 0 ? 100.0 * res->cpu_window_s / res->window_s : 0,
            res->cpu_total_s, res->peak_rss_kb);
    const struct hist *lag = res->loop_lag;
    fprintf(out,
            "  %-13s %s HTTP, %u loop%s; busiest loop %.1f%% busy, deadlines late p99 %.3f "
            "max %.3f ms, %" PRIu64 " of %" PRIu64 " turns full\n",
            "instrument", cli_http_driver_name(cli_http_driver(cfg)), res->threads,
            res->threads == 1 ? "" : "s", 100.0 * res->loop_busy_max,
            lag ? ms(hist_value_at_percentile(lag, 99)) : 0, lag ? ms(hist_max(lag)) : 0,
            res->loop_full_turns, res->loop_turns);
    if (report_client_saturated(res))
        fprintf(out,
                "  %-13s the client may have set the pace, not the server: its figures "
                "(latency above all) include its own queue (client_saturated)\n",
                "WARNING");
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
    uint64_t anomalies = r[CTR_SEQ_BACKWARDS] + r[CTR_STAMPS_FUTURE] +
                         r[CTR_SSE_EVENTS_INVALID] + r[CTR_WS_MESSAGES_INVALID];
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
    add_reason(why, sizeof(why), "invalid messages", r[CTR_WS_MESSAGES_INVALID]);
    add_reason(why, sizeof(why), "handshakes refused", r[CTR_WS_HANDSHAKES_REFUSED]);
    add_reason(why, sizeof(why), "transfers open at the end", r[CTR_ABORTED]);
    add_reason(why, sizeof(why), "users stopped by the server", res->users_stopped);
    snprintf(line, len, "no user received anything: 0 updates, %u of %u users answered%s%s",
             res->users_served, users, why[0] ? "; " : "", why);
    return 1;
}
