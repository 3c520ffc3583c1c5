/* approach.h: the approach seam on the lab's side. Everything the lab knows about one
 * approach (short polling, long polling, Server-Sent Events) is one row of one table: a
 * struct lab_approach defined in that approach's own file (approach_short.c,
 * approach_long.c, approach_sse.c) and listed once in approach.c. The scenario loader,
 * the conductor, the merge, the report and the plots ask the row; none of them names an
 * approach. Adding one (WebSocket, say) is a new approach_X.c plus a line in approach.c's
 * table and one declaration below.
 *
 * What a row holds, in the order the lab meets it:
 *   - the scenario: the name a scenario's "kind" uses (also the client's --approach and
 *     the first word of every run id), its numeric settings (each a struct field_spec the
 *     loader checks and sweeps) and at most one enumerated "choice" named in every run id
 *     (short polling's poll mode);
 *   - the programs: the flags its settings become for the server and the client, and how
 *     long the client drains after the window;
 *   - the merge: the row of the server's /stats that counts its requests, and how its
 *     bytes split into payload and framing;
 *   - the models: the inputs it takes from a run and its formulas (docs/MODELS.md), and
 *     the line naming their sources;
 *   - the report: its title, the columns of its table, its setting in words, its finding
 *     sentences and any section of its own, whether it is the baseline others are
 *     compared with or is compared with it, its model of an outage after a restart, and
 *     its part of the faults' story (how it reconnects, what a crash costs it, what a
 *     buffering proxy does to it);
 *   - the phone's radio: the shape of one user's traffic (lab/traffic.h), for the energy
 *     figures when the client recorded no timeline, and the setting that sets its period;
 *   - the decision record: what a corporate proxy does to it;
 *   - the plots: its style (series, title, colour, point type, whether a sweep draws a
 *     line, labels), and which of its runs stands for it where there is room for one.
 */
#ifndef PUSHPULL_LAB_APPROACH_H
#define PUSHPULL_LAB_APPROACH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "fields.h"
#include "models.h"
#include "report.h"
#include "runargs.h"
#include "traffic.h"

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

/* How a run is drawn (merge.c writes it into summary.csv; the plot scripts read it). */
struct lab_style {
    char series[48];       /* the runs drawn as one set: "short-state", "long" */
    char series_title[64]; /* its key entry: "short polling", "SSE" */
    char color[16];        /* "#E69F00" */
    int point_type;        /* gnuplot's pt, a filled one; its hollow twin is one less */
    double point_size;     /* gnuplot's ps */
    bool lines;            /* a sweep of it is drawn as a line through its runs */
    char label[48];        /* a category axis' first line: "short", "long poll" */
    char label_detail[96]; /* its second line: "250 ms" (the lab adds other sweeps) */
    char point_label[96];  /* beside its point in the trade-off: "250 ms", or "" (the lab
                              adds every swept value it lacks) */
};

struct lab_approach {
    const char *name;                  /* "short": kind, --approach, first word of ids */
    const char *title;                 /* "Short polling": report section, plot panel */
    const struct field_spec *settings; /* its numeric settings, in run-id order */
    size_t n_settings;                 /* entries in settings (<= LAB_MAX_SETTINGS) */
    const struct lab_choice *choice;   /* its enumerated setting, or NULL */

    /* ---- the programs ---- */
    /* Append the server's flags for this approach's settings in run r (may be NULL:
     * none). 0 or -1 (runargs's failure). */
    int (*server_args)(const struct scenario_run *r, struct runargs *out);
    /* The same for the client, after its --approach (may be NULL). */
    int (*client_args)(const struct scenario_run *r, struct runargs *out);
    /* Seconds the client keeps running after the window to collect what is in flight
     * (its --drain default); NULL: 1 s. */
    double (*drain_s)(const struct scenario_run *r);
    /* How long its users need before the window so that the window sees them settled
     * (short polling: one interval, so every user's first poll falls before the window);
     * the default warm-up covers it, and a shorter one is warned about. set: its numeric
     * settings, in row order. NULL: nothing beyond the default. */
    double (*settle_s)(const double *set);

    /* ---- the merge ---- */
    const char *server_transport; /* its row in /stats "transports": "poll", "events" */
    /* Its window's bytes that carried updates, and those that framed them (chunks, its
     * own fields, heartbeats), from the client's results. */
    void (*bytes_split)(const cJSON *results, double *payload, double *framing);
    /* The shares of its window's downstream bytes and of its requests that follow the
     * number of updates (the rest follows the clock: polls, timeouts, heartbeats), for
     * how sure its cost per user is (lab/capacity.h). NULL: all of both. */
    void (*update_shares)(const cJSON *results, double *bytes, double *requests);

    /* ---- the models ---- */
    /* Its own inputs from a run (the scenario's, the network's are filled already). */
    void (*model_inputs)(const struct lab_row *r, struct model_input *in);
    /* Its formulas: fill what they predict (the rest stays NAN). */
    void (*predict)(const struct model_input *in, struct model_prediction *out);
    const char *model_source; /* one line for the report: the model and its sources */

    /* ---- the report ---- */
    const enum report_column *columns; /* its table's columns; NULL: all, in order */
    size_t n_columns;                  /* entries in columns */
    /* Its setting in a table cell: "every 250 ms, If-None-Match". */
    void (*setting_text)(const struct lab_row *r, char *buf, size_t len);
    /* How a sentence names a run: "short polling every 1000 ms", "SSE". */
    void (*describe)(const struct lab_row *r, char *buf, size_t len);
    bool baseline; /* its run nearest the classic refresh is what others compare with */
    bool compared; /* the findings hold its first run against the baseline's bytes */
    /* Its own findings, sentences about its runs (may be NULL). */
    int (*findings)(struct dynbuf *b, const struct lab_row *rows, size_t n);
    /* A paragraph of its own after the tables (may be NULL). */
    int (*details)(struct dynbuf *b, const struct lab_row *rows, size_t n);
    /* The mean outage of its users when the server is down for down_ms (the restart
     * experiment), or NAN; and that model in words, and what a crash costs it. */
    double (*outage_model_ms)(const struct lab_row *r, double down_ms);
    const char *outage_model_text; /* "short polling max(D, T), T its interval (...)" */
    const char *restart_lesson;    /* one or two sentences for "What to read" */
    const char *reconnect_text;    /* how it comes back after a reset or a cut */
    const char *buffering_text;    /* what a buffering middlebox does to it */

    /* ---- the phone's radio ---- */
    /* One user's traffic from 0 to end_s (seconds on the full scenario's clock), burst by
     * burst into sim in time order (lab/traffic.h): the estimate behind the energy
     * figures when the client recorded no traffic.csv. NULL: none. */
    void (*traffic)(const struct traffic_input *in, struct radio_sim *sim, struct rng *rng,
                    double end_s);
    const char *period_key;   /* the setting that sets its traffic's period, or NULL */
    double period_unit_s;     /* seconds per unit of it (interval_ms: 0.001) */
    const char *period_title; /* that setting in words: "poll interval" */

    /* ---- the decision record ---- */
    const char *proxy_text; /* what a corporate proxy or load balancer does to it */

    /* ---- the plots ---- */
    /* How a run is drawn, from its run.json "settings" and "swept" (the lab then adds
     * the swept fields that are not this approach's to label_detail). */
    void (*style)(const cJSON *settings, const cJSON *swept, struct lab_style *out);
    /* How well a run stands for its approach where a plot has room for one run per
     * approach: the lowest rank is drawn (ties: the first). NULL: every run ranks the
     * same. */
    double (*plot_rank)(const cJSON *settings);
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
/* a's numeric settings from a run.json "settings" object into set[] (row order; a
 * missing one is NAN). */
void lab_approach_settings_of(const struct lab_approach *a, const cJSON *settings,
                              double *set);
/* Append "key=value" to s->label_detail ("; " after what is there) for each of a's
 * settings that swept (run.json's "swept") names: what tells apart the runs of a sweep
 * of its own settings. */
void lab_style_add_swept(const struct lab_approach *a, const cJSON *swept,
                         struct lab_style *s);

#endif
