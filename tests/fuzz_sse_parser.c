/* fuzz_sse_parser.c: libFuzzer harness for the text/event-stream parser.
 *
 * The first 4 input bytes choose the setup: byte 0 the event cap (0 = default, else that
 * many bytes, to reach SSE_ERR_TOO_BIG), byte 1 bit 0 whether on_event stops every time
 * (the harness then resumes where the counts say it stopped), bytes 1..3 a seed for the
 * split sizes and for an end-of-stream reset somewhere in the middle. The rest is the
 * stream. It is parsed whole and in seeded random pieces; both runs must make the same
 * callbacks (hashed) and the same counts, and the counts must add up to the bytes fed.
 * Any difference calls abort().
 */
#include "sse_parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fz {
    uint64_t hash; /* FNV-1a over every callback and its arguments */
    int stop;      /* on_event's answer */
};

static void mix(struct fz *z, char tag, const void *p, size_t n)
{
    const unsigned char *b = p;
    z->hash = (z->hash ^ (unsigned char)tag) * 0x100000001b3u;
    for (size_t i = 0; i < n; i++)
        z->hash = (z->hash ^ b[i]) * 0x100000001b3u;
    z->hash = (z->hash ^ n) * 0x100000001b3u;
}

static int on_event(void *ctx, const struct sse_event *ev)
{
    if (ev->type[ev->type_len] || ev->data[ev->data_len] || ev->id[ev->id_len])
        abort(); /* every string must be NUL-terminated at its length */
    mix(ctx, 'T', ev->type, ev->type_len);
    mix(ctx, 'D', ev->data, ev->data_len);
    mix(ctx, 'I', ev->id, ev->id_len);
    return ((struct fz *)ctx)->stop;
}

static void on_comment(void *ctx, const char *text, size_t len)
{
    mix(ctx, 'C', text, len);
}

static void on_retry(void *ctx, uint64_t ms)
{
    mix(ctx, 'R', &ms, sizeof(ms));
}

/* Parse d[0..n) with a reset after cut and at the end; in pieces if seed is non-zero. */
static uint64_t run(const char *d, size_t n, size_t max, int stop, size_t cut,
                    uint32_t seed, struct sse_counts *out)
{
    struct fz z = {0xcbf29ce484222325u, stop};
    struct sse_callbacks cb = {on_event, on_comment, on_retry, &z};
    struct sse_parser *p = sse_parser_new(max, &cb);
    if (!p)
        abort();
    size_t pos = 0;
    size_t ends[2] = {cut, n};
    for (int e = 0; e < 2; e++) {
        while (pos < ends[e]) {
            size_t k = ends[e] - pos;
            if (seed) {
                seed = seed * 1103515245u + 12345u;
                size_t r = 1 + (seed >> 8) % ((seed & 0x80) ? 300 : 4);
                k = r < k ? r : k;
            }
            enum sse_status st = sse_parser_feed(p, d + pos, k);
            if (st == SSE_STOPPED) { /* logged: stops must fall at the same events */
                mix(&z, 'S', "", 0);
                const struct sse_counts *c = sse_parser_counts(p);
                uint64_t reached = c->data_bytes + c->comment_bytes + c->framing_bytes;
                if (reached <= pos || reached > pos + k)
                    abort();
                pos = (size_t)reached;
                continue;
            }
            pos += k;
        }
        sse_parser_reset(p);
        mix(&z, 'Z', sse_parser_last_id(p), strlen(sse_parser_last_id(p)));
    }
    *out = *sse_parser_counts(p);
    if (out->data_bytes + out->comment_bytes + out->framing_bytes != n)
        abort();
    sse_parser_free(p);
    return z.hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t max = data[0];
    int stop = data[1] & 1;
    uint32_t seed = ((uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3]) | 1;
    const char *d = (const char *)data + 4;
    size_t n = size - 4;
    size_t cut = n ? (seed >> 4) % (n + 1) : 0;

    struct sse_counts whole, split;
    uint64_t h1 = run(d, n, max, stop, cut, 0, &whole);
    uint64_t h2 = run(d, n, max, stop, cut, seed, &split);
    if (h1 != h2 || memcmp(&whole, &split, sizeof(whole)) != 0)
        abort();
    return 0;
}
