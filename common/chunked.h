/* chunked.h: an incremental decoder for HTTP/1.1 chunked transfer coding that counts
 * every byte as either payload or framing.
 *
 * The client asks libcurl for the raw body (CURLOPT_HTTP_TRANSFER_DECODING = 0) so the
 * chunk sizes and CRLFs that crossed the wire can be counted exactly; this decoder takes
 * those raw bytes in any split, hands the payload on and says when the body has ended.
 * Like the SSE parser it never sees a socket. The rules it follows are listed in
 * chunked.c (RFC 9112 section 7.1).
 */
#ifndef PUSHPULL_CHUNKED_H
#define PUSHPULL_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

enum chunked_status {
    CHUNKED_MORE = 0,  /* every byte consumed; the body goes on */
    CHUNKED_DONE = 1,  /* the last chunk and its trailer section are complete */
    CHUNKED_ERROR = -1 /* not chunked coding; the decoder stays in this state */
};

/* Called with each run of payload bytes, in order. The pointer is valid only during the
 * call. */
typedef void (*chunked_payload_fn)(void *ctx, const char *buf, size_t len);

struct chunked {
    int state;              /* where in the grammar the next byte falls (chunked.c) */
    unsigned hex_digits;    /* digits of the current chunk-size read so far */
    uint64_t remaining;     /* chunk-data bytes still to come in the current chunk */
    size_t line_len;        /* bytes of the current trailer line (0: the line is empty) */
    uint64_t payload_bytes; /* chunk-data bytes seen (the decoded body) */
    uint64_t framing_bytes; /* every other byte: sizes, extensions, CRLFs, trailers */
};

/* Start a new body: state and counts to zero. No memory is held, nothing to free. */
void chunked_init(struct chunked *c);
/* Decode len more raw bytes. Payload goes to fn(ctx, ...) (fn may be NULL). Returns
 * CHUNKED_DONE once the body is complete: *used (may be NULL) says how many bytes of buf
 * belonged to it, the rest is not this body's. Otherwise *used == len on CHUNKED_MORE.
 * Every byte used is counted in exactly one of payload_bytes and framing_bytes. */
enum chunked_status chunked_feed(struct chunked *c, const char *buf, size_t len,
                                 size_t *used, chunked_payload_fn fn, void *ctx);

#endif
