/* fuzz_ws_handshake.c: libFuzzer harness for the WebSocket handshake answer's parser
 * (clients/ws_handshake.c) and the frame byte meter (common/ws_meter.c).
 *
 * The first 4 input bytes seed the split sizes; the rest is what a server sends: a
 * response head and whatever follows it. It is parsed whole and in seeded random pieces;
 * both runs must reach the same status, consume the same head bytes (never more than
 * were fed, and as many as were fed while more is wanted), read the same status code and
 * give the same verdict. The bytes after the head go through the meter whole and in
 * pieces: the same cells both ways, adding up to the bytes fed. Any difference calls
 * abort().
 */
#include "clients/ws_handshake.h"
#include "ws_meter.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

struct result {
    enum ws_hs_status st;
    size_t used;
    int status;
    enum ws_hs_verdict verdict;
};

static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static struct result parse(const char *buf, size_t len, uint32_t seed, bool pieces)
{
    struct ws_handshake h;
    struct result r = {WS_HS_MORE, 0, 0, WS_HS_MALFORMED};
    ws_handshake_init(&h);
    size_t off = 0;
    while (off < len && r.st == WS_HS_MORE) {
        size_t n = pieces ? 1 + next_rand(&seed) % 64 : len - off;
        if (n > len - off)
            n = len - off;
        size_t used = 0;
        r.st = ws_handshake_feed(&h, buf + off, n, &used);
        if (used > n || (r.st == WS_HS_MORE && used != n))
            abort();
        r.used += used;
        off += n;
    }
    if (h.head_bytes != r.used || r.used > WS_HS_HEAD_MAX)
        abort();
    r.status = h.status;
    r.verdict = ws_handshake_verdict(&h, ACCEPT);
    return r;
}

static void meter(const uint8_t *buf, size_t len, uint32_t seed, struct ws_meter *m,
                  bool pieces)
{
    ws_meter_init(m);
    size_t off = 0;
    while (off < len) {
        size_t n = pieces ? 1 + next_rand(&seed) % 32 : len - off;
        if (n > len - off)
            n = len - off;
        ws_meter_feed(m, buf + off, n);
        off += n;
    }
    if (ws_meter_total(m) != len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                    (uint32_t)data[3] << 24;
    const char *text = (const char *)data + 4;
    size_t len = size - 4;
    struct result whole = parse(text, len, seed, false);
    struct result split = parse(text, len, seed, true);
    if (whole.st != split.st || whole.used != split.used || whole.status != split.status ||
        whole.verdict != split.verdict)
        abort();
    struct ws_meter a, b;
    meter(data + 4 + whole.used, len - whole.used, seed, &a, false);
    meter(data + 4 + whole.used, len - whole.used, seed, &b, true);
    if (memcmp(a.bytes, b.bytes, sizeof(a.bytes)) != 0 ||
        memcmp(a.frames, b.frames, sizeof(a.frames)) != 0)
        abort();
    return 0;
}
