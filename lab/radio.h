/* radio.h: what a phone's cellular radio spends on a user's traffic: wake-ups, time out
 * of idle, and energy, under a published radio model (LTE or 3G).
 *
 * A cellular radio is idle (paging now and then, little power) until a byte has to go
 * up or come down. It then promotes to its high-power state, which takes a while at a
 * power of its own; transfers; and stays high for a tail after the last byte, in case
 * more comes, before it drops back (3G drops through a second, lower tail first). A
 * burst that arrives during the tail rides it: no new promotion, and the tail starts
 * again after it. So what costs a phone is not bytes but how often the radio wakes and
 * how much tail each wake-up drags behind it: one poll every 10 s keeps an LTE radio
 * (tail 11.6 s) awake all the time, one every 60 s lets it sleep four fifths of it.
 *
 * The model (docs/MODELS.md, "Mobile radio energy"):
 *   - LTE: Huang, Qian, Gerber, Mao, Sen and Spatscheck, "A Close Examination of
 *     Performance and Power Characteristics of 4G LTE Networks", MobiSys 2012, the
 *     power model of its Table 3: promotion 260.1 ms at 1210.7 mW, RRC_CONNECTED tail
 *     11,576 ms at 1060 mW, transfer power beta + alpha_u * Mbps_up + alpha_d * Mbps_down
 *     (beta 1288.04 mW, alpha_u 438.39, alpha_d 51.97 mW/Mbps), idle DRX 594.3 mW for
 *     43.2 ms every 1280.2 ms (20.05 mW on average); link rates the paper's medians,
 *     13 Mbit/s down and 6 Mbit/s up (its abstract);
 *   - 3G: the two tails of UMTS (DCH, then FACH) with the values of AT&T's ARO /
 *     Video Optimizer profile of a measured handset (i997.conf: DCH->FACH 4 s, FACH->IDLE
 *     10 s, IDLE->DCH promotion 2 s at 0.65 W, FACH->DCH 1.5 s at 0.80 W, DCH 1.30 W,
 *     FACH 0.30 W, idle 0), a total tail of 14 s where Balasubramanian et al., "Energy
 *     Consumption in Mobile Phones", IMC 2009, report about 12.5 s.
 * Which of these values were checked against which source is in docs/MODELS.md.
 *
 * Simplifications: a burst's transfer lasts its bytes at the link rate (an exchange's
 * round trip is not added: under 1% of a tail); up and down of one burst are sent one
 * after the other; LTE's DRX inside the tail is its average power; the phone's own
 * baseline (screen, CPU) is not the radio's and is left out.
 */
#ifndef PUSHPULL_LAB_RADIO_H
#define PUSHPULL_LAB_RADIO_H

#include <stdbool.h>
#include <stddef.h>

enum radio_model { RADIO_LTE, RADIO_3G };

/* A radio model's parameters, in seconds, watts and Mbit/s. */
struct radio_params {
    enum radio_model model;
    double promotion_s, promotion_w;     /* idle to high power */
    double tail_s, tail_w;               /* high power after the last byte */
    double tail2_s, tail2_w;             /* a second, lower tail (3G FACH); 0 s: none */
    double repromotion_s, repromotion_w; /* from the second tail to high (FACH->DCH) */
    double beta_w;                       /* transfer power with no throughput */
    double alpha_up_w, alpha_down_w;     /* transfer power per Mbit/s, each direction */
    double up_mbps, down_mbps;           /* the link's rate while transferring */
    double idle_w;                       /* the average power in idle (paging, DRX) */
    double battery_wh;                   /* the phone's battery, for "% per day" */
};

/* The published defaults of model m (the values above). */
void radio_defaults(enum radio_model m, struct radio_params *p);
/* "lte" or "3g". */
const char *radio_model_name(enum radio_model m);

/* What one user's radio did over a stretch of time. */
struct radio_result {
    double duration_s; /* the stretch */
    double promotions; /* wake-ups: promotions from idle and from the second tail */
    double high_s;     /* time out of idle: promotions, transfers and tails */
    double energy_j;   /* all the radio's energy, idle included */
    double idle_j;     /* what idle alone would have cost over the stretch */
};

/* One user's radio, fed the user's bursts in time order. */
struct radio_sim {
    struct radio_params p;
    double t0;        /* where the stretch began */
    double acc;       /* energy and time are accounted up to here */
    double busy_end;  /* the current transfer ends (promotion included) */
    double tail_end;  /* the high tail ends */
    double tail2_end; /* the second tail ends; after it, idle */
    struct radio_result r;
};

/* Start a radio that is idle at time t0 (seconds). */
void radio_sim_init(struct radio_sim *s, const struct radio_params *p, double t0);
/* A burst of traffic at time t (not before the previous burst's t): bytes up and down. */
void radio_sim_burst(struct radio_sim *s, double t, double bytes_up, double bytes_down);
/* Account everything up to t and return the totals since t0 (the stretch ends at t;
 * a tail running past t is cut there). The sim may be fed further bursts after it. */
struct radio_result radio_sim_at(struct radio_sim *s, double t);
/* Per hour: the result's counts and energies scaled to 3600 s. */
struct radio_result radio_per_hour(struct radio_result r);
/* The radio's energy attributable to the traffic, per hour: energy minus idle. */
double radio_traffic_j_per_hour(struct radio_result r);

/* traffic.csv, the per-user activity timeline the client records (docs/MODELS.md):
 * a header "user,t_ms,bytes_up,bytes_down", then one row per burst of a user's traffic,
 * t_ms from the measurement window's start (negative in the warm-up). Every user's
 * bursts are fed to their own radio, times scaled by `time_scale` (the quick version's
 * compression: its clock ran that many times faster), and the results over the window
 * [0, window_s * time_scale] summed: *users is the number of users seen. 0, or -1 with
 * err naming the file and line. */
int radio_read_traffic(const char *path, const struct radio_params *p, double window_s,
                       double time_scale, struct radio_result *sum, double *users,
                       char *err, size_t errlen);

#endif
