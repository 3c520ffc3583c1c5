/* capacity.h: what each run would cost at the scale a decision is about: per user on the
 * full scenario's clock, and at the scenario's target population (run.json's "target"):
 * bandwidth a month both ways, requests a second, connections held, server CPU cores
 * and memory, egress cost, and what a phone's radio spends on it (lab/radio.h).
 *
 * Computed once, at the merge, from each run's own records, and kept as data: every run
 * of summary.json gets a "capacity" object, and summary.csv the same figures as columns
 * (capacity_column_names), beside the inputs they come from, so each can be worked out
 * again by hand from that one row (docs/MODELS.md, "At the target population", has the
 * arithmetic). The report and the plots read them; neither computes a cost itself.
 *
 * Bases:
 *   - bytes and requests: the client's window counts (HTTP bytes, checked against the
 *     kernel's; TCP/IP and TLS overhead not included), per user and second, divided by
 *     the quick version's time compression (its clock ran that much faster);
 *   - connections held: the server's open connections at the window's start, less those
 *     before the client started (the /stats request's own) and the client's observer;
 *   - CPU: the server's CPU seconds between the window's start and the client's end
 *     (window and drain), over user-hours of that span;
 *   - memory: the server's resident memory at the window's start less before the client
 *     started, over the connections opened in between (4 KiB pages: +-8 KiB over them);
 *   - radio: runs/<id>/traffic.csv when the client wrote it, else the approach's
 *     estimate from the run's rates (lab/traffic.h).
 * Scaling to the target is linear in users; with a `clients` sweep the report says when
 * the per-user cost still changes with N (the measured N too small to scale from).
 */
#ifndef PUSHPULL_LAB_CAPACITY_H
#define PUSHPULL_LAB_CAPACITY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define CAPACITY_MONTH_S         (30 * 86400.0) /* a month, for bandwidth and cost */
#define CAPACITY_GB              1e9            /* egress is priced per 10^9 bytes */
#define CAPACITY_SCALE_TOLERANCE 0.25 /* per-user cost apart by more across N: changing */
#define CAPACITY_RADIO_HOURS     10   /* hours of estimated traffic per figure */

/* The columns summary.csv gets from each run's "capacity", in order. */
extern const char *const capacity_column_names[];
extern const size_t capacity_column_count;

/* Give every run of summary.json's runs (merged: "run", "results", "server", and the
 * optional "server_idle", "server_window") its "capacity" object; dir is the results
 * directory (for runs/<id>/traffic.csv). 0, or -1 with err. */
int capacity_add(cJSON *runs, const char *dir, char *err, size_t errlen);
/* dir/capacity.csv (each run's monthly cost, cores and memory from 100 users to 10
 * million) and dir/radio.csv (each approach's radio energy per user-hour against its
 * period, from 1 s to 10 minutes), for the plots. 0, or -1 with err. */
int capacity_write_curves(const cJSON *runs, const char *dir, char *err, size_t errlen);

#endif
