/* link.h: the link emulator: a TCP proxy that puts delay, jitter, a rate cap, buffering
 * and faults between pushpull's clients and its server, without root.
 *
 * Every accepted client connection is paired with one connection to the upstream; the
 * bytes of each direction (up: client to server, down: server to client) pass through a
 * link_shaper and leave when it says so. One thread, one epoll set, non-blocking sockets;
 * one timerfd armed for the earliest deadline of all connections (a timer_heap keyed by
 * connection slot). See link.c for what this imitates and what it does not.
 */
#ifndef PUSHPULL_LINK_H
#define PUSHPULL_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "link/link_shaper.h"

/* Every setting, with its default in link_config_defaults(). */
struct link_config {
    struct sockaddr_in listen;      /* where clients connect (port 0: pick a free one) */
    struct sockaddr_in upstream;    /* where the server listens (0.0.0.0, "this host",
                                       is taken as 127.0.0.1, as Linux takes it) */
    struct link_shaper_config up;   /* client -> server; seed is drawn per connection */
    struct link_shaper_config down; /* server -> client; seed is drawn per connection */
    int handshake;                  /* 1: a new connection's first byte up waits one
                                       round trip (delay up + delay down), as after a
                                       real TCP handshake */
    int64_t drop_every_ns;    /* reset each connection this long after accept; 0 off */
    double drop_rate;         /* chance per second that a connection is reset */
    uint64_t seed;            /* seeds --drop-rate draws and every jitter stream */
    int64_t idle_timeout_ns;  /* close a pair that moved no byte this long; 0 off */
    size_t queue_bytes;       /* stop reading a sender whose direction takes this much
                                 memory (link_shaper_memory: back-pressure) */
    unsigned max_connections; /* pairs open at once; beyond: accept and reset */
    int allow_remote;         /* 1: listen may be off loopback (link.c says what that
                                 exposes); 0: link_new refuses such an address */
};

/* What the link carried. Each field is incremented at one place: accepted in link.c,
 * refused and open_peak in link_pairs.c, the others in link_pump.c.
 *
 * Bytes are payload bytes (no TCP/IP headers) and are counted per direction, up (client
 * to server) and down (server to client), at three points: in, when the link reads them
 * from the sender's socket; forwarded (bytes_up, bytes_down), when the receiver's socket
 * accepts them from the link; discarded, when their pair ends with them still in the
 * link: queued behind a delay or rate cap, held by --buffer, or lost when memory ran
 * out. For each direction, once every pair has ended,
 *
 *     bytes_in_X = bytes_X + bytes_discarded_X        (exactly)
 *
 * link_run ends every pair before it returns, so the bytes still queued when the link is
 * stopped (SIGINT/SIGTERM) are counted as discarded at that teardown, and the identity
 * holds in every --stats document. While pairs are open, in - forwarded - discarded is
 * what the link holds right now.
 *
 * Held against the kernel's counts on the clients' sockets (common/sockacct.c), summed:
 *
 *     up:    written (acked + still queued) = bytes_in_up + U + L
 *     down:  read (received - still unread) = bytes_down - S
 *
 * U is what sat in the link's socket receive buffer when the pair ended: received and
 * acked by the link's kernel, never read by the link. L is what was still in the
 * client's send buffer then, never to be acked. S is what sat in the link's send buffer
 * at a reset, thrown away with it. All three are zero for a pair that ended with a FIN
 * from each side (the link reads to the end, and a close after FIN still delivers). When
 * a pair is cut short (a reset, an idle cut, the link's stop) U is what the link had not
 * read yet, much when --queue had stopped it reading; the link cannot count it (asking
 * SIOCINQ just before the close would race with bytes still arriving), so a client's
 * acked bytes may exceed bytes_in_up. S is zero while the client keeps reading: on
 * loopback a write reaches the receiver at once, and Linux lets it read what arrived
 * ahead of a RST. The same holds between the server's sockets and bytes_in_down and
 * bytes_up. */
struct link_counters {
    uint64_t accepted;             /* client connections accepted */
    uint64_t refused;              /* reset at accept (--max-connections, no memory) */
    uint64_t upstream_failed;      /* pairs whose upstream connect failed, or could not
                                      be made from off loopback (client reset) */
    uint64_t resets_injected;      /* pairs reset by --drop-every or --drop-rate */
    uint64_t idle_cuts;            /* pairs closed by --idle-timeout */
    uint64_t peer_resets;          /* pairs ended because one side reset or failed */
    uint64_t closed;               /* pairs ended for any reason, shutdown included */
    uint64_t open_peak;            /* most pairs open at once */
    uint64_t bytes_in_up;          /* bytes read from clients */
    uint64_t bytes_up;             /* bytes written to the upstream */
    uint64_t bytes_discarded_up;   /* bytes read from clients, never written on */
    uint64_t bytes_in_down;        /* bytes read from the upstream */
    uint64_t bytes_down;           /* bytes written to clients */
    uint64_t bytes_discarded_down; /* bytes read from the upstream, never written on */
    uint64_t bytes_discarded;      /* bytes_discarded_up + bytes_discarded_down */
};

struct link; /* opaque: the running proxy */

/* Fill *cfg with the defaults: plain pipe, no faults, 4 MiB queues, 8000 connections,
 * listen 127.0.0.1:0, no upstream (port 0: the caller must set it). */
void link_config_defaults(struct link_config *cfg);

/* 1 when a is on the loopback network (127.0.0.0/8), the only peers the server lets use
 * /publish, /control and /drop. */
int link_addr_is_loopback(struct in_addr a);

/* Bind and listen (the settings are copied). Returns the proxy, which the caller frees
 * with link_free; or NULL with a message in err naming the failed call, or saying that
 * the listen address is off loopback without allow_remote. */
struct link *link_new(const struct link_config *cfg, char *err, size_t errlen);
/* The port clients connect to (resolves port 0). */
unsigned link_port(const struct link *l);
/* Carry traffic until stop_fd becomes readable (e.g. a signalfd for SIGINT/SIGTERM; the
 * link does not read it), then close every pair. 0, or -1 with a message in err when
 * the event loop itself failed. */
int link_run(struct link *l, int stop_fd, char *err, size_t errlen);
/* A copy of the counters so far. */
void link_counters_get(const struct link *l, struct link_counters *out);
/* Close every pair and socket and release everything. NULL is fine. */
void link_free(struct link *l);

#endif
