/* headers.h: the request headers each simulated user sends (--headers, --cookie-bytes).
 *
 * Header bytes are the heart of the polling-versus-push argument, so the profile decides
 * every header line on the wire: libcurl's own defaults are removed, and the request is
 * exactly "request line, Host, the profile's lines, the transport's own lines, blank
 * line" (a POST adds Content-Length last, where libcurl puts it). Profiles have one list
 * per kind of request, because browsers send different headers for each: fetch() GETs
 * (short and long polls), EventSource GETs (SSE), the WebSocket opening handshake, and
 * fetch() POSTs of a message (POST /publish). The WebSocket handshake is written by hand
 * (no libcurl), with headers_write_request, which writes the same bytes libcurl would.
 */
#ifndef PUSHPULL_HEADERS_H
#define PUSHPULL_HEADERS_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "dynbuf.h"

enum request_kind {
    REQUEST_FETCH = 0,       /* a fetch()/XHR GET: short and long polls */
    REQUEST_EVENTSOURCE = 1, /* an EventSource GET */
    REQUEST_WEBSOCKET = 2,   /* a WebSocket opening handshake (GET with Upgrade) */
    REQUEST_SEND = 3,        /* a fetch() POST of a text message (POST /publish) */
    REQUEST_KINDS = 4
};

/* The lines a WebSocket handshake always carries, which the transport adds itself (with
 * Sec-WebSocket-Key: a fresh key each time): never in a profile's WEBSOCKET list. */
#define HEADERS_WS_UPGRADE    "Upgrade: websocket"
#define HEADERS_WS_CONNECTION "Connection: Upgrade"
#define HEADERS_WS_VERSION    "Sec-WebSocket-Version: 13"

struct header_profile {
    char *name;                    /* "minimal", "browser" or the file name (owned) */
    char **lines[REQUEST_KINDS];   /* "Name: value" strings, NULL-terminated (owned) */
    size_t count[REQUEST_KINDS];   /* lines in each list */
    int has_accept[REQUEST_KINDS]; /* the list sets Accept itself */
    int has_ctype[REQUEST_KINDS];  /* the list sets Content-Type itself */
};

/* Load a profile: spec is "minimal", "browser" or the name of a file of "Name: value"
 * lines ('#' comments and blank lines skipped; the same lines for every kind, except that
 * the WebSocket kind leaves out Connection, Upgrade and Sec-WebSocket-Key/-Version, which
 * the handshake sets). A Cookie line with a value of cookie_bytes bytes (filler drawn
 * from seed) is appended to every kind when cookie_bytes > 0. 0, or -1 with a message
 * naming the file, line and fault in err. The caller frees the profile with
 * headers_profile_free, also after a failure. */
int headers_profile_load(struct header_profile *p, const char *spec, uint64_t cookie_bytes,
                         uint64_t seed, char *err, size_t errlen);
void headers_profile_free(struct header_profile *p);

/* The header list for one libcurl request: host_line ("Host: 127.0.0.1:8080") first,
 * then the profile's lines for `kind`, then `extra` (a NULL-terminated array of lines the
 * transport adds, e.g. If-None-Match; may be NULL), then "Accept:" which tells libcurl to
 * drop its default Accept when the profile sets none; for a POST also "Expect:" (no
 * 100-continue) and, when the profile sets no Content-Type, "Content-Type:" (libcurl's
 * form type dropped). NULL when out of memory. The caller frees the list with
 * curl_slist_free_all after the transfer. */
struct curl_slist *headers_build(const struct header_profile *p, enum request_kind kind,
                                 const char *host_line, const char *const *extra);

/* Append the request head for `target` to out: "GET" (REQUEST_SEND: "POST") target
 * "HTTP/1.1", the host line, the profile's lines for kind, the extras, for a POST
 * "Content-Length: body_len", each with CRLF, and the blank line. These are the bytes
 * libcurl sends for headers_build's list (tests/test_headers.c checks it byte for byte),
 * and the bytes a hand-written request sends. 0, or -1 when out's cap or malloc refuses. */
int headers_write_request(const struct header_profile *p, enum request_kind kind,
                          const char *target, const char *host_line,
                          const char *const *extra, size_t body_len, struct dynbuf *out);
/* The length of that head (0 when out of memory). */
size_t headers_wire_bytes(const struct header_profile *p, enum request_kind kind,
                          const char *target, const char *host_line,
                          const char *const *extra, size_t body_len);

#endif
