/* traffic.h: one user's traffic over time as the radio model needs it, estimated from
 * what a run measured when the client recorded no timeline (traffic.csv) of its own.
 *
 * Each approach's row of the table (lab/approach.h) knows the shape of its traffic and
 * feeds it, burst by burst, to a radio (lab/radio.h): short polling an exchange every
 * interval; long polling an answer and the next request at each update, or at each
 * timeout when none came; SSE an event per update and a comment after a heartbeat of
 * silence. What they share is here: the input, taken from a run (its settings and the
 * bytes it measured per request, per answer and per event, all on the full scenario's
 * clock), and the update arrivals of the run's process.
 *
 * It is an estimate: real users' timelines also carry retransmissions, TCP ACKs of their
 * own, DNS, TLS and whatever else the phone does; the report says so beside every figure
 * computed from it.
 */
#ifndef PUSHPULL_LAB_TRAFFIC_H
#define PUSHPULL_LAB_TRAFFIC_H

#include <cjson/cJSON.h>

#include "radio.h"
#include "rng.h"

enum traffic_process { TRAFFIC_PERIODIC, TRAFFIC_POISSON, TRAFFIC_BURST };

/* What an approach's traffic depends on, on the full scenario's clock (a quick run's
 * times multiplied by its compression, its rates divided by it). */
struct traffic_input {
    enum traffic_process process; /* how updates arrive (a trace is taken as Poisson) */
    double rate_hz;               /* updates per second */
    double burst_size;            /* updates per arrival (burst), else 1 */
    double period_s;              /* the approach's period: its poll interval, long-poll
                                     timeout or heartbeat (0: none) */
    double request_bytes;         /* one request, headers included */
    double answer_bytes;          /* one answer: headers, body, framing */
    double event_bytes;           /* one pushed event or comment, framing included */
};

/* The input of a run: summary.json's runs[i] (its run.json, results and settings), the
 * approach's period setting named `period_key` with `period_unit_s` seconds per unit
 * (NULL: none). NANs where the run lacks a figure. */
void traffic_input_of(const cJSON *run, const char *period_key, double period_unit_s,
                      struct traffic_input *in);
/* The first update arrival after t (one per burst), drawn with rng for Poisson. */
double traffic_next_arrival(const struct traffic_input *in, struct rng *rng, double t);
/* hours of one user's estimated traffic through the radio of p: the approach's traffic
 * function fed from a random phase with a fixed seed, so the estimate is repeatable.
 * Its per-hour result. */
struct radio_result traffic_estimate(void (*feed)(const struct traffic_input *,
                                                  struct radio_sim *, struct rng *, double),
                                     const struct traffic_input *in,
                                     const struct radio_params *p, double hours,
                                     uint64_t seed);

#endif
