/* scale_impl.h: what a scaled run's files share (scale.c: the run, its watch and its end;
 * scale_start.c: starting its programs; scale_record.c: run.json's "scale"); not for other
 * files, which see scale.h only.
 */
#ifndef PUSHPULL_LAB_SCALE_IMPL_H
#define PUSHPULL_LAB_SCALE_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "balancer.h"
#include "broker.h"
#include "place.h"
#include "proc.h"
#include "run_record.h"
#include "runargs.h"
#include "scale.h"

#define START_TIMEOUT_MS 10000 /* an instance's first line, HAProxy's port */
#define STATS_TIMEOUT_MS                                                                   \
    30000 /* GET /stats: an instance may be busy accepting thousands                       \
           */

/* One instance or partition. */
struct member {
    const struct scenario_place *at; /* where it runs */
    struct runargs argv;             /* as started: wrapped for its place */
    struct proc proc;
    char dir[4200];    /* RUN_DIR/instances/K or RUN_DIR/partitions/I */
    char addr[300];    /* instances: the address it listens on and is reached at */
    char url[600];     /* instances: "http://ADDR:PORT" */
    double users;      /* instances: connections open at the window's start */
    char remote[4200]; /* ssh partitions: its --out over there */
    CURL *stats;       /* instances: the /stats reader's handle, kept alive (or NULL) */
};

struct scaled {
    const struct runner_env *env;
    const struct scenario_run *r;
    const struct scenario_scale *sc;
    struct run_record rec;
    char dir[4096];
    char record_path[4200];
    char local_dir[PATH_MAX]; /* this checkout (bin_dir/..) */
    const char *remote_dir;   /* the ssh hosts' */
    struct place_set places;
    char ns_names[PLACES_MAX_NS][NETNS_NAME_MAX]; /* for run.json, after their removal */
    size_t n_ns;
    struct broker broker;
    struct runargs broker_prefix, broker_argv;
    struct balancer lb;
    struct runargs lb_argv;
    struct member inst[SCENARIO_MAX_INSTANCES];
    struct member *part; /* sc->partitions of them */
    struct runargs merge_argv;
    struct proc merge;
    char urls[SCENARIO_MAX_INSTANCES * 600]; /* what the clients get as --server */
    int64_t window_due;
    int64_t crash_due;     /* instance_crash's moment (monotonic ns); 0: none or done */
    int64_t crash_unix_ns; /* when it was crashed (CLOCK_REALTIME); 0: not yet */
    bool crashed;          /* the instance sc->crash_instance is gone, as planned */
    char *err;
    size_t errlen;
};

/* scale.c. "run ID: MESSAGE" into the caller's err and the record: RUNNER_FAILED. */
int scale_fail(struct scaled *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* run.json written as it stands. 0, or RUNNER_FAILED. */
int scale_record(struct scaled *t);
/* Instance k (0-based) is the one crashed on purpose, and it has been. */
bool scale_is_crashed(const struct scaled *t, uint32_t k);

/* scale_record.c. run.json's "scale" (struct run_record's add_scale; arg: the run). */
void scale_record_add(const void *arg, cJSON *obj);

/* scale_start.c. Each returns 0, or RUNNER_FAILED / RUNNER_INTERRUPTED with the message
 * in t->err; what it started is in t, stopped by scale.c on failure. The run's Redis at
 * its place. */
int scale_start_broker(struct scaled *t);
/* Instance k (0-based), awaited; its URL from its first line. */
int scale_start_instance(struct scaled *t, uint32_t k);
/* HAProxy before the instances; t->urls is its URL. */
int scale_start_balancer(struct scaled *t);
/* Partition i (0-based), not awaited (a client prints no first line). */
int scale_start_partition(struct scaled *t, uint32_t i);
/* GET /stats of every running instance into its directory's `name`, the moment into *at;
 * with users, each one's open connections into its member. */
int scale_save_all_stats(struct scaled *t, const char *name, int64_t *at, bool users);

#endif
