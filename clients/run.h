/* run.h: one measurement run: users, the observer, the loop, and the phases.
 *
 * Timeline (monotonic clock, the same instants on the real-time clock for the stamps):
 *   t0                the observer opens its stream; users start at t0 + their phase
 *   w0 = t0 + warmup  the window opens: counts from here on go to the window
 *   w1 = w0 + duration  the window closes; users go on running
 *   w1 + drain        every user stops; open transfers are counted as aborted; the loop
 *                     closes every connection and the kernel's per-socket counts come in
 * Updates published in [w0, w1) are the ones that count (freshness.h); the drain lets the
 * late receipts of those updates arrive. The users' activity is binned from w0 to the end
 * of the drain (counters.h).
 */
#ifndef PUSHPULL_RUN_H
#define PUSHPULL_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "clock_offset.h"
#include "counters.h"
#include "freshness.h"
#include "headers.h"
#include "hist.h"

struct run_results {
    const struct client_config *cfg;      /* settings (borrowed from the caller) */
    const struct header_profile *profile; /* header profile in use */
    const char *host_line;                /* "Host: ..." sent by every user */
    size_t req_head_bytes;           /* request head of the approach's first-kind request
                                        with this profile (GET /poll or /events), as a
                                        reference for the report */
    struct counters users;           /* every user's counts together (its activity is
                                        the run's) */
    struct counters observer;        /* the observer's own traffic, not in `users` */
    struct counters upstream;        /* the POST senders' traffic (publish.c), not in
                                        `users`; zero for a WebSocket, whose messages go
                                        on the users' own connections */
    size_t send_head_bytes;          /* the request head of one POST /publish of a message
                                        with this profile (0 when there are none) */
    const struct hist *msg_rtt;      /* round trips of the window's messages, us */
    const struct freshness *fr;      /* latency histogram, stamps, timeline */
    const struct activity *activity; /* the users' activity per 100 ms (activity.csv) */
    struct freshness_summary fresh;  /* missed, duplicates, staleness */
    uint32_t users_stopped;         /* users that stopped for good (204, bad status, end) */
    uint32_t users_never_connected; /* users that never opened a socket */
    uint32_t users_served;          /* users that had a response succeed (user.h been_up) */
    double window_s;                /* measurement window length */
    double cpu_window_s;            /* client CPU (user + system) inside the window */
    double cpu_total_s;             /* client CPU over the whole process */
    long peak_rss_kb;               /* client peak resident set */
    uint32_t threads;               /* event loops the users were spread over */
    uint64_t loop_turns;            /* the loops' turns inside the window, all loops */
    uint64_t loop_full_turns;       /* ... whose epoll_wait returned a full batch */
    double loop_busy_max;           /* the busiest loop's share of the window spent
                                       working, not waiting (0..1) */
    struct hist *loop_lag;          /* how late user deadlines fired in the window, us,
                                       all loops (owned by the run; NULL if no memory) */
    int64_t start_real_ns;          /* t0 on the real-time clock */
    struct clock_estimate clock;    /* the server's clock against this one (GET /time) */
    uint32_t merged_parts;          /* pushpull-client merge: the partitions added up; 0
                                       for a run's own results */
    const char *timeline_text;      /* merge: timeline.csv as the partition with the
                                       sample user wrote it (borrowed); NULL: from fr */
    char address[64];               /* the server's address as resolved */
};

struct run; /* opaque */

/* Run the measurement described by cfg (which must outlive the run). On success *out
 * holds the finished run (free with run_free) and 0 is returned; on failure -1 with a
 * message naming the failed call in err. */
int run_execute(const struct client_config *cfg, struct run **out, char *err,
                size_t errlen);
const struct run_results *run_results(const struct run *r);
void run_free(struct run *r);

#endif
