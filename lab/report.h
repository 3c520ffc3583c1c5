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
    double clients, duration_s;
    double bytes_min, req_min, empty, missed, lat_mean, lat_p99, stale, published, received;
    double window_updates; /* updates published in the window (each client expects them) */
};

/* Append printf-style text to buf[len], truncating. */
void report_appendf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Every byte of the window (all clients) over the updates they received; NAN if none. */
double report_bytes_per_update(const struct lab_row *r);
/* Whether any row's server was crashed and restarted. */
bool report_any_restart(const struct lab_row *rows, size_t n);

/* report_faults.c: the sections that appear when something went wrong on purpose. */
/* Reconnects and late arrivals, when the link injected faults or users reconnected. */
int report_faults(struct dynbuf *b, const struct lab_row *rows, size_t n, const char *dir);
/* The restart, when a server was crashed and restarted. */
int report_restarts(struct dynbuf *b, const struct lab_row *rows, size_t n,
                    const char *dir);
/* Where measurement and model disagree by more than 25%, with the likely causes. */
int report_disagreements(struct dynbuf *b, const struct lab_row *rows, size_t n);

#endif
