/* ws_conn_impl.h: what a server WebSocket connection's two files share (ws_conn.c,
 * ws_conn_io.c): the connection's struct, its limits, and the calls between them; not
 * for other files, which see ws_conn.h only.
 *
 * ws_conn_io.c is the connection's bytes and frames (the one read and write site, wslay's
 * callbacks, the message policy, wslay's context made and freed); ws_conn.c is its life
 * (what the feed has for it, the phases from open to ended, the heartbeat, attach and
 * release). All of it runs on the WebSocket thread.
 */
#ifndef PUSHPULL_WS_CONN_IMPL_H
#define PUSHPULL_WS_CONN_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <wslay/wslay.h>

#include "clock.h"
#include "request.h"
#include "ws_conn.h"
#include "ws_meter.h"

/* Render updates into wslay's queue only while it holds less than this. */
#define WS_QUEUE_BYTES (64 * 1024)
/* Frames waiting to be sent beyond which the peer is cut (an overflow). */
#define WS_QUEUE_MSGS 4096
/* Bytes one readable event may read: a flooding peer cannot hold the thread. */
#define WS_READ_BUDGET (64 * 1024)
/* How long a closing handshake may take, from our close frame to the peer's end. */
#define WS_LINGER_NS (1 * NS_PER_S)
/* How long a quiescent connection keeps wslay's context (see Memory in ws_conn_io.c). */
#define WS_CTX_IDLE_NS (2 * NS_PER_S)

enum ws_phase {
    WS_OPEN,    /* delivering updates */
    WS_CLOSING, /* a close frame is queued (ours, or the answer to the peer's) */
    WS_LINGER,  /* our close frame is out and our side shut: awaiting the peer's end */
    WS_ENDED    /* over: to be released */
};

struct ws_conn {
    struct request *req;         /* the upgrade request: its rows, its byte marks */
    struct server *srv;          /* its server (settings, feed) */
    wslay_event_context_ptr ctx; /* wslay's framing, server mode */
    int fd;                      /* the socket (libmicrohttpd closes it) */
    struct MHD_UpgradeResponseHandle *urh; /* how to give it back */
    char *extra;                           /* bytes libmicrohttpd read past the handshake */
    size_t extra_len, extra_off;           /* their length, and how many were taken */
    struct ws_meter in, out;               /* every byte read and written, by frame part */
    bool in_fragments;                     /* a fragmented message is half received */
    uint64_t cursor;                       /* the last seq queued to the peer */
    uint64_t drops;                        /* the drop generation it was made in */
    bool may_publish;                      /* its text messages are published */
    enum ws_phase phase;                   /* see above */
    bool clean;              /* ended by a closing handshake (bytes checked whole) */
    bool blocked;            /* the socket took less than offered: wait for more */
    bool peer_gone;          /* end of stream or an error on read */
    bool peer_reset;         /* of them, an error (a reset): not the peer's end */
    bool close_counted;      /* our close frame is counted in closes_sent */
    size_t budget;           /* bytes this readable event may still read */
    int64_t last_write_ns;   /* when bytes last left: the heartbeat's silence */
    int64_t ping_ns;         /* when the unanswered ping was queued, 0 if none */
    int64_t linger_until_ns; /* deadline of the closing handshake */
    int64_t last_read_ns;    /* when bytes last came */
    int64_t ctx_check_ns; /* not before then is the context freed (ws_conn_io.c, Memory) */
};

/* Count n in a WebSocket counter, skipping the atomic add for 0. */
static inline void count_ws(struct ws_conn *c, enum stats_ws_field f, uint64_t n)
{
    if (n > 0)
        request_count_ws(c->req, f, n);
}

/* ws_conn_io.c. The one read site: the bytes libmicrohttpd read past the handshake
 * first, then the socket. Returns n > 0, 0 at the end of the stream, or -1 with errno. */
ssize_t ws_conn_read(struct ws_conn *c, uint8_t *buf, size_t len);
/* Make the framing context if there is none. 0, or -1 when out of memory. */
int ws_conn_ctx_make(struct ws_conn *c);
/* Free the framing context, if any. */
void ws_conn_ctx_free(struct ws_conn *c);
/* When the context may be freed next, if the connection stays quiescent. */
int64_t ws_conn_ctx_due(const struct ws_conn *c);
/* Its time has come: free the context if nothing is half done, else look again later. */
void ws_conn_ctx_idle(struct ws_conn *c, int64_t now_ns);

#endif
