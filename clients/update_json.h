/* update_json.h: reading the server's JSON replies (issue 2, "The HTTP contract").
 *
 * Two shapes: one update {"seq":42,"ts_ns":...,"data":"..."} (GET /poll, and the data of
 * each SSE event; {"seq":0} before the first update), and an events reply
 * {"next":M,"events":[update,...]} with "reset":true when a gap was signalled (GET
 * /poll?since=N and /longpoll). Parsing is cJSON's parse-validate-extract with every field
 * type-checked. Precision: cJSON holds numbers as doubles, so ts_ns (about 1.8e18) is read
 * to the nearest 256 ns; latencies are recorded in microseconds, so the error is at most
 * 0.13 us. seq is exact up to 2^53.
 */
#ifndef PUSHPULL_UPDATE_JSON_H
#define PUSHPULL_UPDATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct update {
    uint64_t seq;  /* 1, 2, 3, ...; 0 in the "no update yet" reply */
    int64_t ts_ns; /* the publish stamp, CLOCK_REALTIME ns; 0 with seq 0 */
};

/* Called once per update of an events reply, oldest first. */
typedef void (*update_fn)(void *ctx, const struct update *u);

/* Parse one update object. 0, or -1 when it is not the contract's shape. */
int update_json_parse_one(const char *text, size_t len, struct update *out);
/* Parse an events reply: fn for each update, then *next and *reset. 0, or -1 when it is
 * not the contract's shape (fn may have been called for the updates before the fault). */
int update_json_parse_events(const char *text, size_t len, uint64_t *next, bool *reset,
                             update_fn fn, void *ctx);

#endif
