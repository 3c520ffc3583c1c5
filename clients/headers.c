/* headers.c: the built-in header profiles and the loader for profile files.
 *
 * `minimal` is the least HTTP/1.1 allows: the request line and Host (RFC 9112 section
 * 3.2), plus whatever the transport itself needs (If-None-Match, Last-Event-ID; for a
 * WebSocket handshake the four lines RFC 6455 section 4.1 requires: Upgrade, Connection,
 * Sec-WebSocket-Key, Sec-WebSocket-Version; for a POST, Content-Length). It is the floor
 * of HTTP overhead, below even curl's command line (which adds User-Agent and Accept: 51
 * bytes more).
 *
 * `browser` is desktop Chrome 131 on Windows, as its network panel shows the raw request
 * of a page at https://app.example.com calling an API on another origin of the same site
 * (the common layout of a web app and its API): fetch() for the polls, EventSource for
 * SSE, `new WebSocket()` for the handshake, fetch() with a text body for a message.
 * Chrome sends the sec-ch-ua client hints and the Sec-Fetch-* metadata on every fetch and
 * EventSource request, Origin because the request is cross-origin, and Referer cut to the
 * origin by the default strict-origin-when-cross-origin policy. Its WebSocket handshake
 * is leaner: no client hints, no Sec-Fetch-*, no Referer, no Accept, but Pragma and
 * Cache-Control, and it always offers permessage-deflate (which the lab's server declines,
 * so frames stay uncompressed). A POST of a message is a fetch() with a text/plain body:
 * a CORS "simple" request, so no preflight. Sizes, with "Host: 127.0.0.1:8080":
 *   fetch()      552 bytes of request head (GET /poll)
 *   EventSource  593 bytes (GET /events)
 *   WebSocket    501 bytes (GET /ws), against 155 with `minimal`
 *   fetch() POST 617 bytes (POST /publish, a 100-byte body), against 69 with `minimal`
 * Sources (MODELS.md, "Header sizes"): Grigorik, High Performance Browser Networking:
 * 500-800 B per request plus cookies; Chromium's SPDY whitepaper: 700-800 B typical;
 * captured Chrome 60 traffic: XHR poll 423-443 B, EventSource 450-463 B, to which modern
 * Chrome adds the sec-ch-ua and Sec-Fetch-* families (here 203 B). The WebSocket lines
 * and their order are those of Chrome 129's handshakes as DevTools shows them
 * (requestHeadersText: Connection, Pragma, Cache-Control, User-Agent, Upgrade, Origin,
 * Sec-WebSocket-Version, Accept-Encoding, Accept-Language, Cookie, Sec-WebSocket-Key,
 * Sec-WebSocket-Extensions), with Chrome 131's User-Agent. Here the four lines the
 * protocol requires come last, after the profile's and the cookie (same bytes, another
 * order). A same-origin page would send no Origin (33 B less). Cookies come on top:
 * --cookie-bytes N adds N + 10 bytes to every kind.
 * tests/test_headers.c checks these sizes and the bytes on the wire.
 *
 * A FILE profile is one "Name: value" per line, used for every request kind as written,
 * except that the handshake's own lines (Connection, Upgrade, Sec-WebSocket-Key and
 * -Version) are left out of the WebSocket kind, which sets them itself.
 */
#include "headers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dynbuf.h"
#include "rng.h"

#define CHROME_UA                                                                          \
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "    \
    "like Gecko) Chrome/131.0.0.0 Safari/537.36"
#define CHROME_CH_UA                                                                       \
    "sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A "             \
    "Brand\";v=\"24\""

/* In the order Chrome writes them (Host comes first, from headers_build). */
static const char *const browser_fetch[] = {
    "Connection: keep-alive",
    "sec-ch-ua-platform: \"Windows\"",
    CHROME_UA,
    CHROME_CH_UA,
    "sec-ch-ua-mobile: ?0",
    "Accept: */*",
    "Origin: https://app.example.com",
    "Sec-Fetch-Site: same-site",
    "Sec-Fetch-Mode: cors",
    "Sec-Fetch-Dest: empty",
    "Referer: https://app.example.com/",
    "Accept-Encoding: gzip, deflate, br, zstd",
    "Accept-Language: en-US,en;q=0.9",
    NULL,
};

static const char *const browser_eventsource[] = {
    "Connection: keep-alive",
    "sec-ch-ua-platform: \"Windows\"",
    "Cache-Control: no-cache",
    CHROME_UA,
    "Accept: text/event-stream",
    CHROME_CH_UA,
    "sec-ch-ua-mobile: ?0",
    "Origin: https://app.example.com",
    "Sec-Fetch-Site: same-site",
    "Sec-Fetch-Mode: cors",
    "Sec-Fetch-Dest: empty",
    "Referer: https://app.example.com/",
    "Accept-Encoding: gzip, deflate, br, zstd",
    "Accept-Language: en-US,en;q=0.9",
    NULL,
};

/* Chrome's `new WebSocket(url)`, less the four lines the transport adds. */
static const char *const browser_websocket[] = {
    "Pragma: no-cache",
    "Cache-Control: no-cache",
    CHROME_UA,
    "Origin: https://app.example.com",
    "Accept-Encoding: gzip, deflate, br, zstd",
    "Accept-Language: en-US,en;q=0.9",
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
    NULL,
};

/* Chrome's fetch(url, {method: "POST", body: text}); libcurl adds Content-Length. */
static const char *const browser_send[] = {
    "Connection: keep-alive",
    "sec-ch-ua-platform: \"Windows\"",
    CHROME_UA,
    CHROME_CH_UA,
    "Content-Type: text/plain;charset=UTF-8",
    "sec-ch-ua-mobile: ?0",
    "Accept: */*",
    "Origin: https://app.example.com",
    "Sec-Fetch-Site: same-site",
    "Sec-Fetch-Mode: cors",
    "Sec-Fetch-Dest: empty",
    "Referer: https://app.example.com/",
    "Accept-Encoding: gzip, deflate, br, zstd",
    "Accept-Language: en-US,en;q=0.9",
    NULL,
};

#define MAX_PROFILE_FILE_BYTES (64 * 1024)

/* Does line (len bytes) start with the header name `name` and a colon (any case)? */
static int line_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The lines a WebSocket handshake sets itself, which a file's lines must not repeat. */
static int is_handshake_line(const char *line, size_t len)
{
    return line_is(line, len, "Connection") || line_is(line, len, "Upgrade") ||
           line_is(line, len, "Sec-WebSocket-Key") ||
           line_is(line, len, "Sec-WebSocket-Version");
}

/* Append a copy of line to list `kind`. 0 or -1 (out of memory). */
static int add_line(struct header_profile *p, enum request_kind kind, const char *line,
                    size_t len)
{
    char **grown = realloc(p->lines[kind], (p->count[kind] + 2) * sizeof(char *));
    if (!grown)
        return -1;
    p->lines[kind] = grown;
    char *copy = strndup(line, len);
    if (!copy)
        return -1;
    grown[p->count[kind]++] = copy;
    grown[p->count[kind]] = NULL;
    if (line_is(line, len, "Accept"))
        p->has_accept[kind] = 1;
    if (line_is(line, len, "Content-Type"))
        p->has_ctype[kind] = 1;
    return 0;
}

static int add_builtin(struct header_profile *p, enum request_kind kind,
                       const char *const *lines)
{
    for (size_t i = 0; lines[i]; i++)
        if (add_line(p, kind, lines[i], strlen(lines[i])) != 0)
            return -1;
    return 0;
}

/* RFC 9110 token characters, for header names. */
static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Check one "Name: value" line from a file; NULL when fine, else what is wrong. */
static const char *check_line(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && is_tchar(line[i]))
        i++;
    if (i == 0 || i >= len || line[i] != ':')
        return "expected 'Name: value'";
    if (i == 4 && strncasecmp(line, "Host", 4) == 0)
        return "Host is set from --server, leave it out";
    if (line_is(line, len, "Content-Length") || line_is(line, len, "Transfer-Encoding"))
        return "the body's length is set by the client, leave it out";
    for (size_t j = i + 1; j < len; j++)
        if ((unsigned char)line[j] < 0x20 && line[j] != '\t')
            return "control character in the value";
    return NULL;
}

static int load_file(struct header_profile *p, const char *path, char *err, size_t errlen)
{
    int rc = -1;
    struct dynbuf text;
    dynbuf_init(&text, MAX_PROFILE_FILE_BYTES);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--headers: fopen %s: %s", path, strerror(errno));
        goto end;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (dynbuf_add(&text, chunk, n) != 0) {
            snprintf(err, errlen, "--headers: %s is larger than %d bytes", path,
                     MAX_PROFILE_FILE_BYTES);
            goto end;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "--headers: fread %s: %s", path, strerror(errno));
        goto end;
    }
    const char *s = text.mem ? text.mem : "";
    unsigned lineno = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        lineno++;
        size_t trimmed = len;
        if (trimmed > 0 && s[trimmed - 1] == '\r')
            trimmed--;
        if (trimmed > 0 && s[0] != '#') {
            const char *why = check_line(s, trimmed);
            if (why) {
                snprintf(err, errlen, "--headers: %s line %u: %s", path, lineno, why);
                goto end;
            }
            for (int k = 0; k < REQUEST_KINDS; k++) {
                if (k == REQUEST_WEBSOCKET && is_handshake_line(s, trimmed))
                    continue;
                if (add_line(p, (enum request_kind)k, s, trimmed) != 0) {
                    snprintf(err, errlen, "--headers: strndup: out of memory");
                    goto end;
                }
            }
        }
        s += nl ? len + 1 : len;
    }
    rc = 0;
end:
    if (f)
        fclose(f);
    dynbuf_free(&text);
    return rc;
}

/* "Cookie: sid=" and filler up to `bytes` bytes of value, the same for every kind. */
static int add_cookie(struct header_profile *p, uint64_t bytes, uint64_t seed)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct rng r;
    rng_seed(&r, seed ^ UINT64_C(0xC00C1E));
    struct dynbuf b;
    dynbuf_init(&b, 70000);
    int rc = dynbuf_adds(&b, "Cookie: sid=");
    for (uint64_t i = 4; i < bytes && rc == 0; i++)
        rc = dynbuf_add(&b, &alphabet[rng_next(&r) % 64], 1);
    for (int k = 0; k < REQUEST_KINDS && rc == 0; k++)
        rc = add_line(p, (enum request_kind)k, b.mem, b.len);
    dynbuf_free(&b);
    return rc;
}

int headers_profile_load(struct header_profile *p, const char *spec, uint64_t cookie_bytes,
                         uint64_t seed, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->name = strdup(spec);
    if (!p->name)
        goto oom;
    if (strcmp(spec, "minimal") == 0) {
        /* no lines: request line and Host only */
    } else if (strcmp(spec, "browser") == 0) {
        if (add_builtin(p, REQUEST_FETCH, browser_fetch) != 0 ||
            add_builtin(p, REQUEST_EVENTSOURCE, browser_eventsource) != 0 ||
            add_builtin(p, REQUEST_WEBSOCKET, browser_websocket) != 0 ||
            add_builtin(p, REQUEST_SEND, browser_send) != 0)
            goto oom;
    } else if (load_file(p, spec, err, errlen) != 0) {
        return -1;
    }
    if (cookie_bytes > 0 && add_cookie(p, cookie_bytes, seed) != 0)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "--headers: malloc: out of memory");
    return -1;
}

void headers_profile_free(struct header_profile *p)
{
    for (int k = 0; k < REQUEST_KINDS; k++) {
        for (size_t i = 0; i < p->count[k]; i++)
            free(p->lines[k][i]);
        free(p->lines[k]);
    }
    free(p->name);
    memset(p, 0, sizeof(*p));
}

struct curl_slist *headers_build(const struct header_profile *p, enum request_kind kind,
                                 const char *host_line, const char *const *extra)
{
    struct curl_slist *list = curl_slist_append(NULL, host_line);
    if (!list)
        return NULL;
    for (size_t i = 0; i < p->count[kind]; i++) {
        struct curl_slist *next = curl_slist_append(list, p->lines[kind][i]);
        if (!next)
            goto oom;
        list = next;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        struct curl_slist *next = curl_slist_append(list, extra[i]);
        if (!next)
            goto oom;
        list = next;
    }
    const char *removals[3] = {NULL, NULL, NULL};
    int nr = 0;
    if (!p->has_accept[kind])
        removals[nr++] = "Accept:";
    if (kind == REQUEST_SEND) {
        removals[nr++] = "Expect:";
        if (!p->has_ctype[kind])
            removals[nr++] = "Content-Type:";
    }
    for (int i = 0; i < nr; i++) {
        struct curl_slist *next = curl_slist_append(list, removals[i]);
        if (!next)
            goto oom;
        list = next;
    }
    return list;
oom:
    curl_slist_free_all(list);
    return NULL;
}

int headers_write_request(const struct header_profile *p, enum request_kind kind,
                          const char *target, const char *host_line,
                          const char *const *extra, size_t body_len, struct dynbuf *out)
{
    int rc = dynbuf_addf(out, "%s %s HTTP/1.1\r\n%s\r\n",
                         kind == REQUEST_SEND ? "POST" : "GET", target, host_line);
    for (size_t i = 0; rc == 0 && i < p->count[kind]; i++)
        rc = dynbuf_addf(out, "%s\r\n", p->lines[kind][i]);
    for (size_t i = 0; rc == 0 && extra && extra[i]; i++)
        rc = dynbuf_addf(out, "%s\r\n", extra[i]);
    if (rc == 0 && kind == REQUEST_SEND)
        rc = dynbuf_addf(out, "Content-Length: %zu\r\n", body_len);
    return rc == 0 ? dynbuf_adds(out, "\r\n") : -1;
}

size_t headers_wire_bytes(const struct header_profile *p, enum request_kind kind,
                          const char *target, const char *host_line,
                          const char *const *extra, size_t body_len)
{
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    size_t n = headers_write_request(p, kind, target, host_line, extra, body_len, &b) == 0
                   ? b.len
                   : 0;
    dynbuf_free(&b);
    return n;
}
