/* redis_harness.h: the pieces of the feed through Redis, started by the tests themselves:
 * a redis-server of their own, and pushpull-server instances on it.
 *
 * Each redis-server is the one the conductor starts for a run (lab/broker.c): a free
 * loopback port, and a temporary directory holding its config (never the system's:
 * daemonize no, no RDB snapshots, AOF only when asked) and its output. It is started,
 * killed and stopped by pid through common/proc.h, like every program the lab starts,
 * and the directory is removed at the end. No system Redis is ever touched.
 *
 * A server instance is the ASan build ($PUSHPULL_SERVER) with --port 0 and the given
 * flags; its stderr goes to a file in the directory, so a test can read the lines it
 * logged.
 */
#ifndef PUSHPULL_REDIS_HARNESS_H
#define PUSHPULL_REDIS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "dynbuf.h"
#include "lab/broker.h"
#include "proc.h"

/* A redis-server the test started: the lab's (lab/broker.h), in a directory of its own. */
struct redis_proc {
    struct broker broker; /* the process, its port and config */
    unsigned port;        /* its port on 127.0.0.1 */
    bool aof;             /* appendonly yes (appendfsync everysec) */
    char dir[256];        /* its temporary directory (config, output, AOF) */
    char addr[32];        /* "127.0.0.1:PORT", for --redis */
};

/* Make a temporary directory, write the config (with AOF when aof is set), start
 * $PUSHPULL_REDIS_SERVER (default /usr/bin/redis-server) on a free port and wait (10 s at
 * most) until it answers PING. 0, or -1 with the reason on stderr (nothing left running).
 */
int redis_harness_start(struct redis_proc *r, bool aof);
/* Start it again, on the same port, config and directory (after redis_harness_kill: with
 * AOF it reloads what it had). 0 or -1. */
int redis_harness_restart(struct redis_proc *r);
/* SIGKILL, and reap: a crash, with no goodbye to its clients. */
void redis_harness_kill(struct redis_proc *r);
/* SIGSTOP (frozen) or SIGCONT: a Redis that hangs, its sockets open and accepting, with
 * nothing answered until it is thawed, as a host that stalls. */
void redis_harness_freeze(struct redis_proc *r, bool frozen);
/* Stop it if it runs (SIGTERM, then SIGKILL), and remove the directory. Safe to call
 * twice, and on a struct that was never started (zeroed). */
void redis_harness_cleanup(struct redis_proc *r);
/* A connection to it (the caller frees it with redisFree), or NULL. */
redisContext *redis_harness_connect(const struct redis_proc *r);
/* Run a command (printf-style, hiredis's format) and return its integer reply, or -1. */
long long redis_harness_int(const struct redis_proc *r, const char *fmt, ...);

/* A pushpull-server instance the test started. */
struct instance {
    struct proc proc;   /* the process */
    unsigned port;      /* the port it listens on */
    char err_path[300]; /* its stderr */
};

/* Start $PUSHPULL_SERVER --port 0 with the NULL-terminated args, its stderr into
 * DIR/NAME.err, and wait for "listening on ...". 0, or -1 (it is then stopped). */
int instance_start(struct instance *in, const char *dir, const char *name,
                   const char *const *args);
/* SIGTERM, then SIGKILL after 10 s. Its exit status, or -1 when it died of a signal or
 * had to be killed. A zeroed or stopped instance gives -1 and is left alone. */
int instance_stop(struct instance *in);
/* Its stderr so far, into out (reset first). 0 or -1. */
int instance_log(const struct instance *in, struct dynbuf *out);
/* How many lines of its stderr contain needle. */
int instance_log_count(const struct instance *in, const char *needle);

#endif
