/* broker.h: the redis-server of one run, for a scenario whose feed lives in Redis
 * ("feed": {"redis": true}).
 *
 * The conductor starts it before the server, on a free loopback port, with a config it
 * writes into the run's directory (RUN_DIR/redis.conf: no RDB snapshots, protected mode
 * on loopback and off a namespace's own address (lab/place.h: only the run's namespaces
 * reach it there), the append-only
 * file only for a durable feed, its files and log in RUN_DIR/redis), never the system's
 * Redis and never its config. It is stopped by pid at the end of the run, also when the
 * run fails or is interrupted. Before it is stopped, its INFO (CPU, memory, commands) is
 * saved as RUN_DIR/redis_info.txt: Redis's own cost beside the server's /stats.
 */
#ifndef PUSHPULL_LAB_BROKER_H
#define PUSHPULL_LAB_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "proc.h"
#include "runargs.h"

/* A run's Redis. Zero it (broker_init) before use. */
struct broker {
    struct proc proc;             /* the redis-server process */
    char host[16];                /* its IPv4 address (bound, asked at); "" = 127.0.0.1 */
    const struct runargs *prefix; /* words before the program (lab/place.h: ip netns exec
                                     NAME), or NULL; the caller's, for the broker's life */
    unsigned port;                /* its port on 127.0.0.1; 0 before the start */
    char addr[32];                /* "HOST:PORT", for the server's --redis */
    char program[1024];           /* the redis-server program started */
    char dir[4096];               /* the directory of its config, files and output */
};

/* An idle broker: nothing started, on 127.0.0.1. For a Redis in a namespace, set host
 * (its address there) and prefix after broker_init, before broker_start. */
void broker_init(struct broker *b);

/* The redis-server program: $PUSHPULL_REDIS_SERVER, else Debian's /usr/bin/redis-server. */
const char *broker_program(void);

/* Write RUN_DIR/redis.conf (AOF on when durable) and start `redis_server` (the path of
 * the redis-server program, broker_program()) with it on a free loopback port, its stdout
 * and stderr in RUN_DIR/redis.out and redis.err, and wait (10 s at most) until it answers
 * PING. A port taken meanwhile by another program is tried again on another, up to three
 * times. 0, or -1 with one line in err naming what failed (nothing is left running). */
int broker_start(struct broker *b, const char *redis_server, const char *run_dir,
                 bool durable, char *err, size_t errlen);

/* Start it again after it ended (killed, to see what its clients do): the same program,
 * config and port, so with the AOF on it reloads what it held; its output goes to
 * RUN_DIR/redis-restarted.out and .err. 0, or -1 with one line in err. The caller stops
 * it as before. */
int broker_restart(struct broker *b, char *err, size_t errlen);

/* Save Redis's INFO answer as the file `path`. 0, or -1 with one line in err. */
int broker_save_info(const struct broker *b, const char *path, char *err, size_t errlen);

#endif
