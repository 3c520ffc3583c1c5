/* headers.h: the request headers each simulated user sends (--headers, --cookie-bytes).
 *
 * Header bytes are the heart of the polling-versus-push argument, so the profile decides
 * every header line on the wire: libcurl's own defaults are removed, and the request is
 * exactly "request line, Host, the profile's lines, the transport's own lines, blank
 * line". Profiles have one list for fetch() requests (short and long polls) and one for
 * EventSource requests (SSE), because browsers send different headers for the two.
 */
#ifndef PUSHPULL_HEADERS_H
#define PUSHPULL_HEADERS_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

enum request_kind {
    REQUEST_FETCH = 0,       /* a fetch()/XHR GET: short and long polls */
    REQUEST_EVENTSOURCE = 1, /* an EventSource GET */
    REQUEST_KINDS = 2
};

struct header_profile {
    char *name;                    /* "minimal", "browser" or the file name (owned) */
    char **lines[REQUEST_KINDS];   /* "Name: value" strings, NULL-terminated (owned) */
    size_t count[REQUEST_KINDS];   /* lines in each list */
    int has_accept[REQUEST_KINDS]; /* the list sets Accept itself */
};

/* Load a profile: spec is "minimal", "browser" or the name of a file of "Name: value"
 * lines ('#' comments and blank lines skipped; the same lines for both kinds). A Cookie
 * line with a value of cookie_bytes bytes (filler drawn from seed) is appended when
 * cookie_bytes > 0. 0, or -1 with a message naming the file, line and fault in err. The
 * caller frees the profile with headers_profile_free, also after a failure. */
int headers_profile_load(struct header_profile *p, const char *spec, uint64_t cookie_bytes,
                         uint64_t seed, char *err, size_t errlen);
void headers_profile_free(struct header_profile *p);

/* The header list for one request: host_line ("Host: 127.0.0.1:8080") first, then the
 * profile's lines for `kind`, then `extra` (a NULL-terminated array of lines the transport
 * adds, e.g. If-None-Match; may be NULL), then "Accept:" which tells libcurl to drop its
 * default Accept when the profile sets none. NULL when out of memory. The caller frees
 * the list with curl_slist_free_all after the transfer. */
struct curl_slist *headers_build(const struct header_profile *p, enum request_kind kind,
                                 const char *host_line, const char *const *extra);

/* The bytes of the request head on the wire for a GET of `target`: request line, host
 * line, profile lines, extras, each with CRLF, and the blank line. This is what libcurl
 * sends for headers_build's list (tests/test_headers.c checks it byte for byte). */
size_t headers_wire_bytes(const struct header_profile *p, enum request_kind kind,
                          const char *target, const char *host_line,
                          const char *const *extra);

#endif
