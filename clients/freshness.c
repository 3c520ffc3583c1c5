/* freshness.c: latency, missed and duplicate updates, time-averaged staleness, and the
 * feed epochs that keep them right across server restarts (freshness.h).
 *
 * Staleness is settled per segment: while a user knew index k from time a to time b, its
 * staleness at t is max(0, t - p) with p the publish stamp of k+1, so the segment adds
 * the integral of that over [a, b) clipped to the window, which is closed-form. p may not
 * be known yet when the segment closes (a short-polling user can learn of k+5 before the
 * observer's stream has delivered k+1), so such segments wait in a small per-user list and
 * are settled at the user's next change or at the end, when the observer has seen
 * everything. A k+1 never published by the end means the user was up to date: no area.
 */
#include "freshness.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define TIMELINE_MAX_BYTES ((size_t)64 * 1024 * 1024)

int freshness_init(struct freshness *f, int64_t w0, int64_t w1, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->w0 = w0;
    f->w1 = w1;
    dynbuf_init(&f->timeline, TIMELINE_MAX_BYTES);
    f->latency = hist_new();
    if (!f->latency) {
        snprintf(err, errlen, "hist_new: out of memory");
        return -1;
    }
    return 0;
}

void freshness_free(struct freshness *f)
{
    hist_free(f->latency);
    free(f->log.stamp);
    dynbuf_free(&f->timeline);
    memset(f, 0, sizeof(*f));
}

void freshness_user_init(struct fresh_user *u, bool sample)
{
    memset(u, 0, sizeof(*u));
    u->sample = sample;
}

void freshness_user_free(struct fresh_user *u)
{
    free(u->pending);
    u->pending = NULL;
    u->npending = u->cap = 0;
}

/* ---- publish log -------------------------------------------------------------------- */

/* The log spans at most this many indices (a day at 1,000 updates a second, 700 MiB of
 * stamps): a server that jumps further (a bug, or a hostile peer) has its stamps dropped
 * rather than the client's memory exhausted or its arithmetic overflowed. */
#define LOG_MAX_SPAN ((uint64_t)1 << 26)

/* Make room so that global index seq has a slot; 0 or -1 (out of memory, or out of span:
 * the stamp is dropped). */
static int log_reserve(struct publish_log *l, uint64_t seq)
{
    if (l->len > 0 &&
        (seq < l->base ? l->base - seq + l->len : seq - l->base) > LOG_MAX_SPAN)
        return -1;
    if (l->len == 0) {
        l->base = seq;
    } else if (seq < l->base) {
        /* grow at the front: shift everything up by the difference */
        size_t shift = (size_t)(l->base - seq);
        size_t need = l->len + shift;
        if (need > l->cap) {
            size_t cap = l->cap * 2 > need ? l->cap * 2 : need;
            int64_t *s = realloc(l->stamp, cap * sizeof(*s));
            if (!s)
                return -1;
            l->stamp = s;
            l->cap = cap;
        }
        memmove(l->stamp + shift, l->stamp, l->len * sizeof(*l->stamp));
        memset(l->stamp, 0, shift * sizeof(*l->stamp));
        l->len = need;
        l->base = seq;
        return 0;
    }
    size_t idx = (size_t)(seq - l->base);
    if (idx < l->len)
        return 0;
    size_t need = idx + 1;
    if (need > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        while (cap < need)
            cap *= 2;
        int64_t *s = realloc(l->stamp, cap * sizeof(*s));
        if (!s)
            return -1;
        l->stamp = s;
        l->cap = cap;
    }
    memset(l->stamp + l->len, 0, (need - l->len) * sizeof(*l->stamp));
    l->len = need;
    return 0;
}

/* The stamp of global index g, or 0 when not seen. */
static int64_t log_stamp(const struct publish_log *l, uint64_t g)
{
    if (l->len == 0 || g < l->base || g - l->base >= l->len)
        return 0;
    return l->stamp[g - l->base];
}

/* ---- feed epochs (freshness.h) ------------------------------------------------------ */

/* The global index of stamp (seq, ts), opening a new epoch when the stamp shows a
 * restarted feed; 0 when it fits none (counted as inconsistent). */
static uint64_t epoch_place(struct freshness *f, uint64_t seq, int64_t ts)
{
    if (seq == 0 || ts <= 0) {
        f->inconsistent++;
        return 0;
    }
    if (f->nepochs == 0) {
        f->epochs[0] = (struct fresh_epoch){
            .start_ts = INT64_MIN, .offset = 0, .newest_seq = seq, .newest_ts = ts};
        f->nepochs = 1;
        return seq;
    }
    /* epochs are disjoint in time: the last one that had begun by ts */
    size_t e = f->nepochs - 1;
    while (e > 0 && ts < f->epochs[e].start_ts)
        e--;
    struct fresh_epoch *ep = &f->epochs[e];
    bool open = e == f->nepochs - 1 && !f->epochs_full;
    if (seq > ep->newest_seq) {
        /* Past a closed epoch's newest, that index belongs to the next epoch; and within
         * one feed a later seq never has an earlier stamp (the server takes both under
         * one lock), so such a stamp is a straggler of an older feed arriving after the
         * new one was seen (a restart behind a jittery link): placing it here would
         * stretch this epoch over the old feed's numbers. */
        if (!open || ts < ep->newest_ts) {
            f->inconsistent++;
            return 0;
        }
        ep->newest_seq = seq;
        ep->newest_ts = ts;
        return ep->offset + seq;
    }
    if (ts <= ep->newest_ts)
        return ep->offset + seq; /* an older update of this epoch, or one seen before */
    /* seq at or below the newest, stamped later: a restarted in-memory feed. (A closed
     * epoch ends at its newest stamp, so only the last one gets here; once the epochs are
     * full, nothing later than it is followed.) */
    if (!open || f->nepochs == FRESH_MAX_EPOCHS) {
        f->epochs_full = true; /* stop following: later stamps are all dropped */
        f->inconsistent++;
        return 0;
    }
    f->epochs[f->nepochs++] = (struct fresh_epoch){.start_ts = ep->newest_ts + 1,
                                                   .offset = ep->offset + ep->newest_seq,
                                                   .newest_seq = seq,
                                                   .newest_ts = ts};
    return ep->offset + ep->newest_seq + seq;
}

/* Place and keep a stamp; its global index, or 0 when it fits no epoch. The first stamp
 * kept for an index stays; a different one later is counted as inconsistent. */
static uint64_t record_stamp(struct freshness *f, uint64_t seq, int64_t ts_ns)
{
    uint64_t g = epoch_place(f, seq, ts_ns);
    if (g == 0 || log_reserve(&f->log, g) != 0)
        return g; /* out of span or memory: the receipt still counts, the stamp is lost */
    int64_t *slot = &f->log.stamp[g - f->log.base];
    if (*slot == 0)
        *slot = ts_ns;
    else if (*slot != ts_ns)
        f->inconsistent++;
    return g;
}

void freshness_published(struct freshness *f, uint64_t seq, int64_t ts_ns)
{
    (void)record_stamp(f, seq, ts_ns);
}

/* ---- staleness ---------------------------------------------------------------------- */

/* The integral over [a, b) of max(0, t - p), in ns*ns. */
static double area(int64_t a, int64_t b, int64_t p)
{
    if (b <= a || p >= b)
        return 0.0;
    double lo = (double)(a > p ? a : p) - (double)p;
    double hi = (double)b - (double)p;
    return (hi * hi - lo * lo) / 2.0;
}

/* Settle one segment if its stamp is known (or `final`): returns 1 when settled. */
static int settle(struct freshness *f, struct fresh_user *u, const struct fresh_segment *s,
                  bool final)
{
    int64_t a = s->from > f->w0 ? s->from : f->w0;
    int64_t b = s->to < f->w1 ? s->to : f->w1;
    if (b <= a)
        return 1;
    int64_t p = log_stamp(&f->log, s->known + 1);
    if (p == 0 && f->log.len > 0 && s->known + 1 < f->log.base) {
        /* older than anything seen: the oldest stamp known is a lower bound */
        p = f->log.stamp[0];
        f->unknown_stamps++;
    }
    if (p == 0) {
        if (!final)
            return 0;
        /* k+1 was never seen: if a later seq was, the observer lost it; else the user
         * was up to date (nothing newer existed) */
        if (s->known + 1 < f->log.base + f->log.len)
            f->unknown_stamps++;
        return 1;
    }
    u->stale_area += area(a, b, p);
    return 1;
}

/* Close the segment [u->since, now) and settle what can be. */
static void close_segment(struct freshness *f, struct fresh_user *u, int64_t now,
                          bool final)
{
    struct fresh_segment seg = {.from = u->since, .to = now, .known = u->known};
    size_t keep = 0;
    for (size_t i = 0; i < u->npending; i++)
        if (!settle(f, u, &u->pending[i], final))
            u->pending[keep++] = u->pending[i];
    u->npending = keep;
    if (settle(f, u, &seg, final))
        return;
    if (u->npending == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 4;
        struct fresh_segment *p = realloc(u->pending, cap * sizeof(*p));
        if (!p) {
            f->unknown_stamps++; /* cannot wait for it: dropped, and said so */
            return;
        }
        u->pending = p;
        u->cap = cap;
    }
    u->pending[u->npending++] = seg;
}

int freshness_receive(struct freshness *f, struct fresh_user *u, uint64_t seq,
                      int64_t ts_ns, int64_t now)
{
    bool in_window = ts_ns >= f->w0 && ts_ns < f->w1;
    uint64_t g = record_stamp(f, seq, ts_ns);
    if (g == 0)
        return 0;
    if (g <= u->known) {
        if (in_window)
            f->duplicates++;
        return 0;
    }
    if (in_window) {
        u->win_received++;
        f->received++;
        hist_record(f->latency, (now - ts_ns + NS_PER_US / 2) / NS_PER_US);
    }
    close_segment(f, u, now, false); /* since 0 (nothing known yet) clips to w0 */
    u->known = g;
    u->since = now;
    if (u->sample && !f->timeline_full) {
        /* A full timeline stops (its cap keeps memory bounded) rather than starting over
         * (a failed dynbuf_add empties it), which would draw a false tail. */
        int64_t pair[2] = {now, (int64_t)g};
        if (f->timeline.len + sizeof(pair) > f->timeline.max ||
            dynbuf_add(&f->timeline, pair, sizeof(pair)) != 0)
            f->timeline_full = true;
    }
    return 1;
}

void freshness_finish_user(struct freshness *f, struct fresh_user *u)
{
    close_segment(f, u, f->w1 > u->since ? f->w1 : u->since, true);
}

/* ---- summary and timeline ----------------------------------------------------------- */

void freshness_summarize(const struct freshness *f, const struct fresh_user *users,
                         size_t n, struct freshness_summary *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < f->log.len; i++) {
        int64_t ts = f->log.stamp[i];
        if (ts >= f->w0 && ts < f->w1) {
            uint64_t g = f->log.base + i;
            if (out->first_seq == 0)
                out->first_seq = g;
            out->last_seq = g;
            out->published++;
        }
    }
    /* A lab server numbers without gaps (seqs have none within an epoch, and epochs join
     * end to end), so every index in the range was published; those whose stamp nobody
     * brought are unseen (freshness.h), and left out of published and missed. */
    for (uint64_t g = out->first_seq; out->first_seq && g <= out->last_seq; g++)
        out->unseen += log_stamp(&f->log, g) == 0;
    out->expected = out->published * n;
    out->received = f->received;
    out->missed = out->expected > out->received ? out->expected - out->received : 0;
    out->duplicates = f->duplicates;
    out->unknown_stamps = f->unknown_stamps;
    out->feed_restarts = f->nepochs > 1 ? f->nepochs - 1 : 0;
    out->inconsistent = f->inconsistent;
    double window = (double)(f->w1 - f->w0);
    double sum = 0;
    for (size_t i = 0; i < n && window > 0; i++) {
        double mean_ms = users[i].stale_area / window / (double)NS_PER_MS;
        sum += mean_ms;
        if (mean_ms > out->staleness_max_ms)
            out->staleness_max_ms = mean_ms;
    }
    out->staleness_mean_ms = n ? sum / (double)n : 0;
}

int freshness_write_timeline(const struct freshness *f, FILE *out, int64_t step_ns)
{
    const int64_t *pairs = (const int64_t *)(const void *)f->timeline.mem;
    size_t npairs = f->timeline.len / (2 * sizeof(int64_t));
    size_t next_change = 0;
    uint64_t known = 0;
    size_t log_i = 0;
    uint64_t server_newest = 0;

    if (fprintf(out, "time_s,newest_seq_known,server_newest_seq,staleness_ms\n") < 0)
        return -1;
    if (step_ns <= 0)
        step_ns = 10 * NS_PER_MS;
    for (int64_t t = f->w0; t <= f->w1; t += step_ns) {
        while (next_change < npairs && pairs[2 * next_change] <= t) {
            known = (uint64_t)pairs[2 * next_change + 1];
            next_change++;
        }
        while (log_i < f->log.len &&
               (f->log.stamp[log_i] == 0 || f->log.stamp[log_i] <= t)) {
            if (f->log.stamp[log_i] != 0)
                server_newest = f->log.base + log_i;
            log_i++;
        }
        int64_t p = log_stamp(&f->log, known + 1);
        double stale_ms = (p != 0 && p <= t) ? (double)(t - p) / (double)NS_PER_MS : 0.0;
        if (fprintf(out, "%.3f,%" PRIu64 ",%" PRIu64 ",%.3f\n",
                    (double)(t - f->w0) / (double)NS_PER_S, known, server_newest,
                    stale_ms) < 0)
            return -1;
    }
    return 0;
}
