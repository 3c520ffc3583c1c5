/* generator.c: publish updates on a schedule (see generator.h).
 *
 * Arrival processes, each with mean rate `rate_hz` updates per second:
 *   periodic  one update every 1/rate s;
 *   poisson   exponential gaps with mean 1/rate s (memoryless arrivals, the model in
 *             MODELS.md's formulas with lambda = rate);
 *   burst     burst_size updates at once every burst_size/rate s;
 *   trace     the publish times of a CSV (seconds from the start), then nothing more.
 * The thread sleeps on a condition variable with an absolute CLOCK_MONOTONIC deadline, so
 * generator_stop wakes it at once.
 */
#include "generator.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "clock.h"
#include "rng.h"
#include "trace.h"
#include "units.h"

struct generator {
    struct feed *feed;
    struct server_config cfg;
    struct rng rng;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC; signalled by generator_stop */
    bool stop;
    bool rate_changed; /* generator_set_rate was called: restart the schedule */
    char *payload;     /* payload_bytes + 1 */
    int64_t *trace;    /* publish offsets in ns (process trace), owned */
    size_t trace_len;  /* entries in trace */
    size_t trace_next; /* the next one to publish */
    atomic_uint_least64_t failures; /* publishes the feed refused */
};

const char *generator_process_name(enum gen_process p)
{
    static const char *const names[] = {"periodic", "poisson", "burst", "trace"};
    return names[p];
}

/* Seconds until the next arrival (of a burst, for the burst process). */
static double next_gap_s(struct generator *g)
{
    double mean = 1.0 / g->cfg.rate_hz;
    switch (g->cfg.process) {
    case GEN_POISSON:
        return rng_exponential(&g->rng, mean);
    case GEN_BURST:
        return mean * g->cfg.burst_size;
    case GEN_PERIODIC:
    default:
        return mean;
    }
}

/* The gap in nanoseconds, clamped to a day so that no rate, however small, can overflow
 * the schedule (the flags already refuse rates below GEN_MIN_RATE_HZ). */
static int64_t gap_ns(struct generator *g)
{
    double ns = next_gap_s(g) * 1e9;
    return ns < 86400e9 ? (int64_t)ns : (int64_t)86400e9;
}

static void fill_payload(struct generator *g)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < g->cfg.payload_bytes; i++)
        g->payload[i] = alphabet[rng_next(&g->rng) % (sizeof(alphabet) - 1)];
    g->payload[g->cfg.payload_bytes] = '\0';
}

static void *generator_main(void *arg)
{
    struct generator *g = arg;
    int64_t start = clock_mono_ns(), next = start;
    unsigned per_arrival = g->cfg.process == GEN_BURST ? g->cfg.burst_size : 1;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        if (g->cfg.process == GEN_TRACE && g->trace_next == g->trace_len)
            break; /* the trace is over */
        if (g->cfg.process != GEN_TRACE && g->cfg.rate_hz <= 0) {
            pthread_cond_wait(&g->cond, &g->lock); /* idle until a rate or stop */
            next = clock_mono_ns();
            g->rate_changed = false;
            continue;
        }
        if (g->cfg.process == GEN_TRACE)
            next = start + g->trace[g->trace_next++];
        else
            next += gap_ns(g);
        struct timespec ts = clock_ts_from_ns(next);
        while (!g->stop && !g->rate_changed && clock_mono_ns() < next)
            pthread_cond_timedwait(&g->cond, &g->lock, &ts);
        if (g->stop)
            break;
        if (g->rate_changed) { /* the schedule restarts from now at the new rate */
            g->rate_changed = false;
            next = clock_mono_ns();
            continue;
        }
        pthread_mutex_unlock(&g->lock);
        for (unsigned i = 0; i < per_arrival; i++) {
            fill_payload(g);
            if (feed_publish(g->feed, g->payload, g->cfg.payload_bytes) == 0)
                atomic_fetch_add(&g->failures, 1);
        }
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int generator_load_trace(const char *path, int64_t **offsets_ns, size_t *n, char *err,
                         size_t errlen)
{
    /* the lab's scenario check reads traces with the same parser (common/trace.c) */
    char why[512];
    if (trace_load(path, offsets_ns, n, NULL, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--trace: %s", why);
        return -1;
    }
    return 0;
}

struct generator *generator_start(struct feed *f, const struct server_config *cfg,
                                  char *err, size_t errlen)
{
    struct generator *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "generator_start: out of memory");
        return NULL;
    }
    if (cfg->process == GEN_TRACE &&
        generator_load_trace(cfg->trace, &g->trace, &g->trace_len, err, errlen) != 0) {
        free(g);
        return NULL;
    }
    g->payload = malloc(cfg->payload_bytes + 1);
    if (!g->payload) {
        snprintf(err, errlen, "generator_start: out of memory for a %zu-byte payload",
                 cfg->payload_bytes);
        free(g->trace);
        free(g);
        return NULL;
    }
    g->feed = f;
    g->cfg = *cfg;
    rng_seed(&g->rng, cfg->seed);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&g->lock, NULL);
    int rc = pthread_create(&g->thread, NULL, generator_main, g);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        pthread_cond_destroy(&g->cond);
        pthread_mutex_destroy(&g->lock);
        free(g->payload);
        free(g->trace);
        free(g);
        return NULL;
    }
    return g;
}

int generator_set_rate(struct generator *g, double rate_hz)
{
    if (!g || g->cfg.process == GEN_TRACE)
        return -1;
    pthread_mutex_lock(&g->lock);
    g->cfg.rate_hz = rate_hz;
    g->rate_changed = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    return 0;
}

double generator_rate(struct generator *g)
{
    if (!g)
        return 0;
    pthread_mutex_lock(&g->lock);
    double r = g->cfg.rate_hz;
    pthread_mutex_unlock(&g->lock);
    return r;
}

uint64_t generator_failures(struct generator *g)
{
    return g ? atomic_load(&g->failures) : 0;
}

void generator_stop(struct generator *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    bool running = !g->stop;
    g->stop = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    if (running)
        pthread_join(g->thread, NULL);
}

void generator_free(struct generator *g)
{
    if (!g)
        return;
    generator_stop(g);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g->payload);
    free(g->trace);
    free(g);
}
