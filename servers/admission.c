/* admission.c: the checks a request passes, in this order, before its route sees it
 * (see admission.h). Each names its source; a refusal is a JSON error, and where the
 * request's framing is in doubt the connection is closed after it, so that no byte of
 * a smuggled second request is ever read as one:
 *
 *   field names       no whitespace or other separator in a header field's name: 400
 *                     and close (RFC 9112 section 5.1: "Transfer-Encoding : chunked"
 *                     must not pass as an unknown field while a proxy reads it as the
 *                     framing)
 *   Host              more than one: 400 and close; none in HTTP/1.1, or a value that is
 *                     no host[:port]: 400 (RFC 9112 section 3.2)
 *   Transfer-Encoding with HTTP/1.0, or beside Content-Length: 400 and close (RFC 9112
 *                     section 6.1 and 6.3); chunked not the final coding, or applied
 *                     twice: 400 and close (section 6.3, 7); a coding other than chunked
 *                     before it: 501 and close (section 6.1)
 *   Content-Length    two fields that differ: 400 and close (RFC 9112 section 6.3; one
 *                     malformed value libmicrohttpd answers itself)
 *   declared length   a body declared longer than the largest the server reads
 *                     (--max-publish-bytes): 413 and close, at once, before any
 *                     "100 Continue" and before reading it (RFC 9110 section 15.5.14)
 *   busy              more than --max-connections open: 503 and close
 *   route             unknown path 404; a method the route does not take 405 with Allow
 *                     (HEAD is taken wherever GET is: RFC 9110 section 9.3.2); a
 *                     loopback-only route from elsewhere 403 (POST /publish too, unless
 *                     --open-publish)
 *   client tag        ?client= that is not 1 to 32 of A-Z a-z 0-9 _ - (NUL bytes count
 *                     as invalid): 400, on every route
 *
 * libmicrohttpd queues no "100 Continue" once a response is queued at this first call,
 * and closes a connection whose request body it was told to skip (discard_request).
 */
#include "admission.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reply.h"
#include "route.h"
#include "server.h"

/* What the header fields say about the request's framing. */
struct head_scan {
    unsigned hosts;              /* Host fields */
    const char *host;            /* the first one's value */
    size_t host_len;             /* its length */
    unsigned lengths;            /* Content-Length fields */
    const char *length;          /* the first one's value */
    size_t length_len;           /* its length */
    bool lengths_differ;         /* a later Content-Length differs from the first */
    unsigned encodings;          /* Transfer-Encoding fields */
    char codings[256];           /* their values, joined with ',' (truncated) */
    size_t codings_len;          /* bytes in codings */
    bool bad_name;               /* a field name that is not a token */
    char name[REPLY_QUOTE_SIZE]; /* the first such name, quoted */
};

/* RFC 9110 section 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_tchar((unsigned char)s[i]))
            return false;
    }
    return len > 0;
}

/* A Host value: uri-host [ ":" port ] (RFC 3986 section 3.2.2), by its characters. */
static bool is_host_value(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != '\0' && strchr("-._~%!$&'()*+,;=:[]", c) != NULL)))
            return false;
    }
    return true;
}

static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    struct head_scan *h = cls;
    (void)kind;
    if (!h->bad_name && !is_token(key, key_size)) {
        h->bad_name = true;
        reply_quote(h->name, sizeof(h->name), key, key_size);
    }
    if (key_size == 4 && strncasecmp(key, "Host", 4) == 0) {
        if (h->hosts++ == 0) {
            h->host = value;
            h->host_len = value_size;
        }
    } else if (key_size == 14 && strncasecmp(key, "Content-Length", 14) == 0) {
        if (h->lengths++ == 0) {
            h->length = value;
            h->length_len = value_size;
        } else if (value_size != h->length_len || memcmp(value, h->length, value_size)) {
            h->lengths_differ = true;
        }
    } else if (key_size == 17 && strncasecmp(key, "Transfer-Encoding", 17) == 0) {
        h->encodings++;
        int n = snprintf(h->codings + h->codings_len, sizeof(h->codings) - h->codings_len,
                         "%s%.*s", h->codings_len ? "," : "", (int)value_size, value);
        if (n > 0)
            h->codings_len += (size_t)n;
        if (h->codings_len >= sizeof(h->codings))
            h->codings_len = sizeof(h->codings) - 1;
    }
    return MHD_YES;
}

/* The transfer codings of a request, read as RFC 9112 section 6.1 says: a list, chunked
 * last and once. Returns 0 when they are exactly "chunked", 400 or 501 with the coding
 * at fault quoted into what. */
static unsigned check_codings(const char *list, char *what, size_t whatlen)
{
    unsigned chunked = 0, count = 0, other = 0;
    bool last_chunked = false;
    const char *p = list;
    snprintf(what, whatlen, "%s", "");
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        size_t len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        last_chunked = len == 7 && strncasecmp(p, "chunked", 7) == 0;
        if (last_chunked) {
            chunked++;
        } else if (other++ == 0) {
            reply_quote(what, whatlen, p, len);
        }
        count++;
        p = end;
    }
    if (count == 0 || !last_chunked || chunked > 1)
        return 400;
    return other > 0 ? 501 : 0;
}

/* The framing rules of the top of this file, up to the declared length. */
static bool framing_ok(struct request *req, const char *version)
{
    struct head_scan h;
    memset(&h, 0, sizeof(h));
    MHD_get_connection_values_n(req->conn, MHD_HEADER_KIND, scan_field, &h);
    bool http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    char what[REPLY_QUOTE_SIZE];
    if (h.bad_name) {
        reply_error_close(req, 400,
                          "header field name \"%s\": a token expected, with no whitespace "
                          "before the colon (RFC 9112 section 5.1)",
                          h.name);
        return false;
    }
    if (h.hosts > 1) {
        reply_error_close(req, 400, "Host: more than one (RFC 9112 section 3.2)");
        return false;
    }
    if (http11 && h.hosts == 0) {
        reply_error(req, 400, "Host: required in HTTP/1.1 (RFC 9112 section 3.2)");
        return false;
    }
    if (h.hosts == 1 && !is_host_value(h.host, h.host_len)) {
        reply_quote(what, sizeof(what), h.host, h.host_len);
        reply_error(req, 400, "Host: expected host[:port], got \"%s\"", what);
        return false;
    }
    if (h.encodings > 0) {
        unsigned status = 0;
        if (!http11)
            reply_error_close(req, 400,
                              "Transfer-Encoding: not in HTTP/1.0 (RFC 9112 section 6.1)");
        else if (h.lengths > 0)
            reply_error_close(req, 400,
                              "Transfer-Encoding and Content-Length together: the body's "
                              "end is ambiguous (RFC 9112 section 6.3)");
        else if ((status = check_codings(h.codings, what, sizeof(what))) == 400)
            reply_error_close(req, 400,
                              "Transfer-Encoding: chunked must be the final coding, once "
                              "(RFC 9112 section 6.3)");
        else if (status == 501)
            reply_error_close(req, 501,
                              "Transfer-Encoding: \"%s\" is not understood; only chunked "
                              "is (RFC 9112 section 6.1)",
                              what);
        if (req->answered)
            return false;
    }
    if (h.lengths_differ) {
        reply_error_close(req, 400,
                          "Content-Length: fields that differ (RFC 9112 section 6.3)");
        return false;
    }
    uint64_t declared = 0;
    size_t max = req->srv->cfg.max_publish_bytes;
    if (h.lengths > 0 &&
        request_uint_parse(req, MHD_HEADER_KIND, "Content-Length", UINT64_MAX, &declared) ==
            1 &&
        declared > max) {
        reply_error_close(req, 413, "body: larger than the %zu-byte limit", max);
        return false;
    }
    return true;
}

bool admission_check(struct request *req, const char *method, const char *version)
{
    struct server *srv = req->srv;
    if (!framing_ok(req, version))
        return false;
    if (atomic_load(&srv->stats.conns_open) > (int_least64_t)srv->cfg.max_connections) {
        reply_error(req, 503, "server busy: more than %u connections open",
                    srv->cfg.max_connections);
        return false;
    }
    const struct route *r = req->route;
    if (!r) {
        reply_error(req, 404, "no such path; try /poll, /longpoll, /events, /ws or /stats");
        return false;
    }
    bool head_for_get = req->head && strcmp(r->method, "GET") == 0;
    if (strcmp(method, r->method) != 0 && !head_for_get) {
        char got[REPLY_QUOTE_SIZE];
        reply_quote(got, sizeof(got), method, strlen(method));
        reply_error(req, 405, "%s takes %s, not %s", r->path,
                    strcmp(r->method, "GET") == 0 ? "GET or HEAD" : r->method, got);
        return false;
    }
    bool local_only = r->access == ROUTE_LOOPBACK ||
                      (r->access == ROUTE_PUBLISHERS && !srv->cfg.open_publish);
    if (local_only && !request_from_loopback(req)) {
        reply_error(req, 403, "%s: only loopback clients may use it%s", r->path,
                    r->access == ROUTE_PUBLISHERS
                        ? " (unless the server runs with --open-publish)"
                        : "");
        return false;
    }
    const char *tag = NULL;
    size_t tag_len = 0;
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, "client", 6, &tag,
                                      &tag_len) == MHD_YES &&
        tag && (tag_len != strlen(tag) || !stats_tag_valid(tag))) {
        char got[REPLY_QUOTE_SIZE];
        reply_quote(got, sizeof(got), tag, tag_len);
        reply_error(req, 400, "client: expected 1 to %d of A-Z a-z 0-9 _ -, got \"%s\"",
                    STATS_TAG_MAX, got);
        return false;
    }
    return true;
}
