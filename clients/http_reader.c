/* http_reader.c: the HTTP/1.1 response reader (http_reader.h has the rules).
 *
 * Head lines are found with memchr for the LF; a line wholly inside one feed is judged
 * and handed on in place, a line cut by the end of a feed is gathered in r->line first.
 * The body is a count of bytes (Content-Length), the chunked decoder's verdict, or
 * everything until the server closes.
 */
#include "http_reader.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    ST_STATUS,  /* at or inside the status line */
    ST_HEADERS, /* at or inside a header line (or the blank line) */
    ST_LENGTH,  /* in a Content-Length body: r->length bytes to come */
    ST_CHUNKED, /* in a chunked body */
    ST_CLOSE,   /* in a body that runs until the server closes */
    ST_DONE,
    ST_ERROR
};

void http_reader_init(struct http_reader *r)
{
    memset(r, 0, sizeof(*r));
    http_reader_begin(r);
}

void http_reader_free(struct http_reader *r)
{
    free(r->line);
    r->line = NULL;
    r->line_len = r->line_cap = 0;
}

/* Forget the header fields of a head (a new response, or after an interim one). */
static void head_reset(struct http_reader *r)
{
    r->chunked = false;
    r->te_other = false;
    r->has_length = false;
    r->conn_close = false;
    r->conn_keep_alive = false;
    r->length = 0;
    r->minor = 1;
}

void http_reader_begin(struct http_reader *r)
{
    r->status = 0;
    r->head_done = false;
    r->keep_alive = false;
    r->started = false;
    r->error = "";
    r->state = ST_STATUS;
    r->head_bytes = 0;
    r->line_len = 0;
    head_reset(r);
}

size_t http_reader_held(const struct http_reader *r)
{
    return r->line_len;
}

static enum http_reader_status fail(struct http_reader *r, const char *why)
{
    r->state = ST_ERROR;
    r->error = why;
    return HTTP_READER_ERROR;
}

/* ---- judging lines ------------------------------------------------------------------ */

/* A token character (RFC 9110 section 5.6.2). */
static bool tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* No control characters but tab in text[0..n). */
static bool printable(const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* The comma-separated list v[0..n) holds token (any case), blanks around items ignored. */
bool http_list_has(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return true;
    }
    return false;
}

/* The last item of the list v[0..n), trimmed. */
static void list_last(const char *v, size_t n, const char **item, size_t *len)
{
    size_t end = n;
    while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t' || v[end - 1] == ','))
        end--;
    size_t start = end;
    while (start > 0 && v[start - 1] != ',')
        start--;
    while (start < end && (v[start] == ' ' || v[start] == '\t'))
        start++;
    *item = v + start;
    *len = end - start;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" in text[0..n) (line ending removed). */
static int status_line(struct http_reader *r, const char *t, size_t n)
{
    if (n < 12 || memcmp(t, "HTTP/1.", 7) != 0 || t[7] < '0' || t[7] > '9' || t[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (t[i] < '0' || t[i] > '9')
            return -1;
    if (n > 12 && t[12] != ' ')
        return -1;
    if (!printable(t, n))
        return -1;
    r->minor = t[7] - '0';
    r->status = (t[9] - '0') * 100 + (t[10] - '0') * 10 + (t[11] - '0');
    return r->status >= 100 ? 0 : -1;
}

/* "name: value" in text[0..n): the fields that frame the body are taken. */
static int header_line(struct http_reader *r, const char *t, size_t n)
{
    size_t colon = 0;
    while (colon < n && tchar((unsigned char)t[colon]))
        colon++;
    if (colon == 0 || colon == n || t[colon] != ':' || !printable(t, n))
        return -1;
    const char *v = t + colon + 1;
    size_t vl = n - colon - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (colon == 14 && strncasecmp(t, "Content-Length", 14) == 0) {
        if (vl == 0 || vl > 19)
            return -1;
        uint64_t x = 0;
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            x = x * 10 + (uint64_t)(v[i] - '0');
        }
        if (r->has_length && r->length != x)
            return -1;
        r->has_length = true;
        r->length = x;
    } else if (colon == 17 && strncasecmp(t, "Transfer-Encoding", 17) == 0) {
        const char *last;
        size_t ll;
        list_last(v, vl, &last, &ll);
        r->chunked = ll == 7 && strncasecmp(last, "chunked", 7) == 0;
        r->te_other = !r->chunked;
    } else if (colon == 10 && strncasecmp(t, "Connection", 10) == 0) {
        r->conn_close |= http_list_has(v, vl, "close");
        r->conn_keep_alive |= http_list_has(v, vl, "keep-alive");
    }
    return 0;
}

/* The blank line: the head is complete. Where does the body go? */
static void head_end(struct http_reader *r)
{
    int s = r->status;
    if (s < 200 && s != 101) {
        head_reset(r); /* an interim response: the real head follows */
        r->state = ST_STATUS;
        return;
    }
    r->head_done = true;
    bool persistent = r->minor >= 1 ? !r->conn_close : r->conn_keep_alive;
    if (s == 101 || s == 204 || s == 304) {
        r->keep_alive = persistent && s != 101;
        r->state = ST_DONE;
    } else if (r->chunked) {
        r->keep_alive = persistent;
        chunked_init(&r->chunk);
        r->state = ST_CHUNKED;
    } else if (r->te_other || !r->has_length) {
        r->keep_alive = false;
        r->state = ST_CLOSE;
    } else {
        r->keep_alive = persistent;
        r->state = r->length == 0 ? ST_DONE : ST_LENGTH;
    }
}

/* One whole line (with its ending) of the head: judge it, hand it on. */
static int head_line(struct http_reader *r, const char *line, size_t len,
                     const struct http_reader_callbacks *cb, void *ctx)
{
    size_t n = len - 1; /* without the LF */
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (r->state == ST_STATUS) {
        if (status_line(r, line, n) != 0)
            return -1;
        r->state = ST_HEADERS;
    } else if (n == 0) {
        head_end(r);
    } else if (line[0] == ' ' || line[0] == '\t' || header_line(r, line, n) != 0) {
        return -1; /* folded, or not a header */
    }
    if (cb->on_line)
        cb->on_line(ctx, line, len);
    return 0;
}

/* ---- feeding ------------------------------------------------------------------------ */

/* Gather part of a line; -1 past the line limit or out of memory. */
static int gather(struct http_reader *r, const char *buf, size_t n)
{
    if (r->line_len + n > HTTP_READER_LINE_MAX)
        return -1;
    if (r->line_len + n > r->line_cap) {
        size_t cap = r->line_cap ? r->line_cap : 256;
        while (cap < r->line_len + n)
            cap *= 2;
        char *p = realloc(r->line, cap);
        if (!p)
            return -1;
        r->line = p;
        r->line_cap = cap;
    }
    memcpy(r->line + r->line_len, buf, n);
    r->line_len += n;
    return 0;
}

/* Head bytes from buf[*off..len): lines handed on as they complete. */
static enum http_reader_status feed_head(struct http_reader *r, const char *buf, size_t len,
                                         size_t *off,
                                         const struct http_reader_callbacks *cb, void *ctx)
{
    const char *start = buf + *off;
    size_t avail = len - *off;
    const char *lf = memchr(start, '\n', avail);
    size_t take = lf ? (size_t)(lf - start) + 1 : avail;
    if (r->head_bytes + take > HTTP_READER_HEAD_MAX)
        return fail(r, "head too big");
    if (!lf) {
        if (gather(r, start, take) != 0)
            return fail(r, "line too long");
        r->head_bytes += take;
        *off = len;
        return HTTP_READER_MORE;
    }
    const char *line = start;
    size_t line_len = take;
    bool gathered = r->line_len > 0;
    if (gathered) {
        if (gather(r, start, take) != 0)
            return fail(r, "line too long");
        line = r->line;
        line_len = r->line_len;
    } else if (take > HTTP_READER_LINE_MAX) {
        return fail(r, "line too long");
    }
    if (head_line(r, line, line_len, cb, ctx) != 0) {
        if (gathered)
            r->line_len -= take; /* held: only what earlier feeds brought */
        return fail(r, r->state == ST_STATUS ? "bad status line" : "bad header line");
    }
    r->line_len = 0;
    r->head_bytes += take;
    *off += take;
    return r->state == ST_DONE ? HTTP_READER_DONE : HTTP_READER_MORE;
}

enum http_reader_status http_reader_feed(struct http_reader *r, const char *buf, size_t len,
                                         size_t *used,
                                         const struct http_reader_callbacks *cb, void *ctx)
{
    size_t off = 0;
    enum http_reader_status st = r->state == ST_DONE    ? HTTP_READER_DONE
                                 : r->state == ST_ERROR ? HTTP_READER_ERROR
                                                        : HTTP_READER_MORE;
    if (len > 0 && st == HTTP_READER_MORE)
        r->started = true;
    while (off < len && st == HTTP_READER_MORE) {
        size_t avail = len - off;
        switch (r->state) {
        case ST_STATUS:
        case ST_HEADERS:
            st = feed_head(r, buf, len, &off, cb, ctx);
            break;
        case ST_LENGTH: {
            size_t take = r->length < avail ? (size_t)r->length : avail;
            if (cb->on_body)
                cb->on_body(ctx, buf + off, take);
            r->length -= take;
            off += take;
            if (r->length == 0) {
                r->state = ST_DONE;
                st = HTTP_READER_DONE;
            }
            break;
        }
        case ST_CHUNKED: {
            size_t u = 0;
            enum chunked_status cs =
                chunked_feed(&r->chunk, buf + off, avail, &u, NULL, NULL);
            if (cs == CHUNKED_ERROR) {
                if (cb->on_body)
                    cb->on_body(ctx, buf + off, avail); /* the caller finds the fault too */
                off = len;
                st = fail(r, "bad chunked framing");
                break;
            }
            if (cb->on_body && u > 0)
                cb->on_body(ctx, buf + off, u);
            off += u;
            if (cs == CHUNKED_DONE) {
                r->state = ST_DONE;
                st = HTTP_READER_DONE;
            }
            break;
        }
        case ST_CLOSE:
            if (cb->on_body)
                cb->on_body(ctx, buf + off, avail);
            off = len;
            break;
        default:
            st = HTTP_READER_ERROR;
            break;
        }
    }
    if (st == HTTP_READER_MORE && r->state == ST_DONE)
        st = HTTP_READER_DONE; /* a head that ended the response with no byte to spare */
    if (used)
        *used = off;
    return st;
}

enum http_reader_status http_reader_eof(struct http_reader *r)
{
    if (r->state == ST_DONE)
        return HTTP_READER_DONE;
    if (r->state == ST_CLOSE) {
        r->state = ST_DONE;
        return HTTP_READER_DONE;
    }
    if (r->state == ST_ERROR)
        return HTTP_READER_ERROR;
    return fail(r, r->started ? "closed mid-response" : "closed");
}
