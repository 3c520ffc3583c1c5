/* scale.c: a scaled run, from an empty directory to its merged result (see scale.h).
 *
 * A struct scaled holds what the run has in flight: each instance and partition as a
 * member (its place, its exact argv as started, its process, where it listens), the run's
 * Redis, HAProxy, the namespaces and run.json's record. Every program is started through
 * common/proc.h with its argv wrapped for its place (lab/place.h), so stopping is by pid
 * wherever it runs; the namespaces' removal kills whatever a stop missed.
 *
 * Instance 1 runs the scenario's generator; instances 2..M get the same flags followed
 * by `--process periodic --rate 0`: they publish nothing, serve the stream instance 1
 * publishes into Redis, and a trace's file is read by instance 1 only.
 *
 * ssh places: instances and partitions may run on another host (pushpull checked out at
 * the same commit, place_ssh_check, before anything starts); an instance there binds
 * 0.0.0.0 and is reached at the host's name; a partition writes under
 * REMOTE_DIR/results/remote/RUN_ID/partition-I, copied back with scp when it ends.
 * Redis and HAProxy run here or in a namespace.
 */
#include "scale.h"

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
#include "loopback.h"
#include "place.h"
#include "proc.h"
#include "run_record.h"
#include "runargs.h"
#include "stats_get.h"

#define START_TIMEOUT_MS 10000 /* an instance's first line, HAProxy's port */
#define STOP_GRACE_MS    10000 /* SIGTERM to SIGKILL at the end of a run */
#define ABORT_GRACE_MS   5000  /* the same when a run is abandoned */
#define STATS_TIMEOUT_MS 30000 /* GET /stats: an instance may be busy accepting thousands */
#define MERGE_TIMEOUT_MS 120000
#define TICK_MS          10

/* One instance or partition. */
struct member {
    const struct scenario_place *at; /* where it runs */
    struct runargs argv;             /* as started: wrapped for its place */
    struct proc proc;
    char dir[4200];    /* RUN_DIR/instances/K or RUN_DIR/partitions/I */
    char addr[300];    /* instances: the address it listens on and is reached at */
    char url[600];     /* instances: "http://ADDR:PORT" */
    double users;      /* instances: users connected at the window's start */
    char remote[4200]; /* ssh partitions: its --out over there */
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

static int fail(struct scaled *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct scaled *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->rec.message, sizeof(t->rec.message), fmt, ap);
    va_end(ap);
    snprintf(t->err, t->errlen, "run %s: %s", t->r->id, t->rec.message);
    return RUNNER_FAILED;
}

static int record(struct scaled *t)
{
    char why[512];
    if (run_record_write(&t->rec, t->record_path, why, sizeof(why)) != 0)
        return fail(t, "%s", why);
    return 0;
}

/* Instance k is the one crashed on purpose, and it has been. */
static bool is_crashed(const struct scaled *t, uint32_t k)
{
    return t->crashed && k + 1 == t->sc->crash_instance;
}

/* ---- run.json's "scale" ---------------------------------------------------------- */

static void add_member(cJSON *arr, const struct member *m, bool instance)
{
    char place[SCENARIO_PLACE_MAX + 8], how[96];
    cJSON *o = cJSON_CreateObject();
    scenario_place_format(m->at, place, sizeof(place));
    cJSON_AddStringToObject(o, "place", place);
    if (instance) {
        cJSON_AddStringToObject(o, "url", m->url);
        cJSON_AddNumberToObject(o, "connections_at_window", m->users);
    }
    cJSON *argv = cJSON_AddArrayToObject(o, "argv");
    for (size_t i = 0; i < m->argv.n; i++)
        cJSON_AddItemToArray(argv, cJSON_CreateString(m->argv.v[i]));
    if (m->proc.pid > 0) {
        cJSON_AddNumberToObject(o, "pid", (double)m->proc.pid);
        proc_describe(&m->proc, how, sizeof(how));
        cJSON_AddStringToObject(o, "ended", how);
    }
    cJSON_AddItemToArray(arr, o);
}

static void add_scale(const void *arg, cJSON *obj)
{
    const struct scaled *t = arg;
    char how[96];
    cJSON_AddNumberToObject(obj, "instances", t->sc->instances);
    cJSON_AddNumberToObject(obj, "partitions", t->sc->partitions);
    cJSON *inst = cJSON_AddArrayToObject(obj, "instance");
    for (uint32_t i = 0; i < t->sc->instances; i++)
        add_member(inst, &t->inst[i], true);
    cJSON *part = cJSON_AddArrayToObject(obj, "partition");
    for (uint32_t i = 0; i < t->sc->partitions; i++)
        add_member(part, &t->part[i], false);
    if (t->sc->balancer == SCENARIO_BALANCER_HAPROXY) {
        cJSON *b = cJSON_AddObjectToObject(obj, "balancer");
        cJSON_AddStringToObject(b, "kind", "haproxy");
        cJSON_AddStringToObject(b, "listen", t->lb.listen);
        cJSON *argv = cJSON_AddArrayToObject(b, "argv");
        for (size_t i = 0; i < t->lb_argv.n; i++)
            cJSON_AddItemToArray(argv, cJSON_CreateString(t->lb_argv.v[i]));
        if (t->lb.proc.pid > 0) {
            cJSON_AddNumberToObject(b, "pid", (double)t->lb.proc.pid);
            proc_describe(&t->lb.proc, how, sizeof(how));
            cJSON_AddStringToObject(b, "ended", how);
        }
        if (t->lb.cpu_s >= 0) {
            cJSON_AddNumberToObject(b, "cpu_s", t->lb.cpu_s);
            cJSON_AddNumberToObject(b, "peak_rss_kb", (double)t->lb.peak_rss_kb);
        }
    } else {
        cJSON_AddNullToObject(obj, "balancer");
    }
    if (t->sc->crash_instance) {
        cJSON *c = cJSON_AddObjectToObject(obj, "instance_crash");
        cJSON_AddNumberToObject(c, "instance", t->sc->crash_instance);
        cJSON_AddNumberToObject(c, "at_s", t->sc->crash_at_s);
        if (t->crash_unix_ns)
            cJSON_AddNumberToObject(c, "crash_unix_ns", (double)t->crash_unix_ns);
    }
    cJSON *ns = cJSON_AddArrayToObject(obj, "namespaces");
    for (size_t i = 0; i < t->n_ns; i++)
        cJSON_AddItemToArray(ns, cJSON_CreateString(t->ns_names[i]));
    if (t->merge_argv.n) {
        cJSON *argv = cJSON_AddArrayToObject(obj, "merge_argv");
        for (size_t i = 0; i < t->merge_argv.n; i++)
            cJSON_AddItemToArray(argv, cJSON_CreateString(t->merge_argv.v[i]));
    }
}

/* ---- starting ----------------------------------------------------------------------- */

/* Start m->argv as `name`, its output in m->dir/out and m->dir/errname. */
static int start_member(struct scaled *t, struct member *m, const char *name,
                        const char *out, const char *errname)
{
    char outf[4400], errf[4400], why[1024];
    snprintf(outf, sizeof(outf), "%s/%s", m->dir, out);
    snprintf(errf, sizeof(errf), "%s/%s", m->dir, errname);
    struct proc_spec spec = {.argv = (const char *const *)m->argv.v,
                             .name = name,
                             .out = PROC_FILE,
                             .out_path = outf,
                             .err = PROC_FILE,
                             .err_path = errf};
    if (m->argv.failed)
        return fail(t, "%s's command line is too long", name);
    if (proc_start(&m->proc, &spec, why, sizeof(why)) != 0)
        return fail(t, "%s", why);
    return 0;
}

static int start_broker(struct scaled *t)
{
    char why[1024], conf[4200];
    if (t->sc->redis_at.kind == SCENARIO_SSH)
        return fail(t, "hosts.redis: Redis over ssh is not supported; put it in a "
                       "namespace or keep it local");
    struct runargs raw;
    runargs_init(&raw);
    place_wrap(&t->places, &t->sc->redis_at, &raw, "", "", &t->broker_prefix);
    runargs_free(&raw);
    place_addr(&t->places, &t->sc->redis_at, t->broker.host, sizeof(t->broker.host));
    t->broker.prefix = &t->broker_prefix;
    if (broker_start(&t->broker, broker_program(), t->dir, t->r->feed.durable, why,
                     sizeof(why)) != 0)
        return fail(t, "%s", why);
    runargs_add_all(&t->broker_argv, &t->broker_prefix);
    runargs_add(&t->broker_argv, broker_program());
    snprintf(conf, sizeof(conf), "%s/redis.conf", t->dir);
    runargs_add(&t->broker_argv, conf);
    return record(t);
}

/* Instance k (0-based), awaited; its URL from its first line. */
static int start_instance(struct scaled *t, uint32_t k)
{
    struct member *m = &t->inst[k];
    struct runargs raw;
    char line[256], why[1024], name[48];
    runargs_init(&raw);
    runargs_addf(&raw, "%s/pushpull-server", t->env->bin_dir);
    if (m->at->kind != SCENARIO_LOCAL) {
        runargs_add(&raw, "--bind");
        runargs_add(&raw, m->at->kind == SCENARIO_SSH ? "0.0.0.0" : m->addr);
    }
    runargs_add(&raw, "--port");
    runargs_add(&raw, "0");
    runargs_server(t->r, &raw);
    if (k > 0) { /* the stream is instance 1's to publish */
        runargs_add(&raw, "--process");
        runargs_add(&raw, "periodic");
        runargs_add(&raw, "--rate");
        runargs_add(&raw, "0");
    }
    if (t->r->feed.redis) {
        runargs_add(&raw, "--redis");
        runargs_add(&raw, t->broker.addr);
    }
    place_wrap(&t->places, m->at, &raw, t->local_dir, t->remote_dir, &m->argv);
    runargs_free(&raw);
    snprintf(name, sizeof(name), "instance %u", k + 1);
    int rc = start_member(t, m, name, "server.out", "server.err");
    if (rc != 0)
        return rc;
    if (proc_first_line(&m->proc, START_TIMEOUT_MS, line, sizeof(line), why, sizeof(why)) !=
        0)
        return *t->env->stop ? RUNNER_INTERRUPTED
                             : fail(t, "%s (see %s/server.err)", why, m->dir);
    const char *prefix = "listening on http://";
    const char *colon = strrchr(line, ':');
    if (strncmp(line, prefix, strlen(prefix)) != 0 || !colon)
        return fail(t,
                    "instance %u's first line is \"%s\", not \"listening on "
                    "http://ADDR:PORT\"",
                    k + 1, line);
    char url[sizeof(m->url)];
    snprintf(url, sizeof(url), "http://%s%s", m->addr, colon);
    memcpy(m->url, url, sizeof(url));
    return record(t);
}

static int start_balancer(struct scaled *t)
{
    char why[1024], addr[300];
    const char *backends[SCENARIO_MAX_INSTANCES];
    if (t->sc->balancer_at.kind == SCENARIO_SSH)
        return fail(t, "hosts.balancer: HAProxy over ssh is not supported; put it in a "
                       "namespace or keep it local");
    for (uint32_t k = 0; k < t->sc->instances; k++)
        backends[k] = t->inst[k].url + strlen("http://");
    place_addr(&t->places, &t->sc->balancer_at, addr, sizeof(addr));
    unsigned port = loopback_free_port();
    /* above every silence: the long-poll hold, the heartbeat, the whole run */
    double hold_s = t->r->warmup_s + t->r->duration_s + 130;
    unsigned conns = t->r->clients * (t->r->send_rate_hz > 0 ? 2u : 1u);
    if (port == 0 ||
        balancer_write_config(&t->lb, t->dir, addr, port, backends, t->sc->instances,
                              hold_s, conns, why, sizeof(why)) != 0)
        return fail(t, "%s", port ? why : "no free port for haproxy");
    struct runargs raw;
    runargs_init(&raw);
    runargs_add(&raw, balancer_program());
    runargs_add(&raw, "-db");
    runargs_add(&raw, "-f");
    runargs_add(&raw, t->lb.cfg);
    place_wrap(&t->places, &t->sc->balancer_at, &raw, "", "", &t->lb_argv);
    runargs_free(&raw);
    if (balancer_start(&t->lb, &t->lb_argv, t->dir, addr, port, START_TIMEOUT_MS, why,
                       sizeof(why)) != 0)
        return fail(t, "%s", why);
    snprintf(t->urls, sizeof(t->urls), "http://%s", t->lb.listen);
    return record(t);
}

/* GET /stats of instance k into its directory's `name`; the users it saw into m->users
 * when `users`. */
static int save_stats(struct scaled *t, uint32_t k, const char *name, bool users)
{
    char why[512], path[4400];
    struct member *m = &t->inst[k];
    struct dynbuf body;
    dynbuf_init(&body, (size_t)16 << 20);
    int rc = stats_get(m->url, STATS_TIMEOUT_MS, &body, why, sizeof(why));
    cJSON *doc = rc == 0 && body.mem ? cJSON_ParseWithLength(body.mem, body.len) : NULL;
    dynbuf_free(&body);
    if (!doc)
        return fail(t, "could not read instance %u's /stats for %s: %s", k + 1, name,
                    rc == 0 ? "the answer is not JSON" : why);
    if (users)
        m->users = scale_stats_users(doc);
    snprintf(path, sizeof(path), "%s/%s", m->dir, name);
    rc = lab_write_json(path, doc, why, sizeof(why));
    cJSON_Delete(doc);
    return rc == 0 ? 0 : fail(t, "%s", why);
}

static int save_all_stats(struct scaled *t, const char *name, int64_t *at, bool users)
{
    *at = clock_real_ns();
    for (uint32_t k = 0; k < t->sc->instances; k++) {
        if (is_crashed(t, k)) /* its final document is the one it printed */
            continue;
        int rc = save_stats(t, k, name, users);
        if (rc != 0)
            return rc;
    }
    return record(t);
}

static int start_partition(struct scaled *t, uint32_t i)
{
    struct member *m = &t->part[i];
    struct runargs raw;
    char name[48];
    runargs_init(&raw);
    runargs_addf(&raw, "%s/pushpull-client", t->env->bin_dir);
    runargs_add(&raw, "--server");
    runargs_add(&raw, t->urls);
    runargs_add(&raw, "--out");
    if (m->at->kind == SCENARIO_SSH) {
        snprintf(m->remote, sizeof(m->remote), "%s/results/remote/%s/partition-%u",
                 t->remote_dir, t->r->id, i + 1);
        runargs_add(&raw, m->remote);
    } else {
        runargs_add(&raw, t->sc->partitions > 1 ? m->dir : t->dir);
    }
    runargs_add(&raw, "--label");
    runargs_add(&raw, t->r->id);
    if (t->sc->partitions > 1) {
        runargs_add(&raw, "--partition");
        runargs_addf(&raw, "%u/%u", i + 1, t->sc->partitions);
    }
    runargs_client(t->r, &raw);
    place_wrap(&t->places, m->at, &raw, t->local_dir, t->remote_dir, &m->argv);
    runargs_free(&raw);
    snprintf(name, sizeof(name), "partition %u", i + 1);
    return start_member(t, m, name, "client.txt", "client.err");
}

/* ---- while it runs ---------------------------------------------------------------- */

/* A program that ended on its own, or a partition that failed. */
static int died(struct scaled *t, const struct proc *p, const char *errf)
{
    char how[96];
    proc_describe(p, how, sizeof(how));
    double since = (double)(p->ended_unix_ns - p->started_unix_ns) / 1e9;
    return fail(t, "%s %s %.1f s after it started; see %s", p->name, how, since, errf);
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
                   : fail(t, "instance %u did not crash cleanly: it %s", k + 1, how);
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
        return fail(t, "crashed instance %u printed no /stats document (see %s)", k + 1,
                    outf);
    snprintf(docf, sizeof(docf), "%s/server_stats.json", m->dir);
    int rc = lab_write_json(docf, doc, why, sizeof(why));
    cJSON_Delete(doc);
    return rc == 0 ? record(t) : fail(t, "%s", why);
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
            if (!is_crashed(t, k) && proc_poll(&t->inst[k].proc)) {
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
        if (t->crash_due && clock_mono_ns() >= t->crash_due) {
            int rc = crash(t);
            if (rc != 0)
                return rc;
        }
        if (t->window_due && clock_mono_ns() >= t->window_due) {
            t->window_due = 0;
            int rc = save_all_stats(t, "server_stats.window.json",
                                    &t->rec.stats_window_unix_ns, true);
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
    return rc == 0 ? 0 : fail(t, "scp %s to %s failed", src, m->dir);
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
        return fail(t, "the merge's command line is too long (%u partitions)",
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
        return fail(t, "%s", why);
    if (!proc_wait(&t->merge, MERGE_TIMEOUT_MS))
        return *t->env->stop ? RUNNER_INTERRUPTED : fail(t, "the merge did not end");
    if (proc_exit_code(&t->merge) != 0) {
        proc_describe(&t->merge, how, sizeof(how));
        return fail(t, "pushpull-client merge %s (see %s)", how, errf);
    }
    return record(t);
}

static int finish(struct scaled *t)
{
    char why[512], path[4200], how[96];
    for (uint32_t i = 0; i < t->sc->partitions; i++)
        if (t->part[i].at->kind == SCENARIO_SSH && copy_back(t, &t->part[i]) != 0)
            return RUNNER_FAILED;
    int rc = save_all_stats(t, "server_stats.json", &t->rec.stats_end_unix_ns, false);
    if (rc != 0)
        return rc;
    if (t->sc->balancer) {
        balancer_usage(&t->lb);
        proc_stop(&t->lb.proc, STOP_GRACE_MS);
    }
    for (uint32_t k = 0; k < t->sc->instances; k++) {
        struct proc *p = &t->inst[k].proc;
        if (!is_crashed(t, k) && proc_stop(p, STOP_GRACE_MS) != 0) {
            proc_describe(p, how, sizeof(how));
            return fail(t, "instance %u %s when stopped (see %s/server.err)", k + 1, how,
                        t->inst[k].dir);
        }
    }
    if (t->r->feed.redis) {
        snprintf(path, sizeof(path), "%s/redis_info.txt", t->dir);
        if (broker_save_info(&t->broker, path, why, sizeof(why)) != 0)
            return fail(t, "%s", why);
        proc_stop(&t->broker.proc, STOP_GRACE_MS);
    }
    rc = record(t);
    if (rc == 0 && t->sc->partitions > 1)
        rc = merge_partitions(t);
    static const char *const docs[] = {"server_stats.idle.json", "server_stats.window.json",
                                       "server_stats.json"};
    for (size_t i = 0; rc == 0 && i < 3; i++)
        if (scale_stats_sum(t->dir, t->sc->instances, docs[i], why, sizeof(why)) != 0)
            rc = fail(t, "%s", why);
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
            return fail(t, "%s", why);
        if (place_ssh_check(p, t->remote_dir, commit, why, sizeof(why)) != 0)
            return fail(t, "%s", why);
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
        return fail(t, "%s", why);
    snprintf(bin, sizeof(bin), "%s/..", t->env->bin_dir);
    if (!realpath(bin, t->local_dir))
        snprintf(t->local_dir, sizeof(t->local_dir), "%.4000s", bin);
    t->remote_dir = t->sc->remote_dir[0] ? t->sc->remote_dir : t->local_dir;
    for (uint32_t k = 0; k < t->sc->instances; k++) {
        snprintf(t->inst[k].dir, sizeof(t->inst[k].dir), "%s/instances/%u", t->dir, k + 1);
        if (lab_mkdirs(t->inst[k].dir, why, sizeof(why)) != 0)
            return fail(t, "%s", why);
    }
    for (uint32_t i = 0; i < t->sc->partitions; i++) {
        snprintf(t->part[i].dir, sizeof(t->part[i].dir), "%s/partitions/%u", t->dir, i + 1);
        if (t->sc->partitions > 1 && lab_mkdirs(t->part[i].dir, why, sizeof(why)) != 0)
            return fail(t, "%s", why);
        if (t->sc->partitions == 1)
            snprintf(t->part[i].dir, sizeof(t->part[i].dir), "%s", t->dir);
    }
    int rc = record(t);
    if (rc == 0)
        rc = check_hosts(t);
    if (rc != 0)
        return rc;
    if (places_open(&t->places, t->sc, why, sizeof(why)) != 0)
        return fail(t, "%s", why);
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
            return fail(t, "%s", why);
        for (uint32_t i = 0; !lb && i < sc->partitions; i++)
            if (places_route(&t->places, &sc->instance_at[k], &sc->partition_at[i], why,
                             sizeof(why)) != 0)
                return fail(t, "%s", why);
        place_addr(&t->places, &sc->instance_at[k], t->inst[k].addr,
                   sizeof(t->inst[k].addr));
    }
    for (uint32_t i = 0; lb && i < sc->partitions; i++)
        if (places_route(&t->places, &sc->partition_at[i], &sc->balancer_at, why,
                         sizeof(why)) != 0)
            return fail(t, "%s", why);
    return record(t);
}

/* Everything the run does, in order. */
static int steps(struct scaled *t)
{
    int rc = t->r->feed.redis ? start_broker(t) : 0;
    for (uint32_t k = 0; rc == 0 && k < t->sc->instances; k++)
        rc = start_instance(t, k);
    if (rc == 0 && t->sc->balancer == SCENARIO_BALANCER_HAPROXY) {
        rc = start_balancer(t);
    } else if (rc == 0) { /* every URL; user u uses the (u mod M)th */
        size_t len = 0;
        for (uint32_t k = 0; k < t->sc->instances; k++) {
            snprintf(t->urls + len, sizeof(t->urls) - len, "%s%s", k ? "," : "",
                     t->inst[k].url);
            len = strlen(t->urls);
        }
    }
    if (rc == 0)
        rc = save_all_stats(t, "server_stats.idle.json", &t->rec.stats_idle_unix_ns, false);
    for (uint32_t i = 0; rc == 0 && i < t->sc->partitions; i++)
        rc = start_partition(t, i);
    if (rc == 0) {
        t->window_due = clock_mono_ns() + (int64_t)(t->r->warmup_s * (double)NS_PER_S);
        if (t->sc->crash_instance)
            t->crash_due = t->window_due + (int64_t)(t->sc->crash_at_s * (double)NS_PER_S);
        t->rec.status = RUN_RUNNING;
        rc = record(t);
    }
    if (rc == 0)
        rc = watch(t);
    if (rc == 0)
        rc = finish(t);
    return rc;
}

static void release(struct scaled *t)
{
    for (uint32_t k = 0; k < SCENARIO_MAX_INSTANCES; k++)
        runargs_free(&t->inst[k].argv);
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
                            .add_scale = add_scale,
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
        rc = fail(t, "%s", why);
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
