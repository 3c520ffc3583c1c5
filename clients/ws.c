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
 * 7.88 has no WebSocket. ws_conn.c runs it: the handshake request written by hand from
 * the user's header profile (headers_write_request, REQUEST_WEBSOCKET) with a fresh
 * Sec-WebSocket-Key, the answer read by ws_handshake.c and refused unless it is a 101
 * with the right Sec-WebSocket-Accept (ws_accept.c), Upgrade and Connection and no
 * extension or subprotocol, frames by wslay in client mode (masks from RAND_bytes, pongs,
 * the RFC's close codes: 1002 for a protocol error, 1007 for invalid UTF-8 in a text
 * frame, 1009 for a message past --max-body), and every byte counted where it crosses
 * the socket and held against the kernel's count (bytes_check). This file is the
 * technique's policy: what to ask for, what each message means, what each end counts as,
 * when to connect again, and the user's messages upstream (upstream.h), which go as text
 * frames on the same connection; due while it is down, they wait for it to open again.
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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "foreign.h"
#include "loop.h"
#include "transport.h"
#include "update_json.h"
#include "user.h"
#include "ws_conn.h"

#define WS_BACKOFF_MAX_NS (30 * NS_PER_S)

struct ws_state {
    struct ws_conn conn;          /* the connection (ws_conn.h) */
    int64_t retry_at;             /* no connection: open one at this time (monotonic) */
    int64_t backoff_ns;           /* the wait after the next failure */
    struct update_reader *reader; /* a text message read as an update (owned) */
    bool have_since;              /* an update has been received */
    uint64_t since;               /* the last seq received: ?since= on reconnection */
    unsigned fresh;               /* updates new to the user on this connection */
    unsigned bad;                 /* messages that were not the contract's */
    struct dynbuf msg;            /* an upstream message being queued */
};

/* The user's next timer: a retry, the connection's deadline, a message, or nothing. */
static void arm_timer(struct user *u)
{
    struct ws_state *s = u->tp;
    int64_t due = 0;
    if (u->stopped)
        due = 0;
    else if (s->conn.phase == WS_IDLE)
        due = s->retry_at;
    else if (s->conn.phase == WS_OPEN)
        due = u->sends ? upstream_due(&u->up) : 0;
    else
        due = ws_conn_due(&s->conn);
    if (due > 0)
        loop_timer_set(u->env->loop, u->slot, due);
    else
        loop_timer_clear(u->env->loop, u->slot);
}

/* Queue every message due by now as a text frame (upstream.h: messages that came due
 * while the connection was down go out now, stamped with when they were due). */
static void send_due_messages(struct user *u)
{
    struct ws_state *s = u->tp;
    int64_t now = clock_mono_ns();
    while (u->sends && upstream_due(&u->up) <= now && ws_conn_can_send(&s->conn)) {
        dynbuf_reset(&s->msg);
        if (upstream_compose(&u->up, &s->msg) != 0 ||
            ws_conn_send_text(&s->conn, s->msg.mem, s->msg.len) != 0)
            return;
    }
}

/* Is text a reset frame, {"reset":true,...}? */
static bool is_reset(const uint8_t *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    bool yes = cJSON_IsObject(root) && cJSON_IsTrue(cJSON_GetObjectItem(root, "reset"));
    cJSON_Delete(root);
    return yes;
}

/* ---- the connection's hooks --------------------------------------------------------- */

static void ws_on_open(struct user *u)
{
    struct ws_state *s = u->tp;
    s->fresh = 0;
    s->bad = 0;
    user_note_up(u);
    send_due_messages(u);
}

/* A message: an update, a reset, or something that is not the contract's. */
static void ws_on_message(struct user *u, bool text, const uint8_t *msg, size_t len)
{
    struct ws_state *s = u->tp;
    size_t n;
    if (text) {
        update_reader_begin(s->reader, UPDATE_SHAPE_ONE);
        if (update_reader_feed(s->reader, (const char *)msg, len) == UPDATE_READ_OK &&
            update_reader_finish(s->reader) == UPDATE_READ_OK) {
            struct update up = update_reader_updates(s->reader, &n)[0];
            if (up.seq > 0) {
                s->fresh += (unsigned)user_deliver_update(u, &up);
                s->since = up.seq;
                s->have_since = true;
                return;
            }
        }
        if (is_reset(msg, len)) {
            user_note_reset(u);
            return;
        }
        int by_order = by_order_deliver(u); /* no stamp: by order, when publishing */
        if (by_order >= 0) {
            s->fresh += (unsigned)by_order;
            return;
        }
    }
    s->bad++;
    counters_add(u->ctr, CTR_WS_MESSAGES_INVALID, 1, u->ctr->measuring);
}

/* The outcome of a connection that opened. */
static enum outcome open_outcome(const struct ws_state *s, enum ws_end how)
{
    if (how == WS_END_FAILED && s->conn.code_sent == WSLAY_CODE_MESSAGE_TOO_BIG)
        return OUTCOME_ERR_TOO_BIG;
    if (how == WS_END_FAILED || s->bad > 0)
        return OUTCOME_ERR_PARSE;
    return s->fresh > 0 ? OUTCOME_NEWS : OUTCOME_EMPTY;
}

/* The one place a connection's end is counted and what follows decided. */
static void ws_on_end(struct user *u, enum ws_end how, bool opened)
{
    struct ws_state *s = u->tp;
    const struct ws_conn *c = &s->conn;
    bool stop = false;
    switch (how) {
    case WS_END_CONNECT:
    case WS_END_TIMEOUT:
    case WS_END_MALFORMED:
        user_count_failure(u, how == WS_END_CONNECT   ? CTR_ERR_CONNECT
                              : how == WS_END_TIMEOUT ? CTR_ERR_TIMEOUT
                                                      : CTR_ERR_PARSE);
        user_note_down(u, false);
        break;
    case WS_END_STATUS:
        user_count_failure(u, CTR_ERR_STATUS);
        if (c->hs.status >= 500)
            user_note_down(u, true);
        stop = c->hs.status < 500;
        break;
    case WS_END_REFUSED:
        user_count_failure(u, CTR_ERR_STATUS);
        counters_add(u->ctr, CTR_WS_HANDSHAKES_REFUSED, 1, u->ctr->measuring);
        stop = true;
        break;
    case WS_END_CUT:
    case WS_END_CLOSED:
    case WS_END_FAILED:
        if (opened)
            user_count_outcome(u, open_outcome(s, how));
        else
            user_count_failure(u, CTR_ERR_IO); /* cut before any answer */
        stop = how == WS_END_CLOSED && c->close_code == WSLAY_CODE_GOING_AWAY;
        if (!stop)
            user_note_down(u, false);
        break;
    }
    if (stop) {
        u->stopped = true;
    } else {
        if (opened)
            s->backoff_ns = u->env->cfg->ws_backoff_ns;
        s->retry_at = clock_mono_ns() + s->backoff_ns;
        s->backoff_ns =
            2 * s->backoff_ns < WS_BACKOFF_MAX_NS ? 2 * s->backoff_ns : WS_BACKOFF_MAX_NS;
    }
    arm_timer(u);
}

static const struct ws_conn_hooks hooks = {
    .on_open = ws_on_open, .on_message = ws_on_message, .on_end = ws_on_end};

/* ---- the transport's table ---------------------------------------------------------- */

/* Open a connection, resuming after the last update received. */
static void ws_connect(struct user *u)
{
    struct ws_state *s = u->tp;
    char target[320];
    if (foreign_on(u->env->cfg)) /* no cursor: foreign.h */
        snprintf(target, sizeof(target), "%s%s", user_target(u)->base_path,
                 foreign_target(u, "/ws"));
    else if (s->have_since)
        snprintf(target, sizeof(target), "%s/ws?since=%" PRIu64, user_target(u)->base_path,
                 s->since);
    else
        snprintf(target, sizeof(target), "%s/ws", user_target(u)->base_path);
    if (ws_conn_start(&s->conn, target) != 0)
        u->stopped = true; /* no randomness or no memory: this user gives up, visibly */
}

static void ws_on_io(struct user *u, uint32_t events)
{
    struct ws_state *s = u->tp;
    ws_conn_io(&s->conn, events);
    arm_timer(u);
}

static void ws_on_timer(struct user *u)
{
    struct ws_state *s = u->tp;
    if (u->stopped || u->shutting_down)
        return;
    int64_t now = clock_mono_ns();
    if (s->conn.phase == WS_IDLE) {
        if (now >= s->retry_at)
            ws_connect(u);
    } else if (s->conn.phase == WS_OPEN) {
        send_due_messages(u);
    } else if (ws_conn_due(&s->conn) > 0 && now >= ws_conn_due(&s->conn)) {
        ws_conn_expire(&s->conn);
    }
    arm_timer(u);
}

static void ws_shutdown(struct user *u)
{
    struct ws_state *s = u->tp;
    if (ws_conn_shutdown(&s->conn))
        user_count_aborted(u);
}

static int ws_init(struct user *u)
{
    struct ws_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    u->tp = s;
    s->backoff_ns = u->env->cfg->ws_backoff_ns;
    dynbuf_init(&s->msg, UPSTREAM_MAX_BYTES);
    s->reader = update_reader_new((size_t)u->env->cfg->max_body_bytes);
    if (ws_conn_init(&s->conn, u, &hooks) != 0 || !s->reader)
        return -1;
    return 0;
}

static void ws_cleanup(struct user *u)
{
    struct ws_state *s = u->tp;
    ws_conn_free(&s->conn);
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
    .by_order = BY_ORDER_FIRST_CONNECTION,
    .carries_messages = true,
    .ref_head_bytes = ws_ref_head_bytes,
    .init = ws_init,
    .cleanup = ws_cleanup,
    .first_start = ws_first_start,
    .on_timer = ws_on_timer,
    .on_io = ws_on_io,
    .shutdown = ws_shutdown,
};
