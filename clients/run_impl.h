/* run_impl.h: what a run's two files share (run.c sets the run up and collects it,
 * run_workers.c runs its threads); not for other files, which see run.h only.
 */
#ifndef PUSHPULL_RUN_IMPL_H
#define PUSHPULL_RUN_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "by_order.h"
#include "counters.h"
#include "freshness.h"
#include "headers.h"
#include "run.h"
#include "traffic_log.h"
#include "targets.h"
#include "upstream.h"
#include "user.h"
#include "wire.h"

/* One thread's share of the run. */
struct worker {
    struct run *r;            /* the run (borrowed) */
    uint32_t index;           /* 0 = the calling thread */
    struct loop *loop;        /* its event loop (owned) */
    struct user_env env;      /* the run's env with this loop */
    struct user **members;    /* its users by loop slot (the array owned, users not) */
    uint32_t nmembers;        /* in use */
    struct counters users;    /* its users' counts */
    struct counters observer; /* the observer's (first worker only) */
    struct counters upstream; /* its senders' */
    struct activity activity; /* its users' activity (owned) */
    struct wire wire;         /* its sockets' kernel bytes in the window (owned) */
    pthread_t thread;         /* when index > 0 and started */
    bool started;             /* the thread was created */
    int rc;                   /* 0, or -1 with err */
    char err[256];            /* why it failed */
    /* what the progress line shows, published once a second under run.progress_lock */
    uint32_t shown_connected;
    uint64_t shown_deliveries, shown_errors;
    /* its users' rows of traffic.csv (owned; set up when the run's log is on) */
    struct traffic_writer traffic;
};

struct run {
    struct run_results res;          /* what the report reads */
    const struct client_config *cfg; /* settings (borrowed) */
    struct header_profile profile;   /* owned */
    struct freshness fresh;          /* owned */
    struct activity activity;        /* owned; res.users.activity points here */
    struct traffic_log traffic;      /* traffic.csv (owned; on with --out, unless
                                        --traffic-log off) */
    struct worker *workers;          /* nworkers (owned) */
    uint32_t nworkers;               /* threads */
    pthread_mutex_t fresh_lock;      /* user_env.fresh_lock of every worker */
    pthread_mutex_t progress_lock;   /* the workers' shown_* fields */
    int64_t t0, w0, w1, end;         /* the timeline (monotonic) */
    double cpu_w0, cpu_w1;           /* process CPU at the window's edges */
    struct user *users;         /* cfg->clients users, the observer, the senders (owned) */
    uint32_t nusers;            /* users initialised (for cleanup) */
    uint32_t nids;              /* users, observer and senders: the loop's ids */
    struct upstream_env up_env; /* the messages' settings; its rtt histogram owned */
    struct by_order order;      /* the publisher's send times (owned; env.order points
                                   here when the client publishes) */
    struct user_env env;        /* shared by the users; each worker copies it */
    uint32_t *conns_open;       /* env.conns_open (owned) */
    bool ws_tls;                /* ws_tls_init was called: ws_tls_free at the end */
    char host_line[300];        /* "Host: ..." of the first target */
    struct server_target *targets; /* --server's URLs (owned) */
    uint32_t ntargets;             /* entries of targets */
    bool progress;                 /* stderr is a terminal */
};

/* run_workers.c. The worker that runs run id i (users in contiguous slices; a sender with
 * its user; the observer with the first). */
uint32_t run_worker_of(const struct run *r, uint32_t i);
/* Allocate r->workers (cli_threads of them), each with its loop, activity series and a copy
 * of r->env; 0, or -1 with err (run_free releases what was made). */
int run_workers_setup(struct run *r, char *err, size_t errlen);
/* Start the workers after the first on threads of their own, run the first here, and
 * join them. 0, or -1 with the first failure's message. */
int run_workers(struct run *r, char *err, size_t errlen);
/* The loops' own figures into r->res (before the loops are freed). */
void run_merge_loop_stats(struct run *r);
/* Every worker's counts and activity into the run's, and its last rows of traffic.csv
 * to the file (after the loops are freed). */
void run_merge_counts(struct run *r);
/* Free every worker's loop (closing its connections); the workers array stays. */
void run_workers_free(struct run *r);
/* The process's CPU time so far, user + system, in seconds. */
double run_cpu_seconds(void);

#endif
