/* feed_log.h: a durable feed: every update appended to a file, reloaded at start.
 *
 * With --feed-file PATH the server survives a restart without breaking its promise to
 * cursors: sequence numbers continue where they stopped, and a client that resumes with
 * Last-Event-ID or ?since= gets what it missed (within the ring), instead of "reset".
 */
#ifndef PUSHPULL_FEED_LOG_H
#define PUSHPULL_FEED_LOG_H

#include <stddef.h>

#include "feed.h"

/* Load PATH into f (creating it if missing) and attach it for appending. Returns the
 * open fd (the caller closes it after freeing the feed), or -1 with a message naming the
 * file, the line and what was wrong. */
int feed_log_open(struct feed *f, const char *path, char *err, size_t errlen);

#endif
