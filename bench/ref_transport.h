/* ref_transport.h: the seam between the reference client's event loop and its transports.
 *
 * A transport is one row of function pointers (after wrk's struct sock): how to write the
 * next request, what to make of the response head and body, what to do when a response
 * ends, and (WebSocket only) what to do with the bytes after a 101. The loop
 * (refclient.c) owns the socket, the reading, the HTTP parsing and the counting; a
 * transport owns only its own per-connection state (conn->state) and never touches the
 * socket. Adding a transport is one file with one row, plus its line in ref_transports[].
 */
#ifndef PUSHPULL_BENCH_REF_TRANSPORT_H
#define PUSHPULL_BENCH_REF_TRANSPORT_H

#include <stdint.h>

#include "dynbuf.h"
#include "http_resp.h"
#include "update_scan.h"

struct ref_loop;
struct ref_conn;

/* What the loop does when a response has ended. */
enum ref_next {
    REF_NEXT_REQUEST, /* keep the connection and write the next request (long polling) */
    REF_NEXT_UPGRADE, /* the connection now carries WebSocket frames (on_upgraded) */
    REF_NEXT_CLOSE,   /* the exchange ended (a stream closed by the server): reconnect */
    REF_NEXT_ERROR    /* the body made no sense (REF_ERR_PARSE): reconnect */
};

/* Error categories, each counted at one place in refclient.c. */
enum ref_error {
    REF_ERR_CONNECT, /* connect() refused or failed */
    REF_ERR_READ,    /* read() or write() failed (reset) */
    REF_ERR_CLOSED,  /* the server closed a stream or an idle keep-alive connection */
    REF_ERR_STATUS,  /* an unexpected status, or a handshake that did not check out */
    REF_ERR_PARSE,   /* bytes that were not HTTP, chunked coding, SSE, frames or JSON */
    REF_ERR_COUNT
};

struct ref_transport {
    const char *name;    /* the --approach value */
    const char *summary; /* one line for --help */
    int ready_at_head;   /* 1: a connection is ready (subscribed) when its response head is
                            in; 0: when its first request has been written (a long poll is
                            held with no answer to wait for) */
    /* Allocate conn->state (NULL allowed). 0 or -1. Freed by fini. */
    int (*init)(struct ref_conn *c);
    void (*fini)(struct ref_conn *c);
    /* A new connection is about to send its first request: forget per-connection parse
     * state (a cursor may be kept, to resume). */
    void (*reset)(struct ref_conn *c);
    /* Append the next request to out. 0 or -1. */
    int (*request)(struct ref_conn *c, struct dynbuf *out);
    /* The head is in. 0 to go on; -1 (counted as REF_ERR_STATUS) to drop the connection. */
    int (*on_head)(struct ref_conn *c, const struct http_resp *r);
    /* Body bytes (de-chunked). -1 (counted as REF_ERR_PARSE) to drop the connection. */
    int (*on_body)(struct ref_conn *c, const char *buf, size_t len);
    /* The response ended. */
    enum ref_next (*on_done)(struct ref_conn *c, const struct http_resp *r);
    /* Bytes after a 101 (REF_NEXT_UPGRADE). 0 to go on, 1 the server closed the session
     * politely, -1 a protocol error (REF_ERR_PARSE). NULL for HTTP-only transports. */
    int (*on_upgraded)(struct ref_conn *c, const char *buf, size_t len);
};

/* One connection, owned by one loop. */
struct ref_conn {
    int fd;                         /* the socket, or -1 */
    uint8_t phase;                  /* refclient.c: idle, connecting, HTTP, upgraded */
    uint8_t ready;                  /* 1 while counted as ready by its loop */
    uint8_t pending;                /* 1 while counted as being opened by its loop */
    uint8_t fail;                   /* an enum ref_error + 1 set by a callback, or 0 */
    uint32_t events;                /* the epoll events it is registered for */
    struct ref_loop *loop;          /* the loop that owns it */
    const struct ref_transport *tp; /* its transport */
    void *state;                    /* the transport's (init/fini) */
    struct http_resp resp;          /* the response being read */
    int64_t rx_real_ns; /* CLOCK_REALTIME when the bytes being handled were read */
    uint64_t last_seq;  /* the newest seq delivered (0: none yet) */
    uint64_t index;     /* its number among all connections (for a key) */
    int64_t reopen_ns;  /* when a dropped connection may reconnect */
    struct ref_conn *next_reopen; /* the loop's reopen queue */
    struct dynbuf out;            /* bytes written but not yet taken by the kernel */
};

/* What transports may call (refclient.c). */
/* Record one update received: latency = rx_real_ns - ts_ns (and - pub_ns when it has
 * one), seq checked against the previous one (duplicates, gaps). The single place
 * deliveries are counted. */
void ref_conn_deliver(struct ref_conn *c, const struct update_found *u);
/* Queue bytes to the server (a pong, a close frame) and try to write them. 0 or -1. */
int ref_conn_send(struct ref_conn *c, const void *buf, size_t len);
/* The request target and Host the client was started with, and its extra header lines
 * (CRLF-terminated, maybe ""). */
const char *ref_conn_target(const struct ref_conn *c);
const char *ref_conn_host(const struct ref_conn *c);
const char *ref_conn_headers(const struct ref_conn *c);

/* The rows, defined in ref_sse.c, ref_long.c and ref_ws.c. */
extern const struct ref_transport ref_sse_transport;
extern const struct ref_transport ref_long_transport;
extern const struct ref_transport ref_long_etag_transport;
extern const struct ref_transport ref_ws_transport;

#endif
