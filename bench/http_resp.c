/* http_resp.c: incremental HTTP/1.1 response parsing (see http_resp.h for the contract).
 *
 * Wire rules, after RFC 9112 (HTTP/1.1) sections 2 to 7:
 *
 *  1. The status line is "HTTP/1.x" SP three digits, then SP and a reason (which may be
 *     empty or missing). Any other status line is an error.
 *  2. A line ends at LF; one CR before it is dropped (RFC 9112 section 2.2 lets a
 *     recipient accept a bare LF). A header line is name ":" OWS value OWS; a name holds
 *     no blank, and a line starting with a blank (obsolete line folding) is an error.
 *  3. Header names are compared without regard to case. Only these are kept:
 *     Content-Length (digits only; two different values are an error), Transfer-Encoding
 *     (chunked must be the final coding for a chunked body), Connection (tokens close and
 *     keep-alive), ETag, Last-Modified, Sec-WebSocket-Accept (values kept as sent, up to
 *     the field's size; longer is an error), Upgrade (the token websocket). Every other
 *     line is skipped unread, however long.
 *  4. The head (all lines and the blank line) is at most HTTP_RESP_MAX_HEAD bytes.
 *  5. A 1xx other than 101 is an interim response: it is skipped and the next status
 *     line read (on_head is not called for it).
 *  6. The body (section 6.3): none for 1xx, 204 and 304; chunked when Transfer-Encoding
 *     ends in chunked; until the close when Transfer-Encoding is there without chunked
 *     last; Content-Length bytes when given (which wins only without Transfer-Encoding);
 *     otherwise until the server closes.
 *  7. HTTP/1.0 closes after the response unless it said Connection: keep-alive.
 *
 * Byte accounting: every byte of the response is counted once, in head_bytes, body_bytes
 * or framing_bytes (chunk sizes, extensions, CRLFs and trailers), so at DONE the three add
 * up to *used over all feeds.
 *
 * The head is parsed a byte at a time (heads are short and rare: one per long poll, one
 * per stream); body bytes are handed on in runs.
 */
#include "http_resp.h"

#include <string.h>
#include <strings.h>

enum {
    ST_STATUS, /* in the status line */
    ST_HEADER, /* in a header line, or at the blank line */
    ST_LENGTH, /* in a Content-Length body */
    ST_CHUNKED,
    ST_EOF, /* in a body that ends at the close */
    ST_DONE,
    ST_ERROR
};

void http_resp_init(struct http_resp *r, const struct http_resp_callbacks *cb)
{
    memset(r, 0, sizeof(*r));
    if (cb)
        r->cb = *cb;
    r->state = ST_STATUS;
}

static enum http_resp_status fail(struct http_resp *r, const char *why)
{
    r->state = ST_ERROR;
    r->error = why;
    return HTTP_RESP_ERROR;
}

/* Trim blanks (SP, HT) at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* 1 when the comma-separated list [s, s + n) holds token tok (any case). With `last`,
 * only its final element counts. */
static int list_has(const char *s, size_t n, const char *tok, int last)
{
    size_t toklen = strlen(tok);
    int found = 0;
    while (n > 0) {
        const char *comma = memchr(s, ',', n);
        size_t elen = comma ? (size_t)(comma - s) : n;
        const char *e = s;
        size_t en = elen;
        trim(&e, &en);
        int match = en == toklen && strncasecmp(e, tok, toklen) == 0;
        found = last ? match : (found || match);
        if (!comma)
            break;
        s = comma + 1;
        n -= elen + 1;
    }
    return found;
}

/* The headers rule 3 keeps, in the order of the H_ names. */
enum {
    H_CONTENT_LENGTH,
    H_TRANSFER_ENCODING,
    H_CONNECTION,
    H_UPGRADE,
    H_ETAG,
    H_LAST_MODIFIED,
    H_WS_ACCEPT
};
static const char *const kept_headers[] = {
    "content-length", "transfer-encoding", "connection",          "upgrade",
    "etag",           "last-modified",     "sec-websocket-accept"};

static enum http_resp_status copy_value(struct http_resp *r, char *dst, size_t cap,
                                        const char *v, size_t n)
{
    if (n >= cap)
        return fail(r, "header value too long");
    memcpy(dst, v, n);
    dst[n] = '\0';
    return HTTP_RESP_MORE;
}

static enum http_resp_status parse_status_line(struct http_resp *r)
{
    const char *l = r->line;
    size_t n = r->line_len < sizeof(r->line) ? r->line_len : sizeof(r->line);
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' || l[8] != ' ')
        return fail(r, "malformed status line");
    for (int i = 9; i < 12; i++)
        if (l[i] < '0' || l[i] > '9')
            return fail(r, "malformed status code");
    if (n > 12 && l[12] != ' ')
        return fail(r, "malformed status line");
    r->minor = l[7] - '0';
    r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (r->status < 100)
        return fail(r, "malformed status code");
    r->state = ST_HEADER;
    return HTTP_RESP_MORE;
}

static enum http_resp_status parse_content_length(struct http_resp *r, const char *v,
                                                  size_t n)
{
    uint64_t x = 0;
    if (n == 0)
        return fail(r, "malformed Content-Length");
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (UINT64_C(1) << 62))
            return fail(r, "malformed Content-Length");
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (r->has_length && r->content_length != x)
        return fail(r, "conflicting Content-Length headers");
    r->has_length = 1;
    r->content_length = x;
    return HTTP_RESP_MORE;
}

static enum http_resp_status parse_header_line(struct http_resp *r)
{
    size_t n = r->line_len < sizeof(r->line) ? r->line_len : sizeof(r->line);
    int truncated = r->line_len > sizeof(r->line);
    const char *l = r->line;
    if (l[0] == ' ' || l[0] == '\t')
        return fail(r, "obsolete line folding");
    const char *colon = memchr(l, ':', n);
    if (!colon) /* a truncated line may hold its colon further on: skip it unread */
        return truncated ? HTTP_RESP_MORE : fail(r, "header line without a colon");
    size_t namelen = (size_t)(colon - l);
    if (namelen == 0 || memchr(l, ' ', namelen) || memchr(l, '\t', namelen))
        return fail(r, "malformed header name");
    const char *v = colon + 1;
    size_t vn = n - namelen - 1;
    trim(&v, &vn);
    int which = -1;
    for (int i = 0; i < (int)(sizeof(kept_headers) / sizeof(kept_headers[0])); i++)
        if (strlen(kept_headers[i]) == namelen &&
            strncasecmp(l, kept_headers[i], namelen) == 0)
            which = i;
    if (which < 0)
        return HTTP_RESP_MORE;
    if (truncated)
        return fail(r, "header too long");
    switch (which) {
    case H_CONTENT_LENGTH:
        return parse_content_length(r, v, vn);
    case H_TRANSFER_ENCODING:
        r->chunked = list_has(v, vn, "chunked", 1) ? 1 : -1; /* -1: coded, not chunked */
        break;
    case H_CONNECTION:
        r->close |= list_has(v, vn, "close", 0);
        r->keep_alive |= list_has(v, vn, "keep-alive", 0);
        break;
    case H_UPGRADE:
        r->upgrade_websocket |= list_has(v, vn, "websocket", 0);
        break;
    case H_ETAG:
        return copy_value(r, r->etag, sizeof(r->etag), v, vn);
    case H_LAST_MODIFIED:
        return copy_value(r, r->last_modified, sizeof(r->last_modified), v, vn);
    default:
        return copy_value(r, r->ws_accept, sizeof(r->ws_accept), v, vn);
    }
    return HTTP_RESP_MORE;
}

/* The blank line: decide how the body is delimited (rule 6) and tell the caller. */
static enum http_resp_status end_head(struct http_resp *r)
{
    if (r->status >= 100 && r->status < 200 && r->status != 101) {
        uint64_t head = r->head_bytes; /* rule 5: skip an interim response */
        struct http_resp_callbacks cb = r->cb;
        http_resp_init(r, &cb);
        r->head_bytes = head;
        return HTTP_RESP_MORE;
    }
    r->head_done = 1;
    if (r->minor == 0 && !r->keep_alive)
        r->close = 1;
    if (r->status < 200 || r->status == 204 || r->status == 304)
        r->body = HTTP_BODY_NONE;
    else if (r->chunked == 1)
        r->body = HTTP_BODY_CHUNKED;
    else if (r->chunked == -1)
        r->body = HTTP_BODY_EOF;
    else if (r->has_length)
        r->body = r->content_length == 0 ? HTTP_BODY_NONE : HTTP_BODY_LENGTH;
    else
        r->body = HTTP_BODY_EOF;
    r->remaining = r->content_length;
    chunked_init(&r->dechunk);
    if (r->cb.on_head && r->cb.on_head(r->cb.ctx, r) != 0)
        return fail(r, "refused by caller");
    r->state = r->body == HTTP_BODY_NONE      ? ST_DONE
               : r->body == HTTP_BODY_LENGTH  ? ST_LENGTH
               : r->body == HTTP_BODY_CHUNKED ? ST_CHUNKED
                                              : ST_EOF;
    return r->state == ST_DONE ? HTTP_RESP_DONE : HTTP_RESP_MORE;
}

/* One byte of the head. */
static enum http_resp_status head_byte(struct http_resp *r, char ch)
{
    if (++r->head_bytes > HTTP_RESP_MAX_HEAD)
        return fail(r, "response head too long");
    if (ch != '\n') {
        r->last_byte = ch;
        if (r->line_len < sizeof(r->line))
            r->line[r->line_len] = ch;
        r->line_len++;
        return HTTP_RESP_MORE;
    }
    if (r->last_byte == '\r')
        r->line_len--; /* rule 2: the CR of a CRLF is not content */
    r->last_byte = ch;
    enum http_resp_status st;
    if (r->state == ST_STATUS)
        st = parse_status_line(r);
    else if (r->line_len == 0)
        st = end_head(r);
    else
        st = parse_header_line(r);
    r->line_len = 0;
    return st;
}

static void on_payload(void *ctx, const char *buf, size_t len)
{
    struct http_resp *r = ctx;
    r->body_bytes += len;
    if (r->cb.on_body)
        r->cb.on_body(r->cb.ctx, buf, len);
}

enum http_resp_status http_resp_feed(struct http_resp *r, const char *buf, size_t len,
                                     size_t *used)
{
    size_t i = 0;
    if (r->state == ST_DONE || r->state == ST_ERROR)
        return fail(r, "fed after the end of the response");
    while (i < len && (r->state == ST_STATUS || r->state == ST_HEADER)) {
        enum http_resp_status st = head_byte(r, buf[i++]);
        if (st == HTTP_RESP_ERROR)
            return st;
        if (st == HTTP_RESP_DONE) {
            if (used)
                *used = i;
            return st;
        }
    }
    if (i < len && r->state == ST_LENGTH) {
        size_t take = len - i < r->remaining ? len - i : (size_t)r->remaining;
        on_payload(r, buf + i, take);
        r->remaining -= take;
        i += take;
        if (r->remaining == 0) {
            r->state = ST_DONE;
            if (used)
                *used = i;
            return HTTP_RESP_DONE;
        }
    } else if (i < len && r->state == ST_CHUNKED) {
        size_t u = 0;
        enum chunked_status cs =
            chunked_feed(&r->dechunk, buf + i, len - i, &u, on_payload, r);
        r->framing_bytes = r->dechunk.framing_bytes;
        if (cs == CHUNKED_ERROR)
            return fail(r, "malformed chunked body");
        i += u;
        if (cs == CHUNKED_DONE) {
            r->state = ST_DONE;
            if (used)
                *used = i;
            return HTTP_RESP_DONE;
        }
    } else if (i < len && r->state == ST_EOF) {
        on_payload(r, buf + i, len - i);
        i = len;
    }
    if (used)
        *used = len;
    return HTTP_RESP_MORE;
}

enum http_resp_status http_resp_eof(struct http_resp *r)
{
    if (r->state == ST_EOF) {
        r->state = ST_DONE;
        return HTTP_RESP_DONE;
    }
    if (r->state == ST_DONE)
        return HTTP_RESP_DONE;
    if (r->state == ST_ERROR)
        return HTTP_RESP_ERROR;
    return fail(r,
                r->head_bytes == 0 ? "closed before the response" : "response cut short");
}
