/* redis_feed_impl.h: what the feed-through-Redis module's two files share (redis_feed.c,
 * redis_follow.c): the one struct both touch, its limits, and the calls between them; not
 * for other files, which see redis_feed.h only.
 *
 * redis_feed.c owns the struct (start, free, /stats) and publishes through it;
 * redis_follow.c is the follower thread and the link's up/down state. The fields'
 * comments say which side may touch each and under which lock.
 */
#ifndef PUSHPULL_REDIS_FEED_IMPL_H
#define PUSHPULL_REDIS_FEED_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "clock.h"
#include "redis_feed.h"

#define FOLLOW_CONNECT_MS 1000
#define FOLLOW_BLOCK_MS   2000                     /* XREAD BLOCK */
#define FOLLOW_REPLY_MS   (FOLLOW_BLOCK_MS + 3000) /* past this, Redis is taken for gone */
#define FOLLOW_COUNT      1000                     /* entries per XREAD or XRANGE */
#define BACKOFF_MIN_NS    (100 * NS_PER_MS)
#define BACKOFF_MAX_NS    (2 * NS_PER_S)
#define OWN_WAIT_NS       NS_PER_S /* a publisher waits this long for its own update */
#define EPOCH_MAX         64

enum redis_state { REDIS_UP, REDIS_DOWN };

/* A running mean, maximum and last value of a duration, in ns, readable without a lock. */
struct gauge {
    atomic_uint_least64_t sum, n, max, last;
};

static inline void gauge_add(struct gauge *g, int64_t v)
{
    uint64_t u = v > 0 ? (uint64_t)v : 0;
    atomic_fetch_add(&g->sum, u);
    atomic_fetch_add(&g->n, 1);
    atomic_store(&g->last, u);
    uint64_t m = atomic_load(&g->max);
    while (u > m && !atomic_compare_exchange_weak(&g->max, &m, u))
        ;
}
struct redis_feed {
    struct feed *feed;
    struct redis_addr addr;
    char *key;       /* the stream's key (owned) */
    char *epoch_key; /* K:epoch (owned) */
    size_t maxlen;   /* the stream's MAXLEN ~ bound */
    size_t buffer;   /* updates loaded at start */

    /* The follower's own: only its thread (or start, before the thread) touches them. */
    uint64_t last_seq;                     /* the newest seq taken from the stream */
    char epoch[EPOCH_MAX];                 /* the stream's epoch, "" when it had none yet */
    bool synced;                           /* the first sync (the load) is done */
    bool refused_said;                     /* a malformed entry was reported */
    struct feed_entry batch[FOLLOW_COUNT]; /* entries on their way into the ring */
    pthread_t thread;
    bool thread_started;

    /* Shared, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* CLOCK_MONOTONIC: followed, state or stop changed */
    redisContext *follow;        /* the follower's connection (stop shuts its socket) */
    bool stop;                   /* redis_feed_free was called */
    enum redis_state state;      /* up or down */
    int64_t state_since_real_ns; /* when it changed last (CLOCK_REALTIME) */
    int64_t state_since_mono_ns; /* the same, for durations */
    int64_t down_total_ns;       /* time spent down, finished outages */
    uint64_t followed;           /* last_seq, for publishers waiting for theirs */
    uint64_t generation;         /* bumped by every outage and stream reset */
    bool publisher_stale;        /* an outage since the publisher last connected */
    char epoch_shown[EPOCH_MAX]; /* epoch, for /stats */

    /* Publishing: one at a time per instance. */
    pthread_mutex_t pub_lock;
    struct redis_publisher *pub;

    /* Counters, each bumped at one place. */
    atomic_uint_least64_t reconnects;        /* outages ended */
    atomic_uint_least64_t connect_failures;  /* attempts to reconnect that failed */
    atomic_uint_least64_t stream_resets;     /* the stream was lost: the ring emptied */
    atomic_uint_least64_t gaps;              /* updates left the stream before read */
    atomic_uint_least64_t loaded;            /* updates loaded at start */
    atomic_uint_least64_t followed_n;        /* updates put into the ring after start */
    atomic_uint_least64_t refused;           /* malformed entries skipped */
    atomic_uint_least64_t publish_failures;  /* refused or not sent: nothing published */
    atomic_uint_least64_t publish_unknown;   /* reply lost twice: in the feed once or not */
    atomic_uint_least64_t publish_retries;   /* reply lost once, sent again */
    atomic_uint_least64_t own_wait_timeouts; /* own update not followed within the wait */
    struct gauge lag;      /* receipt (CLOCK_REALTIME) minus the update's stamp */
    struct gauge rtt;      /* the publish script's round trip */
    struct gauge own_wait; /* publish acknowledged to own update in the ring */
};

/* redis_feed.c. "pushpull-server: redis HOST:PORT: <message>" on stderr. */
void redis_feed_say(const struct redis_feed *rf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* redis_follow.c. Connect and sync (at start, and after an outage). 0 with rf->follow
 * set, or -1 with err set; how says what the sync found, for the log. */
int redis_follow_connect(struct redis_feed *rf, char *how, size_t howlen, char *err,
                         size_t errlen);
/* Take the follower's connection from rf->follow and free it (none: nothing). */
void redis_follow_close(struct redis_feed *rf);
/* The follower thread (pthread_create's start routine, arg the redis_feed): reads, and
 * goes down and up with Redis, until redis_feed_free sets stop. */
void *redis_follow_main(void *arg);

#endif
