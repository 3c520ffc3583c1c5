/* scenario_expand.c: from a scenario as read to its runs: the quick overrides, the
 * restart's times against the window they leave, and the sweeps' cartesian product.
 *
 * Simplification: the "quick" overrides are flat keys (each field name is unique across
 * the schema, approaches' settings included), applied after validation by replacing the
 * field wholesale.
 *
 * Expansion: for each entry of "approaches" in file order, the cartesian product of its
 * own settings (its row's order), then the network's (schema order), then the restart's
 * (at_s, down_s, feed), then protocol and users_per_connection, then the messages'
 * (send_rate_hz, send_bytes), then updates.rate_hz, then clients; the last varies
 * fastest. A run
 * id is the approach's name, its choice when it has one (short polling's poll mode), and
 * name=value for every field written as a list (a one-value list names a field without
 * sweeping it). Ids must come out unique; that is checked, not assumed.
 *
 * The network: when any of its values is set (after the quick overrides), every run of the
 * scenario goes through bin/pushpull-link, a zero-delay run included, so the runs of one
 * scenario are measured through the same path and a sweep's 0 is a fair baseline.
 *
 * The restart: the conductor does the crashing; the loader only checks the times.
 * restart.at_s must fall inside the window of the runs actually planned, so it is checked
 * after the quick overrides, against the duration they may have shortened.
 */
#include "scenario_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One dimension of an approach's runs: a field's values, and where a value goes. */
struct dim {
    const struct sweep *values; /* the values */
    const char *name;           /* the field's key, for the run id */
    int field;                  /* the scenario's enum field, or -1 */
    int setting;                /* the index in the approach's settings, or -1 */
};

static void apply_quick(struct scenario *s)
{
    const struct sweep *q = s->quick_field;
    if (q[F_DURATION].n)
        s->duration_s = q[F_DURATION].v[0];
    if (q[F_WARMUP].n) {
        s->warmup_s = q[F_WARMUP].v[0];
        s->warmup_given = true;
    }
    if (q[F_CLIENTS].n)
        s->clients = q[F_CLIENTS];
    if (q[F_RATE].n)
        s->rate_hz = q[F_RATE];
    if (q[F_BURST].n)
        s->burst_size = (uint32_t)q[F_BURST].v[0];
    if (q[F_PAYLOAD].n)
        s->payload_bytes = (uint64_t)q[F_PAYLOAD].v[0];
    for (size_t i = 0; i < N_NETWORK; i++)
        if (q[scenario_network_ids[i]].n)
            s->network[i] = q[scenario_network_ids[i]];
    for (size_t i = 0; i < N_RESTART; i++) /* feed has no quick key: its n stays 0 */
        if (q[scenario_restart_ids[i]].n)
            s->restart[i] = q[scenario_restart_ids[i]];
    for (size_t i = 0; i < N_MESSAGES; i++)
        if (q[scenario_message_ids[i]].n)
            s->messages[i] = q[scenario_message_ids[i]];
    for (size_t i = 0; i < s->n_approaches; i++) {
        struct scenario_approach *a = &s->approaches[i];
        size_t row = lab_approach_index(a->approach);
        for (size_t k = 0; k < a->approach->n_settings; k++)
            if (s->quick_set[row][k].n)
                a->set[k] = s->quick_set[row][k];
    }
    s->quick = true;
}

/* The crash must fall inside the window: every restart.at_s (quick.at_s with --quick)
 * below the duration_s the runs have, which a quick override may have shortened; and the
 * server must be back before the window ends (every at_s + down_s below it). */
static int check_restart_at(struct fields_ctx *c, const struct scenario *s)
{
    bool quick = (c->flags & SCENARIO_QUICK) != 0;
    bool quick_dur = quick && s->quick_field[F_DURATION].n;
    const struct sweep *at = &s->restart[0];
    if (!s->restart_on)
        return 0;
    for (size_t k = 0; k < at->n; k++) {
        if (at->v[k] < s->duration_s)
            continue;
        char p[FIELDS_PATH], dur[32], expect[160], got[32];
        const char *where = quick && s->quick_field[F_AT].n ? "quick.at_s" : "restart.at_s";
        if (at->listed)
            fields_path_index(p, sizeof(p), where, k);
        else
            snprintf(p, sizeof(p), "%s", where);
        fields_fmt_num(dur, sizeof(dur), s->duration_s);
        snprintf(expect, sizeof(expect), "%s (%s%s)", scenario_specs[F_AT].expect, dur,
                 quick_dur ? " with --quick" : "");
        fields_fmt_num(got, sizeof(got), at->v[k]);
        return fields_fail_got(c, p, expect, got);
    }
    /* and the server back before it ends, or there is no recovery to measure */
    const struct sweep *down = &s->restart[1];
    for (size_t j = 0; j < down->n; j++)
        for (size_t k = 0; k < at->n; k++) {
            if (at->v[k] + down->v[j] < s->duration_s)
                continue;
            char p[FIELDS_PATH], expect[200], a[32], dur[32], got[32];
            const char *where =
                quick && s->quick_field[F_DOWN].n ? "quick.down_s" : "restart.down_s";
            if (down->listed)
                fields_path_index(p, sizeof(p), where, j);
            else
                snprintf(p, sizeof(p), "%s", where);
            fields_fmt_num(a, sizeof(a), at->v[k]);
            fields_fmt_num(dur, sizeof(dur), s->duration_s);
            snprintf(expect, sizeof(expect),
                     "a down time that ends inside the window (at_s %s + down_s below "
                     "duration_s %s%s)",
                     a, dur, quick_dur ? " with --quick" : "");
            fields_fmt_num(got, sizeof(got), down->v[j]);
            return fields_fail_got(c, p, expect, got);
        }
    return 0;
}

/* Put value v of the scenario's field f into run r. */
static void run_set_field(struct scenario_run *r, enum field f, double v)
{
    switch (f) {
    case F_CLIENTS:
        r->clients = (uint32_t)v;
        break;
    case F_RATE:
        r->rate_hz = v;
        break;
    case F_DELAY:
        r->network.delay_ms = v;
        break;
    case F_JITTER:
        r->network.jitter_ms = v;
        break;
    case F_RATE_KBIT:
        r->network.rate_kbit = (uint64_t)v;
        break;
    case F_DROP:
        r->network.drop_every_s = v;
        break;
    case F_IDLE:
        r->network.idle_timeout_s = v;
        break;
    case F_BUFFER:
        r->network.buffer_bytes = (uint64_t)v;
        break;
    case F_AT:
        r->restart.at_s = v;
        break;
    case F_DOWN:
        r->restart.down_s = v;
        break;
    case F_FEED:
        r->restart.durable = v == FEED_FILE;
        break;
    case F_PROTOCOL:
        r->protocol = (enum scenario_protocol)v;
        break;
    case F_UPC:
        r->users_per_connection = (uint32_t)v;
        break;
    case F_SEND_RATE:
        r->send_rate_hz = v;
        break;
    case F_SEND_BYTES:
        r->send_bytes = (uint32_t)v;
        break;
    default:
        break;
    }
}

/* Whether the scenario needs the link: some network value is set in some run. */
static bool network_in_use(const struct scenario *s)
{
    for (size_t i = 0; i < N_NETWORK; i++)
        for (size_t k = 0; k < s->network[i].n; k++)
            if (s->network[i].v[k] != 0)
                return true;
    return s->handshake;
}

/* The dimensions of approach entry a, in run-id order; their count. */
static size_t approach_dims(const struct scenario *s, const struct scenario_approach *a,
                            struct dim *dims)
{
    size_t nd = 0;
    for (size_t k = 0; k < a->approach->n_settings; k++)
        dims[nd++] = (struct dim){&a->set[k], a->approach->settings[k].name, -1, (int)k};
    for (size_t k = 0; k < N_NETWORK; k++)
        dims[nd++] =
            (struct dim){&s->network[k], scenario_specs[scenario_network_ids[k]].name,
                         (int)scenario_network_ids[k], -1};
    for (size_t k = 0; k < N_RESTART; k++)
        dims[nd++] =
            (struct dim){&s->restart[k], scenario_specs[scenario_restart_ids[k]].name,
                         (int)scenario_restart_ids[k], -1};
    dims[nd++] =
        (struct dim){&s->protocol, scenario_specs[F_PROTOCOL].name, F_PROTOCOL, -1};
    dims[nd++] = (struct dim){&s->upc, scenario_specs[F_UPC].name, F_UPC, -1};
    for (size_t k = 0; k < N_MESSAGES; k++)
        dims[nd++] =
            (struct dim){&s->messages[k], scenario_specs[scenario_message_ids[k]].name,
                         (int)scenario_message_ids[k], -1};
    if (s->process != SCENARIO_TRACE)
        dims[nd++] = (struct dim){&s->rate_hz, scenario_specs[F_RATE].name, F_RATE, -1};
    dims[nd++] = (struct dim){&s->clients, scenario_specs[F_CLIENTS].name, F_CLIENTS, -1};
    return nd;
}

/* Everything a run of entry ai has before its swept values are filled in. */
static void run_base(const struct scenario *s, size_t ai, struct scenario_run *run)
{
    const struct scenario_approach *a = &s->approaches[ai];
    memset(run, 0, sizeof(*run));
    run->approach_index = ai;
    run->approach = a->approach;
    run->choice = a->choice;
    run->duration_s = s->duration_s;
    run->warmup_s = s->warmup_s;
    run->seed = s->seed;
    run->process = s->process;
    run->burst_size = s->burst_size;
    run->payload_bytes = s->payload_bytes;
    run->trace = s->trace;
    run->headers = s->headers;
    run->cookie_bytes = s->cookie_bytes;
    run->network.link = network_in_use(s);
    run->network.handshake = s->handshake;
    run->restart.on = s->restart_on;
    run->feed = s->feed;
    run->scale = &s->scale;
    run->send_mode = scenario_send_modes[s->send_mode];
    run->target_users = s->target_users;
    run->egress_usd_per_gb = s->egress_usd_per_gb;
    run->radio = s->radio;
}

/* The run's warm-up: the file's when it names one; otherwise long enough for its
 * approach to settle (one poll interval), and never below the default floor. */
static void run_warmup(const struct scenario *s, struct scenario_run *run)
{
    const struct lab_approach *a = run->approach;
    run->warmup_need_s = a->settle_s ? a->settle_s(run->set) : 0;
    if (!s->warmup_given)
        run->warmup_s = run->warmup_need_s > SCENARIO_WARMUP_MIN_S ? run->warmup_need_s
                                                                   : SCENARIO_WARMUP_MIN_S;
}

/* The warning line when a warm-up the file named is shorter than some run needs. */
static void warmup_warning(struct fields_ctx *c, struct scenario *s)
{
    size_t short_runs = 0;
    double worst = 0;
    for (size_t i = 0; i < s->n_runs; i++) {
        const struct scenario_run *r = &s->runs[i];
        if (r->warmup_s + 1e-9 < r->warmup_need_s) {
            short_runs++;
            if (r->warmup_need_s > worst)
                worst = r->warmup_need_s;
        }
    }
    s->warning[0] = '\0';
    if (short_runs == 0)
        return;
    char w[32], need[32];
    fields_fmt_num(w, sizeof(w), s->warmup_s);
    fields_fmt_num(need, sizeof(need), worst);
    snprintf(s->warning, sizeof(s->warning),
             "%s: %s: %s s is shorter than one poll interval in %zu run%s (up to %s s): "
             "their users' first polls fall inside the window (more empty answers; with a "
             "cursor, updates before a first poll count as missed); leave it out for a "
             "warm-up that covers the interval",
             c->file,
             s->quick && s->quick_field[F_WARMUP].n ? "quick.warmup_s" : "warmup_s", w,
             short_runs, short_runs == 1 ? "" : "s", need);
}

/* The runs of entry ai, appended to runs (room for them is already there). */
static void expand_approach(const struct scenario *s, size_t ai, struct scenario_run *runs,
                            size_t *n_runs)
{
    struct dim dims[SCENARIO_MAX_DIMS];
    size_t nd = approach_dims(s, &s->approaches[ai], dims), total = 1;
    for (size_t d = 0; d < nd; d++)
        total *= dims[d].values->n;
    for (size_t r = 0; r < total; r++) {
        struct scenario_run *run = &runs[(*n_runs)++];
        run_base(s, ai, run);
        size_t len = (size_t)snprintf(run->id, sizeof(run->id), "%s", run->approach->name);
        const char *choice = scenario_run_choice(run);
        if (choice)
            len += (size_t)snprintf(run->id + len, sizeof(run->id) - len, "-%s", choice);
        /* mixed radix, the last dimension fastest */
        size_t idx[SCENARIO_MAX_DIMS], rest = r;
        for (size_t d = nd; d-- > 0;) {
            idx[d] = rest % dims[d].values->n;
            rest /= dims[d].values->n;
        }
        for (size_t d = 0; d < nd; d++) {
            double v = dims[d].values->v[idx[d]];
            if (dims[d].setting >= 0)
                run->set[dims[d].setting] = v;
            else
                run_set_field(run, (enum field)dims[d].field, v);
        }
        run_warmup(s, run);
        for (size_t d = 0; d < nd; d++) {
            double v = dims[d].values->v[idx[d]];
            if (!dims[d].values->listed)
                continue;
            struct scenario_swept *sw = &run->swept[run->n_swept++];
            sw->name = dims[d].name;
            sw->value = v;
            sw->text = dims[d].field == F_FEED
                           ? scenario_feed_names[v == FEED_FILE ? FEED_FILE : 0]
                       : dims[d].field == F_PROTOCOL ? scenario_protocol_names[(size_t)v]
                                                     : NULL;
            char num[32];
            if (sw->text)
                snprintf(num, sizeof(num), "%s", sw->text);
            else
                fields_fmt_num(num, sizeof(num), v);
            if (len < sizeof(run->id))
                len += (size_t)snprintf(run->id + len, sizeof(run->id) - len, "-%s=%s",
                                        sw->name, num);
        }
    }
}

static int expand_runs(struct fields_ctx *c, struct scenario *s)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n_approaches; i++) {
        struct dim dims[SCENARIO_MAX_DIMS];
        size_t nd = approach_dims(s, &s->approaches[i], dims), n = 1;
        for (size_t d = 0; d < nd; d++)
            n *= dims[d].values->n;
        total += n;
        if (total > SCENARIO_MAX_RUNS) {
            char p[FIELDS_PATH], expect[64], got[64];
            fields_path_index(p, sizeof(p), "approaches", i);
            snprintf(expect, sizeof(expect), "at most %d runs in all", SCENARIO_MAX_RUNS);
            snprintf(got, sizeof(got), "%zu by this entry (the lists multiply)", total);
            return fields_fail_got(c, p, expect, got);
        }
    }
    s->runs = calloc(total, sizeof(*s->runs));
    if (!s->runs) {
        snprintf(c->err, c->errlen, "%s: calloc: %s", c->file, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < s->n_approaches; i++)
        expand_approach(s, i, s->runs, &s->n_runs);
    for (size_t i = 1; i < s->n_runs; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->runs[i].id, s->runs[j].id) != 0)
                continue;
            char p[FIELDS_PATH], got[SCENARIO_ID_MAX + 128];
            fields_path_index(p, sizeof(p), "approaches", s->runs[i].approach_index);
            snprintf(got, sizeof(got),
                     "\"%s\" twice (put a setting that differs in a "
                     "list, like [500], to name it in the id)",
                     s->runs[i].id);
            return fields_fail_got(c, p, "every run id to be unique", got);
        }
    }
    return 0;
}

int scenario_expand(struct fields_ctx *c, struct scenario *s)
{
    if (c->flags & SCENARIO_QUICK)
        apply_quick(s);
    if (check_restart_at(c, s) != 0 || expand_runs(c, s) != 0)
        return -1;
    warmup_warning(c, s);
    return 0;
}

const char *scenario_run_choice(const struct scenario_run *r)
{
    const struct lab_choice *ch = r->approach->choice;
    return ch && r->choice < ch->n_values ? ch->values[r->choice] : NULL;
}
