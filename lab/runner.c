/* runner.c: one run, from an empty directory to its saved results (see runner.h): the
 * run's steps in order, the watch loop with the restart experiment, the end, and a failed
 * run's stop. Each program is started by runner_start.c (runner_impl.h).
 *
 * A struct trial holds everything one run has in flight: the programs (common/proc.h),
 * their exact argv (lab/runargs.h), the record that becomes run.json, and the two times
 * the restart experiment is waiting for. The watch loop wakes every TICK_MS, or sooner
 * when the crash or the restart is due, so the server is crashed within a millisecond of
 * `at` and started again within one of `down` after the crash document was saved, as
 * run.sh's crash_and_restart used to do with sleep. A restarted server's "up" time is
 * taken when its first line is read, which is polled every 2 ms (common/proc.c).
 *
 * Timing of the restart, from the client's start: the crash at warmup_s + restart.at_s
 * (SIGUSR1: the server prints its /stats document as its second stdout line and exits
 * at once); the successor on the same port down_s after that document was saved, with
 * the same argv plus "--port PORT". Both servers' files are kept: server.out/.err and
 * server-restarted.out/.err, and the crashed server's document as
 * server_stats.crashed.json (the merge adds it to its successor's).
 *
 * The server's /stats is read three times, so that what the server spent can be told
 * apart from what the window cost: once before the client starts (server_stats.idle.json:
 * its memory with no user connected), once when the client's warm-up ends
 * (server_stats.window.json: every user connected, the CPU spent so far), and once after
 * the client has ended (server_stats.json). run.json's "stats" holds when each was taken.
 * The window's reading is taken warmup_s after the client was started, which is within a
 * few milliseconds of the client's own window start (the client starts its clock once it
 * has set up); the end's reading comes after the client's drain, so the CPU between the
 * two includes the drain, at the same load.
 */
#include "runner.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "clock.h"
#include "front.h"
#include "lab.h"
#include "proc.h"
#include "run_record.h"
#include "runargs.h"
#include "runner_impl.h"
#include "scale.h"
#include "stats_get.h"

#define STOP_GRACE_MS    10000 /* SIGTERM to SIGKILL at the end of a run */
#define ABORT_GRACE_MS   5000  /* the same when a run is abandoned */
#define CRASH_TIMEOUT_MS 10000 /* SIGUSR1 to the server's end */
#define STATS_TIMEOUT_MS 10000 /* GET /stats */
#define TICK_MS          10    /* the watch loop's period */

/* dir/name into buf. */
const char *runner_path_in(const struct trial *t, char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", t->dir, name);
    return buf;
}

/* "run ID: MESSAGE" into the caller's err and the record. Returns RUNNER_FAILED. */
int runner_fail(struct trial *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    run_record_fail(&t->rec, t->r->id, t->err, t->errlen, fmt, ap);
    va_end(ap);
    return RUNNER_FAILED;
}

int runner_record(struct trial *t)
{
    char why[512];
    if (run_record_write(&t->rec, t->record_path, why, sizeof(why)) != 0)
        return runner_fail(t, "%s", why);
    return 0;
}

/* A program that ended on its own: which, when and how, and where its stderr is. */
static int died(struct trial *t, const struct proc *p, const char *stem)
{
    char how[96], errf[4200];
    proc_describe(p, how, sizeof(how));
    runner_path_in(t, errf, sizeof(errf), stem);
    if (t->client.pid == 0)
        return runner_fail(t, "%s died %.1f s after it started, %s; see %s", p->name,
                           (double)(p->ended_unix_ns - p->started_unix_ns) / 1e9, how,
                           errf);
    double since = (double)(p->ended_unix_ns - t->client.started_unix_ns) / 1e9;
    return runner_fail(
        t,
        "%s died %.1f s after the client started (%.1f s into the measurement "
        "window), %s; see %s",
        p->name, since, since - t->r->warmup_s, how, errf);
}

/* The run's protocol is spoken with the front (TLS and HTTP/2, or HTTP/1.1 through it). */
static bool through_front(const struct trial *t)
{
    return t->r->protocol != SCENARIO_HTTP1;
}

/* The machine's 1-minute load average, or -1. */
static double loadavg(void)
{
    double v = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf", &v) != 1)
        v = -1;
    if (f)
        fclose(f);
    return v;
}

/* GET /stats into the run's file `name`, and the moment it was asked into *at. */
static int save_stats(struct trial *t, const char *name, int64_t *at)
{
    char why[512], path[4200];
    struct dynbuf body;
    dynbuf_init(&body, (size_t)16 << 20);
    *at = clock_real_ns();
    int rc = stats_get(t->server_url, STATS_TIMEOUT_MS, &body, why, sizeof(why));
    cJSON *doc = rc == 0 && body.mem ? cJSON_ParseWithLength(body.mem, body.len) : NULL;
    dynbuf_free(&body);
    if (!doc)
        return runner_fail(t, "could not read the server's /stats for %s: %s", name,
                           rc == 0 ? "the answer is not JSON" : why);
    rc = lab_write_json(runner_path_in(t, path, sizeof(path), name), doc, why, sizeof(why));
    cJSON_Delete(doc);
    return rc == 0 ? 0 : runner_fail(t, "%s", why);
}

/* The second line of the crashed server's stdout (its /stats document), saved. */
static int save_crash_document(struct trial *t)
{
    char outf[4200], docf[4200], why[512];
    FILE *f = fopen(runner_path_in(t, outf, sizeof(outf), "server.out"), "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = -1;
    if (f && getline(&line, &cap, f) > 0)
        n = getline(&line, &cap, f);
    if (f)
        fclose(f);
    cJSON *doc = n > 0 ? cJSON_ParseWithLength(line, (size_t)n) : NULL;
    int rc = 0;
    if (!doc)
        rc = runner_fail(t, "the crashed server printed no /stats document (see %s)", outf);
    else if (lab_write_json(
                 runner_path_in(t, docf, sizeof(docf), "server_stats.crashed.json"), doc,
                 why, sizeof(why)) != 0)
        rc = runner_fail(t, "%s", why);
    cJSON_Delete(doc);
    free(line);
    return rc;
}

/* SIGUSR1 to the first server, as planned: it must end at once, cleanly, and leave its
 * document. The successor is due down_s later. */
static int crash(struct trial *t)
{
    struct proc *s = &t->server[FIRST];
    char errf[4200], how[96];
    t->crash_due = 0;
    t->rec.crash_unix_ns = clock_real_ns();
    if (proc_signal(s, SIGUSR1) != 0) {
        proc_describe(s, how, sizeof(how));
        return runner_fail(t,
                           "the server was gone before its crash was due: it %s (see %s)",
                           how, runner_path_in(t, errf, sizeof(errf), "server.err"));
    }
    if (!proc_wait(s, CRASH_TIMEOUT_MS))
        return *t->env->stop
                   ? RUNNER_INTERRUPTED
                   : runner_fail(t, "the server did not crash within %d s of SIGUSR1",
                                 CRASH_TIMEOUT_MS / 1000);
    if (proc_exit_code(s) != 0) {
        proc_describe(s, how, sizeof(how));
        return runner_fail(t, "the server did not crash cleanly: it %s (see %s)", how,
                           runner_path_in(t, errf, sizeof(errf), "server.err"));
    }
    t->server_down = true;
    int rc = save_crash_document(t);
    if (rc != 0)
        return rc;
    t->up_due = clock_mono_ns() + (int64_t)(t->r->restart.down_s * (double)NS_PER_S);
    return runner_record(t);
}

/* The successor: the same argv, and the port the first one had. */
static int restart(struct trial *t)
{
    t->up_due = 0;
    runargs_add_all(&t->argv_server[RESTARTED], &t->argv_server[FIRST]);
    runargs_add(&t->argv_server[RESTARTED], "--port");
    runargs_add(&t->argv_server[RESTARTED], strrchr(t->server_url, ':') + 1);
    if (t->argv_server[RESTARTED].failed)
        return runner_fail(t, "the server's command line is too long");
    int rc = runner_start_server(t, RESTARTED);
    if (rc != 0)
        return rc;
    t->rec.up_unix_ns = clock_real_ns();
    t->cur = RESTARTED;
    t->server_down = false;
    return runner_record(t);
}

/* While the client runs: every program watched, the crash and restart when due. Returns
 * 0 once the client has ended. */
static int watch(struct trial *t)
{
    const char *server_err[] = {"server.err", "server-restarted.err"};
    for (;;) {
        if (*t->env->stop)
            return RUNNER_INTERRUPTED;
        if (proc_poll(&t->client))
            return 0;
        if (!t->server_down && proc_poll(&t->server[t->cur]))
            return died(t, &t->server[t->cur], server_err[t->cur]);
        if (t->r->network.link && proc_poll(&t->link))
            return died(t, &t->link, "link.err");
        if (through_front(t) && proc_poll(&t->front.proc))
            return died(t, &t->front.proc, "nghttpx.log");
        int64_t now = clock_mono_ns(), next = now + TICK_MS * NS_PER_MS;
        int rc = 0;
        if (t->window_due && now >= t->window_due) {
            t->window_due = 0;
            rc = save_stats(t, "server_stats.window.json", &t->rec.stats_window_unix_ns);
            t->rec.loadavg_window = loadavg();
            rc = rc ? rc : runner_record(t);
        } else if (t->crash_due && now >= t->crash_due) {
            rc = crash(t);
        } else if (t->up_due && now >= t->up_due) {
            rc = restart(t);
        }
        if (rc != 0)
            return rc;
        if (t->window_due && t->window_due < next)
            next = t->window_due;
        if (t->crash_due && t->crash_due < next)
            next = t->crash_due;
        if (t->up_due && t->up_due < next)
            next = t->up_due;
        struct timespec ts = clock_ts_from_ns(next > now ? next - now : 0);
        nanosleep(&ts, NULL); /* a signal ends it early: the loop looks again */
    }
}

/* The last non-blank line of the run's file `name` (at most cap - 1 bytes), or "". */
static void last_line(const struct trial *t, const char *name, char *out, size_t cap)
{
    char path[4200], line[512];
    out[0] = '\0';
    FILE *f = fopen(runner_path_in(t, path, sizeof(path), name), "r");
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            snprintf(out, cap, "%.*s", (int)(cap > 1 ? cap - 1 : 0), line);
    }
    if (f)
        fclose(f);
}

/* The run's Redis at the end: its INFO saved (its CPU and memory), then stopped. */
static int finish_broker(struct trial *t)
{
    char why[512], path[4200], how[96];
    struct proc *p = &t->broker.proc;
    if (proc_poll(p))
        return died(t, p, "redis.out");
    if (broker_save_info(&t->broker,
                         runner_path_in(t, path, sizeof(path), "redis_info.txt"), why,
                         sizeof(why)) != 0)
        return runner_fail(t, "%s", why);
    if (proc_stop(p, STOP_GRACE_MS) != 0) {
        proc_describe(p, how, sizeof(how));
        return runner_fail(t, "redis-server %s when stopped (see %s)", how,
                           runner_path_in(t, path, sizeof(path), "redis.out"));
    }
    return runner_record(t);
}

/* The client is done: its status, the link's counts, the server's /stats, the server. */
static int finish(struct trial *t)
{
    char how[96], f1[4200], f2[4200];
    const char *server_err[] = {"server.err", "server-restarted.err"};
    if (proc_exit_code(&t->client) != 0) {
        char said[256];
        proc_describe(&t->client, how, sizeof(how));
        last_line(t, "client.err", said, sizeof(said));
        return runner_fail(t, "the client %s%s%s (see %s and %s)", how, said[0] ? ": " : "",
                           said, runner_path_in(t, f1, sizeof(f1), "client.txt"),
                           runner_path_in(t, f2, sizeof(f2), "client.err"));
    }
    if (t->server_down)
        return runner_fail(
            t, "the client ended while the server was down, before its restart");
    if (t->r->network.link && proc_stop(&t->link, STOP_GRACE_MS) != 0) {
        proc_describe(&t->link, how, sizeof(how));
        return runner_fail(t, "the link emulator %s when stopped (see %s)", how,
                           runner_path_in(t, f1, sizeof(f1), "link.err"));
    }
    if (through_front(t)) {
        if (proc_poll(&t->front.proc))
            return died(t, &t->front.proc, "nghttpx.log");
        if (front_usage(&t->front, &t->rec.front_cpu_s, &t->rec.front_peak_rss_kb) != 0)
            t->rec.front_cpu_s = -1;
        proc_stop(&t->front.proc, STOP_GRACE_MS); /* SIGTERM: nghttpx ends at once */
    }
    struct proc *s = &t->server[t->cur];
    if (proc_poll(s))
        return died(t, s, server_err[t->cur]);
    int rc = save_stats(t, "server_stats.json", &t->rec.stats_end_unix_ns);
    t->rec.loadavg_end = loadavg();
    if (rc != 0 && proc_poll(s))
        return died(t, s, server_err[t->cur]);
    if (rc != 0)
        return rc;
    if (proc_stop(s, STOP_GRACE_MS) != 0) {
        proc_describe(s, how, sizeof(how));
        return runner_fail(t, "the server %s when stopped (see %s)", how,
                           runner_path_in(t, f1, sizeof(f1), server_err[t->cur]));
    }
    return t->r->feed.redis ? finish_broker(t) : 0;
}

/* Stop whatever still runs, the client first, and say what was stopped. */
static void stop_all(struct trial *t, char *said, size_t cap)
{
    struct proc *order[] = {&t->client,        &t->link,
                            &t->front.proc,    &t->server[RESTARTED],
                            &t->server[FIRST], &t->broker.proc};
    said[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        struct proc *p = order[i];
        if (!p->running)
            continue;
        proc_stop(p, ABORT_GRACE_MS);
        size_t len = strlen(said);
        snprintf(said + len, cap - len, "%s%s (pid %d)", len ? ", " : "", p->name,
                 (int)p->pid);
    }
}

/* Everything a run does, in order. */
static int steps(struct trial *t)
{
    int rc = runner_start_server(t, FIRST);
    snprintf(t->front_url, sizeof(t->front_url), "%s", t->server_url);
    snprintf(t->upstream, sizeof(t->upstream), "%s", t->server_url + strlen("http://"));
    if (rc == 0 && through_front(t))
        rc = runner_start_front(t);
    if (rc == 0 && t->r->network.link)
        rc = runner_start_link(t);
    if (rc == 0)
        rc = save_stats(t, "server_stats.idle.json", &t->rec.stats_idle_unix_ns);
    if (rc == 0)
        rc = runner_start_client(t);
    if (rc == 0)
        rc = watch(t);
    if (rc == 0)
        rc = finish(t);
    return rc;
}

/* The first server's argv; the others are built when their turn comes. */
static int prepare(struct trial *t, const char *results_dir)
{
    char why[512], feed[4200];
    snprintf(t->dir, sizeof(t->dir), "%s/runs/%s", results_dir, t->r->id);
    snprintf(t->record_path, sizeof(t->record_path), "%s/run.json", t->dir);
    /* a fresh directory: files an earlier run with this id left (a crashed server's
     * /stats, the link's) would otherwise be merged into this one */
    if (lab_remove_tree(t->dir, why, sizeof(why)) != 0 ||
        lab_mkdirs(t->dir, why, sizeof(why)) != 0)
        return runner_fail(t, "%s", why);
    struct runargs *a = &t->argv_server[FIRST];
    runargs_addf(a, "%s/pushpull-server", t->env->bin_dir);
    runargs_add(a, "--port");
    runargs_add(a, "0");
    if (runargs_server(t->r, a) != 0)
        return runner_fail(t, "the server's command line is too long");
    if (t->r->restart.on && t->r->restart.durable) {
        runargs_add(a, "--feed-file");
        runargs_add(a, runner_path_in(t, feed, sizeof(feed), "feed.log"));
    }
    if (t->r->feed.redis) {
        if (broker_start(&t->broker, broker_program(), t->dir, t->r->feed.durable, why,
                         sizeof(why)) != 0)
            return runner_fail(t, "%s", why);
        runargs_add(&t->broker_argv, broker_program());
        runargs_add(&t->broker_argv, runner_path_in(t, feed, sizeof(feed), "redis.conf"));
        runargs_add(a, "--redis");
        runargs_add(a, t->broker.addr);
    }
    return a->failed ? runner_fail(t, "the server's command line is too long")
                     : runner_record(t);
}

int runner_run(const struct runner_env *env, const struct scenario *s, size_t index,
               const char *results_dir, char *err, size_t errlen)
{
    if (scenario_run_at(s, index)->scale->scaled) /* instances, partitions, hosts */
        return scale_run(env, s, index, results_dir, err, errlen);
    struct trial *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "runner: out of memory");
        return RUNNER_FAILED;
    }
    t->env = env;
    t->r = scenario_run_at(s, index);
    t->err = err;
    t->errlen = errlen;
    for (int i = 0; i < 2; i++) {
        proc_init(&t->server[i]);
        runargs_init(&t->argv_server[i]);
    }
    proc_init(&t->link);
    proc_init(&t->client);
    proc_init(&t->front.proc);
    broker_init(&t->broker);
    runargs_init(&t->argv_link);
    runargs_init(&t->argv_client);
    runargs_init(&t->argv_front);
    runargs_init(&t->broker_argv);
    t->rec = (struct run_record){
        .scenario = s,
        .run = t->r,
        .plan_index = index,
        .plan_runs = scenario_run_count(s),
        .programs = {{"server", &t->argv_server[FIRST], &t->server[FIRST]},
                     {"front", &t->argv_front, &t->front.proc},
                     {"link", &t->argv_link, &t->link},
                     {"client", &t->argv_client, &t->client},
                     {"server_restarted", &t->argv_server[RESTARTED],
                      &t->server[RESTARTED]},
                     {"redis", &t->broker_argv, &t->broker.proc}},
        .n_programs = RUN_RECORD_PROGRAMS,
        .redis_address = t->broker.addr,
        .started_unix_ns = clock_real_ns(),
        .loadavg_window = -1,
        .loadavg_end = -1,
        .front_cpu_s = -1,
        .status = RUN_STARTING};
    int rc = prepare(t, results_dir);
    if (rc == 0)
        rc = steps(t);
    if (rc != 0) {
        char said[512];
        stop_all(t, said, sizeof(said));
        if (rc == RUNNER_INTERRUPTED) {
            snprintf(t->rec.message, sizeof(t->rec.message), "interrupted%s%s",
                     said[0] ? "; stopped " : "", said);
            snprintf(err, errlen, "run %s: %s", t->r->id, t->rec.message);
        }
    }
    t->rec.status = rc == 0                    ? RUN_OK
                    : rc == RUNNER_INTERRUPTED ? RUN_INTERRUPTED
                                               : RUN_FAILED;
    t->rec.ended_unix_ns = clock_real_ns();
    char why[512];
    if (run_record_write(&t->rec, t->record_path, why, sizeof(why)) != 0 && rc == 0) {
        snprintf(err, errlen, "run %s: %s", t->r->id, why);
        rc = RUNNER_FAILED;
    }
    for (int i = 0; i < 2; i++)
        runargs_free(&t->argv_server[i]);
    runargs_free(&t->argv_link);
    runargs_free(&t->argv_client);
    runargs_free(&t->argv_front);
    runargs_free(&t->broker_argv);
    free(t);
    return rc;
}
