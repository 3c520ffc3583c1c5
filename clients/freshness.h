/* freshness.h: what each user knew and when, against what the server had published.
 *
 * The server stamps every update with its publish time (ts_ns, CLOCK_REALTIME); the
 * client learns those stamps from every update it receives, and from one extra
 * "observer" SSE connection that is not counted as a user, so the publish time of every
 * update is known even to a short-polling user that never saw it. From that:
 *   - delivery latency: receipt time - ts_ns for the first receipt of each update, in
 *     microseconds, into a log-linear histogram;
 *   - missed: updates published in the window that a user never received, duplicates:
 *     receipts of an update the user already had. "Published" counts the updates whose
 *     stamp some connection brought (the observer brings them all); a gap in the
 *     numbering that nobody saw is counted apart, as unseen, not as missed by every user:
 *     a server that jumps its numbers (or a feed restart that was never replayed) cannot
 *     inflate missed with updates no one can show were published;
 *   - staleness (Cho & Garcia-Molina's "age"): at instant t, 0 when the user's newest
 *     known seq k is the server's newest, else t - publish time of k+1 (the oldest update
 *     the user lacks). Its time average over the window is kept per user.
 * Window rule: an update counts when its publish stamp is inside [w0, w1); its receipt may
 * come later (the drain) and still counts. Staleness is integrated over [w0, w1) only.
 * All times here are CLOCK_REALTIME nanoseconds, the clock the stamps are in.
 *
 * Feed epochs: a server restarted with an in-memory feed numbers its updates from 1 again,
 * so a seq alone no longer names one update. Within one run of a feed, seq and stamp grow
 * together; so a stamp (seq, ts) whose seq is at or below the newest seq seen while its ts
 * is later than that newest seq's stamp can only come from a restarted feed, and begins a
 * new epoch. Every update then gets a global index, offset + seq, where an epoch's offset
 * is the global index of the previous epoch's newest update seen: indices stay contiguous
 * across restarts, so "published = last - first + 1" still holds, and everything below
 * (a user's `known`, duplicates, staleness, timeline.csv) works on global indices, which
 * equal seqs until the first restart. Epochs are disjoint in time: an epoch takes the
 * stamps from just after the previous epoch's newest stamp on, so a stamp is placed in its
 * epoch by its ts, whichever connection brings it first (a user may see the new feed
 * before the observer does). A server restarted on a durable feed (--feed-file) continues
 * its seqs with later stamps, and replays old ones with their old stamps: no new epoch.
 * Assumptions, which the lab's server meets: a restarted in-memory feed starts at seq 1;
 * the client hears from it before its seqs pass the old feed's newest seen (else the new
 * feed is taken for a continuation, and its stamps then disagree with those held: counted
 * as inconsistent); every receipt of one update carries the identical stamp (the server
 * renders each update once, so the digits never differ); stamps of the old feed all
 * arrive before those of the new one (the old server's connections die with it). At most
 * FRESH_MAX_EPOCHS epochs are kept: past that the client stops following the feed, and
 * every stamp later than the last epoch's newest is dropped and counted as inconsistent.
 */
#ifndef PUSHPULL_FRESHNESS_H
#define PUSHPULL_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dynbuf.h"
#include "hist.h"

#define FRESH_MAX_EPOCHS 64 /* feed runs followed: 63 restarts */

struct fresh_segment {
    int64_t from, to; /* [from, to) during which the user knew `known` */
    uint64_t known;   /* its newest global index then */
};

/* Per user. */
struct fresh_user {
    uint64_t known;                /* newest global index this user knows; 0 = none yet */
    int64_t since;                 /* when `known` last changed */
    uint64_t win_received;         /* distinct window updates received */
    double stale_area;             /* integral of staleness over settled time, ns*ns */
    struct fresh_segment *pending; /* segments whose k+1 stamp is not known yet (owned) */
    size_t npending, cap;          /* used and allocated entries of pending */
    bool sample;                   /* this user's changes are kept for timeline.csv */
};

/* One run of the server's feed. */
struct fresh_epoch {
    int64_t start_ts;    /* its stamps are from here until the next epoch's start_ts */
    uint64_t offset;     /* global index = offset + seq */
    uint64_t newest_seq; /* the newest seq seen in it */
    int64_t newest_ts;   /* the latest stamp seen in it */
};

/* Publish stamps by global index: stamp[i] belongs to index base+i; 0 = not seen yet. */
struct publish_log {
    int64_t *stamp; /* owned */
    uint64_t base;  /* global index of stamp[0]; 0 while empty */
    size_t len;     /* entries in use */
    size_t cap;     /* entries allocated */
};

struct freshness {
    int64_t w0, w1;                              /* the measurement window */
    struct publish_log log;                      /* every stamp seen, from any connection */
    struct fresh_epoch epochs[FRESH_MAX_EPOCHS]; /* the feed's runs, oldest first */
    size_t nepochs;                              /* epochs in use (0 before any stamp) */
    bool epochs_full;        /* one more restart than FRESH_MAX_EPOCHS allows was seen */
    uint64_t inconsistent;   /* stamps that fit no epoch, or disagree with the one held */
    struct hist *latency;    /* us, first receipts of window updates (owned) */
    uint64_t received;       /* first receipts of window updates, all users */
    uint64_t duplicates;     /* repeated receipts of window updates, all users */
    uint64_t unknown_stamps; /* staleness segments settled without their stamp */
    struct dynbuf timeline;  /* the sample user's (time, index) changes, as int64 pairs */
    bool timeline_full;      /* the timeline reached its cap: later changes not kept */
};

struct freshness_summary {
    uint64_t published; /* updates stamped inside the window, whose stamp was seen */
    uint64_t first_seq; /* the first and last of them, as global indices (0 when none) */
    uint64_t last_seq;
    uint64_t unseen;     /* indices between those that no connection brought a stamp for
                            (should be 0: the observer follows every update) */
    uint64_t expected;   /* published * users */
    uint64_t received;   /* first receipts, all users */
    uint64_t missed;     /* expected - received */
    uint64_t duplicates; /* repeated receipts */
    double staleness_mean_ms; /* mean over users of each user's time-average */
    double staleness_max_ms;  /* the worst user's time-average */
    uint64_t unknown_stamps;  /* segments settled without a known stamp (should be 0) */
    uint64_t feed_restarts;   /* in-memory restarts recognised: epochs - 1 */
    uint64_t inconsistent;    /* stamps dropped or disagreeing (should be 0) */
};

/* Start with window [w0, w1). 0, or -1 (out of memory) with a message in err. Free with
 * freshness_free, also after a failure. */
int freshness_init(struct freshness *f, int64_t w0, int64_t w1, char *err, size_t errlen);
void freshness_free(struct freshness *f);
void freshness_user_init(struct fresh_user *u, bool sample);
void freshness_user_free(struct fresh_user *u);

/* A publish stamp seen on the wire (the observer's stream, or any user's receipt): placed
 * in its epoch (a new one when it shows a restart) and kept under its global index. */
void freshness_published(struct freshness *f, uint64_t seq, int64_t ts_ns);
/* User u received update seq, stamped ts_ns, at now. Returns 1 when it was new to the
 * user, 0 for a duplicate (global index <= the newest the user knows) or a stamp that
 * fits no epoch (counted as inconsistent, not as a receipt). */
int freshness_receive(struct freshness *f, struct fresh_user *u, uint64_t seq,
                      int64_t ts_ns, int64_t now);
/* The run is over: settle the user's open and pending segments up to w1. Call once per
 * user, after the observer has delivered everything. */
void freshness_finish_user(struct freshness *f, struct fresh_user *u);
/* Totals over n finished users. */
void freshness_summarize(const struct freshness *f, const struct fresh_user *users,
                         size_t n, struct freshness_summary *out);
/* CSV "time_s,newest_seq_known,server_newest_seq,staleness_ms" for the sample user, one
 * row per step_ns across the window; the "seq" columns are global indices (seqs until the
 * first restart). 0, or -1 on a write error. */
int freshness_write_timeline(const struct freshness *f, FILE *out, int64_t step_ns);

#endif
