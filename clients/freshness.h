/* freshness.h: what each user knew and when, against what the server had published.
 *
 * The server stamps every update with its publish time (ts_ns, CLOCK_REALTIME); the
 * client learns those stamps from every update it receives, and from one extra
 * "observer" SSE connection that is not counted as a user, so the publish time of every
 * update is known even to a short-polling user that never saw it. From that:
 *   - delivery latency: receipt time - ts_ns for the first receipt of each update, in
 *     microseconds, into a log-linear histogram;
 *   - missed: updates published in the window that a user never received, duplicates:
 *     receipts of an update the user already had;
 *   - staleness (Cho & Garcia-Molina's "age"): at instant t, 0 when the user's newest
 *     known seq k is the server's newest, else t - publish time of k+1 (the oldest update
 *     the user lacks). Its time average over the window is kept per user.
 * Window rule: an update counts when its publish stamp is inside [w0, w1); its receipt may
 * come later (the drain) and still counts. Staleness is integrated over [w0, w1) only.
 * All times here are CLOCK_REALTIME nanoseconds, the clock the stamps are in.
 */
#ifndef PUSHPULL_FRESHNESS_H
#define PUSHPULL_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dynbuf.h"
#include "hist.h"

struct fresh_segment {
    int64_t from, to; /* [from, to) during which the user knew `known` */
    uint64_t known;   /* its newest seq then */
};

/* Per user. */
struct fresh_user {
    uint64_t known;                /* newest seq this user knows; 0 = none yet */
    int64_t since;                 /* when `known` last changed */
    uint64_t win_received;         /* distinct window updates received */
    double stale_area;             /* integral of staleness over settled time, ns*ns */
    struct fresh_segment *pending; /* segments whose k+1 stamp is not known yet (owned) */
    size_t npending, cap;          /* used and allocated entries of pending */
    bool sample;                   /* this user's changes are kept for timeline.csv */
};

/* Publish stamps by seq: stamp[i] belongs to seq base+i; 0 = not seen yet. */
struct publish_log {
    int64_t *stamp; /* owned */
    uint64_t base;  /* seq of stamp[0]; 0 while empty */
    size_t len;     /* entries in use */
    size_t cap;     /* entries allocated */
};

struct freshness {
    int64_t w0, w1;          /* the measurement window */
    struct publish_log log;  /* every stamp seen, from any connection */
    struct hist *latency;    /* us, first receipts of window updates (owned) */
    uint64_t deliveries;     /* updates new to a user, any time (progress line) */
    uint64_t received;       /* first receipts of window updates, all users */
    uint64_t duplicates;     /* repeated receipts of window updates, all users */
    uint64_t unknown_stamps; /* staleness segments settled without their stamp */
    struct dynbuf timeline;  /* the sample user's (time, seq) changes, as int64 pairs */
    bool timeline_full;      /* the timeline reached its cap: later changes not kept */
};

struct freshness_summary {
    uint64_t published; /* updates stamped inside the window */
    uint64_t first_seq; /* the first and last of them (0 when none) */
    uint64_t last_seq;
    uint64_t expected;        /* published * users */
    uint64_t received;        /* first receipts, all users */
    uint64_t missed;          /* expected - received */
    uint64_t duplicates;      /* repeated receipts */
    double staleness_mean_ms; /* mean over users of each user's time-average */
    double staleness_max_ms;  /* the worst user's time-average */
    uint64_t unknown_stamps;  /* segments settled without a known stamp (should be 0) */
};

/* Start with window [w0, w1). 0, or -1 (out of memory) with a message in err. Free with
 * freshness_free, also after a failure. */
int freshness_init(struct freshness *f, int64_t w0, int64_t w1, char *err, size_t errlen);
void freshness_free(struct freshness *f);
void freshness_user_init(struct fresh_user *u, bool sample);
void freshness_user_free(struct fresh_user *u);

/* A publish stamp seen on the wire (the observer's stream, or any user's receipt). */
void freshness_published(struct freshness *f, uint64_t seq, int64_t ts_ns);
/* User u received update seq, stamped ts_ns, at now. Returns 1 when it was new to the
 * user, 0 for a duplicate (seq <= the newest the user knows). */
int freshness_receive(struct freshness *f, struct fresh_user *u, uint64_t seq,
                      int64_t ts_ns, int64_t now);
/* The run is over: settle the user's open and pending segments up to w1. Call once per
 * user, after the observer has delivered everything. */
void freshness_finish_user(struct freshness *f, struct fresh_user *u);
/* Totals over n finished users. */
void freshness_summarize(const struct freshness *f, const struct fresh_user *users,
                         size_t n, struct freshness_summary *out);
/* CSV "time_s,newest_seq_known,server_newest_seq,staleness_ms" for the sample user, one
 * row per step_ns across the window. 0, or -1 on a write error. */
int freshness_write_timeline(const struct freshness *f, FILE *out, int64_t step_ns);

#endif
