/* ws_conn.c: one upgraded WebSocket connection (see ws_conn.h): updates rendered from
 * the feed with a bounded queue, heartbeat pings, the RFC's close path, and the
 * connection's life from attach to release. Its frames and bytes (wslay's callbacks,
 * the accounting, the message policy, wslay's context) are ws_conn_io.c's.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <wslay/wslay.h>

#include "clock.h"
#include "request.h"
#include "server.h"
#include "ws_conn_impl.h"
#include "ws_meter.h"

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
    if (ws_conn_ctx_make(c) != 0) {
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
    if (ws_conn_ctx_make(c) != 0) {
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
        ssize_t n =
            ws_conn_read(c, sink, sizeof(sink) < c->budget ? sizeof(sink) : c->budget);
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
    if (ws_conn_ctx_make(c) != 0) {
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
    if (c->ctx && now_ns >= ws_conn_ctx_due(c))
        ws_conn_ctx_idle(c, now_ns);
    if (hb <= 0)
        return;
    if (c->ping_ns != 0 && now_ns >= c->ping_ns + 2 * hb) {
        ws_conn_cut(c, SW_DEAD_PEERS);
    } else if (c->ping_ns == 0 && now_ns >= c->last_write_ns + hb) {
        struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
        if (ws_conn_ctx_make(c) != 0 || wslay_event_queue_msg(c->ctx, &ping) != 0) {
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
    int64_t due = c->ctx ? ws_conn_ctx_due(c) : INT64_MAX;
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
    return 0; /* the framing context is made when it is needed (ws_conn_io.c, Memory) */
}

void ws_conn_release(struct ws_conn *c)
{
    struct request *req = c->req;
    ws_conn_ctx_free(c);
    if (c->urh) {
        request_account_bytes(req, c->clean);
        req->settled = true;
        request_count_open(req, -1);
        MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE); /* req is freed after this */
    }
    ws_conn_free(c);
}
