/* models.h: what theory predicts for each approach, to print beside what was measured.
 *
 * The formulas are those of docs/MODELS.md, each implemented in its approach's own file
 * (lab/approach_short.c, approach_long.c, approach_sse.c: the row's predict function):
 * short polling (uniform wait within the period; Bozdag, Mesbah and van Deursen 2007;
 * Cho and Garcia-Molina 2000 for staleness), long polling (RFC 6202 section 2.2: the
 * blind window W = 2d + c between an answer and the next held request), SSE (one
 * network transit; WHATWG HTML 9.2 for the framing) and WebSocket (one transit; RFC 6455
 * section 5.2 for the frames, lab/approach_ws.c). One figure is every approach's alike,
 * here in models.c: a user's message comes back one transit up plus the latency of an
 * update down. Each prediction is a pure function
 * of the workload, so the report can say "measured 512 ms, model 500 ms (+2.4%)" and a
 * test can check the arithmetic at limits where the answer is known.
 *
 * A quantity with no model for the given workload is NAN (the report prints "-").
 */
#ifndef PUSHPULL_MODELS_H
#define PUSHPULL_MODELS_H

#include <stdbool.h>

struct lab_approach;

enum model_process {
    MODEL_PERIODIC, /* one update every 1/rate s */
    MODEL_POISSON,  /* exponential gaps, mean 1/rate */
    MODEL_BURST,    /* burst_size updates at once, every burst_size/rate s */
    MODEL_TRACE     /* recorded times: no closed form */
};

/* The workload, in seconds and hertz. */
struct model_input {
    const struct lab_approach *approach; /* whose model: its row of the approach table */
    unsigned choice; /* the approach's choice (short polling: 0 state, 1 events) */
    enum model_process process;
    double rate_hz;      /* lambda: mean updates per second */
    double burst_size;   /* updates per burst (process burst) */
    double delay_s;      /* d: one-way network delay */
    double client_gap_s; /* c: the client's turnaround before asking again (long poll) */
    double interval_s;   /* T: short polling period */
    double timeout_s;    /* tau: long-poll hold time */
    double heartbeat_s;  /* SSE heartbeat interval, 0 = off */
    double json_bytes;   /* one update's JSON text (SSE bytes per event) */
    double seq_digits;   /* digits of a typical seq (SSE "id: N") */
    double send_bytes;   /* a message a user sends up; 0 = the users send none */
};

struct model_prediction {
    double latency_mean_ms;         /* of updates received */
    double latency_max_ms;          /* worst case */
    double requests_per_client_min; /* requests each client sends per minute */
    double empty_share;             /* responses that brought nothing new */
    double missed_share;            /* updates never received */
    double staleness_mean_ms;       /* time-averaged age of the client's view (polling:
                                       d omitted except periodic T <= P; push:
                                       arrivals x d^2 / 2) */
    double bytes_per_event;         /* push: one update's text plus its framing */
    double bytes_per_heartbeat;     /* push: one heartbeat, both ways (a ping and pong) */
    double msg_wire_bytes;          /* one message up, framing included, where the
                                       approach alone decides it (not an HTTP head) */
    double msg_rtt_mean_ms;         /* a message's round trip: due until its echo */
};

/* A push approach's staleness: behind only while an arrival is in flight, age 0..d over
 * d per arrival, so (arrivals per second) x d^2 / 2, in ms; a burst is one arrival. */
double model_push_staleness_ms(const struct model_input *in);
/* Fill *out for *in with in->approach's model; unknown quantities are NAN. */
void model_predict(const struct model_input *in, struct model_prediction *out);
/* Relative deviation of measured from model in percent; NAN when either is NAN or the
 * model is 0 and the measurement is not. */
double model_deviation_pct(double measured, double model);

#endif
