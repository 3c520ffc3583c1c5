/* run_workers.c: the run's threads: one worker per thread with its own event loop, the
 * phases each runs, and the merge of their figures at the end.
 *
 * Threads (wrk's model): the users are spread over --threads workers, each with its own
 * event loop, a contiguous slice of the users (user i's sender goes with it; the observer
 * goes to the first worker) and its own counters and activity series, so the hot path
 * shares nothing. What is shared is the feed's ground truth (freshness: the publish
 * stamps, the latency histogram, the timeline) and the messages' round-trip histogram,
 * which user_deliver_update updates under one mutex, once per update received: the
 * figures are then exactly those of one loop, with no merge needed. Every worker runs the
 * same timeline (run.h) on the same clock and opens and closes its own window; the first
 * worker is the calling thread and reads the process's CPU at the window's edges. At the
 * end, after every worker has shut its users down and been joined, the counters are
 * added and the activity series added bin by bin, and the loops' own figures (loop.h)
 * merged: turns added, lag histograms merged bucket by bucket, the busiest loop's busy
 * share kept. The progress line shows what each worker published at its last second.
 *
 * The run that owns the workers is set up and collected by run.c (run_impl.h).
 */
#include "run_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "clock.h"
#include "hist.h"
#include "loop.h"
#include "user.h"

#define PROGRESS_EVERY_NS NS_PER_S

/* ---- loop callbacks ----------------------------------------------------------------- */

static void on_done(void *ctx, CURL *easy, CURLcode result)
{
    (void)ctx;
    struct user *u = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&u);
    if (u)
        user_on_done(u, result);
}

static void on_timer(void *ctx, uint32_t slot)
{
    struct worker *w = ctx;
    if (slot < w->nmembers)
        user_on_timer(w->members[slot]);
}

static void on_io(void *ctx, uint32_t slot, uint32_t events)
{
    struct worker *w = ctx;
    if (slot < w->nmembers)
        user_on_io(w->members[slot], events);
}

double run_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the phases --------------------------------------------------------------------- */

/* Publish this worker's figures for the progress line; the first worker prints the sum
 * over every worker's last figures. */
static void progress(struct worker *w, const char *phase, int64_t now)
{
    struct run *r = w->r;
    if (!r->progress)
        return;
    uint32_t connected = 0;
    for (uint32_t i = 0; i < w->nmembers; i++)
        connected += w->members[i]->sockets_open > 0 && w->members[i]->id < r->cfg->clients;
    const uint64_t *c = w->users.run;
    pthread_mutex_lock(&r->progress_lock);
    w->shown_connected = connected;
    w->shown_deliveries = c[CTR_DELIVERIES];
    w->shown_errors = c[CTR_ERR_CONNECT] + c[CTR_ERR_TIMEOUT] + c[CTR_ERR_STATUS] +
                      c[CTR_ERR_PARSE] + c[CTR_ERR_IO];
    uint64_t deliveries = 0, errors = 0;
    connected = 0;
    for (uint32_t i = 0; i < r->nworkers; i++) {
        connected += r->workers[i].shown_connected;
        deliveries += r->workers[i].shown_deliveries;
        errors += r->workers[i].shown_errors;
    }
    pthread_mutex_unlock(&r->progress_lock);
    if (w->index != 0)
        return;
    fprintf(stderr,
            "\r%-7s %6.1f/%.1fs  connected %u/%u  updates received %llu  errors %llu ",
            phase, (double)(now - r->t0) / NS_PER_S, (double)(r->end - r->t0) / NS_PER_S,
            connected, r->cfg->clients, (unsigned long long)deliveries,
            (unsigned long long)errors);
    fflush(stderr);
}

/* Run the worker's loop until `until`, with its progress every second. */
static int run_phase(struct worker *w, const char *phase, int64_t until)
{
    for (;;) {
        int64_t now = clock_mono_ns();
        progress(w, phase, now);
        if (now >= until)
            return 0;
        int64_t stop = now + PROGRESS_EVERY_NS < until ? now + PROGRESS_EVERY_NS : until;
        if (loop_run_until(w->loop, stop, w->err, sizeof(w->err)) != 0)
            return -1;
    }
}

/* One worker's run: warmup, window, drain; then its users stop (each user is only ever
 * touched by its own worker's thread until the workers are joined). */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->r;
    int rc = run_phase(w, "warmup", r->w0);
    if (rc == 0) {
        w->users.measuring = true;
        w->upstream.measuring = true;
        wire_window_start(&w->wire);
        loop_measure(w->loop, true);
        if (w->index == 0)
            r->cpu_w0 = run_cpu_seconds();
        rc = run_phase(w, "measure", r->w1);
        if (w->index == 0)
            r->cpu_w1 = run_cpu_seconds();
        loop_measure(w->loop, false);
        w->users.measuring = false;
        w->upstream.measuring = false;
        wire_window_end(&w->wire);
    }
    if (rc == 0)
        rc = run_phase(w, "drain", r->end);
    for (uint32_t i = 0; i < w->nmembers; i++)
        user_shutdown(w->members[i]);
    w->rc = rc;
    return NULL;
}

/* The worker that runs run id i (users in contiguous slices; a sender with its user; the
 * observer with the first). */
uint32_t run_worker_of(const struct run *r, uint32_t i)
{
    uint32_t n = r->cfg->clients;
    if (i == n)
        return 0;
    if (i > n)
        i -= n + 1;
    return (uint32_t)((uint64_t)i * r->nworkers / n);
}

int run_workers_setup(struct run *r, char *err, size_t errlen)
{
    const struct client_config *cfg = r->cfg;
    int64_t span = r->end - r->w0;
    r->nworkers = cli_threads(cfg);
    r->workers = calloc(r->nworkers, sizeof(*r->workers));
    if (!r->workers) {
        snprintf(err, errlen, "calloc(%u workers): out of memory", r->nworkers);
        return -1;
    }
    for (uint32_t t = 0; t < r->nworkers; t++) {
        struct worker *w = &r->workers[t];
        w->r = r;
        w->index = t;
        w->members = calloc(r->nids, sizeof(*w->members));
        if (!w->members) {
            snprintf(err, errlen, "calloc: out of memory");
            return -1;
        }
        if (activity_init(&w->activity, r->w0, span, err, errlen) != 0)
            return -1;
        w->users.activity = &w->activity;
        struct loop_callbacks cb = {
            .on_done = on_done, .on_timer = on_timer, .on_io = on_io, .ctx = w};
        uint32_t ids = 0;
        for (uint32_t i = 0; i < r->nids; i++)
            ids += run_worker_of(r, i) == t;
        w->loop = loop_new(ids, &cb, err, errlen);
        if (!w->loop)
            return -1;
        w->env = r->env;
        w->env.loop = w->loop;
        w->env.wire = &w->wire;
        w->env.fresh_lock = r->nworkers > 1 ? &r->fresh_lock : NULL;
    }
    return 0;
}

/* Start the workers after the first on threads of their own, run the first here, and
 * join them. 0, or -1 with the first failure's message. */
int run_workers(struct run *r, char *err, size_t errlen)
{
    int rc = 0;
    for (uint32_t t = 1; t < r->nworkers; t++) {
        struct worker *w = &r->workers[t];
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            snprintf(err, errlen, "pthread_create: %s", strerror(e));
            rc = -1;
            r->end = r->t0; /* the others stop at once */
            break;
        }
        w->started = true;
    }
    worker_main(&r->workers[0]);
    for (uint32_t t = 1; t < r->nworkers; t++)
        if (r->workers[t].started)
            pthread_join(r->workers[t].thread, NULL);
    for (uint32_t t = 0; t < r->nworkers && rc == 0; t++)
        if (r->workers[t].rc != 0) {
            snprintf(err, errlen, "%s", r->workers[t].err);
            rc = -1;
        }
    return rc;
}

/* The loops' own figures into the run's (before the loops are freed). */
void run_merge_loop_stats(struct run *r)
{
    struct run_results *res = &r->res;
    int64_t busy_max = 0, wall = 0;
    res->loop_lag = hist_new();
    for (uint32_t t = 0; t < r->nworkers; t++) {
        const struct loop_stats *ls = loop_stats(r->workers[t].loop);
        res->loop_turns += ls->turns;
        res->loop_full_turns += ls->full_turns;
        if (ls->wall_ns > 0 && (double)ls->busy_ns / (double)ls->wall_ns >
                                   (wall > 0 ? (double)busy_max / (double)wall : -1)) {
            busy_max = ls->busy_ns;
            wall = ls->wall_ns;
        }
        if (res->loop_lag)
            hist_merge(res->loop_lag, ls->lag);
    }
    res->threads = r->nworkers;
    res->loop_busy_max = wall > 0 ? (double)busy_max / (double)wall : 0;
}

/* Every worker's counts and activity into the run's (after the loops are freed: that
 * closes libcurl's cached connections, whose kernel accounts go to the workers). */
void run_merge_counts(struct run *r)
{
    for (uint32_t t = 0; t < r->nworkers; t++) {
        struct worker *w = &r->workers[t];
        counters_merge(&r->res.users, &w->users);
        counters_merge(&r->res.observer, &w->observer);
        counters_merge(&r->res.upstream, &w->upstream);
        activity_merge(&r->activity, &w->activity);
    }
}

void run_workers_free(struct run *r)
{
    for (uint32_t t = 0; r->workers && t < r->nworkers; t++) {
        loop_free(r->workers[t].loop);
        r->workers[t].loop = NULL;
    }
}
