/* timer_heap.c: an indexed binary min-heap of deadlines (see timer_heap.h).
 *
 * slots[] is the heap ordered by due; pos[id] is where id sits in it, or NOT_QUEUED. Every
 * move of a slot updates pos, so an id can be found and moved without a search.
 */
#include "timer_heap.h"

#include <stdlib.h>

#define NOT_QUEUED UINT32_MAX

struct slot {
    int64_t due;
    uint32_t id;
};

struct timer_heap {
    struct slot *slots; /* heap array, `size` in use */
    uint32_t *pos;      /* pos[id]: index into slots, or NOT_QUEUED */
    uint32_t size;
    uint32_t capacity;
};

struct timer_heap *timer_heap_new(uint32_t capacity)
{
    struct timer_heap *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->slots = calloc(capacity ? capacity : 1, sizeof(*h->slots));
    h->pos = malloc((capacity ? capacity : 1) * sizeof(*h->pos));
    if (!h->slots || !h->pos) {
        timer_heap_free(h);
        return NULL;
    }
    for (uint32_t i = 0; i < capacity; i++)
        h->pos[i] = NOT_QUEUED;
    h->capacity = capacity;
    return h;
}

void timer_heap_free(struct timer_heap *h)
{
    if (!h)
        return;
    free(h->slots);
    free(h->pos);
    free(h);
}

static void place(struct timer_heap *h, uint32_t i, struct slot s)
{
    h->slots[i] = s;
    h->pos[s.id] = i;
}

/* Move the slot at i up or down until the heap order holds again. */
static void restore(struct timer_heap *h, uint32_t i)
{
    struct slot s = h->slots[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (h->slots[parent].due <= s.due)
            break;
        place(h, i, h->slots[parent]);
        i = parent;
    }
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->size)
            break;
        if (child + 1 < h->size && h->slots[child + 1].due < h->slots[child].due)
            child++;
        if (h->slots[child].due >= s.due)
            break;
        place(h, i, h->slots[child]);
        i = child;
    }
    place(h, i, s);
}

void timer_heap_set(struct timer_heap *h, uint32_t id, int64_t due)
{
    if (id >= h->capacity)
        return;
    uint32_t i = h->pos[id];
    if (i == NOT_QUEUED) {
        i = h->size++;
    }
    h->slots[i].due = due;
    h->slots[i].id = id;
    restore(h, i);
}

void timer_heap_clear(struct timer_heap *h, uint32_t id)
{
    if (id >= h->capacity || h->pos[id] == NOT_QUEUED)
        return;
    uint32_t i = h->pos[id];
    h->pos[id] = NOT_QUEUED;
    h->size--;
    if (i == h->size)
        return;
    h->slots[i] = h->slots[h->size];
    restore(h, i);
}

int timer_heap_peek(const struct timer_heap *h, uint32_t *id, int64_t *due)
{
    if (h->size == 0)
        return 0;
    *id = h->slots[0].id;
    *due = h->slots[0].due;
    return 1;
}

int timer_heap_pop_due(struct timer_heap *h, int64_t now, uint32_t *id, int64_t *due)
{
    if (h->size == 0 || h->slots[0].due > now)
        return 0;
    *id = h->slots[0].id;
    *due = h->slots[0].due;
    timer_heap_clear(h, *id);
    return 1;
}

size_t timer_heap_size(const struct timer_heap *h)
{
    return h->size;
}
