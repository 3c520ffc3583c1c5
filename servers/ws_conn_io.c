/* ws_conn_io.c: a server WebSocket connection's bytes and frames (see ws_conn.h,
 * ws_conn_impl.h): wslay's two callbacks over the one read and the one write site, every
 * byte counted where it crosses the socket, the message policy, and wslay's context,
 * kept only while the connection is busy. What to send, when, and how the connection
 * ends are ws_conn.c's.
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
 * Bytes. The recv callback is the one read site (ws_conn_read: first the bytes
 * libmicrohttpd read past the handshake, then the socket) and the send callback the one
 * write site (conn_write); each feeds what crossed to a frame meter (common/ws_meter.h)
 * and counts the difference at once, so /stats is live while the connection is open:
 * payload of data frames sent is resp_body_bytes, every other byte sent framing_bytes,
 * every byte read req_body_bytes, and the split by part and kind in the frames counters.
 * At release the counts are held against the kernel's (request_account_bytes), so a
 * byte nobody counted shows in unaccounted_bytes.
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
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <wslay/wslay.h>

#include "clock.h"
#include "jsonw.h"
#include "request.h"
#include "server.h"
#include "ws_conn_impl.h"
#include "ws_meter.h"

/* ---- counting: the one read site and the one write site ------------------------ */

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
ssize_t ws_conn_read(struct ws_conn *c, uint8_t *buf, size_t len)
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
    ssize_t n = ws_conn_read(c, buf, len < c->budget ? len : c->budget);
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
int ws_conn_ctx_make(struct ws_conn *c)
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
void ws_conn_ctx_free(struct ws_conn *c)
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

/* When the context may be freed next, if the connection stays quiescent. */
int64_t ws_conn_ctx_due(const struct ws_conn *c)
{
    int64_t last = c->last_write_ns > c->last_read_ns ? c->last_write_ns : c->last_read_ns;
    int64_t due = last + WS_CTX_IDLE_NS;
    return due > c->ctx_check_ns ? due : c->ctx_check_ns;
}

/* Its time has come: free the context if nothing is half done, else look again later. */
void ws_conn_ctx_idle(struct ws_conn *c, int64_t now_ns)
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
    ws_conn_ctx_free(c);
}
