/* test_ws_meter.c: the frame byte meter (common/ws_meter.c).
 *
 * A stream of frames of every header shape (lengths 0, 1, 125, 126, 65535, 65536 and
 * 70000, masked and not, data and control) is built here byte by byte with its expected
 * cells; the meter must file every byte where expected whether the stream comes whole,
 * byte by byte, or split at every point. A second stream is written by wslay itself in
 * client mode (masked, its own random keys), so the meter is also held against a framer
 * nobody here wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "dynbuf.h"
#include "ws_meter.h"

struct expect {
    uint64_t bytes[WS_KINDS][WS_PARTS];
    uint64_t frames[WS_KINDS];
};

/* Append one frame of opcode with a payload of len bytes ('x'), masked or not. */
static void add_frame(struct dynbuf *b, struct expect *e, uint8_t opcode, uint64_t len,
                      int masked, enum ws_kind kind)
{
    uint8_t h[14];
    size_t n = 0;
    h[n++] = (uint8_t)(0x80 | opcode);
    uint8_t mbit = masked ? 0x80 : 0;
    if (len < 126) {
        h[n++] = (uint8_t)(mbit | len);
    } else if (len <= 0xFFFF) {
        h[n++] = (uint8_t)(mbit | 126);
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = (uint8_t)(mbit | 127);
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)(len >> (8 * i));
    }
    assert_int_equal(dynbuf_add(b, h, n), 0);
    e->bytes[kind][WS_PART_HEADER] += n;
    e->frames[kind]++;
    if (masked) {
        assert_int_equal(dynbuf_add(b, "\x01\x02\x03\x04", 4), 0);
        e->bytes[kind][WS_PART_MASK] += 4;
    }
    char *p = malloc(len + 1);
    assert_non_null(p);
    memset(p, 'x', len);
    assert_int_equal(dynbuf_add(b, p, len), 0);
    free(p);
    e->bytes[kind][WS_PART_PAYLOAD] += len;
}

static void check(const struct ws_meter *m, const struct expect *e, uint64_t total)
{
    for (int k = 0; k < WS_KINDS; k++) {
        assert_int_equal(m->frames[k], e->frames[k]);
        for (int p = 0; p < WS_PARTS; p++)
            if (m->bytes[k][p] != e->bytes[k][p])
                fail_msg("kind %d part %d: %llu, expected %llu", k, p,
                         (unsigned long long)m->bytes[k][p],
                         (unsigned long long)e->bytes[k][p]);
    }
    assert_int_equal(ws_meter_total(m), total);
}

static void small_stream(struct dynbuf *b, struct expect *e)
{
    dynbuf_init(b, 1 << 20);
    memset(e, 0, sizeof(*e));
    add_frame(b, e, 0x1, 0, 0, WS_KIND_DATA);
    add_frame(b, e, 0x1, 1, 1, WS_KIND_DATA);
    add_frame(b, e, 0x9, 0, 0, WS_KIND_PING);
    add_frame(b, e, 0xA, 0, 1, WS_KIND_PONG);
    add_frame(b, e, 0x1, 125, 0, WS_KIND_DATA);
    add_frame(b, e, 0x0, 126, 1, WS_KIND_DATA);
    add_frame(b, e, 0x9, 4, 1, WS_KIND_PING);
    add_frame(b, e, 0x2, 300, 0, WS_KIND_DATA);
    add_frame(b, e, 0x3, 2, 0, WS_KIND_DATA); /* reserved: counted as data */
    add_frame(b, e, 0x8, 2, 1, WS_KIND_CLOSE);
}

static void whole_and_byte_by_byte(void **state)
{
    (void)state;
    struct dynbuf b;
    struct expect e;
    small_stream(&b, &e);
    struct ws_meter m;
    ws_meter_init(&m);
    ws_meter_feed(&m, (const uint8_t *)b.mem, b.len);
    check(&m, &e, b.len);
    ws_meter_init(&m);
    for (size_t i = 0; i < b.len; i++)
        ws_meter_feed(&m, (const uint8_t *)b.mem + i, 1);
    check(&m, &e, b.len);
    dynbuf_free(&b);
}

static void every_split(void **state)
{
    (void)state;
    struct dynbuf b;
    struct expect e;
    small_stream(&b, &e);
    for (size_t cut = 0; cut <= b.len; cut++) {
        struct ws_meter m;
        ws_meter_init(&m);
        ws_meter_feed(&m, (const uint8_t *)b.mem, cut);
        ws_meter_feed(&m, (const uint8_t *)b.mem + cut, b.len - cut);
        check(&m, &e, b.len);
    }
    dynbuf_free(&b);
}

static void long_lengths(void **state)
{
    (void)state;
    struct dynbuf b;
    struct expect e;
    dynbuf_init(&b, 1 << 20);
    memset(&e, 0, sizeof(e));
    add_frame(&b, &e, 0x1, 65535, 0, WS_KIND_DATA);
    add_frame(&b, &e, 0x1, 65536, 1, WS_KIND_DATA);
    add_frame(&b, &e, 0x2, 70000, 0, WS_KIND_DATA);
    add_frame(&b, &e, 0x8, 0, 0, WS_KIND_CLOSE);
    assert_int_equal(e.bytes[WS_KIND_DATA][WS_PART_HEADER], 4 + 10 + 10);
    size_t cuts[] = {0, 1, 2, 3, 4, 5, 65538, 65539, 65540, 65541, 65545, 131085, b.len};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        struct ws_meter m;
        ws_meter_init(&m);
        ws_meter_feed(&m, (const uint8_t *)b.mem, cuts[i]);
        ws_meter_feed(&m, (const uint8_t *)b.mem + cuts[i], b.len - cuts[i]);
        check(&m, &e, b.len);
    }
    dynbuf_free(&b);
}

/* ---- against wslay's own client framing --------------------------------------------- */

static ssize_t to_buf(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                      int flags, void *user)
{
    (void)ctx;
    (void)flags;
    return dynbuf_add(user, data, len) == 0 ? (ssize_t)len : -1;
}

static int genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    return 0;
}

/* ws_meter_at_boundary: true before the first byte and after each whole frame (an empty
 * one included), false anywhere inside one, header, key or payload. */
static void knows_frame_boundaries(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    struct expect e;
    memset(&e, 0, sizeof(e));
    size_t ends[3];
    add_frame(&b, &e, 0x1, 0, 1, WS_KIND_DATA); /* 2 + 4 */
    ends[0] = b.len;
    add_frame(&b, &e, 0x9, 5, 0, WS_KIND_PING); /* 2 + 5 */
    ends[1] = b.len;
    add_frame(&b, &e, 0x1, 300, 1, WS_KIND_DATA); /* 4 + 4 + 300 */
    ends[2] = b.len;
    struct ws_meter m;
    ws_meter_init(&m);
    assert_true(ws_meter_at_boundary(&m));
    for (size_t i = 0; i < b.len; i++) {
        ws_meter_feed(&m, (const uint8_t *)b.mem + i, 1);
        bool end = i + 1 == ends[0] || i + 1 == ends[1] || i + 1 == ends[2];
        if (end != (ws_meter_at_boundary(&m) != 0))
            fail_msg("after byte %zu: at a boundary %d, expected %d", i + 1,
                     ws_meter_at_boundary(&m), end);
    }
    dynbuf_free(&b);
}

static void matches_wslay_client_frames(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 1 << 22);
    struct wslay_event_callbacks cb = {NULL, to_buf, genmask, NULL, NULL, NULL, NULL};
    wslay_event_context_ptr ctx;
    assert_int_equal(wslay_event_context_client_init(&ctx, &cb, &out), 0);
    static uint8_t text[100000];
    memset(text, 'a', sizeof(text));
    size_t lens[] = {0, 10, 125, 126, 1000, 65535, 65536, 100000};
    uint64_t payload = 0;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, text, lens[i]};
        assert_int_equal(wslay_event_queue_msg(ctx, &msg), 0);
        payload += lens[i];
    }
    /* control frames jump wslay's queue: send the data first */
    assert_int_equal(wslay_event_send(ctx), 0);
    struct wslay_event_msg pong = {WSLAY_PONG, (const uint8_t *)"hb", 2};
    assert_int_equal(wslay_event_queue_msg(ctx, &pong), 0);
    assert_int_equal(wslay_event_send(ctx), 0);
    assert_int_equal(wslay_event_queue_close(ctx, 1001, NULL, 0), 0);
    assert_int_equal(wslay_event_send(ctx), 0);
    wslay_event_context_free(ctx);

    struct ws_meter m;
    ws_meter_init(&m);
    for (size_t i = 0; i < out.len; i += 7)
        ws_meter_feed(&m, (const uint8_t *)out.mem + i, out.len - i < 7 ? out.len - i : 7);
    assert_int_equal(ws_meter_total(&m), out.len);
    assert_int_equal(m.frames[WS_KIND_DATA], 8);
    assert_int_equal(m.bytes[WS_KIND_DATA][WS_PART_PAYLOAD], payload);
    assert_int_equal(m.bytes[WS_KIND_DATA][WS_PART_MASK], 8 * 4);
    /* RFC 6455 5.2: 2 bytes up to 125, 4 up to 65535, 10 beyond */
    assert_int_equal(m.bytes[WS_KIND_DATA][WS_PART_HEADER], 3 * 2 + 3 * 4 + 2 * 10);
    assert_int_equal(ws_meter_kind_bytes(&m, WS_KIND_PONG), 2 + 4 + 2);
    assert_int_equal(ws_meter_kind_bytes(&m, WS_KIND_CLOSE), 2 + 4 + 2);
    dynbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_and_byte_by_byte),
        cmocka_unit_test(every_split),
        cmocka_unit_test(long_lengths),
        cmocka_unit_test(knows_frame_boundaries),
        cmocka_unit_test(matches_wslay_client_frames),
    };
    return cmocka_run_group_tests_name("ws_meter", tests, NULL, NULL);
}
