/* transport.h: the client's one polymorphism seam: a table of operations per approach.
 *
 * user.c does everything the HTTP techniques share (the HTTP driver, chosen per run:
 * the client's own HTTP/1.1, http_conn.h, or libcurl, user_curl.c; byte and connection
 * accounting and chunked decoding, user_http.c; scheduling); such a transport only says
 * what to ask for next, what to do with the body, and how to read the outcome. Adding a
 * technique means adding one file with one of these tables, and one line in transport_for
 * (user.c).
 *
 * Two kinds of driver. An HTTP technique fills the libcurl hooks (prepare .. on_error) and
 * user.c runs its transfers. A technique libcurl cannot speak (the WebSocket: libcurl 7.88
 * has no WebSocket) runs its own non-blocking socket in the same event loop and fills the
 * socket hooks instead (on_timer, on_io, shutdown): user.c hands it the user's loop timer
 * and the socket's readiness (loop_watch), and it does its own I/O, while the counting
 * that every technique shares (connections, the kernel's count at close, outcomes,
 * outages, updates) still goes through the user's functions (user.h), one place each. The
 * seam was widened this way, rather than by a second table, so that a user stays one
 * struct with one transport whatever its driver, and run.c and the report need no
 * per-driver branches. Exactly one of the two sets of hooks is filled.
 *
 * Messages upstream (--send-rate, upstream.h): a technique whose connection carries
 * messages the other way (the WebSocket) sends them itself (carries_messages); for the
 * others each user gets a sender, a second user whose transport is transport_publish
 * (POST /publish on a keep-alive connection of its own; publish.c).
 */
#ifndef PUSHPULL_TRANSPORT_H
#define PUSHPULL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "by_order.h"
#include "cli.h"
#include "clock.h"
#include "dynbuf.h"
#include "headers.h"
#include "rng.h"

struct user;

#define TRANSPORT_STOP        INT64_MIN /* next_due value: make no more requests */
#define TRANSPORT_MAX_EXTRA   2         /* header lines a transport may add to a request */
#define TRANSPORT_EXTRA_BYTES 288 /* one such line: room for a validator (foreign.h) */
/* How long a long-polling user waits after a failed poll before asking again (a page's
 * typical backoff, so an outage does not become a spin); in the results as
 * error_backoff_ms, which the report's restart model uses. */
#define LONG_POLL_ERROR_BACKOFF_NS (1 * NS_PER_S)

/* How a finished response is counted (user.c adds it to exactly one counter). */
enum outcome {
    OUTCOME_NEWS,         /* 200 that brought an update new to this user */
    OUTCOME_EMPTY,        /* 200 with nothing new */
    OUTCOME_NOT_MODIFIED, /* 304 */
    OUTCOME_ERR_STATUS,   /* an unexpected status or Content-Type */
    OUTCOME_ERR_PARSE,    /* a body that is not the contract's */
    OUTCOME_ERR_TOO_BIG   /* a body (or an SSE event) past --max-body: a parse error */
};

/* The next request, as the transport wants it. */
struct request_spec {
    struct dynbuf *target; /* path and query, e.g. /poll?since=4 */
    char extra[TRANSPORT_MAX_EXTRA][TRANSPORT_EXTRA_BYTES]; /* header lines; "" = unused */
    int64_t timeout_ns;        /* whole-transfer limit; 0 = none */
    int64_t answer_timeout_ns; /* longest wait for the response's headers; 0 = none (for
                                  a response with no end, where timeout_ns cannot serve) */
    const char *body; /* a POST's body (held by the transport until on_done or on_error),
                         or NULL for a GET; a transport is one or the other for good */
    size_t body_len;  /* its bytes */
};

struct transport_ops {
    const char *name;       /* "short", "long", "sse", "ws", "publish" */
    enum request_kind kind; /* which header list a browser would send */
    bool up_on_connect;     /* a request reaching a live server ends an outage (user.h):
                               true where an answer waits for news (long polling) */
    bool carries_messages;  /* upstream messages travel on this technique's own
                               connection (else a POST sender carries them) */
    enum by_order_rule by_order; /* how its unstamped updates line up with the
                                    publishes (by_order.h) */
    /* The bytes of this technique's usual request head with profile p (the report's
     * req_head_profile_bytes: GET /poll, GET /events, the handshake's GET /ws). */
    size_t (*ref_head_bytes)(const struct header_profile *p, const char *host_line);
    /* Allocate the user's transport state into u->tp. 0 or -1 (out of memory). */
    int (*init)(struct user *u);
    /* Free u->tp. */
    void (*cleanup)(struct user *u);
    /* Offset of this user's first request from the start of the run. */
    int64_t (*first_start)(const struct client_config *cfg, struct rng *r);
    /* Fill the next request. 0 or -1 (out of memory). */
    int (*prepare)(struct user *u, struct request_spec *spec, int64_t now);
    /* The final response's headers are in. Return 0 to take the body, -1 to refuse it:
     * the transfer is then stopped and on_done sees u->refused. */
    int (*on_headers)(struct user *u, long status, const char *content_type);
    /* Body bytes with transfer framing removed, in order, as they arrive. */
    void (*on_body)(struct user *u, const char *buf, size_t len);
    /* The response is complete (or refused). Return its outcome; set *next_due to the
     * monotonic time of the next request, or TRANSPORT_STOP. */
    enum outcome (*on_done)(struct user *u, long status, int64_t now, int64_t *next_due);
    /* The transfer failed (connect, timeout, I/O, broken framing). Set *next_due. */
    void (*on_error)(struct user *u, int64_t now, int64_t *next_due);

    /* ---- a technique that runs its own socket (NULL for libcurl ones) ---- */
    /* The user's loop timer fired (the transport sets it with loop_timer_set). */
    void (*on_timer)(struct user *u);
    /* The user's own socket is ready (epoll events). */
    void (*on_io)(struct user *u, uint32_t events);
    /* The run is over: count what is open as aborted, close the socket (the kernel's
     * count through user_socket_close), start nothing more. */
    void (*shutdown)(struct user *u);
};

extern const struct transport_ops transport_short_poll;
extern const struct transport_ops transport_long_poll;
extern const struct transport_ops transport_sse;
extern const struct transport_ops transport_ws;
extern const struct transport_ops transport_publish;   /* a user's POST sender */
extern const struct transport_ops transport_publisher; /* the client as a foreign
                                                          server's publisher */

#endif
