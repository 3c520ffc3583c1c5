/* update_scan.h: find the lab's updates, {"seq":..,"ts_ns":..,"data":..}, in JSON text.
 *
 * The reference client must turn every body it receives into (seq, publish stamp) pairs,
 * at tens of thousands a second: an SSE event's data or a WebSocket message is one update,
 * a lab long-poll answer is {"next":M,"events":[update,...]}, and nchan hands back the
 * body the publisher posted, which is the lab's update JSON. So this is not a JSON parser
 * that builds a tree but one pass over the text that tracks strings and nesting and pulls
 * out the few members the bench reads; update_scan.c lists what it accepts.
 */
#ifndef PUSHPULL_BENCH_UPDATE_SCAN_H
#define PUSHPULL_BENCH_UPDATE_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* One update found: an object with an integer "ts_ns" member. */
struct update_found {
    uint64_t seq;   /* its "seq" (0 when absent) */
    int64_t ts_ns;  /* its "ts_ns": the publish stamp (the lab server's own at publish;
                       through nchan, the body the publisher posted, so the publisher's) */
    int64_t pub_ns; /* the publisher's stamp when the update carries one, else 0: an
                       integer "pub_ns" member, or a "data" string that starts with
                       "pub_ns=" and digits (how the bench's publisher marks the data it
                       posts, which the lab server wraps as a string, with the instant its
                       schedule set for the update) */
};
typedef void (*update_scan_fn)(void *ctx, const struct update_found *u);

struct update_scan_result {
    uint64_t updates; /* objects with "ts_ns" found (each passed to fn) */
    int has_next;     /* the outermost object has an integer "next" member */
    uint64_t next;    /* its value (a lab long poll's next cursor) */
    int reset;        /* the outermost object has "reset":true */
};

/* Scan len bytes of JSON text. Each object holding an integer "ts_ns" is passed to fn, in
 * order; fn may be NULL. Returns 0,
 * or -1 when the text is not well nested (an unterminated string, a stray or missing
 * bracket, nesting deeper than 16): updates found before the fault were still passed on.
 * *res may be NULL. Nothing is allocated. */
int update_scan(const char *s, size_t len, update_scan_fn fn, void *ctx,
                struct update_scan_result *res);

#endif
