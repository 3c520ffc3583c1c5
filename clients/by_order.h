/* by_order.h: a foreign server's updates that carry no publish stamp, timed by the
 * client's own publisher's send times, matched by order (--publish-url).
 *
 * The lab times an update by the ts_ns in its body. A foreign server that wraps or
 * rewrites what was posted to it (its own JSON envelope, a template, a different
 * encoding) leaves no stamp to read; what is left is order. When the client is the
 * publisher (publisher.c) it numbers what it posts 1, 2, 3, ... and notes here when each
 * went out (CLOCK_REALTIME, the instant before its request is written). A user's
 * unstamped updates are then numbered the same way: its i-th unstamped update since it
 * joined is publish base + i, where base is how many publishes had gone out when the
 * user made its first request; it is delivered as that publish (its number as seq, its
 * send time as the stamp), so latency, missed updates, duplicates and staleness follow
 * as for a stamped update, and counted apart (deliveries_by_order) so the summary says
 * which latencies are this weaker measure.
 *
 * Why order, and what it assumes. Nothing else links an unstamped body to a publish;
 * order does when the server delivers every publish, in order, exactly once to each
 * subscriber. That holds for a stream that resumes (SSE with Last-Event-ID, a long poll
 * with its validators), but not for a WebSocket after its first connection (no cursor:
 * what was published while it was away is lost, so the count no longer lines up), and
 * never for interval polling (an update overtaken between two polls is never seen). The
 * publisher starts at the window's start, after the users joined in the warmup, so base
 * is 0 for them and no publish is in flight while they join; a user that joins later,
 * while a publish is out, may be one off. Checks that catch a count that drifted: an
 * update matched to a publish sent after it arrived, or past the publishes sent (the
 * server sends messages of its own), is not timed but counted (updates_unmatched), as is
 * every unstamped update a technique cannot match (interval polling, a WebSocket's later
 * connections). A failed publish (counted in up_errors) that the server never delivered
 * shifts every later match by one: the run's up_errors should be 0 for these figures to
 * stand. The observer takes no part: the publisher itself tells freshness (freshness.h)
 * every publish the server accepted.
 *
 * Threads: the send log is shared by the publisher (on the first loop) and every user,
 * under the run's fresh_lock (NULL with one thread). Stamped updates never come here.
 */
#ifndef PUSHPULL_BY_ORDER_H
#define PUSHPULL_BY_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct user;

/* How a technique's unstamped updates line up with the publishes (transport_ops). */
enum by_order_rule {
    BY_ORDER_NEVER = 0,       /* they cannot be matched (interval polling) */
    BY_ORDER_RESUMES,         /* every update in order, across reconnections (SSE with
                                 Last-Event-ID, long polling with validators) */
    BY_ORDER_FIRST_CONNECTION /* only on the user's first connection (a WebSocket) */
};

/* The publisher's send times, by publish number. Owned by the run. */
struct by_order {
    int64_t *sent_ns; /* sent_ns[k - 1]: when publish k went out (owned) */
    size_t n;         /* publishes sent */
    size_t cap;       /* entries allocated */
};

/* A user's place in the order (user.h). */
struct by_order_cursor {
    uint32_t base; /* publishes sent when it joined */
    uint32_t got;  /* unstamped updates it received since */
    bool joined;   /* base is set */
};

/* An empty log. Free with by_order_free. */
void by_order_init(struct by_order *o);
void by_order_free(struct by_order *o);
/* The publisher sends its next publish now (ts_ns, CLOCK_REALTIME): its number (1, 2,
 * ...), or 0 when out of memory (the publish is then not sent). Takes the lock. */
uint64_t by_order_sent(struct user *publisher, int64_t ts_ns);
/* User u makes a request (user.c, before each): the first one sets its base. */
void by_order_join(struct user *u);
/* User u received an update with no stamp (a body that is not the lab's update JSON),
 * at u->rx_real_ns. Returns -1 when the run has no publisher (the caller counts the
 * body as invalid, as without --publish-url); else 1 when it was matched and new to the
 * user, 0 when it was not (a duplicate, or unmatched: counted here). The observer's are
 * ignored (0). */
int by_order_deliver(struct user *u);

#endif
