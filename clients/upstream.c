/* upstream.c: message schedules, their text, and their echoes (upstream.h). */
#include "upstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

void upstream_run_tag(char out[9])
{
    struct rng r;
    rng_seed(&r, (uint64_t)getpid() ^ (uint64_t)clock_real_ns());
    snprintf(out, 9, "%08" PRIx32, (uint32_t)rng_next(&r));
}

static int64_t gap(struct upstream *up)
{
    double mean = (double)NS_PER_S / up->env->rate_hz;
    return (int64_t)(up->env->poisson ? rng_exponential(&up->rng, mean) : mean);
}

void upstream_init(struct upstream *up, const struct upstream_env *env,
                   struct counters *ctr, uint32_t user, uint64_t seed)
{
    memset(up, 0, sizeof(*up));
    up->env = env;
    up->ctr = ctr;
    up->user = user;
    rng_seed(&up->rng, seed ^ (UINT64_C(0x5EED0F0A11) * (user + 1)));
    double period = (double)NS_PER_S / env->rate_hz;
    up->due = env->start_ns +
              (env->poisson ? gap(up) : (int64_t)(rng_uniform(&up->rng) * period));
}

int64_t upstream_due(const struct upstream *up)
{
    return up->due;
}

static bool in_window(const struct upstream *up, int64_t due)
{
    return due >= up->env->w0 && due < up->env->w1;
}

int upstream_compose(struct upstream *up, struct dynbuf *out)
{
    size_t start = out->len;
    if (dynbuf_addf(out, "m %s.%" PRIu32 " %" PRIu64 " %" PRId64 " ", up->env->run,
                    up->user, up->n + 1, up->due) != 0)
        return -1;
    while (out->len - start < up->env->bytes)
        if (dynbuf_add(out, "x", 1) != 0)
            return -1;
    up->n++;
    counters_add(up->ctr, CTR_MSGS_SENT, 1, in_window(up, up->due));
    up->due += gap(up);
    return 0;
}

void upstream_recognise(struct upstream *up, const char *head, int64_t now)
{
    char mine[32];
    int len = snprintf(mine, sizeof(mine), "m %s.%" PRIu32 " ", up->env->run, up->user);
    if (strncmp(head, mine, (size_t)len) != 0)
        return;
    char *end = NULL;
    uint64_t n = strtoull(head + len, &end, 10);
    if (!end || *end != ' ' || n == 0)
        return;
    int64_t due = strtoll(end + 1, &end, 10);
    if (!end || *end != ' ')
        return;
    bool w = in_window(up, due);
    if (n <= up->echoed) {
        counters_add(up->ctr, CTR_MSGS_ECHO_DUPLICATES, 1, w);
        return;
    }
    up->echoed = n;
    counters_add(up->ctr, CTR_MSGS_ECHOED, 1, w);
    if (w)
        hist_record(up->env->rtt, (now - due + NS_PER_US / 2) / NS_PER_US);
}
