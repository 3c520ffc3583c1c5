/* counters.h: the client's accounting of requests, responses, errors, connections and
 * bytes, for the whole run and for the measurement window.
 *
 * Each counter is one enum value with a column name that carries its unit, and each is
 * incremented at exactly one place in the client (named in the table in counters.c), so a
 * count cannot be added twice or forgotten on one path. Every addition goes to `run` (the
 * whole process lifetime: what the kernel's per-socket account is held against) and, when
 * the event happened inside the measurement window, to `win` (what the report shows).
 * Window rule: an event belongs to the window when it happens inside it: a request when it
 * is sent, response bytes when they are read, a response when it completes, a connection
 * when its socket is opened, WebSocket bytes when they cross the socket; an outage (and
 * its duration, added when it ends) when it begins; a message upstream (sent, echoed or
 * echoed twice) when it was due (upstream.h), as an update counts by its publish stamp.
 *
 * Activity: the same additions, for four of the counters (requests started, connections
 * opened, failed transfers, deliveries), also go into a time series of 100 ms bins from
 * the window's start to the end of the drain (activity.csv), so a burst that the window's
 * totals flatten (every SSE user reconnecting at once after a server restart) shows as a
 * spike. The series is recorded by counters_add itself, so it counts exactly the events
 * the totals count (binned by when counters_add ran, not by the window rule); it holds at
 * most ACTIVITY_MAX_BINS bins (additions past them are not binned, but counted), and only
 * the users' counters have one, not the observer's.
 */
#ifndef PUSHPULL_COUNTERS_H
#define PUSHPULL_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"

enum counter {
    CTR_REQUESTS,    /* transfers started (HTTP requests sent or attempted; WebSocket
                        connections attempted) */
    CTR_RESP_NEWS,   /* 200 that brought at least one new update */
    CTR_RESP_EMPTY,  /* 200 with nothing new ("events":[], same state, empty stream) */
    CTR_RESP_304,    /* 304 Not Modified (and a foreign long poll's 408: foreign.h) */
    CTR_ERR_CONNECT, /* could not connect (refused, unreachable, connect timeout) */
    CTR_ERR_TIMEOUT, /* the transfer's time limit passed */
    CTR_ERR_STATUS,  /* unexpected status, SSE with the wrong Content-Type, or a
                        WebSocket handshake refused */
    CTR_ERR_PARSE,   /* body not the contract's JSON / chunked / event stream */
    CTR_ERR_IO,      /* any other transfer failure (reset, closed mid-response) */
    CTR_ERR_PARSE_TOO_BIG,   /* of errors_parse: a body or SSE event past --max-body */
    CTR_SEQ_BACKWARDS,       /* updates whose seq was below one the same connection brought
                                before, with no reset between: dropped */
    CTR_STAMPS_FUTURE,       /* updates stamped later than their receipt by more than
                                --max-clock-skew: dropped */
    CTR_SSE_EVENTS_INVALID,  /* SSE message events whose data was not an update */
    CTR_VALIDATORS_TOO_LONG, /* poll answers' ETag or Last-Modified values, and SSE ids
                                at a reconnection, past FOREIGN_VALIDATOR_MAX: not sent
                                back (foreign.h) */
    CTR_DELIVERIES_BY_ORDER, /* of deliveries: unstamped updates timed by the
                                publisher's send time, matched by order (by_order.h) */
    CTR_UPDATES_UNMATCHED,   /* unstamped updates that could not be matched to a
                                publish: not timed, not delivered (by_order.h) */
    CTR_ABORTED,             /* transfers still open when the run ended (SSE streams,
                                WebSockets) */
    CTR_CONNECTIONS,         /* TCP connections opened (sockets created by libcurl) */
    CTR_RECONNECTS,          /* connections opened by a user that had one before */
    CTR_RESETS,              /* gaps the server signalled ("reset":true, event: reset) */
    CTR_FAILOVERS,           /* moves to the next --server instance (failover.h) */
    CTR_REQ_HEADER_BYTES,    /* request line + header lines + blank line, as sent */
    CTR_REQ_BODY_BYTES,      /* request body bytes (the client sends none: GET only) */
    CTR_RESP_HEADER_BYTES,   /* status line + header lines + blank line, as read */
    CTR_RESP_BODY_BYTES,     /* body bytes after removing transfer framing */
    CTR_CHUNK_FRAMING_BYTES, /* chunk sizes, extensions, CRLFs and the last chunk */
    CTR_SSE_DATA_BYTES,      /* of the body: SSE data field values */
    CTR_SSE_FRAMING_BYTES,   /* of the body: SSE field names, ids, retry, blank lines */
    CTR_SSE_COMMENT_BYTES,   /* of the body: SSE comment lines (heartbeats) */
    CTR_SSE_COMMENTS,        /* SSE comment lines seen */
    CTR_SSE_EVENTS,          /* SSE events dispatched (all types) */
    CTR_WS_HANDSHAKE_REQ_BYTES,  /* WebSocket: the opening handshake's request, as sent */
    CTR_WS_HANDSHAKE_RESP_BYTES, /* its answer's head as read (for a refused or malformed
                                    answer: every byte read on that connection) */
    CTR_WS_HEADER_BYTES_DOWN,    /* data frames from the server: header bytes */
    CTR_WS_MASK_BYTES_DOWN,      /* ... their masking keys (a server must send none) */
    CTR_WS_PAYLOAD_BYTES_DOWN,   /* ... their payload */
    CTR_WS_PINGPONG_BYTES_DOWN,  /* ping and pong frames from the server, whole */
    CTR_WS_CLOSE_BYTES_DOWN,     /* close frames from the server, whole */
    CTR_WS_HEADER_BYTES_UP,      /* data frames to the server: header bytes */
    CTR_WS_MASK_BYTES_UP,        /* ... their masking keys (4 per frame) */
    CTR_WS_PAYLOAD_BYTES_UP,     /* ... their payload */
    CTR_WS_PINGPONG_BYTES_UP,    /* ping and pong frames to the server, whole */
    CTR_WS_CLOSE_BYTES_UP,       /* close frames to the server, whole */
    CTR_WS_DATA_FRAMES_DOWN,     /* data frames received */
    CTR_WS_PINGS_DOWN,           /* pings received (wslay answers each with a pong) */
    CTR_WS_PONGS_UP,             /* pongs sent */
    CTR_WS_MESSAGES_INVALID,     /* messages that were neither an update nor a reset */
    CTR_WS_HANDSHAKES_REFUSED,   /* of errors_status: 101 answers that failed the checks
                                    (bad Sec-WebSocket-Accept, no Upgrade, ...) */
    CTR_MSGS_SENT,               /* messages sent upstream (upstream.h; window: by when
                                    they were due) */
    CTR_MSGS_ECHOED,             /* ... that came back to their sender on the feed */
    CTR_MSGS_ECHO_DUPLICATES,    /* repeated receipts of a message by its sender */
    CTR_SETUPS,                  /* connections whose setup was measured (wire.h): the
                                    bytes both ways before their first request */
    CTR_SETUP_BYTES,             /* ... those bytes: a TLS handshake, HTTP/2's preface
                                    and SETTINGS; 0 for plain HTTP/1.1 */
    CTR_TLS_HANDSHAKE_US,        /* ... the TLS handshakes' time, TCP's connect to TLS's
                                    end (CURLINFO_APPCONNECT_TIME_T), microseconds */
    CTR_H2_RESP_FIELD_BYTES,     /* HTTP/2: response header fields as decoded, name +
                                    value (:status included): h2load's measure (wire.h) */
    CTR_H2_RESP_HEADS,           /* HTTP/2: response header blocks (HEADERS frames) */
    CTR_H2_DATA_FRAMES,          /* HTTP/2: DATA frames of those responses, one per
                                    16 KiB of Content-Length (wire.h) */
    CTR_H2_RESP_UNSIZED,         /* HTTP/2: responses without Content-Length (streams:
                                    their DATA frames are not known) */
    CTR_TLS_APP_BYTES_RECEIVED,  /* TLS 1.3: plaintext of the application-data records
                                    received (what HTTP/2 or HTTP/1.1 read) */
    CTR_KERNEL_BYTES_SENT,       /* kernel: bytes handed to TCP (acked + still queued) */
    CTR_KERNEL_BYTES_RECEIVED,   /* kernel: bytes taken from TCP (received - unread) */
    CTR_KERNEL_SEGS_OUT,         /* kernel: TCP segments sent (tcpi_segs_out) */
    CTR_KERNEL_SEGS_IN,          /* kernel: TCP segments received (tcpi_segs_in) */
    CTR_KERNEL_FIN_RECEIVED,     /* kernel: connections where the peer's FIN had arrived */
    CTR_KERNEL_READ_ERRORS,      /* sockets whose TCP_INFO could not be read at close */
    CTR_DELIVERIES,   /* receipts of updates new to the user (any publish time) */
    CTR_OUTAGES,      /* outages begun (user.h: first failure after a success) */
    CTR_OUTAGE_NS,    /* their total length, added when each ends */
    CTR_OUTAGES_OPEN, /* outages still open when the run ended */
    CTR__COUNT
};

/* The columns of activity.csv, after time_s. */
enum activity_col {
    ACT_REQUESTS,    /* CTR_REQUESTS */
    ACT_CONNECTIONS, /* CTR_CONNECTIONS */
    ACT_ERRORS,      /* CTR_ERR_CONNECT, _TIMEOUT, _STATUS, _PARSE and _IO together */
    ACT_DELIVERIES,  /* CTR_DELIVERIES */
    ACT__COUNT
};

#define ACTIVITY_BIN_NS   (100 * NS_PER_MS) /* one row of activity.csv */
#define ACTIVITY_MAX_BINS ((size_t)1 << 18) /* 7.3 hours of bins, 8 MiB */

struct activity {
    int64_t t0_ns;                /* bin 0 starts here (monotonic: the window's start) */
    size_t nbins;                 /* bins allocated */
    uint64_t (*bins)[ACT__COUNT]; /* nbins rows (owned) */
    uint64_t unbinned;            /* additions after the last bin */
};

struct counters {
    uint64_t run[CTR__COUNT];   /* the whole run, warmup and drain included */
    uint64_t win[CTR__COUNT];   /* events inside the measurement window */
    uint64_t outage_max_run_ns; /* the longest outage (a maximum: merged as one) */
    uint64_t outage_max_win_ns; /* the longest of those begun in the window */
    bool measuring;             /* the window is open now */
    struct activity *activity;  /* the time series these additions also go to, or NULL
                                   (borrowed: the run owns it) */
};

/* The window's share of a kernel count (CTR_KERNEL_BYTES_*: whole-run in run[], the
 * window's in win[]), added by wire.c only: the kernel's counts are read per socket, not
 * as events, so they do not follow counters_add's window rule. */
void counters_add_window(struct counters *c, enum counter k, uint64_t n);
/* Add n to counter k; to the window too when in_window (callers usually pass
 * c->measuring; a request's bytes pass whether the request was sent in the window); and,
 * for the activity counters, to the current bin of c->activity. */
void counters_add(struct counters *c, enum counter k, uint64_t n, bool in_window);
/* An outage of dur_ns ended (or the run ended during it): its length goes to
 * CTR_OUTAGE_NS and the maxima. */
void counters_add_outage(struct counters *c, int64_t dur_ns, bool in_window);
/* Add every count of src into dst (the maxima as maxima; dst keeps its activity). */
void counters_merge(struct counters *dst, const struct counters *src);
/* The counter's column name, with its unit: "req_header_bytes". */
const char *counters_name(enum counter k);

/* An empty series of span_ns / ACTIVITY_BIN_NS bins (rounded up, at most
 * ACTIVITY_MAX_BINS) from t0_ns. 0, or -1 (out of memory) with a message in err. Free with
 * activity_free, also after a failure. */
int activity_init(struct activity *a, int64_t t0_ns, int64_t span_ns, char *err,
                  size_t errlen);
void activity_free(struct activity *a);
/* Add src's bins to dst's, bin by bin (both from the same t0 and span). */
void activity_merge(struct activity *dst, const struct activity *src);
/* CSV "time_s,requests,connections,errors,deliveries", one row per bin, time_s the bin's
 * start relative to t0. 0, or -1 on a write error. */
int activity_write_csv(const struct activity *a, FILE *out);

#endif
