/* scenario_impl.h: what the scenario loader's two halves share: the scenario as read
 * (scenario_read.c fills it), before it is expanded into runs (scenario_expand.c). Not
 * for other files: they see struct scenario through scenario.h's functions only.
 */
#ifndef PUSHPULL_LAB_SCENARIO_IMPL_H
#define PUSHPULL_LAB_SCENARIO_IMPL_H

#include <cjson/cJSON.h>

#include "fields.h"
#include "scenario.h"

#define SCENARIO_MAX_APPROACHES 16 /* entries of a file's "approaches" */

/* The scenario's own numeric fields (an approach's settings are its row's). */
enum field {
    F_DURATION,
    F_WARMUP,
    F_SEED,
    F_CLIENTS,
    F_RATE,
    F_BURST,
    F_PAYLOAD,
    F_COOKIE,
    F_DELAY,
    F_JITTER,
    F_RATE_KBIT,
    F_DROP,
    F_IDLE,
    F_BUFFER,
    F_AT,
    F_DOWN,
    F_FEED,
    F_PROTOCOL,
    F_UPC,
    F_SEND_RATE,
    F_SEND_BYTES,
    F_COUNT
};

#define N_NETWORK             6   /* entries in scenario_network_ids */
#define SCENARIO_WARMUP_MIN_S 2.0 /* the default warm-up's floor */
#define N_RESTART             3   /* entries in scenario_restart_ids */
#define FEED_FILE             1   /* scenario_feed_names index of the durable feed */
#define N_MESSAGES            2   /* entries in scenario_message_ids */

/* The specs of enum field, in scenario_read.c. restart.feed's entry is not a number: its
 * values are indices into scenario_feed_names. */
extern const struct field_spec scenario_specs[F_COUNT];
extern const enum field scenario_network_ids[N_NETWORK];  /* schema (and run-id) order */
extern const enum field scenario_restart_ids[N_RESTART];  /* at_s, down_s, feed */
extern const char *const scenario_feed_names[2];          /* "memory", "file" */
extern const enum field scenario_message_ids[N_MESSAGES]; /* send_rate_hz, send_bytes */
extern const char *const scenario_send_modes[2];          /* "poisson", "periodic" */

/* One entry of "approaches". */
struct scenario_approach {
    const struct lab_approach *approach; /* its row of the approach table */
    unsigned choice;                     /* the value of approach->choice, or 0 */
    struct sweep set[LAB_MAX_SETTINGS];  /* approach->settings' values */
};

struct scenario {
    char *name;                    /* [a-z0-9-]+ (owned) */
    char *description;             /* (owned) */
    double duration_s;             /* measurement window */
    double full_duration_s;        /* the file's, before a quick override */
    double warmup_s;               /* before the window */
    bool warmup_given;             /* written in the file (or its quick overrides) */
    uint64_t seed;                 /* server generator and client */
    struct sweep clients;          /* users per run */
    enum scenario_process process; /* arrival process */
    struct sweep rate_hz;          /* n == 0 with the trace process */
    double full_rate_hz;           /* the file's first rate, before a quick override */
    uint32_t burst_size;           /* 0 unless burst */
    uint64_t payload_bytes;        /* bytes per generated update */
    char *trace;                   /* resolved CSV path or NULL (owned) */
    char *headers;                 /* "minimal", "browser" or resolved path (owned) */
    uint32_t cookie_bytes;         /* Cookie value bytes */
    struct sweep protocol;         /* scenario_protocol_names indices */
    struct sweep upc;              /* users_per_connection */
    struct scenario_approach approaches[SCENARIO_MAX_APPROACHES]; /* in file order */
    size_t n_approaches;                                          /* entries used */
    struct sweep network[N_NETWORK];   /* values of scenario_network_ids, in order */
    bool handshake;                    /* network.handshake */
    bool restart_on;                   /* the file has a "restart" object */
    struct sweep restart[N_RESTART];   /* values of scenario_restart_ids, in order */
    struct scenario_feed feed;         /* "feed": memory, or through Redis */
    struct scenario_scale scale;       /* instances, partitions, balancer, hosts */
    struct sweep messages[N_MESSAGES]; /* values of scenario_message_ids, in order */
    unsigned send_mode;                /* scenario_send_modes index */
    double target_users;               /* "target": the population to scale to */
    double egress_usd_per_gb;          /* and the price of egress */
    struct radio_params radio;         /* "radio": the phones' radio model */
    char warning[512];                 /* scenario_warning's line, or "" */
    bool quick;                        /* the quick overrides were applied */
    struct sweep quick_field[F_COUNT]; /* "quick" overrides; n == 0 where none */
    /* quick overrides of approach settings, by table row and setting */
    struct sweep quick_set[LAB_MAX_APPROACHES][LAB_MAX_SETTINGS];
    struct scenario_run *runs; /* the expansion (owned) */
    size_t n_runs;             /* entries in runs */
};

/* scenario_approaches.c: the "approaches" list, then the "quick" object (which needs to
 * know the approaches). 0, or -1 with the message in c. */
int scenario_parse_approaches(struct fields_ctx *c, const cJSON *root, struct scenario *s);
int scenario_parse_quick(struct fields_ctx *c, const cJSON *root, struct scenario *s);

/* scenario_capacity.c: "target" (the population and the egress price the capacity
 * figures are scaled to) and "radio" (the phones' radio model). 0, or -1 with the message
 * in c. */
int scenario_parse_target(struct fields_ctx *c, const cJSON *root, struct scenario *s);
int scenario_parse_radio(struct fields_ctx *c, const cJSON *root, struct scenario *s);

/* scenario_feed.c: "feed" (where the feed lives: the server's memory, or a Redis stream
 * the conductor starts Redis for), checked against "restart". 0, or -1 with the message
 * in c. */
int scenario_parse_feed(struct fields_ctx *c, const cJSON *root, struct scenario *s);

/* scenario_scale.c: "instances", "partitions", "balancer" and "hosts" (after "feed",
 * "restart", "network" and "protocol", which it is checked against). 0, or -1 with the
 * message in c. */
int scenario_parse_scale(struct fields_ctx *c, const cJSON *root, struct scenario *s);
/* After the expansion: every run's population must fit the open-file limit of each of
 * its processes (the client partitions, the server instances, the balancer, the link),
 * or the message gives the arithmetic and the way out. 0, or -1 with the message in c. */
int scenario_check_fit(struct fields_ctx *c, const struct scenario *s);

/* scenario_files.c. Read a regular file of at most max bytes into a NUL-terminated buffer
 * (*out, the caller frees; *len its length). On failure -1 with why[] saying what went
 * wrong (the failed call and strerror(errno); the caller names the file). Opens with
 * O_NONBLOCK so a FIFO cannot hang the loader. */
int scenario_read_file(const char *path, size_t max, char **out, size_t *len, char *why,
                       size_t whylen);
/* Resolve the path `value` of field `path` against c->base_dir and check its spelling;
 * the resolved path goes to *out (the caller frees). 0 or -1. */
int scenario_resolve_path(struct fields_ctx *c, const char *path, const char *value,
                          char **out);
/* The trace file `full` (field `path`, written `value`) must be a CSV of publish times
 * the server accepts. 0 or -1. */
int scenario_check_trace(struct fields_ctx *c, const char *path, const char *value,
                         const char *full);
/* The header profile file `full` must be readable and small enough. 0 or -1. */
int scenario_check_profile(struct fields_ctx *c, const char *path, const char *value,
                           const char *full);

/* Apply the quick overrides (when c->flags has SCENARIO_QUICK), check the restart's times
 * against the window they leave, and expand the sweeps into s->runs. 0, or -1 with the
 * message in c. */
int scenario_expand(struct fields_ctx *c, struct scenario *s);

#endif
