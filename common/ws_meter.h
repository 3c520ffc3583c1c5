/* ws_meter.h: where each byte of a WebSocket frame stream goes: frame header, masking key
 * or payload, by the kind of frame (RFC 6455 section 5.2).
 *
 * A frame is: one byte of FIN, RSV1-3 and opcode; one byte of MASK and a 7-bit length;
 * 2 more length bytes when that was 126, 8 when it was 127 (network order); 4 bytes of
 * masking key when MASK is set; then the payload. The meter reads the bytes of one
 * direction as they cross the socket, in any split, and adds each byte to exactly one
 * cell of bytes[kind][part], so the cells always add up to the bytes fed: that is what
 * lets a byte count be held against the kernel's. It validates nothing (the framing
 * library does that, and fails the connection); it only has to follow the frame
 * boundaries, which the header alone decides. Kinds: ping, pong and close (opcodes 9, 10,
 * 8), and data for every other opcode (text, binary, continuation, and the reserved
 * ones, which a peer may send once before it is failed). Both sides of the lab use it:
 * the client for its frame counts, the server for /stats.
 */
#ifndef PUSHPULL_WS_METER_H
#define PUSHPULL_WS_METER_H

#include <stddef.h>
#include <stdint.h>

enum ws_kind { WS_KIND_DATA, WS_KIND_PING, WS_KIND_PONG, WS_KIND_CLOSE, WS_KINDS };
enum ws_part {
    WS_PART_HEADER,  /* the opcode and length bytes, 2 to 10 */
    WS_PART_MASK,    /* the masking key, 4 or 0 */
    WS_PART_PAYLOAD, /* the (masked or not) payload */
    WS_PARTS
};

struct ws_meter {
    uint64_t bytes[WS_KINDS][WS_PARTS]; /* bytes fed, by frame kind and part */
    uint64_t frames[WS_KINDS];          /* frames begun, by kind */
    /* where in the current frame (private) */
    unsigned state;     /* which field the next byte belongs to */
    enum ws_kind kind;  /* the current frame's kind */
    unsigned need;      /* bytes left in the current length or mask field */
    int masked;         /* the current frame has a masking key */
    uint64_t remaining; /* payload bytes left (the length while it is being read) */
};

/* Start at a frame boundary, all counts 0. */
void ws_meter_init(struct ws_meter *m);
/* Account for len more bytes of the stream. */
void ws_meter_feed(struct ws_meter *m, const uint8_t *buf, size_t len);
/* The sum of every cell: the bytes fed so far. */
uint64_t ws_meter_total(const struct ws_meter *m);
/* The sum of the three parts of one kind. */
uint64_t ws_meter_kind_bytes(const struct ws_meter *m, enum ws_kind k);
/* 1 when the bytes fed so far end exactly at a frame boundary (no frame half read). */
int ws_meter_at_boundary(const struct ws_meter *m);

#endif
