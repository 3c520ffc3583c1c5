/* link_pairs.h: the link emulator's connection pairs (internal to link/): each client
 * connection with its upstream connection, how one is opened, and the deadlines that
 * release, reset or cut them; link_pump.h is the state machine of one pair.
 *
 * link.c owns the event loop and hands this table what concerns a pair: a new client
 * socket (link_pairs_open), an epoll event on one of a pair's sockets (link_pairs_event),
 * a passed deadline (link_pairs_run_due). The table registers and unregisters its
 * sockets in the loop's epoll set itself. See link_pairs.c for the rules.
 */
#ifndef PUSHPULL_LINK_PAIRS_H
#define PUSHPULL_LINK_PAIRS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "link/link.h"
#include "rng.h"
#include "timer_heap.h"

/* What an epoll registration of the link points at: the first field of each watched
 * thing, so the loop can tell them apart from the pointer alone. */
enum link_watch { LINK_WATCH_LISTEN, LINK_WATCH_TIMER, LINK_WATCH_STOP, LINK_WATCH_END };

struct link_pair; /* one client connection and its upstream connection: link_pairs.c */
struct link_end;  /* one socket of a pair; its first field is LINK_WATCH_END */

/* Every pair the link carries. */
struct link_pairs {
    const struct link_config *cfg; /* the link's settings (not owned) */
    int ep;                        /* the link's epoll set (not owned) */
    struct link_pair **slots;      /* slot -> pair, NULL when free; max_connections long */
    uint32_t *free_slots;          /* stack of free slots */
    uint32_t nfree;                /* slots on that stack */
    uint32_t open;                 /* pairs open now */
    struct timer_heap *timers;     /* one deadline per pair slot */
    struct link_pair *dead;        /* pairs ended since the last link_pairs_reap */
    struct rng rng;                /* drop draws and per-connection jitter seeds */
    struct link_counters c;        /* what was carried (accepted: counted by link.c) */
    char buf[64 * 1024];           /* read buffer, shared: one thread */
};

/* Set up an empty table for cfg->max_connections pairs, registering sockets in ep (both
 * must outlive the table). 0, or -1 (ENOMEM); link_pairs_free releases either way. */
int link_pairs_init(struct link_pairs *t, const struct link_config *cfg, int ep);
/* End every pair (counted as a shutdown) and release the table's memory. */
void link_pairs_free(struct link_pairs *t);

/* A new client connection cfd (non-blocking; the table owns it from here) from peer:
 * connect its upstream, from off loopback when peer is, and carry it. 0 when carried (a
 * failed upstream connect then resets the client and counts upstream_failed); -1 when
 * refused for want of a free slot or memory: cfd is reset and counted as refused. */
int link_pairs_open(struct link_pairs *t, int cfd, const struct sockaddr_in *peer,
                    int64_t now);
/* epoll reported events on e (a LINK_WATCH_END registration of this table). */
void link_pairs_event(struct link_pairs *t, struct link_end *e, uint32_t events);
/* Handle every pair whose deadline is at or before now: releases, resets, idle cuts. */
void link_pairs_run_due(struct link_pairs *t, int64_t now);
/* The earliest deadline of any pair, or 0 when none has one. */
int64_t link_pairs_next_due(const struct link_pairs *t);
/* Free the memory of the pairs that ended since the last call (their sockets are
 * closed already); their events cannot come any more. Returns how many there were. */
size_t link_pairs_reap(struct link_pairs *t);
/* End every open pair now, as at a stop: both sides get a FIN, queued bytes are
 * discarded. Their memory waits for link_pairs_reap. */
void link_pairs_end_all(struct link_pairs *t);

#endif
