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
 * The scenario itself is opaque; a run is a plain record holding every value a run uses,
 * so the runner and the report need nothing else. The argument lists for the server, the
 * client and the link emulator, and the runner's restart words, are built here too, so
 * the mapping from schema to flags lives in one place.
 */
#ifndef PUSHPULL_SCENARIO_H
#define PUSHPULL_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"

#define SCENARIO_ID_MAX    192  /* bytes of a run id, NUL included */
#define SCENARIO_MAX_RUNS  1000 /* runs one scenario may expand into */
#define SCENARIO_MAX_SWEEP 32   /* values in one list */

enum scenario_kind {
    SCENARIO_SHORT, /* short polling: GET /poll every interval */
    SCENARIO_LONG,  /* long polling: GET /longpoll?since=N in a loop */
    SCENARIO_SSE    /* Server-Sent Events: one held GET /events */
};

enum scenario_poll {
    SCENARIO_POLL_STATE, /* the latest update, If-None-Match / 304 */
    SCENARIO_POLL_EVENTS /* every update after a cursor, ?since=N */
};

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
 * run (scenario_link_args). Both directions get the same delay, jitter and rate; the rate,
 * the resets and the buffer apply to each connection on its own. */
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

/* The restart experiment: the runner kills the server mid-run (no goodbye: the kernel
 * closes its connections), keeps it down, then starts it again on the same port
 * (scenario_restart_args). With a durable feed both starts get --feed-file, so the second
 * one reloads the log and sequence numbers continue; the in-memory feed starts again at
 * seq 1. */
struct scenario_restart {
    bool on;       /* the run restarts the server (the scenario has "restart") */
    double at_s;   /* the crash, in seconds from the start of the measurement window */
    double down_s; /* how long the server stays down before it starts again */
    bool durable;  /* feed "file": the log survives the crash; false: "memory" */
};

/* One run: one server and one client invocation. Strings are owned by the scenario. */
struct scenario_run {
    char id[SCENARIO_ID_MAX];        /* e.g. "short-state-interval_ms=1000-clients=100" */
    size_t approach;                 /* index of its entry in the file's "approaches" */
    enum scenario_kind kind;         /* the approach measured */
    enum scenario_poll poll;         /* short polling only (else SCENARIO_POLL_STATE) */
    uint32_t clients;                /* simulated users */
    double duration_s;               /* the measurement window */
    double warmup_s;                 /* run before the window, not counted */
    uint64_t seed;                   /* for the server's generator and the client */
    enum scenario_process process;   /* how updates arrive */
    double rate_hz;                  /* mean updates per second; 0 with the trace process */
    uint32_t burst_size;             /* updates per burst; 0 unless process is burst */
    uint64_t payload_bytes;          /* bytes of data per generated update */
    const char *trace;               /* CSV of publish times (resolved path) or NULL */
    const char *headers;             /* "minimal", "browser" or a resolved file path */
    uint32_t cookie_bytes;           /* bytes of the Cookie value; 0 = none */
    uint32_t interval_ms;            /* short polling period; 0 for other kinds */
    uint32_t timeout_s;              /* long-poll hold; 0 for other kinds */
    double heartbeat_s;              /* SSE keepalive after this silence; 0 = off */
    uint32_t retry_ms;               /* SSE retry: sent to clients; 0 for other kinds */
    struct scenario_network network; /* the link; network.link false: none */
    struct scenario_restart restart; /* the crash; restart.on false: none */
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

/* Append the server's flags for a run ("--process poisson --rate 5 ..."), words
 * separated by single spaces, none containing whitespace. Returns dynbuf_add's result. */
int scenario_server_args(const struct scenario_run *r, struct dynbuf *out);
/* Append the client's flags for a run ("--approach short --poll state ... --seed 1"),
 * without --server, --out and --label (the runner adds those). Same conventions as
 * scenario_server_args. */
int scenario_client_args(const struct scenario_run *r, struct dynbuf *out);
/* Append the link emulator's flags for a run ("--delay 100ms --rate 1000kbit ..."),
 * without --listen, --upstream and --stats (the runner adds those); nothing at all when
 * r->network.link is false. Same conventions as scenario_server_args. */
int scenario_link_args(const struct scenario_run *r, struct dynbuf *out);
/* Append the runner's words for the server's restart ("at=7 down=1 feed=memory"): at is
 * in seconds from the client's start (warmup_s + restart.at_s), down in seconds, feed
 * "memory" or "file"; nothing at all when r->restart.on is false. Same conventions as
 * scenario_server_args. */
int scenario_restart_args(const struct scenario_run *r, struct dynbuf *out);
/* Append run r's plan line, without its newline: RUN_ID, SERVER_ARGS, CLIENT_ARGS,
 * LINK_ARGS and RESTART_ARGS separated by tabs, every field always there (the last two
 * may be empty). The one definition of the format pushpull-lab plan prints and run.sh
 * reads. Returns dynbuf_add's result. */
int scenario_plan_line(const struct scenario_run *r, struct dynbuf *out);
/* Estimated wall time of a run in seconds: warmup + duration + the client's automatic
 * drain (interval + 1 s for short polling, else 1 s) + about 1 s to start and stop the
 * server, + down_s and about 1 s for the second start when the server restarts. */
double scenario_run_estimate_s(const struct scenario_run *r);

#endif
