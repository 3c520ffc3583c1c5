/* scenario.h: load a scenario file (one workload, JSON) and expand it into the runs to
 * make.
 *
 * A scenario names a workload (clients, how updates arrive, request headers) and the
 * approaches to measure against it. Numeric settings written as a list sweep: the loader
 * expands the cartesian product of every list into one run per combination, in a fixed
 * order, and gives each run a filesystem-safe id. Every field is type- and range-checked
 * before anything runs; the first problem found is reported as one line,
 * "FILE: field.path: expected ..., got ...". scenarios/README.md is the schema.
 *
 * Three files: scenario_read.c reads and validates (the scenario's own fields; each
 * approach's settings are described by its row of the approach table, lab/approach.h),
 * scenario_expand.c applies the quick overrides and expands the sweeps, and runargs.c
 * turns a run into each program's flags. The scenario itself is opaque; a run is a plain
 * record holding every value a run uses, so the conductor and the report need nothing
 * else.
 */
#ifndef PUSHPULL_LAB_SCENARIO_H
#define PUSHPULL_LAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "approach.h"
#include "radio.h"

#define SCENARIO_ID_MAX    192                     /* bytes of a run id, NUL included */
#define SCENARIO_MAX_RUNS  1000                    /* runs one scenario may expand into */
#define SCENARIO_MAX_SWEEP FIELDS_MAX_SWEEP        /* values in one list */
#define SCENARIO_MAX_DIMS  (LAB_MAX_SETTINGS + 15) /* fields one run may sweep */

enum scenario_process {
    SCENARIO_PERIODIC, /* one update every 1/rate_hz s */
    SCENARIO_POISSON,  /* exponential gaps, mean 1/rate_hz s */
    SCENARIO_BURST,    /* burst_size updates every burst_size/rate_hz s */
    SCENARIO_TRACE     /* publish times read from a CSV file */
};

enum scenario_flags {
    SCENARIO_QUICK = 1 << 0,   /* apply the file's "quick" overrides */
    SCENARIO_NO_FILES = 1 << 1 /* check paths' spelling only, never open them (fuzzing) */
};

/* The link between clients and server: what bin/pushpull-link is told to emulate for a
 * run (runargs_link). Both directions get the same delay, jitter and rate; the rate, the
 * resets and the buffer apply to each connection on its own. */
struct scenario_network {
    bool link;             /* the run goes through the link (the scenario sets something) */
    double delay_ms;       /* one-way delay added to every segment */
    double jitter_ms;      /* each segment's delay varies uniformly by +- this */
    uint64_t rate_kbit;    /* bandwidth limit per connection and direction; 0 = none */
    double drop_every_s;   /* reset each connection this long after it opened; 0 = never */
    double idle_timeout_s; /* a middlebox closing idle connections; 0 = never */
    uint64_t buffer_bytes; /* a buffering proxy's buffer on responses; 0 = none */
    bool handshake;        /* a new connection's first byte waits one round trip */
};

/* The restart experiment: the conductor kills the server mid-run (no goodbye: the kernel
 * closes its connections), keeps it down, then starts it again on the same port. With a
 * durable feed both starts get --feed-file, so the second one reloads the log and
 * sequence numbers continue; the in-memory feed starts again at seq 1. */
struct scenario_restart {
    bool on;       /* the run restarts the server (the scenario has "restart") */
    double at_s;   /* the crash, in seconds from the start of the measurement window */
    double down_s; /* how long the server stays down before it starts again */
    bool durable;  /* feed "file": the log survives the crash; false: "memory" */
};

/* Where the run's feed lives (the scenario's "feed" section, scenario_feed.c): in the
 * server's memory, or in a Redis stream (pushpull-server --redis) on a redis-server the
 * conductor starts for the run (lab/broker.c), with its AOF on when durable. */
struct scenario_feed {
    bool redis;   /* the server gets --redis: the feed through Redis */
    bool durable; /* Redis keeps an append-only file (appendonly yes); redis only */
};

/* Where one process of a run runs (the scenario's "hosts" section, scenario_scale.c):
 * here, in a network namespace the conductor makes for the run (common/netns.h), or on
 * another machine reached over ssh. Processes given the same netns name share it. */
enum scenario_place_kind {
    SCENARIO_LOCAL, /* "local": this machine, on loopback */
    SCENARIO_NETNS, /* "netns:NAME": a namespace of the run's own, labelled NAME */
    SCENARIO_SSH    /* "ssh:USER@HOST": started over ssh, results copied back */
};
#define SCENARIO_PLACE_MAX 300 /* "USER@HOST" or a netns label, NUL included */
struct scenario_place {
    enum scenario_place_kind kind; /* where */
    char name[SCENARIO_PLACE_MAX]; /* the netns label, or "USER@HOST"; "" when local */
};

#define SCENARIO_MAX_INSTANCES 64 /* server processes of one run */
#define SCENARIO_MAX_PARTITIONS                                                            \
    1024 /* client processes of one run (the client's limit)                               \
          */

/* How users reach the instances (the scenario's "balancer"). */
enum scenario_balancer {
    SCENARIO_BALANCER_NONE,   /* each client gets every instance's URL; user u uses u % M */
    SCENARIO_BALANCER_HAPROXY /* every user goes through one HAProxy (lab/balancer.c) */
};

/* The run's processes and where they run: "instances", "partitions", "balancer" and
 * "hosts" (scenario_scale.c). None of them sweeps; every run of a scenario shares one. A
 * run is "scaled" (lab/scale.c runs it instead of the one-server runner) when it has more
 * than one instance or partition, a balancer, or a process anywhere but local. */
struct scenario_scale {
    uint32_t instances;              /* pushpull-server processes, on one Redis feed */
    uint32_t partitions;             /* pushpull-client processes, --partition I/N */
    enum scenario_balancer balancer; /* none, or HAProxy in front of the instances */
    bool scaled;                     /* lab/scale.c runs it */
    bool hosts;                      /* the file has a "hosts" section */
    struct scenario_place instance_at[SCENARIO_MAX_INSTANCES];   /* instance i's place */
    struct scenario_place partition_at[SCENARIO_MAX_PARTITIONS]; /* partition i's place */
    struct scenario_place redis_at;                              /* the run's Redis */
    struct scenario_place balancer_at;                           /* HAProxy */
    struct scenario_place link_at;                               /* the link ("local") */
    char remote_dir[1024];   /* pushpull's checkout on ssh hosts; "" = this one's path */
    uint32_t crash_instance; /* "instance_crash": the instance crashed (2..instances); 0 */
    double crash_at_s;       /* when, in seconds from the window's start */
};
/* "local", "netns:NAME" or "ssh:USER@HOST" into out[cap]. */
void scenario_place_format(const struct scenario_place *p, char *out, size_t cap);

/* How the clients reach the server (the scenario's "protocol"): straight to it, or
 * through the front (lab/front.h), which terminates TLS and HTTP/2 and speaks HTTP/1.1
 * to the server. http1-front is plain HTTP/1.1 through that same front, so the front's
 * own cost is a row of its own and not hidden in the HTTP/2 and TLS figures. */
enum scenario_protocol {
    SCENARIO_HTTP1,       /* HTTP/1.1 to the server, no front (the default) */
    SCENARIO_HTTP1_FRONT, /* HTTP/1.1 through the front */
    SCENARIO_HTTPS1,      /* HTTP/1.1 over TLS, through the front */
    SCENARIO_H2C,         /* HTTP/2 by prior knowledge, through the front */
    SCENARIO_H2,          /* HTTP/2 over TLS (ALPN h2), through the front */
    SCENARIO_N_PROTOCOLS
};
/* "http1", "http1-front", "https1", "h2c", "h2", in enum order */
extern const char *const scenario_protocol_names[SCENARIO_N_PROTOCOLS];
/* The client's --protocol for p ("http1" for both HTTP/1.1 over TCP). */
const char *scenario_client_protocol(enum scenario_protocol p);

/* One field the scenario wrote as a list (or a one-value list), and this run's value: what
 * the run id names, and what tells this run from its neighbours in a plot. */
struct scenario_swept {
    const char *name; /* the field's key: "interval_ms", "feed" (static storage) */
    double value;     /* its value in this run (feed: 0 memory, 1 file) */
    const char *text; /* the value as a word when it is one ("file"), else NULL */
};

/* One run: one server and one client invocation. Strings are owned by the scenario. */
struct scenario_run {
    char id[SCENARIO_ID_MAX]; /* e.g. "short-state-interval_ms=1000-clients=100" */
    size_t approach_index;    /* its entry in the file's "approaches" */
    const struct lab_approach *approach; /* the approach measured: its table row */
    unsigned choice;                     /* approach->choice's value index; 0 if none */
    double set[LAB_MAX_SETTINGS];        /* approach->settings' values, in order */
    uint32_t clients;                    /* simulated users */
    double duration_s;                   /* the measurement window */
    double warmup_s;                     /* run before the window, not counted */
    double warmup_need_s;                /* what its approach needs (one poll interval) */
    uint64_t seed;                       /* for the server's generator and the client */
    enum scenario_process process;       /* how updates arrive */
    double rate_hz;                      /* mean updates per second; 0 with a trace */
    uint32_t burst_size;                 /* updates per burst; 0 unless process is burst */
    uint64_t payload_bytes;              /* bytes of data per generated update */
    const char *trace;                   /* CSV of publish times (resolved path) or NULL */
    const char *headers;                 /* "minimal", "browser" or a resolved file path */
    uint32_t cookie_bytes;               /* bytes of the Cookie value; 0 = none */
    enum scenario_protocol protocol;     /* straight, or through the front */
    uint32_t users_per_connection;       /* users (tabs) sharing one connection */
    struct scenario_network network;     /* the link; network.link false: none */
    struct scenario_restart restart;     /* the crash; restart.on false: none */
    struct scenario_feed feed;           /* where the feed lives */
    const struct scenario_scale *scale;  /* its processes and places (the scenario's) */
    double send_rate_hz;                 /* messages each user sends a second; 0 = none */
    uint32_t send_bytes;                 /* bytes of each message */
    const char *send_mode;               /* "poisson" or "periodic" (static storage) */
    double target_users;                 /* the population capacity is scaled to */
    double egress_usd_per_gb;            /* the price of a GB leaving the servers */
    struct radio_params radio;           /* the phones' radio, for the energy figures */
    struct scenario_swept swept[SCENARIO_MAX_DIMS]; /* the listed fields, in id order */
    size_t n_swept;                                 /* entries in swept */
};

struct scenario;

/* Read the file at path and parse it as scenario_parse does, with path as the display
 * name and the file's directory as base for relative paths. On success *out is the
 * caller's, freed with scenario_free; on failure *out is NULL and err holds one line.
 * Returns 0 or -1. */
int scenario_load(const char *path, unsigned flags, struct scenario **out, char *err,
                  size_t errlen);
/* Parse len bytes of JSON text (need not be NUL-terminated; the buffer is only read).
 * `name` prefixes every message; relative paths in the file resolve against base_dir
 * ("" for the working directory). flags: enum scenario_flags. Validates everything and
 * expands the runs. Returns 0 with *out the caller's (scenario_free), or -1 with *out
 * NULL and one line in err. */
int scenario_parse(const char *text, size_t len, const char *name, const char *base_dir,
                   unsigned flags, struct scenario **out, char *err, size_t errlen);
/* Release everything the scenario owns, runs and their strings included. NULL is fine. */
void scenario_free(struct scenario *s);

/* The scenario's name field ([a-z0-9-]+). */
const char *scenario_name(const struct scenario *s);
/* The description field. */
const char *scenario_description(const struct scenario *s);
/* How many runs the sweeps expanded into (at least 1). */
size_t scenario_run_count(const struct scenario *s);
/* Run i (i < scenario_run_count), in plan order. The pointer lives as long as s. */
const struct scenario_run *scenario_run_at(const struct scenario *s, size_t i);
/* Whether the quick overrides were applied (SCENARIO_QUICK). */
bool scenario_quick(const struct scenario *s);
/* How many times faster the quick version's clock runs than the full one's: its
 * updates.rate_hz over the file's (their first values), when a quick rate_hz compresses
 * time (a quick version that publishes 15 times as often, with intervals 15 times as
 * short); 1 when the rate is the same, without --quick, or with a trace. */
double scenario_time_compression(const struct scenario *s);
/* The file's duration_s before any quick override. */
double scenario_full_duration_s(const struct scenario *s);
/* One line of warning about what the file asks for, or "" (a warm-up shorter than a
 * run's poll interval: "FILE: warmup_s: 0.5 is shorter than ..."). */
const char *scenario_warning(const struct scenario *s);

/* A radio model's parameters as run.json keeps them: {"model": "lte", "promotion_ms":
 * 260.1, ...}, each key in the unit the scenario's "radio" section uses (added to obj). */
void scenario_radio_to_json(const struct radio_params *p, cJSON *obj);
/* And back: the model's defaults, then every key obj has. 0, or -1 when obj names no
 * model. */
int scenario_radio_from_json(const cJSON *obj, struct radio_params *p);

/* The word run r's approach choice has ("state"), or NULL when its approach has none. */
const char *scenario_run_choice(const struct scenario_run *r);

#endif
