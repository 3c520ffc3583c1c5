/* ws_meter.c: follow frame boundaries and file every byte (ws_meter.h).
 *
 * Four states: the first header byte, the second, the extended length, the masking key,
 * the payload; a payload is skipped in one step however long it is, so the cost is per
 * header byte, not per payload byte. A frame with no payload goes straight back to the
 * first state after its header (or its key).
 */
#include "ws_meter.h"

#include <string.h>

enum { ST_B0, ST_B1, ST_EXT, ST_MASK, ST_PAYLOAD };

void ws_meter_init(struct ws_meter *m)
{
    memset(m, 0, sizeof(*m));
    m->state = ST_B0;
}

static enum ws_kind kind_of(uint8_t opcode)
{
    switch (opcode) {
    case 0x8:
        return WS_KIND_CLOSE;
    case 0x9:
        return WS_KIND_PING;
    case 0xA:
        return WS_KIND_PONG;
    default:
        return WS_KIND_DATA;
    }
}

/* The header (and key) are complete: on to the payload, or to the next frame. */
static void header_done(struct ws_meter *m)
{
    m->state = m->remaining > 0 ? ST_PAYLOAD : ST_B0;
}

/* One byte of the header or the key. */
static void header_byte(struct ws_meter *m, uint8_t c)
{
    switch (m->state) {
    case ST_B0:
        m->kind = kind_of(c & 0x0F);
        m->frames[m->kind]++;
        m->bytes[m->kind][WS_PART_HEADER]++;
        m->state = ST_B1;
        return;
    case ST_B1:
        m->bytes[m->kind][WS_PART_HEADER]++;
        m->masked = (c & 0x80) != 0;
        m->remaining = c & 0x7F;
        if (m->remaining >= 126) {
            m->need = m->remaining == 126 ? 2 : 8;
            m->remaining = 0;
            m->state = ST_EXT;
        } else if (m->masked) {
            m->need = 4;
            m->state = ST_MASK;
        } else {
            header_done(m);
        }
        return;
    case ST_EXT:
        m->bytes[m->kind][WS_PART_HEADER]++;
        m->remaining = (m->remaining << 8) | c;
        if (--m->need > 0)
            return;
        if (m->masked) {
            m->need = 4;
            m->state = ST_MASK;
        } else {
            header_done(m);
        }
        return;
    case ST_MASK:
        m->bytes[m->kind][WS_PART_MASK]++;
        if (--m->need == 0)
            header_done(m);
        return;
    }
}

void ws_meter_feed(struct ws_meter *m, const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (m->state == ST_PAYLOAD) {
            uint64_t take = len - i < m->remaining ? len - i : m->remaining;
            m->bytes[m->kind][WS_PART_PAYLOAD] += take;
            m->remaining -= take;
            i += (size_t)take;
            if (m->remaining == 0)
                m->state = ST_B0;
            continue;
        }
        header_byte(m, buf[i++]);
    }
}

uint64_t ws_meter_kind_bytes(const struct ws_meter *m, enum ws_kind k)
{
    return m->bytes[k][WS_PART_HEADER] + m->bytes[k][WS_PART_MASK] +
           m->bytes[k][WS_PART_PAYLOAD];
}

uint64_t ws_meter_total(const struct ws_meter *m)
{
    uint64_t t = 0;
    for (int k = 0; k < WS_KINDS; k++)
        t += ws_meter_kind_bytes(m, (enum ws_kind)k);
    return t;
}

int ws_meter_at_boundary(const struct ws_meter *m)
{
    return m->state == ST_B0;
}
