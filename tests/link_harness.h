/* link_harness.h: what the link emulator's tests need: start the real pushpull-link in
 * front of a small upstream that runs inside the test, time bytes through it, and stop
 * everything by pid or by join.
 *
 * The upstream ("peer") is one thread with a poll loop on a loopback listener of its own
 * (port 0), so a test holds its observations (bytes in, FINs, resets, when the last byte
 * came) without any inter-process plumbing. Every wait is bounded in time.
 */
#ifndef PUSHPULL_LINK_HARNESS_H
#define PUSHPULL_LINK_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"

/* ---- the link process ---- */

struct link_harness_link {
    pid_t pid;     /* the link process */
    unsigned port; /* the port it reported on its first line */
};

/* Start $PUSHPULL_LINK (default build/asan/bin/pushpull-link) with --listen 127.0.0.1:0,
 * --upstream 127.0.0.1:upstream_port and the NULL-terminated extra args; wait (at most
 * 10 s) for "listening on ...". 0, or -1 (nothing left running). */
int link_harness_start(struct link_harness_link *l, unsigned upstream_port,
                       const char *const *args);

/* How link_harness_start_with starts the link; zero everywhere is link_harness_start. */
struct link_harness_opts {
    const char *listen; /* the --listen value, "ADDR:0"; NULL: 127.0.0.1:0 */
    unsigned nofile;    /* the link's open-file limit, soft and hard (set by /bin/sh's
                           ulimit before it execs the link); 0: inherited */
};
int link_harness_start_with(struct link_harness_link *l, const struct link_harness_opts *o,
                            unsigned upstream_port, const char *const *args);
/* SIGTERM, then wait at most 10 s (SIGKILL after). Returns the exit status, or -1 when it
 * had to be killed or died of a signal. */
int link_harness_stop(struct link_harness_link *l);
/* Run $PUSHPULL_LINK with exactly these NULL-terminated args to completion (10 s at
 * most), collecting its stderr into err. Returns its exit status, or -1. */
int link_harness_run(const char *const *args, struct dynbuf *err);
/* Read the JSON a link wrote with --stats (caller deletes), or NULL. */
cJSON *link_harness_stats(const char *path);
/* A number from that JSON (a top-level key, or "config.key"); -1 if absent. */
double link_harness_stat(const cJSON *stats, const char *key);

/* ---- the upstream peer ---- */

enum link_harness_mode {
    LINK_HARNESS_ECHO, /* send every byte back; close once the client's FIN is echoed */
    LINK_HARNESS_SINK, /* read and count; close on FIN */
    LINK_HARNESS_GREET_RESET /* send the greeting, then close with RST at once, as a
                                server does that closes with a request still unread */
};

/* What the peer saw, across all its connections. */
struct link_harness_seen {
    uint64_t accepted;    /* connections accepted */
    uint64_t bytes_in;    /* bytes read */
    uint64_t bytes_out;   /* bytes written (echoed, or the greeting) */
    uint64_t eofs;        /* connections that ended with a FIN */
    uint64_t resets;      /* connections that ended with an error (RST) */
    uint64_t resets_sent; /* connections the peer reset itself (GREET_RESET) */
    int64_t last_byte_ns; /* monotonic time of the latest read with data, 0: none */
    int64_t last_end_ns;  /* monotonic time of the latest FIN or RST, 0: none */
    struct in_addr from;  /* the address the latest connection came from */
};

struct link_harness_peer; /* opaque */

/* Listen on 127.0.0.1:0 and serve in a new thread. NULL on failure. Stop and free with
 * link_harness_peer_stop. */
struct link_harness_peer *link_harness_peer_start(enum link_harness_mode mode);
unsigned link_harness_peer_port(const struct link_harness_peer *p);
/* Every connection accepted from now on is first sent n bytes (at most 8 MiB; in either
 * mode), so a test has bytes going down that do not wait for bytes going up. */
void link_harness_peer_greet(struct link_harness_peer *p, size_t n);
/* A consistent copy of what the peer has seen so far. */
void link_harness_peer_seen(struct link_harness_peer *p, struct link_harness_seen *out);
/* Stop the thread, close every socket, free. NULL is fine. */
void link_harness_peer_stop(struct link_harness_peer *p);

/* ---- the client side ---- */

/* A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY, or -1. */
int link_harness_connect(unsigned port);
/* The same to addr:port, e.g. to this host's address off loopback, or -1. */
int link_harness_connect_to(struct in_addr addr, unsigned port);
/* An IPv4 address of this host off the loopback network (an interface that is up), for
 * tests that play a client on another host. 0, or -1 when the host has none. */
int link_harness_remote_addr(struct in_addr *out);
/* Read exactly n bytes into buf within timeout_ms. Returns n; or fewer (possibly 0) on
 * EOF or timeout, with *why set to 0 (EOF), ETIMEDOUT, or the read's errno. */
size_t link_harness_read_n(int fd, void *buf, size_t n, int timeout_ms, int *why);
/* Wait at most timeout_ms for the connection to end. Returns 0 for EOF (FIN), the errno
 * of a failed read (ECONNRESET for RST), ETIMEDOUT, or EPROTO when data came instead. */
int link_harness_wait_end(int fd, int timeout_ms);
/* Monotonic nanoseconds. */
int64_t link_harness_now_ns(void);

#endif
