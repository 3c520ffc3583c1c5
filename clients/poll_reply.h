/* poll_reply.h: a poll response body, read as it arrives and then applied to a user.
 *
 * Short polling and long polling read the same two reply shapes (update_json.h): the
 * latest update from GET /poll, and an events reply from ?since=N. This is the shared
 * part: feed the body to the incremental reader as it arrives (so the text is never
 * held, and a body past --max-body is refused as soon as it passes), then deliver its
 * updates to the user in order and say what the response was worth.
 */
#ifndef PUSHPULL_POLL_REPLY_H
#define PUSHPULL_POLL_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "update_json.h"

struct poll_reply {
    struct update_reader *reader; /* the body's reader (owned) */
    enum update_shape shape;      /* what the current response must hold */
    bool too_big;                 /* this body passed the cap */
};

/* A reply whose bodies may be at most max_bytes. 0, or -1 when out of memory; free with
 * poll_reply_free, also after a failure. */
int poll_reply_init(struct poll_reply *r, size_t max_bytes);
void poll_reply_free(struct poll_reply *r);
/* A new response is coming, of this shape. */
void poll_reply_begin(struct poll_reply *r, enum update_shape shape);
/* Body bytes. Returns true when the body has just passed the cap: the caller stops the
 * transfer (later bytes are ignored). */
bool poll_reply_add(struct poll_reply *r, const char *buf, size_t len);
/* A GET /poll body: deliver the update, set *seq (0 for {"seq":0}). NEWS when it was new to
 * the user, EMPTY when not, ERR_TOO_BIG past the cap, ERR_PARSE when the body is not an
 * update. */
enum outcome poll_reply_apply_latest(struct poll_reply *r, struct user *u, uint64_t *seq);
/* An events body: report a reset to the user, deliver each update, move *cursor to
 * "next". NEWS when any update was new, else EMPTY; errors as above (nothing delivered). */
enum outcome poll_reply_apply_events(struct poll_reply *r, struct user *u,
                                     uint64_t *cursor);

#endif
