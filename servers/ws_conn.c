/* ws_conn.c: one upgraded WebSocket connection (see ws_conn.h): frames by wslay, every
 * byte counted where it crosses the socket, updates rendered from the feed with a
 * bounded queue, heartbeat pings, and the RFC's close path.
 *
 * Framing. wslay's event API in server mode reads and writes frames through two
 * callbacks, and that is all it does: no socket, no handshake, no thread. It fails the
 * connection with the RFC 6455 code for what it checks: an unmasked frame, an RSV bit, a
 * reserved opcode or a continuation out of place 1002, a message longer than
 * max_recv_msg_length 1009 (at its header, before reading the payload), and (Debian 12's
 * wslay 1.1.1 does this too) text or a close reason that is not UTF-8 1007 (section 8.1),
 * as the bytes come. A control frame that is fragmented or longer than 125 bytes it
 * answers with a close frame without a code. Pings are answered with pongs by wslay;
 * fragments of a message may be interleaved with control frames. On top of that, the
 * message policy here (on_msg): a text message is published as POST /publish's body is,
 * if the peer may publish (loopback, or --open-publish; else 1008) and it has no NUL
 * (1008); a binary message is 1003; a text message past --max-publish-bytes is 1009 (wslay
 * does this for longer ones, as its limit is at least 125 so that control frames pass).
 *
 * Bytes. The recv callback is the one read site (conn_read: first the bytes
 * libmicrohttpd read past the handshake, then the socket) and the send callback the one
 * write site (conn_write); each feeds what crossed to a frame meter (common/ws_meter.h)
 * and counts the difference at once, so /stats is live while the connection is open:
 * payload of data frames sent is resp_body_bytes, every other byte sent framing_bytes,
 * every byte read req_body_bytes, and the split by part and kind in the frames counters.
 * At release the counts are held against the kernel's (request_account_bytes), so a
 * byte nobody counted shows in unaccounted_bytes.
 *
 * Back-pressure. Updates are copied into wslay's queue only while it holds less than
 * WS_QUEUE_BYTES (at least one update is always taken): the rest waits in the feed's
 * ring, behind the connection's cursor, until the socket takes bytes again. A reader
 * slower than the ring can hold falls off its end and gets the reset notice, then the
 * oldest update kept, as an SSE stream does; one that reads nothing at all stops the
 * heartbeat's pong too, and is cut as a dead peer. What wslay queues by itself (pongs
 * to a flood of pings the peer does not read) is bounded by WS_QUEUE_MSGS: past it the
 * connection is cut and counted as an overflow.
 *
 * Heartbeat. After --heartbeat with nothing written, a ping (empty) goes out; a peer
 * that has not answered it two heartbeats later is cut and counted as dead (SSE has no
 * way to tell). A peer that stops reading is found the same way: the ping cannot leave.
 *
 * Memory. wslay's context holds two 4 KiB buffers (8.6 KiB in all), half of what an
 * idle SSE stream costs altogether. It lives only while the connection is busy: made when
 * there is something to read or send (not at the upgrade: a connection that has had
 * nothing yet has none), and freed once the connection has been quiescent for
 * WS_CTX_IDLE_NS (nothing queued or half sent, no frame or fragmented message half
 * received, not closing), so an idle WebSocket costs less than an idle SSE stream
 * (./run.sh bench), while one on a busy feed keeps its context and pays no allocation per
 * update. Nothing wslay keeps between messages matters once it is quiescent: the limit is
 * set again, and the heartbeat's state is ours. The WebSocket thread gives freed memory
 * back to the system now and then (ws_conn_freed_bytes, ws_loop.c).
 *
 * Ends. A close frame from the peer is answered (wslay echoes its code), and the
 * connection ends once the answer is out. A close of ours (a bad frame, shutdown's 1001)
 * is sent, then our side is shut (FIN) and the peer's close or end of stream awaited for
 * at most WS_LINGER_NS, reading and counting whatever comes, so that our close frame is
 * not lost to a reset. A cut (POST /drop, a dead peer, the peer gone, a socket error) is
 * shutdown(SHUT_RDWR) and no close frame. Whatever the end, libmicrohttpd closes the
 * socket (MHD_upgrade_action CLOSE), never close() here.
 */
#include "ws_conn.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <wslay/wslay.h>

#include "clock.h"
#include "jsonw.h"
#include "request.h"
#include "server.h"
#include "ws_meter.h"

/* Render updates into wslay's queue only while it holds less than this. */
#define WS_QUEUE_BYTES (64 * 1024)
/* Frames waiting to be sent beyond which the peer is cut (an overflow). */
#define WS_QUEUE_MSGS 4096
/* Bytes one readable event may read: a flooding peer cannot hold the thread. */
#define WS_READ_BUDGET (64 * 1024)
/* How long a closing handshake may take, from our close frame to the peer's end. */
#define WS_LINGER_NS (1 * NS_PER_S)
/* How long a quiescent connection keeps wslay's context (see Memory above). */
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
    int64_t ctx_check_ns;    /* not before then is the context freed (see Memory) */
};

static int ctx_make(struct ws_conn *c);

/* ---- counting: the one read site and the one write site ------------------------ */

/* Count n in a WebSocket counter, skipping the atomic add for 0. */
static void count_ws(struct ws_conn *c, enum stats_ws_field f, uint64_t n)
{
    if (n > 0)
        request_count_ws(c->req, f, n);
}

static uint64_t kind_delta(const struct ws_meter *now, const struct ws_meter *was,
                           enum ws_kind k)
{
    return ws_meter_kind_bytes(now, k) - ws_meter_kind_bytes(was, k);
}

/* Bytes read after the handshake: meter them, count them. */
static void count_in(struct ws_conn *c, const uint8_t *buf, size_t n)
{
    struct ws_meter was = c->in;
    ws_meter_feed(&c->in, buf, n);
    const struct ws_meter *m = &c->in;
    c->req->in_bytes += n;
    request_count(c->req, SF_REQ_BODY_BYTES, n);
    count_ws(c, SW_FRAME_HEADER_BYTES_IN,
             m->bytes[WS_KIND_DATA][WS_PART_HEADER] -
                 was.bytes[WS_KIND_DATA][WS_PART_HEADER]);
    count_ws(c, SW_MASK_BYTES_IN,
             m->bytes[WS_KIND_DATA][WS_PART_MASK] - was.bytes[WS_KIND_DATA][WS_PART_MASK]);
    count_ws(c, SW_PAYLOAD_BYTES_IN,
             m->bytes[WS_KIND_DATA][WS_PART_PAYLOAD] -
                 was.bytes[WS_KIND_DATA][WS_PART_PAYLOAD]);
    count_ws(c, SW_CONTROL_BYTES_IN,
             kind_delta(m, &was, WS_KIND_PING) + kind_delta(m, &was, WS_KIND_PONG) +
                 kind_delta(m, &was, WS_KIND_CLOSE));
    count_ws(c, SW_DATA_FRAMES_IN, m->frames[WS_KIND_DATA] - was.frames[WS_KIND_DATA]);
    count_ws(c, SW_PINGS_IN, m->frames[WS_KIND_PING] - was.frames[WS_KIND_PING]);
    count_ws(c, SW_PONGS_IN, m->frames[WS_KIND_PONG] - was.frames[WS_KIND_PONG]);
    count_ws(c, SW_CLOSES_IN, m->frames[WS_KIND_CLOSE] - was.frames[WS_KIND_CLOSE]);
}

/* Bytes the kernel took from us: meter them, count them. */
static void count_out(struct ws_conn *c, const uint8_t *buf, size_t n)
{
    struct ws_meter was = c->out;
    ws_meter_feed(&c->out, buf, n);
    const struct ws_meter *m = &c->out;
    uint64_t payload =
        m->bytes[WS_KIND_DATA][WS_PART_PAYLOAD] - was.bytes[WS_KIND_DATA][WS_PART_PAYLOAD];
    uint64_t header =
        m->bytes[WS_KIND_DATA][WS_PART_HEADER] - was.bytes[WS_KIND_DATA][WS_PART_HEADER];
    uint64_t control = kind_delta(m, &was, WS_KIND_PING) +
                       kind_delta(m, &was, WS_KIND_PONG) +
                       kind_delta(m, &was, WS_KIND_CLOSE);
    c->req->body_bytes += payload;
    c->req->framing_bytes += n - payload;
    request_count(c->req, SF_RESP_BODY_BYTES, payload);
    request_count(c->req, SF_FRAMING_BYTES, n - payload);
    count_ws(c, SW_FRAME_HEADER_BYTES_OUT, header);
    count_ws(c, SW_PAYLOAD_BYTES_OUT, payload);
    count_ws(c, SW_CONTROL_BYTES_OUT, control);
    count_ws(c, SW_DATA_FRAMES_OUT, m->frames[WS_KIND_DATA] - was.frames[WS_KIND_DATA]);
    count_ws(c, SW_PINGS_OUT, m->frames[WS_KIND_PING] - was.frames[WS_KIND_PING]);
    count_ws(c, SW_PONGS_OUT, m->frames[WS_KIND_PONG] - was.frames[WS_KIND_PONG]);
}

/* The one read site: the bytes libmicrohttpd read past the handshake first, then the
 * socket. Returns n > 0, 0 at the end of the stream, or -1 with errno. */
static ssize_t conn_read(struct ws_conn *c, uint8_t *buf, size_t len)
{
    ssize_t n;
    if (c->extra_off < c->extra_len) {
        size_t left = c->extra_len - c->extra_off;
        n = (ssize_t)(len < left ? len : left);
        memcpy(buf, c->extra + c->extra_off, (size_t)n);
        c->extra_off += (size_t)n;
        if (c->extra_off == c->extra_len) {
            free(c->extra);
            c->extra = NULL;
            c->extra_len = c->extra_off = 0;
        }
    } else {
        n = recv(c->fd, buf, len, MSG_DONTWAIT);
        if (n <= 0)
            return n;
    }
    c->last_read_ns = clock_mono_ns();
    count_in(c, buf, (size_t)n);
    return n;
}

/* The one write site. `more`: the frame's payload follows at once (MSG_MORE, so header
 * and payload leave in one segment with TCP_NODELAY on). Returns n > 0 or -1 with errno. */
static ssize_t conn_write(struct ws_conn *c, const uint8_t *buf, size_t len, bool more)
{
    ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (n <= 0)
        return n == 0 ? -1 : n;
    count_out(c, buf, (size_t)n);
    c->last_write_ns = clock_mono_ns();
    return n;
}

/* ---- wslay's callbacks ---------------------------------------------------------- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
    struct ws_conn *c = user;
    (void)flags;
    if (c->budget == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* more at the next event */
        return -1;
    }
    ssize_t n = conn_read(c, buf, len < c->budget ? len : c->budget);
    if (n > 0) {
        c->budget -= (size_t)n;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    c->peer_gone = true; /* end of stream, or a reset */
    c->peer_reset = n < 0;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                       int flags, void *user)
{
    struct ws_conn *c = user;
    ssize_t n = conn_write(c, data, len, (flags & WSLAY_MSG_MORE) != 0);
    if (n > 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* pump sees what is left */
    } else {
        c->peer_gone = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

/* A frame's header has been read: follow fragmented messages (control frames may come
 * between their fragments and change nothing). */
static void on_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *f, void *user)
{
    struct ws_conn *c = user;
    (void)ctx;
    if (f->opcode == WSLAY_CONTINUATION_FRAME || f->opcode == WSLAY_TEXT_FRAME ||
        f->opcode == WSLAY_BINARY_FRAME)
        c->in_fragments = !f->fin;
}

/* Queue our close frame with this code and a short reason, and read no further
 * message. */
static void close_with(struct ws_conn *c, uint16_t code, const char *reason)
{
    wslay_event_queue_close(c->ctx, code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(c->ctx);
}

/* A whole message (or a control frame) arrived. wslay has checked its framing and, for
 * text, its UTF-8; what is left is the policy (see the top). */
static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
                   void *user)
{
    struct ws_conn *c = user;
    (void)ctx;
    if (m->opcode == WSLAY_PONG) {
        c->ping_ns = 0; /* the peer is alive */
        return;
    }
    if (c->phase != WS_OPEN)
        return; /* nothing more is taken once a close is on its way */
    if (m->opcode == WSLAY_BINARY_FRAME) {
        close_with(c, 1003, "text messages only");
    } else if (m->opcode == WSLAY_TEXT_FRAME) {
        const char *text = (const char *)m->msg;
        if (!c->may_publish)
            close_with(c, 1008, "publishing is for loopback peers (--open-publish)");
        else if (m->msg_length > c->srv->cfg.max_publish_bytes)
            close_with(c, 1009, "message larger than --max-publish-bytes");
        else if (!jsonw_valid_utf8(text ? text : "", m->msg_length))
            close_with(c, memchr(text, '\0', m->msg_length) ? 1008 : 1007,
                       "expected UTF-8 text without NUL");
        else if (feed_publish(c->srv->feed, text ? text : "", m->msg_length) != 0)
            count_ws(c, SW_MESSAGES_IN, 1);
    }
}

/* ---- wslay's context: only while the connection is busy (see Memory) -------------- */

/* Make the framing context if there is none. 0, or -1 when out of memory. */
static int ctx_make(struct ws_conn *c)
{
    if (c->ctx)
        return 0;
    struct wslay_event_callbacks cb = {on_recv, on_send, NULL,  on_frame_start,
                                       NULL,    NULL,    on_msg};
    if (wslay_event_context_server_init(&c->ctx, &cb, c) != 0) {
        c->ctx = NULL;
        return -1;
    }
    count_ws(c, SW_CONTEXTS, 1);
    /* Control frames carry up to 125 bytes, and wslay's limit applies to them too. */
    size_t max = c->srv->cfg.max_publish_bytes;
    wslay_event_config_set_max_recv_msg_length(c->ctx, max > 125 ? max : 125);
    c->ctx_check_ns = 0;
    return 0;
}

/* Bytes of contexts freed, for the thread's trim (the thread frees them all). */
static atomic_size_t freed_bytes;
/* What a context takes (measured: wslay 1.1.1's two structures with their buffers). */
#define WS_CTX_BYTES (8800)

/* Free the context (the gauge goes down by one: unsigned arithmetic wraps). */
static void ctx_free(struct ws_conn *c)
{
    if (!c->ctx)
        return;
    wslay_event_context_free(c->ctx);
    c->ctx = NULL;
    count_ws(c, SW_CONTEXTS, UINT64_MAX);
    atomic_fetch_add(&freed_bytes, WS_CTX_BYTES);
}

size_t ws_conn_freed_bytes(void)
{
    return atomic_exchange(&freed_bytes, 0);
}

/* 1 when the feed has something for the connection (an update after its cursor, or a
 * cursor the feed cannot follow: the reset notice). */
static bool feed_news(struct ws_conn *c)
{
    struct feed *f = c->srv->feed;
    feed_lock(f);
    bool news = feed_newest_locked(f) != c->cursor;
    feed_unlock(f);
    return news;
}

/* When the context may be freed next, if the connection stays quiescent. */
static int64_t ctx_due(const struct ws_conn *c)
{
    int64_t last = c->last_write_ns > c->last_read_ns ? c->last_write_ns : c->last_read_ns;
    int64_t due = last + WS_CTX_IDLE_NS;
    return due > c->ctx_check_ns ? due : c->ctx_check_ns;
}

/* Its time has come: free the context if nothing is half done, else look again later. */
static void ctx_idle(struct ws_conn *c, int64_t now_ns)
{
    bool quiet =
        c->phase == WS_OPEN && !c->blocked && c->extra == NULL && !c->in_fragments &&
        ws_meter_at_boundary(&c->in) && wslay_event_get_read_enabled(c->ctx) &&
        !wslay_event_get_close_received(c->ctx) && !wslay_event_get_close_sent(c->ctx) &&
        !wslay_event_want_write(c->ctx) && wslay_event_get_queued_msg_count(c->ctx) == 0;
    if (!quiet) {
        c->ctx_check_ns = now_ns + WS_CTX_IDLE_NS;
        return;
    }
    ctx_free(c);
}

/* ---- the feed: what the peer should see next --------------------------------------- */

/* Queue one text frame. 0, or -1 when wslay refuses (out of memory, closing). */
static int queue_text(struct ws_conn *c, const char *text, size_t len)
{
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    return wslay_event_queue_msg(c->ctx, &msg) == 0 ? 0 : -1;
}

/* Render what follows the cursor into wslay's queue while it holds less than
 * WS_QUEUE_BYTES: the reset notice when updates after the cursor are gone (or the cursor
 * is ahead of the newest: another run of the server), then the updates, oldest first.
 * Returns 1 when something was queued, 0 when nothing was (caught up, or the queue is
 * full), -1 when wslay refused. */
static int render(struct ws_conn *c)
{
    if (wslay_event_get_queued_msg_length(c->ctx) >= WS_QUEUE_BYTES)
        return 0;
    struct feed *f = c->srv->feed;
    int rc = 0, queued = 0;
    feed_lock(f);
    struct feed_range r = feed_range_locked(f, c->cursor, 0);
    if (r.reset) {
        char note[96];
        int n =
            snprintf(note, sizeof(note), "{\"reset\":true,\"since\":%llu,\"first\":%llu}",
                     (unsigned long long)c->cursor, (unsigned long long)r.first);
        rc = queue_text(c, note, (size_t)n);
        c->cursor = r.first - 1;
        queued = 1;
        count_ws(c, SW_RESETS, 1);
    }
    for (uint64_t i = 0; rc == 0 && i < r.count; i++) {
        if (i > 0 && wslay_event_get_queued_msg_length(c->ctx) >= WS_QUEUE_BYTES)
            break;
        const struct feed_update *u = feed_get_locked(f, r.first + i);
        rc = queue_text(c, u->json, u->json_len);
        if (rc == 0)
            c->cursor = u->seq;
        queued = 1;
    }
    feed_unlock(f);
    return rc != 0 ? -1 : queued;
}

/* ---- phases -------------------------------------------------------------------------- */

static void end(struct ws_conn *c, bool clean)
{
    if (c->phase == WS_ENDED)
        return;
    if (!clean)
        shutdown(c->fd, SHUT_RDWR);
    c->phase = WS_ENDED;
    c->clean = clean;
}

void ws_conn_cut(struct ws_conn *c, enum stats_ws_field why)
{
    if (c->phase == WS_ENDED)
        return;
    if (why != SW_FIELDS)
        count_ws(c, why, 1);
    end(c, false);
}

/* After wslay read or wrote: follow the close frames. A close queued (ours, wslay's
 * answer to the peer's, wslay's for a bad frame) makes the connection CLOSING; once it is
 * out, it ends if the peer's came first, else our side is shut and the peer's end awaited
 * (LINGER). */
static void follow_close(struct ws_conn *c)
{
    if (c->phase == WS_ENDED)
        return;
    if (c->phase == WS_OPEN && !wslay_event_get_read_enabled(c->ctx)) {
        c->phase =
            WS_CLOSING; /* wslay queued a close: the peer's answered, or a bad frame */
        c->linger_until_ns = clock_mono_ns() + WS_LINGER_NS;
    }
    if (!wslay_event_get_close_sent(c->ctx))
        return;
    if (!c->close_counted) {
        c->close_counted = true;
        uint16_t code = wslay_event_get_status_code_sent(c->ctx);
        request_count_ws_close(c->req, code == WSLAY_CODE_NO_STATUS_RCVD ? 0 : code);
    }
    if (wslay_event_get_close_received(c->ctx)) {
        end(c, true); /* both close frames crossed: the server closes the TCP connection */
    } else if (c->phase != WS_LINGER) {
        shutdown(c->fd, SHUT_WR);
        c->phase = WS_LINGER;
    }
}

void ws_conn_close(struct ws_conn *c, uint16_t code)
{
    if (c->phase != WS_OPEN)
        return;
    if (ctx_make(c) != 0) {
        ws_conn_cut(c, SW_FIELDS);
        return;
    }
    wslay_event_queue_close(c->ctx, code, NULL, 0);
    c->phase = WS_CLOSING;
    c->linger_until_ns = clock_mono_ns() + WS_LINGER_NS;
    ws_conn_pump(c);
}

void ws_conn_pump(struct ws_conn *c)
{
    if (c->phase == WS_ENDED)
        return;
    if (!c->ctx && !feed_news(c))
        return; /* nothing to send, nothing half sent: no context needed */
    if (ctx_make(c) != 0) {
        ws_conn_cut(c, SW_FIELDS); /* out of memory */
        return;
    }
    for (;;) {
        int more = 0;
        if (c->phase == WS_OPEN && (more = render(c)) < 0) {
            ws_conn_cut(c, SW_FIELDS); /* out of memory */
            return;
        }
        if (wslay_event_send(c->ctx) != 0 || c->peer_gone) {
            ws_conn_cut(c, SW_FIELDS); /* the socket failed */
            return;
        }
        /* wslay stops at a short write as at EAGAIN: whatever it still holds waits for
         * the socket to take more. Otherwise go on while the ring has more for us. */
        c->blocked = wslay_event_want_write(c->ctx) != 0;
        if (c->blocked || !more)
            break;
    }
    follow_close(c);
}

/* Read and count what comes after wslay has stopped reading (our close is out, or it
 * failed the connection): until the end of the stream, the socket runs dry or the
 * budget is spent. */
static void drain(struct ws_conn *c)
{
    uint8_t sink[4096];
    while (c->budget > 0) {
        ssize_t n = conn_read(c, sink, sizeof(sink) < c->budget ? sizeof(sink) : c->budget);
        if (n > 0) {
            c->budget -= (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->peer_gone = true;
            c->peer_reset = n < 0;
        }
        return;
    }
}

void ws_conn_readable(struct ws_conn *c)
{
    if (c->phase == WS_ENDED)
        return;
    uint8_t probe;
    if (!c->ctx && !c->extra && recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
        (errno == EAGAIN || errno == EWOULDBLOCK))
        return; /* nothing came (the look at the upgrade): no context needed */
    if (ctx_make(c) != 0) {
        ws_conn_cut(c, SW_FIELDS);
        return;
    }
    c->budget = WS_READ_BUDGET;
    if (wslay_event_get_read_enabled(c->ctx)) {
        /* On a failed read (the peer gone) wslay queues a close without a code and
         * returns an error; the same for a control frame it cannot take. */
        wslay_event_recv(c->ctx);
    } else {
        drain(c);
    }
    if (c->peer_gone) {
        if (c->phase == WS_LINGER && !c->peer_reset)
            end(c, true); /* the peer's end after our close: what we closed for */
        else
            ws_conn_cut(c, SW_FIELDS); /* gone without a closing handshake, or reset */
        return;
    }
    if (wslay_event_get_queued_msg_count(c->ctx) > WS_QUEUE_MSGS) {
        ws_conn_cut(c, SW_OVERFLOWS); /* pongs piling up for a peer that does not read */
        return;
    }
    follow_close(c);
    if (c->phase != WS_ENDED && wslay_event_want_write(c->ctx) && !c->blocked)
        ws_conn_pump(c); /* pongs, close answers */
}

void ws_conn_timer(struct ws_conn *c, int64_t now_ns)
{
    if (c->phase == WS_ENDED)
        return;
    if (c->phase != WS_OPEN) {
        if (now_ns >= c->linger_until_ns)
            end(c, false); /* the closing handshake took too long */
        return;
    }
    int64_t hb = c->srv->cfg.heartbeat_ns;
    if (c->ctx && now_ns >= ctx_due(c))
        ctx_idle(c, now_ns);
    if (hb <= 0)
        return;
    if (c->ping_ns != 0 && now_ns >= c->ping_ns + 2 * hb) {
        ws_conn_cut(c, SW_DEAD_PEERS);
    } else if (c->ping_ns == 0 && now_ns >= c->last_write_ns + hb) {
        struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
        if (ctx_make(c) != 0 || wslay_event_queue_msg(c->ctx, &ping) != 0) {
            ws_conn_cut(c, SW_FIELDS);
            return;
        }
        c->ping_ns = now_ns;
        if (!c->blocked)
            ws_conn_pump(c);
    }
}

int64_t ws_conn_deadline(const struct ws_conn *c)
{
    if (c->phase == WS_ENDED)
        return INT64_MAX;
    if (c->phase != WS_OPEN)
        return c->linger_until_ns;
    int64_t hb = c->srv->cfg.heartbeat_ns;
    int64_t due = c->ctx ? ctx_due(c) : INT64_MAX;
    if (hb <= 0)
        return due;
    int64_t beat = c->ping_ns != 0 ? c->ping_ns + 2 * hb : c->last_write_ns + hb;
    return beat < due ? beat : due;
}

bool ws_conn_wants_out(const struct ws_conn *c)
{
    return c->phase != WS_ENDED && c->blocked;
}

bool ws_conn_ended(const struct ws_conn *c)
{
    return c->phase == WS_ENDED;
}

int ws_conn_fd(const struct ws_conn *c)
{
    return c->fd;
}

uint64_t ws_conn_drops(const struct ws_conn *c)
{
    return c->drops;
}

/* ---- life ------------------------------------------------------------------------- */

struct ws_conn *ws_conn_new(struct request *req, uint64_t cursor, bool may_publish,
                            uint64_t drops)
{
    struct ws_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->req = req;
    c->srv = req->srv;
    c->fd = -1;
    c->cursor = cursor;
    c->may_publish = may_publish;
    c->drops = drops;
    ws_meter_init(&c->in);
    ws_meter_init(&c->out);
    return c;
}

void ws_conn_free(struct ws_conn *c)
{
    if (!c)
        return;
    if (c->ctx)
        wslay_event_context_free(c->ctx);
    free(c->extra);
    free(c);
}

int ws_conn_attach(struct ws_conn *c, int fd, struct MHD_UpgradeResponseHandle *urh,
                   const char *extra, size_t extra_len)
{
    c->fd = fd;
    c->urh = urh;
    c->last_write_ns = clock_mono_ns();
    request_account_upgrade(c->req, extra_len);
    request_count_open(c->req, +1);
    /* libmicrohttpd may have left the socket corked after the 101; frames go out as they
     * are written (header and payload together, MSG_MORE), never held back. */
    int off = 0, on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (extra_len > 0) {
        c->extra = malloc(extra_len);
        if (!c->extra)
            return -1;
        memcpy(c->extra, extra, extra_len);
        c->extra_len = extra_len;
    }
    c->last_read_ns = c->last_write_ns;
    return 0; /* the framing context is made when it is needed (see Memory) */
}

void ws_conn_release(struct ws_conn *c)
{
    struct request *req = c->req;
    ctx_free(c);
    if (c->urh) {
        request_account_bytes(req, c->clean);
        req->settled = true;
        request_count_open(req, -1);
        MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE); /* req is freed after this */
    }
    ws_conn_free(c);
}
