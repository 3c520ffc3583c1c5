/* servers.h: the servers the bench compares, one row each.
 *
 * A row says where the server serves each approach, how to publish to it, how to ask how
 * many subscribers it holds, and how to start it fresh in a run's own directory. The lab
 * server stamps each update itself (ts_ns at publish) and wraps the posted text as its
 * data; nchan passes the posted body through untouched, so the bench posts the lab's
 * update JSON with ts_ns taken just before the POST is written. So nchan's ts_ns latency
 * includes the publish request's trip and its wait in nginx (which grows when a worker is
 * busy fanning out), the lab server's does not. Both servers' updates also carry the
 * instant the publisher's schedule set for them in their data ("pub_ns=..."), so the
 * report holds them against each other from the same instant.
 *
 * The third row, "floor" (floor.h), serves the poll workloads only: the least server
 * that answers them, the ceiling any server meets on this machine under the same load.
 *
 * Adding a server is a row here: its endpoints, publish path and start function.
 */
#ifndef PUSHPULL_BENCH_SERVERS_H
#define PUSHPULL_BENCH_SERVERS_H

#include <stddef.h>
#include <stdint.h>

#include "httpc.h"
#include "proc.h"
#include "usage.h"

/* The ways a subscriber can ask; each server serves some of them. */
enum bench_approach { BENCH_SSE, BENCH_LONG, BENCH_WS, BENCH_POLL, BENCH_APPROACHES };

struct server_endpoint {
    const char *path;      /* URL path, or NULL when the server does not serve it */
    const char *transport; /* the reference client's --approach for it (NULL for polling) */
};

struct server;

/* How a run starts the servers (bench_measure.c fills it). */
struct server_opts {
    const char *dir;        /* this run's directory (absolute): config, pid, logs */
    const char *server_bin; /* the lab server's program */
    const char *nginx_bin;  /* nginx's program */
    const char *bench_bin;  /* this program, for `pushpull-bench floor` */
    unsigned threads;       /* the lab server's threads; nginx's worker processes */
};

struct server_kind {
    const char *name;                            /* "pushpull", "nchan" */
    struct server_endpoint ep[BENCH_APPROACHES]; /* per approach */
    const char *publish_path;                    /* POST here to publish */
    int stamps_itself; /* 1: the server sets ts_ns (post the data); 0: post the update */
    int with_children; /* 1: its cost is its own plus its children's (nginx workers) */
    int wrk_only;      /* 1: a yardstick for wrk's workloads alone (the floor) */
    /* Start it, fill s->proc and s->port, and return once it accepts connections. */
    int (*start)(struct server *s, const struct server_opts *o, char *err, size_t errlen);
    /* The subscribers it holds now (streams, held long polls). */
    int (*subscribers)(struct server *s, uint64_t *n, char *err, size_t errlen);
};

/* A running server. */
struct server {
    const struct server_kind *kind;
    struct proc proc;   /* the process the bench started (nginx: the master) */
    unsigned port;      /* where it listens on 127.0.0.1 */
    struct httpc ctl;   /* the bench's own connection: publish, counts */
    uint64_t published; /* updates published by the bench */
};

extern const struct server_kind bench_server_pushpull;
extern const struct server_kind bench_server_nchan;
extern const struct server_kind bench_server_floor; /* floor.h: the machine's ceiling */
/* Every row, NULL-terminated, in this order (the report's columns); and one by name, or
 * NULL. */
#define BENCH_SERVERS 3
extern const struct server_kind *const bench_server_kinds[];
const struct server_kind *bench_server_kind_find(const char *name);

/* Start k fresh with o. 0, or -1 with a message in err (nothing is left running). */
int bench_server_start(struct server *s, const struct server_kind *k,
                       const struct server_opts *o, char *err, size_t errlen);
/* Stop it by its pid (SIGTERM, SIGKILL after 10 s) and close the bench's connection.
 * Returns the exit status, or -1 when it died of a signal (it had to be killed). Safe to
 * call twice. */
int bench_server_stop(struct server *s);
/* The URL of approach a on s into out; -1 when s does not serve it. */
int bench_server_url(const struct server *s, enum bench_approach a, char *out, size_t cap);
/* Publish one update whose data is data_bytes of text (or more, when the stamp does not
 * fit) starting with "pub_ns=<due_ns>;": the CLOCK_REALTIME instant the update was due by
 * the publisher's schedule (0: now), which the reference client reads back
 * (update_scan.h), so both servers are timed from the same instant and a publish that
 * went out late (the previous one was answered late) counts its lateness, after wrk2's
 * rule. Through nchan the body is the whole update JSON, with ts_ns the moment the POST
 * is written. 0 or -1. */
int bench_server_publish(struct server *s, unsigned data_bytes, int64_t due_ns, char *err,
                         size_t errlen);
/* Its CPU and RSS now (children included for nginx). 0 or -1. */
int bench_server_usage(const struct server *s, struct usage *u);

#endif
