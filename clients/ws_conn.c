/* ws_conn.c: one WebSocket connection, its phases and its bytes (ws_conn.h). */
#include "ws_conn.h"
#include "ws_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <openssl/rand.h>

#include "clock.h"
#include "headers.h"
#include "loop.h"
#include "user.h"

#define WS_CLOSE_WAIT_NS NS_PER_S
#define WS_READ_CHUNK    16384
#define WS_REQ_MAX       (64 * 1024)

static void pump(struct ws_conn *c, uint32_t events);
static void start_handshake(struct ws_conn *c);
static void tls_step(struct ws_conn *c);

/* ---- the single read site and the single write site --------------------------------- */

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
static void meter_frames(struct ws_conn *c, const uint8_t *buf, size_t n, bool down)
{
    struct ws_meter *m = down ? &c->down : &c->up;
    struct ws_meter before = *m;
    ws_meter_feed(m, buf, n);
    account_frames(c->u, &before, m, down);
}

/* Bytes just read. While the handshake's answer is incomplete they go to its parser and
 * count as handshake bytes; once it is complete, the rest are frames (kept for wslay)
 * when the answer was accepted, and more handshake bytes when it was not. */
static void account_down(struct ws_conn *c, const uint8_t *buf, size_t n)
{
    struct user *u = c->u;
    if (c->phase != WS_HANDSHAKE) {
        meter_frames(c, buf, n, true);
        return;
    }
    size_t used = n;
    if (c->hs.st == WS_HS_MORE) {
        ws_handshake_feed(&c->hs, (const char *)buf, n, &used);
        if (c->hs.st != WS_HS_MORE)
            c->verdict = ws_handshake_verdict(&c->hs, c->accept);
    }
    if (c->hs.st != WS_HS_DONE || c->verdict != WS_HS_OK)
        used = n; /* an answer refused: everything read was its */
    counters_add(u->ctr, CTR_WS_HANDSHAKE_RESP_BYTES, used, u->ctr->measuring);
    if (used < n) {
        meter_frames(c, buf + used, n - used, true);
        if (dynbuf_add(&c->early, buf + used, n - used) != 0)
            c->io_errno = ENOMEM;
    }
}

/* The single read site. */
static ssize_t conn_read(struct ws_conn *c, uint8_t *buf, size_t cap)
{
    ssize_t n =
        c->tls ? ws_tls_read(c->tls, buf, cap, &c->tls_want) : recv(c->fd, buf, cap, 0);
    if (n > 0) {
        user_note_read(c->u); /* the updates in these bytes are received now */
        account_down(c, buf, (size_t)n);
    } else if (n == 0 || errno == EPIPE)
        c->fin_seen = true;
    return n;
}

/* The single write site: handshake bytes before the 101, frames after. `more`: wslay has
 * the rest of the frame to send next (it writes a header and its payload apart), so the
 * kernel holds these bytes for it (MSG_MORE) and the frame leaves in one segment. */
static ssize_t conn_write(struct ws_conn *c, const uint8_t *buf, size_t len, bool more)
{
    ssize_t n = c->tls ? ws_tls_write(c->tls, buf, len, &c->tls_want)
                       : send(c->fd, buf, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (n <= 0)
        return n;
    if (c->phase == WS_HANDSHAKE)
        counters_add(c->u->ctr, CTR_WS_HANDSHAKE_REQ_BYTES, (uint64_t)n,
                     c->u->ctr->measuring);
    else
        meter_frames(c, buf, (size_t)n, false);
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
    struct ws_conn *c = ud;
    (void)flags;
    if (c->early_off < c->early.len) {
        size_t n = c->early.len - c->early_off < len ? c->early.len - c->early_off : len;
        memcpy(buf, c->early.mem + c->early_off, n);
        c->early_off += n;
        if (c->early_off == c->early.len) {
            dynbuf_free(&c->early);
            c->early_off = 0;
        }
        return (ssize_t)n;
    }
    ssize_t n = conn_read(c, buf, len);
    if (n > 0)
        return n;
    if (n == 0) {
        c->eof = true;
    } else if (would_block(errno)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    } else {
        c->io_errno = errno;
    }
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                          int flags, void *ud)
{
    struct ws_conn *c = ud;
    ssize_t n = conn_write(c, data, len, (flags & WSLAY_MSG_MORE) != 0);
    if (n >= 0)
        return n;
    if (would_block(errno)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    c->io_errno = errno;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int wslay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void wslay_on_msg(wslay_event_context_ptr ctx,
                         const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    struct ws_conn *c = ud;
    (void)ctx;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
        c->hooks->on_message(c->u, arg->opcode == WSLAY_TEXT_FRAME, arg->msg,
                             arg->msg_length);
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        c->close_seen = true;
        c->close_code = arg->status_code;
    }
    /* pings are answered by wslay itself; pongs need nothing */
}

/* ---- the phases --------------------------------------------------------------------- */

/* Watch the socket for exactly `events`. */
static int set_interest(struct ws_conn *c, uint32_t events)
{
    return loop_interest(c->u->env->loop, c->u->slot, c->fd, &c->watching, events);
}

/* Release the socket (its kernel account read first), wslay and the buffers. */
static void release(struct ws_conn *c)
{
    if (c->fd >= 0) {
        if (c->watching)
            loop_unwatch(c->u->env->loop, c->fd);
        ws_tls_close(c->tls); /* close_notify first: the kernel's account holds it */
        c->tls = NULL;
        user_socket_close(c->u, c->fd, c->fin_seen);
    }
    c->fd = -1;
    c->fin_seen = false;
    c->watching = 0;
    if (c->ctx)
        wslay_event_context_free(c->ctx);
    c->ctx = NULL;
    dynbuf_free(&c->req);
    dynbuf_free(&c->early);
    c->early_off = 0;
    c->phase = WS_IDLE;
    c->deadline = 0;
}

/* The one place a connection ends: the socket released, then the hook. */
static void end(struct ws_conn *c, enum ws_end how)
{
    bool opened = c->phase == WS_OPEN || c->phase == WS_CLOSING;
    if (c->ctx && wslay_event_get_close_sent(c->ctx))
        c->code_sent = wslay_event_get_status_code_sent(c->ctx);
    release(c);
    c->hooks->on_end(c->u, how, opened);
}

int ws_conn_start(struct ws_conn *c, const char *target)
{
    struct user *u = c->u;
    const struct user_env *env = u->env;
    char key[WS_KEY_LEN + 1], key_line[64];
    const char *extra[] = {HEADERS_WS_UPGRADE, HEADERS_WS_CONNECTION, HEADERS_WS_VERSION,
                           key_line, NULL};
    c->req_sent = 0;
    c->eof = false;
    c->io_errno = 0;
    c->close_seen = false;
    c->close_code = 0;
    c->code_sent = 0;
    ws_handshake_init(&c->hs);
    c->verdict = WS_HS_MALFORMED;
    ws_meter_init(&c->down);
    ws_meter_init(&c->up);
    dynbuf_init(&c->req, WS_REQ_MAX);
    dynbuf_init(&c->early, (size_t)env->cfg->max_body_bytes + WS_READ_CHUNK);
    if (ws_key_new(key) != 0 || ws_accept_for(key, WS_KEY_LEN, c->accept) != 0 ||
        snprintf(key_line, sizeof(key_line), "Sec-WebSocket-Key: %s", key) < 0 ||
        headers_write_request(env->headers, REQUEST_WEBSOCKET, target,
                              user_target(u)->host_line, extra, 0, &c->req) != 0)
        return -1;
    user_count_request(u);
    if (user_server_addr(u, &c->addr, &c->addrlen) != 0) { /* its target now */
        end(c, WS_END_CONNECT);
        return 0;
    }
    c->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        end(c, WS_END_CONNECT);
        return 0;
    }
    user_socket_opened(u, c->fd);
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->phase = WS_CONNECTING;
    c->deadline = clock_mono_ns() + env->cfg->connect_timeout_ns;
    if ((connect(c->fd, (struct sockaddr *)&c->addr, c->addrlen) != 0 &&
         errno != EINPROGRESS) ||
        set_interest(c, EPOLLOUT) != 0)
        end(c, WS_END_CONNECT);
    return 0;
}

/* Write what is left of the request; then wait for the answer. */
static void write_request(struct ws_conn *c)
{
    while (c->req_sent < c->req.len) {
        ssize_t n = conn_write(c, (const uint8_t *)c->req.mem + c->req_sent,
                               c->req.len - c->req_sent, false);
        if (n > 0) {
            c->req_sent += (size_t)n;
            continue;
        }
        if (n < 0 && would_block(errno)) {
            if (set_interest(c, EPOLLIN | EPOLLOUT) != 0)
                end(c, WS_END_CUT);
            return;
        }
        end(c, WS_END_CUT);
        return;
    }
    if (set_interest(c, EPOLLIN) != 0)
        end(c, WS_END_CUT);
}

/* The connect finished (EPOLLOUT or an error). */
static void on_connected(struct ws_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        end(c, WS_END_CONNECT);
        return;
    }
    if (cli_protocol_tls(c->u->env->cfg->protocol)) {
        c->tls = ws_tls_new(c->fd, c->u->pin_host);
        if (!c->tls) {
            end(c, WS_END_CONNECT);
            return;
        }
        c->phase = WS_TLS; /* still within --connect-timeout's deadline */
        c->tls_start = clock_mono_ns();
        tls_step(c);
        return;
    }
    user_count_setup(c->u, c->fd, 0);
    start_handshake(c);
}

/* The connection is up (and TLS done): the opening handshake, within --open-timeout. */
static void start_handshake(struct ws_conn *c)
{
    int64_t open_timeout = c->u->env->cfg->open_timeout_ns;
    c->phase = WS_HANDSHAKE;
    c->deadline = open_timeout > 0 ? clock_mono_ns() + open_timeout : 0;
    write_request(c);
}

/* TLS's handshake, as far as the socket lets it go. A failure (a certificate the client
 * does not trust, a reset) ends the connection as a connect error, as a browser reports
 * a wss:// it could not reach. */
static void tls_step(struct ws_conn *c)
{
    uint32_t want = 0;
    int rc = ws_tls_handshake(c->tls, &want);
    if (rc < 0) {
        end(c, WS_END_CONNECT);
    } else if (rc == 0) {
        if (set_interest(c, want) != 0)
            end(c, WS_END_CONNECT);
    } else {
        user_count_setup(c->u, c->fd, (uint64_t)(clock_mono_ns() - c->tls_start) / 1000);
        start_handshake(c);
    }
}

/* The answer is read and accepted: frames from now on. */
static void open_frames(struct ws_conn *c)
{
    struct wslay_event_callbacks cb = {wslay_recv, wslay_send, wslay_genmask, NULL,
                                       NULL,       NULL,       wslay_on_msg};
    if (wslay_event_context_client_init(&c->ctx, &cb, c) != 0) {
        c->ctx = NULL;
        end(c, WS_END_CUT);
        return;
    }
    wslay_event_config_set_max_recv_msg_length(c->ctx, c->u->env->cfg->max_body_bytes);
    c->phase = WS_OPEN;
    c->deadline = 0;
    c->hooks->on_open(c->u);
    if (c->phase == WS_OPEN)
        pump(c, EPOLLIN);
}

/* Read the handshake's answer as far as it has come. */
static void read_answer(struct ws_conn *c)
{
    uint8_t buf[WS_READ_CHUNK];
    while (c->hs.st == WS_HS_MORE) {
        ssize_t n = conn_read(c, buf, sizeof(buf));
        if (n > 0)
            continue;
        if (n < 0 && would_block(errno))
            return;
        end(c, WS_END_CUT); /* closed or reset before a whole answer */
        return;
    }
    if (c->hs.st == WS_HS_ERROR)
        end(c, WS_END_MALFORMED);
    else if (c->verdict == WS_HS_STATUS)
        end(c, WS_END_STATUS);
    else if (c->verdict != WS_HS_OK)
        end(c, WS_END_REFUSED);
    else if (c->io_errno)
        end(c, WS_END_CUT);
    else
        open_frames(c);
}

/* Closing: read what still comes (the server's close frame, through wslay while it
 * reads; anything else raw) until the server's FIN. */
static void drain_closing(struct ws_conn *c)
{
    if (wslay_event_want_read(c->ctx)) {
        (void)wslay_event_recv(c->ctx);
    } else {
        uint8_t buf[WS_READ_CHUNK];
        ssize_t n;
        while ((n = conn_read(c, buf, sizeof(buf))) > 0)
            ;
        if (n == 0)
            c->eof = true;
        else if (!would_block(errno))
            c->io_errno = errno;
    }
    if (c->eof || c->io_errno)
        end(c, c->closing_end);
}

/* An open connection: let wslay read and write, then see where it stands. */
static void pump(struct ws_conn *c, uint32_t events)
{
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || c->early.len > c->early_off)
        (void)wslay_event_recv(c->ctx);
    if (!c->eof && !c->io_errno && wslay_event_want_write(c->ctx))
        (void)wslay_event_send(c->ctx);
    bool sent = wslay_event_get_close_sent(c->ctx);
    if (c->eof || c->io_errno) {
        end(c, c->close_seen ? WS_END_CLOSED : sent ? WS_END_FAILED : WS_END_CUT);
        return;
    }
    if (sent && !wslay_event_want_write(c->ctx)) {
        /* our close frame is out: the answer to the server's, or our own failure */
        c->closing_end = c->close_seen ? WS_END_CLOSED : WS_END_FAILED;
        c->phase = WS_CLOSING;
        c->deadline = clock_mono_ns() + WS_CLOSE_WAIT_NS;
        if (set_interest(c, EPOLLIN) != 0)
            end(c, c->closing_end);
        return;
    }
    uint32_t want = EPOLLIN | (wslay_event_want_write(c->ctx) ? EPOLLOUT : 0);
    if (set_interest(c, want) != 0)
        end(c, WS_END_CUT);
}

void ws_conn_io(struct ws_conn *c, uint32_t events)
{
    switch (c->phase) {
    case WS_CONNECTING:
        on_connected(c);
        break;
    case WS_TLS:
        tls_step(c);
        break;
    case WS_HANDSHAKE:
        if (c->req_sent < c->req.len && (events & EPOLLOUT))
            write_request(c);
        if (c->phase == WS_HANDSHAKE && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            read_answer(c);
        break;
    case WS_OPEN:
        pump(c, events);
        break;
    case WS_CLOSING:
        drain_closing(c);
        break;
    case WS_IDLE:
        break;
    }
}

int64_t ws_conn_due(const struct ws_conn *c)
{
    return c->phase == WS_IDLE || c->phase == WS_OPEN ? 0 : c->deadline;
}

void ws_conn_expire(struct ws_conn *c)
{
    switch (c->phase) {
    case WS_CONNECTING:
    case WS_TLS:
        end(c, WS_END_CONNECT);
        break;
    case WS_HANDSHAKE:
        end(c, WS_END_TIMEOUT);
        break;
    case WS_CLOSING:
        end(c, c->closing_end);
        break;
    case WS_IDLE:
    case WS_OPEN:
        break;
    }
}

bool ws_conn_can_send(const struct ws_conn *c)
{
    return c->phase == WS_OPEN && !wslay_event_get_close_sent(c->ctx);
}

int ws_conn_send_text(struct ws_conn *c, const char *msg, size_t len)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)msg, len};
    if (!ws_conn_can_send(c) || wslay_event_queue_msg(c->ctx, &m) != 0)
        return -1;
    pump(c, 0);
    return 0;
}

bool ws_conn_shutdown(struct ws_conn *c)
{
    bool was_open = c->phase != WS_IDLE && c->phase != WS_CLOSING;
    if (c->phase == WS_OPEN && !wslay_event_get_close_sent(c->ctx)) {
        (void)wslay_event_queue_close(c->ctx, WSLAY_CODE_GOING_AWAY, NULL, 0);
        (void)wslay_event_send(c->ctx);
    }
    if (c->phase != WS_IDLE)
        release(c);
    return was_open;
}

int ws_conn_init(struct ws_conn *c, struct user *u, const struct ws_conn_hooks *hooks)
{
    memset(c, 0, sizeof(*c));
    c->u = u;
    c->hooks = hooks;
    c->fd = -1;
    c->phase = WS_IDLE;
    dynbuf_init(&c->req, WS_REQ_MAX);
    dynbuf_init(&c->early, WS_READ_CHUNK);
    return user_server_addr(u, &c->addr, &c->addrlen);
}

void ws_conn_free(struct ws_conn *c)
{
    if (c->phase != WS_IDLE)
        release(c);
    dynbuf_free(&c->req);
    dynbuf_free(&c->early);
}
