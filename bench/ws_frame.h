/* ws_frame.h: the client's side of RFC 6455 WebSocket framing, for the reference client.
 *
 * Two pieces, neither of which touches a socket: an encoder for the masked frames a
 * client sends (section 5.3: every client frame is masked); and an incremental decoder
 * for the server's frames that reassembles fragmented messages and hands out control
 * frames as they come, even between fragments (section 5.4). The rules the decoder
 * enforces, and the close code each failure maps to, are in ws_frame.c. The handshake's
 * key and the Sec-WebSocket-Accept to expect are common/ws_accept's (libcrypto's SHA-1
 * and base64, checked against the RFC's example).
 *
 * Written from the RFC rather than with wslay on purpose: the reference client is the
 * bench's independent yardstick, so its framing shares no code with what it measures.
 */
#ifndef PUSHPULL_BENCH_WS_FRAME_H
#define PUSHPULL_BENCH_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"

enum ws_opcode {
    WS_CONT = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xA
};

/* Append one client frame (FIN set, the MASK bit set, payload XORed with mask) to out.
 * Control frames (close, ping, pong) must carry at most 125 bytes. Returns dynbuf_add's
 * result, or -1 for an oversized control frame. */
int ws_frame_append(struct dynbuf *out, enum ws_opcode opcode, const void *payload,
                    size_t len, const uint8_t mask[4]);

/* A complete message (text or binary, fragments joined) or a control frame (close, ping,
 * pong, with its payload). data is valid only during the call. Return 0 to go on,
 * non-zero to stop the feed (it then returns WS_STOPPED). */
typedef int (*ws_message_fn)(void *ctx, enum ws_opcode opcode, const char *data,
                             size_t len);

enum ws_status {
    WS_MORE = 0,    /* every byte consumed */
    WS_STOPPED = 1, /* the callback asked to stop; the rest of the feed was not read */
    WS_ERROR = -1   /* the server broke the protocol; error and close_code say how */
};

struct ws_reader {
    size_t max_message;     /* the largest message accepted (fragments joined) */
    uint64_t header_bytes;  /* frame header bytes read */
    uint64_t payload_bytes; /* payload bytes read (data and control frames) */
    uint64_t frames;        /* frames read */
    uint64_t messages;      /* data messages delivered */
    const char *error;      /* a static message after WS_ERROR */
    unsigned close_code;    /* the RFC close code for that error (1002, 1009) */
    /* decoder state (ws_frame.c) */
    uint8_t hdr[14];         /* the frame header so far */
    size_t hdr_len;          /* bytes in hdr */
    uint64_t remaining;      /* payload bytes of the current frame still to come */
    int in_payload;          /* 1 between the header and the payload's end */
    int fin;                 /* the current frame's FIN bit */
    enum ws_opcode opcode;   /* the current frame's opcode */
    enum ws_opcode msg_type; /* WS_TEXT/WS_BINARY while a message is open, else WS_CONT */
    struct dynbuf msg;       /* the open message's payload so far */
    char ctl[125];           /* a control frame's payload */
    size_t ctl_len;          /* bytes in ctl */
};

/* Start a reader (max_message 0 means 1 MiB). Free it with ws_reader_free. */
void ws_reader_init(struct ws_reader *r, size_t max_message);
/* Release the message buffer. */
void ws_reader_free(struct ws_reader *r);
/* Decode len more bytes from the server; complete messages and control frames go to
 * fn(ctx, ...). After WS_ERROR the reader stays failed. */
enum ws_status ws_reader_feed(struct ws_reader *r, const char *buf, size_t len,
                              ws_message_fn fn, void *ctx);

#endif
