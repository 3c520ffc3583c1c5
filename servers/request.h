/* request.h: the state the server keeps per request, and the one place every
 * per-request counter moves.
 *
 * A connection (struct conn_state, conn.h) lives from accept to close and carries the
 * kernel's byte counts at the last request boundary. A request (struct request,
 * libmicrohttpd's req_cls) lives from its first callback to its completion, and carries its
 * route, its /stats rows, what its transport produced, and the waiter with which it parks
 * on the feed. The daemon (server.c) creates and frees both; transports read and count
 * through the functions below, and keep their own state in `state`.
 *
 * Byte accounting: libmicrohttpd builds response headers itself and does not say how
 * long they were, and a request's header text is parsed before we see it. Rather than
 * guess, each connection snapshots the kernel's byte counters (sockacct.h) when it opens
 * and at every request boundary; the bytes a request moved, minus the body bytes the
 * transport produced, are its header bytes (request_account_bytes). A request upgraded to
 * another protocol (a WebSocket's 101) has its head attributed at the upgrade
 * (request_account_upgrade); its transport then counts every byte it reads and writes
 * itself, and settles the connection against the kernel when it lets the socket go.
 */
#ifndef PUSHPULL_REQUEST_H
#define PUSHPULL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "conn.h"
#include "dynbuf.h"
#include "feed.h"
#include "stats.h"

struct server;
struct route;

/* Per-request state (MHD's req_cls). Created by request_new on the first callback, freed
 * by request_free when the request completes (server.c). */
struct request {
    struct server *srv;
    struct MHD_Connection *conn;
    struct conn_state *cs;     /* the connection this request arrived on */
    const struct route *route; /* NULL until routed */
    const char *path;          /* the URL path (libmicrohttpd's, valid for the request) */
    enum stats_kind kind;      /* row it counts in */
    struct stats_row *tag;     /* the client=TAG row it also counts in, or NULL */
    struct feed_waiter waiter; /* used while the request is parked on the feed */
    bool begun;                /* on_access has seen it (routed, counted) */
    bool refused;              /* closed at its request line (too many parameters) */
    bool head;                 /* a HEAD request: answered as GET, without the body */
    bool body_skipped;         /* refused at its head: libmicrohttpd skips its body */
    uint64_t head_bytes;       /* the request's line and header fields, as received */
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
    uint64_t parsed_in;        /* head_bytes + upload_seen already in cs->parsed */
    uint64_t in_bytes;         /* bytes an upgraded connection's transport read itself */
    uint64_t in_mark;          /* in_bytes when the kernel's counts were last taken */
    bool settled;              /* an upgraded connection's bytes are settled: the
                                  transport did it as it let the socket go */
    bool close_if_peer_done;   /* answered without asking whether the peer half-closed
                                  (reply_shared): request_end asks, and closes */
    bool peer_done;            /* the request's last reading found the peer's FIN and
                                  nothing read past this request */
    void *state;               /* the transport's own state; freed by route->done */
};

/* A new request on conn, counted nowhere yet (kind STATS_OTHER). NULL when out of
 * memory. The caller (server.c) frees it with request_free when libmicrohttpd says the
 * request is over. */
struct request *request_new(struct server *srv, struct MHD_Connection *conn);
/* Free the request and its upload buffer (not its transport state: route->done). */
void request_free(struct request *req);

/* Count n in field f of the request's row and of its client tag's row: the one call
 * through which every per-request counter moves. */
void request_count(struct request *req, enum stats_field f, uint64_t n);
/* Count the response status, likewise. */
void request_count_status(struct request *req, unsigned status);
/* A held request (parked poll, open stream) begins (+1) or ends (-1), likewise. */
void request_count_open(struct request *req, int delta);
/* Count n in WebSocket counter f of the request's row and its tag's, likewise. */
void request_count_ws(struct request *req, enum stats_ws_field f, uint64_t n);
/* Count one WebSocket close frame sent with this code (0: none), likewise. */
void request_count_ws_close(struct request *req, unsigned code);
/* Read the kernel's counters and attribute the bytes moved since the last mark: header
 * bytes when they are not attributed yet, otherwise (check_rest) a check that nothing is
 * left over, counted in unaccounted_bytes when something is: bytes written that the
 * transport did not produce, and bytes read that it did not take (in_bytes). Nothing for
 * a request already settled. */
void request_account_bytes(struct request *req, bool check_rest);
/* The upgrade response (101) has been handed to the kernel and libmicrohttpd has let go
 * of the socket: attribute the request's head and the whole 101 as header bytes. The
 * extra_in bytes libmicrohttpd read past the head are not the request's: they stay to be
 * counted by the transport, which takes them as if it had read them itself. */
void request_account_upgrade(struct request *req, size_t extra_in);
/* At a connection's close: the bytes it moved since its last request boundary that no
 * request explained (a request libmicrohttpd refused before its URI callback, one cut
 * short by its client or a deadline) go to the "rejected" row: those read as request
 * header bytes, those written (libmicrohttpd's error answer, whole) as response header
 * bytes. On a connection where no request ended, bytes read and none written count as
 * one request closed without an answer (a request line libmicrohttpd cannot parse, or
 * one never finished). */
void request_account_leftover(struct stats *st, struct conn_state *cs);
/* Attribute response header bytes now, for a streaming response whose first body bytes
 * are being produced (the headers have been handed to the kernel by then). */
void request_count_stream_headers(struct request *req);

/* Bytes libmicrohttpd has read on the request's connection since the last request
 * boundary: this request's so far, and any pipelined behind it. */
uint64_t request_bytes_read(struct request *req);
/* 1 when the peer has shut down its side of the connection (its FIN is in): it will send
 * no further request, so the answer should close the connection. */
bool request_peer_done(struct request *req);

/* Park the request on the feed until news, `deadline_ns`, the peer leaving or shutdown,
 * and suspend its connection. Feed lock held. -1 when the feed is closing. */
int request_park_locked(struct request *req, int64_t deadline_ns);

#endif
