/* runner_impl.h: what a run's two files share (runner.c, the run's steps; runner_start.c,
 * starting its programs); not for other files, which see runner.h only.
 */
#ifndef PUSHPULL_LAB_RUNNER_IMPL_H
#define PUSHPULL_LAB_RUNNER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "front.h"
#include "proc.h"
#include "run_record.h"
#include "runargs.h"
#include "runner.h"

enum { FIRST, RESTARTED }; /* the two servers of a run with a restart */

struct trial {
    const struct runner_env *env;
    const struct scenario_run *r;
    struct run_record rec;         /* what run.json says */
    char dir[4096];                /* results/runs/<id> */
    char record_path[4200];        /* its run.json */
    struct runargs argv_server[2]; /* FIRST, RESTARTED */
    struct runargs argv_link, argv_client, argv_front;
    struct proc server[2], link, client;
    struct front front;         /* nghttpx, for a protocol through the front */
    struct broker broker;       /* the run's Redis ("feed": {"redis": true}) */
    struct runargs broker_argv; /* its argv, for run.json */
    int cur;                    /* the server that runs now */
    char server_url[256];       /* "http://127.0.0.1:PORT", as it printed it */
    char front_url[256];        /* what the client talks to: server, front or link */
    char upstream[256];         /* what the link forwards to: "ADDR:PORT" */
    int64_t crash_due, up_due;  /* monotonic ns; 0: nothing due */
    int64_t window_due;         /* the window's /stats reading; 0: taken or not due */
    bool server_down;           /* between the crash and the successor's line */
    char *err;                  /* the caller's buffer */
    size_t errlen;
};

/* runner.c. dir/name into buf. */
const char *runner_path_in(const struct trial *t, char *buf, size_t cap, const char *name);
/* "run ID: MESSAGE" into the caller's err and the record. Returns RUNNER_FAILED. */
int runner_fail(struct trial *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* run.json written as it stands. 0, or RUNNER_FAILED. */
int runner_record(struct trial *t);

/* runner_start.c. Each returns 0, or RUNNER_FAILED / RUNNER_INTERRUPTED with the message
 * in t->err; the program started is in t and is stopped by runner.c on failure.
 * The server `which` (FIRST or RESTARTED), awaited; the first one's URL into
 * t->server_url. */
int runner_start_server(struct trial *t, int which);
/* nghttpx in front of the server; t->upstream and t->front_url point at it. */
int runner_start_front(struct trial *t);
/* The link emulator in front of t->upstream; t->front_url points at it. */
int runner_start_link(struct trial *t);
/* The client against t->front_url; the window's reading and the crash become due. */
int runner_start_client(struct trial *t);

#endif
