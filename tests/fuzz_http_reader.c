/* fuzz_http_reader.c: libFuzzer harness for the raw-socket driver's HTTP/1.1 response
 * reader (clients/http_reader.c).
 *
 * The first 4 input bytes seed the split sizes and whether the peer closes at the end;
 * the rest is what a server sends. It is read whole and in seeded random pieces, as the
 * driver reads: until DONE or ERROR, then the end of file when asked. Both runs must reach
 * the same verdict, status code and keep-alive, hand on the same head lines and (unless a
 * chunked body was faulty, where the failing feed's rest is handed on) the same body,
 * and use the same bytes of a complete response; each run must account for every byte
 * (handed on + held == used, used <= fed, all of a feed used while more is wanted).
 * Any difference calls abort().
 */
#include "clients/http_reader.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sink {
    uint64_t line_bytes, body_bytes;
    uint32_t line_hash, body_hash;
};

static uint32_t mix(uint32_t h, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)buf[i]) * 16777619u;
    return h;
}

static void on_line(void *ctx, const char *line, size_t len)
{
    struct sink *s = ctx;
    if (len == 0 || line[len - 1] != '\n')
        abort(); /* a line is handed on whole */
    s->line_bytes += len;
    s->line_hash = mix(s->line_hash, line, len);
}

static void on_body(void *ctx, const char *buf, size_t len)
{
    struct sink *s = ctx;
    s->body_bytes += len;
    s->body_hash = mix(s->body_hash, buf, len);
}

struct result {
    enum http_reader_status st;
    int status;
    bool keep_alive;
    size_t used;
    bool chunk_fault;
    struct sink sink;
};

static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static struct result parse(const char *buf, size_t len, uint32_t seed, bool pieces,
                           bool eof)
{
    static const struct http_reader_callbacks cb = {on_line, on_body};
    struct http_reader r;
    struct result out;
    memset(&out, 0, sizeof(out));
    http_reader_init(&r);
    out.st = HTTP_READER_MORE;
    size_t off = 0;
    while (off < len && out.st == HTTP_READER_MORE) {
        size_t n = pieces ? 1 + next_rand(&seed) % 64 : len - off;
        if (n > len - off)
            n = len - off;
        size_t used = 0;
        out.st = http_reader_feed(&r, buf + off, n, &used, &cb, &out.sink);
        if (used > n || (out.st == HTTP_READER_MORE && used != n))
            abort();
        out.used += used;
        off += n;
    }
    if (eof && out.st == HTTP_READER_MORE)
        out.st = http_reader_eof(&r);
    if (out.sink.line_bytes + out.sink.body_bytes + http_reader_held(&r) != out.used)
        abort();
    if (out.st == HTTP_READER_DONE && http_reader_held(&r) != 0)
        abort();
    out.status = r.status;
    out.keep_alive = r.keep_alive;
    out.chunk_fault = out.st == HTTP_READER_ERROR && strstr(r.error, "chunked") != NULL;
    http_reader_free(&r);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16;
    bool eof = data[3] & 1;
    const char *buf = (const char *)data + 4;
    size_t len = size - 4;
    struct result whole = parse(buf, len, seed, false, eof);
    struct result split = parse(buf, len, seed, true, eof);
    if (whole.st != split.st || whole.status != split.status ||
        whole.keep_alive != split.keep_alive ||
        whole.sink.line_bytes != split.sink.line_bytes ||
        whole.sink.line_hash != split.sink.line_hash)
        abort();
    if (!whole.chunk_fault && (whole.sink.body_bytes != split.sink.body_bytes ||
                               whole.sink.body_hash != split.sink.body_hash))
        abort();
    if (whole.st == HTTP_READER_DONE && whole.used != split.used)
        abort();
    return 0;
}
