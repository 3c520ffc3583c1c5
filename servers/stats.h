/* stats.h: the server's own account of what it served, per transport, for GET /stats.
 *
 * Every counter is a C11 atomic, bumped at the one place where its event happens (a
 * request arrives, a status is queued, body bytes leave the transport, header bytes are
 * read off the kernel's socket counters), so any thread may bump and /stats may read
 * without a lock. Header byte counts come from the kernel (TCP_INFO and the socket
 * queues, see sockacct.h), not from reassembling headers, so they equal what crossed the
 * socket.
 */
#ifndef PUSHPULL_STATS_H
#define PUSHPULL_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "dynbuf.h"

/* What a request was for: one row of /stats each. */
enum stats_kind {
    STATS_POLL,     /* GET /poll */
    STATS_LONGPOLL, /* GET /longpoll */
    STATS_SSE,      /* GET /events */
    STATS_PUBLISH,  /* POST /publish */
    STATS_STATS,    /* GET /stats */
    STATS_OTHER,    /* anything else: 404s, 405s, 503s before routing */
    STATS_KINDS
};

/* The HTTP statuses the server sends, each counted on its own. */
#define STATS_STATUSES 12

struct stats_row {
    atomic_uint_least64_t requests;               /* requests received */
    atomic_uint_least64_t status[STATS_STATUSES]; /* responses by status (see stats.c) */
    atomic_uint_least64_t req_header_bytes;       /* request line + headers, as received */
    atomic_uint_least64_t req_body_bytes;         /* request bodies */
    atomic_uint_least64_t resp_header_bytes;      /* status line + headers, as sent */
    atomic_uint_least64_t resp_body_bytes;        /* entity bytes (SSE: the event text) */
    atomic_uint_least64_t framing_bytes;          /* chunked transfer framing */
    atomic_int_least64_t open; /* requests in progress (held polls, streams) */
};

struct stats {
    struct stats_row row[STATS_KINDS];
    atomic_int_least64_t conns_open;   /* TCP connections open now */
    atomic_uint_least64_t conns_total; /* TCP connections accepted */
    atomic_int_least64_t conns_peak;   /* most connections open at once */
    atomic_uint_least64_t
        unaccounted_bytes;   /* kernel bytes no counter explains (should be 0) */
    int64_t started_mono_ns; /* set once at start */
};

void stats_init(struct stats *s);
/* The row name used in /stats ("poll", "longpoll", "events", ...). */
const char *stats_kind_name(enum stats_kind k);
/* Count one response with this HTTP status. */
void stats_count_status(struct stats *s, enum stats_kind k, unsigned status);
/* A connection opened (+1) or closed (-1); keeps conns_open and conns_peak. */
void stats_count_connection(struct stats *s, int delta);
/* Add n to a byte counter of row k (pass the field's address in the row). */
void stats_add(atomic_uint_least64_t *counter, uint64_t n);
/* Render /stats as JSON into b. `published` and `parked` come from the feed. */
int stats_render(struct stats *s, uint64_t published, uint64_t parked, struct dynbuf *b);

#endif
