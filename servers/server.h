/* server.h: the pushpull HTTP server: its settings, its per-request state, and the table
 * of routes through which each transport plugs in.
 *
 * One libmicrohttpd daemon, epoll-driven, with a small thread pool. Every route is a
 * `struct route` (path, method, handler, completion hook): the server parses nothing
 * transport-specific, and a new transport is one new file plus one line in the table.
 * Handlers return MHD results and either queue a response or park the request on the
 * feed (suspending the connection); the feed's wake callback resumes it and the handler
 * runs again.
 */
#ifndef PUSHPULL_SERVER_H
#define PUSHPULL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "dynbuf.h"
#include "feed.h"
#include "stats.h"

enum gen_process { GEN_PERIODIC, GEN_POISSON, GEN_BURST, GEN_TRACE };

/* Every setting, with its default in server_config_defaults(). */
struct server_config {
    char bind[64];               /* listen address, IPv4 dotted quad */
    unsigned port;               /* 0 picks a free port */
    size_t buffer;               /* updates kept for cursors and Last-Event-ID */
    double rate_hz;              /* generator rate; 0 = only POST /publish */
    enum gen_process process;    /* generator's arrival process */
    unsigned burst_size;         /* updates per burst (process burst) */
    size_t payload_bytes;        /* generated payload length */
    uint64_t seed;               /* generator seed */
    int64_t longpoll_timeout_ns; /* default hold time of a long poll */
    unsigned retry_ms;           /* SSE retry: field */
    int64_t heartbeat_ns;        /* SSE comment after this much silence */
    unsigned max_connections;    /* beyond this, 503 */
    unsigned threads;            /* libmicrohttpd worker threads */
    size_t max_publish_bytes;    /* POST /publish body limit */
    char www[1024];              /* directory of the demo page's files */
    char feed_file[1024];        /* durable feed's log, or "" for memory only */
    char trace[4096];            /* CSV of publish offsets (process trace), or "" */
};

/* The running server. Owned by server_start's caller, released by server_stop. */
struct server {
    struct server_config cfg; /* copy of the settings */
    struct MHD_Daemon *daemon;
    struct feed *feed;
    struct stats stats;
    unsigned port;         /* the bound port (resolves --port 0) */
    struct generator *gen; /* the update generator (POST /control), set by main */
    int log_fd;            /* the durable feed's log (--feed-file), or -1 */
    pthread_t sweeper;     /* wakes expired waiters and notices vanished peers */
    bool sweeper_started;
};

struct request;
struct generator;

/* One endpoint. Transports define one each (short_poll.c, long_poll.c, sse.c, ...). */
struct route {
    const char *path;     /* exact path, e.g. "/poll" (a prefix when .prefix is set) */
    bool prefix;          /* match every path starting with .path */
    bool loopback_only;   /* 403 for peers off the loopback network */
    const char *method;   /* the one method it accepts */
    enum stats_kind kind; /* which /stats row it counts in */
    /* Called when the request is complete (body read) and again after every resume.
     * Queues a response, or parks the request and suspends; MHD_NO closes the
     * connection. */
    enum MHD_Result (*handle)(struct request *req);
    /* The request is over (sent, failed or aborted): release the transport's state.
     * May be NULL. The waiter is already off the feed's list. */
    void (*done)(struct request *req);
};

/* Per-socket state, created when the connection is accepted (MHD socket context). */
struct conn_state {
    int fd;                /* the socket */
    uint64_t written_mark; /* kernel bytes written at the last request boundary */
    uint64_t read_mark;    /* kernel bytes read at the last request boundary */
    bool acct_ok;          /* the kernel counters could be read */
};

/* Per-request state (MHD's req_cls). Created on the first callback, freed when the
 * request completes (server.c). */
struct request {
    struct server *srv;
    struct MHD_Connection *conn;
    struct conn_state *cs;     /* the connection this request arrived on */
    const struct route *route; /* NULL until routed */
    const char *path;          /* the URL path (libmicrohttpd's, valid for the request) */
    enum stats_kind kind;      /* row it counts in */
    struct stats_row *tag;     /* the client=TAG row it also counts in, or NULL */
    struct feed_waiter waiter; /* used while the request is parked on the feed */
    bool suspended;            /* the connection is suspended by this request */
    bool answered;             /* a response has been queued */
    bool hdr_counted;          /* header bytes already attributed (streams) */
    bool too_big;              /* the upload passed its cap: answer 413 */
    bool chunked;              /* HTTP/1.1: a stream's body goes out in chunks */
    uint64_t body_mark;        /* body_bytes when header bytes were attributed */
    uint64_t framing_mark;     /* framing_bytes at the same moment */
    uint64_t body_bytes;       /* response body bytes produced */
    uint64_t framing_bytes;    /* chunked framing bytes MHD adds around them */
    struct dynbuf upload;      /* request body (POST), capped */
    uint64_t upload_seen;      /* request body bytes received, kept or not */
    void *state;               /* the transport's own state; freed by route->done */
};

/* Defaults, in one place. */
void server_config_defaults(struct server_config *cfg);
/* Start listening and serving; 0 on success, -1 with a message in err. On failure
 * everything started is released. */
int server_start(struct server *srv, const struct server_config *cfg, char *err,
                 size_t errlen);
/* End streams and held polls politely, stop the daemon, free everything. */
void server_stop(struct server *srv);
/* The GET /stats document (counts, then the settings as "config") into b. 0, or -1
 * when b refused to grow. */
int server_render_stats(struct server *srv, struct dynbuf *b);

/* ---- helpers for transports (reply.c) ---- */

/* Queue `body` (len bytes) as a JSON response with Cache-Control: no-cache and any extra
 * header pairs given (name, value, ..., NULL). The body is copied. */
enum MHD_Result reply_json(struct request *req, unsigned status, const char *body,
                           size_t len, ...);
/* Queue len bytes of body (copied) with this Content-Type and Cache-Control: no-cache. */
enum MHD_Result reply_bytes(struct request *req, unsigned status, const char *content_type,
                            const char *body, size_t len);
/* Queue {"error":"<message>"} with the given 4xx/5xx status. */
enum MHD_Result reply_error(struct request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue a prepared response (the caller keeps its own reference and destroys it). */
enum MHD_Result reply_queue(struct request *req, unsigned status, struct MHD_Response *r);
/* Read query argument or header `name` (kind MHD_GET_ARGUMENT_KIND or MHD_HEADER_KIND)
 * as a whole number from 0 to max. Returns 1 when present and valid, 0 when absent, -1
 * when malformed: a 400 naming the parameter has then been queued. */
int request_uint_value(struct request *req, enum MHD_ValueKind kind, const char *name,
                       uint64_t max, uint64_t *out);
/* 1 when the peer is on the loopback network (127.0.0.0/8 or ::1): only such peers may
 * publish, change the rate or drop connections. */
bool request_from_loopback(struct request *req);
/* Park the request on the feed until news, `deadline_ns`, the peer leaving or shutdown,
 * and suspend its connection. Feed lock held. -1 when the feed is closing. */
int request_park_locked(struct request *req, int64_t deadline_ns);
/* Count n in field f of the request's row and of its client tag's row: the one call
 * through which every per-request counter moves. */
void request_count(struct request *req, enum stats_field f, uint64_t n);
/* Count the response status, likewise. */
void request_count_status(struct request *req, unsigned status);
/* A held request (parked poll, open stream) begins (+1) or ends (-1), likewise. */
void request_count_open(struct request *req, int delta);
/* Attribute response header bytes now, for a streaming response whose first body bytes
 * are being produced (the headers have been handed to the kernel by then). */
void request_count_stream_headers(struct request *req);

/* ---- the routes ---- */
extern const struct route short_poll_route;
extern const struct route long_poll_route;
extern const struct route sse_route;
extern const struct route publish_route;
extern const struct route stats_route;
extern const struct route control_route;
extern const struct route drop_route;
extern const struct route www_index_route;
extern const struct route www_file_route;

/* ---- shared by short and long polling: the {"next":M,"events":[...]} body ---- */
int poll_render_since_locked(struct feed *f, uint64_t since, uint64_t limit,
                             struct dynbuf *out, uint64_t *count);

#endif
