/* poll_reply.h: a poll response body, collected and then applied to a user.
 *
 * Short polling and long polling read the same two reply shapes (update_json.h): the
 * latest update from GET /poll, and an events reply from ?since=N. This is the shared
 * part: gather the body as it arrives (capped), then deliver its updates to the user in
 * order and say what the response was worth (news or empty).
 */
#ifndef PUSHPULL_POLL_REPLY_H
#define PUSHPULL_POLL_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "dynbuf.h"
#include "transport.h"

#define POLL_REPLY_MAX_BYTES ((size_t)64 * 1024 * 1024)

struct poll_reply {
    struct dynbuf body; /* the body so far */
    bool overflow;      /* the body passed POLL_REPLY_MAX_BYTES (a parse error) */
};

void poll_reply_init(struct poll_reply *r);
void poll_reply_free(struct poll_reply *r);
/* Forget the body, keep the memory (next response). */
void poll_reply_reset(struct poll_reply *r);
/* Append body bytes. */
void poll_reply_add(struct poll_reply *r, const char *buf, size_t len);
/* A GET /poll body: deliver the update, set *seq (0 for {"seq":0}). NEWS when it was new to
 * the user, EMPTY when not, ERR_PARSE when the body is not an update. */
enum outcome poll_reply_apply_latest(struct poll_reply *r, struct user *u, uint64_t *seq);
/* An events body: deliver each update, move *cursor to "next", report a reset to the
 * user. NEWS when any update was new, else EMPTY; ERR_PARSE as above. */
enum outcome poll_reply_apply_events(struct poll_reply *r, struct user *u,
                                     uint64_t *cursor);

#endif
