/* poll_reply.c: collect a poll body, then hand its updates to the user (poll_reply.h). */
#include "poll_reply.h"

#include "update_json.h"
#include "user.h"

void poll_reply_init(struct poll_reply *r)
{
    dynbuf_init(&r->body, POLL_REPLY_MAX_BYTES);
    r->overflow = false;
}

void poll_reply_free(struct poll_reply *r)
{
    dynbuf_free(&r->body);
}

void poll_reply_reset(struct poll_reply *r)
{
    dynbuf_reset(&r->body);
    r->overflow = false;
}

void poll_reply_add(struct poll_reply *r, const char *buf, size_t len)
{
    if (!r->overflow && dynbuf_add(&r->body, buf, len) != 0)
        r->overflow = true; /* dynbuf freed the contents */
}

enum outcome poll_reply_apply_latest(struct poll_reply *r, struct user *u, uint64_t *seq)
{
    struct update up;
    if (r->overflow || !r->body.mem ||
        update_json_parse_one(r->body.mem, r->body.len, &up) != 0)
        return OUTCOME_ERR_PARSE;
    *seq = up.seq;
    if (up.seq == 0)
        return OUTCOME_EMPTY;
    return user_deliver_update(u, up.seq, up.ts_ns) ? OUTCOME_NEWS : OUTCOME_EMPTY;
}

struct delivery {
    struct user *u;
    int fresh; /* updates new to the user */
};

static void deliver_one(void *ctx, const struct update *up)
{
    struct delivery *d = ctx;
    d->fresh += user_deliver_update(d->u, up->seq, up->ts_ns);
}

enum outcome poll_reply_apply_events(struct poll_reply *r, struct user *u, uint64_t *cursor)
{
    struct delivery d = {.u = u, .fresh = 0};
    uint64_t next = 0;
    bool reset = false;
    if (r->overflow || !r->body.mem ||
        update_json_parse_events(r->body.mem, r->body.len, &next, &reset, deliver_one,
                                 &d) != 0)
        return OUTCOME_ERR_PARSE;
    if (reset)
        user_note_reset(u);
    *cursor = next;
    return d.fresh > 0 ? OUTCOME_NEWS : OUTCOME_EMPTY;
}
