/* ws_frame.c: RFC 6455 client frames and the server-frame decoder (see ws_frame.h).
 *
 * The decoder's rules (RFC 6455 section 5), each failure with the close code a client
 * would send (section 7.4.1):
 *  1. A frame header is 2 bytes, then 2 or 8 bytes of extended length when the 7-bit
 *     length is 126 or 127, then 4 mask bytes when MASK is set. The length must use the
 *     shortest form and the 64-bit form must have its top bit clear (else 1002).
 *  2. A server's frames are never masked (1002), and with no extension negotiated the
 *     RSV bits are 0 (1002). Opcodes 3-7 and 11-15 are reserved (1002).
 *  3. Control frames (close, ping, pong) have FIN set and at most 125 bytes (1002); they
 *     may come between the fragments of a message and are handed out at once.
 *  4. A message is a text or binary frame, then continuation frames until one has FIN. A
 *     continuation with no message open, or a new text/binary frame while one is open, is
 *     1002. A message longer than max_message is 1009.
 *  5. Text is not checked for valid UTF-8 (1007 in the RFC): the bench only looks for
 *     JSON members in it. We say so here instead of pretending.
 * A message that arrives as one frame inside one feed is handed out in place; only
 * fragmented or split messages are copied.
 */
#include "ws_frame.h"

#include <string.h>

int ws_frame_append(struct dynbuf *out, enum ws_opcode opcode, const void *payload,
                    size_t len, const uint8_t mask[4])
{
    if (opcode >= WS_CLOSE && len > 125)
        return -1;
    uint8_t hdr[14];
    size_t n = 0;
    hdr[n++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[n++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        hdr[n++] = 0x80 | 126;
        hdr[n++] = (uint8_t)(len >> 8);
        hdr[n++] = (uint8_t)len;
    } else {
        hdr[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(hdr + n, mask, 4);
    n += 4;
    if (dynbuf_add(out, hdr, n) != 0)
        return -1;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)(p[i] ^ mask[i & 3]);
        if (dynbuf_add(out, &b, 1) != 0)
            return -1;
    }
    return 0;
}

void ws_reader_init(struct ws_reader *r, size_t max_message)
{
    memset(r, 0, sizeof(*r));
    r->max_message = max_message ? max_message : (size_t)1 << 20;
    dynbuf_init(&r->msg, r->max_message);
    r->msg_type = WS_CONT;
}

void ws_reader_free(struct ws_reader *r)
{
    dynbuf_free(&r->msg);
}

static enum ws_status fail(struct ws_reader *r, unsigned code, const char *why)
{
    r->error = why;
    r->close_code = code;
    return WS_ERROR;
}

/* Bytes the header needs in all, from what of it has arrived (at least 2 bytes). */
static size_t header_need(const struct ws_reader *r)
{
    unsigned len7 = r->hdr[1] & 0x7F;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((r->hdr[1] & 0x80) ? 4 : 0);
}

/* The header is complete: check it (rules 1-4) and set up the payload. */
static enum ws_status start_frame(struct ws_reader *r)
{
    uint8_t b0 = r->hdr[0], b1 = r->hdr[1];
    unsigned len7 = b1 & 0x7F;
    uint64_t len = len7;
    if (len7 == 126) {
        len = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
        if (len < 126)
            return fail(r, 1002, "frame length not in its shortest form");
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | r->hdr[2 + i];
        if (len >> 63)
            return fail(r, 1002, "frame length with its top bit set");
        if (len <= 0xFFFF)
            return fail(r, 1002, "frame length not in its shortest form");
    }
    if (b1 & 0x80)
        return fail(r, 1002, "masked frame from the server");
    if (b0 & 0x70)
        return fail(r, 1002, "RSV bit set with no extension negotiated");
    r->fin = (b0 & 0x80) != 0;
    r->opcode = (enum ws_opcode)(b0 & 0x0F);
    int control = r->opcode >= WS_CLOSE;
    if ((r->opcode > WS_BINARY && r->opcode < WS_CLOSE) || r->opcode > WS_PONG)
        return fail(r, 1002, "reserved opcode");
    if (control && (!r->fin || len > 125))
        return fail(r, 1002, "fragmented or oversized control frame");
    if (r->opcode == WS_CONT && r->msg_type == WS_CONT)
        return fail(r, 1002, "continuation frame with no message open");
    if ((r->opcode == WS_TEXT || r->opcode == WS_BINARY) && r->msg_type != WS_CONT)
        return fail(r, 1002, "new message inside a fragmented one");
    if (!control && r->msg.len + len > r->max_message)
        return fail(r, 1009, "message too big");
    if (r->opcode == WS_TEXT || r->opcode == WS_BINARY)
        r->msg_type = r->opcode;
    r->header_bytes += r->hdr_len;
    r->frames++;
    r->hdr_len = 0;
    r->remaining = len;
    r->in_payload = 1;
    r->ctl_len = 0;
    return WS_MORE;
}

/* The current frame's payload is complete: hand out what it finished. */
static enum ws_status end_frame(struct ws_reader *r, ws_message_fn fn, void *ctx)
{
    r->in_payload = 0;
    if (r->opcode >= WS_CLOSE)
        return fn && fn(ctx, r->opcode, r->ctl, r->ctl_len) != 0 ? WS_STOPPED : WS_MORE;
    if (!r->fin)
        return WS_MORE;
    enum ws_opcode type = r->msg_type;
    r->msg_type = WS_CONT;
    r->messages++;
    int stop = fn && fn(ctx, type, r->msg.mem ? r->msg.mem : "", r->msg.len) != 0;
    dynbuf_reset(&r->msg);
    return stop ? WS_STOPPED : WS_MORE;
}

enum ws_status ws_reader_feed(struct ws_reader *r, const char *buf, size_t len,
                              ws_message_fn fn, void *ctx)
{
    if (r->error)
        return WS_ERROR;
    size_t i = 0;
    for (;;) {
        if (r->in_payload && r->remaining == 0) {
            enum ws_status st = end_frame(r, fn, ctx);
            if (st != WS_MORE)
                return st;
        }
        if (i >= len)
            return WS_MORE;
        if (!r->in_payload) {
            r->hdr[r->hdr_len++] = (uint8_t)buf[i++];
            if (r->hdr_len >= 2 && r->hdr_len == header_need(r)) {
                enum ws_status st = start_frame(r);
                if (st != WS_MORE)
                    return st;
            }
            continue;
        }
        size_t take = len - i < r->remaining ? len - i : (size_t)r->remaining;
        r->payload_bytes += take;
        r->remaining -= take;
        if (r->opcode >= WS_CLOSE) {
            memcpy(r->ctl + r->ctl_len, buf + i, take);
            r->ctl_len += take;
        } else if (r->remaining == 0 && r->fin && r->opcode != WS_CONT && r->msg.len == 0) {
            /* a whole single-frame message in this feed: hand it out in place */
            r->in_payload = 0;
            r->msg_type = WS_CONT;
            r->messages++;
            i += take;
            if (fn && fn(ctx, r->opcode, buf + i - take, take) != 0)
                return WS_STOPPED;
            continue;
        } else if (dynbuf_add(&r->msg, buf + i, take) != 0) {
            return fail(r, 1009, "message too big");
        }
        i += take;
    }
}
