/* floor_req.c: the floor server's request-head parser (see floor_req.h).
 *
 * It looks for the blank line first (memmem over what was gathered: a head is a few
 * hundred bytes, so one scan per arrival costs less than keeping a resumable state), then
 * walks the lines once: the request line splits on its two spaces, every other line on
 * its colon, and only If-None-Match, Content-Length and Transfer-Encoding are read.
 * Header names are case-insensitive (RFC 9110 section 5.1); a bare LF ends no line here,
 * as a bench client sends CRLF.
 */
#include "floor_req.h"

#include <string.h>
#include <strings.h>

static int name_is(const char *p, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(p, name, len) == 0;
}

/* Optional whitespace around a field value (RFC 9110 section 5.6.3). */
static struct floor_span trim(const char *p, size_t len)
{
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    return (struct floor_span){p, len};
}

static int request_line(const char *p, size_t len, struct floor_req *r)
{
    const char *sp1 = memchr(p, ' ', len);
    if (!sp1 || sp1 == p)
        return -1;
    const char *rest = sp1 + 1;
    const char *sp2 = memchr(rest, ' ', len - (size_t)(rest - p));
    if (!sp2 || sp2 == rest)
        return -1;
    size_t vlen = len - (size_t)(sp2 + 1 - p);
    if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return -1;
    r->method = (struct floor_span){p, (size_t)(sp1 - p)};
    const char *q = memchr(rest, '?', (size_t)(sp2 - rest));
    r->path = (struct floor_span){rest, (size_t)((q ? q : sp2) - rest)};
    return 0;
}

static int header_line(const char *p, size_t len, struct floor_req *r)
{
    const char *colon = memchr(p, ':', len);
    if (!colon || colon == p)
        return -1;
    size_t nlen = (size_t)(colon - p);
    struct floor_span v = trim(colon + 1, len - nlen - 1);
    if (name_is(p, nlen, "If-None-Match")) {
        r->if_none = v;
    } else if (name_is(p, nlen, "Content-Length")) {
        uint64_t n = 0;
        if (v.len == 0 || v.len > 12)
            return -1;
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] < '0' || v.p[i] > '9')
                return -1;
            n = n * 10 + (uint64_t)(v.p[i] - '0');
        }
        r->content_length = n;
    } else if (name_is(p, nlen, "Transfer-Encoding")) {
        return -1; /* the bench posts with a length; nothing here reads chunks */
    }
    return 0;
}

enum floor_parse floor_req_parse(const char *buf, size_t len, size_t max,
                                 struct floor_req *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return len >= max ? FLOOR_TOO_BIG : FLOOR_MORE;
    memset(r, 0, sizeof(*r));
    r->head_len = (size_t)(end - buf) + 4;
    if (r->head_len > max)
        return FLOOR_TOO_BIG;
    const char *p = buf, *stop = end + 2; /* every line ends in CRLF up to the blank one */
    for (int first = 1; p < stop; first = 0) {
        const char *eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
        size_t n = (size_t)(eol - p);
        if (first ? request_line(p, n, r) != 0 : header_line(p, n, r) != 0)
            return FLOOR_BAD;
        p = eol + 2;
    }
    return FLOOR_HEAD;
}
