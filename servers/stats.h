/* stats.h: the server's own account of what it served, per transport and per client tag,
 * for GET /stats.
 *
 * Every counter is a C11 atomic, bumped at the one place where its event happens (a
 * request arrives, a status is queued, body bytes leave the transport, header bytes are
 * read off the kernel's socket counters; request.c's request_count* functions are those
 * places), so any thread may bump and /stats may read without a lock. Header byte counts
 * come from the kernel (TCP_INFO and the socket queues, see sockacct.h), not from
 * reassembling headers, so they equal what crossed the socket.
 *
 * A request may carry a `client=TAG` query parameter; its counts then also go to that
 * tag's row, which GET /stats?client=TAG returns. That is how a browser, which cannot see
 * header bytes, learns what its requests cost (the demo page does this).
 */
#ifndef PUSHPULL_STATS_H
#define PUSHPULL_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dynbuf.h"

/* What a request was for: one row of /stats each. */
enum stats_kind {
    STATS_POLL,     /* GET /poll */
    STATS_LONGPOLL, /* GET /longpoll */
    STATS_SSE,      /* GET /events */
    STATS_WS,       /* GET /ws: the handshake, then the WebSocket's frames both ways */
    STATS_PUBLISH,  /* POST /publish, /control, /drop */
    STATS_STATS,    /* GET /stats */
    STATS_TIME,     /* GET /time, the clock-offset probe */
    STATS_OTHER,    /* the demo's files and unknown paths (404); a 405 or 503 counts in
                       the row of the route it was for */
    STATS_REJECTED, /* requests libmicrohttpd refused itself before any route saw them,
                       and bytes of requests that never ended (see stats_count_rejected) */
    STATS_KINDS
};

/* The counters of a row, each with its /stats name (stats.c). */
enum stats_field {
    SF_REQUESTS,          /* requests received */
    SF_REQ_HEADER_BYTES,  /* request line + headers, as received */
    SF_REQ_BODY_BYTES,    /* request bodies */
    SF_RESP_HEADER_BYTES, /* status line + headers, as sent */
    SF_RESP_BODY_BYTES,   /* entity bytes (SSE: the event text) */
    SF_FRAMING_BYTES,     /* chunked transfer framing */
    SF_FIELDS
};

/* A WebSocket's counters (the ws row and client tags; ws.c, ws_conn.c), each with its
 * /stats name (stats.c). The generic fields hold a WebSocket too: requests are handshakes,
 * header bytes the handshake's, resp_body_bytes the payload of the data frames sent,
 * framing_bytes every other byte sent after the 101 (data frame headers, whole control
 * frames), req_body_bytes every byte read after the handshake. These split them by frame
 * part, as the frames on the wire say (common/ws_meter.h). */
enum stats_ws_field {
    SW_DATA_FRAMES_OUT,        /* text frames sent: one per update, and reset notices */
    SW_FRAME_HEADER_BYTES_OUT, /* their headers (2 to 10 bytes each) */
    SW_PAYLOAD_BYTES_OUT,      /* their payloads: the update JSON */
    SW_CONTROL_BYTES_OUT,      /* ping, pong and close frames sent, whole */
    SW_DATA_FRAMES_IN,         /* data frames received (text, binary, continuation) */
    SW_FRAME_HEADER_BYTES_IN,  /* their headers, without the masking key */
    SW_MASK_BYTES_IN,          /* their masking keys (4 bytes each) */
    SW_PAYLOAD_BYTES_IN,       /* their payloads */
    SW_CONTROL_BYTES_IN,       /* ping, pong and close frames received, whole */
    SW_PINGS_OUT,              /* heartbeat pings sent */
    SW_PONGS_IN,               /* pongs received */
    SW_PINGS_IN,               /* pings received */
    SW_PONGS_OUT,              /* pongs sent (answers to them) */
    SW_CLOSES_IN,              /* close frames received */
    SW_MESSAGES_IN,            /* text messages published (upstream) */
    SW_RESETS,                 /* reset notices sent: updates after a cursor were gone */
    SW_DEAD_PEERS,             /* cut for answering no ping for two heartbeats */
    SW_OVERFLOWS,              /* cut for letting too many frames pile up unsent */
    SW_CUTS,                   /* cut by POST /drop */
    SW_CONTEXTS,               /* a gauge: connections holding wslay's framing context
                                  now (a quiescent one lets it go: ws_conn_io.c) */
    SW_FIELDS
};
/* Close codes the server sends, each counted on its own (stats.c); the last slot takes a
 * close frame without a code. */
#define STATS_WS_CODES 10

/* The HTTP statuses the server (or libmicrohttpd for it) sends, each counted on its own. */
#define STATS_STATUSES 19
/* Client tags remembered; later new tags are not counted (their requests still are). */
#define STATS_MAX_TAGS 256
/* Longest tag: [A-Za-z0-9_-]{1,32}. */
#define STATS_TAG_MAX 32

struct stats_row {
    atomic_uint_least64_t c[SF_FIELDS];           /* indexed by enum stats_field */
    atomic_uint_least64_t status[STATS_STATUSES]; /* responses by status (see stats.c) */
    atomic_int_least64_t open; /* requests in progress (held polls, streams, WebSockets) */
    atomic_uint_least64_t ws[SW_FIELDS];            /* indexed by enum stats_ws_field */
    atomic_uint_least64_t ws_close[STATS_WS_CODES]; /* close frames sent, by code */
};

struct stats_tag {
    char name[STATS_TAG_MAX + 1]; /* the tag, set once under tags_lock */
    struct stats_row row;         /* its counts */
};

struct stats {
    struct stats_row row[STATS_KINDS];
    atomic_int_least64_t conns_open;         /* TCP connections open now */
    atomic_uint_least64_t conns_total;       /* TCP connections accepted */
    atomic_int_least64_t conns_peak;         /* most connections open at once */
    atomic_uint_least64_t unaccounted_bytes; /* kernel bytes no counter explains (0) */
    atomic_uint_least64_t timeouts; /* connections closed for a deadline (conn.h) */
    atomic_uint_least64_t undelivered_bytes;      /* body and framing bytes produced for a
                                                     response cut short that never left (they
                                                     are in resp_body_bytes too) */
    atomic_uint_least64_t last_event_id_unusable; /* streams whose Last-Event-ID was no
                                                     number: reset instead (sse.c) */
    int64_t started_mono_ns;                      /* set once at start */
    pthread_mutex_t tags_lock;                    /* guards adding tags */
    atomic_size_t ntags; /* tags in use (published after the name) */
    struct stats_tag tags[STATS_MAX_TAGS];
};

void stats_init(struct stats *s);
void stats_destroy(struct stats *s);
/* Count one response with this HTTP status in row r. */
void stats_count_status(struct stats_row *r, unsigned status);
/* Count one close frame sent with this code (0: none) in row r. */
void stats_count_ws_close(struct stats_row *r, unsigned code);
/* A connection opened (+1) or closed (-1); keeps conns_open, conns_total, conns_peak. */
void stats_count_connection(struct stats *s, int delta);
/* Add n to a counter. */
void stats_add(atomic_uint_least64_t *counter, uint64_t n);
/* A request libmicrohttpd answered itself with this status (400, 413, 414, 431, 505...)
 * before any route saw it: one request and one response in the "rejected" row. Status 0:
 * a request closed before any route saw it without an answer (one request, no
 * response). */
void stats_count_rejected(struct stats *s, unsigned status);
/* 1 when tag is a valid client tag ([A-Za-z0-9_-]{1,32}). */
int stats_tag_valid(const char *tag);
/* The row of a client tag, added if new; NULL when the table is full or tag invalid. */
struct stats_row *stats_tag_row(struct stats *s, const char *tag);
/* The row of a known tag, or NULL (never adds). */
const struct stats_row *stats_tag_find(struct stats *s, const char *tag);
/* Render /stats as JSON into b. `published` (by this process), `newest` (seq) and
 * `parked` come from the feed. */
int stats_render(struct stats *s, uint64_t published, uint64_t newest, uint64_t parked,
                 struct dynbuf *b);
/* Render one tag's row as {"client":TAG,...} (zeros for NULL), with its WebSocket
 * counters. */
int stats_render_tag(const struct stats_row *r, const char *tag, struct dynbuf *b);

#endif
