/* ws.c: WebSocket: one upgraded connection per user; the server pushes a text frame per
 * update, and the page may send its own messages up the same connection.
 *
 * The technique: the page opens `new WebSocket("ws://host/ws?since=N")`; an HTTP/1.1
 * GET with Upgrade: websocket is answered 101 Switching Protocols (RFC 6455 section 4),
 * and from then on the connection carries frames both ways: here one text frame per
 * update with the update's JSON (what SSE puts in data:), a frame {"reset":true,...} when
 * updates after N are gone (as SSE's event: reset), pings from the server after
 * --heartbeat of silence, which the client must answer with pongs, and close frames.
 *
 * What it costs: the handshake once per connection (request and response heads, as an
 * SSE request), then 2 bytes of frame header per update up to 125 bytes of payload, 4 up
 * to 64 KiB (10 beyond): the leanest framing of the four approaches. Each frame a client
 * sends carries 4 more bytes of masking key. A heartbeat costs a ping down and a masked
 * pong up. Where it fails: an intermediary that does not know Upgrade (an old proxy)
 * refuses or breaks it; nothing resumes by itself: the page must reconnect and say where
 * it was (here ?since=); the server holds one connection per user, as for SSE.
 *
 * The connection is a non-blocking socket in the client's epoll loop (loop_watch): libcurl
 * 7.88 has no WebSocket. The handshake request is written by hand from the user's header
 * profile (headers_write_request, REQUEST_WEBSOCKET) with a fresh Sec-WebSocket-Key; the
 * answer is read by ws_handshake.c and refused unless it is a 101 with the right
 * Sec-WebSocket-Accept (ws_accept.c), Upgrade and Connection, and no extension or
 * subprotocol. Frames are wslay's (client mode: it masks what it sends with keys from
 * RAND_bytes, checks what it receives, answers pings, and fails the connection with the
 * RFC's close codes: 1002 for a protocol error, 1007 for invalid UTF-8 in a text frame,
 * 1009 for a message past --max-body). Frames that arrive with the 101 are kept and given
 * to wslay first.
 *
 * True bytes: every byte crosses one read site (conn_read) and one write site
 * (conn_write), and is counted there before anything else happens to it: handshake bytes
 * by phase, frame bytes by ws_meter (common/ws_meter.h) as header, masking key or payload
 * of a data frame, or as part of a ping, pong or close frame. At close the kernel's count
 * of the socket is read (user_socket_close), and the two must agree (bytes_check).
 *
 * Reconnecting: a connection refused, cut (no close frame), failed by either side, or
 * answered 5xx is tried again after --ws-backoff (default 1 s), doubling after each
 * attempt that fails, up to 30 s; a connection that opened resets the wait. Browsers
 * have no automatic WebSocket reconnection; this is what pages and libraries commonly do
 * (exponential backoff, no jitter here so the models can predict the outage). The new
 * connection asks for ?since=<the last seq received>, and the server replays what
 * followed (after a reset frame if some of it is gone); missed updates, duplicates,
 * latency and staleness are counted as for SSE (freshness.h), and outages as for every
 * technique (user.h: the 101 ends one).
 *
 * Close codes from the server: 1001 (going away) is what the lab's server sends when it
 * is stopped for good, as it sends SSE's event: end, so the user stops, as SSE's users
 * do; a deployment that restarts servers behind 1001 would rather have clients
 * reconnect, and a page written for it would. Any other close is taken as a cut: the
 * user reconnects. An answer other than 101 stops the user when it is a 4xx (the request
 * is wrong; retrying would loop, as EventSource stops on a bad status), and so does a 101
 * that fails the checks (ws_handshakes_refused): a browser fails such a connection.
 *
 * Closing: after a close frame either way the client waits up to 1 s for the server to
 * close the TCP connection (RFC 6455 section 7.1.1: the server closes first). At the end
 * of the run an open connection sends close 1001, as a tab that is closed does, and is
 * counted as aborted, as an open SSE stream is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "clock.h"
#include "loop.h"
#include "transport.h"
#include "update_json.h"
#include "user.h"
#include "ws_accept.h"
#include "ws_handshake.h"
#include "ws_meter.h"

#define WS_BACKOFF_MAX_NS (30 * NS_PER_S)
#define WS_CLOSE_WAIT_NS  NS_PER_S
#define WS_READ_CHUNK     16384
#define WS_REQ_MAX        (64 * 1024)

enum ws_phase {
    WS_IDLE,       /* no socket: waiting to connect (retry_at), or stopped */
    WS_CONNECTING, /* TCP connect in progress */
    WS_HANDSHAKE,  /* the request is being written, the 101 read */
    WS_OPEN,       /* frames */
    WS_CLOSING     /* close frames exchanged or sent: waiting for the server's FIN */
};

/* How a connection ended. */
enum ws_end {
    END_CONNECT,   /* refused, unreachable, connect timeout: errors_connect */
    END_TIMEOUT,   /* no answer within --open-timeout: errors_timeout */
    END_CUT,       /* closed, reset or failed I/O without a close frame */
    END_STATUS,    /* an HTTP answer other than 101: errors_status */
    END_REFUSED,   /* a 101 that failed the checks: errors_status, ws_handshakes_refused */
    END_MALFORMED, /* no HTTP answer at all: errors_parse */
    END_CLOSED,    /* the server sent a close frame (close_code) */
    END_FAILED     /* the client failed the connection (wslay's close code) */
};

struct ws_state {
    enum ws_phase phase;          /* where this user's connection is */
    int fd;                       /* the socket, -1 when none */
    uint32_t watching;            /* epoll interest now; 0 = not in the set */
    int64_t deadline;             /* connect, handshake or closing limit; 0 = none */
    int64_t retry_at;             /* WS_IDLE: connect at this time (monotonic) */
    int64_t backoff_ns;           /* the wait after the next failure */
    struct sockaddr_storage addr; /* the server */
    socklen_t addrlen;            /* its length */
    /* the handshake */
    struct dynbuf req;              /* the request head (owned) */
    size_t req_sent;                /* bytes of it written */
    char accept[WS_ACCEPT_LEN + 1]; /* the answer our key calls for */
    struct ws_handshake hs;         /* the answer as read */
    enum ws_hs_verdict verdict;     /* its verdict once complete */
    /* frames */
    wslay_event_context_ptr ctx; /* wslay, while open or closing (owned) */
    struct dynbuf early;         /* frame bytes read with the 101, not yet given to wslay */
    size_t early_off;            /* bytes of early given */
    struct ws_meter down, up;    /* this connection's frame bytes, by kind and part */
    bool eof;                    /* the server closed the TCP connection */
    int io_errno;                /* a failed read or write; 0 = none */
    bool close_seen;             /* a close frame came from the server */
    uint16_t close_code;         /* its status code (0 when it had none) */
    enum ws_end closing_end;     /* WS_CLOSING: how the connection will be counted */
    /* the feed */
    struct update_reader *reader; /* a text frame read as an update (owned) */
    bool have_since;              /* an update has been received */
    uint64_t since;               /* the last seq received: ?since= on reconnection */
    unsigned fresh;               /* updates new to the user on this connection */
    unsigned bad;                 /* messages that were not the contract's */
    struct dynbuf msg;            /* an upstream message being queued */
};

static void ws_pump(struct user *u, uint32_t events);

/* ---- byte accounting: the single read site and the single write site ----------------- */

/* Add the frame bytes the meter filed since `before` to the counters of one direction. */
static void account_frames(struct user *u, const struct ws_meter *before,
                           const struct ws_meter *after, bool down)
{
    static const enum counter part_ctr[2][WS_PARTS] = {
        {CTR_WS_HEADER_BYTES_UP, CTR_WS_MASK_BYTES_UP, CTR_WS_PAYLOAD_BYTES_UP},
        {CTR_WS_HEADER_BYTES_DOWN, CTR_WS_MASK_BYTES_DOWN, CTR_WS_PAYLOAD_BYTES_DOWN}};
    bool w = u->ctr->measuring;
    for (int p = 0; p < WS_PARTS; p++)
        counters_add(u->ctr, part_ctr[down][p],
                     after->bytes[WS_KIND_DATA][p] - before->bytes[WS_KIND_DATA][p], w);
    uint64_t pp = ws_meter_kind_bytes(after, WS_KIND_PING) +
                  ws_meter_kind_bytes(after, WS_KIND_PONG) -
                  ws_meter_kind_bytes(before, WS_KIND_PING) -
                  ws_meter_kind_bytes(before, WS_KIND_PONG);
    uint64_t cl = ws_meter_kind_bytes(after, WS_KIND_CLOSE) -
                  ws_meter_kind_bytes(before, WS_KIND_CLOSE);
    counters_add(u->ctr, down ? CTR_WS_PINGPONG_BYTES_DOWN : CTR_WS_PINGPONG_BYTES_UP, pp,
                 w);
    counters_add(u->ctr, down ? CTR_WS_CLOSE_BYTES_DOWN : CTR_WS_CLOSE_BYTES_UP, cl, w);
    if (down) {
        counters_add(u->ctr, CTR_WS_DATA_FRAMES_DOWN,
                     after->frames[WS_KIND_DATA] - before->frames[WS_KIND_DATA], w);
        counters_add(u->ctr, CTR_WS_PINGS_DOWN,
                     after->frames[WS_KIND_PING] - before->frames[WS_KIND_PING], w);
    } else {
        counters_add(u->ctr, CTR_WS_PONGS_UP,
                     after->frames[WS_KIND_PONG] - before->frames[WS_KIND_PONG], w);
    }
}

/* Frame bytes read or written: through the meter, into the counters. */
static void meter_frames(struct user *u, const uint8_t *buf, size_t n, bool down)
{
    struct ws_state *s = u->tp;
    struct ws_meter *m = down ? &s->down : &s->up;
    struct ws_meter before = *m;
    ws_meter_feed(m, buf, n);
    account_frames(u, &before, m, down);
}

/* Bytes just read. While the handshake's answer is incomplete they go to its parser and
 * count as handshake bytes; once it is complete, the rest are frames (kept for wslay)
 * when the answer was accepted, and more handshake bytes when it was not. */
static void account_down(struct user *u, const uint8_t *buf, size_t n)
{
    struct ws_state *s = u->tp;
    bool w = u->ctr->measuring;
    if (s->phase != WS_HANDSHAKE) {
        meter_frames(u, buf, n, true);
        return;
    }
    size_t used = n;
    if (s->hs.st == WS_HS_MORE) {
        ws_handshake_feed(&s->hs, (const char *)buf, n, &used);
        if (s->hs.st != WS_HS_MORE)
            s->verdict = ws_handshake_verdict(&s->hs, s->accept);
    }
    if (s->hs.st != WS_HS_DONE || s->verdict != WS_HS_OK)
        used = n; /* an answer refused: everything read was its */
    counters_add(u->ctr, CTR_WS_HANDSHAKE_RESP_BYTES, used, w);
    if (used < n) {
        meter_frames(u, buf + used, n - used, true);
        if (dynbuf_add(&s->early, buf + used, n - used) != 0)
            s->io_errno = ENOMEM;
    }
}

/* The single read site. */
static ssize_t conn_read(struct user *u, uint8_t *buf, size_t cap)
{
    struct ws_state *s = u->tp;
    ssize_t n = recv(s->fd, buf, cap, 0);
    if (n > 0)
        account_down(u, buf, (size_t)n);
    return n;
}

/* The single write site: handshake bytes before the 101, frames after. */
static ssize_t conn_write(struct user *u, const uint8_t *buf, size_t len)
{
    struct ws_state *s = u->tp;
    ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0)
        return n;
    if (s->phase == WS_HANDSHAKE)
        counters_add(u->ctr, CTR_WS_HANDSHAKE_REQ_BYTES, (uint64_t)n, u->ctr->measuring);
    else
        meter_frames(u, buf, (size_t)n, false);
    return n;
}

static bool would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* ---- wslay's callbacks -------------------------------------------------------------- */

static ssize_t wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *ud)
{
    struct user *u = ud;
    struct ws_state *s = u->tp;
    (void)flags;
    if (s->early_off < s->early.len) {
        size_t n = s->early.len - s->early_off < len ? s->early.len - s->early_off : len;
        memcpy(buf, s->early.mem + s->early_off, n);
        s->early_off += n;
        if (s->early_off == s->early.len) {
            dynbuf_free(&s->early);
            s->early_off = 0;
        }
        return (ssize_t)n;
    }
    ssize_t n = conn_read(u, buf, len);
    if (n > 0)
        return n;
    if (n == 0)
        s->eof = true;
    else if (would_block(errno)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    } else
        s->io_errno = errno;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                          int flags, void *ud)
{
    struct user *u = ud;
    struct ws_state *s = u->tp;
    (void)flags;
    ssize_t n = conn_write(u, data, len);
    if (n >= 0)
        return n;
    if (would_block(errno)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    s->io_errno = errno;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

/* Masking keys: RFC 6455 section 5.3 wants them unpredictable. */
static int wslay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* Is text a reset frame, {"reset":true,...}? */
static bool is_reset(const uint8_t *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    bool yes = cJSON_IsObject(root) && cJSON_IsTrue(cJSON_GetObjectItem(root, "reset"));
    cJSON_Delete(root);
    return yes;
}

/* A text message: an update, a reset, or something that is not the contract's. */
static void ws_on_text(struct user *u, const uint8_t *text, size_t len)
{
    struct ws_state *s = u->tp;
    size_t n;
    update_reader_begin(s->reader, UPDATE_SHAPE_ONE);
    if (update_reader_feed(s->reader, (const char *)text, len) == UPDATE_READ_OK &&
        update_reader_finish(s->reader) == UPDATE_READ_OK) {
        struct update up = update_reader_updates(s->reader, &n)[0];
        if (up.seq > 0) {
            s->fresh += (unsigned)user_deliver_update(u, &up);
            s->since = up.seq;
            s->have_since = true;
            return;
        }
    }
    if (is_reset(text, len)) {
        user_note_reset(u);
        return;
    }
    s->bad++;
    counters_add(u->ctr, CTR_WS_MESSAGES_INVALID, 1, u->ctr->measuring);
}

static void wslay_on_msg(wslay_event_context_ptr ctx,
                         const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    struct user *u = ud;
    struct ws_state *s = u->tp;
    (void)ctx;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        ws_on_text(u, arg->msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        s->bad++;
        counters_add(u->ctr, CTR_WS_MESSAGES_INVALID, 1, u->ctr->measuring);
        break;
    case WSLAY_CONNECTION_CLOSE:
        s->close_seen = true;
        s->close_code = arg->status_code;
        break;
    default:
        break; /* pings are answered by wslay itself; pongs need nothing */
    }
}

/* ---- the connection's life ---------------------------------------------------------- */

/* Watch the socket for exactly `events`. */
static int set_interest(struct user *u, uint32_t events)
{
    struct ws_state *s = u->tp;
    char err[160];
    if (s->watching == events)
        return 0;
    if (loop_watch(u->env->loop, u->id, s->fd, events, s->watching == 0, err,
                   sizeof(err)) != 0)
        return -1;
    s->watching = events;
    return 0;
}

/* The user's next timer: a retry, a deadline, or nothing. */
static void arm_timer(struct user *u)
{
    struct ws_state *s = u->tp;
    int64_t due = 0;
    if (s->phase == WS_IDLE && !u->stopped)
        due = s->retry_at;
    else if (s->phase != WS_OPEN)
        due = s->deadline;
    else if (u->sends)
        due = upstream_due(&u->up);
    if (due > 0)
        loop_timer_set(u->env->loop, u->id, due);
    else
        loop_timer_clear(u->env->loop, u->id);
}

/* Release the connection: the socket (the kernel's count read first), wslay, buffers. */
static void release(struct user *u)
{
    struct ws_state *s = u->tp;
    if (s->fd >= 0) {
        if (s->watching)
            loop_unwatch(u->env->loop, s->fd);
        user_socket_close(u, s->fd);
    }
    s->fd = -1;
    s->watching = 0;
    if (s->ctx)
        wslay_event_context_free(s->ctx);
    s->ctx = NULL;
    dynbuf_free(&s->req);
    dynbuf_free(&s->early);
    s->early_off = 0;
    s->phase = WS_IDLE;
    s->deadline = 0;
}

/* The outcome of a connection that opened. */
static enum outcome open_outcome(const struct ws_state *s, enum ws_end how)
{
    if (how == END_FAILED && s->ctx &&
        wslay_event_get_status_code_sent(s->ctx) == WSLAY_CODE_MESSAGE_TOO_BIG)
        return OUTCOME_ERR_TOO_BIG;
    if (how == END_FAILED || s->bad > 0)
        return OUTCOME_ERR_PARSE;
    return s->fresh > 0 ? OUTCOME_NEWS : OUTCOME_EMPTY;
}

/* The one place a connection ends: count it, release it, decide what follows. */
static void ws_end(struct user *u, enum ws_end how)
{
    struct ws_state *s = u->tp;
    const struct client_config *cfg = u->env->cfg;
    bool opened = s->phase == WS_OPEN || s->phase == WS_CLOSING;
    bool stop = false;
    switch (how) {
    case END_CONNECT:
    case END_TIMEOUT:
    case END_MALFORMED:
        user_count_failure(u, how == END_CONNECT   ? CTR_ERR_CONNECT
                              : how == END_TIMEOUT ? CTR_ERR_TIMEOUT
                                                   : CTR_ERR_PARSE);
        user_note_down(u, false);
        break;
    case END_STATUS:
        user_count_failure(u, CTR_ERR_STATUS);
        if (s->hs.status >= 500)
            user_note_down(u, true);
        stop = s->hs.status < 500;
        break;
    case END_REFUSED:
        user_count_failure(u, CTR_ERR_STATUS);
        counters_add(u->ctr, CTR_WS_HANDSHAKES_REFUSED, 1, u->ctr->measuring);
        stop = true;
        break;
    case END_CUT:
    case END_CLOSED:
    case END_FAILED:
        if (opened)
            user_count_outcome(u, open_outcome(s, how));
        else
            user_count_failure(u, CTR_ERR_IO); /* cut before any answer */
        stop = how == END_CLOSED && s->close_code == WSLAY_CODE_GOING_AWAY;
        if (!stop)
            user_note_down(u, false);
        break;
    }
    release(u);
    if (stop) {
        u->stopped = true;
    } else {
        if (opened)
            s->backoff_ns = cfg->ws_backoff_ns;
        s->retry_at = clock_mono_ns() + s->backoff_ns;
        s->backoff_ns =
            2 * s->backoff_ns < WS_BACKOFF_MAX_NS ? 2 * s->backoff_ns : WS_BACKOFF_MAX_NS;
    }
    arm_timer(u);
}

/* Start a connection: the request, the socket, a non-blocking connect. */
static void ws_connect(struct user *u)
{
    struct ws_state *s = u->tp;
    const struct user_env *env = u->env;
    char key[WS_KEY_LEN + 1], key_line[64], target[320];
    user_count_request(u);
    s->fresh = 0;
    s->bad = 0;
    s->eof = false;
    s->io_errno = 0;
    s->close_seen = false;
    s->close_code = 0;
    s->req_sent = 0;
    ws_handshake_init(&s->hs);
    s->verdict = WS_HS_MALFORMED;
    ws_meter_init(&s->down);
    ws_meter_init(&s->up);
    dynbuf_init(&s->req, WS_REQ_MAX);
    dynbuf_init(&s->early, (size_t)env->cfg->max_body_bytes + WS_READ_CHUNK);
    if (s->have_since)
        snprintf(target, sizeof(target), "%s/ws?since=%" PRIu64, env->base_path, s->since);
    else
        snprintf(target, sizeof(target), "%s/ws", env->base_path);
    const char *extra[] = {HEADERS_WS_UPGRADE, HEADERS_WS_CONNECTION, HEADERS_WS_VERSION,
                           key_line, NULL};
    if (ws_key_new(key) != 0 || ws_accept_for(key, WS_KEY_LEN, s->accept) != 0 ||
        snprintf(key_line, sizeof(key_line), "Sec-WebSocket-Key: %s", key) < 0 ||
        headers_write_request(env->headers, REQUEST_WEBSOCKET, target, env->host_line,
                              extra, 0, &s->req) != 0) {
        u->stopped = true; /* no randomness or no memory: this user gives up, visibly */
        arm_timer(u);
        return;
    }
    s->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        ws_end(u, END_CONNECT);
        return;
    }
    user_socket_opened(u);
    int one = 1;
    (void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->phase = WS_CONNECTING;
    s->deadline = clock_mono_ns() + env->cfg->connect_timeout_ns;
    if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) != 0 &&
        errno != EINPROGRESS) {
        ws_end(u, END_CONNECT);
        return;
    }
    if (set_interest(u, EPOLLOUT) != 0) {
        ws_end(u, END_CONNECT);
        return;
    }
    arm_timer(u);
}

/* Write what is left of the request; then wait for the answer. */
static void write_request(struct user *u)
{
    struct ws_state *s = u->tp;
    while (s->req_sent < s->req.len) {
        ssize_t n = conn_write(u, (const uint8_t *)s->req.mem + s->req_sent,
                               s->req.len - s->req_sent);
        if (n > 0) {
            s->req_sent += (size_t)n;
            continue;
        }
        if (n < 0 && would_block(errno)) {
            if (set_interest(u, EPOLLIN | EPOLLOUT) != 0)
                ws_end(u, END_CUT);
            return;
        }
        ws_end(u, END_CUT);
        return;
    }
    if (set_interest(u, EPOLLIN) != 0)
        ws_end(u, END_CUT);
}

/* The connect finished (EPOLLOUT or an error). */
static void on_connected(struct user *u)
{
    struct ws_state *s = u->tp;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        ws_end(u, END_CONNECT);
        return;
    }
    int64_t open_timeout = u->env->cfg->open_timeout_ns;
    s->phase = WS_HANDSHAKE;
    s->deadline = open_timeout > 0 ? clock_mono_ns() + open_timeout : 0;
    arm_timer(u);
    write_request(u);
}

/* Queue every message due by now as a text frame (upstream.h: messages that came due
 * while the connection was down go out now, stamped with when they were due). */
static void queue_due_messages(struct user *u)
{
    struct ws_state *s = u->tp;
    int64_t now = clock_mono_ns();
    while (u->sends && upstream_due(&u->up) <= now && !wslay_event_get_close_sent(s->ctx)) {
        dynbuf_reset(&s->msg);
        if (upstream_compose(&u->up, &s->msg) != 0)
            return;
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)s->msg.mem,
                                    s->msg.len};
        if (wslay_event_queue_msg(s->ctx, &m) != 0) /* copied by wslay */
            return;
    }
}

/* The answer is read and accepted: frames from now on. */
static void ws_open(struct user *u)
{
    struct ws_state *s = u->tp;
    struct wslay_event_callbacks cb = {wslay_recv, wslay_send, wslay_genmask, NULL,
                                       NULL,       NULL,       wslay_on_msg};
    if (wslay_event_context_client_init(&s->ctx, &cb, u) != 0) {
        s->ctx = NULL;
        ws_end(u, END_CUT);
        return;
    }
    wslay_event_config_set_max_recv_msg_length(s->ctx, u->env->cfg->max_body_bytes);
    s->phase = WS_OPEN;
    s->deadline = 0;
    user_note_up(u);
    arm_timer(u);
    queue_due_messages(u);
    ws_pump(u, EPOLLIN);
}

/* Read the handshake's answer as far as it has come. */
static void read_answer(struct user *u)
{
    struct ws_state *s = u->tp;
    uint8_t buf[WS_READ_CHUNK];
    while (s->hs.st == WS_HS_MORE) {
        ssize_t n = conn_read(u, buf, sizeof(buf));
        if (n > 0)
            continue;
        if (n < 0 && would_block(errno))
            return;
        ws_end(u, END_CUT); /* closed or reset before a whole answer */
        return;
    }
    if (s->hs.st == WS_HS_ERROR)
        ws_end(u, END_MALFORMED);
    else if (s->verdict == WS_HS_STATUS)
        ws_end(u, END_STATUS);
    else if (s->verdict != WS_HS_OK)
        ws_end(u, END_REFUSED);
    else if (s->io_errno)
        ws_end(u, END_CUT);
    else
        ws_open(u);
}

/* Closing: read what still comes (the server's close frame, through wslay while it
 * reads; anything else raw) until the server's FIN. */
static void drain_closing(struct user *u)
{
    struct ws_state *s = u->tp;
    if (wslay_event_want_read(s->ctx)) {
        (void)wslay_event_recv(s->ctx);
    } else {
        uint8_t buf[WS_READ_CHUNK];
        ssize_t n;
        while ((n = conn_read(u, buf, sizeof(buf))) > 0)
            ;
        if (n == 0)
            s->eof = true;
        else if (!would_block(errno))
            s->io_errno = errno;
    }
    if (s->eof || s->io_errno)
        ws_end(u, s->closing_end);
}

/* An open connection: let wslay read and write, then see where it stands. */
static void ws_pump(struct user *u, uint32_t events)
{
    struct ws_state *s = u->tp;
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || s->early.len > s->early_off)
        (void)wslay_event_recv(s->ctx);
    if (!s->eof && !s->io_errno && wslay_event_want_write(s->ctx))
        (void)wslay_event_send(s->ctx);
    bool sent = wslay_event_get_close_sent(s->ctx);
    if (s->eof || s->io_errno) {
        ws_end(u, s->close_seen ? END_CLOSED : sent ? END_FAILED : END_CUT);
        return;
    }
    if (sent && !wslay_event_want_write(s->ctx)) {
        /* our close frame is out: the answer to the server's, or our own failure */
        s->closing_end = s->close_seen ? END_CLOSED : END_FAILED;
        s->phase = WS_CLOSING;
        s->deadline = clock_mono_ns() + WS_CLOSE_WAIT_NS;
        arm_timer(u);
        if (set_interest(u, EPOLLIN) != 0)
            ws_end(u, s->closing_end);
        return;
    }
    uint32_t want = EPOLLIN | (wslay_event_want_write(s->ctx) ? EPOLLOUT : 0);
    if (set_interest(u, want) != 0)
        ws_end(u, END_CUT);
}

/* ---- the transport's table ---------------------------------------------------------- */

static void ws_on_io(struct user *u, uint32_t events)
{
    struct ws_state *s = u->tp;
    switch (s->phase) {
    case WS_CONNECTING:
        on_connected(u);
        break;
    case WS_HANDSHAKE:
        if (s->req_sent < s->req.len && (events & EPOLLOUT))
            write_request(u);
        if (s->phase == WS_HANDSHAKE && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            read_answer(u);
        break;
    case WS_OPEN:
        ws_pump(u, events);
        break;
    case WS_CLOSING:
        drain_closing(u);
        break;
    case WS_IDLE:
        break;
    }
}

static void ws_on_timer(struct user *u)
{
    struct ws_state *s = u->tp;
    if (u->stopped || u->shutting_down)
        return;
    int64_t now = clock_mono_ns();
    switch (s->phase) {
    case WS_IDLE:
        if (now >= s->retry_at)
            ws_connect(u);
        else
            arm_timer(u);
        return;
    case WS_CONNECTING:
    case WS_HANDSHAKE:
    case WS_CLOSING:
        if (s->deadline > 0 && now >= s->deadline)
            ws_end(u, s->phase == WS_CONNECTING  ? END_CONNECT
                      : s->phase == WS_HANDSHAKE ? END_TIMEOUT
                                                 : s->closing_end);
        else
            arm_timer(u);
        return;
    case WS_OPEN:
        queue_due_messages(u);
        ws_pump(u, 0);
        if (s->phase == WS_OPEN)
            arm_timer(u);
        return;
    }
}

static void ws_shutdown(struct user *u)
{
    struct ws_state *s = u->tp;
    if (s->phase == WS_IDLE)
        return;
    if (s->phase == WS_OPEN && !wslay_event_get_close_sent(s->ctx)) {
        /* a tab being closed says goodbye: best effort, not waited for */
        (void)wslay_event_queue_close(s->ctx, WSLAY_CODE_GOING_AWAY, NULL, 0);
        (void)wslay_event_send(s->ctx);
    }
    if (s->phase != WS_CLOSING)
        user_count_aborted(u);
    release(u);
}

/* The server's address, from the run's numeric one ("127.0.0.1" or "[::1]"). */
static int parse_address(struct ws_state *s, const char *address, unsigned port)
{
    char bare[64];
    snprintf(bare, sizeof(bare), "%s", address[0] == '[' ? address + 1 : address);
    char *close = strchr(bare, ']');
    if (close)
        *close = '\0';
    memset(&s->addr, 0, sizeof(s->addr));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&s->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->addr;
    if (inet_pton(AF_INET, bare, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        s->addrlen = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, bare, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        s->addrlen = sizeof(*a6);
        return 0;
    }
    return -1;
}

static int ws_init(struct user *u)
{
    struct ws_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    u->tp = s;
    s->fd = -1;
    s->phase = WS_IDLE;
    s->backoff_ns = u->env->cfg->ws_backoff_ns;
    dynbuf_init(&s->req, WS_REQ_MAX);
    dynbuf_init(&s->early, WS_READ_CHUNK);
    dynbuf_init(&s->msg, UPSTREAM_MAX_BYTES);
    s->reader = update_reader_new((size_t)u->env->cfg->max_body_bytes);
    if (!s->reader || parse_address(s, u->env->address, u->env->port) != 0)
        return -1;
    return 0;
}

static void ws_cleanup(struct user *u)
{
    struct ws_state *s = u->tp;
    if (s->fd >= 0 || s->ctx)
        release(u);
    dynbuf_free(&s->req);
    dynbuf_free(&s->early);
    dynbuf_free(&s->msg);
    update_reader_free(s->reader);
    free(s);
    u->tp = NULL;
}

static int64_t ws_first_start(const struct client_config *cfg, struct rng *r)
{
    return (int64_t)(rng_uniform(r) * (double)(cfg->warmup_ns / 2));
}

static size_t ws_ref_head_bytes(const struct header_profile *p, const char *host_line)
{
    const char *extra[] = {HEADERS_WS_UPGRADE, HEADERS_WS_CONNECTION, HEADERS_WS_VERSION,
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", NULL};
    return headers_wire_bytes(p, REQUEST_WEBSOCKET, "/ws", host_line, extra, 0);
}

const struct transport_ops transport_ws = {
    .name = "ws",
    .kind = REQUEST_WEBSOCKET,
    .carries_messages = true,
    .ref_head_bytes = ws_ref_head_bytes,
    .init = ws_init,
    .cleanup = ws_cleanup,
    .first_start = ws_first_start,
    .on_timer = ws_on_timer,
    .on_io = ws_on_io,
    .shutdown = ws_shutdown,
};
