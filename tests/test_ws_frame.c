/* test_ws_frame.c: unit tests for the reference client's WebSocket framing
 * (bench/ws_frame.c): the handshake values and frames of RFC 6455's own examples, the
 * client's masked frames, and the server-frame decoder fed whole, byte by byte and split
 * at every offset, with each protocol error and the close code it maps to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bench/ws_frame.h"
#include "dynbuf.h"

/* RFC 6455 section 5.7: a masked "Hello"; and the 16- and 64-bit length forms. */
static void test_client_frames(void **state)
{
    (void)state;
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    static const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                    0x7f, 0x9f, 0x4d, 0x51, 0x58};
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    assert_int_equal(ws_frame_append(&b, WS_TEXT, "Hello", 5, mask), 0);
    assert_int_equal(b.len, sizeof(hello));
    assert_memory_equal(b.mem, hello, sizeof(hello));

    static char big[70000];
    dynbuf_reset(&b);
    assert_int_equal(ws_frame_append(&b, WS_BINARY, big, 256, mask), 0);
    assert_int_equal(b.len, 2 + 2 + 4 + 256);
    assert_int_equal((uint8_t)b.mem[1], 0x80 | 126);
    assert_int_equal((uint8_t)b.mem[2], 1);
    assert_int_equal((uint8_t)b.mem[3], 0);
    dynbuf_reset(&b);
    assert_int_equal(ws_frame_append(&b, WS_BINARY, big, 65536, mask), 0);
    assert_int_equal(b.len, 2 + 8 + 4 + 65536);
    assert_int_equal((uint8_t)b.mem[1], 0x80 | 127);
    assert_int_equal((uint8_t)b.mem[7], 1); /* 0x0000000000010000 */
    /* control frames carry at most 125 bytes */
    assert_int_equal(ws_frame_append(&b, WS_PING, big, 126, mask), -1);
    assert_int_equal(ws_frame_append(&b, WS_PONG, big, 125, mask), 0);
    dynbuf_free(&b);
}

struct log {
    char text[4096]; /* "T:Hello|P:x|..." one entry per callback */
    int stop_on_close;
};

static int on_message(void *ctx, enum ws_opcode op, const char *data, size_t len)
{
    struct log *l = ctx;
    char kind = op == WS_TEXT     ? 'T'
                : op == WS_BINARY ? 'B'
                : op == WS_PING   ? 'P'
                : op == WS_PONG   ? 'O'
                : op == WS_CLOSE  ? 'C'
                                  : '?';
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof(l->text) - n, "%c%zu:", kind, len);
    n = strlen(l->text);
    for (size_t i = 0; i < len && n + 2 < sizeof(l->text); i++)
        l->text[n++] = data[i] >= 32 && data[i] < 127 ? data[i] : '.';
    l->text[n++] = '|';
    l->text[n] = '\0';
    return op == WS_CLOSE && l->stop_on_close;
}

struct frame_case {
    const char *name;
    const char *in; /* bytes */
    size_t len;
    int want;        /* WS_MORE, WS_STOPPED or WS_ERROR */
    const char *log; /* callbacks so far */
    unsigned code;   /* close code for errors */
    size_t max;      /* max_message (0: default) */
};

#define B(s) s, sizeof(s) - 1
static const struct frame_case cases[] = {
    {"unmasked Hello (RFC 5.7)", B("\x81\x05Hello"), WS_MORE, "T5:Hello|", 0, 0},
    {"fragments joined (RFC 5.7)", B("\x01\x03Hel\x80\x02lo"), WS_MORE, "T5:Hello|", 0, 0},
    {"a ping between fragments", B("\x01\x03Hel\x89\x01x\x80\x02lo"), WS_MORE,
     "P1:x|T5:Hello|", 0, 0},
    {"ping and pong (RFC 5.7)", B("\x89\x05Hello\x8a\x05Hello"), WS_MORE,
     "P5:Hello|O5:Hello|", 0, 0},
    {"empty text, then text", B("\x81\x00\x81\x01z"), WS_MORE, "T0:|T1:z|", 0, 0},
    {"an unfinished frame is held", B("\x81\x05Hel"), WS_MORE, "", 0, 0},
    {"an unfinished message is held", B("\x01\x03Hel"), WS_MORE, "", 0, 0},
    {"close stops", B("\x88\x02\x03\xe8\x81\x01z"), WS_STOPPED, "C2:..|", 0, 0},
    {"error: masked server frame", B("\x81\x85\x00\x00\x00\x00Hello"), WS_ERROR, "", 1002,
     0},
    {"error: RSV1", B("\xc1\x01x"), WS_ERROR, "", 1002, 0},
    {"error: reserved opcode 3", B("\x83\x00"), WS_ERROR, "", 1002, 0},
    {"error: reserved opcode 11", B("\x8b\x00"), WS_ERROR, "", 1002, 0},
    {"error: fragmented ping", B("\x09\x00"), WS_ERROR, "", 1002, 0},
    {"error: control frame of 126", B("\x89\x7e\x00\x7e"), WS_ERROR, "", 1002, 0},
    {"error: continuation with nothing open", B("\x80\x01x"), WS_ERROR, "", 1002, 0},
    {"error: text inside a fragmented message", B("\x01\x01x\x81\x01y"), WS_ERROR, "", 1002,
     0},
    {"error: 16-bit length under 126", B("\x81\x7e\x00\x05Hello"), WS_ERROR, "", 1002, 0},
    {"error: 64-bit length under 65536", B("\x82\x7f\x00\x00\x00\x00\x00\x00\x01\x00"),
     WS_ERROR, "", 1002, 0},
    {"error: 64-bit length with its top bit", B("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"),
     WS_ERROR, "", 1002, 0},
    {"error: message too big",
     B("\x01\x04"
       "abcd"
       "\x80\x04"
       "efgh"),
     WS_ERROR, "", 1009, 6},
};

static int feed_way(const struct frame_case *tc, const size_t *cuts, size_t ncuts,
                    struct ws_reader *r, struct log *l)
{
    size_t start = 0;
    int st = WS_MORE;
    for (size_t k = 0; k <= ncuts && st == WS_MORE; k++) {
        size_t end = k < ncuts ? cuts[k] : tc->len;
        st = ws_reader_feed(r, tc->in + start, end - start, on_message, l);
        start = end;
    }
    return st;
}

static void run_way(const struct frame_case *tc, const size_t *cuts, size_t ncuts,
                    const char *how)
{
    struct ws_reader r;
    struct log l = {.stop_on_close = 1};
    ws_reader_init(&r, tc->max);
    int st = feed_way(tc, cuts, ncuts, &r, &l);
    if (st != tc->want || strcmp(l.text, tc->log) != 0)
        fail_msg("%s (%s): status %d want %d, log '%s' want '%s' (%s)", tc->name, how, st,
                 tc->want, l.text, tc->log, r.error ? r.error : "no error");
    if (st == WS_ERROR)
        assert_int_equal(r.close_code, tc->code);
    if (st == WS_MORE && tc->want == WS_MORE && cuts == NULL)
        assert_int_equal(r.header_bytes + r.payload_bytes + r.hdr_len, tc->len);
    ws_reader_free(&r);
}

static void test_decoder_table(void **state)
{
    (void)state;
    size_t cuts[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct frame_case *tc = &cases[i];
        run_way(tc, NULL, 0, "whole");
        for (size_t k = 0; k < tc->len; k++)
            cuts[k] = k + 1;
        run_way(tc, cuts, tc->len, "byte by byte");
        for (size_t at = 0; at <= tc->len; at++) {
            size_t two[2] = {at, at};
            char how[32];
            snprintf(how, sizeof(how), "split at %zu", at);
            run_way(tc, two, 2, how);
        }
    }
}

/* A 64 KiB binary message with the 64-bit length (RFC 5.7's last example), in pieces. */
static void test_big_message(void **state)
{
    (void)state;
    static char frame[10 + 65536];
    memcpy(frame, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    memset(frame + 10, 'q', 65536);
    struct ws_reader r;
    struct log l = {.stop_on_close = 0};
    ws_reader_init(&r, 0);
    for (size_t off = 0; off < sizeof(frame); off += 1000) {
        size_t n = sizeof(frame) - off < 1000 ? sizeof(frame) - off : 1000;
        assert_int_equal(ws_reader_feed(&r, frame + off, n, on_message, &l), WS_MORE);
    }
    assert_int_equal(strncmp(l.text, "B65536:qqq", 10), 0);
    assert_int_equal(r.messages, 1);
    assert_int_equal(r.header_bytes, 10);
    assert_int_equal(r.payload_bytes, 65536);
    ws_reader_free(&r);
}

/* After an error the reader stays failed. */
static void test_sticky_error(void **state)
{
    (void)state;
    struct ws_reader r;
    struct log l = {.stop_on_close = 0};
    ws_reader_init(&r, 0);
    assert_int_equal(ws_reader_feed(&r, "\x83\x00", 2, on_message, &l), WS_ERROR);
    assert_int_equal(ws_reader_feed(&r, "\x81\x01x", 3, on_message, &l), WS_ERROR);
    assert_string_equal(l.text, "");
    ws_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_frames),
        cmocka_unit_test(test_decoder_table),
        cmocka_unit_test(test_big_message),
        cmocka_unit_test(test_sticky_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
