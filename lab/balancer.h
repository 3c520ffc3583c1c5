/* balancer.h: the HAProxy of a scaled run with "balancer": "haproxy", in front of its
 * server instances.
 *
 * The conductor writes RUN_DIR/haproxy.cfg (one frontend on ADDR:PORT, one backend
 * listing every instance, leastconn, marked down at its first failed connection and checked
 * with GET /time every 500 ms, a refused connection retried on another), and starts
 * Debian's haproxy (`haproxy -db -f CFG`: foreground, no daemon, no pid file) at the
 * balancer's place, stopped by pid. It listens on loopback, or on its namespace's address.
 * Its timeouts sit above every hold the run has: the long-poll hold, the SSE heartbeat and
 * the run's whole length (a stream is silent between updates for as long as the update
 * gap), so HAProxy never cuts what the server would keep: `timeout client`, `timeout
 * server` and `timeout tunnel` (the WebSocket's, once upgraded) are all set to that bound.
 */
#ifndef PUSHPULL_LAB_BALANCER_H
#define PUSHPULL_LAB_BALANCER_H

#include <stddef.h>

#include "proc.h"
#include "runargs.h"

#define BALANCER_MAX_BACKENDS 64

struct balancer {
    struct proc proc; /* the haproxy process */
    char listen[96];  /* "ADDR:PORT" it listens on */
    char cfg[4200];   /* RUN_DIR/haproxy.cfg */
    double cpu_s;     /* its CPU (user + system) when last read; -1 unread */
    long peak_rss_kb; /* its peak resident memory (VmHWM) then */
};

/* The haproxy program: $PUSHPULL_HAPROXY, else Debian's /usr/sbin/haproxy. */
const char *balancer_program(void);

/* Write RUN_DIR/haproxy.cfg: listen on addr:port, forward to backends[n] ("ADDR:PORT"),
 * every timeout at hold_s (seconds, at least the longest silence the run allows),
 * maxconn for `conns` connections. 0, or -1 with one line in err. */
int balancer_write_config(struct balancer *b, const char *run_dir, const char *addr,
                          unsigned port, const char *const *backends, size_t n,
                          double hold_s, unsigned conns, char *err, size_t errlen);

/* Start argv (haproxy -db -f CFG, wrapped for its place by the caller), its output in
 * RUN_DIR/haproxy.out and .err, and wait at most timeout_ms until addr:port accepts a
 * connection. 0, or -1 with one line in err (the caller stops b->proc). */
int balancer_start(struct balancer *b, const struct runargs *argv, const char *run_dir,
                   const char *addr, unsigned port, int timeout_ms, char *err,
                   size_t errlen);

/* Read its CPU and peak memory from /proc into b. 0, or -1. */
int balancer_usage(struct balancer *b);

#endif
