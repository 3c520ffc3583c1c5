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

#include "servers/link_shaper.h"

/* Every setting, with its default in link_config_defaults(). */
struct link_config {
    struct sockaddr_in listen;      /* where clients connect (port 0: pick a free one) */
    struct sockaddr_in upstream;    /* where the server listens */
    struct link_shaper_config up;   /* client -> server; seed is drawn per connection */
    struct link_shaper_config down; /* server -> client; seed is drawn per connection */
    int handshake;                  /* 1: a new connection's first byte up waits one
                                       round trip (delay up + delay down), as after a
                                       real TCP handshake */
    int64_t drop_every_ns;    /* reset each connection this long after accept; 0 off */
    double drop_rate;         /* chance per second that a connection is reset */
    uint64_t seed;            /* seeds --drop-rate draws and every jitter stream */
    int64_t idle_timeout_ns;  /* close a pair that moved no byte this long; 0 off */
    size_t queue_bytes;       /* stop reading a sender whose direction holds this
                                 much (back-pressure) */
    unsigned max_connections; /* pairs open at once; beyond: accept and reset */
};

/* What the link carried. Each field is incremented at one place in link.c. */
struct link_counters {
    uint64_t accepted;        /* client connections accepted */
    uint64_t refused;         /* of those, reset at once (--max-connections, no memory) */
    uint64_t upstream_failed; /* pairs whose upstream connect failed (client reset) */
    uint64_t resets_injected; /* pairs reset by --drop-every or --drop-rate */
    uint64_t idle_cuts;       /* pairs closed by --idle-timeout */
    uint64_t peer_resets;     /* pairs ended because one side reset or failed */
    uint64_t closed;          /* pairs ended for any reason, shutdown included */
    uint64_t open_peak;       /* most pairs open at once */
    uint64_t bytes_up;        /* bytes written to the upstream */
    uint64_t bytes_down;      /* bytes written to clients */
    uint64_t bytes_discarded; /* bytes read but dropped when their pair ended early */
};

struct link; /* opaque: the running proxy */

/* Fill *cfg with the defaults: plain pipe, no faults, 4 MiB queues, 8000 connections,
 * listen 127.0.0.1:0, no upstream (port 0: the caller must set it). */
void link_config_defaults(struct link_config *cfg);

/* Bind and listen (the settings are copied). Returns the proxy, which the caller frees
 * with link_free; or NULL with a message naming the failed call in err. */
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
