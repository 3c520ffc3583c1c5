/* merge_state.h: a run's raw figures in summary.json, written by every client process and
 * read back by pushpull-client merge (merge.h).
 *
 * summary.json's "results" hold derived figures (percentiles, shares, per-user rates)
 * that cannot be added up; "merge_inputs" holds what they are derived from: every counter
 * of the users (window and run), of their message senders and of the observer, the
 * freshness totals, the users' states and the instrument's own figures. With the
 * histograms' bucket files (hist.h) that is everything report.c reads, so a merge rebuilds
 * a run_results and writes it with the same code a run does.
 */
#ifndef PUSHPULL_MERGE_STATE_H
#define PUSHPULL_MERGE_STATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "run.h"

/* The "merge_inputs" object of res (the caller adds it to summary.json and owns it);
 * NULL when out of memory. */
cJSON *merge_state_json(const struct run_results *res);

/* One input's figures as read back. */
struct merge_state {
    struct counters users, upstream, observer; /* activity NULL */
    struct freshness_summary fresh;
    uint32_t users_stopped, users_never_connected, users_served;
    double cpu_window_s, cpu_total_s, loop_busy_max;
    long peak_rss_kb;
    uint32_t threads;
    uint64_t loop_turns, loop_full_turns;
    int64_t start_real_ns;
    size_t req_head_bytes, send_head_bytes;
    char headers[256]; /* the header profile's name */
    char address[64];  /* the server's address as resolved */
    char host_line[300];
    struct clock_estimate clock; /* its own estimate of the server's clock */
};

/* Read obj (a "merge_inputs" object) into *out. 0, or -1 with one line in err naming the
 * missing or mistyped field. */
int merge_state_read(const cJSON *obj, struct merge_state *out, char *err, size_t errlen);

#endif
