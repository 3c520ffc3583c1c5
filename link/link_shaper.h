/* link_shaper.h: one direction of the emulated link: a queue that stamps every byte with
 * the time it may leave, under delay, jitter, a rate cap and an optional buffering stage.
 *
 * Transport-free: the caller pushes the bytes it read with the time it read them, asks
 * which bytes may go out now, writes them, and consumes what it wrote; the shaper never
 * sees a socket and never reads a clock, so it is tested with made-up times.
 *
 * The model, in the order a byte meets it (what each stage imitates, and what it does
 * not, is in link_shaper.c):
 *   hold        buffer mode: bytes wait until hold_bytes have gathered or the sender
 *               closes, then all of them go on together (a buffering proxy);
 *   serialise   with a rate cap, the bytes are cut into segments of at most segment_bytes;
 *               one segment occupies the link for len * 8 / rate seconds, after the one
 *               before it (a bottleneck link and its queue);
 *   propagate   each segment then takes delay, plus a uniform draw in [-jitter, +jitter]
 *               (never below zero), to arrive;
 *   keep order  a segment never leaves before the one ahead of it: its release time is
 *               max(its own, the previous segment's). The FIN follows the last byte.
 */
#ifndef PUSHPULL_LINK_SHAPER_H
#define PUSHPULL_LINK_SHAPER_H

#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "rng.h"

/* The segment size used under a rate cap unless the caller says otherwise: the TCP MSS
 * of a 1500-byte Ethernet MTU with timestamps (1500 - 20 IP - 32 TCP). */
#define LINK_SHAPER_SEGMENT_BYTES 1448

/* One direction's settings. Zero everywhere means "a plain pipe". */
struct link_shaper_config {
    int64_t delay_ns;      /* one-way propagation delay added to every segment */
    int64_t jitter_ns;     /* each segment's delay is uniform in delay +- jitter, >= 0 */
    uint64_t rate_bps;     /* serialisation rate in bits per second; 0 = no cap */
    size_t hold_bytes;     /* buffer mode: hold until this many gathered; 0 = off */
    size_t segment_bytes;  /* largest unit with its own release time under a rate cap;
                              0 = LINK_SHAPER_SEGMENT_BYTES */
    int64_t not_before_ns; /* bytes that arrive earlier are treated as arriving now (a
                              handshake still under way); 0 = no floor */
    uint64_t seed;         /* seeds the jitter draws */
};

struct link_shaper_seg; /* a queued segment: private to link_shaper.c */

/* One direction's state. Fields are private to link_shaper.c; use the functions. */
struct link_shaper {
    struct link_shaper_config cfg; /* copy of the settings */
    struct rng rng;                /* jitter draws */
    struct dynbuf hold;            /* buffer mode: bytes not yet let through */
    struct link_shaper_seg *head;  /* oldest queued segment (next to leave), or NULL */
    struct link_shaper_seg *tail;  /* newest queued segment, or NULL */
    size_t queued;                 /* bytes in segments not yet consumed */
    size_t segments;               /* segments queued, each with its own allocation */
    int64_t link_free_ns;          /* when the serialiser finishes its last segment */
    int64_t last_release_ns;       /* release time of the newest segment (order floor) */
    int closed;                    /* the sender closed: a FIN is scheduled */
    int fin_taken;                 /* link_shaper_take_fin has handed the FIN out */
    int64_t fin_release_ns;        /* when the FIN may follow the last byte */
};

/* Start empty with these settings (copied). Nothing is allocated until bytes arrive;
 * release everything with link_shaper_free. */
void link_shaper_init(struct link_shaper *s, const struct link_shaper_config *cfg);
/* Free every held and queued byte. The shaper must be initialised again before reuse.
 * Returns the bytes that were discarded (held plus queued), for the caller's count. */
size_t link_shaper_free(struct link_shaper *s);

/* The sender handed over len bytes at time now (copied; now must not go backwards).
 * 0, or -1 with errno EPIPE (the sender had closed: nothing queued) or ENOMEM (held
 * bytes may be lost with these: the caller should end the connection). */
int link_shaper_push(struct link_shaper *s, int64_t now, const void *data, size_t len);
/* The sender closed its side at time now: held bytes go on, and a FIN is scheduled after
 * the last byte. -1 (ENOMEM) when the held bytes could not be queued; calling it twice
 * is harmless. */
int link_shaper_close(struct link_shaper *s, int64_t now);

/* The bytes that may leave at time now: a pointer to the start of the oldest segment
 * (owned by the shaper, valid until the next push, consume or free) and its length, or
 * 0 when the oldest segment's time has not come (or nothing is queued). */
size_t link_shaper_peek(const struct link_shaper *s, int64_t now, const char **data);
/* The caller wrote n bytes of what peek returned (n <= that length). */
void link_shaper_consume(struct link_shaper *s, size_t n);

/* When the next thing (the oldest segment, else the FIN not yet taken) may leave;
 * INT64_MAX when nothing is waiting for a time (empty, or only held bytes). */
int64_t link_shaper_next_ns(const struct link_shaper *s);
/* When the FIN may follow the last byte (the sender's close, behind the serialiser and
 * the delay, never before the last byte's release); INT64_MAX before link_shaper_close. */
int64_t link_shaper_fin_ns(const struct link_shaper *s);
/* 1, once, when every byte has been consumed, the sender has closed and the FIN's time
 * has come by now: the caller then shuts down writing to the receiver. Else 0. */
int link_shaper_take_fin(struct link_shaper *s, int64_t now);
/* Bytes held (buffer mode) plus queued: what the receiver has still to get. */
size_t link_shaper_pending(const struct link_shaper *s);
/* The memory those bytes take: pending plus each queued segment's header and allocation
 * (about 48 bytes, the same for any size), so that a sender of many tiny pieces is held
 * to the same bound as one of large ones. What back-pressure is measured against. */
size_t link_shaper_memory(const struct link_shaper *s);

#endif
