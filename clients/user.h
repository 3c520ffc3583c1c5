/* user.h: one simulated user, behaving like one browser tab: its own keep-alive
 * connection, its own schedule, one request at a time.
 *
 * Connection pinning: libcurl's multi handle shares one connection cache between all easy
 * handles, so a finished poll's connection could be picked up by any other user. Each
 * user therefore talks to its own host name ("u17.pushpull.invalid", mapped to the
 * server's address with CURLOPT_RESOLVE) and sends the real Host header itself. libcurl
 * files connections by host name, so a user can only ever reuse its own connection, and
 * each lookup scans a bundle of one (pinning by CURLOPT_INTERFACE would leave all users in
 * one bundle, and libcurl 7.88 polls every idle connection of a bundle on each lookup:
 * O(users) system calls per request). The test "connections opened == users" checks it.
 *
 * Outages: a user is down from its first failed transfer after a success (connection
 * refused, a transfer error, a stream the peer cut without "event: end", a 5xx) until its
 * next successful response (a poll answered 200 or 304, an SSE stream opened with 200 and
 * text/event-stream; for long polling, whose answer waits for news, a request that reached
 * a live server: its connection is open and the request goes out): how long a server
 * restart or crash costs each user before it is served again, which is the approaches'
 * recovery time. An outage that began with an answer (a 5xx) ends only with a success,
 * since the server was reachable all along. user.c turns failed transfers into
 * user_note_down itself; statuses and stream ends are the transport's to judge, so it
 * calls user_note_up / user_note_down. An outage still open when the run ends counts as
 * open, its length up to then. Failures before the first success start no outage.
 */
#ifndef PUSHPULL_USER_H
#define PUSHPULL_USER_H

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "by_order.h"
#include "chunked.h"
#include "counters.h"
#include "wire.h"
#include "freshness.h"
#include "traffic_log.h"
#include "http_conn.h"
#include "targets.h"
#include "transport.h"
#include "update_json.h"
#include "upstream.h"

struct loop;
struct foreign_cursor;

/* What every user of a run shares; owned by the run, outlives the users. */
struct user_env {
    const struct client_config *cfg;      /* settings */
    const struct header_profile *headers; /* request header profile */
    struct loop *loop;                    /* the event loop */
    struct freshness *fresh;              /* stamps, latency, staleness */
    const struct server_target *targets;  /* --server's instances (targets.h) */
    uint32_t ntargets;                    /* entries of targets, >= 1 */
    pthread_mutex_t *fresh_lock;          /* held around `fresh` and the messages' round
                                             trips, which the run's threads share; NULL
                                             with one thread */
    struct wire *wire;                    /* the window's kernel bytes per socket */
    uint32_t *conns_open; /* libcurl sockets open per connection group, indexed by the
                             group's first user (user.c's conn_group; owned by run.c) */
    struct traffic_writer *traffic; /* this thread's rows of traffic.csv; NULL: none */
    struct by_order *order; /* the publisher's send times (by_order.h; owned by the run);
                               NULL: the client does not publish */
};

struct user {
    uint32_t id;                     /* index in the run */
    uint32_t slot;                   /* its id in its thread's loop (timer, socket) */
    bool observer;                   /* the uncounted ground-truth stream */
    bool publisher;                  /* the client's own publisher (publisher.c) */
    const struct user_env *env;      /* shared settings */
    const struct transport_ops *ops; /* the technique */
    uint32_t target;                 /* its server now: env->targets[target] (failover.h) */
    struct counters *ctr;            /* where this user's counts go */
    struct fresh_user fresh;         /* what this user knows */
    struct by_order_cursor order;    /* its place in the publishes' order (by_order.h) */
    bool sends;                      /* this user sends messages (--send-rate): up is set */
    struct upstream up;              /* its messages (upstream.h) */
    struct user *feed;               /* a sender (transport_publish): the user whose
                                        messages it posts (borrowed); NULL otherwise */
    void *tp;                        /* the transport's own state (owned by ops) */
    CURL *easy;                      /* libcurl driver: reused for every request (owned) */
    struct http_conn *hc;            /* raw driver: the connection (owned); NULL with
                                        libcurl or a transport with its own socket */
    struct curl_slist *resolve;      /* the pinning host -> address entry (owned) */
    struct curl_slist *req_headers;  /* the current request's headers (owned) */
    struct dynbuf url;               /* the current request's URL */
    char pin_host[48];               /* this user's private host name */
    uint32_t conn_group;             /* the first user of its connection group */
    int new_fd;                      /* a socket it opened, before its first request */
    /* the current transfer */
    bool busy;             /* a request is out (libcurl: in the multi handle) */
    bool starting;         /* inside start(): a transfer ending now is not restarted */
    bool sent_in_window;   /* the request went out inside the window */
    bool request_begun;    /* libcurl reached the point of sending (CURLOPT_PREREQ...) */
    int64_t begun_ns;      /* ... when (monotonic): its bytes' time in traffic.csv */
    bool headers_done;     /* the final header block has ended */
    bool chunked;          /* the body uses chunked transfer coding */
    size_t post_len;       /* the request's body (a POST), 0 for a GET */
    bool refused;          /* the transport refused the body */
    bool framing_error;    /* the chunked framing was broken */
    bool abort_requested;  /* stop the transfer at the next loop turn */
    bool stopped;          /* no more requests, ever */
    bool shutting_down;    /* the run is over: count an open transfer as aborted */
    long status;           /* final response status */
    int64_t answer_due;    /* headers must have come by then (monotonic); 0 = no limit */
    int64_t xfer_due;      /* raw driver: the whole transfer's limit; 0 = none (libcurl
                              keeps its own) */
    uint64_t conn_seq_max; /* the highest seq this connection brought since it opened (or
                              since a reset was signalled on it); 0 = none */
    struct chunked chunk;  /* chunked decoder for this response */
    struct foreign_cursor *answer_validators; /* where this answer's ETag and
                              Last-Modified go (a poll transport's state, foreign.h);
                              NULL: the transport keeps none */
    char resp_ctype[128];                     /* raw driver: its Content-Type, "" if none */
    int64_t h2_body_len; /* HTTP/2: this response's Content-Length; 0 for a status
                            without a body, -1 unknown (user_protocol.c) */
    int64_t rx_real_ns;  /* when the bytes being handled were read from the socket
                            (CLOCK_REALTIME; 0 = not stamped): every update they carry
                            is received at that instant (user_note_read) */
    int64_t rx_mono_ns;  /* the same instant on the monotonic clock (messages' round
                            trips) */
    /* connections */
    uint32_t sockets_open; /* sockets open now */
    uint32_t sockets_ever; /* sockets ever opened */
    /* outages (see above) */
    bool been_up;        /* a response has succeeded */
    bool down;           /* in an outage now */
    bool down_in_window; /* it began inside the window */
    bool down_answered;  /* it began with an answer (a 5xx), not a transfer failure */
    int64_t down_since;  /* when it began (monotonic) */
};

/* Set the user up (easy handle, pinning, transport state). 0, or -1 with a message. The
 * user is freed with user_free, also after a failure. */
int user_init(struct user *u, uint32_t id, bool observer, const struct user_env *env,
              const struct transport_ops *ops, struct counters *ctr, char *err,
              size_t errlen);
/* Free everything the user owns. Call after the loop is freed: the loop's teardown closes
 * cached connections through this user's close-socket callback. */
void user_free(struct user *u);
/* Its loop timer fired: start the next request, or stop a transfer asked to abort. */
void user_on_timer(struct user *u);
/* The loop reports the transfer finished. */
void user_on_done(struct user *u, CURLcode result);
/* The loop reports the user's own socket ready (transports with on_io). */
void user_on_io(struct user *u, uint32_t events);
/* The run is over: an open transfer is stopped and counted as aborted; nothing starts; an
 * open outage is counted as open and ends here. */
void user_shutdown(struct user *u);
/* For transports: the user received update `up` (its seq, stamp and the head of its
 * data), stamped with the time its bytes were read (user_note_read). Returns 1 when it was
 * new to the user. (The observer only records the stamp.)
 * A user that sends messages also looks for its own in the data (upstream_recognise),
 * in every update it takes, new or not. Two kinds of update are dropped
 * (0) and counted as anomalies, for the observer too: one stamped later than now by more
 * than --max-clock-skew (stamps_future: a stamp from the future would also wreck the
 * feed-epoch bookkeeping of freshness.h), and one whose seq is below a seq the same
 * connection brought before, with no reset signalled between (seq_backwards: one server
 * process never numbers backwards, and a restarted one is met on a new connection, so
 * taking it would invent a feed restart and updates nobody published). */
int user_deliver_update(struct user *u, const struct update *up);
/* For drivers: bytes were just read from the user's socket; what they carry is received
 * now (both clocks read once). Called at each read site, before the bytes are handed on,
 * so a receipt's time is when its bytes left the kernel, not when the loop got round to
 * handling them. */
void user_note_read(struct user *u);
/* For drivers, at each site where the byte counters count bytes that crossed the user's
 * socket (traffic_log.h): up written and down read at t_ns, with the counters' window
 * rule (in_window). A sender's bytes are its user's; the observer's are nobody's. */
void user_note_traffic(struct user *u, int64_t t_ns, uint64_t up, uint64_t down,
                       bool in_window);
/* For transports: the server signalled a gap (updates this user will never get); the
 * updates after the signal start again from the server's oldest. */
void user_note_reset(struct user *u);
/* For transports: the server answered (a poll got 200 or 304, a stream opened): ends an
 * outage. */
void user_note_up(struct user *u);
/* For transports: the server failed this user (a 5xx: answered true; a stream cut
 * without goodbye: false): begins an outage, unless one is open or nothing has succeeded
 * yet. Transfer errors are noted by user.c itself. */
void user_note_down(struct user *u, bool answered);
/* For transports: stop the current transfer after the current callback returns. */
void user_abort_soon(struct user *u);
/* For transports that run their own socket, the counting user.c does for libcurl's (each
 * the one place of its counters): a connection attempt (requests, with the window rule
 * of a request: sent_in_window); a TCP socket opened (connections, reconnects; a new
 * connection's seq order starts afresh); a socket's end (the kernel's account of it read
 * before it is closed, then close(): returns close's result; fin_seen: a read returned
 * end of file, or EPIPE, so the peer's FIN came even if a reset followed it); a
 * connection's outcome (the
 * responses_* and errors_parse counters, as on_done's return is counted); a failure
 * (k: CTR_ERR_CONNECT, _TIMEOUT, _STATUS, _PARSE or _IO); a connection still open when
 * the run ended (transfers_aborted_at_end). */
void user_count_request(struct user *u);
void user_socket_opened(struct user *u, int fd);
/* A connection's setup is over (TCP connected, TLS done), before its first request:
 * count its bytes so far and its TLS handshake's time (0 without TLS). */
void user_count_setup(struct user *u, int fd, uint64_t tls_us);
int user_socket_close(struct user *u, int fd, bool fin_seen);
void user_count_outcome(struct user *u, enum outcome o);
void user_count_failure(struct user *u, enum counter k);
void user_count_aborted(struct user *u);
/* For the raw driver (http_conn.c), what libcurl's callbacks do for the other: the
 * request is about to be written on a ready connection (libcurl's PREREQFUNCTION); one
 * head line of the answer, with its ending (counted by the driver); body bytes as they
 * came, chunk framing included (counted here: payload and framing); the transfer ended. */
void user_http_begun(struct user *u);
void user_http_head_line(struct user *u, const char *line, size_t len);
void user_http_body(struct user *u, const char *buf, size_t len);
void user_http_end(struct user *u, enum http_end how);
/* The user's server now (its target) as a socket address ("127.0.0.1", "[::1]" and the
 * port), for drivers that connect themselves: they ask before every connect, so a
 * failover (failover.h) takes effect at the next one. 0, or -1 when the address is not
 * numeric. */
int user_server_addr(const struct user *u, struct sockaddr_storage *a, socklen_t *len);
/* The user's server now. */
static inline const struct server_target *user_target(const struct user *u)
{
    return &u->env->targets[u->target];
}
/* The technique for an approach. */
const struct transport_ops *transport_for(enum approach a);

#endif
