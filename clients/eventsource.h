/* eventsource.h: the EventSource client's protocol, as a state machine that knows
 * nothing of sockets: what a response means, when to reconnect, and from where.
 *
 * Two programs run it: the lab's SSE users (clients/sse.c, driven by user.c and
 * libcurl) and the contract test service (testservice/, driven by its own libcurl
 * worker), so the public contract suite checks the code the lab measures with. Each
 * caller does its own I/O and tells the machine what happened: a response arrived
 * (status and Content-Type), body bytes came, the connection ended and how. The machine
 * answers what the rules of WHATWG HTML section 9.2 ("Server-sent events") say:
 *
 *   - a response is judged once, when its headers are in: 200 with a Content-Type of
 *     text/event-stream (any case, parameters allowed) opens the stream; 204 No Content
 *     closes it for good without an error (the server asks the client to stop: the
 *     contract suite's "server-directed-shutdown-request"); any other status, or a wrong
 *     Content-Type, "fails the connection": closed for good, with an error;
 *   - the body of an open stream goes to the event-stream parser (common/sse_parser.h);
 *     a "retry:" field sets the reconnection time (capped at an hour), 3000 ms until one
 *     comes (Chromium's default) unless the caller set another start;
 *   - when a connection ends in any other way (refused, reset, timed out, closed by the
 *     server before or after a response, an event too big, the caller's read timeout or a
 *     deliberate restart), the partial event is dropped and the client reconnects after
 *     the reconnection time; a connection that ended before any response is a network
 *     error like any other, never a "status 0" failure;
 *   - the next request sends Last-Event-ID with the last event ID string, when it is not
 *     empty (an id given before the first connection counts as one);
 *   - close() (the page calling EventSource.close()) ends it: no more events reach the
 *     caller, no reconnection.
 * The machine also keeps a one-line description of each connection's failure, for a
 * caller that reports errors (the test service's "error" callbacks).
 */
#ifndef PUSHPULL_EVENTSOURCE_H
#define PUSHPULL_EVENTSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "sse_parser.h"

#define ES_DEFAULT_RETRY_MS 3000      /* Chromium's reconnection time until retry: says */
#define ES_MAX_RETRY_MS     3600000   /* an hour: keeps ms * NS_PER_MS far from overflow */
#define ES_NEVER            INT64_MAX /* eventsource_ended: no reconnection */

enum es_state {
    ES_CONNECTING, /* no open stream: connecting, or waiting to reconnect */
    ES_OPEN,       /* a response opened the stream; its body is being read */
    ES_CLOSED      /* for good: 204, a failed connection, or close() */
};

/* What a response's status and Content-Type mean. */
enum es_verdict {
    ES_VERDICT_OPEN, /* read the body */
    ES_VERDICT_STOP, /* 204: stop quietly, do not read the body */
    ES_VERDICT_FAIL  /* fail the connection: stop, with an error */
};

/* How a connection ended. */
enum es_end {
    ES_END_NETWORK, /* the transfer failed (refused, reset, timed out, cut) */
    ES_END_EOF,     /* the body ended normally: the server closed the stream */
    ES_END_TOO_BIG, /* an event passed max_event_bytes: the caller dropped it */
    ES_END_TIMEOUT, /* no bytes for the caller's read timeout: it dropped it */
    ES_END_RESTART  /* the caller dropped it on purpose: reconnect, no error */
};

struct es_config {
    uint64_t retry_ms;         /* reconnection time until a retry: field (capped) */
    size_t max_event_bytes;    /* the parser's cap on one event; 0: its default */
    const char *last_event_id; /* resume from this id on the first connection; NULL or
                                  "": none (copied) */
};

struct es_callbacks {
    /* An event, while the client is not closed. Return value ignored (the parser reads
     * on, so its byte counts stay whole). */
    int (*on_event)(void *ctx, const struct sse_event *ev);
    /* A comment line, as sse_parser.h; may be NULL. */
    void (*on_comment)(void *ctx, const char *text, size_t len);
    void *ctx; /* passed to both */
};

struct eventsource; /* opaque */

/* A client in ES_CONNECTING, ready for its first connection. Both structs are copied.
 * NULL when out of memory, or when last_event_id holds nothing a parser would take. Free
 * with eventsource_free. */
struct eventsource *eventsource_new(const struct es_config *cfg,
                                    const struct es_callbacks *cb);
void eventsource_free(struct eventsource *es);

enum es_state eventsource_state(const struct eventsource *es);
/* The Last-Event-ID value for the next request; "" means send none. Valid until the next
 * call that feeds or ends. */
const char *eventsource_last_id(const struct eventsource *es);
/* The final response's status line and Content-Type ("" or NULL when none) are in. Call
 * once per connection, only when a response arrived. */
enum es_verdict eventsource_response(struct eventsource *es, long status,
                                     const char *content_type);
/* Body bytes of an open stream (ignored otherwise). SSE_ERR_TOO_BIG: an event passed the
 * cap; the caller drops the connection and ends it with ES_END_TOO_BIG. */
enum sse_status eventsource_feed(struct eventsource *es, const char *buf, size_t len);
/* The connection is over; detail, which may be NULL, says how in words (the transfer
 * error of ES_END_NETWORK). Returns when to connect again (now_ns + the reconnection
 * time, on the caller's monotonic clock), or ES_NEVER when the client is closed. */
int64_t eventsource_ended(struct eventsource *es, enum es_end how, const char *detail,
                          int64_t now_ns);
/* As EventSource.close(): no more events, no reconnection. Safe inside on_event. */
void eventsource_close(struct eventsource *es);
/* What went wrong with the last connection, one line, or "" when nothing did (an open
 * stream still running, a 204, a restart, close()). */
const char *eventsource_error(const struct eventsource *es);
/* The reconnection time in force, in ms. */
uint64_t eventsource_retry_ms(const struct eventsource *es);
/* The parser's byte and event counts (sse_parser.h), over every connection. */
const struct sse_counts *eventsource_counts(const struct eventsource *es);

#endif
