/* ws.c: GET /ws, WebSocket: one connection, upgraded from HTTP, that carries frames both
 * ways for as long as both ends like.
 *
 * The technique (RFC 6455): the client asks with an ordinary GET that carries Upgrade:
 * websocket, Connection: Upgrade, Sec-WebSocket-Version: 13 and a fresh
 * Sec-WebSocket-Key; the server answers 101 Switching Protocols with
 * Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (section 4.2.2), and from then on the
 * connection carries WebSocket frames, not HTTP. Here each update is one text frame
 * holding exactly the update's JSON (the text of SSE's data: line); ?since=N replays what
 * followed N (after a text frame {"reset":true,"since":N,"first":M} when some of it is
 * gone, as SSE's event: reset); without it, delivery starts at the next update. A client
 * may send text frames upstream: each is published as a POST /publish body is. No
 * subprotocol and no extension (permessage-deflate) is ever granted.
 *
 * Costs: one handshake per connection (a request head like any other, 156 bytes from the
 * client's minimal profile and 502 from a browser's, and a 101 of 166 bytes with its Date
 * field); per update the JSON plus a frame header of 2 bytes (payloads up to 125 bytes)
 * or 4 (up to 64 KiB), with nothing else around it; per message upstream the text plus
 * 6 or 8 bytes (the client masks: 4 bytes of key). A ping and its pong per heartbeat when
 * idle, 2 bytes each, which also tell the server its peer is alive: a peer that answers
 * no ping for two heartbeats is cut (SSE cannot tell a vanished reader from a quiet
 * one). Latency is one network transit either way. Where it fails: proxies that do not
 * forward the upgrade (or buffer its frames), and every open connection holds a socket.
 *
 * The handshake is checked here, in this order (RFC 6455 section 4.2.1; any failure is a
 * JSON error, and the connection stays HTTP):
 *
 *   HTTP/1.1 or later     else 400 (an upgrade needs HTTP/1.1)
 *   Upgrade: websocket    a token of the field's list, any case; else 426, with
 *                         Upgrade: websocket and Sec-WebSocket-Version: 13
 *   Connection: upgrade   a token of the list (Firefox sends "keep-alive, Upgrade"); else
 *                         400
 *   Sec-WebSocket-Version absent 400; other than 13 426, with Sec-WebSocket-Version: 13
 *   Sec-WebSocket-Key     exactly one, 16 bytes in base64; else 400
 *   GET                   HEAD gets the same answers up to here, then 400: it cannot be
 *                         upgraded
 *   no body               an upgrade request has none; else 400
 *   since                 a whole number, else 400 (as /poll's)
 *
 * Then the 101 goes out through libmicrohttpd's upgrade API (MHD_create_response_for_
 * upgrade; the daemon runs with MHD_ALLOW_UPGRADE), which calls ws_upgraded with the
 * socket once the 101 has left, and the connection is handed to the WebSocket thread
 * (ws_loop.c); ws_conn.c does the rest.
 */
#include "server.h"
#include "reply.h"
#include "route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ws_accept.h"
#include "ws_conn.h"
#include "ws_loop.h"

/* 1 when the comma-separated header value `list` holds `token` (any case, with optional
 * whitespace around each element: RFC 9110 section 5.6.1). */
static bool has_token(const char *list, const char *token)
{
    size_t want = strlen(token);
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        size_t len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == want && strncasecmp(p, token, want) == 0)
            return true;
        p = end;
    }
    return false;
}

/* Every value of header field `name`, for the fields that must come once. */
struct field_count {
    const char *name; /* the field */
    unsigned n;       /* how many times it came */
};

static enum MHD_Result count_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct field_count *fc = cls;
    (void)kind, (void)value;
    if (strcasecmp(key, fc->name) == 0)
        fc->n++;
    return MHD_YES;
}

/* libmicrohttpd has sent the 101 and hands the socket over: from here the WebSocket
 * thread owns the connection. Runs on a libmicrohttpd thread. */
static void ws_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls,
                        const char *extra_in, size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
    struct request *req = cls;
    (void)conn, (void)req_cls;
    struct ws_conn *c = req->state;
    req->state = NULL; /* the thread's now (ws_conn_release), not route->done's */
    if (ws_conn_attach(c, sock, urh, extra_in, extra_in_size) != 0 ||
        ws_loop_adopt(req->srv->ws, c) != 0) {
        ws_conn_cut(c, SW_FIELDS); /* out of memory, or the server is stopping */
        ws_conn_release(c);
    }
}

/* The handshake's checks (see the top), up to and including the key. Returns the key
 * when they pass, NULL when an error has been queued. */
static const char *handshake_check(struct request *req)
{
    struct MHD_Connection *mc = req->conn;
    const char *upgrade = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Upgrade");
    const char *connection = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Connection");
    const char *version =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Sec-WebSocket-Version");
    const char *key = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    struct field_count keys = {"Sec-WebSocket-Key", 0};
    MHD_get_connection_values(mc, MHD_HEADER_KIND, count_field, &keys);
    if (!req->chunked) { /* set for HTTP/1.1 only (server.c) */
        reply_error(req, 400,
                    "an upgrade to WebSocket needs HTTP/1.1 (RFC 6455 section 4.1)");
        return NULL;
    }
    if (!upgrade || !has_token(upgrade, "websocket")) {
        reply_error(
            req, 426,
            "Upgrade: expected websocket; GET /ws is a WebSocket (RFC 6455 section 4.1)");
        return NULL;
    }
    if (!connection || !has_token(connection, "upgrade")) {
        reply_error(req, 400,
                    "Connection: expected a list with upgrade (RFC 6455 section 4.1)");
        return NULL;
    }
    if (!version) {
        reply_error(req, 400, "Sec-WebSocket-Version: required, 13 (RFC 6455 section 4.1)");
        return NULL;
    }
    if (strcmp(version, "13") != 0) {
        char got[REPLY_QUOTE_SIZE];
        reply_quote(got, sizeof(got), version, strlen(version));
        reply_error(req, 426, "Sec-WebSocket-Version: only 13 is spoken, not \"%s\"", got);
        return NULL;
    }
    if (keys.n != 1 || !key || !ws_key_valid(key, strlen(key))) {
        char got[REPLY_QUOTE_SIZE];
        reply_quote(got, sizeof(got), key ? key : "", key ? strlen(key) : 0);
        reply_error(req, 400,
                    "Sec-WebSocket-Key: expected one, 16 bytes in base64, got %u (\"%s\")",
                    keys.n, got);
        return NULL;
    }
    if (req->head) {
        reply_error(req, 400,
                    "the opening handshake is a GET, not HEAD (RFC 6455 section 4.1)");
        return NULL;
    }
    if (req->upload_seen > 0 ||
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        reply_error(req, 400, "an upgrade request has no body");
        return NULL;
    }
    return key;
}

static enum MHD_Result ws_handle(struct request *req)
{
    struct server *srv = req->srv;
    const char *key = handshake_check(req);
    if (!key)
        return MHD_YES;
    uint64_t since = 0;
    int has_since =
        request_uint_value(req, MHD_GET_ARGUMENT_KIND, "since", UINT64_MAX, &since);
    if (has_since < 0)
        return MHD_YES;
    char accept[WS_ACCEPT_LEN + 1];
    if (ws_accept_for(key, strlen(key), accept) != 0)
        return reply_error(req, 500, "Sec-WebSocket-Accept: SHA-1 failed");
    feed_lock(srv->feed);
    bool closing = feed_closing_locked(srv->feed);
    uint64_t cursor = has_since ? since : feed_newest_locked(srv->feed);
    uint64_t drops = feed_drop_generation_locked(srv->feed);
    feed_unlock(srv->feed);
    if (closing)
        return reply_error(req, 503, "the server is shutting down");
    bool may_publish = srv->cfg.open_publish || request_from_loopback(req);
    struct ws_conn *c = ws_conn_new(req, cursor, may_publish, drops);
    if (!c)
        return MHD_NO;
    req->state = c;
    struct MHD_Response *r = MHD_create_response_for_upgrade(ws_upgraded, req);
    if (!r)
        return MHD_NO; /* ws_done frees c */
    /* libmicrohttpd adds Connection: Upgrade itself. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
    enum MHD_Result rc = reply_queue(req, 101, r);
    MHD_destroy_response(r);
    return rc;
}

/* The request is over: a connection never handed over (the 101 did not go out) is
 * freed here; one that was belongs to the WebSocket thread. */
static void ws_done(struct request *req)
{
    ws_conn_free(req->state);
    req->state = NULL;
}

const struct route ws_route = {
    .path = "/ws",
    .method = "GET",
    .kind = STATS_WS,
    .handle = ws_handle,
    .done = ws_done,
};
