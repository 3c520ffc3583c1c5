/* radio.c: the cellular radio's state machine and energy (see radio.h for the model and
 * its sources).
 *
 * The simulation is event by event: each burst first settles the time since the last
 * one (the rest of a tail, the second tail, idle), then is placed: queued behind a
 * transfer still running, riding the tail, or after a promotion. Promotions and
 * transfers are counted whole when they are placed; tails and idle when time passes
 * over them. Everything is in seconds, watts and joules.
 */
#include "radio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void radio_defaults(enum radio_model m, struct radio_params *p)
{
    memset(p, 0, sizeof(*p));
    p->model = m;
    p->battery_wh = 15; /* about 4,000 mAh at 3.85 V: an assumption, not a source */
    if (m == RADIO_3G) {
        /* ARO / Video Optimizer i997.conf (a measured handset on AT&T's 3G network) */
        p->promotion_s = 2.0;
        p->promotion_w = 0.65;
        p->tail_s = 4.0; /* DCH -> FACH */
        p->tail_w = 1.30;
        p->tail2_s = 10.0; /* FACH -> IDLE */
        p->tail2_w = 0.30;
        p->repromotion_s = 1.5; /* FACH -> DCH */
        p->repromotion_w = 0.80;
        p->beta_w = 1.30; /* DCH, whatever the throughput */
        p->up_mbps = 1;   /* an assumption: HSPA-era rates; a transfer's time is tiny */
        p->down_mbps = 4;
        p->idle_w = 0;
        return;
    }
    /* Huang et al., MobiSys 2012, Table 3 (LTE) */
    p->promotion_s = 0.2601;
    p->promotion_w = 1.2107;
    p->tail_s = 11.576;
    p->tail_w = 1.060;
    p->beta_w = 1.28804;
    p->alpha_up_w = 0.43839;   /* per Mbit/s up */
    p->alpha_down_w = 0.05197; /* per Mbit/s down */
    p->up_mbps = 6;            /* the paper's median uplink (abstract) */
    p->down_mbps = 13;         /* and downlink */
    /* idle DRX: 594.3 mW for 43.2 ms every 1280.2 ms */
    p->idle_w = 0.5943 * 43.2 / 1280.2;
}

const char *radio_model_name(enum radio_model m)
{
    return m == RADIO_3G ? "3g" : "lte";
}

void radio_sim_init(struct radio_sim *s, const struct radio_params *p, double t0)
{
    memset(s, 0, sizeof(*s));
    s->p = *p;
    s->t0 = t0;
    s->acc = t0;
    s->busy_end = s->tail_end = s->tail2_end = t0; /* idle from the start */
}

/* Energy and high time of [s->acc, until): the rest of a transfer (counted when it was
 * placed), the tail, the second tail, idle. */
static void account(struct radio_sim *s, double until)
{
    const struct radio_params *p = &s->p;
    if (until <= s->acc)
        return;
    double t = s->acc;
    if (t < s->busy_end)
        t = fmin(until, s->busy_end);
    if (t < until && t < s->tail_end) {
        double end = fmin(until, s->tail_end);
        s->r.energy_j += (end - t) * p->tail_w;
        s->r.high_s += end - t;
        t = end;
    }
    if (t < until && t < s->tail2_end) {
        double end = fmin(until, s->tail2_end);
        s->r.energy_j += (end - t) * p->tail2_w;
        s->r.high_s += end - t;
        t = end;
    }
    if (t < until)
        s->r.energy_j += (until - t) * p->idle_w;
    s->acc = until;
}

void radio_sim_burst(struct radio_sim *s, double t, double bytes_up, double bytes_down)
{
    const struct radio_params *p = &s->p;
    account(s, t);
    double start;
    if (t < s->busy_end) {
        start = s->busy_end; /* behind the transfer (or promotion) under way */
    } else if (t < s->tail_end) {
        start = t; /* rides the tail: no promotion */
    } else if (t < s->tail2_end) {
        start = t + p->repromotion_s;
        s->r.energy_j += p->repromotion_s * p->repromotion_w;
        s->r.high_s += p->repromotion_s;
        s->r.promotions++;
    } else {
        start = t + p->promotion_s;
        s->r.energy_j += p->promotion_s * p->promotion_w;
        s->r.high_s += p->promotion_s;
        s->r.promotions++;
    }
    double up_s = p->up_mbps > 0 ? bytes_up * 8 / (p->up_mbps * 1e6) : 0;
    double down_s = p->down_mbps > 0 ? bytes_down * 8 / (p->down_mbps * 1e6) : 0;
    /* Huang et al.: P = beta + alpha_u * (Mbit/s up) + alpha_d * (Mbit/s down) */
    s->r.energy_j += up_s * (p->beta_w + p->alpha_up_w * p->up_mbps) +
                     down_s * (p->beta_w + p->alpha_down_w * p->down_mbps);
    s->r.high_s += up_s + down_s;
    s->busy_end = start + up_s + down_s;
    s->tail_end = s->busy_end + p->tail_s;
    s->tail2_end = s->tail_end + p->tail2_s;
    s->acc = s->busy_end;
}

struct radio_result radio_sim_at(struct radio_sim *s, double t)
{
    account(s, t);
    struct radio_result r = s->r;
    r.duration_s = t - s->t0;
    r.idle_j = r.duration_s * s->p.idle_w;
    return r;
}

struct radio_result radio_per_hour(struct radio_result r)
{
    double k = r.duration_s > 0 ? 3600 / r.duration_s : NAN;
    struct radio_result h = {3600, r.promotions * k, r.high_s * k, r.energy_j * k,
                             r.idle_j * k};
    return h;
}

double radio_traffic_j_per_hour(struct radio_result r)
{
    struct radio_result h = radio_per_hour(r);
    return h.energy_j - h.idle_j;
}

/* ---- traffic.csv ------------------------------------------------------------------ */

struct burst {
    long long user;
    double t_s, up, down;
};

static int by_user_then_time(const void *a, const void *b)
{
    const struct burst *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->t_s > y->t_s) - (x->t_s < y->t_s);
}

/* One data row "user,t_ms,bytes_up,bytes_down" into *b (t in seconds). 0 or -1. */
static int parse_row(const char *line, double time_scale, struct burst *b)
{
    char *end;
    errno = 0;
    b->user = strtoll(line, &end, 10);
    if (end == line || *end != ',' || errno)
        return -1;
    double v[3];
    const char *p = end + 1;
    for (int k = 0; k < 3; k++) {
        v[k] = strtod(p, &end);
        if (end == p || !isfinite(v[k]) || (k < 2 && *end != ','))
            return -1;
        p = end + (k < 2);
    }
    while (*p == '\r' || *p == '\n' || *p == ' ')
        p++;
    if (*p || v[1] < 0 || v[2] < 0)
        return -1;
    b->t_s = v[0] / 1000 * time_scale;
    b->up = v[1];
    b->down = v[2];
    return 0;
}

int radio_read_traffic(const char *path, const struct radio_params *p, double window_s,
                       double time_scale, struct radio_result *sum, double *users,
                       char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct burst *all = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char line[256];
    int rc = -1;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (lineno == 1 && strncmp(line, "user,", 5) == 0)
            continue;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            struct burst *grown = realloc(all, ncap * sizeof(*all));
            if (!grown) {
                snprintf(err, errlen, "%s: out of memory at line %zu", path, lineno);
                goto end;
            }
            all = grown;
            cap = ncap;
        }
        if (parse_row(line, time_scale, &all[n]) != 0) {
            snprintf(err, errlen,
                     "%s: line %zu: expected user,t_ms,bytes_up,bytes_down (numbers, "
                     "bytes >= 0)",
                     path, lineno);
            goto end;
        }
        n++;
    }
    if (n > 0)
        qsort(all, n, sizeof(*all), by_user_then_time);
    memset(sum, 0, sizeof(*sum));
    *users = 0;
    double w = window_s * time_scale;
    for (size_t i = 0; i < n;) {
        struct radio_sim s;
        radio_sim_init(&s, p, fmin(0, all[i].t_s));
        size_t j = i;
        for (; j < n && all[j].user == all[i].user && all[j].t_s < 0; j++)
            radio_sim_burst(&s, all[j].t_s, all[j].up, all[j].down);
        struct radio_result before = radio_sim_at(&s, 0);
        for (; j < n && all[j].user == all[i].user; j++)
            if (all[j].t_s <= w)
                radio_sim_burst(&s, all[j].t_s, all[j].up, all[j].down);
        struct radio_result after = radio_sim_at(&s, w);
        sum->duration_s += w;
        sum->promotions += after.promotions - before.promotions;
        sum->high_s += after.high_s - before.high_s;
        sum->energy_j += after.energy_j - before.energy_j;
        sum->idle_j += w * p->idle_w;
        *users += 1;
        i = j;
    }
    rc = 0;
end:
    fclose(f);
    free(all);
    return rc;
}
