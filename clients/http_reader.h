/* http_reader.h: an HTTP/1.1 response read as it arrives: its head line by line, then its
 * body's bytes as they came, and where it ends.
 *
 * A parser that knows nothing of sockets, in the shape of picohttpparser and the hiredis
 * reader: feed it the bytes read so far, in any split; it hands each head line on whole
 * (the status line, each header line and the blank line, each with its line ending: the
 * bytes that crossed the wire), then the body raw, chunk framing included (the caller
 * counts framing apart), and says "done" and how many of the bytes fed were the
 * response's. "More" (MORE), "done" (DONE) and "not HTTP" (ERROR) are distinct.
 *
 * The wire rules it follows (RFC 9112):
 *   - status line "HTTP/1.x SP 3DIGIT [SP reason]" (section 4); header lines
 *     "name: value" with a token for a name and optional blanks around the value (section
 *     5); lines end with CRLF or a bare LF (section 2.2 lets a recipient accept one); the
 *     head ends with an empty line. Refused: another status line, a control character
 *     other than a tab, a header line without a colon or with a blank before it, an
 *     obsolete folded line (one starting with a blank), a line past HTTP_READER_LINE_MAX,
 *     a head past HTTP_READER_HEAD_MAX.
 *   - the body (section 6.3): 1xx other than 101 is an interim response, and another head
 *     follows; 101, 204 and 304 have none (101 also ends the connection: this client asks
 *     for no upgrade); Transfer-Encoding with chunked as its last coding is a chunked body
 *     (common/chunked.c finds its end); Transfer-Encoding without it, or neither header,
 *     a body that runs until the server closes (http_reader_eof); else Content-Length bytes
 *     (repeated equal values are one; differing ones, or anything but 1 to 19 digits, are
 *     refused).
 *   - keep-alive (section 9.3): the connection may carry the next request after an
 *     HTTP/1.1 response without "Connection: close", or an HTTP/1.0 one with
 *     "Connection: keep-alive", whose body did not run until close.
 *
 * Memory: a line that arrives whole within one feed is handed on from the caller's bytes;
 * only a line split across feeds is gathered (allocated on demand, at most
 * HTTP_READER_LINE_MAX bytes, kept for the next response; http_reader_free releases it).
 *
 * Byte accounting: every byte fed is either handed on (a line, body bytes), held (part of
 * a line not yet whole: http_reader_held), or not used (*used < len: past the response's
 * end, or from the fault on after ERROR). A caller that counts what is handed on counts
 * the rest itself. After a fault in a chunked body the rest of that feed is still handed
 * on as body bytes (the caller's own framing count finds the same fault there).
 */
#ifndef PUSHPULL_HTTP_READER_H
#define PUSHPULL_HTTP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunked.h"

#define HTTP_READER_LINE_MAX 8192        /* bytes of one head line */
#define HTTP_READER_HEAD_MAX (64 * 1024) /* bytes of the heads of one response */

enum http_reader_status {
    HTTP_READER_MORE, /* every byte fed was used: the response goes on */
    HTTP_READER_DONE, /* the response is complete (sticky until http_reader_begin) */
    HTTP_READER_ERROR /* not an HTTP/1.x response, or past a limit (sticky) */
};

struct http_reader_callbacks {
    /* One head line, raw: the status line, a header line or the blank line, with its
     * line ending. The pointer is valid only during the call. */
    void (*on_line)(void *ctx, const char *line, size_t len);
    /* Body bytes as they came (chunk framing included). Valid only during the call. */
    void (*on_body)(void *ctx, const char *buf, size_t len);
};

struct http_reader {
    /* results */
    int status;        /* the last status code read; 0 before any status line */
    bool head_done;    /* the final (non-1xx) head is complete */
    bool keep_alive;   /* the connection may carry another request (once DONE) */
    bool started;      /* a byte of this response has been fed */
    const char *error; /* what was wrong, once ERROR ("" before) */
    /* the parser (private) */
    int state;            /* where the next byte falls (http_reader.c) */
    int minor;            /* HTTP/1.minor of the current head */
    bool chunked;         /* Transfer-Encoding ends with chunked */
    bool te_other;        /* Transfer-Encoding without chunked last */
    bool has_length;      /* a Content-Length was given */
    bool conn_close;      /* Connection: close */
    bool conn_keep_alive; /* Connection: keep-alive */
    uint64_t length;      /* its value; while in the body, the bytes still to come */
    size_t head_bytes;    /* bytes of this response's heads so far */
    struct chunked chunk; /* a chunked body's decoder (finds its end) */
    char *line;           /* a line split across feeds, gathered (owned) */
    size_t line_len;      /* its bytes so far */
    size_t line_cap;      /* bytes allocated */
};

/* An empty parser (no memory held) ready for a response. */
void http_reader_init(struct http_reader *r);
/* Release the line buffer; the parser must be initialised again before reuse. */
void http_reader_free(struct http_reader *r);
/* Ready for the next response on the same connection (the line buffer is kept). */
void http_reader_begin(struct http_reader *r);
/* Read up to len more bytes, handing lines and body bytes to cb (with ctx). *used says
 * how many belonged to this response (all of them on MORE; on DONE those up to its end;
 * on ERROR those before the fault). */
enum http_reader_status http_reader_feed(struct http_reader *r, const char *buf, size_t len,
                                         size_t *used,
                                         const struct http_reader_callbacks *cb, void *ctx);
/* The server closed the connection: DONE for a body that runs until close, else ERROR
 * (error "closed": before a byte of the response came when !started). */
enum http_reader_status http_reader_eof(struct http_reader *r);
/* Does the comma-separated header value v[0..n) hold token (any case; blanks around
 * items ignored)? "keep-alive, Upgrade" holds "upgrade". */
bool http_list_has(const char *v, size_t n, const char *token);
/* Bytes fed and used but not handed on yet (part of a head line). */
size_t http_reader_held(const struct http_reader *r);

#endif
