/* generator.h: the built-in source of updates: periodic, Poisson or bursty arrivals.
 *
 * One thread publishes to the feed on an absolute schedule (no drift: each arrival time
 * is computed from the previous one, not from when the thread woke). Payloads are
 * printable ASCII (letters and digits, so JSON escaping adds nothing) of exactly
 * payload_bytes, drawn from the seed.
 */
#ifndef PUSHPULL_GENERATOR_H
#define PUSHPULL_GENERATOR_H

#include <stddef.h>

#include "feed.h"
#include "server.h"

struct generator;

/* Start publishing to f per cfg (rate_hz > 0). NULL with a message in err on failure.
 * The caller stops and frees it with generator_stop before freeing the feed. */
struct generator *generator_start(struct feed *f, const struct server_config *cfg, char *err,
                                  size_t errlen);
/* Stop the thread (at once, not at the next arrival) and free the generator. NULL is fine. */
void generator_stop(struct generator *g);

#endif
