/* report.h: the report's view of one run, shared by the report's files (report.c,
 * report_faults.c) and the approaches' (approach_*.c), which write their own sentences,
 * cells and model inputs from it.
 *
 * A row is filled from one run of summary.json: its run.json (the parameters, as data),
 * the client's results and meta, the server's /stats, the link's document and the
 * restart record when there were any, and the model's prediction for it.
 */
#ifndef PUSHPULL_LAB_REPORT_H
#define PUSHPULL_LAB_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "interval.h"
#include "models.h"

struct lab_approach;

/* The columns of the report's per-approach tables; an approach lists those it shows. */
enum report_column {
    REPORT_REQUESTS, /* requests per client per minute */
    REPORT_EMPTY,    /* share of answers that brought nothing */
    REPORT_MISSED,   /* share of updates never received */
    REPORT_LATENCY,  /* mean latency */
    REPORT_P99,      /* p99 latency, beside the model's worst case */
    REPORT_STALE,    /* time-averaged staleness */
    REPORT_BYTES,    /* bytes per client per minute */
    REPORT_COLUMNS
};

/* Why a measured value may stand apart from its model (report_cells.c). */
enum report_cause {
    CAUSE_NONE,         /* agrees, or the model has nothing to say */
    CAUSE_FEW_SAMPLES,  /* fewer than INTERVAL_MIN_UPDATES updates in the window */
    CAUSE_WARMUP,       /* a warm-up shorter than the run's poll interval */
    CAUSE_CLIENT_BUSY,  /* the client used most of its one core */
    CAUSE_MACHINE_BUSY, /* client and server together used most of the machine */
    CAUSE_BURSTS,       /* the model takes a burst as one arrival; the server does not */
    CAUSE_FAULTS,       /* a restart, resets, cuts, a buffer or a rate cap on the path */
    CAUSE_UNKNOWN       /* none of the checks above explains it */
};

/* One cell of a per-approach table, judged against its model. */
struct report_judgement {
    double measured, model;  /* NAN when unknown */
    struct interval iv;      /* the measured value's 95% interval, or NANs */
    bool model_near_zero;    /* below what the column can tell from 0: no deviation */
    double deviation_pct;    /* NAN when not printed */
    bool disagrees;          /* outside its interval and beyond the column's tolerance */
    enum report_cause cause; /* the likeliest reason when it disagrees */
};

struct lab_row {
    const cJSON *run;                    /* summary.json's runs[i] */
    const cJSON *record;                 /* its run.json ("run") */
    const cJSON *settings;               /* run.json's "settings" */
    const cJSON *res, *meta;             /* the client's results and meta */
    const cJSON *srv, *cfg;              /* the server's /stats and its "config" */
    const cJSON *link;                   /* the link's --stats document, or NULL */
    const cJSON *link_cfg;               /* its settings ("config"), or NULL */
    const cJSON *restart;                /* the crash and restart record, or NULL */
    const struct lab_approach *approach; /* the run's row of the approach table */
    unsigned choice;                     /* the approach's choice, as an index */
    const char *id;                      /* the run id (a name, never parsed) */
    double delay_ms;                     /* d: the link's one-way delay, or 0 */
    struct model_prediction m;           /* the model, at this run's workload */
    struct model_prediction m_full;      /* and on the full scenario's clock (quick runs'
                                            times scaled back by their compression) */
    double clients, duration_s;
    double bytes_min, req_min, empty, missed, lat_mean, lat_p99, stale, published, received;
    double window_updates; /* updates published in the window (each client expects them) */
    double n_eff;          /* the effective sample: min(users, window updates) */
    double lat_sd;         /* the spread of single receipts (latency.csv), ms, or NAN */
    bool quick;            /* the quick version */
    double compression;    /* how much faster its clock ran (1 without --quick) */
    double warmup_s;       /* its warm-up */
    double settle_s;       /* what its approach needs before the window (one interval) */
    const cJSON *cap;      /* its capacity figures (lab/capacity.h), or NULL */
};

/* Append printf-style text to buf[len], truncating. */
void report_appendf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Every byte of the window (all clients) over the updates they received; NAN if none. */
double report_bytes_per_update(const struct lab_row *r);
/* Whether any row's server was crashed and restarted. */
bool report_any_restart(const struct lab_row *rows, size_t n);

/* Whether r's figures rest on too few updates for a finding (INTERVAL_MIN_UPDATES). */
bool report_few_samples(const struct lab_row *r);
/* How a sentence names r's path: "on loopback" or "across a 50 ms one-way delay". */
void report_path_text(const struct lab_row *r, char *buf, size_t len);
/* "- <what>: too few samples (N updates in the window; a finding needs 30).\n" */
int report_too_few(struct dynbuf *b, const struct lab_row *r, const char *what);

/* report_cells.c: the per-approach tables' columns. */
/* The column's header ("latency mean ms"). */
const char *report_column_header(enum report_column c);
/* Column c of row r, measured beside its model, judged (see struct report_judgement). */
void report_judge(const struct lab_row *r, enum report_column c,
                  struct report_judgement *j);
/* The cell text of column c for row r ("92.5 ±4.1 (100, -8%)"). */
int report_cell(struct dynbuf *b, const struct lab_row *r, enum report_column c);
/* The cause in words, for the list of disagreements. */
void report_cause_text(const struct lab_row *r, enum report_cause cause, char *buf,
                       size_t len);

/* report_findings.c: "## Findings" (the comparisons, each approach's own sentences, the
 * connections held, the byte accounting). 0, or non-zero when out of memory. */
int report_findings(struct dynbuf *b, const struct lab_row *rows, size_t n);

/* report_capacity.c: at the target population, the phone's radio, the decision record. */
int report_capacity(struct dynbuf *b, const struct lab_row *rows, size_t n);
int report_radio(struct dynbuf *b, const struct lab_row *rows, size_t n);
int report_decision_record(struct dynbuf *b, const cJSON *scenario,
                           const struct lab_row *rows, size_t n, const char *models_link);

/* report_upstream.c: the messages users sent up, when any run's users sent some. */
int report_upstream(struct dynbuf *b, const struct lab_row *rows, size_t n);

/* report_scale.c: one line per scaled run in the Setup: its instances, partitions,
 * balancer and each instance's share of the users. */
int report_scale(struct dynbuf *b, const struct lab_row *rows, size_t n);

/* report_faults.c: the sections that appear when something went wrong on purpose. */
/* Reconnects and late arrivals, when the link injected faults or users reconnected. */
int report_faults(struct dynbuf *b, const struct lab_row *rows, size_t n, const char *dir);
/* The restart, when a server was crashed and restarted. */
int report_restarts(struct dynbuf *b, const struct lab_row *rows, size_t n,
                    const char *dir);
/* Where measurement and model disagree by more than 25%, with the likely causes. */
int report_disagreements(struct dynbuf *b, const struct lab_row *rows, size_t n);

#endif
