/* ws_handshake.h: the server's answer to a WebSocket opening handshake, read as it
 * arrives and judged as RFC 6455 section 4.1 tells a client to judge it.
 *
 * A parser that knows nothing of sockets, in the style of picohttpparser: feed it the
 * bytes read so far, in any split; it says "more" until the response head is complete,
 * then "done" and how many of the bytes fed were the head (the rest are the first frames,
 * which a server may send at once behind the 101). Memory is bounded: one header line is
 * kept at a time, at most WS_HS_LINE_MAX bytes of it, and the whole head is refused past
 * WS_HS_HEAD_MAX bytes.
 *
 * The wire rules it follows (RFC 9112 sections 2.2, 4 and 5): a status line
 * "HTTP/1.x SP 3DIGIT [SP reason]"; header lines "name: value" with optional blanks around
 * the value; lines end with CRLF, or a bare LF (which section 2.2 lets a recipient accept);
 * the head ends with an empty line. Refused as malformed: a status line of another shape,
 * a line with a control character (other than a tab in a value), a header line without a
 * colon or with a blank before it (section 5.1), an obsolete folded line (one starting
 * with a blank), a header this parser checks that is longer than WS_HS_LINE_MAX.
 *
 * The verdict (section 4.1, "the client MUST validate the server's response"): the status
 * must be 101; Upgrade must be "websocket" (any case); Connection must hold the token
 * "Upgrade" (any case, in a list, in any of its lines); Sec-WebSocket-Accept must be
 * given once and equal the value the key calls for; and since this client asks for no
 * subprotocol and speaks no extension, a Sec-WebSocket-Protocol or
 * Sec-WebSocket-Extensions in the answer fails it too (a browser that offered
 * permessage-deflate and was granted it would use it; this client cannot).
 */
#ifndef PUSHPULL_WS_HANDSHAKE_H
#define PUSHPULL_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#define WS_HS_LINE_MAX 1024        /* bytes of one header line kept */
#define WS_HS_HEAD_MAX (16 * 1024) /* a longer response head is refused */

enum ws_hs_status {
    WS_HS_MORE, /* the head is not complete: feed more */
    WS_HS_DONE, /* the head is complete: ask for the verdict */
    WS_HS_ERROR /* not an HTTP response head, or too big (sticky) */
};

enum ws_hs_verdict {
    WS_HS_OK,            /* the connection is a WebSocket now */
    WS_HS_STATUS,        /* the status was not 101: an HTTP answer (ws_handshake_status) */
    WS_HS_NO_UPGRADE,    /* Upgrade missing, or not "websocket" */
    WS_HS_NO_CONNECTION, /* Connection missing, or without "Upgrade" */
    WS_HS_BAD_ACCEPT,    /* Sec-WebSocket-Accept missing, repeated or wrong */
    WS_HS_EXTENSION,     /* an extension was granted that was not asked for */
    WS_HS_SUBPROTOCOL,   /* a subprotocol was chosen that was not offered */
    WS_HS_MALFORMED      /* the head was not complete or not HTTP (WS_HS_ERROR) */
};

struct ws_handshake {
    /* results */
    int status;          /* the status code, 0 until the status line is read */
    size_t head_bytes;   /* bytes of the head consumed so far (all of it once done) */
    bool upgrade_ok;     /* an Upgrade: websocket line */
    bool connection_ok;  /* a Connection line with the Upgrade token */
    unsigned accepts;    /* Sec-WebSocket-Accept lines */
    char accept[64];     /* the (first) value, trimmed; "" if none or too long */
    bool has_extensions; /* a non-empty Sec-WebSocket-Extensions line */
    bool has_protocol;   /* a Sec-WebSocket-Protocol line */
    /* the parser (private) */
    enum ws_hs_status st;          /* sticky once DONE or ERROR */
    bool status_line_done;         /* the first line has been read */
    char line[WS_HS_LINE_MAX + 1]; /* the current line so far (truncated) */
    size_t line_len;               /* its bytes, counted past the buffer too */
    bool cr;                       /* its last byte so far was a CR */
};

/* Ready for a new response. */
void ws_handshake_init(struct ws_handshake *h);
/* Read up to len more bytes; *used says how many belonged to the head (all of them while
 * MORE; on DONE, those up to the blank line; on ERROR, those read before the fault). */
enum ws_hs_status ws_handshake_feed(struct ws_handshake *h, const char *buf, size_t len,
                                    size_t *used);
/* After DONE (or ERROR): is this the answer to the key whose accept value is
 * expected_accept (ws_accept_for)? */
enum ws_hs_verdict ws_handshake_verdict(const struct ws_handshake *h,
                                        const char *expected_accept);
/* "ok", "status", "no upgrade", ... for messages. */
const char *ws_handshake_verdict_name(enum ws_hs_verdict v);

#endif
