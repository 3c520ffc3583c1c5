/* generator.h: the built-in source of updates: periodic, Poisson or bursty arrivals.
 *
 * One thread publishes to the feed on an absolute schedule (no drift: each arrival time
 * is computed from the previous one, not from when the thread woke). Payloads are
 * printable ASCII (letters and digits, so JSON escaping adds nothing) of exactly
 * payload_bytes, drawn from the seed. A trace replays recorded publish times instead.
 */
#ifndef PUSHPULL_GENERATOR_H
#define PUSHPULL_GENERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "server.h"

struct generator;

/* Slowest and fastest rates accepted anywhere (flag, POST /control): 0 means "none". */
#define GEN_MIN_RATE_HZ 0.001
#define GEN_MAX_RATE_HZ 100000.0

/* "periodic", "poisson", "burst" or "trace". */
const char *generator_process_name(enum gen_process p);
/* Read a trace: a CSV with one publish time per line, in seconds from the start
 * (decimals allowed, non-decreasing), optionally under a header line "t_s". On success
 * *offsets_ns (malloc'd, the caller frees) holds *n offsets; on failure err names the
 * file, the line and what was expected, and -1 is returned. */
int generator_load_trace(const char *path, int64_t **offsets_ns, size_t *n, char *err,
                         size_t errlen);
/* Start publishing to f per cfg (rate_hz > 0, or process trace; a trace is read here). NULL
 * with a message in err on failure. The caller stops and frees it with generator_stop
 * before freeing the feed. */
struct generator *generator_start(struct feed *f, const struct server_config *cfg,
                                  char *err, size_t errlen);
/* Change the rate live (0 pauses); the schedule restarts from now. -1 when g is NULL or
 * replays a trace. */
int generator_set_rate(struct generator *g, double rate_hz);
/* The rate now (0 for NULL). */
double generator_rate(struct generator *g);
/* Publishes the feed refused so far (the feed through Redis while Redis is away): each
 * is counted here and skipped, never retried (0 for NULL). */
uint64_t generator_failures(struct generator *g);
/* Stop publishing (at once, not at the next arrival); the generator stays readable
 * (generator_rate) until generator_free. NULL is fine. */
void generator_stop(struct generator *g);
/* Stop if running, and free. NULL is fine. */
void generator_free(struct generator *g);

#endif
