/* feed_reader.c: one SSE client of the feed for the tests (see feed_reader.h). */
#include "feed_reader.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sse_parser.h"

static int on_event(void *ctx, const struct sse_event *ev)
{
    struct feed_reader *r = ctx;
    if (strcmp(ev->type, "reset") == 0) {
        r->resets++;
        return 0;
    }
    if (strcmp(ev->type, "end") == 0) {
        r->ends++;
        return 0;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        uint64_t *s = realloc(r->seqs, cap * sizeof(*s));
        if (s)
            r->seqs = s;
        char **j = s ? realloc(r->json, cap * sizeof(*j)) : NULL;
        if (!j)
            return 1;
        r->json = j;
        r->cap = cap;
    }
    r->seqs[r->n] = strtoull(ev->id, NULL, 10);
    r->json[r->n] = strdup(ev->data);
    if (!r->json[r->n])
        return 1;
    r->n++;
    return 0;
}

int feed_reader_open(struct feed_reader *r, unsigned port, const char *last_event_id)
{
    memset(r, 0, sizeof(*r));
    dynbuf_init(&r->raw, 1 << 26);
    struct sse_callbacks cb = {.on_event = on_event, .ctx = r};
    r->sse = sse_parser_new(0, &cb);
    r->fd = harness_connect(port);
    if (!r->sse || r->fd < 0)
        return -1;
    char req[256];
    int n = last_event_id
                ? snprintf(req, sizeof(req),
                           "GET /events HTTP/1.1\r\nHost: x\r\n"
                           "Last-Event-ID: %s\r\n\r\n",
                           last_event_id)
                : snprintf(req, sizeof(req), "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    return harness_send(r->fd, req, (size_t)n);
}

/* Take what raw holds: the head once, then whole chunks into the parser. 0 or -1. */
static int digest(struct feed_reader *r)
{
    if (!r->head_done) {
        char *end = r->raw.mem ? strstr(r->raw.mem, "\r\n\r\n") : NULL;
        if (!end)
            return 0;
        if (strncmp(r->raw.mem, "HTTP/1.1 200", 12) != 0)
            return -1;
        dynbuf_consume(&r->raw, (size_t)(end + 4 - r->raw.mem));
        r->head_done = true;
    }
    struct dynbuf body;
    dynbuf_init(&body, 1 << 26);
    int ended = 0;
    size_t used = harness_dechunk(r->raw.mem, r->raw.len, &body, &ended);
    dynbuf_consume(&r->raw, used);
    int rc = 0;
    if (body.len > 0 && sse_parser_feed(r->sse, body.mem, body.len) != SSE_OK)
        rc = -1;
    dynbuf_free(&body);
    r->ended = r->ended || ended;
    return rc;
}

/* One read, waiting at most ms. 1 read something, 0 nothing, -1 ended or failed. */
static int read_some(struct feed_reader *r, int ms)
{
    if (r->fd < 0 || r->ended)
        return -1;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    int rc = poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR)
        return 0;
    if (rc <= 0)
        return rc;
    char buf[65536];
    ssize_t n = read(r->fd, buf, sizeof(buf));
    if (n <= 0 || dynbuf_add(&r->raw, buf, (size_t)n) != 0 || digest(r) != 0)
        return -1;
    return 1;
}

uint64_t feed_reader_last(const struct feed_reader *r)
{
    return r->n ? r->seqs[r->n - 1] : 0;
}

int feed_reader_until(struct feed_reader *r, uint64_t until, int timeout_ms)
{
    int64_t end = harness_now_ms() + timeout_ms;
    while (feed_reader_last(r) < until) {
        int64_t left = end - harness_now_ms();
        if (left <= 0)
            return 0;
        if (read_some(r, (int)left) < 0)
            return feed_reader_last(r) >= until ? 1 : -1;
    }
    return 1;
}

int feed_reader_pump(struct feed_reader *r, int ms)
{
    int64_t end = harness_now_ms() + ms;
    for (int64_t left = ms; left > 0; left = end - harness_now_ms()) {
        if (read_some(r, (int)left) < 0)
            return -1;
    }
    return 0;
}

void feed_reader_hangup(struct feed_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void feed_reader_close(struct feed_reader *r)
{
    feed_reader_hangup(r);
    sse_parser_free(r->sse);
    r->sse = NULL;
    for (size_t i = 0; i < r->n; i++)
        free(r->json[i]);
    free(r->json);
    free(r->seqs);
    r->json = NULL;
    r->seqs = NULL;
    r->n = r->cap = 0;
    dynbuf_free(&r->raw);
}
