/* redis_stream.h: the feed's entries as the Redis stream holds them, read out of hiredis
 * replies.
 *
 * One update is one stream entry: the id "<seq>-0" and two fields, "ts" (the publishing
 * instance's CLOCK_REALTIME at publish, decimal nanoseconds) and "data" (the payload, the
 * UTF-8 text as published). The JSON a client sees is rendered from these by every
 * instance the same way (feed.c), so it is the same text everywhere; the stream holds
 * no JSON.
 *
 * These functions know nothing of connections: they take a reply (XRANGE's, XREVRANGE's
 * or XREAD's) and check it field by field, so a stream someone else wrote to cannot
 * put anything malformed into the ring.
 */
#ifndef PUSHPULL_REDIS_STREAM_H
#define PUSHPULL_REDIS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "feed.h"

/* Read one entry ([id, [field, value, ...]]) into e, whose data points into the reply
 * (valid while it lives). 0; or -1 with err saying what was wrong (an id that is no
 * "<seq>-0", a missing or malformed "ts", a "data" that is not UTF-8 without NUL). */
int redis_stream_entry(const redisReply *r, struct feed_entry *e, char *err, size_t errlen);

/* The entries of a reply: XRANGE's and XREVRANGE's (an array of entries), or XREAD's for
 * one key (nil when the wait ended with nothing, else [[key, [entries]]]). *entries is set
 * to the array of entries (NULL for none) and *n to their number. 0, or -1 with err
 * saying what shape was expected. */
int redis_stream_entries(const redisReply *r, bool xread, const redisReply **entries,
                         size_t *n, char *err, size_t errlen);

/* The seq of an entry id "<seq>-0", or 0 when s (len bytes) is no such id. */
uint64_t redis_stream_id_seq(const char *s, size_t len);

#endif
