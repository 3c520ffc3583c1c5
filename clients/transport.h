/* transport.h: the client's one polymorphism seam: a table of operations per approach.
 *
 * user.c does everything the three techniques share (libcurl setup, byte and connection
 * accounting, chunked decoding, scheduling); a transport only says what to ask for next,
 * what to do with the body, and how to read the outcome. Adding a technique means adding
 * one file with one of these tables, and one line in transport_for (user.c).
 */
#ifndef PUSHPULL_TRANSPORT_H
#define PUSHPULL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "clock.h"
#include "dynbuf.h"
#include "headers.h"
#include "rng.h"

struct user;

#define TRANSPORT_STOP      INT64_MIN /* next_due value: make no more requests */
#define TRANSPORT_MAX_EXTRA 2         /* header lines a transport may add to a request */
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
    struct dynbuf *target;                /* path and query, e.g. /poll?since=4 */
    char extra[TRANSPORT_MAX_EXTRA][128]; /* header lines; "" = unused */
    int64_t timeout_ns;                   /* whole-transfer limit; 0 = none */
    int64_t answer_timeout_ns; /* longest wait for the response's headers; 0 = none (for
                                  a response with no end, where timeout_ns cannot serve) */
};

struct transport_ops {
    const char *name;       /* "short", "long", "sse" */
    enum request_kind kind; /* which header list a browser would send */
    bool up_on_connect;     /* a request reaching a live server ends an outage (user.h):
                               true where an answer waits for news (long polling) */
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
};

extern const struct transport_ops transport_short_poll;
extern const struct transport_ops transport_long_poll;
extern const struct transport_ops transport_sse;

#endif
