/* report.h: the run's results as a person reads them and as tools read them, and the
 * verdict on whether the users were served at all.
 *
 * One list of named fields (report_fields) feeds both summary.csv (one header line, one
 * row) and the "results" object of summary.json (report_files.h), so the two can never
 * disagree; the aligned human summary on stdout is drawn from the same numbers. Column
 * names carry their units (latency_p99_ms, req_header_bytes, bytes_per_client_min).
 */
#ifndef PUSHPULL_REPORT_H
#define PUSHPULL_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"

#define REPORT_MAX_FIELDS 192

struct report_field {
    const char *name; /* column name with its unit */
    const char *str;  /* text value, or NULL for a number */
    double num;       /* numeric value */
    int decimals;     /* digits after the point when written */
};

struct report_fields {
    struct report_field f[REPORT_MAX_FIELDS]; /* in column order */
    size_t n;                                 /* fields in use */
};

/* Fill the field list from a finished run. Strings point into res/cfg (borrowed). */
void report_fields(const struct run_results *res, struct report_fields *out);
/* The aligned human summary. */
void report_print_summary(FILE *out, const struct run_results *res);
/* 1 when the application's byte counts equal the kernel's, both directions. */
int report_bytes_match(const struct run_results *res);
/* 1 when the instrument, not the server, may have set the pace in the window (the
 * summary's client_saturated, and its warning line): the busiest event loop worked at
 * least REPORT_SATURATED_BUSY of the window (it was rarely waiting for the server), or
 * user deadlines fired REPORT_SATURATED_LAG_US late or more at the 99th percentile (the
 * loop, or a machine that gave the client no CPU, was behind), or some turn found more
 * sockets ready than one turn takes. */
#define REPORT_SATURATED_BUSY   0.50
#define REPORT_SATURATED_LAG_US 10000
int report_client_saturated(const struct run_results *res);
/* Were the users served? 0 when they were; 1 when they received nothing at all (no
 * update reached any user, and either no response succeeded, or errors or anomalies were
 * counted, or the server stopped every user), with one line saying why in line (no
 * newline). A quiet feed that published nothing, answered without fault, is served. */
int report_verdict(const struct run_results *res, char *line, size_t len);

#endif
