/* feed.c: the ring of published updates and the list of parked waiters (see feed.h).
 *
 * Update seq s lives in slot (s - 1) % capacity, so finding a cursor's place is
 * arithmetic, not a search. Each update is rendered to JSON once, at publish, and every
 * transport copies that text: fan-out to ten thousand subscribers formats nothing.
 *
 * Waiters form an intrusive doubly linked list: parking, unparking and waking one are
 * O(1) and allocate nothing. A publish detaches the whole list under the lock and wakes
 * the waiters after releasing it, so the server's threads start delivering to the first
 * while the last are still being woken (resuming a connection costs a few microseconds
 * in libmicrohttpd; with ten thousand waiters, that is tens of milliseconds); the waking
 * thread's own waiters go last, since it serves them only after (wake_all). The sweeper
 * (one thread in the server) wakes waiters whose deadline passed and, once a second or so,
 * asks the kernel in a single poll() which parked sockets the peer has shut: a suspended
 * libmicrohttpd connection is out of the event loop and would never notice by itself.
 *
 * As a cache of a shared feed (feed_insert), the ring may hold a gap: an instance that
 * was cut off longer than the shared feed keeps its updates comes back to find the
 * oldest it can still read well past its newest. `floor` then marks the first seq held,
 * and a cursor below it gets a reset, exactly as one that fell off the ring's end.
 */
#include "feed.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "clock.h"
#include "dynbuf.h"
#include "jsonw.h"

struct feed {
    pthread_mutex_t lock;
    pthread_cond_t sweep_cond; /* wakes the sweeper early (CLOCK_MONOTONIC) */
    int64_t sweep_until_ns;    /* when the sweeper plans to wake next */
    int64_t parked_min_ns;     /* earliest deadline parked since the last sweep */
    struct feed_update *ring;  /* capacity slots */
    size_t capacity;
    uint64_t newest;             /* seq of the newest update, 0 before the first */
    uint64_t floor;              /* no seq below it is held (a gap or a reset set it) */
    uint64_t published;          /* updates feed_publish added (not restored, inserted) */
    feed_publisher publisher;    /* where publishes go instead of the ring, or NULL */
    void *publisher_ctx;         /* its context, the caller's */
    struct feed_waiter *waiters; /* head of the parked list */
    size_t nwaiters;
    bool closing;
    uint64_t drops;             /* feed_drop calls so far */
    uint64_t resets;            /* feed_reset calls so far: seqs start again after each */
    int log_fd;                 /* append-only log of updates (feed_attach_log), or -1 */
    bool log_failed;            /* a write to the log failed (reported once) */
    struct pollfd *pfds;        /* sweep scratch: one per parked waiter with a socket */
    struct feed_waiter **pwait; /* the waiter behind each pfds entry */
    size_t pcap;                /* allocated entries in pfds and pwait */
};

struct feed *feed_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    struct feed *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->ring = calloc(capacity, sizeof(*f->ring));
    if (!f->ring)
        goto fail;
    f->capacity = capacity;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&f->sweep_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&f->lock, NULL);
    f->sweep_until_ns = INT64_MAX;
    f->parked_min_ns = INT64_MAX;
    f->log_fd = -1;
    return f;
fail:
    free(f);
    return NULL;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->capacity; i++)
        free(f->ring[i].json);
    free(f->ring);
    free(f->pfds);
    free(f->pwait);
    pthread_cond_destroy(&f->sweep_cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void feed_lock(struct feed *f)
{
    pthread_mutex_lock(&f->lock);
}

void feed_unlock(struct feed *f)
{
    pthread_mutex_unlock(&f->lock);
}

/* Take w off the list and push it on `woken`, to be woken once the lock is released.
 * Lock held. */
static void detach_locked(struct feed *f, struct feed_waiter *w, enum feed_wake why,
                          struct feed_waiter **woken)
{
    feed_unpark_locked(f, w);
    w->why = why;
    w->next = *woken;
    *woken = w;
}

/* A mark per thread: its address tells the threads apart (feed_park_locked notes it). */
static _Thread_local char this_thread;

/* Call the wake callback of every detached waiter. Lock NOT held: a detached waiter is
 * on no list and its connection is suspended, so nobody else can wake or free it, and
 * the server's threads can serve the first woken connections while later ones are still
 * being woken. `next` is read before wake(), after which the waiter may park again.
 *
 * The order: the waiters this thread parked itself come last. A waiter is parked by the
 * thread that serves its connection (a libmicrohttpd worker, the WebSocket thread), and
 * a publish that arrives as a request runs on one of those workers: it cannot serve its
 * own woken connections before it has woken everyone, while the other workers can start
 * on theirs at once. Woken in list order instead, the other worker got its share spread
 * over the whole wake-up, one resume at a time, and idled between them. */
static size_t wake_all(struct feed_waiter *woken)
{
    size_t n = 0;
    struct feed_waiter *mine = NULL, *mine_tail = NULL;
    for (int pass = 0; pass < 2; pass++) {
        while (woken) {
            struct feed_waiter *next = woken->next;
            if (pass == 0 && woken->parked_by == &this_thread) {
                /* kept for the second pass, in the order found */
                woken->next = NULL;
                if (mine_tail)
                    mine_tail->next = woken;
                else
                    mine = woken;
                mine_tail = woken;
            } else {
                woken->next = NULL;
                woken->wake(woken);
                n++;
            }
            woken = next;
        }
        woken = mine;
    }
    return n;
}

/* Put an update in its slot; json (malloc'd) becomes the ring's. A seq past newest + 1
 * (an insert after a gap) moves the floor: the slots between hold nothing valid. Lock
 * held. */
static void store_locked(struct feed *f, uint64_t seq, int64_t ts, char *json, size_t len)
{
    struct feed_update *u = &f->ring[(seq - 1) % f->capacity];
    if (seq != f->newest + 1)
        f->floor = seq;
    free(u->json);
    u->seq = seq;
    u->ts_ns = ts;
    u->json_len = len;
    u->json = json;
    f->newest = seq;
}

/* Append the update's line to the log. A failure is reported once: the update is
 * still served from memory, but the log no longer promises to hold everything. */
static void log_locked(struct feed *f, const char *json, size_t len)
{
    if (f->log_fd < 0 || f->log_failed)
        return;
    struct iovec iov[2] = {{(void *)json, len}, {(void *)"\n", 1}};
    ssize_t n = writev(f->log_fd, iov, 2);
    if (n != (ssize_t)(len + 1)) {
        f->log_failed = true;
        fprintf(stderr,
                "pushpull-server: writing the feed log: %s; later updates are "
                "not durable\n",
                n < 0 ? strerror(errno) : "short write");
    }
}

int feed_restore(struct feed *f, uint64_t seq, int64_t ts_ns, const char *json, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, json, len);
    copy[len] = '\0';
    feed_lock(f);
    if (seq != f->newest + 1) {
        feed_unlock(f);
        free(copy);
        return -1;
    }
    store_locked(f, seq, ts_ns, copy, len);
    feed_unlock(f);
    return 0;
}

void feed_attach_log(struct feed *f, int fd)
{
    feed_lock(f);
    f->log_fd = fd;
    feed_unlock(f);
}

/* An update's JSON text, {"seq":N,"ts_ns":T,"data":<escaped>}: the one rendering, used
 * for the ring's own publishes and for updates inserted from elsewhere alike, so the text
 * of a seq is the same in every process. Returns malloc'd text (the caller frees it) and
 * its length in *len, or NULL when out of memory. */
static char *render_update(uint64_t seq, int64_t ts, const char *escaped, size_t *len)
{
    struct dynbuf json;
    dynbuf_init(&json, strlen(escaped) + 128);
    if (dynbuf_addf(&json, "{\"seq\":%llu,\"ts_ns\":%lld,\"data\":%s}",
                    (unsigned long long)seq, (long long)ts, escaped) != 0)
        return NULL;
    *len = json.len;
    return dynbuf_take(&json);
}

/* data as a JSON string literal (malloc'd, the caller frees it), or NULL. */
static char *escape_data(const char *data, size_t len)
{
    struct dynbuf json;
    dynbuf_init(&json, len * 6 + 128);
    if (jsonw_string(&json, data, len) != 0)
        return NULL;
    return dynbuf_take(&json);
}

/* The feed's one "something new" notification: every parked waiter is detached with
 * FEED_WAKE_NEWS, to be woken (wake_all) once the lock is released. Every path that
 * changes what the ring holds comes here: a local publish, updates inserted from the
 * shared feed, a reset. A transport that parks a waiter (a held long poll, an idle SSE
 * stream, a WebSocket thread's one waiter) therefore hears of every update the same way,
 * whichever process published it. Lock held; returns the detached list. */
static struct feed_waiter *announce_locked(struct feed *f)
{
    struct feed_waiter *woken = NULL;
    while (f->waiters)
        detach_locked(f, f->waiters, FEED_WAKE_NEWS, &woken);
    return woken;
}

/* announce_locked, taking the lock, and wake the waiters. Lock NOT held. */
static void announce(struct feed *f)
{
    feed_lock(f);
    struct feed_waiter *woken = announce_locked(f);
    feed_unlock(f);
    wake_all(woken);
}

void feed_set_publisher(struct feed *f, feed_publisher fn, void *ctx)
{
    feed_lock(f);
    f->publisher = fn;
    f->publisher_ctx = ctx;
    feed_unlock(f);
}

/* Publish through the publisher set by feed_set_publisher (see there). */
static uint64_t publish_elsewhere(struct feed *f, const char *data, size_t len, char *err,
                                  size_t errlen)
{
    feed_lock(f);
    bool closing = f->closing;
    feed_unlock(f);
    if (closing) {
        snprintf(err, errlen, "the feed is shutting down");
        return 0;
    }
    uint64_t seq = f->publisher(f->publisher_ctx, data, len, err, errlen);
    if (seq > 0) {
        feed_lock(f);
        f->published++;
        feed_unlock(f);
    }
    return seq;
}

uint64_t feed_publish_err(struct feed *f, const char *data, size_t len, char *err,
                          size_t errlen)
{
    /* the publisher is set before any thread that publishes starts */
    if (f->publisher)
        return publish_elsewhere(f, data, len, err, errlen);
    /* Render outside the lock: stamping and escaping need no shared state. The stamp
     * is taken as late as possible so it is the moment the update becomes visible. */
    char *escaped = escape_data(data, len);
    if (!escaped) {
        snprintf(err, errlen, "out of memory for a %zu-byte update", len);
        return 0;
    }
    feed_lock(f);
    if (f->closing) {
        feed_unlock(f);
        free(escaped);
        snprintf(err, errlen, "the feed is shutting down");
        return 0;
    }
    uint64_t seq = f->newest + 1;
    int64_t ts = clock_real_ns();
    size_t json_len;
    char *json = render_update(seq, ts, escaped, &json_len);
    free(escaped);
    if (!json) {
        feed_unlock(f);
        snprintf(err, errlen, "out of memory for a %zu-byte update", len);
        return 0;
    }
    store_locked(f, seq, ts, json, json_len);
    log_locked(f, json, json_len);
    f->published++;
    struct feed_waiter *woken = announce_locked(f);
    feed_unlock(f);
    wake_all(woken);
    return seq;
}

uint64_t feed_publish(struct feed *f, const char *data, size_t len)
{
    char err[128];
    return feed_publish_err(f, data, len, err, sizeof(err));
}

long feed_insert(struct feed *f, const struct feed_entry *e, size_t n)
{
    long added = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* rendered outside the lock, as a publish is */
        char *escaped = escape_data(e[i].data, e[i].len);
        size_t len = 0;
        char *json = escaped ? render_update(e[i].seq, e[i].ts_ns, escaped, &len) : NULL;
        free(escaped);
        feed_lock(f);
        if (!json || f->closing) {
            rc = -1;
        } else if (e[i].seq > f->newest) {
            store_locked(f, e[i].seq, e[i].ts_ns, json, len);
            json = NULL;
            added++;
        }
        feed_unlock(f);
        free(json);
    }
    if (added > 0)
        announce(f);
    return rc == 0 ? added : -1;
}

void feed_reset(struct feed *f)
{
    feed_lock(f);
    for (size_t i = 0; i < f->capacity; i++) {
        free(f->ring[i].json);
        f->ring[i] = (struct feed_update){0};
    }
    f->newest = 0;
    f->floor = 0;
    f->resets++;
    feed_unlock(f);
    announce(f);
}

uint64_t feed_reset_generation_locked(const struct feed *f)
{
    return f->resets;
}

uint64_t feed_newest_locked(const struct feed *f)
{
    return f->newest;
}

uint64_t feed_oldest_locked(const struct feed *f)
{
    if (f->newest == 0)
        return 0;
    uint64_t oldest = f->newest > f->capacity ? f->newest - f->capacity + 1 : 1;
    return oldest > f->floor ? oldest : f->floor;
}

uint64_t feed_newest(struct feed *f)
{
    feed_lock(f);
    uint64_t n = f->newest;
    feed_unlock(f);
    return n;
}

uint64_t feed_published(struct feed *f)
{
    feed_lock(f);
    uint64_t n = f->published;
    feed_unlock(f);
    return n;
}

const struct feed_update *feed_get_locked(const struct feed *f, uint64_t seq)
{
    if (seq == 0 || seq > f->newest || seq < feed_oldest_locked(f))
        return NULL;
    return &f->ring[(seq - 1) % f->capacity];
}

struct feed_range feed_range_locked(const struct feed *f, uint64_t since, uint64_t limit)
{
    struct feed_range r = {.first = since + 1, .count = 0, .reset = false};
    uint64_t oldest = feed_oldest_locked(f);
    if (since > f->newest) {
        /* A cursor from the future: the client saw another run of the server. */
        r.reset = true;
        r.first = f->newest ? oldest : 1;
    } else if (f->newest > 0 && since + 1 < oldest) {
        /* Updates since+1 .. oldest-1 have left the ring. */
        r.reset = true;
        r.first = oldest;
    }
    if (f->newest >= r.first)
        r.count = f->newest - r.first + 1;
    if (limit > 0 && r.count > limit)
        r.count = limit;
    return r;
}

int feed_park_locked(struct feed *f, struct feed_waiter *w)
{
    if (f->closing)
        return -1;
    w->why = FEED_WAKE_NONE;
    w->parked = true;
    w->parked_by = &this_thread;
    w->prev = NULL;
    w->next = f->waiters;
    if (f->waiters)
        f->waiters->prev = w;
    f->waiters = w;
    f->nwaiters++;
    if (w->deadline_ns < f->parked_min_ns)
        f->parked_min_ns = w->deadline_ns;
    if (w->deadline_ns < f->sweep_until_ns)
        pthread_cond_signal(&f->sweep_cond);
    return 0;
}

void feed_unpark_locked(struct feed *f, struct feed_waiter *w)
{
    if (!w->parked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        f->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->parked = false;
    f->nwaiters--;
}

size_t feed_parked(struct feed *f)
{
    feed_lock(f);
    size_t n = f->nwaiters;
    feed_unlock(f);
    return n;
}

bool feed_closing_locked(const struct feed *f)
{
    return f->closing;
}

/* Make room for n entries in the sweep scratch arrays. Lock held. */
static int reserve_poll_locked(struct feed *f, size_t n)
{
    if (n <= f->pcap)
        return 0;
    struct pollfd *p = realloc(f->pfds, n * sizeof(*p));
    if (!p)
        return -1;
    f->pfds = p;
    struct feed_waiter **w = realloc(f->pwait, n * sizeof(*w));
    if (!w)
        return -1;
    f->pwait = w;
    f->pcap = n;
    return 0;
}

size_t feed_sweep(struct feed *f, int64_t now_ns, bool check_peers,
                  int64_t *next_deadline_ns)
{
    struct feed_waiter *woken = NULL;
    feed_lock(f);
    if (check_peers && reserve_poll_locked(f, f->nwaiters) == 0) {
        size_t n = 0;
        for (struct feed_waiter *w = f->waiters; w; w = w->next) {
            if (w->fd < 0)
                continue;
            f->pfds[n] = (struct pollfd){.fd = w->fd, .events = POLLRDHUP};
            f->pwait[n++] = w;
        }
        if (n > 0 && poll(f->pfds, n, 0) > 0) {
            for (size_t i = 0; i < n; i++) {
                if (f->pfds[i].revents & (POLLRDHUP | POLLHUP | POLLERR))
                    detach_locked(f, f->pwait[i], FEED_WAKE_GONE, &woken);
            }
        }
    }
    int64_t next = INT64_MAX;
    f->parked_min_ns = INT64_MAX;
    struct feed_waiter *w = f->waiters;
    while (w) {
        struct feed_waiter *after = w->next; /* detach_locked relinks w */
        if (w->deadline_ns <= now_ns) {
            detach_locked(f, w, FEED_WAKE_DEADLINE, &woken);
        } else if (w->deadline_ns < next) {
            next = w->deadline_ns;
        }
        w = after;
    }
    feed_unlock(f);
    if (next_deadline_ns)
        *next_deadline_ns = next;
    return wake_all(woken);
}

void feed_wait_sweep(struct feed *f, int64_t until_ns)
{
    feed_lock(f);
    /* A park between the last sweep and now may have an earlier deadline. */
    if (f->parked_min_ns < until_ns)
        until_ns = f->parked_min_ns;
    if (!f->closing) {
        f->sweep_until_ns = until_ns;
        struct timespec ts = clock_ts_from_ns(until_ns);
        /* A park with an earlier deadline signals; a spurious wake-up just sweeps early. */
        if (clock_mono_ns() < until_ns)
            pthread_cond_timedwait(&f->sweep_cond, &f->lock, &ts);
        f->sweep_until_ns = INT64_MAX;
    }
    feed_unlock(f);
}

size_t feed_drop(struct feed *f)
{
    struct feed_waiter *woken = NULL;
    feed_lock(f);
    f->drops++;
    while (f->waiters)
        detach_locked(f, f->waiters, FEED_WAKE_DROP, &woken);
    feed_unlock(f);
    return wake_all(woken);
}

uint64_t feed_drop_generation_locked(const struct feed *f)
{
    return f->drops;
}

void feed_close(struct feed *f)
{
    feed_lock(f);
    f->closing = true;
    struct feed_waiter *woken = NULL;
    while (f->waiters)
        detach_locked(f, f->waiters, FEED_WAKE_SHUTDOWN, &woken);
    pthread_cond_broadcast(&f->sweep_cond);
    feed_unlock(f);
    wake_all(woken);
}
