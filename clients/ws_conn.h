/* ws_conn.h: one user's WebSocket connection, from connect() to close(): the socket in
 * the event loop, the opening handshake written and its answer judged, frames through
 * wslay, and every byte counted where it crosses the socket.
 *
 * The technique's policy (what to ask for, what a message means, when to reconnect, what
 * each end counts as) is ws.c's; this is the mechanism, and it tells ws.c what happened
 * through three hooks: the connection opened, a message arrived, the connection ended
 * (and how). A connection runs through four phases: a non-blocking connect (limited by
 * --connect-timeout, which also bounds TLS's handshake when the protocol has TLS:
 * ws_tls.h), the handshake (the request written, the answer read; limited by
 * --open-timeout when set), frames, and closing (after a close frame either way, up to
 * 1 s for the server's FIN: RFC 6455 section 7.1.1 lets the server close first). The
 * socket is watched for exactly what the phase needs (loop_watch). After every call into
 * this file the caller re-reads ws_conn_due, the deadline of the phase.
 *
 * Bytes (counters.h): every byte read crosses one function (conn_read) and every byte
 * written one other (conn_write), and each is counted there before anything else
 * happens to it: while the handshake's answer is incomplete, read bytes go to its parser
 * and count as ws_handshake_resp_bytes (all of them when the answer is refused), written
 * bytes as ws_handshake_req_bytes; after, frame bytes go through ws_meter (header,
 * masking key and payload of data frames; ping/pong and close frames whole), each way.
 * Frames that arrive with the 101 are counted when read and handed to wslay first. The
 * socket's kernel account is read as it is closed (user_socket_close), so the two can be
 * held against each other (bytes_check).
 *
 * wslay runs in client mode: it masks what it sends with keys from RAND_bytes (RFC 6455
 * section 5.3 wants them unpredictable), answers pings with pongs, refuses masked or
 * malformed server frames and invalid UTF-8 in text, and fails a message past --max-body
 * with close 1009. Control frames jump its queue: a close queued after data goes first.
 */
#ifndef PUSHPULL_WS_CONN_H
#define PUSHPULL_WS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <wslay/wslay.h>

#include "dynbuf.h"
#include "ws_accept.h"
#include "ws_handshake.h"
#include "ws_meter.h"

struct user;

enum ws_phase {
    WS_IDLE,       /* no socket */
    WS_CONNECTING, /* TCP connect in progress */
    WS_TLS,        /* TLS handshake in progress (wss://: ws_tls.h) */
    WS_HANDSHAKE,  /* the request is being written, the answer read */
    WS_OPEN,       /* frames */
    WS_CLOSING     /* close frames exchanged, or ours sent: waiting for the server's FIN */
};

/* How a connection ended. */
enum ws_end {
    WS_END_CONNECT, /* refused, unreachable, or no connection in --connect-timeout */
    WS_END_TIMEOUT, /* no answer within --open-timeout */
    WS_END_CUT,     /* closed, reset or failed I/O without a close frame from the server */
    WS_END_STATUS,  /* an HTTP answer other than 101 (ws_conn.hs.status) */
    WS_END_REFUSED, /* a 101 that failed the checks (ws_conn.verdict) */
    WS_END_MALFORMED, /* no HTTP answer at all */
    WS_END_CLOSED,    /* the server sent a close frame (ws_conn.close_code) */
    WS_END_FAILED     /* the client failed the connection (ws_conn.code_sent) */
};

struct ws_conn_hooks {
    /* The 101 was accepted: frames from now on (messages may be sent). */
    void (*on_open)(struct user *u);
    /* A whole message from the server: a text (UTF-8 checked) or binary one. */
    void (*on_message)(struct user *u, bool text, const uint8_t *msg, size_t len);
    /* The connection is over and its socket closed; `opened` says whether it got as far
     * as frames. Called once per connection, also from inside ws_conn_start. */
    void (*on_end)(struct user *u, enum ws_end how, bool opened);
};

struct ws_conn {
    struct user *u; /* the user it belongs to (its counters, loop, ids) */
    const struct ws_conn_hooks *hooks; /* ws.c's */
    enum ws_phase phase;               /* where the connection is */
    int fd;                            /* the socket, -1 when none */
    struct ssl_st *tls;                /* TLS over it (wss://), or NULL (owned) */
    int64_t tls_start;                 /* when its handshake began (monotonic) */
    uint32_t tls_want;                 /* what TLS waits for after EAGAIN */
    uint32_t watching;                 /* epoll interest now; 0 = not in the set */
    int64_t deadline;                  /* the phase's limit (monotonic); 0 = none */
    struct sockaddr_storage addr;      /* the server */
    socklen_t addrlen;                 /* its length */
    /* the handshake */
    struct dynbuf req;              /* the request head (owned) */
    size_t req_sent;                /* bytes of it written */
    char accept[WS_ACCEPT_LEN + 1]; /* the answer our key calls for */
    struct ws_handshake hs;         /* the answer as read (hs.status: its status) */
    enum ws_hs_verdict verdict;     /* its verdict once complete */
    /* frames */
    wslay_event_context_ptr ctx; /* wslay, while open or closing (owned) */
    struct dynbuf early;         /* frame bytes read with the 101, not yet given to wslay */
    size_t early_off;            /* bytes of early given */
    struct ws_meter down, up;    /* this connection's frame bytes, by kind and part */
    bool eof;                    /* the server closed the TCP connection */
    bool fin_seen;               /* a read returned end of file, or EPIPE (a reset after
                                    the server's FIN): the FIN came (user_socket_close) */
    int io_errno;                /* a failed read or write; 0 = none */
    bool close_seen;             /* a close frame came from the server */
    uint16_t close_code;         /* its status code (0 when it had none) */
    uint16_t code_sent;          /* the code of the close frame the client sent, 0 = none */
    enum ws_end closing_end;     /* WS_CLOSING: how the connection will end */
};

/* Set up c for user u, whose server address is the run's numeric one ("127.0.0.1",
 * "[::1]"). 0, or -1 when the address is not numeric. Free with ws_conn_free. */
int ws_conn_init(struct ws_conn *c, struct user *u, const struct ws_conn_hooks *hooks);
/* Close what is open (no hook called, nothing counted but the kernel's account) and free
 * the buffers. */
void ws_conn_free(struct ws_conn *c);
/* Open a connection asking for target ("/ws?since=7", the base path included): a fresh
 * key, the request head from the user's profile, a socket, a non-blocking connect. A
 * request is counted (user_count_request). A failure to start ends it at once (on_end
 * WS_END_CONNECT); -1 only when no key or no memory could be had (nothing was counted). */
int ws_conn_start(struct ws_conn *c, const char *target);
/* The socket is ready (epoll events). */
void ws_conn_io(struct ws_conn *c, uint32_t events);
/* The deadline of the phase (0: none); when it has passed, ws_conn_expire ends the
 * connection as the phase says (connect: WS_END_CONNECT, handshake: WS_END_TIMEOUT,
 * closing: as it was closing). */
int64_t ws_conn_due(const struct ws_conn *c);
void ws_conn_expire(struct ws_conn *c);
/* Open connections: may a message be queued, and queue one (copied) and write what can
 * be written. Queue returns 0, or -1 when wslay refuses it (nothing queued). */
bool ws_conn_can_send(const struct ws_conn *c);
int ws_conn_send_text(struct ws_conn *c, const char *msg, size_t len);
/* The run is over: an open connection sends close 1001 (best effort, not waited for), as
 * a tab being closed does; then the socket is closed. Returns true when a connection was
 * in progress or open (the caller counts it aborted); no hook is called. */
bool ws_conn_shutdown(struct ws_conn *c);

#endif
