/* server.c: the libmicrohttpd daemon behind every transport: connections, routing, the
 * sweeper thread, and an orderly shutdown.
 *
 * Threading: libmicrohttpd runs an epoll loop in a small pool of threads
 * (MHD_USE_EPOLL_INTERNAL_THREAD + MHD_OPTION_THREAD_POOL_SIZE); every callback below
 * runs on one of them. Two more threads touch requests: the generator (publishing wakes
 * parked requests) and the sweeper (deadlines, vanished peers). They meet only under the
 * feed's lock, where a request is parked (suspended) or woken (resumed), so no request
 * is resumed twice or freed while parked. The sweeper also walks the open connections
 * (conn.c, under their own lock) and shuts down those past their deadline; libmicrohttpd
 * then closes them on its own thread, as if their peer had.
 *
 * A request's life: the URI callback (on_request_line) makes its state as soon as its
 * line is in; the first on_access call routes and admits it (admission.c); the last one
 * runs its route; on_completed ends it. libmicrohttpd answers some requests itself
 * (malformed, too large): on_mhd_log counts those from its log line.
 *
 * Held requests cost no thread: a long poll with nothing to say, or an SSE stream with
 * nothing to send, suspends its connection (MHD_suspend_connection) and parks a waiter on
 * the feed. A publish, a deadline or the peer leaving resumes it, and libmicrohttpd calls
 * the handler (or the stream's reader) again.
 *
 * WebSockets: the daemon runs with MHD_ALLOW_UPGRADE; after a 101 (ws.c) libmicrohttpd
 * stops watching the socket and hands it over, and one more thread serves every upgraded
 * connection (ws_loop.c: an epoll set, a timer heap, one waiter on the feed). Such a
 * connection stays libmicrohttpd's (it counts against --max-connections, and only
 * MHD_upgrade_action closes it), but no deadline of conn.c applies to it (its request is
 * whole) and libmicrohttpd's own timeout does not either (it is suspended): its
 * heartbeat and the peer's answers keep it honest. server_stop stops that thread before
 * the daemon, which must still be running to take the sockets back.
 *
 * Byte accounting (request.h): each connection snapshots the kernel's byte counters when
 * it opens (on_connection) and at every request boundary (on_completed), so what a client
 * sent is exactly what /stats reports, and a mismatch on a finished stream shows up in
 * "unaccounted_bytes" instead of vanishing.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admission.h"
#include "clock.h"
#include "feed_log.h"
#include "redis_feed.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "short_poll.h"
#include "sockacct.h"
#include "ws_loop.h"

void server_config_defaults(struct server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->bind, sizeof(cfg->bind), "%s", "127.0.0.1");
    cfg->port = 8080;
    cfg->buffer = 1024;
    cfg->rate_hz = 1.0;
    cfg->process = GEN_PERIODIC;
    cfg->burst_size = 10;
    cfg->payload_bytes = 64;
    cfg->seed = 1;
    cfg->longpoll_timeout_ns = 30 * NS_PER_S;
    cfg->retry_ms = 3000;
    cfg->heartbeat_ns = 15 * NS_PER_S;
    cfg->max_connections = 20000;
    cfg->request_timeout_ns = 10 * NS_PER_S;
    cfg->idle_timeout_ns = 120 * NS_PER_S;
    cfg->threads = 2;
    cfg->max_publish_bytes = 64 * 1024;
    snprintf(cfg->www, sizeof(cfg->www), "%s", "servers/www");
    snprintf(cfg->redis_key, sizeof(cfg->redis_key), "%s", "pushpull:feed");
    cfg->redis_maxlen = 0; /* not given: REDIS_MAXLEN_DEFAULT, or --buffer if larger */
}

/* Connections beyond --max-connections accepted only to be answered 503 and closed. */
#define SERVER_503_HEADROOM 64u

unsigned server_fd_reserve(const struct server_config *cfg)
{
    /* 3 standard streams, the listening socket, the feed log, a file or /proc read for a
     * moment, margin: 32; per thread (libmicrohttpd's, its master, the WebSocket thread)
     * an epoll descriptor and a wake-up descriptor, with margin: 4. */
    return SERVER_503_HEADROOM + 32u + 4u * (cfg->threads + 2u);
}

/* ---- requests ----------------------------------------------------------- */

/* libmicrohttpd's memory per connection (its pool): the request's head, its parsed
 * headers and arguments, and the response's head all come out of it. */
#define SERVER_CONN_MEMORY ((size_t)16 * 1024)
/* Query parameters a request may carry: the routes read at most three. */
#define SERVER_MAX_QUERY_PARAMS 64
/* What libmicrohttpd 0.9.75 takes from the pool per parsed argument: a struct
 * MHD_HTTP_Header of 6 words, rounded up to its 16-byte alignment. */
#define SERVER_POOL_PER_ARG 64

/* Set on a thread while the request line it just saw is being refused (on_request_line),
 * until libmicrohttpd logs the 431 it then queues for that request (never sent: the
 * socket is shut down, so not counted as an answer), or the request reaches on_access or
 * its end on this thread (it had fewer parameters than libmicrohttpd fails on). */
static _Thread_local bool refusing_line;

/* Query parameters in a raw request target (libmicrohttpd splits them at '&'). */
static size_t query_params(const char *uri)
{
    const char *q = uri ? strchr(uri, '?') : NULL;
    size_t n = q ? 1 : 0;
    for (const char *p = q; p && *p; p++)
        n += *p == '&';
    return n;
}

/* libmicrohttpd's URI callback: the request line is in (not its headers yet). The
 * request's state is made here, so every request that gets this far reaches
 * on_completed, also one libmicrohttpd then refuses itself (headers too large or
 * malformed) without calling on_access.
 *
 * It is also the one look the server gets at the raw query before libmicrohttpd parses
 * it, which is where it may refuse to: libmicrohttpd 0.9.75 takes a pool record per query
 * parameter, and when the pool runs out there (about 230 parameters in 16 KiB, fewer
 * beside a large header block) it queues a 431 and then overwrites the connection's state
 * (parse_initial_message_line ignores MHD_parse_arguments_'s failure), so the request
 * gets neither the answer nor a close. A request with more parameters than any route
 * reads, or with more than the pool would hold beside what is already read, is closed
 * here at once, without an answer; it counts in the "rejected" row. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct server *srv = cls;
    struct request *req = request_new(srv, conn);
    if (!req || !req->cs)
        return req; /* NULL (out of memory): on_access makes it instead */
    conn_request_line(req->cs, clock_mono_ns());
    /* The kernel's count of what was read is asked for only when there is a query: it
     * costs two or three system calls, and most requests carry none. */
    size_t params = query_params(uri);
    if (params > SERVER_MAX_QUERY_PARAMS ||
        (params > 0 && params * SERVER_POOL_PER_ARG + request_bytes_read(req) + 1024 >
                           SERVER_CONN_MEMORY)) {
        refusing_line = true;
        req->refused = true;
        shutdown(req->cs->fd, SHUT_RDWR);
    }
    return req;
}

/* The request is over: release its transport's state, settle its bytes, free it. */
static void request_end(struct server *srv, struct request *req,
                        enum MHD_RequestTerminationCode toe)
{
    feed_lock(srv->feed);
    feed_unpark_locked(srv->feed, &req->waiter);
    feed_unlock(srv->feed);
    if (req->route && req->route->done)
        req->route->done(req);
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        conn_count_timeout(&srv->conns); /* a response its client stopped reading */
    /* A request no route saw was refused by libmicrohttpd (counted from its log line,
     * on_mhd_log, when it answered), by on_request_line, or cut short: it counts in the
     * "rejected" row, with its bytes. */
    if (req->refused)
        refusing_line = false;
    if (!req->begun) {
        req->kind = STATS_REJECTED;
        if (req->refused ||
            !MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_HTTP_STATUS))
            stats_count_rejected(&srv->stats, 0); /* closed without an answer */
    }
    /* Only a response that went out whole can be checked byte for byte. */
    request_account_bytes(req, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    /* An answer shared by many requests could not say Connection: close to a client that
     * had half-closed (reply_shared); the reading just taken says whether it had, and
     * the connection is shut down instead: libmicrohttpd's next read sees the end and
     * closes it, after the answer, which is in the kernel's send queue already. */
    if (req->close_if_peer_done && req->peer_done && req->cs)
        shutdown(req->cs->fd, SHUT_RDWR);
    if (req->cs) {
        req->cs->request = NULL;
        conn_request_ended(req->cs, clock_mono_ns());
    }
    request_free(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    if (*req_cls)
        request_end(cls, *req_cls, toe);
    *req_cls = NULL;
}

/* ---- connections -------------------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_state *cs =
            conn_open(&srv->conns, ci ? ci->connect_fd : -1, clock_mono_ns());
        stats_count_connection(&srv->stats, +1);
        if (!cs)
            return; /* accounting and deadlines are lost for it, serving is not */
        struct sockacct sa;
        if (cs->fd >= 0 && sockacct_read_accepted(cs->fd, &sa) == 0) {
            cs->written_mark = sa.written;
            cs->read_mark = sa.read;
            cs->parsed = sa.read;
            cs->acct_ok = true;
        }
        *socket_context = cs;
    } else {
        struct conn_state *cs = *socket_context;
        if (cs && cs->request) {
            /* libmicrohttpd 0.9.75 can close a connection whose request it has begun
             * without the completion notice: when its pool runs out while it parses the
             * request line's arguments, it marks the connection closed directly (issue
             * 10: 232 query parameters). The request ends here instead. */
            request_end(srv, cs->request, MHD_REQUEST_TERMINATED_WITH_ERROR);
        }
        if (cs) {
            /* what the last, unfinished or refused, request moved */
            request_account_leftover(&srv->stats, cs);
            conn_close(&srv->conns, cs);
        }
        *socket_context = NULL;
        stats_count_connection(&srv->stats, -1);
    }
}

/* The first call for a request: route it, count it, and turn away what cannot be served
 * (admission.c). */
static enum MHD_Result request_begin(struct request *req, const char *url,
                                     const char *method, const char *version)
{
    struct server *srv = req->srv;
    req->path = url;
    req->route = route_find(url);
    req->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (req->route)
        req->kind = req->route->kind;
    /* ?client=TAG also counts the request in TAG's row; on /stats it names the row to
     * read instead, so asking does not change the answer. An invalid tag (admission
     * answers 400) counts nowhere extra. */
    const char *tag = NULL;
    size_t tag_len = 0;
    if (req->route != &stats_route &&
        MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, "client", 6, &tag,
                                      &tag_len) == MHD_YES &&
        tag && tag_len == strlen(tag))
        req->tag = stats_tag_row(&srv->stats, tag);
    request_count(req, SF_REQUESTS, 1);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    req->head_bytes = ci ? ci->header_size : 0;
    if (!admission_check(req, method, version)) {
        /* libmicrohttpd skips a body announced to a refused request, and closes */
        req->body_skipped =
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_CONTENT_LENGTH) != NULL ||
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
        return req->answered ? MHD_YES : MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    struct server *srv = cls;
    struct request *req = *req_cls;
    if (!req) {
        req = request_new(srv, conn);
        if (!req)
            return MHD_NO;
        *req_cls = req;
    }
    if (req->refused) {
        refusing_line = false;
        return MHD_NO; /* on_request_line shut it; its headers were already read */
    }
    if (!req->begun) {
        req->begun = true;
        /* libmicrohttpd chunks a body of unknown size for HTTP/1.1 only; an HTTP/1.0
         * stream is raw bytes ended by closing the connection. */
        req->chunked = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
        enum MHD_Result rc = request_begin(req, url, method, version);
        if (req->answered && req->cs)
            conn_request_whole(req->cs); /* refused: what follows is discarded */
        return rc;
    }
    if (*upload_data_size > 0) {
        /* Every body byte is counted as body, kept or not (a 413's, an early 404's). */
        req->upload_seen += *upload_data_size;
        if (!req->answered && !req->too_big &&
            dynbuf_add(&req->upload, upload_data, *upload_data_size) != 0)
            req->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->cs)
        conn_request_whole(req->cs); /* the request is all in */
    if (req->answered)
        return MHD_YES; /* an early error response is queued */
    if (req->too_big)
        return reply_error(req, 413, "body: larger than the %zu-byte limit",
                           srv->cfg.max_publish_bytes);
    return req->route->handle(req);
}

/* ---- the sweeper -------------------------------------------------------- */

#define SWEEP_TICK_NS (20 * NS_PER_MS)

/* Wakes parked requests whose deadline passed and, about once a second (or once a
 * heartbeat if that is shorter), those whose peer has gone; at the same pace, closes
 * connections past their request or idle deadline (conn.h). */
static void *sweeper_main(void *arg)
{
    struct server *srv = arg;
    int64_t hb = srv->cfg.heartbeat_ns;
    int64_t peer_every = hb > 0 && hb < NS_PER_S ? hb : NS_PER_S;
    int64_t next_peer = clock_mono_ns() + peer_every;
    int64_t last = 0;
    for (;;) {
        int64_t now = clock_mono_ns();
        /* A sweep walks every waiter, so sweeps are at least SWEEP_TICK_NS apart:
         * thousands of streams with staggered heartbeats then cost one walk per tick,
         * not one per deadline, and a deadline is kept to within a tick. */
        if (now < last + SWEEP_TICK_NS) {
            struct timespec ts = clock_ts_from_ns(last + SWEEP_TICK_NS - now);
            nanosleep(&ts, NULL);
            now = clock_mono_ns();
        }
        last = now;
        bool check = now >= next_peer;
        if (check)
            next_peer = now + peer_every;
        int64_t next_deadline;
        feed_sweep(srv->feed, now, check, &next_deadline);
        if (check)
            conns_sweep(&srv->conns, now);
        feed_lock(srv->feed);
        bool closing = feed_closing_locked(srv->feed);
        feed_unlock(srv->feed);
        if (closing)
            return NULL;
        feed_wait_sweep(srv->feed, next_deadline < next_peer ? next_deadline : next_peer);
    }
}

/* ---- start and stop ----------------------------------------------------- */

/* libmicrohttpd's error log, which is also where it tells of the requests it refuses
 * itself: "Error processing request (HTTP response code is 431 (...)). Closing
 * connection." is logged exactly once per error answer it sends (transmit_error_response
 * in its connection.c), also for requests it refuses before any callback of ours (a
 * request line too long, an HTTP version it does not speak), so that line is where they
 * are counted (the "rejected" row of /stats). Lines that would come once per client in
 * normal operation or under attack are not printed: a client leaving while its stream is
 * written to, or in the middle of its request, and our own cut of a stream (sse.c) or of
 * a connection past its deadline (conn.c); nor the refusals, which /stats counts. The
 * rest is printed. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct server *srv = cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    const char *refused = strstr(line, "(HTTP response code is ");
    if (refusing_line && (refused || strstr(line, "Not enough memory in pool"))) {
        /* on_request_line shut the socket: this 431 never leaves */
        refusing_line = refused == NULL;
        return;
    }
    if (refused) {
        unsigned status =
            (unsigned)strtoul(refused + strlen("(HTTP response code is "), NULL, 10);
        stats_count_rejected(&srv->stats, status);
        return;
    }
    if (strstr(line, "no longer available for sending") ||
        strstr(line, "Failed to send the chunked response body") ||
        strstr(line, "Failed to send the response body") ||
        strstr(line, "with incomplete request") ||
        strstr(line, "detected connection closure") ||
        strstr(line, "Failed to bind to port") || /* server_start says it, once */
        strstr(line, "application error generating response") ||
        strstr(line, "Application reported internal error"))
        return;
    fprintf(stderr, "pushpull-server: libmicrohttpd: %s", line);
}

/* Free what server_start set up, in reverse order; the sweeper is already joined. */
static void server_release(struct server *srv)
{
    ws_loop_stop(srv->ws); /* gives its sockets back: the daemon must still run */
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    ws_loop_free(srv->ws);
    srv->ws = NULL;
    poll_answers_free(&srv->poll_answers); /* after the daemon: it held references */
    since_answers_free(&srv->since_answers);
    conns_destroy(&srv->conns);
    redis_feed_free(srv->redis); /* its follower writes into the feed */
    srv->redis = NULL;
    feed_free(srv->feed);
    if (srv->log_fd >= 0)
        close(srv->log_fd);
    srv->log_fd = -1;
    srv->daemon = NULL;
    srv->feed = NULL;
    stats_destroy(&srv->stats);
}

/* The feed through Redis (--redis): the ring is loaded from the stream before the
 * daemon serves anything, so a cursor is never judged against an empty ring. */
static int server_start_redis(struct server *srv, char *err, size_t errlen)
{
    const struct server_config *cfg = &srv->cfg;
    size_t maxlen = cfg->redis_maxlen;
    if (maxlen == 0)
        maxlen = cfg->buffer > REDIS_MAXLEN_DEFAULT ? cfg->buffer : REDIS_MAXLEN_DEFAULT;
    struct redis_feed_config rc = {
        .key = cfg->redis_key, .maxlen = maxlen, .buffer = cfg->buffer};
    char why[256];
    if (redis_addr_parse(cfg->redis, &rc.addr, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--redis: %s", why);
        return -1;
    }
    srv->redis = redis_feed_start(srv->feed, &rc, err, errlen);
    return srv->redis ? 0 : -1;
}

/* How far past the sweeper's deadlines libmicrohttpd's own timeout waits (see below). */
#define BACKSTOP_MARGIN_NS (10 * NS_PER_S)

int server_start(struct server *srv, const struct server_config *cfg, char *err,
                 size_t errlen)
{
    memset(srv, 0, sizeof(*srv));
    srv->cfg = *cfg;
    poll_answers_init(&srv->poll_answers);
    since_answers_init(&srv->since_answers);
    stats_init(&srv->stats);
    conns_init(&srv->conns, cfg->request_timeout_ns, cfg->idle_timeout_ns,
               &srv->stats.timeouts);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)cfg->port)};
    if (inet_pton(AF_INET, cfg->bind, &sin.sin_addr) != 1) {
        snprintf(err, errlen, "--bind: expected an IPv4 address, got \"%s\"", cfg->bind);
        return -1;
    }
    srv->log_fd = -1;
    srv->feed = feed_new(cfg->buffer);
    if (!srv->feed) {
        snprintf(err, errlen, "feed_new: out of memory for %zu updates", cfg->buffer);
        return -1;
    }
    if (cfg->redis[0] && server_start_redis(srv, err, errlen) != 0)
        goto fail;
    if (cfg->feed_file[0]) {
        srv->log_fd = feed_log_open(srv->feed, cfg->feed_file, err, errlen);
        if (srv->log_fd < 0)
            goto fail;
    }
    srv->ws =
        ws_loop_start(srv, (size_t)cfg->max_connections + SERVER_503_HEADROOM, err, errlen);
    if (!srv->ws)
        goto fail;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
    /* SERVER_CONN_MEMORY per connection (libmicrohttpd's pool), 16 KiB: a browser's
     * request head with a 4 KiB cookie (about 4.9 KB) fits on every route, the WebSocket
     * handshake's too (at 10 KiB it did not), beside 64 query parameters (at 12 KiB not);
     * test_hostile holds every route to the cookie. The pool costs RSS only where written,
     * but libmicrohttpd 0.9.75 writes zeros over it: all of it between two requests of a
     * keep-alive connection (a 16 KiB memset per poll, about 6-8% of the server's CPU
     * under wrk), and the half it had lent the request's head when a response begins
     * (sse.c gives those pages back while a stream is idle). So an idle SSE stream costs
     * the same 6.1 KiB of RSS with a 12 or a 16 KiB pool, and cost 17.7 KiB before sse.c
     * did that (./run.sh bench --workloads idle-sse).
     * libmicrohttpd's own connection timeout is the backstop for what conn.c's deadlines
     * leave alone: a response its client stops reading (it never counts a parked,
     * suspended, connection). It is set well past the idle deadline (by
     * BACKSTOP_MARGIN_NS), so that an idle keep-alive connection is closed (and counted)
     * by conns_sweep even when a loaded machine makes the sweeper late: at one second
     * past, an ASan build on two busy cores once lost the race and the close went
     * uncounted. */
    int64_t backstop_ns =
        cfg->idle_timeout_ns + cfg->request_timeout_ns + BACKSTOP_MARGIN_NS;
    unsigned backstop_s = (unsigned)((backstop_ns + NS_PER_S - 1) / NS_PER_S);
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(cfg->threads > 1 ? cfg->threads : 0), MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections + SERVER_503_HEADROOM, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        SERVER_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT, backstop_s,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, srv, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        4096u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "MHD_start_daemon: cannot listen on %s:%u (%s)", cfg->bind,
                 cfg->port, strerror(errno));
        goto fail;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : cfg->port;
    int rc = pthread_create(&srv->sweeper, NULL, sweeper_main, srv);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    srv->sweeper_started = true;
    return 0;
fail:
    server_release(srv);
    return -1;
}

/* Requests still holding something the feed's close must finish. */
static int64_t open_requests(struct server *srv)
{
    int64_t n = 0;
    for (int k = 0; k < STATS_KINDS; k++)
        n += atomic_load(&srv->stats.row[k].open);
    return n + (int64_t)feed_parked(srv->feed);
}

void server_stop(struct server *srv)
{
    if (!srv->daemon)
        return;
    /* Wake everything parked: long polls answer, streams send "event: end", WebSockets
     * close 1001. Give them a moment to leave before the daemon closes what is left. */
    feed_close(srv->feed);
    int64_t give_up = clock_mono_ns() + 2 * NS_PER_S;
    while (open_requests(srv) > 0 && clock_mono_ns() < give_up) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (srv->sweeper_started)
        pthread_join(srv->sweeper, NULL);
    server_release(srv);
}
