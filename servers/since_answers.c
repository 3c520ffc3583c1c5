/* since_answers.c: event-mode poll answers built once per question and feed state and
 * shared by reference (see since_answers.h).
 *
 * A small table of slots under one mutex. A look-up first drops every answer rendered
 * from another feed state than the present one (an update, a reset, a gap moved the
 * feed), then finds the slot asked for, or renders the body into a free slot (or the
 * next in turn) and builds the response around it: the body is adopted by the response,
 * not copied. The caller holds the feed's lock and then takes the table's (always in that
 * order), so the feed cannot move between the look-up and the render. The table's lock is
 * kept while the answer is queued, because queueing takes libmicrohttpd's own reference
 * and a concurrent look-up may drop ours.
 *
 * Ownership: each built slot holds one reference to its response (destroyed when the slot
 * is dropped, reused or freed); every request it was queued to holds another until its
 * answer is sent, so a dropped answer lives on for those.
 */
#include "since_answers.h"

#include <string.h>

#include "dynbuf.h"
#include "reply.h"
#include "request.h"
#include "server.h"
#include "short_poll.h"

void since_answers_init(struct since_answers *a)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
}

static void slot_drop(struct since_answer *s)
{
    if (s->built)
        MHD_destroy_response(s->r); /* freed when the last request holding it is sent */
    memset(s, 0, sizeof(*s));
}

void since_answers_free(struct since_answers *a)
{
    for (size_t i = 0; i < SINCE_ANSWERS_SLOTS; i++)
        slot_drop(&a->slot[i]);
    pthread_mutex_destroy(&a->lock);
}

/* Render the answer to (since, limit) into s, rendered from the feed as it stands (lock
 * held). 0, or -1 out of memory (s left empty). */
static int slot_build_locked(struct since_answer *s, struct feed *f, uint64_t since,
                             uint64_t limit)
{
    struct dynbuf body;
    uint64_t count;
    dynbuf_init(&body, SIZE_MAX / 2);
    if (poll_render_since_locked(f, since, limit, &body, &count) != 0)
        return -1;
    size_t len = body.len;
    char *mem = dynbuf_take(&body);
    struct MHD_Response *r = reply_json_adopt(mem, len); /* takes mem */
    if (!r)
        return -1;
    *s = (struct since_answer){.built = true,
                               .since = since,
                               .limit = limit,
                               .newest = feed_newest_locked(f),
                               .oldest = feed_oldest_locked(f),
                               .resets = feed_reset_generation_locked(f),
                               .body = mem,
                               .len = len,
                               .r = r};
    return 0;
}

const struct since_answer *since_answers_find_locked(struct since_answers *a,
                                                     struct feed *f, uint64_t since,
                                                     uint64_t limit)
{
    uint64_t newest = feed_newest_locked(f), oldest = feed_oldest_locked(f);
    uint64_t resets = feed_reset_generation_locked(f);
    struct since_answer *hit = NULL, *free_slot = NULL;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < SINCE_ANSWERS_SLOTS; i++) {
        struct since_answer *s = &a->slot[i];
        if (s->built && (s->newest != newest || s->oldest != oldest || s->resets != resets))
            slot_drop(s); /* rendered from a feed that has moved on */
        if (!s->built && !free_slot)
            free_slot = s;
        if (s->built && s->since == since && s->limit == limit)
            hit = s;
    }
    if (hit)
        return hit;
    if (!free_slot) {
        free_slot = &a->slot[a->victim];
        a->victim = (a->victim + 1) % SINCE_ANSWERS_SLOTS;
        slot_drop(free_slot);
    }
    if (slot_build_locked(free_slot, f, since, limit) != 0) {
        pthread_mutex_unlock(&a->lock);
        return NULL;
    }
    a->builds++;
    return free_slot;
}

void since_answers_release(struct since_answers *a)
{
    pthread_mutex_unlock(&a->lock);
}

enum MHD_Result since_answers_reply_locked(struct since_answers *a, struct request *req,
                                           uint64_t since, uint64_t limit)
{
    struct feed *f = req->srv->feed;
    const struct since_answer *s = since_answers_find_locked(a, f, since, limit);
    feed_unlock(f);
    if (!s)
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    enum MHD_Result res = reply_shared(req, 200, s->r, s->len);
    since_answers_release(a);
    return res;
}
