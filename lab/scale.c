/* scale.c: a scaled run, from an empty directory to its merged result (see scale.h).
 *
 * A struct scaled holds what the run has in flight: each instance and partition as a
 * member (its place, its exact argv as started, its process, where it listens), the run's
 * Redis, HAProxy, the namespaces and run.json's record. Every program is started through
 * common/proc.h with its argv wrapped for its place (lab/place.h), so stopping is by pid
 * wherever it runs; the namespaces' removal kills whatever a stop missed.
 *
 * The programs are started by scale_start.c and run.json's "scale" is written by
 * scale_record.c; here are the order, the watch (instance_crash's moment among it), the
 * end and the cleanup.
 *
 * ssh places: instances and partitions may run on another host (pushpull checked out at
 * the same commit, place_ssh_check, before anything starts); an instance there binds
 * 0.0.0.0 and is reached at the host's name; a partition writes under
 * REMOTE_DIR/results/remote/RUN_ID/partition-I, copied back with scp when it ends.
 * Redis and HAProxy run here or in a namespace.
 */
#include "scale_impl.h"

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balancer.h"
#include "broker.h"
#include "clock.h"
#include "lab.h"
#include "place.h"
#include "proc.h"
#include "run_record.h"
#include "runargs.h"

#define STOP_GRACE_MS    10000 /* SIGTERM to SIGKILL at the end of a run */
#define ABORT_GRACE_MS   5000  /* the same when a run is abandoned */
#define MERGE_TIMEOUT_MS 120000
#define TICK_MS          10

int scale_fail(struct scaled *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    run_record_fail(&t->rec, t->r->id, t->err, t->errlen, fmt, ap);
    va_end(ap);
    return RUNNER_FAILED;
}

int scale_record(struct scaled *t)
{
    char why[512];
    if (run_record_write(&t->rec, t->record_path, why, sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    return 0;
}

bool scale_is_crashed(const struct scaled *t, uint32_t k)
{
    return t->crashed && k + 1 == t->sc->crash_instance;
}

/* ---- while it runs ---------------------------------------------------------------- */

/* A program that ended on its own, or a partition that failed. */
static int died(struct scaled *t, const struct proc *p, const char *errf)
{
    char how[96];
    proc_describe(p, how, sizeof(how));
    double since = (double)(p->ended_unix_ns - p->started_unix_ns) / 1e9;
    return scale_fail(t, "%s %s %.1f s after it started; see %s", p->name, how, since,
                      errf);
}

/* instance_crash: SIGUSR1 (the server prints its /stats document as its second stdout
 * line and exits without a goodbye: the kernel resets its connections), the document
 * saved as the instance's final reading. */
static int crash(struct scaled *t)
{
    uint32_t k = t->sc->crash_instance - 1;
    struct member *m = &t->inst[k];
    char outf[4400], docf[4400], why[512], how[96];
    t->crash_due = 0;
    t->crash_unix_ns = clock_real_ns();
    if (proc_signal(&m->proc, SIGUSR1) != 0 || !proc_wait(&m->proc, STOP_GRACE_MS) ||
        proc_exit_code(&m->proc) != 0) {
        proc_describe(&m->proc, how, sizeof(how));
        return *t->env->stop
                   ? RUNNER_INTERRUPTED
                   : scale_fail(t, "instance %u did not crash cleanly: it %s", k + 1, how);
    }
    t->crashed = true;
    snprintf(outf, sizeof(outf), "%s/server.out", m->dir);
    FILE *f = fopen(outf, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = -1;
    if (f && getline(&line, &cap, f) > 0)
        n = getline(&line, &cap, f);
    if (f)
        fclose(f);
    cJSON *doc = n > 0 ? cJSON_ParseWithLength(line, (size_t)n) : NULL;
    free(line);
    if (!doc)
        return scale_fail(t, "crashed instance %u printed no /stats document (see %s)",
                          k + 1, outf);
    snprintf(docf, sizeof(docf), "%s/server_stats.json", m->dir);
    int rc = lab_write_json(docf, doc, why, sizeof(why));
    cJSON_Delete(doc);
    return rc == 0 ? scale_record(t) : scale_fail(t, "%s", why);
}

/* Until every partition has ended: the servers, Redis and HAProxy watched. */
static int watch(struct scaled *t)
{
    char errf[4400];
    for (;;) {
        if (*t->env->stop)
            return RUNNER_INTERRUPTED;
        uint32_t running = 0;
        for (uint32_t i = 0; i < t->sc->partitions; i++) {
            struct member *m = &t->part[i];
            if (!proc_poll(&m->proc)) {
                running++;
            } else if (proc_exit_code(&m->proc) != 0) {
                snprintf(errf, sizeof(errf), "%s/client.err", m->dir);
                return died(t, &m->proc, errf);
            }
        }
        if (running == 0)
            return 0;
        for (uint32_t k = 0; k < t->sc->instances; k++)
            if (!scale_is_crashed(t, k) && proc_poll(&t->inst[k].proc)) {
                snprintf(errf, sizeof(errf), "%s/server.err", t->inst[k].dir);
                return died(t, &t->inst[k].proc, errf);
            }
        if (t->r->feed.redis && proc_poll(&t->broker.proc)) {
            snprintf(errf, sizeof(errf), "%s/redis.out", t->dir);
            return died(t, &t->broker.proc, errf);
        }
        if (t->sc->balancer && proc_poll(&t->lb.proc)) {
            snprintf(errf, sizeof(errf), "%s/haproxy.err", t->dir);
            return died(t, &t->lb.proc, errf);
        }
        /* the window's reading first: a crash due at the same tick comes after it */
        if (t->window_due && clock_mono_ns() >= t->window_due) {
            t->window_due = 0;
            int rc = scale_save_all_stats(t, "server_stats.window.json",
                                          &t->rec.stats_window_unix_ns, true);
            if (rc != 0)
                return rc;
        }
        if (t->crash_due && clock_mono_ns() >= t->crash_due) {
            int rc = crash(t);
            if (rc != 0)
                return rc;
        }
        struct timespec ts = {0, TICK_MS * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* ---- the end ------------------------------------------------------------------------ */

/* scp what an ssh partition wrote back into its directory. */
static int copy_back(struct scaled *t, struct member *m)
{
    struct runargs a;
    struct proc p;
    char src[4600], why[512];
    runargs_init(&a);
    proc_init(&p);
    snprintf(src, sizeof(src), "%s:%s/.", m->at->name, m->remote);
    runargs_add(&a, "/usr/bin/scp");
    runargs_add(&a, "-r");
    runargs_add(&a, "-o");
    runargs_add(&a, "BatchMode=yes");
    runargs_add(&a, src);
    runargs_add(&a, m->dir);
    struct proc_spec spec = {.argv = (const char *const *)a.v,
                             .name = "scp",
                             .out = PROC_DEVNULL,
                             .err = PROC_DEVNULL};
    int rc = proc_start(&p, &spec, why, sizeof(why));
    if (rc == 0 && (!proc_wait(&p, MERGE_TIMEOUT_MS) || proc_exit_code(&p) != 0))
        rc = -1;
    if (p.running)
        proc_stop(&p, 1000);
    runargs_free(&a);
    return rc == 0 ? 0 : scale_fail(t, "scp %s to %s failed", src, m->dir);
}

/* pushpull-client merge --out RUN_DIR PART_DIR... */
static int merge_partitions(struct scaled *t)
{
    char outf[4200], errf[4200], why[1024], how[96];
    runargs_addf(&t->merge_argv, "%s/pushpull-client", t->env->bin_dir);
    runargs_add(&t->merge_argv, "merge");
    runargs_add(&t->merge_argv, "--out");
    runargs_add(&t->merge_argv, t->dir);
    for (uint32_t i = 0; i < t->sc->partitions; i++)
        runargs_add(&t->merge_argv, t->part[i].dir);
    if (t->merge_argv.failed)
        return scale_fail(t, "the merge's command line is too long (%u partitions)",
                          t->sc->partitions);
    snprintf(outf, sizeof(outf), "%s/merge.out", t->dir);
    snprintf(errf, sizeof(errf), "%s/merge.err", t->dir);
    struct proc_spec spec = {.argv = (const char *const *)t->merge_argv.v,
                             .name = "the merge",
                             .out = PROC_FILE,
                             .out_path = outf,
                             .err = PROC_FILE,
                             .err_path = errf};
    if (proc_start(&t->merge, &spec, why, sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    if (!proc_wait(&t->merge, MERGE_TIMEOUT_MS))
        return *t->env->stop ? RUNNER_INTERRUPTED : scale_fail(t, "the merge did not end");
    if (proc_exit_code(&t->merge) != 0) {
        proc_describe(&t->merge, how, sizeof(how));
        return scale_fail(t, "pushpull-client merge %s (see %s)", how, errf);
    }
    return scale_record(t);
}

static int finish(struct scaled *t)
{
    char why[512], path[4200], how[96];
    for (uint32_t i = 0; i < t->sc->partitions; i++)
        if (t->part[i].at->kind == SCENARIO_SSH && copy_back(t, &t->part[i]) != 0)
            return RUNNER_FAILED;
    int rc = scale_save_all_stats(t, "server_stats.json", &t->rec.stats_end_unix_ns, false);
    if (rc != 0)
        return rc;
    if (t->sc->balancer) {
        balancer_usage(&t->lb);
        proc_stop(&t->lb.proc, STOP_GRACE_MS);
    }
    for (uint32_t k = 0; k < t->sc->instances; k++) {
        struct proc *p = &t->inst[k].proc;
        if (!scale_is_crashed(t, k) && proc_stop(p, STOP_GRACE_MS) != 0) {
            proc_describe(p, how, sizeof(how));
            return scale_fail(t, "instance %u %s when stopped (see %s/server.err)", k + 1,
                              how, t->inst[k].dir);
        }
    }
    if (t->r->feed.redis) {
        snprintf(path, sizeof(path), "%s/redis_info.txt", t->dir);
        if (broker_save_info(&t->broker, path, why, sizeof(why)) != 0)
            return scale_fail(t, "%s", why);
        proc_stop(&t->broker.proc, STOP_GRACE_MS);
    }
    rc = scale_record(t);
    if (rc == 0 && t->sc->partitions > 1)
        rc = merge_partitions(t);
    static const char *const docs[] = {"server_stats.idle.json", "server_stats.window.json",
                                       "server_stats.json"};
    for (size_t i = 0; rc == 0 && i < 3; i++)
        if (scale_stats_sum(t->dir, t->sc->instances, docs[i], why, sizeof(why)) != 0)
            rc = scale_fail(t, "%s", why);
    return rc;
}

/* p stopped if it runs, named in said. */
static void stop_one(struct proc *p, char *said, size_t cap)
{
    if (!p->running)
        return;
    proc_stop(p, ABORT_GRACE_MS);
    size_t len = strlen(said);
    if (len < 400)
        snprintf(said + len, cap - len, "%s%s (pid %d)", len ? ", " : "", p->name,
                 (int)p->pid);
}

/* Stop whatever still runs, the clients first, and say what was stopped. */
static void stop_all(struct scaled *t, char *said, size_t cap)
{
    said[0] = '\0';
    for (uint32_t i = 0; i < t->sc->partitions; i++)
        stop_one(&t->part[i].proc, said, cap);
    stop_one(&t->merge, said, cap);
    stop_one(&t->lb.proc, said, cap);
    for (uint32_t k = 0; k < t->sc->instances; k++)
        stop_one(&t->inst[k].proc, said, cap);
    stop_one(&t->broker.proc, said, cap);
}

/* ---- the run --------------------------------------------------------------------- */

/* The ssh hosts: pushpull there at this checkout's commit. */
static int check_hosts(struct scaled *t)
{
    const struct scenario_place *seen[SCENARIO_MAX_INSTANCES + SCENARIO_MAX_PARTITIONS];
    size_t n = 0;
    char commit[128] = "", why[1024];
    for (uint32_t i = 0; i < t->sc->instances + t->sc->partitions; i++) {
        const struct scenario_place *p = i < t->sc->instances
                                             ? &t->sc->instance_at[i]
                                             : &t->sc->partition_at[i - t->sc->instances];
        bool again = false;
        for (size_t j = 0; j < n && !again; j++)
            again = strcmp(seen[j]->name, p->name) == 0;
        if (p->kind != SCENARIO_SSH || again)
            continue;
        seen[n++] = p;
        if (!commit[0] &&
            place_local_commit(t->local_dir, commit, sizeof(commit), why, sizeof(why)) != 0)
            return scale_fail(t, "%s", why);
        if (place_ssh_check(p, t->remote_dir, commit, why, sizeof(why)) != 0)
            return scale_fail(t, "%s", why);
    }
    return 0;
}

/* The directories, the namespaces and their routes. */
static int prepare(struct scaled *t, const char *results_dir)
{
    char why[1024], bin[PATH_MAX + 8];
    snprintf(t->dir, sizeof(t->dir), "%s/runs/%s", results_dir, t->r->id);
    snprintf(t->record_path, sizeof(t->record_path), "%s/run.json", t->dir);
    if (lab_remove_tree(t->dir, why, sizeof(why)) != 0 ||
        lab_mkdirs(t->dir, why, sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    snprintf(bin, sizeof(bin), "%s/..", t->env->bin_dir);
    if (!realpath(bin, t->local_dir))
        snprintf(t->local_dir, sizeof(t->local_dir), "%.4000s", bin);
    t->remote_dir = t->sc->remote_dir[0] ? t->sc->remote_dir : t->local_dir;
    for (uint32_t k = 0; k < t->sc->instances; k++) {
        snprintf(t->inst[k].dir, sizeof(t->inst[k].dir), "%s/instances/%u", t->dir, k + 1);
        if (lab_mkdirs(t->inst[k].dir, why, sizeof(why)) != 0)
            return scale_fail(t, "%s", why);
    }
    for (uint32_t i = 0; i < t->sc->partitions; i++) {
        snprintf(t->part[i].dir, sizeof(t->part[i].dir), "%s/partitions/%u", t->dir, i + 1);
        if (t->sc->partitions > 1 && lab_mkdirs(t->part[i].dir, why, sizeof(why)) != 0)
            return scale_fail(t, "%s", why);
        if (t->sc->partitions == 1)
            snprintf(t->part[i].dir, sizeof(t->part[i].dir), "%s", t->dir);
    }
    int rc = scale_record(t);
    if (rc == 0)
        rc = check_hosts(t);
    if (rc != 0)
        return rc;
    if (places_open(&t->places, t->sc, why, sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    for (size_t i = 0; i < t->places.n; i++)
        snprintf(t->ns_names[i], sizeof(t->ns_names[i]), "%s", t->places.ns[i].name);
    t->n_ns = t->places.n;
    const struct scenario_scale *sc = t->sc;
    bool lb = sc->balancer == SCENARIO_BALANCER_HAPROXY;
    for (uint32_t k = 0; k < sc->instances; k++) {
        if ((t->r->feed.redis && places_route(&t->places, &sc->instance_at[k],
                                              &sc->redis_at, why, sizeof(why)) != 0) ||
            (lb && places_route(&t->places, &sc->instance_at[k], &sc->balancer_at, why,
                                sizeof(why)) != 0))
            return scale_fail(t, "%s", why);
        for (uint32_t i = 0; !lb && i < sc->partitions; i++)
            if (places_route(&t->places, &sc->instance_at[k], &sc->partition_at[i], why,
                             sizeof(why)) != 0)
                return scale_fail(t, "%s", why);
        place_addr(&t->places, &sc->instance_at[k], t->inst[k].addr,
                   sizeof(t->inst[k].addr));
    }
    for (uint32_t i = 0; lb && i < sc->partitions; i++)
        if (places_route(&t->places, &sc->partition_at[i], &sc->balancer_at, why,
                         sizeof(why)) != 0)
            return scale_fail(t, "%s", why);
    return scale_record(t);
}

/* Everything the run does, in order. */
static int steps(struct scaled *t)
{
    int rc = t->r->feed.redis ? scale_start_broker(t) : 0;
    for (uint32_t k = 0; rc == 0 && k < t->sc->instances; k++)
        rc = scale_start_instance(t, k);
    if (rc == 0 && t->sc->balancer == SCENARIO_BALANCER_HAPROXY) {
        rc = scale_start_balancer(t);
    } else if (rc == 0) { /* every URL; user u uses the (u mod M)th */
        size_t len = 0;
        for (uint32_t k = 0; k < t->sc->instances; k++) {
            snprintf(t->urls + len, sizeof(t->urls) - len, "%s%s", k ? "," : "",
                     t->inst[k].url);
            len = strlen(t->urls);
        }
    }
    if (rc == 0)
        rc = scale_save_all_stats(t, "server_stats.idle.json", &t->rec.stats_idle_unix_ns,
                                  false);
    for (uint32_t i = 0; rc == 0 && i < t->sc->partitions; i++)
        rc = scale_start_partition(t, i);
    if (rc == 0) {
        t->window_due = clock_mono_ns() + (int64_t)(t->r->warmup_s * (double)NS_PER_S);
        if (t->sc->crash_instance)
            t->crash_due = t->window_due + (int64_t)(t->sc->crash_at_s * (double)NS_PER_S);
        t->rec.status = RUN_RUNNING;
        rc = scale_record(t);
    }
    if (rc == 0)
        rc = watch(t);
    if (rc == 0)
        rc = finish(t);
    return rc;
}

static void release(struct scaled *t)
{
    for (uint32_t k = 0; k < SCENARIO_MAX_INSTANCES; k++) {
        runargs_free(&t->inst[k].argv);
        if (t->inst[k].stats)
            curl_easy_cleanup(t->inst[k].stats);
    }
    for (uint32_t i = 0; t->part && i < t->sc->partitions; i++)
        runargs_free(&t->part[i].argv);
    runargs_free(&t->broker_prefix);
    runargs_free(&t->broker_argv);
    runargs_free(&t->lb_argv);
    runargs_free(&t->merge_argv);
    free(t->part);
    free(t);
}

int scale_run(const struct runner_env *env, const struct scenario *s, size_t index,
              const char *results_dir, char *err, size_t errlen)
{
    struct scaled *t = calloc(1, sizeof(*t));
    const struct scenario_run *r = scenario_run_at(s, index);
    if (t)
        t->part = calloc(r->scale->partitions, sizeof(*t->part));
    if (!t || !t->part) {
        free(t);
        snprintf(err, errlen, "run %s: out of memory", r->id);
        return RUNNER_FAILED;
    }
    t->env = env;
    t->r = r;
    t->sc = r->scale;
    t->err = err;
    t->errlen = errlen;
    broker_init(&t->broker);
    proc_init(&t->lb.proc);
    proc_init(&t->merge);
    t->lb.cpu_s = -1;
    runargs_init(&t->broker_prefix);
    runargs_init(&t->broker_argv);
    runargs_init(&t->lb_argv);
    runargs_init(&t->merge_argv);
    for (uint32_t k = 0; k < SCENARIO_MAX_INSTANCES; k++) {
        t->inst[k].at = &t->sc->instance_at[k];
        proc_init(&t->inst[k].proc);
        runargs_init(&t->inst[k].argv);
    }
    for (uint32_t i = 0; i < t->sc->partitions; i++) {
        t->part[i].at = &t->sc->partition_at[i];
        proc_init(&t->part[i].proc);
        runargs_init(&t->part[i].argv);
    }
    t->rec =
        (struct run_record){.scenario = s,
                            .run = r,
                            .plan_index = index,
                            .plan_runs = scenario_run_count(s),
                            .programs = {{"server", &t->inst[0].argv, &t->inst[0].proc},
                                         {"client", &t->part[0].argv, &t->part[0].proc},
                                         {"redis", &t->broker_argv, &t->broker.proc}},
                            .n_programs = t->r->feed.redis ? 3 : 2,
                            .redis_address = t->broker.addr,
                            .add_scale = scale_record_add,
                            .scale_arg = t,
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
            snprintf(err, errlen, "run %s: %s", r->id, t->rec.message);
        }
    }
    char why[512];
    if (places_close(&t->places, why, sizeof(why)) != 0 && rc == 0)
        rc = scale_fail(t, "%s", why);
    t->rec.status = rc == 0                    ? RUN_OK
                    : rc == RUNNER_INTERRUPTED ? RUN_INTERRUPTED
                                               : RUN_FAILED;
    t->rec.ended_unix_ns = clock_real_ns();
    if (run_record_write(&t->rec, t->record_path, why, sizeof(why)) != 0 && rc == 0) {
        snprintf(err, errlen, "run %s: %s", r->id, why);
        rc = RUNNER_FAILED;
    }
    release(t);
    return rc;
}
