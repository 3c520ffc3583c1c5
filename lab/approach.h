/* approach.h: the approach seam on the lab's side. Everything the lab knows about one
 * approach (short polling, long polling, Server-Sent Events) is one row of one table: a
 * struct lab_approach defined in that approach's own file (approach_short.c,
 * approach_long.c, approach_sse.c) and listed once in approach.c. The scenario loader,
 * the conductor, the merge, the report and the plots ask the row; none of them names an
 * approach. Adding one (WebSocket, say) is a new approach_X.c plus a line in approach.c's
 * table and one declaration below.
 *
 * What a row holds: the name a scenario's "kind" uses (also the client's --approach and
 * the first word of every run id) and the settings it may have (numeric ones, each a
 * struct field_spec that the loader checks and sweeps; at most one enumerated "choice",
 * named in every run id, such as short polling's poll mode); the flags its settings
 * become for the server and the client; how long the client drains after the window;
 * which of its runs a one-run-per-approach plot draws.
 */
#ifndef PUSHPULL_LAB_APPROACH_H
#define PUSHPULL_LAB_APPROACH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "fields.h"
#include "runargs.h"

#define LAB_MAX_SETTINGS   4 /* numeric settings of one approach */
#define LAB_MAX_APPROACHES 8 /* rows of the table */

struct scenario_run;

/* An enumerated setting: one of a few words, part of every run id ("short-state"). */
struct lab_choice {
    const char *key;           /* its JSON key: "poll" */
    const char *const *values; /* the words, the default first */
    size_t n_values;           /* entries in values */
    const char *expect;        /* the message's "expected ...": "\"state\" or \"events\"" */
};

struct lab_approach {
    const char *name;                  /* "short": kind, --approach, first word of ids */
    const struct field_spec *settings; /* its numeric settings, in run-id order */
    size_t n_settings;                 /* entries in settings (<= LAB_MAX_SETTINGS) */
    const struct lab_choice *choice;   /* its enumerated setting, or NULL */
    /* Append the server's flags for this approach's settings in run r (may be NULL:
     * none). 0 or -1 (runargs's failure). */
    int (*server_args)(const struct scenario_run *r, struct runargs *out);
    /* The same for the client, after its --approach (may be NULL). */
    int (*client_args)(const struct scenario_run *r, struct runargs *out);
    /* Seconds the client keeps running after the window to collect what is in flight
     * (its --drain default); NULL: 1 s. */
    double (*drain_s)(const struct scenario_run *r);
    /* How well a run (its client's "results") stands for its approach where a plot has
     * room for one run per approach: the lowest rank is drawn (ties: the first). NULL:
     * every run ranks the same. */
    double (*plot_rank)(const cJSON *results);
};

/* The rows, each defined in its own file. */
extern const struct lab_approach lab_approach_short;
extern const struct lab_approach lab_approach_long;
extern const struct lab_approach lab_approach_sse;

/* The table, in the order messages and reports list the approaches. */
size_t lab_approach_count(void);
const struct lab_approach *lab_approach_at(size_t i);
/* The row whose name is name, or NULL. */
const struct lab_approach *lab_approach_find(const char *name);
/* The index of a row in the table. */
size_t lab_approach_index(const struct lab_approach *a);

#endif
