/* server.h: the pushpull HTTP server: its settings, and starting and stopping it.
 *
 * One libmicrohttpd daemon, epoll-driven, with a small thread pool, serving the routes of
 * route.h. Handlers (one file per transport) see a request (request.h), answer with
 * reply.h, and read the server below through req->srv: its settings, its feed and its
 * counters. Handlers either queue a response or park the request on the feed (suspending
 * the connection); the feed's wake callback resumes it and the handler runs again.
 */
#ifndef PUSHPULL_SERVER_H
#define PUSHPULL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "conn.h"
#include "dynbuf.h"
#include "feed.h"
#include "redis_conn.h"
#include "short_poll.h"
#include "since_answers.h"
#include "stats.h"

enum gen_process { GEN_PERIODIC, GEN_POISSON, GEN_BURST, GEN_TRACE };

/* Every setting, with its default in server_config_defaults(). */
struct server_config {
    char bind[64];                  /* listen address, IPv4 dotted quad */
    unsigned port;                  /* 0 picks a free port */
    size_t buffer;                  /* updates kept for cursors and Last-Event-ID */
    double rate_hz;                 /* generator rate; 0 = only POST /publish */
    enum gen_process process;       /* generator's arrival process */
    unsigned burst_size;            /* updates per burst (process burst) */
    size_t payload_bytes;           /* generated payload length */
    uint64_t seed;                  /* generator seed */
    int64_t longpoll_timeout_ns;    /* default hold time of a long poll */
    unsigned retry_ms;              /* SSE retry: field */
    int64_t heartbeat_ns;           /* SSE comment after this much silence */
    unsigned max_connections;       /* beyond this, 503 */
    int64_t request_timeout_ns;     /* a request must be whole this long after it began */
    int64_t idle_timeout_ns;        /* a keep-alive connection's silence between requests */
    unsigned threads;               /* libmicrohttpd worker threads */
    size_t max_publish_bytes;       /* POST /publish body and WebSocket message limit */
    bool open_publish;              /* every peer may publish (POST /publish, WebSocket
                                       messages), not only loopback ones */
    uint32_t local_peer;            /* --local-peer: the one IPv4 address (network order)
                                       taken as loopback by request_from_loopback; 0:
                                       every loopback address */
    char www[1024];                 /* directory of the demo page's files */
    char feed_file[1024];           /* durable feed's log, or "" for memory only */
    char trace[4096];               /* CSV of publish offsets (process trace), or "" */
    char redis[REDIS_HOST_MAX + 8]; /* the feed through Redis: HOST:PORT, or "" */
    char redis_key[256];            /* its stream's key */
    size_t redis_maxlen;            /* the stream's MAXLEN ~ bound */
};

struct generator;
struct ws_loop;

/* The running server. Owned by server_start's caller, released by server_stop. */
struct server {
    struct server_config cfg; /* copy of the settings */
    struct MHD_Daemon *daemon;
    struct feed *feed;
    struct stats stats;
    struct conns conns;    /* the open connections and their deadlines */
    unsigned port;         /* the bound port (resolves --port 0) */
    struct generator *gen; /* the update generator (POST /control), set by main */
    struct ws_loop *ws;    /* the thread that serves upgraded WebSocket connections */
    int log_fd;            /* the durable feed's log (--feed-file), or -1 */
    pthread_t sweeper;     /* wakes expired waiters and notices vanished peers */
    bool sweeper_started;
    struct redis_feed *redis;           /* the feed through Redis (--redis), or NULL */
    struct poll_answers poll_answers;   /* GET /poll's shared answers (short_poll.c) */
    struct since_answers since_answers; /* shared cursor answers (since_answers.c) */
};

/* Defaults, in one place. */
void server_config_defaults(struct server_config *cfg);
/* Open files the server needs besides one per connection up to --max-connections: its
 * own descriptors (standard streams, the listening socket, each thread's epoll and
 * wake-up descriptors, the feed log, a file opened for a moment) and the headroom of
 * connections beyond the limit that are accepted only to be answered 503. The default
 * connection limit is the open-file limit less this. */
unsigned server_fd_reserve(const struct server_config *cfg);
/* Start listening and serving; 0 on success, -1 with a message in err. On failure
 * everything started is released. */
int server_start(struct server *srv, const struct server_config *cfg, char *err,
                 size_t errlen);
/* End streams and held polls politely, stop the daemon, free everything. */
void server_stop(struct server *srv);

#endif
