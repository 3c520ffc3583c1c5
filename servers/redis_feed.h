/* redis_feed.h: the feed through Redis: many server instances on one feed (--redis).
 *
 * The pattern of nchan's Redis mode, Centrifugo's Redis engine and the Socket.IO Redis
 * adapter: the feed itself lives in a Redis stream, and each instance's ring (feed.h) is
 * a cache of it. Any instance may publish (redis_publish.h: one atomic script gives the
 * seq and appends), and every instance follows the stream with a blocking XREAD on a
 * thread of its own, putting each update into its ring (feed_insert) and so waking its
 * own parked polls and streams, as a local publish does. Seqs, stamps and the rendered
 * JSON are therefore the same on every instance, and a cursor, `since` or Last-Event-ID
 * taken from one instance works on any other.
 *
 * The publishing instance takes its own update from the stream too, like everyone else:
 * one path into the ring, so the ring never holds seq N before N - 1. Its publish waits
 * (at most a second) until its follower has put the update in, so a client that publishes
 * and then polls the same instance sees its update.
 *
 * If Redis goes away, the instance says so (one log line per change of state, and the
 * "redis" object of /stats), keeps serving the ring, answers publishes 503, and
 * reconnects with backoff. Back, it compares the stream with what it holds: the same
 * stream (same epoch, not shorter) is caught up from the last id held, so nothing is
 * missed; a new stream (Redis restarted without persistence) empties the ring, as a
 * server restarted with an in-memory feed would, and clients get a reset.
 */
#ifndef PUSHPULL_REDIS_FEED_H
#define PUSHPULL_REDIS_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "feed.h"
#include "redis_conn.h"

/* The stream's MAXLEN ~ bound when --redis-maxlen is not given (or --buffer, if larger):
 * an instance cut off from Redis catches up with nothing lost as long as fewer updates
 * than this were published meanwhile, at about 100 bytes per 64-byte update in Redis's
 * memory (1 MB). */
#define REDIS_MAXLEN_DEFAULT 10000

/* What the feed through Redis is told at start. */
struct redis_feed_config {
    struct redis_addr addr; /* where Redis listens */
    const char *key;        /* the stream's key (--redis-key); copied */
    size_t maxlen;          /* MAXLEN ~ bound of the stream (--redis-maxlen) */
    size_t buffer;          /* the ring's size: how many updates are loaded at start */
};

struct redis_feed;

/* Connect to Redis, load the stream's newest cfg->buffer updates into f, start following
 * the stream, and make f publish through Redis (feed_set_publisher). NULL with a message
 * in err (naming the address and what failed) when Redis cannot be reached or the stream
 * cannot be read: a server that cannot follow its feed does not start. The caller frees it
 * with redis_feed_free before freeing f. */
struct redis_feed *redis_feed_start(struct feed *f, const struct redis_feed_config *cfg,
                                    char *err, size_t errlen);
/* Stop following (the thread is joined), close the connections and free. NULL is fine.
 * Nothing may publish any more (the daemon and the generator are stopped first). */
void redis_feed_free(struct redis_feed *rf);

/* Append `,"redis":{...}` to the /stats object in b (its closing brace is taken off and
 * put back): the state, since when, reconnects, updates followed, publishes and their
 * failures, lag. generator_failures is the generator's count of refused publishes. 0, or
 * -1 when b refused to grow. */
int redis_feed_render(struct redis_feed *rf, uint64_t generator_failures, struct dynbuf *b);

#endif
