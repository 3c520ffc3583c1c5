/* cli_options.c: the client's option table and the setter behind each flag.
 *
 * Each row of `cli_options` names a flag, its value's syntax (with units), its default as
 * the user would type it, its help line, and the setter that parses a value. Every setter
 * rejects a bad value with one line that names the flag, what it expects and what it got;
 * the caller prints it and exits non-zero. The rows are read by cli.c, which builds the
 * usage text and getopt_long's table from them and runs each setter on its default before
 * the user's values, so there is exactly one place where a default is written. The table's
 * length is CLI_N_OPTIONS (cli_impl.h), checked at compile time below.
 */
#include "cli_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "partition.h"
#include "loop.h"
#include "traffic_log.h"
#include "units.h"
#include "upstream.h"

/* ---- setters ------------------------------------------------------------------------ */

static int bad(char *err, size_t errlen, const char *flag, const char *expect,
               const char *got)
{
    snprintf(err, errlen, "--%s: expected %s, got '%s'", flag, expect, got);
    return -1;
}

static int set_string(char **slot, const char *value, char *err, size_t errlen,
                      const char *flag)
{
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, errlen, "--%s: strdup: out of memory", flag);
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* One URL, or several separated by commas (server instances: user u uses the
 * (u % M)-th, failing over to the next; partition.h), all with the same scheme. */
static int set_server(struct client_config *cfg, const char *v, char *err, size_t errlen,
                      const char *flag)
{
    const char *expect = "an http:// or https:// URL such as http://127.0.0.1:8080, or "
                         "several separated by commas, all http:// or all https://";
    size_t first_skip = 0, n = 0;
    for (const char *p = v;; n++) {
        size_t skip = strncmp(p, "http://", 7) == 0    ? 7
                      : strncmp(p, "https://", 8) == 0 ? 8
                                                       : 0;
        if (skip == 0 || p[skip] == '\0' || p[skip] == '/' || p[skip] == ',' ||
            (n > 0 && skip != first_skip) || n >= CLI_MAX_SERVERS)
            return bad(err, errlen, flag, expect, v);
        first_skip = skip;
        const char *comma = strchr(p, ',');
        if (!comma)
            break;
        p = comma + 1;
    }
    return set_string(&cfg->server, v, err, errlen, flag);
}

static int set_protocol(struct client_config *cfg, const char *v, char *err, size_t errlen,
                        const char *flag)
{
    static const enum protocol all[] = {PROTO_HTTP1, PROTO_HTTPS1, PROTO_H2C, PROTO_H2};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(v, cli_protocol_name(all[i])) == 0) {
            cfg->protocol = all[i];
            return 0;
        }
    return bad(err, errlen, flag, "http1, https1, h2c or h2", v);
}

static int set_cacert(struct client_config *cfg, const char *v, char *err, size_t errlen,
                      const char *flag)
{
    if (v[0] == '\0')
        return bad(err, errlen, flag, "a PEM certificate file", v);
    return set_string(&cfg->cacert, v, err, errlen, flag);
}

static int set_users_per_connection(struct client_config *cfg, const char *v, char *err,
                                    size_t errlen, const char *flag)
{
    uint64_t n;
    /* a shard of the event loop (loop.h) is the most one connection can be shared by */
    if (units_parse_count(v, &n) != 0 || n < 1 || n > LOOP_USERS_PER_SHARD)
        return bad(err, errlen, flag, "a count from 1 to 64", v);
    cfg->users_per_connection = (uint32_t)n;
    return 0;
}

static int set_approach(struct client_config *cfg, const char *v, char *err, size_t errlen,
                        const char *flag)
{
    if (strcmp(v, "short") == 0)
        cfg->approach = APPROACH_SHORT;
    else if (strcmp(v, "long") == 0)
        cfg->approach = APPROACH_LONG;
    else if (strcmp(v, "sse") == 0)
        cfg->approach = APPROACH_SSE;
    else if (strcmp(v, "ws") == 0)
        cfg->approach = APPROACH_WS;
    else
        return bad(err, errlen, flag, "short, long, sse or ws", v);
    return 0;
}

static int set_poll(struct client_config *cfg, const char *v, char *err, size_t errlen,
                    const char *flag)
{
    if (strcmp(v, "state") == 0)
        cfg->poll = POLL_STATE;
    else if (strcmp(v, "events") == 0)
        cfg->poll = POLL_EVENTS;
    else
        return bad(err, errlen, flag, "state or events", v);
    return 0;
}

static int set_clients(struct client_config *cfg, const char *v, char *err, size_t errlen,
                       const char *flag)
{
    uint64_t n;
    if (units_parse_count(v, &n) != 0 || n < 1 || n > 200000)
        return bad(err, errlen, flag, "a count from 1 to 200k (like 100 or 10k)", v);
    cfg->clients = (uint32_t)n;
    return 0;
}

/* A duration in [lo, hi]; a bare number is seconds. */
static int parse_duration(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t ns;
    if (units_parse_duration_ns(v, NS_PER_S, &ns) != 0 || ns < lo || ns > hi)
        return -1;
    *out = ns;
    return 0;
}

static int set_duration(struct client_config *cfg, const char *v, char *err, size_t errlen,
                        const char *flag)
{
    if (parse_duration(v, NS_PER_MS, 24 * 3600 * NS_PER_S, &cfg->duration_ns) != 0)
        return bad(err, errlen, flag, "a duration from 1ms to 24h (like 30s or 5m)", v);
    return 0;
}

static int set_warmup(struct client_config *cfg, const char *v, char *err, size_t errlen,
                      const char *flag)
{
    if (parse_duration(v, 0, 3600 * NS_PER_S, &cfg->warmup_ns) != 0)
        return bad(err, errlen, flag, "a duration from 0s to 1h (like 2s)", v);
    return 0;
}

static int set_drain(struct client_config *cfg, const char *v, char *err, size_t errlen,
                     const char *flag)
{
    if (strcmp(v, "auto") == 0) {
        cfg->drain_ns = -1;
        return 0;
    }
    if (parse_duration(v, 0, 600 * NS_PER_S, &cfg->drain_ns) != 0)
        return bad(err, errlen, flag, "auto or a duration from 0s to 10m (like 2s)", v);
    return 0;
}

static int set_interval(struct client_config *cfg, const char *v, char *err, size_t errlen,
                        const char *flag)
{
    if (parse_duration(v, NS_PER_MS, 3600 * NS_PER_S, &cfg->interval_ns) != 0)
        return bad(err, errlen, flag, "a duration from 1ms to 1h (like 1s or 250ms)", v);
    return 0;
}

static int set_lp_timeout(struct client_config *cfg, const char *v, char *err,
                          size_t errlen, const char *flag)
{
    int64_t ns;
    if (parse_duration(v, NS_PER_S, 120 * NS_PER_S, &ns) != 0 || ns % NS_PER_S != 0)
        return bad(err, errlen, flag, "whole seconds from 1s to 120s (like 30s)", v);
    cfg->longpoll_timeout_ns = ns;
    return 0;
}

static int set_connect_timeout(struct client_config *cfg, const char *v, char *err,
                               size_t errlen, const char *flag)
{
    if (parse_duration(v, NS_PER_MS, 600 * NS_PER_S, &cfg->connect_timeout_ns) != 0)
        return bad(err, errlen, flag, "a duration from 1ms to 10m (like 5s)", v);
    return 0;
}

static int set_response_timeout(struct client_config *cfg, const char *v, char *err,
                                size_t errlen, const char *flag)
{
    if (parse_duration(v, NS_PER_MS, 600 * NS_PER_S, &cfg->response_timeout_ns) != 0)
        return bad(err, errlen, flag, "a duration from 1ms to 10m (like 10s)", v);
    return 0;
}

static int set_open_timeout(struct client_config *cfg, const char *v, char *err,
                            size_t errlen, const char *flag)
{
    if (strcmp(v, "off") == 0) {
        cfg->open_timeout_ns = 0;
        return 0;
    }
    if (parse_duration(v, NS_PER_MS, 3600 * NS_PER_S, &cfg->open_timeout_ns) != 0)
        return bad(err, errlen, flag, "off or a duration from 1ms to 1h (like 10s)", v);
    return 0;
}

static int set_ws_backoff(struct client_config *cfg, const char *v, char *err,
                          size_t errlen, const char *flag)
{
    if (parse_duration(v, NS_PER_MS, 600 * NS_PER_S, &cfg->ws_backoff_ns) != 0)
        return bad(err, errlen, flag, "a duration from 1ms to 10m (like 1s)", v);
    return 0;
}

/* A byte size: a whole number with an optional unit B, k (1000), M (1000000), KiB, MiB or
 * GiB: "4MiB" -> 4194304. 0 or -1. */
static int parse_bytes(const char *v, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"k", 1000},
                 {"M", 1000000},
                 {"KiB", 1ull << 10},
                 {"MiB", 1ull << 20},
                 {"GiB", 1ull << 30}};
    char *end = NULL;
    if (v[0] < '0' || v[0] > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (n > UINT64_MAX / units[i].mult)
                return -1;
            *out = n * units[i].mult;
            return 0;
        }
    }
    return -1;
}

static int set_max_body(struct client_config *cfg, const char *v, char *err, size_t errlen,
                        const char *flag)
{
    uint64_t n;
    /* 1 KiB: the smallest reply with a stamp fits many times over; 1 GiB: a sanity cap */
    if (parse_bytes(v, &n) != 0 || n < 1024 || n > (1ull << 30))
        return bad(err, errlen, flag, "a size from 1KiB to 1GiB (like 4MiB or 500k)", v);
    cfg->max_body_bytes = n;
    return 0;
}

static int set_send_rate(struct client_config *cfg, const char *v, char *err, size_t errlen,
                         const char *flag)
{
    double hz;
    if (units_parse_number(v, &hz) != 0 || hz > 1000)
        return bad(err, errlen, flag, "a rate from 0 to 1000 per second (like 0.5)", v);
    cfg->send_rate_hz = hz;
    return 0;
}

static int set_send_bytes(struct client_config *cfg, const char *v, char *err,
                          size_t errlen, const char *flag)
{
    uint64_t n;
    if (parse_bytes(v, &n) != 0 || n < UPSTREAM_MIN_BYTES || n > UPSTREAM_MAX_BYTES)
        return bad(err, errlen, flag, "a size from 64 to 65000 bytes (like 100)", v);
    cfg->send_bytes = n;
    return 0;
}

static int set_send_mode(struct client_config *cfg, const char *v, char *err, size_t errlen,
                         const char *flag)
{
    if (strcmp(v, "poisson") == 0)
        cfg->send_mode = SEND_POISSON;
    else if (strcmp(v, "periodic") == 0)
        cfg->send_mode = SEND_PERIODIC;
    else
        return bad(err, errlen, flag, "poisson or periodic", v);
    return 0;
}

static int set_http_driver(struct client_config *cfg, const char *v, char *err,
                           size_t errlen, const char *flag)
{
    if (strcmp(v, "auto") == 0)
        cfg->http_driver = HTTP_DRIVER_AUTO;
    else if (strcmp(v, "raw") == 0)
        cfg->http_driver = HTTP_DRIVER_RAW;
    else if (strcmp(v, "curl") == 0)
        cfg->http_driver = HTTP_DRIVER_CURL;
    else
        return bad(err, errlen, flag, "auto, raw or curl", v);
    return 0;
}

static int set_threads(struct client_config *cfg, const char *v, char *err, size_t errlen,
                       const char *flag)
{
    uint64_t n;
    if (strcmp(v, "auto") == 0)
        n = 0;
    else if (units_parse_count(v, &n) != 0 || n < 1 || n > 256)
        return bad(err, errlen, flag, "auto or a count from 1 to 256", v);
    cfg->threads = (uint32_t)n;
    return 0;
}

static int set_max_clock_skew(struct client_config *cfg, const char *v, char *err,
                              size_t errlen, const char *flag)
{
    if (parse_duration(v, 0, 3600 * NS_PER_S, &cfg->max_clock_skew_ns) != 0)
        return bad(err, errlen, flag, "a duration from 0s to 1h (like 1s)", v);
    return 0;
}

static int set_headers(struct client_config *cfg, const char *v, char *err, size_t errlen,
                       const char *flag)
{
    if (v[0] == '\0')
        return bad(err, errlen, flag, "minimal, browser or a file of header lines", v);
    return set_string(&cfg->headers, v, err, errlen, flag);
}

static int set_cookie_bytes(struct client_config *cfg, const char *v, char *err,
                            size_t errlen, const char *flag)
{
    uint64_t n;
    /* 4096: the cookie size browsers must support (RFC 6265 section 6.1), and inside
     * pushpull-server's 16 KiB per connection with any header profile; past that a run
     * would measure 431 errors, not polling. */
    if (units_parse_count(v, &n) != 0 || (n > 0 && n < 5) || n > 4096)
        return bad(err, errlen, flag, "0 or a byte count from 5 to 4096 (like 400)", v);
    cfg->cookie_bytes = n;
    return 0;
}

static int set_partition(struct client_config *cfg, const char *v, char *err, size_t errlen,
                         const char *flag)
{
    (void)flag;
    return partition_parse(v, &cfg->partition_index, &cfg->partition_count, err, errlen);
}

static int set_clock_probes(struct client_config *cfg, const char *v, char *err,
                            size_t errlen, const char *flag)
{
    uint64_t n;
    if (strcmp(v, "auto") == 0)
        n = CLOCK_PROBES_AUTO;
    else if (units_parse_count(v, &n) != 0 || n > 64)
        return bad(err, errlen, flag, "auto, or a count from 0 (off) to 64", v);
    cfg->clock_probes = (uint32_t)n;
    return 0;
}

static int set_seed(struct client_config *cfg, const char *v, char *err, size_t errlen,
                    const char *flag)
{
    char *end = NULL;
    if (v[0] < '0' || v[0] > '9')
        return bad(err, errlen, flag, "a whole number (like 1)", v);
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0' || n == ULLONG_MAX)
        return bad(err, errlen, flag, "a whole number (like 1)", v);
    cfg->seed = n;
    return 0;
}

static int set_out(struct client_config *cfg, const char *v, char *err, size_t errlen,
                   const char *flag)
{
    if (v[0] == '\0') {
        free(cfg->out_dir);
        cfg->out_dir = NULL;
        return 0;
    }
    return set_string(&cfg->out_dir, v, err, errlen, flag);
}

static int set_label(struct client_config *cfg, const char *v, char *err, size_t errlen,
                     const char *flag)
{
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' || *p == ',')
            return bad(err, errlen, flag,
                       "text without control characters, quotes, "
                       "backslashes or commas",
                       v);
    }
    return set_string(&cfg->label, v, err, errlen, flag);
}

static int set_traffic_log(struct client_config *cfg, const char *v, char *err,
                           size_t errlen, const char *flag)
{
    uint64_t n;
    if (strcmp(v, "off") == 0)
        n = 0;
    else if (strcmp(v, "on") == 0)
        n = TRAFFIC_LOG_ROWS_DEFAULT;
    else if (units_parse_count(v, &n) != 0 || n < 1)
        return bad(err, errlen, flag, "on, off or a row count (like 500k)", v);
    cfg->traffic_log_rows = n;
    return 0;
}

static int set_foreign_url(struct client_config *cfg, const char *v, char *err,
                           size_t errlen, const char *flag)
{
    if (v[0] == '\0')
        return bad(err, errlen, flag, "a path (/sub/events) or a URL under --server", v);
    char **slot = flag[0] == 'u'   ? &cfg->foreign_url
                  : flag[0] == 'o' ? &cfg->observer_url
                                   : &cfg->publish_url;
    return set_string(slot, v, err, errlen, flag);
}

static int set_publish_rate(struct client_config *cfg, const char *v, char *err,
                            size_t errlen, const char *flag)
{
    double hz;
    if (units_parse_number(v, &hz) != 0 || hz < 0.1 || hz > 1000)
        return bad(err, errlen, flag, "a rate from 0.1 to 1000 per second (like 4)", v);
    cfg->publish_rate_hz = hz;
    return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

const struct option_row cli_options[] = {
    {"server", 's', "URL[,URL...]", "http://127.0.0.1:8080",
     "the pushpull server, or instances: user u uses the (u % M)-th, then the next",
     set_server},
    {"approach", 'a', "KIND", "short", "short | long | sse | ws", set_approach},
    {"protocol", 0, "PROTO", "http1",
     "http1 | https1 (TLS) | h2c (HTTP/2, prior knowledge) | h2 (HTTP/2 over TLS, ALPN)",
     set_protocol},
    {"cacert", 0, "FILE", NULL, "TLS: the one certificate to trust (PEM)", set_cacert},
    {"users-per-connection", 0, "N", "1",
     "users sharing one connection, as a browser's tabs: HTTP/2 multiplexes them, "
     "HTTP/1.1 gives them 6 connections",
     set_users_per_connection},
    {"clients", 'c', "N", "100", "simulated users, one connection each (10k ok)",
     set_clients},
    {"duration", 'd', "DUR", "30s", "measurement window", set_duration},
    {"warmup", 'w', "DUR", "2s", "users run before the window; nothing counted",
     set_warmup},
    {"drain", 0, "DUR", "auto",
     "after the window, for late arrivals (auto: interval+1s short, else 1s)", set_drain},
    {"interval", 'i', "DUR", "1s", "short polling period per user", set_interval},
    {"poll", 'p', "MODE", "state",
     "short polling: state (If-None-Match, 304) | events (?since=N)", set_poll},
    {"longpoll-timeout", 0, "DUR", "30s", "long poll hold, sent as &timeout= (<= 120s)",
     set_lp_timeout},
    {"connect-timeout", 0, "DUR", "5s", "TCP connect limit per attempt",
     set_connect_timeout},
    {"response-timeout", 0, "DUR", "10s",
     "longest wait for a poll's answer (a long poll: its hold plus this)",
     set_response_timeout},
    {"open-timeout", 0, "DUR", "off",
     "longest wait for an SSE stream or a WebSocket to open (off: as a browser)",
     set_open_timeout},
    {"ws-backoff", 0, "DUR", "1s",
     "WebSocket: wait before reconnecting; doubles per failed attempt, to 30s",
     set_ws_backoff},
    {"max-body", 0, "SIZE", "4MiB",
     "largest poll body or SSE event read; a larger one is a parse error", set_max_body},
    {"send-rate", 0, "HZ", "0",
     "messages each user sends per second (POST /publish, or a WebSocket frame)",
     set_send_rate},
    {"send-bytes", 0, "SIZE", "100", "each message's size (64 to 65000)", set_send_bytes},
    {"send-mode", 0, "MODE", "poisson",
     "message times: poisson (random gaps) | periodic (fixed gaps)", set_send_mode},
    {"max-clock-skew", 0, "DUR", "1s",
     "a stamp later than its receipt by more is dropped (stamps_future)",
     set_max_clock_skew},
    {"http-driver", 0, "KIND", "auto",
     "HTTP for short, long, sse: raw (own HTTP/1.1) | curl | auto (raw where it can)",
     set_http_driver},
    {"threads", 't', "N", "auto",
     "event loops, users spread over them (auto: one per core)", set_threads},
    {"headers", 'H', "PROFILE", "minimal", "request headers: minimal | browser | FILE",
     set_headers},
    {"cookie-bytes", 0, "N", "0", "add a Cookie header with a value of N bytes",
     set_cookie_bytes},
    {"seed", 0, "N", "1", "poll phases, message times and cookie filler", set_seed},
    {"partition", 0, "I/N", "1/1",
     "run the users u of --clients with u % N == I-1 (N processes, one population)",
     set_partition},
    {"clock-probe", 0, "N", "auto",
     "GET /time probes of the server's clock before the run; its offset corrects "
     "latencies (0: off; auto: 8 unless every server is on loopback)",
     set_clock_probes},
    {"out", 'o', "DIR", NULL,
     "write summary.json/.csv and latency, timeline, activity, msg_rtt, traffic .csv",
     set_out},
    {"traffic-log", 0, "ROWS", "on",
     "traffic.csv (each user's bursts, for the radio model): on (at most 4M rows), off, "
     "or a row cap (like 500k)",
     set_traffic_log},
    {"url", 0, "URL", NULL,
     "a foreign push server's URL for --approach (its conventions: foreign.h), a path or "
     "a URL under --server",
     set_foreign_url},
    {"observer-url", 0, "URL", NULL,
     "a foreign server's SSE URL for the uncounted observer (default: --url with sse)",
     set_foreign_url},
    {"publish-url", 0, "URL", NULL,
     "the client publishes to the foreign server: POST the lab's update JSON here "
     "(unstamped updates are then timed by order: by_order.h)",
     set_foreign_url},
    {"publish-rate", 0, "HZ", "4", "--publish-url: publishes per second in the window",
     set_publish_rate},
    {"label", 'l', "TEXT", "", "free text added to every output row", set_label},
    {"version", 'V', NULL, NULL, "print the version and exit", NULL},
    {"help", 'h', NULL, NULL, "this text", NULL},
};
_Static_assert(sizeof(cli_options) / sizeof(cli_options[0]) == CLI_N_OPTIONS,
               "CLI_N_OPTIONS in cli_impl.h counts the rows of cli_options");
