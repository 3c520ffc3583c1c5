/* redis_publish.h: publishing one update into the feed's Redis stream, exactly once.
 *
 * The seq is allocated and the entry appended in one atomic step, a Lua script (Redis
 * runs a script whole, with nothing in between), so seqs stay gapless and the same for
 * every instance whichever of them publishes. The keys, all beside the stream's name K
 * (--redis-key):
 *   K         the stream: entry "<seq>-0" with fields ts and data (redis_stream.h)
 *   K:seq     the last seq given out (the script's counter)
 *   K:ts      the last stamp given out: a later seq never gets an earlier one
 *   K:epoch   when this stream began (Redis's TIME at its first entry): a stream that
 *             is lost and begun again (a Redis restarted without persistence) gets a new
 *             one, which is how an instance tells a new stream from the one it followed
 *   K:pubs    a hash: per publishing instance, its last publish number and the seq it got
 *
 * Nothing is published twice. A publish whose reply is lost (the connection drops after
 * the command left: the script ran, or did not) is sent again once, on a new connection,
 * with the same publish number; the script finds that number in K:pubs and answers the
 * seq it gave the first time instead of appending again. If Redis cannot be reached for
 * that second try, the outcome stays unknown (REDIS_PUBLISH_UNKNOWN) and nothing retries
 * it later: the update is then in the stream once, or not at all.
 */
#ifndef PUSHPULL_REDIS_PUBLISH_H
#define PUSHPULL_REDIS_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_conn.h"

/* The script's text. KEYS: K, K:seq, K:ts, K:epoch, K:pubs. ARGV: the instance's id, its
 * publish number, ts_ns, data, the stream's MAXLEN bound. Returns the seq. */
extern const char redis_publish_script[];

/* How a publish ended. */
enum redis_publish_result {
    REDIS_PUBLISH_OK,       /* stored: *seq is its seq */
    REDIS_PUBLISH_NOT_SENT, /* Redis could not be reached: nothing was published */
    REDIS_PUBLISH_UNKNOWN,  /* the connection failed with the command sent, twice: it
                               may be in the stream (once) or not */
    REDIS_PUBLISH_REFUSED   /* Redis answered with an error: nothing was published */
};

struct redis_publisher;

/* A publisher for stream `key` at a, trimming it to about maxlen entries, with a random
 * instance id of its own. It connects when first used. NULL when out of memory. Not
 * thread-safe: the caller publishes from one thread at a time. Free with
 * redis_publisher_free. */
struct redis_publisher *redis_publisher_new(const struct redis_addr *a, const char *key,
                                            size_t maxlen);
void redis_publisher_free(struct redis_publisher *p);

/* Publish len bytes of data stamped ts_ns. On REDIS_PUBLISH_OK *seq holds its seq; with
 * any other result err says what failed. *retried is set when the first try's reply was
 * lost and the publish was sent again. *rtt_ns is the time the accepted try took. */
enum redis_publish_result redis_publish(struct redis_publisher *p, int64_t ts_ns,
                                        const char *data, size_t len, uint64_t *seq,
                                        bool *retried, int64_t *rtt_ns, char *err,
                                        size_t errlen);

/* Close the connection (Redis was seen to go away): the next publish opens a new one. */
void redis_publisher_disconnect(struct redis_publisher *p);

/* The instance id the script files this publisher's numbers under (16 hex digits). */
const char *redis_publisher_id(const struct redis_publisher *p);

#endif
