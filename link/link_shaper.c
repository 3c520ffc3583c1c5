/* link_shaper.c: release times for one direction of the emulated link (see
 * link_shaper.h).
 *
 * What it imitates. A path with one bottleneck: bytes queue at its entry (the sender's
 * router), leave one segment at a time at the bottleneck rate, and reach the far end one
 * propagation delay later; jitter varies that delay per segment, as queueing in other
 * routers would. TCP never delivers out of order, so neither does this: a segment that
 * draws a short delay waits for the one ahead of it, as TCP's receive queue would make it
 * wait. Buffer mode is a proxy that reads the response into a buffer and forwards only
 * whole buffers (nginx's proxy_buffering), flushing what is left when the upstream closes.
 *
 * What it does not. No packet loss, so no retransmission timeouts or head-of-line
 * stalls; no congestion window, slow start or ACK clocking (the kernel's loopback TCP on
 * both sides of the proxy does what it does, with microsecond round trips); the rate is
 * of payload bytes, without the 40-66 bytes of headers per segment a real link also
 * carries (about 3-4% at 1448-byte segments); the queue is limited by bytes in the
 * caller, not by a router's drop policy. Times are as exact as the caller's wake-ups:
 * the arithmetic here is in nanoseconds.
 *
 * Memory. Every push becomes at least one segment with its own allocation, so the
 * caller's bound on a direction (--queue) is measured with link_shaper_memory, which
 * charges each segment its overhead: a sender of one-byte pieces would otherwise make
 * the link hold some 49 times that bound.
 *
 * Order-keeping has a cost worth knowing: in a dense stream every segment waits for the
 * slowest one ahead of it, so the delay it sees drifts towards delay + jitter; isolated
 * messages see the plain uniform spread.
 */
#include "link/link_shaper.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One segment on its way: owned by the shaper's list, freed when consumed or freed. */
struct link_shaper_seg {
    struct link_shaper_seg *next; /* the segment after this one, or NULL */
    int64_t release_ns;           /* when it may leave */
    size_t len;                   /* bytes in data */
    size_t off;                   /* bytes already consumed */
    char data[];                  /* the bytes */
};

/* What a segment costs beyond its bytes: its header, and malloc's own word and rounding
 * (16 bytes on glibc, near enough). */
#define SEGMENT_OVERHEAD (sizeof(struct link_shaper_seg) + 16)

/* Largest segment under a rate cap; keeps len * 8e9 far inside int64_t. */
#define SEGMENT_MAX ((size_t)1 << 20)

void link_shaper_init(struct link_shaper *s, const struct link_shaper_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (s->cfg.segment_bytes == 0)
        s->cfg.segment_bytes = LINK_SHAPER_SEGMENT_BYTES;
    if (s->cfg.segment_bytes > SEGMENT_MAX)
        s->cfg.segment_bytes = SEGMENT_MAX;
    rng_seed(&s->rng, cfg->seed);
    dynbuf_init(&s->hold, SIZE_MAX / 2);
    s->link_free_ns = INT64_MIN;
    s->last_release_ns = INT64_MIN;
}

size_t link_shaper_free(struct link_shaper *s)
{
    size_t discarded = link_shaper_pending(s);
    struct link_shaper_seg *seg = s->head;
    while (seg) {
        struct link_shaper_seg *next = seg->next;
        free(seg);
        seg = next;
    }
    s->head = NULL;
    s->tail = NULL;
    s->queued = 0;
    s->segments = 0;
    dynbuf_free(&s->hold);
    return discarded;
}

/* This segment's propagation delay: delay plus a uniform draw in [-jitter, +jitter],
 * never negative. */
static int64_t draw_delay(struct link_shaper *s)
{
    if (s->cfg.jitter_ns <= 0)
        return s->cfg.delay_ns;
    double offset = (2.0 * rng_uniform(&s->rng) - 1.0) * (double)s->cfg.jitter_ns;
    int64_t d = s->cfg.delay_ns + (int64_t)llround(offset);
    return d < 0 ? 0 : d;
}

/* How long len bytes occupy the link at the configured rate, rounded to the nearest ns. */
static int64_t serialisation_ns(const struct link_shaper *s, size_t len)
{
    uint64_t rate = s->cfg.rate_bps;
    return (int64_t)(((uint64_t)len * 8u * UINT64_C(1000000000) + rate / 2) / rate);
}

/* Stamp one segment of len bytes that reached the link at `arrival`, and queue it. */
static int enqueue_segment(struct link_shaper *s, int64_t arrival, const char *data,
                           size_t len)
{
    struct link_shaper_seg *seg = malloc(sizeof(*seg) + len);
    if (!seg) {
        errno = ENOMEM;
        return -1;
    }
    int64_t sent = arrival; /* when its last bit is on the wire */
    if (s->cfg.rate_bps > 0) {
        int64_t start = arrival > s->link_free_ns ? arrival : s->link_free_ns;
        sent = start + serialisation_ns(s, len);
        s->link_free_ns = sent;
    }
    int64_t release = sent + draw_delay(s);
    if (release < s->last_release_ns)
        release = s->last_release_ns; /* never overtake the segment ahead */
    s->last_release_ns = release;

    seg->next = NULL;
    seg->release_ns = release;
    seg->len = len;
    seg->off = 0;
    memcpy(seg->data, data, len);
    if (s->tail)
        s->tail->next = seg;
    else
        s->head = seg;
    s->tail = seg;
    s->queued += len;
    s->segments++;
    return 0;
}

/* Put len bytes on the link at `now`: one segment, or several of segment_bytes under a
 * rate cap, so the far end sees them trickle out as a real bottleneck would send them. */
static int enqueue(struct link_shaper *s, int64_t now, const char *data, size_t len)
{
    int64_t arrival = now > s->cfg.not_before_ns ? now : s->cfg.not_before_ns;
    size_t most = s->cfg.rate_bps > 0 ? s->cfg.segment_bytes : len;
    while (len > 0) {
        size_t n = len < most ? len : most;
        if (enqueue_segment(s, arrival, data, n) != 0)
            return -1;
        data += n;
        len -= n;
    }
    return 0;
}

/* Buffer mode: let the held bytes go on together at `now`. */
static int release_hold(struct link_shaper *s, int64_t now)
{
    if (s->hold.len == 0)
        return 0;
    int rc = enqueue(s, now, s->hold.mem, s->hold.len);
    dynbuf_reset(&s->hold);
    return rc;
}

int link_shaper_push(struct link_shaper *s, int64_t now, const void *data, size_t len)
{
    if (s->closed) {
        errno = EPIPE;
        return -1;
    }
    if (len == 0)
        return 0;
    if (s->cfg.hold_bytes == 0)
        return enqueue(s, now, data, len);
    if (dynbuf_add(&s->hold, data, len) != 0) { /* dynbuf has emptied itself */
        errno = ENOMEM;
        return -1;
    }
    if (s->hold.len >= s->cfg.hold_bytes)
        return release_hold(s, now);
    return 0;
}

int link_shaper_close(struct link_shaper *s, int64_t now)
{
    if (s->closed)
        return 0;
    s->closed = 1;
    int rc = release_hold(s, now);
    /* The FIN takes no time on the wire but waits for the serialiser and the delay, and
     * never passes the last byte. */
    int64_t t = now > s->cfg.not_before_ns ? now : s->cfg.not_before_ns;
    if (s->cfg.rate_bps > 0 && s->link_free_ns > t)
        t = s->link_free_ns;
    t += s->cfg.delay_ns;
    s->fin_release_ns = t > s->last_release_ns ? t : s->last_release_ns;
    return rc;
}

size_t link_shaper_peek(const struct link_shaper *s, int64_t now, const char **data)
{
    const struct link_shaper_seg *seg = s->head;
    if (!seg || seg->release_ns > now)
        return 0;
    *data = seg->data + seg->off;
    return seg->len - seg->off;
}

void link_shaper_consume(struct link_shaper *s, size_t n)
{
    struct link_shaper_seg *seg = s->head;
    if (!seg)
        return;
    if (n > seg->len - seg->off)
        n = seg->len - seg->off;
    seg->off += n;
    s->queued -= n;
    if (seg->off < seg->len)
        return;
    s->head = seg->next;
    if (!s->head)
        s->tail = NULL;
    s->segments--;
    free(seg);
}

int64_t link_shaper_next_ns(const struct link_shaper *s)
{
    if (s->head)
        return s->head->release_ns;
    if (s->closed && !s->fin_taken)
        return s->fin_release_ns;
    return INT64_MAX;
}

int64_t link_shaper_fin_ns(const struct link_shaper *s)
{
    return s->closed ? s->fin_release_ns : INT64_MAX;
}

int link_shaper_take_fin(struct link_shaper *s, int64_t now)
{
    if (!s->closed || s->fin_taken || s->head || s->fin_release_ns > now)
        return 0;
    s->fin_taken = 1;
    return 1;
}

size_t link_shaper_pending(const struct link_shaper *s)
{
    return s->hold.len + s->queued;
}

size_t link_shaper_memory(const struct link_shaper *s)
{
    return link_shaper_pending(s) + s->segments * SEGMENT_OVERHEAD;
}
