/* cli.h: the client's settings and the command line that fills them.
 *
 * One option table (cli_options.c) is the single source of each flag's name, value syntax,
 * default and help line: the usage text is printed from it, getopt_long's table is built
 * from it, and the defaults are applied by parsing the table's default strings with the
 * same code that parses the user's values, so a default can never disagree with its
 * documentation.
 */
#ifndef PUSHPULL_CLI_H
#define PUSHPULL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PUSHPULL_CLIENT_VERSION "0.1.0"
#define CLI_MAX_SERVERS         64 /* URLs in one --server list */

enum approach {
    APPROACH_SHORT, /* GET /poll every --interval */
    APPROACH_LONG,  /* GET /longpoll?since=N in a loop */
    APPROACH_SSE,   /* GET /events, one stream per user */
    APPROACH_WS     /* GET /ws upgraded to a WebSocket, one per user */
};

/* How the users' requests travel (issue 15). The two TLS protocols need --cacert; HTTP/2
 * is libcurl's (nghttp2 inside it); a WebSocket always speaks HTTP/1.1 (RFC 8441's
 * WebSocket over HTTP/2 is in neither libcurl 7.88 nor most proxies). */
enum protocol {
    PROTO_HTTP1,  /* HTTP/1.1 over TCP, http:// */
    PROTO_HTTPS1, /* HTTP/1.1 over TLS, https:// (ALPN http/1.1) */
    PROTO_H2C,    /* HTTP/2 over TCP by prior knowledge (RFC 9113 section 3.3), http:// */
    PROTO_H2      /* HTTP/2 over TLS, https:// (ALPN h2) */
};

enum send_mode {
    SEND_POISSON, /* exponential gaps between a user's messages */
    SEND_PERIODIC /* a fixed gap after a random phase */
};

enum http_driver {
    HTTP_DRIVER_AUTO, /* raw where it can (plain HTTP/1.1, a connection per user), else
                         libcurl */
    HTTP_DRIVER_RAW,  /* the client's own HTTP/1.1 over a socket per user (http_conn.h) */
    HTTP_DRIVER_CURL  /* libcurl's multi socket API (TLS, HTTP/2, shared connections) */
};

enum poll_mode {
    POLL_STATE, /* GET /poll with If-None-Match: the latest update or 304 */
    POLL_EVENTS /* GET /poll?since=N: every update after the cursor */
};

/* --clock-probe auto (the default): CLOCK_PROBES_AUTO_N probes of each URL when one is off
 * this host's loopback, none when every one is on it (one host, one clock). */
#define CLOCK_PROBES_AUTO   UINT32_MAX
#define CLOCK_PROBES_AUTO_N 8

struct client_config {
    char *server;                  /* base URL, e.g. http://127.0.0.1:8080, or several
                                      separated by commas (server instances) (owned) */
    enum approach approach;        /* which technique every user runs */
    enum protocol protocol;        /* HTTP/1.1 or HTTP/2, plain or over TLS */
    char *cacert;                  /* the one certificate TLS trusts (owned); NULL = none */
    uint32_t users_per_connection; /* users (browser tabs) sharing one connection */
    enum poll_mode poll;           /* short polling only */
    uint32_t clients;              /* simulated users in this process: --clients, or its
                                      partition's share of them (partition.h) */
    uint32_t clients_total;        /* --clients: the whole population */
    uint32_t partition_index;      /* --partition I/N: I, 1-based (1 when not given) */
    uint32_t partition_count;      /* ... N (1 when not given) */
    uint32_t clock_probes;         /* --clock-probe: GET /time probes (clock_offset.h);
                                      0 = off, CLOCK_PROBES_AUTO = by where the server is */
    int64_t duration_ns;           /* the measurement window */
    int64_t warmup_ns;             /* users run, nothing is counted in the window */
    int64_t drain_ns;              /* after the window, for late receipts; -1 = automatic */
    int64_t interval_ns;           /* short polling period per user */
    int64_t longpoll_timeout_ns;   /* sent as &timeout= (whole seconds) */
    int64_t connect_timeout_ns;    /* TCP connect limit per attempt */
    int64_t response_timeout_ns;   /* longest wait for a poll's answer (long: + the hold) */
    int64_t open_timeout_ns;       /* longest wait for an SSE stream's headers or a
                                      WebSocket's 101; 0 = none */
    int64_t ws_backoff_ns;         /* WebSocket: first wait before reconnecting */
    uint64_t max_body_bytes;       /* largest poll body or SSE event; more: parse error */
    double send_rate_hz;           /* messages each user sends per second; 0 = none */
    uint64_t send_bytes;           /* each message's size */
    enum send_mode send_mode;      /* how their times are drawn */
    int64_t max_clock_skew_ns;     /* a stamp later than its receipt by more: a lie */
    char *headers;                 /* "minimal", "browser" or a file name (owned) */
    uint64_t cookie_bytes;         /* bytes of the Cookie header value; 0 = none */
    uint64_t seed;                 /* poll phases and the cookie's filler */
    char *out_dir;                 /* where the result files go; NULL = none (owned) */
    char *label;                   /* free text copied into every output row (owned) */
    enum http_driver http_driver;  /* who speaks HTTP for short, long and sse (as asked:
                                      cli_http_driver says who does) */
    uint32_t threads;              /* event loops, one per thread; 0 = one per core */
    uint64_t traffic_log_rows;     /* traffic.csv in out_dir, at most this many rows;
                                      0 = none (traffic_log.h) */
    char *foreign_url;  /* --url: the technique's URL on a foreign push server (owned;
                           foreign.h); NULL = the lab server's own paths */
    char *observer_url; /* --observer-url: that server's SSE URL for the observer (owned);
                           NULL = --url with --approach sse, else no observer */
    char *publish_url;  /* --publish-url: where the client posts updates to a foreign
                           server (owned; publisher.c); NULL = it does not publish */
    double publish_rate_hz; /* --publish-rate: its publishes per second */
};

enum cli_result {
    CLI_RUN = 0,     /* settings are valid: run */
    CLI_EXIT_OK = 1, /* --help or --version was printed to stdout: exit 0 */
    CLI_ERROR = -1   /* err holds one line naming the flag and what it expects */
};

/* Fill *cfg from the defaults and then argv. On CLI_ERROR err holds the message; in all
 * cases cfg owns strings the caller releases with cli_config_free. Resets getopt's state
 * first, so it may be called more than once in a process (the tests do). */
enum cli_result cli_parse(int argc, char *const argv[], struct client_config *cfg,
                          char *err, size_t errlen);
/* The usage text, generated from the option table. */
void cli_usage(FILE *out);
/* Release the strings cfg owns; cfg is zeroed. */
void cli_config_free(struct client_config *cfg);
/* "short", "long", "sse", "ws" */
const char *cli_approach_name(enum approach a);
/* "http1", "https1", "h2c", "h2" */
const char *cli_protocol_name(enum protocol p);
/* 1 for the two TLS protocols */
int cli_protocol_tls(enum protocol p);
/* "state", "events" */
const char *cli_poll_name(enum poll_mode m);
/* "auto", "raw", "curl" */
const char *cli_http_driver_name(enum http_driver d);
/* The driver a run uses: --http-driver, where auto is raw for plain HTTP/1.1 with a
 * connection per user and libcurl otherwise (never auto). */
enum http_driver cli_http_driver(const struct client_config *cfg);
/* The loops a run uses: --threads, or the cores online, never more than the users; one
 * when users share connections (--users-per-connection above 1). */
uint32_t cli_threads(const struct client_config *cfg);
/* "poisson", "periodic" */
const char *cli_send_mode_name(enum send_mode m);
/* The drain actually used: the automatic value is interval + 1s for short polling and 1s
 * otherwise (long enough for an update published at the window's end to arrive). */
int64_t cli_drain_ns(const struct client_config *cfg);

#endif
