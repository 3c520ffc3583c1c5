/* short_poll.h: the event-mode poll body, {"next":M,"events":[...]}, which short polling
 * (GET /poll?since=N) and long polling (GET /longpoll) both answer with.
 */
#ifndef PUSHPULL_SHORT_POLL_H
#define PUSHPULL_SHORT_POLL_H

#include <stdint.h>

#include "dynbuf.h"
#include "feed.h"

/* Render every update after `since` still kept (at most `limit`, 0 = no limit, and about
 * 1 MiB) as {"next":M,["reset":true,]"events":[...]} into out; *count receives how many
 * updates went in. Feed lock held. 0, or -1 when out refused to grow. */
int poll_render_since_locked(struct feed *f, uint64_t since, uint64_t limit,
                             struct dynbuf *out, uint64_t *count);

#endif
