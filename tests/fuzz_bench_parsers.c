/* fuzz_bench_parsers.c: libFuzzer harness for the bench's parsers: the HTTP/1.1 response
 * parser, the WebSocket frame decoder and the update scanner (the reference client's),
 * and the floor server's request-head parser (bench/).
 *
 * Byte 0 is a seed for the split sizes; the rest is fed to each parser twice, whole and in
 * seeded pieces, and both runs must agree: the same status, the same bytes used, the same
 * body (hashed), the same messages (hashed). The response parser's counts must add up to
 * the bytes it used. The scanner must not read past its input (ASan watches). The head
 * parser must say "more" for every prefix of a head it reads whole, and its fields must
 * lie inside the head. Any difference calls abort().
 */
#include "bench/floor_req.h"
#include "bench/http_resp.h"
#include "bench/update_scan.h"
#include "bench/ws_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void mix(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 0x100000001b3u;
    *h = (*h ^ n) * 0x100000001b3u;
}

/* Body bytes are hashed as one run, whatever pieces they came in. */
static void on_body(void *ctx, const char *buf, size_t len)
{
    uint64_t *h = ctx;
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ (unsigned char)buf[i]) * 0x100000001b3u;
}

static int on_message(void *ctx, enum ws_opcode op, const char *data, size_t len)
{
    mix(ctx, &op, sizeof(op));
    mix(ctx, data, len);
    return 0;
}

static size_t piece(uint32_t *seed, size_t left)
{
    *seed = *seed * 1103515245u + 12345u;
    size_t n = 1 + (*seed >> 16) % 17;
    return n < left ? n : left;
}

/* The response parser over d[0..n), in pieces when seed != 0; then the close. */
static void http_run(const char *d, size_t n, uint32_t seed, int *status, size_t *used,
                     uint64_t *hash)
{
    struct http_resp_callbacks cb = {NULL, on_body, hash};
    struct http_resp r;
    http_resp_init(&r, &cb);
    size_t pos = 0;
    int st = HTTP_RESP_MORE;
    while (pos < n && st == HTTP_RESP_MORE) {
        size_t len = seed ? piece(&seed, n - pos) : n - pos, u = 0;
        st = http_resp_feed(&r, d + pos, len, &u);
        pos += st == HTTP_RESP_ERROR ? 0 : u;
    }
    if (st == HTTP_RESP_MORE)
        st = http_resp_eof(&r);
    if (st != HTTP_RESP_ERROR && r.head_bytes + r.body_bytes + r.framing_bytes != pos)
        abort();
    *status = st;
    *used = pos;
}

static int ws_run(const char *d, size_t n, uint32_t seed, uint64_t *hash)
{
    struct ws_reader r;
    ws_reader_init(&r, 4096);
    size_t pos = 0;
    int st = WS_MORE;
    while (pos < n && st == WS_MORE) {
        size_t len = seed ? piece(&seed, n - pos) : n - pos;
        st = ws_reader_feed(&r, d + pos, len, on_message, hash);
        pos += len;
    }
    ws_reader_free(&r);
    return st;
}

static int inside(struct floor_span sp, const char *d, size_t head)
{
    return sp.len == 0 || (sp.p >= d && sp.p + sp.len <= d + head);
}

/* The floor's head parser on d[0..n) (exactly n bytes), whole and at a seeded prefix. */
static void floor_check(const char *d, size_t n, uint32_t seed)
{
    struct floor_req r, r2;
    size_t max = 64 + seed % 4096;
    enum floor_parse st = floor_req_parse(d, n, max, &r);
    if (st != FLOOR_HEAD)
        return;
    if (r.head_len > n || r.head_len > max || !inside(r.method, d, r.head_len) ||
        !inside(r.path, d, r.head_len) || !inside(r.if_none, d, r.head_len))
        abort();
    size_t cut = r.head_len ? (seed >> 8) % r.head_len : 0;
    if (floor_req_parse(d, cut, max, &r2) != FLOOR_MORE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t seed = data[0] | 1u;
    const char *d = (const char *)data + 1;
    size_t n = size - 1;

    int st1, st2;
    size_t used1, used2;
    uint64_t h1 = 0xcbf29ce484222325u, h2 = h1;
    http_run(d, n, 0, &st1, &used1, &h1);
    http_run(d, n, seed, &st2, &used2, &h2);
    if (st1 != st2 || (st1 != HTTP_RESP_ERROR && (used1 != used2 || h1 != h2)))
        abort();

    h1 = h2 = 0xcbf29ce484222325u;
    if (ws_run(d, n, 0, &h1) != ws_run(d, n, seed, &h2) || h1 != h2)
        abort();

    char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan catches a read past them */
    if (!copy)
        return 0;
    memcpy(copy, d, n);
    struct update_scan_result res;
    update_scan(copy, n, NULL, NULL, &res);
    floor_check(copy, n, seed);
    free(copy);
    return 0;
}
