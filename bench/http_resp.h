/* http_resp.h: an incremental HTTP/1.1 response parser for the bench's reference client.
 *
 * Like the SSE parser and the chunked decoder it knows nothing of sockets: feed it the
 * bytes of a response in any split; it reads the status line and the headers, calls back
 * once when the head is complete, hands the body on as it arrives (de-chunked), and says
 * when the response has ended and how many of the bytes fed were its own, so the rest
 * belong to the next response on a kept-alive connection (or, after a 101, to WebSocket
 * frames). http_resp.c lists the wire rules it follows.
 *
 * Memory is fixed and small (a 256-byte line buffer per response), because the client
 * keeps one per connection, tens of thousands of them: the parser keeps only the headers
 * the bench needs (Content-Length, Transfer-Encoding, Connection, ETag, Last-Modified,
 * Sec-WebSocket-Accept, Upgrade) and skips every other line however long it is.
 */
#ifndef PUSHPULL_BENCH_HTTP_RESP_H
#define PUSHPULL_BENCH_HTTP_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "chunked.h"

#define HTTP_RESP_LINE_BYTES 256         /* a kept header line's first bytes */
#define HTTP_RESP_MAX_HEAD   (64 * 1024) /* the longest head accepted */

enum http_resp_status {
    HTTP_RESP_MORE = 0,  /* every byte consumed; the response goes on */
    HTTP_RESP_DONE = 1,  /* the response is complete; *used says how many bytes were its */
    HTTP_RESP_ERROR = -1 /* not a response this parser reads; r->error says why */
};

/* How the body is delimited, known once the head is complete. */
enum http_resp_body {
    HTTP_BODY_NONE,    /* 1xx, 204, 304, or Content-Length: 0 */
    HTTP_BODY_LENGTH,  /* Content-Length bytes */
    HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
    HTTP_BODY_EOF      /* neither: the body runs until the server closes */
};

struct http_resp;

struct http_resp_callbacks {
    /* The head is complete (status and kept headers are set). Return 0 to go on, or
     * non-zero to make the feed fail with HTTP_RESP_ERROR ("refused by caller"). */
    int (*on_head)(void *ctx, const struct http_resp *r);
    /* A run of body bytes (de-chunked), in order; valid only during the call. May be
     * NULL. */
    void (*on_body)(void *ctx, const char *buf, size_t len);
    void *ctx; /* passed to both */
};

struct http_resp {
    int status;                    /* status code; 0 until the status line is read */
    int minor;                     /* HTTP/1.minor */
    int head_done;                 /* 1 once the blank line after the headers was read */
    enum http_resp_body body;      /* set when head_done */
    uint64_t content_length;       /* with HTTP_BODY_LENGTH */
    int has_length;                /* a Content-Length header was seen */
    int chunked;                   /* Transfer-Encoding ends in chunked */
    int close;                     /* Connection: close, or HTTP/1.0 without keep-alive */
    int keep_alive;                /* Connection: keep-alive was seen */
    int upgrade_websocket;         /* Upgrade: websocket was seen */
    char etag[96];                 /* ETag as sent (quotes kept); "" if none */
    char last_modified[64];        /* Last-Modified as sent; "" if none */
    char ws_accept[64];            /* Sec-WebSocket-Accept; "" if none */
    uint64_t head_bytes;           /* bytes of the status line, headers and blank line */
    uint64_t body_bytes;           /* body bytes handed to on_body */
    uint64_t framing_bytes;        /* chunk framing bytes */
    const char *error;             /* a static message when HTTP_RESP_ERROR was returned */
    struct http_resp_callbacks cb; /* copied at init */
    /* parser state (http_resp.c) */
    int state;                       /* where the next byte falls */
    size_t line_len;                 /* bytes of the current line seen so far */
    char last_byte;                  /* the line's last byte so far (a CR before LF?) */
    char line[HTTP_RESP_LINE_BYTES]; /* the current line's first bytes */
    uint64_t remaining;              /* body bytes still due with HTTP_BODY_LENGTH */
    struct chunked dechunk;          /* with HTTP_BODY_CHUNKED */
};

/* Start a new response (the first on a connection, or the next after DONE): everything
 * to zero, the callbacks copied (cb may be NULL). No memory is held, nothing to free. */
void http_resp_init(struct http_resp *r, const struct http_resp_callbacks *cb);
/* Parse len more bytes. On HTTP_RESP_DONE, *used (may be NULL) holds how many bytes of
 * buf ended the response; otherwise *used == len on MORE, and is undefined on ERROR.
 * After DONE or ERROR, feed nothing more until http_resp_init. */
enum http_resp_status http_resp_feed(struct http_resp *r, const char *buf, size_t len,
                                     size_t *used);
/* The server closed the connection: DONE when that ends the response (a body delimited
 * by the close, complete), ERROR when the response was cut short. */
enum http_resp_status http_resp_eof(struct http_resp *r);

#endif
