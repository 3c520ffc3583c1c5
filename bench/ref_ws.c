/* ref_ws.c: the reference client's WebSocket transport (RFC 6455, client side).
 *
 * One GET with Upgrade: websocket and a fresh Sec-WebSocket-Key; the server must answer
 * 101 with the matching Sec-WebSocket-Accept, and from then on the connection carries
 * frames: one text message per update (nchan today; the lab server's /ws is to come).
 * Pings are answered with a pong carrying the same payload, and a close with a close
 * (both masked, as every client frame must be). What it costs: one handshake per
 * connection, then 2 to 4 bytes of frame header per update from the server; the
 * client's frames carry 4 mask bytes more.
 *
 * The key is a fresh 16-byte nonce from common/ws_accept (RAND_bytes); the masks come
 * from a splitmix64 seeded by the connection's number and the clock: an RFC client needs
 * unpredictable-enough masks, not secret ones.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ref_transport.h"
#include "rng.h"
#include "update_scan.h"
#include "ws_accept.h"
#include "ws_frame.h"

struct ws_state {
    struct ws_reader reader;
    struct rng rng;           /* masks */
    char key[WS_KEY_LEN + 1]; /* this handshake's Sec-WebSocket-Key */
    struct ref_conn *conn;    /* for the message callback */
};

static void found(void *ctx, const struct update_found *u)
{
    ref_conn_deliver(ctx, u);
}

static int ws_init(struct ref_conn *c)
{
    struct ws_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    ws_reader_init(&s->reader, 0);
    rng_seed(&s->rng,
             (uint64_t)clock_real_ns() ^ (c->index * UINT64_C(0x9E3779B97F4A7C15)));
    s->conn = c;
    c->state = s;
    return 0;
}

static void ws_fini(struct ref_conn *c)
{
    struct ws_state *s = c->state;
    if (s)
        ws_reader_free(&s->reader);
    free(s);
    c->state = NULL;
}

static void ws_reset(struct ref_conn *c)
{
    struct ws_state *s = c->state;
    ws_reader_free(&s->reader);
    ws_reader_init(&s->reader, 0);
    if (ws_key_new(s->key) != 0)
        s->key[0] = '\0'; /* no randomness: the handshake's answer will not match */
}

static int ws_request(struct ref_conn *c, struct dynbuf *out)
{
    struct ws_state *s = c->state;
    return dynbuf_addf(out,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\n%s\r\n",
                       ref_conn_target(c), ref_conn_host(c), s->key, ref_conn_headers(c));
}

static int ws_on_head(struct ref_conn *c, const struct http_resp *r)
{
    struct ws_state *s = c->state;
    char want[WS_ACCEPT_LEN + 1];
    if (r->status != 101 || !r->upgrade_websocket || !s->key[0] ||
        ws_accept_for(s->key, strlen(s->key), want) != 0)
        return -1;
    return strcmp(want, r->ws_accept) == 0 ? 0 : -1;
}

static int ws_on_body(struct ref_conn *c, const char *buf, size_t len)
{
    (void)c;
    (void)buf;
    (void)len;
    return -1; /* a 101 has no body */
}

static enum ref_next ws_on_done(struct ref_conn *c, const struct http_resp *r)
{
    (void)c;
    return r->status == 101 ? REF_NEXT_UPGRADE : REF_NEXT_CLOSE;
}

/* Send a control frame back (pong, close), masked. */
static int send_frame(struct ws_state *s, enum ws_opcode op, const char *data, size_t len)
{
    uint8_t mask[4];
    uint64_t r = rng_next(&s->rng);
    memcpy(mask, &r, 4);
    struct dynbuf f;
    dynbuf_init(&f, 256);
    int rc = ws_frame_append(&f, op, data, len, mask);
    if (rc == 0)
        rc = ref_conn_send(s->conn, f.mem, f.len);
    dynbuf_free(&f);
    return rc;
}

static int on_message(void *ctx, enum ws_opcode op, const char *data, size_t len)
{
    struct ws_state *s = ctx;
    if (op == WS_TEXT || op == WS_BINARY)
        update_scan(data, len, found, s->conn, NULL);
    else if (op == WS_PING)
        send_frame(s, WS_PONG, data, len);
    else if (op == WS_CLOSE) {
        send_frame(s, WS_CLOSE, data, len >= 2 ? 2 : 0); /* echo the code */
        return 1;
    }
    return 0;
}

static int ws_on_upgraded(struct ref_conn *c, const char *buf, size_t len)
{
    struct ws_state *s = c->state;
    enum ws_status st = ws_reader_feed(&s->reader, buf, len, on_message, s);
    return st == WS_ERROR ? -1 : st == WS_STOPPED ? 1 : 0;
}

const struct ref_transport ref_ws_transport = {
    .name = "ws",
    .summary = "WebSocket (RFC 6455): one update per text message",
    .ready_at_head = 1,
    .init = ws_init,
    .fini = ws_fini,
    .reset = ws_reset,
    .request = ws_request,
    .on_head = ws_on_head,
    .on_body = ws_on_body,
    .on_done = ws_on_done,
    .on_upgraded = ws_on_upgraded,
};
