/* short_poll.h: the event-mode poll body, {"next":M,"events":[...]}, which short polling
 * (GET /poll?since=N) and long polling (GET /longpoll) both answer with.
 */
#ifndef PUSHPULL_SHORT_POLL_H
#define PUSHPULL_SHORT_POLL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dynbuf.h"
#include "feed.h"

/* GET /poll's two answers for the newest update (state mode), built once per update and
 * shared by every poll until the next one: 200 with its JSON, and 304, both with its
 * ETag. Building a response costs a dozen allocations and copies; a shared one is only
 * queued (libmicrohttpd counts its references). The server owns one (server.h). */
struct poll_answers {
    pthread_mutex_t lock; /* held while the answers are rebuilt or queued */
    bool built;
    uint64_t seq;              /* the update they answer with */
    uint64_t resets;           /* ... in this feed reset generation (feed.h) */
    char etag[32];             /* "seq", quoted */
    size_t len;                /* the 200's body bytes */
    struct MHD_Response *ok;   /* our reference, or NULL */
    struct MHD_Response *same; /* the 304, our reference, or NULL */
};

void poll_answers_init(struct poll_answers *a);
/* Drop our references (after the daemon has stopped). */
void poll_answers_free(struct poll_answers *a);

/* Render every update after `since` still kept (at most `limit`, 0 = no limit, and about
 * 1 MiB) as {"next":M,["reset":true,]"events":[...]} into out; *count receives how many
 * updates went in. Feed lock held. 0, or -1 when out refused to grow. */
int poll_render_since_locked(struct feed *f, uint64_t since, uint64_t limit,
                             struct dynbuf *out, uint64_t *count);

#endif
