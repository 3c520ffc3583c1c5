/* timer_heap.h: deadlines for many ids, earliest first (an indexed binary min-heap).
 *
 * The client keeps one pending deadline per simulated user (its next poll, its reconnect
 * after the SSE retry delay); 10,000 users must not cost a scan per event loop turn. Each
 * id 0..capacity-1 has at most one deadline; setting it again moves it. Set, clear and
 * pop are O(log n), peek is O(1); memory is fixed at creation.
 */
#ifndef PUSHPULL_TIMER_HEAP_H
#define PUSHPULL_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct timer_heap; /* opaque */

/* An empty heap for ids below capacity; NULL when out of memory. Free with
 * timer_heap_free. */
struct timer_heap *timer_heap_new(uint32_t capacity);
void timer_heap_free(struct timer_heap *h);
/* Give id the deadline `due` (any int64, e.g. monotonic ns), replacing any it had. Ids at
 * or past capacity are ignored. Equal deadlines come out in no promised order. */
void timer_heap_set(struct timer_heap *h, uint32_t id, int64_t due);
/* Forget id's deadline, if it has one. */
void timer_heap_clear(struct timer_heap *h, uint32_t id);
/* 1 and the earliest (id, due) when the heap is not empty; else 0. */
int timer_heap_peek(const struct timer_heap *h, uint32_t *id, int64_t *due);
/* Like peek, but only when that deadline is <= now, and removes it. */
int timer_heap_pop_due(struct timer_heap *h, int64_t now, uint32_t *id, int64_t *due);
/* Deadlines pending. */
size_t timer_heap_size(const struct timer_heap *h);

#endif
