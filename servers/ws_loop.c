/* ws_loop.c: the WebSocket thread (see ws_loop.h): one epoll set, one timer heap, one
 * waiter on the feed, for every upgraded connection.
 *
 * A turn: wait on epoll (the sockets, and an eventfd that other threads write) until the
 * earliest connection deadline; hand each ready socket to its connection; then, if the
 * eventfd rang, take the connections libmicrohttpd's threads handed over and look at the
 * feed; then run the deadlines that are due; then release the connections that ended.
 * After each call into a connection, its wishes are applied: EPOLLOUT while its socket
 * is full, its next deadline in the heap, its slot back when it has ended. Nothing here
 * blocks but epoll_wait.
 *
 * The feed's wake path. While the thread has connections it parks one feed_waiter on
 * the feed, for all of them: a publish (or POST /drop, or shutdown) wakes it, and its
 * wake callback writes the eventfd. The thread then reads the feed's newest seq, drop
 * generation and closing flag under the feed's lock, once, and acts on every connection:
 * news is pumped into each one whose socket takes bytes (ws_conn_pump; a full socket gets
 * its updates when it drains), a drop cuts every connection made before it, shutdown
 * sends each 1001. It parks again only when nothing changed meanwhile, so a publish
 * between two turns is never missed. A publish thus costs the feed one wake, not one
 * per connection, and the thread walks its connections once.
 *
 * The waiter's life: another thread may wake it at any moment while it is parked, and
 * calls its wake callback after releasing the feed's lock. Two moments matter: the
 * waiter may park again only once the callback has begun (the feed reads the waiter's
 * links until then: feed.h), and the loop may be freed only once the callback has ended
 * (it writes the eventfd). So `waiting` is set when it parks and cleared as the callback
 * begins, before it rings the eventfd (a turn it starts then can park again), and `owed`
 * counts callbacks not yet ended; ws_loop_stop takes the waiter off the feed, or waits
 * for its callback.
 *
 * Epoll runs level-triggered: a connection reads at most a bounded amount per event
 * (ws_conn.c), and the rest raises the next event, so a flooding peer cannot keep the
 * thread to itself.
 */
#include "ws_loop.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "feed.h"
#include "server.h"
#include "timer_heap.h"
#include "ws_conn.h"

/* epoll_event.data of the eventfd; connections carry their slot number. */
#define WS_EVENTFD_TAG UINT64_MAX
/* Events taken per epoll_wait. */
#define WS_EVENTS 256
/* Framing contexts freed (ws_conn_io.c) past which the thread trims the heap. */
#define WS_TRIM_BYTES (4 * 1024 * 1024)

/* The thread's view of one connection. */
struct ws_slot {
    struct ws_conn *c;           /* the connection, or NULL when the slot is free */
    struct ws_slot *prev, *next; /* the list of live connections */
    bool out;                    /* EPOLLOUT is in its epoll events */
    bool ended;                  /* out of the set, waiting on the ended list */
    struct ws_slot *next_ended;  /* the ended list, released at the end of a turn */
};

struct ws_loop {
    struct server *srv;
    struct feed *feed;
    pthread_t thread;
    bool started;
    int epfd;                   /* the sockets and the eventfd */
    int efd;                    /* eventfd: hand-overs, the feed's wake, stop */
    struct feed_waiter waiter;  /* parked on the feed for all connections */
    atomic_bool waiting;        /* parked, or woken and its callback not yet begun */
    atomic_int owed;            /* wake callbacks not yet ended */
    pthread_mutex_t lock;       /* guards handed, stopping */
    struct ws_conn **handed;    /* handed over, not yet taken (a stack) */
    size_t nhanded, handed_cap; /* in it, and room */
    bool stopping;              /* ws_loop_stop asked: hand-overs are refused */
    /* the thread's own */
    struct ws_slot *slots;     /* capacity of them */
    uint32_t *free_ids;        /* free slot numbers (a stack) */
    uint32_t nfree;            /* in it */
    uint32_t capacity;         /* slots */
    struct ws_slot *live;      /* the list of live connections */
    size_t count;              /* connections in it */
    struct ws_slot *ended;     /* ended this turn */
    struct timer_heap *timers; /* each connection's next deadline, by slot */
    uint64_t newest, drops;    /* the feed's, as last acted on */
    bool closing;              /* the feed is closing: 1001 sent to everyone */
    size_t freed;              /* framing context bytes freed since the last trim */
};

static void signal_thread(struct ws_loop *l)
{
    uint64_t one = 1;
    ssize_t n = write(l->efd, &one, sizeof(one));
    (void)n; /* a full counter is a pending wake-up all the same */
}

/* The feed's wake callback: the waiter may park again, the thread is rung, and the
 * loop may be freed once this has returned. */
static void loop_wake(struct feed_waiter *w)
{
    struct ws_loop *l = (struct ws_loop *)((char *)w - offsetof(struct ws_loop, waiter));
    atomic_store(&l->waiting, false);
    signal_thread(l);
    atomic_fetch_sub(&l->owed, 1);
}

/* ---- connections and their slots -------------------------------------------------- */

static uint32_t slot_id(const struct ws_loop *l, const struct ws_slot *s)
{
    return (uint32_t)(s - l->slots);
}

/* Apply what the connection in slot s wants after a call into it. */
static void settle(struct ws_loop *l, struct ws_slot *s)
{
    if (s->ended)
        return;
    uint32_t id = slot_id(l, s);
    if (ws_conn_ended(s->c)) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, ws_conn_fd(s->c), NULL);
        timer_heap_clear(l->timers, id);
        s->ended = true;
        s->next_ended = l->ended;
        l->ended = s;
        return;
    }
    bool out = ws_conn_wants_out(s->c);
    if (out != s->out) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
                                 .data.u64 = id};
        epoll_ctl(l->epfd, EPOLL_CTL_MOD, ws_conn_fd(s->c), &ev);
        s->out = out;
    }
    int64_t due = ws_conn_deadline(s->c);
    if (due == INT64_MAX)
        timer_heap_clear(l->timers, id);
    else
        timer_heap_set(l->timers, id, due);
}

/* Give every connection that ended this turn back to libmicrohttpd, and its slot back. */
static void release_ended(struct ws_loop *l)
{
    while (l->ended) {
        struct ws_slot *s = l->ended;
        l->ended = s->next_ended;
        if (s->prev)
            s->prev->next = s->next;
        else
            l->live = s->next;
        if (s->next)
            s->next->prev = s->prev;
        ws_conn_release(s->c);
        memset(s, 0, sizeof(*s));
        l->free_ids[l->nfree++] = slot_id(l, s);
        l->count--;
    }
}

/* Take a handed-over connection into the set and tell it what it has missed: the
 * updates since its cursor, a drop that came after its handshake, shutdown. */
static void take(struct ws_loop *l, struct ws_conn *c)
{
    if (l->nfree == 0) {
        /* cannot happen: there are as many slots as libmicrohttpd has connections */
        ws_conn_cut(c, SW_FIELDS);
        ws_conn_release(c);
        return;
    }
    uint32_t id = l->free_ids[--l->nfree];
    struct ws_slot *s = &l->slots[id];
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->next = l->live;
    if (l->live)
        l->live->prev = s;
    l->live = s;
    l->count++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = id};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, ws_conn_fd(c), &ev) != 0) {
        ws_conn_cut(c, SW_FIELDS);
        s->ended = true; /* never in the set */
        s->next_ended = l->ended;
        l->ended = s;
        return;
    }
    if (ws_conn_drops(c) < l->drops)
        ws_conn_cut(c, SW_CUTS);
    else if (l->closing)
        ws_conn_close(c, 1001);
    else
        ws_conn_readable(c); /* frames libmicrohttpd read past the handshake, if any */
    if (!ws_conn_ended(c))
        ws_conn_pump(c); /* the updates since its cursor */
    settle(l, s);
}

/* ---- the feed ---------------------------------------------------------------------- */

/* Act on what changed in the feed since the last look. */
static void look_at_feed(struct ws_loop *l)
{
    feed_lock(l->feed);
    uint64_t newest = feed_newest_locked(l->feed);
    uint64_t drops = feed_drop_generation_locked(l->feed);
    bool closing = feed_closing_locked(l->feed);
    feed_unlock(l->feed);
    bool dropped = drops != l->drops, news = newest != l->newest;
    bool shutdown_now = closing && !l->closing;
    l->newest = newest;
    l->drops = drops;
    l->closing = closing;
    if (!dropped && !news && !shutdown_now)
        return;
    for (struct ws_slot *s = l->live; s; s = s->next) {
        if (s->ended)
            continue;
        if (dropped && ws_conn_drops(s->c) < drops)
            ws_conn_cut(s->c, SW_CUTS);
        else if (shutdown_now)
            ws_conn_close(s->c, 1001);
        else if (news && !s->out)
            ws_conn_pump(s->c);
        settle(l, s);
    }
}

/* Park the waiter for the next change, unless something changed already (then ring the
 * eventfd, so the next turn looks) or there is nobody to tell. */
static void park(struct ws_loop *l)
{
    /* Parked already, or its wake is on its way (that rings the eventfd). */
    if (l->count == 0 || l->closing || atomic_load(&l->waiting))
        return;
    bool changed = false;
    feed_lock(l->feed);
    if (feed_newest_locked(l->feed) != l->newest ||
        feed_drop_generation_locked(l->feed) != l->drops || feed_closing_locked(l->feed)) {
        changed = true;
    } else {
        l->waiter.deadline_ns = INT64_MAX;
        atomic_store(&l->waiting, true);
        atomic_fetch_add(&l->owed, 1);
        if (feed_park_locked(l->feed, &l->waiter) != 0) {
            atomic_store(&l->waiting, false);
            atomic_fetch_sub(&l->owed, 1);
            changed = true;
        }
    }
    feed_unlock(l->feed);
    if (changed)
        signal_thread(l);
}

/* ---- the thread -------------------------------------------------------------------- */

/* Take what other threads handed over. Returns true when the thread is to stop. */
static bool take_handed(struct ws_loop *l)
{
    pthread_mutex_lock(&l->lock);
    bool stopping = l->stopping;
    size_t n = l->nhanded;
    struct ws_conn *batch[64];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        batch[i] = l->handed[--l->nhanded];
    bool more = l->nhanded > 0;
    pthread_mutex_unlock(&l->lock);
    for (size_t i = 0; i < n; i++)
        take(l, batch[i]);
    if (more)
        signal_thread(l); /* the rest next turn */
    return stopping;
}

/* Milliseconds until the earliest deadline (rounded up), or -1 for none. */
static int wait_ms(struct ws_loop *l)
{
    uint32_t id;
    int64_t due;
    if (!timer_heap_peek(l->timers, &id, &due))
        return -1;
    int64_t left = due - clock_mono_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
    return ms > 60000 ? 60000 : (int)ms;
}

static void run_timers(struct ws_loop *l)
{
    int64_t now = clock_mono_ns();
    uint32_t id;
    int64_t due;
    while (timer_heap_pop_due(l->timers, now, &id, &due)) {
        struct ws_slot *s = &l->slots[id];
        if (!s->c || s->ended)
            continue;
        ws_conn_timer(s->c, now);
        settle(l, s);
    }
}

static void *loop_main(void *arg)
{
    struct ws_loop *l = arg;
    struct epoll_event evs[WS_EVENTS];
    for (;;) {
        int n = epoll_wait(l->epfd, evs, WS_EVENTS, wait_ms(l));
        bool rang = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == WS_EVENTFD_TAG) {
                uint64_t count;
                ssize_t r = read(l->efd, &count, sizeof(count));
                (void)r;
                rang = true;
                continue;
            }
            struct ws_slot *s = &l->slots[evs[i].data.u64];
            if (!s->c || s->ended)
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                ws_conn_readable(s->c);
            if ((evs[i].events & EPOLLOUT) && !ws_conn_ended(s->c))
                ws_conn_pump(s->c);
            settle(l, s);
        }
        bool stop = false;
        if (rang) {
            stop = take_handed(l);
            look_at_feed(l);
        }
        run_timers(l);
        release_ended(l);
        /* Quiescent connections let their framing contexts go (ws_conn_io.c); when many
         * megabytes have gone, give the free pages back (glibc keeps them otherwise: an
         * idle WebSocket would cost its busy moments' memory for ever). */
        l->freed += ws_conn_freed_bytes();
        if (l->freed >= WS_TRIM_BYTES) {
            malloc_trim(0);
            l->freed = 0;
        }
        if (stop)
            break;
        park(l);
    }
    /* Stopping: whoever is left is cut (shutdown sent 1001 earlier, server_stop waited). */
    for (struct ws_slot *s = l->live; s; s = s->next) {
        if (!s->ended) {
            ws_conn_cut(s->c, SW_FIELDS);
            settle(l, s);
        }
    }
    release_ended(l);
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

struct ws_loop *ws_loop_start(struct server *srv, size_t capacity, char *err, size_t errlen)
{
    struct ws_loop *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "ws_loop_start: out of memory");
        return NULL;
    }
    l->srv = srv;
    l->feed = srv->feed;
    l->epfd = l->efd = -1;
    pthread_mutex_init(&l->lock, NULL);
    l->capacity = (uint32_t)capacity;
    l->slots = calloc(capacity, sizeof(*l->slots));
    l->free_ids = malloc(capacity * sizeof(*l->free_ids));
    l->timers = timer_heap_new(l->capacity);
    if (!l->slots || !l->free_ids || !l->timers) {
        snprintf(err, errlen, "ws_loop_start: out of memory for %zu connections", capacity);
        goto fail;
    }
    for (uint32_t i = 0; i < l->capacity; i++)
        l->free_ids[i] = l->capacity - 1 - i;
    l->nfree = l->capacity;
    l->waiter.wake = loop_wake;
    l->waiter.fd = -1; /* the thread sees its peers leave through epoll */
    feed_lock(l->feed);
    l->newest = feed_newest_locked(l->feed);
    l->drops = feed_drop_generation_locked(l->feed);
    feed_unlock(l->feed);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->efd < 0) {
        snprintf(err, errlen, "ws_loop_start: %s: %s",
                 l->epfd < 0 ? "epoll_create1" : "eventfd", strerror(errno));
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WS_EVENTFD_TAG};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->efd, &ev) != 0) {
        snprintf(err, errlen, "ws_loop_start: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    int rc = pthread_create(&l->thread, NULL, loop_main, l);
    if (rc != 0) {
        snprintf(err, errlen, "ws_loop_start: pthread_create: %s", strerror(rc));
        goto fail;
    }
    l->started = true;
    return l;
fail:
    ws_loop_free(l);
    return NULL;
}

int ws_loop_adopt(struct ws_loop *l, struct ws_conn *c)
{
    int rc = -1;
    pthread_mutex_lock(&l->lock);
    if (!l->stopping && l->nhanded == l->handed_cap) {
        size_t cap = l->handed_cap ? 2 * l->handed_cap : 64;
        struct ws_conn **h = realloc(l->handed, cap * sizeof(*h));
        if (h) {
            l->handed = h;
            l->handed_cap = cap;
        }
    }
    if (!l->stopping && l->nhanded < l->handed_cap) {
        l->handed[l->nhanded++] = c;
        rc = 0;
    }
    pthread_mutex_unlock(&l->lock);
    if (rc == 0)
        signal_thread(l);
    return rc;
}

void ws_loop_stop(struct ws_loop *l)
{
    if (!l || !l->started)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_mutex_unlock(&l->lock);
    signal_thread(l);
    pthread_join(l->thread, NULL);
    l->started = false;
    /* The waiter: off the feed if it is still parked; if a wake is on its way (detached
     * by another thread, its callback not run yet), wait for it. */
    feed_lock(l->feed);
    if (l->waiter.parked) {
        feed_unpark_locked(l->feed, &l->waiter);
        atomic_store(&l->waiting, false);
        atomic_fetch_sub(&l->owed, 1); /* no callback will come for it */
    }
    feed_unlock(l->feed);
    while (atomic_load(&l->owed) > 0) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* Hand-overs that came after the thread's last look: nobody else will take them. */
    for (size_t i = 0; i < l->nhanded; i++) {
        ws_conn_cut(l->handed[i], SW_FIELDS);
        ws_conn_release(l->handed[i]);
    }
    l->nhanded = 0;
}

void ws_loop_free(struct ws_loop *l)
{
    if (!l)
        return;
    ws_loop_stop(l);
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->efd >= 0)
        close(l->efd);
    timer_heap_free(l->timers);
    free(l->slots);
    free(l->free_ids);
    free(l->handed);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
