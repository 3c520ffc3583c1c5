/* by_order.c: unstamped updates timed by the publisher's send times, matched by order
 * (see by_order.h).
 *
 * The log only grows (one int64 per publish: 8 B a publish, 80 kB for a 10,000-publish
 * run), so a match is an index, under the lock only long enough to read it; the
 * delivery itself goes through user_deliver_update like any stamped update, which takes
 * the lock again for freshness.
 */
#include "by_order.h"

#include <stdlib.h>

#include "counters.h"
#include "transport.h"
#include "user.h"

void by_order_init(struct by_order *o)
{
    o->sent_ns = NULL;
    o->n = 0;
    o->cap = 0;
}

void by_order_free(struct by_order *o)
{
    free(o->sent_ns);
    by_order_init(o);
}

static void lock(const struct user *u)
{
    if (u->env->fresh_lock)
        pthread_mutex_lock(u->env->fresh_lock);
}

static void unlock(const struct user *u)
{
    if (u->env->fresh_lock)
        pthread_mutex_unlock(u->env->fresh_lock);
}

uint64_t by_order_sent(struct user *publisher, int64_t ts_ns)
{
    struct by_order *o = publisher->env->order;
    uint64_t k = 0;
    lock(publisher);
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 1024;
        int64_t *s = realloc(o->sent_ns, cap * sizeof(*s));
        if (s) {
            o->sent_ns = s;
            o->cap = cap;
        }
    }
    if (o->n < o->cap && o->n < UINT32_MAX) {
        o->sent_ns[o->n++] = ts_ns;
        k = o->n;
    }
    unlock(publisher);
    return k;
}

void by_order_join(struct user *u)
{
    if (!u->env->order || u->order.joined)
        return;
    lock(u);
    u->order.base = (uint32_t)u->env->order->n;
    unlock(u);
    u->order.joined = true;
}

int by_order_deliver(struct user *u)
{
    struct by_order *o = u->env->order;
    if (!o)
        return -1;
    if (u->observer)
        return 0; /* the publisher tells freshness what was published */
    enum by_order_rule rule = u->ops->by_order;
    bool in_line = rule == BY_ORDER_RESUMES ||
                   (rule == BY_ORDER_FIRST_CONNECTION && u->sockets_ever <= 1);
    struct update up = {.seq = 0, .ts_ns = 0, .data_head = ""};
    if (in_line && u->order.joined) {
        uint64_t k = (uint64_t)u->order.base + ++u->order.got;
        lock(u);
        if (k <= o->n) {
            up.seq = k;
            up.ts_ns = o->sent_ns[k - 1];
        }
        unlock(u);
    }
    if (u->rx_real_ns == 0)
        user_note_read(u);
    if (up.seq == 0 || up.ts_ns > u->rx_real_ns) { /* past the log, or before its send */
        counters_add(u->ctr, CTR_UPDATES_UNMATCHED, 1, u->ctr->measuring);
        return 0;
    }
    int fresh = user_deliver_update(u, &up);
    counters_add(u->ctr, CTR_DELIVERIES_BY_ORDER, (uint64_t)fresh, u->ctr->measuring);
    return fresh;
}
