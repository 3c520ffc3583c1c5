/* link_pump.h: one connection pair of the link emulator and the state machine that pumps
 * bytes, FINs and resets through it (internal to link/: link_pairs.c holds the pairs,
 * opens them and hands them their events and deadlines).
 *
 * Every function takes the table the pair belongs to, for its settings, its epoll set,
 * its timers and its counters. Those that return int return 0 while the pair goes on and
 * -1 once it has ended (link_pump_end ran: touch nothing of it but its dead flag).
 */
#ifndef PUSHPULL_LINK_PUMP_H
#define PUSHPULL_LINK_PUMP_H

#include <stdint.h>

#include "link/link_pairs.h"
#include "link/link_shaper.h"

/* The two sockets of a pair. */
enum link_side { LINK_CLIENT = 0, LINK_SERVER = 1 };
/* Directions are numbered by the side they read from: LINK_UP reads LINK_CLIENT,
 * LINK_DOWN reads LINK_SERVER, and each writes to the other side. */
enum link_dirno { LINK_UP = LINK_CLIENT, LINK_DOWN = LINK_SERVER };
/* Why a pair ended: what link_pump_end counts, and whether it resets or closes. */
enum link_end_reason {
    LINK_END_NORMAL,   /* both FINs passed on */
    LINK_END_SHUTDOWN, /* the link stops: FIN to both */
    LINK_END_INJECTED, /* --drop-every, --drop-rate: RST to both */
    LINK_END_IDLE,     /* --idle-timeout: FIN to both */
    LINK_END_PEER,     /* one side reset or failed, or memory ran out: RST */
    LINK_END_UPSTREAM  /* the upstream connect failed: RST to the client */
};

/* One socket of a pair. */
struct link_end {
    enum link_watch kind; /* LINK_WATCH_END; first, so an epoll pointer can be told apart */
    struct link_pair *pair; /* the pair this socket belongs to */
    int fd;                 /* the socket; -1 once closed */
    uint32_t events;        /* epoll interest registered now; 0: not in the epoll set */
    int eof;                /* reading returned 0: the peer sent its FIN */
    int shut;               /* we passed a FIN on to it (shutdown SHUT_WR) */
};

/* One direction of a pair. */
struct link_dir {
    struct link_shaper q; /* bytes on their way, owned here */
    int blocked;          /* the receiver's send buffer was full: waiting for EPOLLOUT */
    int reset_after;      /* the sender reset: a RST, not a FIN, follows its last byte */
    int64_t reset_at;     /* then: when the RST reaches the receiver, whether or not the
                             bytes ahead of it could be written (INT64_MAX: no reset) */
    uint64_t bytes_in;    /* read from the sender */
    uint64_t bytes_out;   /* written to the receiver */
};

/* A client connection and its upstream connection. Allocated by link_pairs_open, freed by
 * link_pairs_reap after link_pump_end ran. */
struct link_pair {
    uint32_t slot;               /* index in link_pairs.slots, and id in its timers */
    struct link_end ends[2];     /* [LINK_CLIENT], [LINK_SERVER] */
    struct link_dir dirs[2];     /* [LINK_UP], [LINK_DOWN] */
    int connecting;              /* the upstream connect is still under way */
    int64_t drop_at;             /* injected reset, INT64_MAX: none */
    int64_t last_active;         /* when a byte was last read or written either way */
    int dead;                    /* ended: skip its events, free it at the next reap */
    struct link_pair *next_dead; /* link_pairs.dead list */
};

/* Close fd with RST instead of FIN (SO_LINGER on, zero timeout). */
void link_pump_close_with_reset(int fd);

/* Side s's socket is readable (or hung up): read it and send what is due. */
int link_pump_readable(struct link_pairs *t, struct link_pair *p, int s, int64_t now);
/* Side s's socket takes writes again: send what waits for it. */
int link_pump_writable(struct link_pairs *t, struct link_pair *p, int s, int64_t now);
/* Send what direction d may send by now, its FIN or reset too when due. */
int link_pump_flush(struct link_pairs *t, struct link_pair *p, int d, int64_t now);
/* Side s reset or failed: what it sent before goes on, a RST follows the last of it. */
int link_pump_failed(struct link_pairs *t, struct link_pair *p, int s, int64_t now);
/* After anything happened: end the pair when both FINs have passed, else bring its epoll
 * interest and its deadline up to date. Does nothing to an ended pair. */
void link_pump_settle(struct link_pairs *t, struct link_pair *p);
/* End the pair now for this reason: close its sockets, count, discard what it held, and
 * hand it to the table's dead list (freed by link_pairs_reap). */
void link_pump_end(struct link_pairs *t, struct link_pair *p, enum link_end_reason why);

#endif
