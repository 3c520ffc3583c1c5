/* since_answers.h: event-mode poll answers ({"next":M,"events":[...]}, short_poll.h),
 * built once per question and feed state and shared by reference by every request that
 * asks the same question before the feed moves on.
 *
 * When an update wakes thousands of parked long polls, nearly all of them hold the same
 * cursor (the previous update's seq), so nearly all of them would render the same body
 * and build the same response (as would short polls that keep up, GET /poll?since=N).
 * Here the first one builds it and the others queue it (libmicrohttpd counts a
 * response's references). An answer is named by its question (since, limit) and by the
 * feed state it was rendered from (newest seq, oldest seq held, reset generation):
 * together they fix every byte of the body, and the headers are the same for all (a
 * closing server's Connection: close answer is never shared, long_poll.c). Answers for
 * an older feed state are dropped at the next look-up, so no stale answer can be handed
 * out. The server owns one table (server.h).
 */
#ifndef PUSHPULL_SINCE_ANSWERS_H
#define PUSHPULL_SINCE_ANSWERS_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

struct request;

/* Distinct questions kept at once: a woken crowd asks one or two (the cursor of the last
 * update, and of the one before for those in the blind window), timeouts one more. */
#define SINCE_ANSWERS_SLOTS 8

/* One built answer. */
struct since_answer {
    bool built;             /* the fields below are set */
    uint64_t since, limit;  /* the question */
    uint64_t newest;        /* the feed state it was rendered from: newest seq, */
    uint64_t oldest;        /* ... the oldest seq held, */
    uint64_t resets;        /* ... and the reset generation (feed.h) */
    const char *body;       /* the body, owned by r (read-only) */
    size_t len;             /* bytes of body */
    struct MHD_Response *r; /* our reference */
};

struct since_answers {
    pthread_mutex_t lock; /* held while an answer is looked up, built or queued */
    unsigned victim;      /* next slot to reuse when none is free or stale */
    uint64_t builds;      /* answers built: look-ups that found none to share */
    struct since_answer slot[SINCE_ANSWERS_SLOTS];
};

void since_answers_init(struct since_answers *a);
/* Drop our references (after the daemon has stopped: requests held them too). */
void since_answers_free(struct since_answers *a);

/* The answer to (since, limit) as the feed stands now, found or built (answers for an
 * older feed state are dropped first). Feed lock held. On success a->lock is held and
 * the answer stays valid until the caller releases it (since_answers_release); NULL
 * when out of memory (a->lock not held). */
const struct since_answer *since_answers_find_locked(struct since_answers *a,
                                                     struct feed *f, uint64_t since,
                                                     uint64_t limit);
void since_answers_release(struct since_answers *a);

/* Answer req with the shared answer to (since, limit): 200 and the body, counted as
 * reply_shared counts. Feed lock held; it is released here (before the answer is
 * queued). MHD_NO when out of memory. */
enum MHD_Result since_answers_reply_locked(struct since_answers *a, struct request *req,
                                           uint64_t since, uint64_t limit);

#endif
