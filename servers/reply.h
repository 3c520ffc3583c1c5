/* reply.h: the small vocabulary transports answer with: a JSON body, a JSON error, a
 * file's bytes, a number read from the query or a header (a 400 when malformed), whether
 * the peer is local.
 *
 * Every buffered response passes through here, so its status and body bytes are counted
 * here (streams count their own body bytes as they produce them, in sse.c).
 */
#ifndef PUSHPULL_REPLY_H
#define PUSHPULL_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "request.h"

/* Queue `body` (len bytes) as a JSON response with Cache-Control: no-cache and any extra
 * header pairs given (name, value, ..., NULL). The body is copied. */
enum MHD_Result reply_json(struct request *req, unsigned status, const char *body,
                           size_t len, ...);
/* Queue len bytes of body (copied) with this Content-Type and Cache-Control: no-cache. */
enum MHD_Result reply_bytes(struct request *req, unsigned status, const char *content_type,
                            const char *body, size_t len);
/* Queue {"error":"<message>"} with the given 4xx/5xx status (a 405 with Allow, a 426
 * with Upgrade: websocket and Sec-WebSocket-Version: 13, a 503 with Connection: close). */
enum MHD_Result reply_error(struct request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* reply_error, and the connection is closed after the answer (the framing of whatever
 * follows on it cannot be trusted, RFC 9112 section 6.3). */
enum MHD_Result reply_error_close(struct request *req, unsigned status, const char *fmt,
                                  ...) __attribute__((format(printf, 3, 4)));
/* Characters of a client's value quoted in an error message, and the buffer they need. */
#define REPLY_QUOTE_CHARS 40
#define REPLY_QUOTE_SIZE  256
/* Copy len bytes of a client's value v into out (cap bytes, REPLY_QUOTE_SIZE is enough)
 * as text fit for an error message: whole UTF-8 characters only, at most
 * REPLY_QUOTE_CHARS of them (then "..."), a NUL shown as \0, any byte that begins no
 * whole character as U+FFFD. Returns the length written. */
size_t reply_quote(char *out, size_t cap, const char *v, size_t len);
/* Queue a prepared response (the caller keeps its own reference and destroys it). It says
 * Connection: close when the peer has half-closed (one poll(), and the kernel's counts
 * only when it has). */
enum MHD_Result reply_queue(struct request *req, unsigned status, struct MHD_Response *r);
/* reply_json's response, built and not queued (for reply_shared), or NULL. */
struct MHD_Response *reply_json_build(const char *body, size_t len, ...);
/* reply_json_build's response without extra headers, whose body is `body` itself (from
 * malloc, len > 0 bytes): it is freed with the response's last reference, or here at
 * once when NULL (out of memory) is returned. Either way the caller no longer owns it. */
struct MHD_Response *reply_json_adopt(char *body, size_t len);
/* A 304's response with Cache-Control: no-cache and this ETag, built and not queued (for
 * reply_shared), or NULL: no body, and no Content-Length where libmicrohttpd can leave it
 * out (0.9.76 and later; 0.9.75 always sends "Content-Length: 0", see reply.c). */
struct MHD_Response *reply_not_modified_build(const char *etag);
/* Queue a buffered response built once and shared by many requests (len bytes of body,
 * counted here): it is never changed, so it cannot say Connection: close; a client that
 * had half-closed is found by the reading of the kernel's counts at the request's end
 * instead (no system call more than every request makes), and its connection shut down
 * after the answer (server.c, request_end). The caller keeps r alive until this
 * returns. */
enum MHD_Result reply_shared(struct request *req, unsigned status, struct MHD_Response *r,
                             size_t len);
/* Read query argument or header `name` as a whole number from 0 to max (the whole value,
 * NUL bytes included, must be digits). Returns 1 when present and valid, 0 when absent,
 * -1 when malformed; queues nothing. */
int request_uint_parse(struct request *req, enum MHD_ValueKind kind, const char *name,
                       uint64_t max, uint64_t *out);
/* Read query argument or header `name` (kind MHD_GET_ARGUMENT_KIND or MHD_HEADER_KIND)
 * as a whole number from 0 to max. Returns 1 when present and valid, 0 when absent, -1
 * when malformed: a 400 naming the parameter has then been queued. */
int request_uint_value(struct request *req, enum MHD_ValueKind kind, const char *name,
                       uint64_t max, uint64_t *out);
/* 1 when the peer is on the loopback network (127.0.0.0/8 or ::1): only such peers may
 * publish, change the rate or drop connections. With --local-peer, an IPv4 peer must be
 * that one address (the demo's other loopback doors, 127.0.0.2 say, stay outside). */
bool request_from_loopback(struct request *req);

#endif
