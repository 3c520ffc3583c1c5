/* reply.c: the small vocabulary transports answer with: a JSON body, a JSON error, a
 * file's bytes, a number read from the query or a header, whether the peer is local.
 *
 * An error names what was wrong and quotes what the client sent, so the quote is made
 * safe first (reply_quote): whole UTF-8 characters only, at most 40 of them, any other
 * byte replaced, so an error body is valid JSON whatever arrived.
 *
 * Status and body bytes are counted here, at the one place every buffered response
 * passes through (streams count their own body bytes as they produce them, in sse.c).
 * Every response says Cache-Control: no-cache, so no cache between client and server
 * can answer in our place and distort the count of requests that reach us.
 */
#include "reply.h"

#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "route.h"
#include "server.h"

/* Whether the answer must close the connection: the peer has half-closed. */
static bool needs_close(struct request *req)
{
    /* A client that sent its request and shut its side at once (a half-close) must see
     * the connection closed after the answer. libmicrohttpd 0.9.75 would keep it in
     * CLOSE-WAIT until a timeout: its recv adapter (recv_param_adapter in connection.c)
     * clears the socket's read-ready flag after a short read, and with edge-triggered
     * epoll the FIN that came with the request brings no further event, so the end of
     * the stream is never read. Its FIN is in by now, so the TCP state tells. */
    return request_peer_done(req);
}

/* Queue r as it is, and count its status. */
static enum MHD_Result queue_as_is(struct request *req, unsigned status,
                                   struct MHD_Response *r)
{
    req->answered = true;
    request_count_status(req, status);
    return MHD_queue_response(req->conn, status, r);
}

/* Count len bytes of a buffered body (none for HEAD: libmicrohttpd sends none). */
static void count_body(struct request *req, size_t len)
{
    size_t sent = req->head ? 0 : len;
    req->body_bytes += sent;
    request_count(req, SF_RESP_BODY_BYTES, sent);
}

enum MHD_Result reply_queue(struct request *req, unsigned status, struct MHD_Response *r)
{
    if (!MHD_get_response_header(r, MHD_HTTP_HEADER_CONNECTION) && needs_close(req))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue_as_is(req, status, r);
}

enum MHD_Result reply_shared(struct request *req, unsigned status, struct MHD_Response *r,
                             size_t len)
{
    req->close_if_peer_done = true; /* request_end asks needs_close's question */
    count_body(req, len);
    return queue_as_is(req, status, r);
}

/* The response of a 304, which has no body and (RFC 9110 section 8.6) may carry a
 * Content-Length only equal to the 200's. libmicrohttpd adds one from the response's own
 * size, "Content-Length: 0", to a 304 (it sends no body there) unless the response is
 * marked head-only, a flag that libmicrohttpd 0.9.75 (Debian 12's) lacks: with it the
 * header is added whatever we do (a header of our own, with MHD_RF_INSANITY_HEADER_
 * CONTENT_LENGTH, is sent beside it). Giving the 304 the 200's size instead is what the
 * RFC allows but not what every client reads: wrk 4.1 (its http_parser) then waits for
 * that many body bytes after the 304 and reads the next answer as its body. */
static struct MHD_Response *create_bodiless(void)
{
#if MHD_VERSION >= 0x00097701
    return MHD_create_response_empty(MHD_RF_HEAD_ONLY_RESPONSE);
#else
    return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
#endif
}

/* A buffered response with its Content-Type and Cache-Control, or NULL. The body is
 * copied (MHD_RESPMEM_MUST_COPY) or adopted, to be freed with the response
 * (MHD_RESPMEM_MUST_FREE; still the caller's when NULL is returned). */
static struct MHD_Response *build(const char *body, size_t len,
                                  enum MHD_ResponseMemoryMode mode,
                                  const char *content_type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r)
        return NULL;
    if (content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return r;
}

/* build() with a copied body and the extra header pairs of ap (name, value, ..., NULL). */
static struct MHD_Response *build_v(const char *body, size_t len, const char *content_type,
                                    va_list ap)
{
    struct MHD_Response *r = build(body, len, MHD_RESPMEM_MUST_COPY, content_type);
    const char *name;
    while (r && (name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        MHD_add_response_header(r, name, value);
    }
    return r;
}

struct MHD_Response *reply_json_build(const char *body, size_t len, ...)
{
    va_list ap;
    va_start(ap, len);
    struct MHD_Response *r = build_v(body, len, "application/json", ap);
    va_end(ap);
    return r;
}

struct MHD_Response *reply_json_adopt(char *body, size_t len)
{
    struct MHD_Response *r = build(body, len, MHD_RESPMEM_MUST_FREE, "application/json");
    if (!r)
        free(body);
    return r;
}

struct MHD_Response *reply_not_modified_build(const char *etag)
{
    struct MHD_Response *r = create_bodiless();
    if (!r)
        return NULL;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    return r;
}

/* Queue a buffered response with the given extra header pairs (va_list of name, value,
 * ..., NULL). */
static enum MHD_Result reply_buffer(struct request *req, unsigned status, const char *body,
                                    size_t len, const char *content_type, va_list ap)
{
    struct MHD_Response *r = build_v(body, len, content_type, ap);
    if (!r)
        return MHD_NO;
    count_body(req, len);
    enum MHD_Result rc = reply_queue(req, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* reply_buffer with the extra headers as variadic pairs: name, value, ..., NULL. */
static enum MHD_Result reply_typed(struct request *req, unsigned status,
                                   const char *content_type, const char *body, size_t len,
                                   ...)
{
    va_list ap;
    va_start(ap, len);
    enum MHD_Result rc = reply_buffer(req, status, body, len, content_type, ap);
    va_end(ap);
    return rc;
}

enum MHD_Result reply_json(struct request *req, unsigned status, const char *body,
                           size_t len, ...)
{
    va_list ap;
    va_start(ap, len);
    enum MHD_Result rc =
        reply_buffer(req, status, body, len, body ? "application/json" : NULL, ap);
    va_end(ap);
    return rc;
}

enum MHD_Result reply_bytes(struct request *req, unsigned status, const char *content_type,
                            const char *body, size_t len)
{
    return reply_typed(req, status, content_type, body, len, NULL);
}

/* The length of the UTF-8 character at p (at most left bytes), or 0 when the bytes there
 * are not a whole, well-formed character (RFC 3629), or are a NUL. */
static size_t utf8_char_len(const unsigned char *p, size_t left)
{
    size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : 4;
    return n <= left && jsonw_valid_utf8((const char *)p, n) ? n : 0;
}

size_t reply_quote(char *out, size_t cap, const char *v, size_t len)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    const unsigned char *p = (const unsigned char *)v;
    size_t o = 0, chars = 0;
    for (size_t i = 0; i < len;) {
        if (chars == REPLY_QUOTE_CHARS || cap - o < 8) {
            o += (size_t)snprintf(out + o, cap - o, "...");
            break;
        }
        size_t n = utf8_char_len(p + i, len - i);
        if (n > 0) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else if (p[i] == 0) {
            o += (size_t)snprintf(out + o, cap - o, "\\0");
            i++;
        } else {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
        }
        chars++;
    }
    out[o] = '\0';
    return o;
}

/* Queue {"error":msg}: msg is made valid UTF-8 first (a byte that begins no whole
 * character becomes U+FFFD, so vsnprintf's cut of a long message cannot leave half a
 * character), and jsonw_string escapes the rest, so the body is always valid JSON. */
static enum MHD_Result reply_error_v(struct request *req, unsigned status, bool close,
                                     const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char clean[3 * sizeof(msg)];
    size_t o = 0, len = strlen(msg);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len((const unsigned char *)msg + i, len - i);
        if (n > 0) {
            memcpy(clean + o, msg + i, n);
            o += n;
            i += n;
        } else {
            memcpy(clean + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    struct dynbuf b;
    dynbuf_init(&b, 4096);
    if (dynbuf_adds(&b, "{\"error\":") != 0 || jsonw_string(&b, clean, o) != 0 ||
        dynbuf_adds(&b, "}") != 0)
        return MHD_NO;
    enum MHD_Result rc;
    if (status == 405)
        rc = reply_typed(
            req, status, "application/json", b.mem, b.len, MHD_HTTP_HEADER_ALLOW,
            strcmp(req->route->method, "GET") == 0 ? "GET, HEAD" : req->route->method,
            NULL);
    else if (status == 426) /* the WebSocket endpoint's (ws.c): what it does speak */
        rc = reply_typed(req, status, "application/json", b.mem, b.len,
                         MHD_HTTP_HEADER_UPGRADE, "websocket", "Sec-WebSocket-Version",
                         "13", NULL);
    else if (close || status == 503)
        rc = reply_typed(req, status, "application/json", b.mem, b.len,
                         MHD_HTTP_HEADER_CONNECTION, "close", NULL);
    else
        rc = reply_typed(req, status, "application/json", b.mem, b.len, NULL);
    dynbuf_free(&b);
    return rc;
}

enum MHD_Result reply_error(struct request *req, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = reply_error_v(req, status, false, fmt, ap);
    va_end(ap);
    return rc;
}

enum MHD_Result reply_error_close(struct request *req, unsigned status, const char *fmt,
                                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = reply_error_v(req, status, true, fmt, ap);
    va_end(ap);
    return rc;
}

bool request_from_loopback(struct request *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        uint32_t only = req->srv->cfg.local_peer;
        if (only != 0)
            return in->sin_addr.s_addr == only;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

int request_uint_parse(struct request *req, enum MHD_ValueKind kind, const char *name,
                       uint64_t max, uint64_t *out)
{
    const char *v = NULL;
    size_t len = 0;
    if (MHD_lookup_connection_value_n(req->conn, kind, name, strlen(name), &v, &len) !=
            MHD_YES ||
        !v)
        return 0;
    uint64_t n = 0;
    bool ok = len > 0;
    for (size_t i = 0; ok && i < len; i++) {
        unsigned d = (unsigned)(v[i] - '0');
        if (!isdigit((unsigned char)v[i]) || n > (UINT64_MAX - d) / 10)
            ok = false;
        else
            n = n * 10 + d;
    }
    if (!ok || n > max)
        return -1;
    *out = n;
    return 1;
}

int request_uint_value(struct request *req, enum MHD_ValueKind kind, const char *name,
                       uint64_t max, uint64_t *out)
{
    int rc = request_uint_parse(req, kind, name, max, out);
    if (rc >= 0)
        return rc;
    const char *v = NULL;
    size_t len = 0;
    MHD_lookup_connection_value_n(req->conn, kind, name, strlen(name), &v, &len);
    char got[REPLY_QUOTE_SIZE];
    reply_quote(got, sizeof(got), v ? v : "", v ? len : 0);
    reply_error(req, 400, "%s: expected a whole number from 0 to %llu, got \"%s\"", name,
                (unsigned long long)max, got);
    return -1;
}
