/* bench_run_impl.h: what the bench conductor's two files share (bench_run.c,
 * bench_measure.c): the options, a workload's row, and one run's context; not for other
 * files, which see bench_run.h only.
 *
 * bench_run.c reads the command line, walks the workloads and servers, and writes the
 * comparison; for each run it fills a run_ctx and hands it to bench_measure_run
 * (bench_measure.c), which starts the server, puts the load on it and fills the row (the
 * lab client's workloads through lab_client.c).
 */
#ifndef PUSHPULL_BENCH_RUN_IMPL_H
#define PUSHPULL_BENCH_RUN_IMPL_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "proc.h"
#include "report.h"
#include "servers.h"

struct load {
    uint64_t clients;    /* connections */
    double rate_hz;      /* updates published per second (0 for idle) */
    int64_t duration_ns; /* publishing time (0 for idle) */
};

struct bench_opts {
    struct load idle, fanout, longpoll;
    int64_t wrk_duration_ns;
    unsigned wrk_threads, wrk_connections;
    unsigned reps;
    unsigned payload_bytes;
    unsigned client_threads; /* the reference client's loops */
    unsigned server_threads; /* the lab server's threads and nginx's workers */
    int64_t settle_ns;       /* wait after all are subscribed, before measuring */
    int64_t grace_ns;        /* after the last publish, give up waiting for deliveries once
                                none has come for this long */
    const char *out;         /* results root */
    const char *server_bin, *nginx_bin, *wrk_bin;
    unsigned workloads; /* bit i: workloads[i] selected */
    unsigned servers;   /* bit i: bench_server_kinds[i] selected */
};

enum wl_kind {
    WL_IDLE, /* idle subscribers of the reference client: server RSS */
    WL_PUSH, /* the reference client under publishes: latency, delivery, CPU */
    WL_WRK,  /* wrk on the poll URL: requests/s */
    WL_LAB   /* the lab's own client (bin/pushpull-client) under publishes (lab_client.c) */
};

struct workload {
    const char *name;
    const char *what; /* for --help */
    enum wl_kind kind;
    enum bench_approach approach;
    size_t load;     /* offsetof the struct load in bench_opts (WL_IDLE, WL_PUSH) */
    int conditional; /* WL_WRK: send the newest ETag back, so every answer is a 304 */
};

/* One run: what bench_run.c sets before bench_measure_run, and what that fills. */
struct run_ctx {
    const struct bench_opts *o;
    const struct workload *w;
    const struct server_kind *k;
    char dir[PATH_MAX];  /* this run's directory */
    char self[PATH_MAX]; /* this program, to start the reference client */
    struct server srv;
    struct proc client; /* the reference client, with its stdout on a pipe */
    struct bench_row *row;
    char err[512];
};

/* bench_run.c. Set by SIGINT or SIGTERM: every wait gives up, the run ends as
 * "interrupted". */
extern volatile sig_atomic_t bench_interrupted;

/* bench_measure.c. One measurement, start to end: a fresh server in x->dir, the load,
 * the row (x->row) filled whatever happens (ok, or a note saying why not). */
void bench_measure_run(struct run_ctx *x);
/* bench_measure.c, for the measurements' files. Sleep until the monotonic deadline; -1
 * when interrupted first. Say why the run failed (x->err, later the row's note). Write
 * the row's note. */
int bench_wait_until(int64_t deadline);
__attribute__((format(printf, 2, 3))) void bench_run_fail(struct run_ctx *x,
                                                          const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void bench_row_note(struct bench_row *r,
                                                          const char *fmt, ...);
/* The number doc.name, or NAN when it is missing or not a number. */
double bench_json_num(const cJSON *doc, const char *name);

/* lab_client.c. A WL_LAB workload on the server x->srv already started: the lab's client
 * at the workload's load, the publishes on schedule, the row filled from the client's
 * summary.json. 0, or -1 with x->err saying why. */
int bench_lab_client_run(struct run_ctx *x);

#endif
