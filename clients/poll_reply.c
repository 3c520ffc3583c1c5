/* poll_reply.c: read a poll body as it arrives, then hand its updates to the user
 * (poll_reply.h). */
#include "poll_reply.h"

#include "user.h"

int poll_reply_init(struct poll_reply *r, size_t max_bytes)
{
    r->shape = UPDATE_SHAPE_ONE;
    r->too_big = false;
    r->reader = update_reader_new(max_bytes);
    return r->reader ? 0 : -1;
}

void poll_reply_free(struct poll_reply *r)
{
    update_reader_free(r->reader);
    r->reader = NULL;
}

void poll_reply_begin(struct poll_reply *r, enum update_shape shape)
{
    r->shape = shape;
    r->too_big = false;
    update_reader_begin(r->reader, shape);
}

bool poll_reply_add(struct poll_reply *r, const char *buf, size_t len)
{
    if (r->too_big)
        return false; /* already refused: the caller stopped the transfer then */
    r->too_big = update_reader_feed(r->reader, buf, len) == UPDATE_READ_TOO_BIG;
    return r->too_big;
}

/* The body's verdict as an outcome: 0 when it is a whole reply of its shape. */
static int finish(struct poll_reply *r, enum outcome *bad)
{
    enum update_read_status st = update_reader_finish(r->reader);
    *bad = st == UPDATE_READ_TOO_BIG ? OUTCOME_ERR_TOO_BIG : OUTCOME_ERR_PARSE;
    return st == UPDATE_READ_OK ? 0 : -1;
}

enum outcome poll_reply_apply_latest(struct poll_reply *r, struct user *u, uint64_t *seq)
{
    enum outcome bad;
    size_t n;
    if (r->shape != UPDATE_SHAPE_ONE || finish(r, &bad) != 0)
        return r->shape != UPDATE_SHAPE_ONE ? OUTCOME_ERR_PARSE : bad;
    const struct update *up = update_reader_updates(r->reader, &n);
    *seq = up[0].seq;
    if (up[0].seq == 0)
        return OUTCOME_EMPTY;
    return user_deliver_update(u, &up[0]) ? OUTCOME_NEWS : OUTCOME_EMPTY;
}

enum outcome poll_reply_apply_events(struct poll_reply *r, struct user *u, uint64_t *cursor)
{
    enum outcome bad;
    size_t n;
    if (r->shape != UPDATE_SHAPE_EVENTS || finish(r, &bad) != 0)
        return r->shape != UPDATE_SHAPE_EVENTS ? OUTCOME_ERR_PARSE : bad;
    const struct update *up = update_reader_updates(r->reader, &n);
    /* the reset first: the updates after it start again from the server's oldest, which
     * is no step backwards (user.h) */
    if (update_reader_reset(r->reader))
        user_note_reset(u);
    int fresh = 0;
    for (size_t i = 0; i < n; i++)
        fresh += user_deliver_update(u, &up[i]);
    *cursor = update_reader_next(r->reader);
    return fresh > 0 ? OUTCOME_NEWS : OUTCOME_EMPTY;
}
