/* run_record.h: run.json, the one record of a run: its parameters, written once, as
 * data, beside its results, and what became of it.
 *
 * The conductor writes runs/<id>/run.json before it starts anything and again at each
 * step (programs started, the server restarted, the run's end), always whole (written
 * aside, then renamed). The merge, the report and the plots read it; nothing recovers a
 * run's settings from its id's spelling. Its fields, units in the key names:
 *
 *   run_id, scenario, plan_index (0-based), plan_runs
 *   approach: the approach table's row ("short"); approach_index: its entry in the
 *     scenario's "approaches"
 *   settings: every value the run used: the approach's own (its choice, such as
 *     "poll": "state", and its numeric settings, such as "interval_ms"), then clients,
 *     duration_s, warmup_s, seed, update_process, rate_hz (not with a trace), burst_size
 *     (burst only), payload_bytes, trace (trace only), headers, cookie_bytes, protocol
 *     ("http1", "http1-front", "https1", "h2c", "h2"), users_per_connection,
 *     send_rate_hz (0: the users send nothing), send_bytes, send_mode
 *   swept: the fields the scenario wrote as lists, with this run's values, in id order
 *     ({"interval_ms": 250}, {"feed": "file"})
 *   network: null, or delay_ms, jitter_ms, rate_kbit, drop_every_s, idle_timeout_s,
 *     buffer_bytes, handshake
 *   restart: null, or at_s, down_s, feed ("memory" or "file"), and once they happened
 *     crash_unix_ns, up_unix_ns (CLOCK_REALTIME: the crash signal, the successor's first
 *     line) and down_measured_s
 *   target: {users, egress_usd_per_gb}: what the report scales the run's cost to
 *   radio: the phones' radio model for the energy figures ({"model": "lte", and every
 *     parameter in the unit of the scenario's "radio" section: promotion_ms, ...})
 *   quick: whether the quick overrides were applied; time_compression: how many times
 *     faster the quick version's clock runs (scenario.h); full_duration_s
 *   stats: when the server's /stats was read: idle_unix_ns (before the client started:
 *     server_stats.idle.json), window_unix_ns (at the window's start:
 *     server_stats.window.json), end_unix_ns (after the client ended: server_stats.json);
 *     each 0 until taken; loadavg_window, loadavg_end: the machine's 1-minute load
 *     average at those two moments (other work on a shared machine shows there)
 *   feed: {"redis": false} (the feed in the server's memory), or {"redis": true,
 *     "durable": D, "address": "127.0.0.1:PORT"}: the run's Redis (lab/broker.h), whose
 *     INFO at the end is redis_info.txt
 *   programs: {"server"|"front"|"link"|"client"|"server_restarted"|"redis": {"argv":
 *     [...], "pid": N, "ended": "exited with status 0"}}, each once started (argv exact,
 *     path included)
 *   front: null, or what the front (nghttpx, lab/front.h) cost: cpu_s (user + system,
 *     its whole life), peak_rss_kb (VmHWM), read just before it was stopped
 *   scale: a scaled run's processes (lab/scale.h): "instances" and "partitions" (their
 *     counts), "instance" and "partition" (one object each: place, url and
 *     connections_at_window for instances, argv, pid, ended), "balancer" (null, or kind,
 *     listen, argv, pid, ended, cpu_s, peak_rss_kb), "instance_crash" (instance, at_s,
 *     crash_unix_ns), "namespaces" (the names made), "merge_argv"
 *   started_unix_ns, ended_unix_ns (0 while running)
 *   outcome: {"status": "starting"|"running"|"ok"|"failed"|"interrupted", "message"}
 */
#ifndef PUSHPULL_LAB_RUN_RECORD_H
#define PUSHPULL_LAB_RUN_RECORD_H

#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <stdint.h>

#include "proc.h"
#include "runargs.h"
#include "scenario.h"

enum run_status { RUN_STARTING, RUN_RUNNING, RUN_OK, RUN_FAILED, RUN_INTERRUPTED };

#define RUN_RECORD_PROGRAMS 6

/* One program the run started (or will start). */
struct run_program {
    const char *role; /* "server", "front", "link", "client", "server_restarted", "redis" */
    const struct runargs *argv; /* its exact argv */
    const struct proc *proc;    /* NULL until it was started */
};

struct run_record {
    const struct scenario *scenario;                  /* the scenario the run is of */
    const struct scenario_run *run;                   /* the run */
    size_t plan_index, plan_runs;                     /* its place in the plan */
    struct run_program programs[RUN_RECORD_PROGRAMS]; /* in the order started */
    size_t n_programs;                                /* entries used */
    const char *redis_address;                        /* the run's Redis, "" before it */
    int64_t started_unix_ns;                          /* before anything started */
    int64_t ended_unix_ns;                            /* 0 while it runs */
    int64_t crash_unix_ns, up_unix_ns;                /* the restart's; 0 until then */
    int64_t stats_idle_unix_ns;   /* /stats read before the client started; 0: not yet */
    int64_t stats_window_unix_ns; /* read at the window's start */
    int64_t stats_end_unix_ns;    /* read after the client ended */
    double loadavg_window;        /* the machine's 1-minute load average then; NAN */
    double loadavg_end;           /* and at the end */
    double front_cpu_s;           /* the front's CPU; < 0: no front, or not read */
    long front_peak_rss_kb;       /* its peak resident memory */
    /* a scaled run's "scale" object (lab/scale.c): its instances, partitions, balancer
     * and namespaces, added by add_scale(scale_arg, obj); NULL for other runs */
    void (*add_scale)(const void *scale_arg, cJSON *obj);
    const void *scale_arg;
    enum run_status status; /* so far */
    char message[1024];     /* why it failed, or "" */
};

/* Write rec as JSON to path (whole, atomically). 0, or -1 with a message in err. */
int run_record_write(const struct run_record *rec, const char *path, char *err,
                     size_t errlen);
/* A run that failed: the printf-style message into rec->message, and "run ID: MESSAGE"
 * into err[errlen] for the caller to print. */
void run_record_fail(struct run_record *rec, const char *id, char *err, size_t errlen,
                     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
