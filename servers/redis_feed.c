/* redis_feed.c: following the feed's Redis stream, the state of the link to Redis, and
 * publishing through it (see redis_feed.h).
 *
 * The follower thread owns one connection and one state machine:
 *
 *     (start) --connect, sync, load--> up
 *     up   --a read fails (closed, reset, no reply within the block time + 3 s)--> down
 *     down --connect and sync, after 100 ms, then 200, 400, ... at most 2 s--> up
 *
 * Each change is one line on stderr and shows in /stats. "Sync" compares the stream with
 * what the ring holds, reading the stream's epoch and newest id in one MULTI/EXEC:
 *   - the first time (at start): the newest --buffer updates are loaded into the ring;
 *   - the same epoch and a newest id not below the last one held: the same stream, and
 *     the follower goes on from the last id it holds (XREAD from there), so whatever was
 *     published meanwhile (by instances that could still reach Redis) is caught up;
 *   - another epoch, none any more, or a newest id below the last held: the stream was
 *     lost and may have begun again (Redis restarted without persistence, or flushed).
 *     The ring is emptied (feed_reset) and followed again from the stream's start. Held
 *     polls and open streams are woken; their cursors are then ahead of the feed, and they
 *     get a reset, as from a server restarted with an in-memory feed.
 * The same check runs whenever a blocking XREAD ends with nothing (every 2 s of
 * silence), so a stream deleted under a live connection is noticed too.
 *
 * Updates arrive in batches of up to 1,000 (XREAD COUNT); each batch goes into the ring
 * with one wake of the parked waiters. An update whose seq is more than one past the
 * last held means the ones between left the stream (MAXLEN) before this instance read
 * them: counted as a gap and said once; cursors in it get a reset.
 *
 * Publishing (publish_through_redis, the feed's publisher): refused at once, 503, while
 * the state is down; otherwise one publish at a time per instance goes through
 * redis_publish.c, and the caller then waits (at most OWN_WAIT_NS) until the follower
 * has the update in the ring.
 */
#include "redis_feed.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>

#include "clock.h"
#include "jsonw.h"
#include "redis_publish.h"
#include "redis_stream.h"

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

static void gauge_add(struct gauge *g, int64_t v)
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

/* "pushpull-server: redis HOST:PORT: <message>" on stderr. */
static void say(const struct redis_feed *rf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const struct redis_feed *rf, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "pushpull-server: redis %s:%u: %s\n", rf->addr.host, rf->addr.port,
            msg);
}

static bool stopping(struct redis_feed *rf)
{
    pthread_mutex_lock(&rf->lock);
    bool s = rf->stop;
    pthread_mutex_unlock(&rf->lock);
    return s;
}

/* ---- the state ---------------------------------------------------------- */

/* Redis went away (why: the failed call). Said once per outage. */
static void went_down(struct redis_feed *rf, const char *why)
{
    pthread_mutex_lock(&rf->lock);
    bool changed = rf->state == REDIS_UP;
    if (changed) {
        rf->state = REDIS_DOWN;
        rf->state_since_real_ns = clock_real_ns();
        rf->state_since_mono_ns = clock_mono_ns();
        rf->generation++;
        rf->publisher_stale = true;
        pthread_cond_broadcast(&rf->cond);
    }
    pthread_mutex_unlock(&rf->lock);
    if (changed)
        say(rf,
            "down (%s): serving the updates held (newest %llu), publishes answer 503, "
            "reconnecting",
            why, (unsigned long long)rf->last_seq);
}

/* Redis is back; how: what the sync found. */
static void came_up(struct redis_feed *rf, const char *how)
{
    pthread_mutex_lock(&rf->lock);
    bool changed = rf->state == REDIS_DOWN;
    int64_t down_ns = clock_mono_ns() - rf->state_since_mono_ns;
    if (changed) {
        rf->state = REDIS_UP;
        rf->down_total_ns += down_ns;
        rf->state_since_real_ns = clock_real_ns();
        rf->state_since_mono_ns = clock_mono_ns();
        pthread_cond_broadcast(&rf->cond);
    }
    pthread_mutex_unlock(&rf->lock);
    if (changed) {
        atomic_fetch_add(&rf->reconnects, 1);
        say(rf, "up again after %.1f s down: %s", (double)down_ns / 1e9, how);
    }
}

/* The ring now holds everything up to last_seq: tell waiting publishers. */
static void set_followed(struct redis_feed *rf)
{
    pthread_mutex_lock(&rf->lock);
    rf->followed = rf->last_seq;
    pthread_cond_broadcast(&rf->cond);
    pthread_mutex_unlock(&rf->lock);
}

static void set_epoch(struct redis_feed *rf, const char *epoch)
{
    snprintf(rf->epoch, sizeof(rf->epoch), "%s", epoch);
    pthread_mutex_lock(&rf->lock);
    snprintf(rf->epoch_shown, sizeof(rf->epoch_shown), "%s", epoch);
    pthread_mutex_unlock(&rf->lock);
}

/* ---- reading the stream ------------------------------------------------- */

/* Put a reply's entries into the ring, oldest first. loading: the start's load (no gap
 * is counted before the first, no lag is recorded). 0, or -1 when the feed is closing. */
static int take_entries(struct redis_feed *rf, const redisReply *entries, size_t n,
                        bool loading)
{
    size_t k = 0;
    int64_t now = clock_real_ns();
    for (size_t i = 0; i < n && i < FOLLOW_COUNT; i++) {
        char why[160];
        struct feed_entry *e = &rf->batch[k];
        if (redis_stream_entry(entries->element[i], e, why, sizeof(why)) != 0) {
            atomic_fetch_add(&rf->refused, 1);
            if (!rf->refused_said)
                say(rf,
                    "stream %s: skipping an entry pushpull did not write (%s); later "
                    "ones are only counted (entries_refused)",
                    rf->key, why);
            rf->refused_said = true;
            continue;
        }
        uint64_t newest = k > 0 ? rf->batch[k - 1].seq : rf->last_seq;
        if (e->seq <= newest)
            continue; /* held already */
        if (e->seq > newest + 1 && newest > 0 && !loading) {
            atomic_fetch_add(&rf->gaps, 1);
            say(rf,
                "updates %llu to %llu left the stream before this instance read them "
                "(MAXLEN %zu): cursors among them get a reset",
                (unsigned long long)newest + 1, (unsigned long long)e->seq - 1, rf->maxlen);
        }
        if (!loading)
            gauge_add(&rf->lag, now - e->ts_ns);
        k++;
    }
    if (k == 0)
        return 0;
    if (feed_insert(rf->feed, rf->batch, k) < 0)
        return -1;
    rf->last_seq = rf->batch[k - 1].seq;
    atomic_fetch_add(loading ? &rf->loaded : &rf->followed_n, k);
    set_followed(rf);
    return 0;
}

/* The stream's epoch ("" when none) and newest seq (0 when empty), read in one step.
 * 0, or -1 with err set (-2: the connection is fine, the answer is not). */
static int read_head(struct redis_feed *rf, redisContext *c, char *epoch, uint64_t *newest,
                     char *err, size_t errlen)
{
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *get[] = {"GET", rf->epoch_key};
    const char *top[] = {"XREVRANGE", rf->key, "+", "-", "COUNT", "1"};
    redisAppendCommandArgv(c, 1, multi, NULL);
    redisAppendCommandArgv(c, 2, get, NULL);
    redisAppendCommandArgv(c, 6, top, NULL);
    redisAppendCommandArgv(c, 1, exec, NULL);
    redisReply *r[4] = {NULL, NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (redisGetReply(c, (void **)&r[i]) != REDIS_OK) {
            snprintf(err, errlen, "MULTI/EXEC: %s", c->errstr);
            rc = -1;
        }
    }
    const redisReply *x = rc == 0 ? r[3] : NULL;
    const redisReply *ep =
        x && x->type == REDIS_REPLY_ARRAY && x->elements == 2 ? x->element[0] : NULL;
    const redisReply *entries = NULL;
    size_t n = 0;
    char why[160] = "";
    if (rc == 0 &&
        (!ep || (ep->type != REDIS_REPLY_NIL && ep->type != REDIS_REPLY_STRING) ||
         redis_stream_entries(x->element[1], false, &entries, &n, why, sizeof(why)) != 0)) {
        snprintf(err, errlen, "MULTI/EXEC of GET %s and XREVRANGE %s: %s", rf->epoch_key,
                 rf->key,
                 x && x->type == REDIS_REPLY_ERROR ? x->str
                 : why[0]                          ? why
                                                   : "an unexpected answer");
        rc = -2;
    }
    if (rc == 0) {
        snprintf(epoch, EPOCH_MAX, "%.*s",
                 ep->type == REDIS_REPLY_STRING ? (int)ep->len : 0, ep->str ? ep->str : "");
        *newest = 0;
        if (n > 0 && entries->element[0]->type == REDIS_REPLY_ARRAY &&
            entries->element[0]->elements == 2 && entries->element[0]->element[0]->str)
            *newest = redis_stream_id_seq(entries->element[0]->element[0]->str,
                                          entries->element[0]->element[0]->len);
    }
    for (int i = 0; i < 4; i++)
        if (r[i])
            freeReplyObject(r[i]);
    return rc;
}

/* Load the stream's newest rf->buffer updates into the ring (at start). 0 or -1. */
static int load_newest(struct redis_feed *rf, redisContext *c, uint64_t newest, char *err,
                       size_t errlen)
{
    uint64_t from = newest > rf->buffer ? newest - rf->buffer + 1 : 1;
    for (;;) {
        char start[32], count[16];
        snprintf(start, sizeof(start), "%llu-0", (unsigned long long)from);
        snprintf(count, sizeof(count), "%d", FOLLOW_COUNT);
        const char *argv[] = {"XRANGE", rf->key, start, "+", "COUNT", count};
        redisReply *r = redis_conn_command(c, 6, argv, NULL, err, errlen);
        if (!r)
            return -1;
        const redisReply *entries;
        size_t n;
        char why[160];
        int rc = r->type == REDIS_REPLY_ERROR
                     ? -1
                     : redis_stream_entries(r, false, &entries, &n, why, sizeof(why));
        if (rc != 0 && r->type != REDIS_REPLY_ERROR)
            snprintf(err, errlen, "XRANGE %s: %s", rf->key, why);
        if (rc == 0 && take_entries(rf, entries, n, true) != 0)
            rc = -1;
        freeReplyObject(r);
        if (rc != 0)
            return -1;
        if (n < FOLLOW_COUNT || rf->last_seq >= newest)
            return 0;
        from = rf->last_seq + 1;
    }
}

/* Compare the stream with what the ring holds, and act (see the top). how: what was
 * found, for the log. 0, or -1 with err set. */
static int sync_stream(struct redis_feed *rf, redisContext *c, char *how, size_t howlen,
                       char *err, size_t errlen)
{
    char epoch[EPOCH_MAX] = "";
    uint64_t newest = 0;
    if (read_head(rf, c, epoch, &newest, err, errlen) != 0)
        return -1;
    if (!rf->synced) {
        set_epoch(rf, epoch);
        if (load_newest(rf, c, newest, err, errlen) != 0)
            return -1;
        rf->synced = true;
        snprintf(how, howlen, "following stream %s from seq %llu (%llu updates loaded)",
                 rf->key, (unsigned long long)rf->last_seq,
                 (unsigned long long)atomic_load(&rf->loaded));
        return 0;
    }
    /* an epoch not known yet (the stream was empty when first seen) matches any */
    bool same =
        (rf->epoch[0] == '\0' || strcmp(epoch, rf->epoch) == 0) && newest >= rf->last_seq;
    if (same) {
        set_epoch(rf, epoch);
        snprintf(how, howlen,
                 "the same stream: following from seq %llu, %llu published "
                 "meanwhile",
                 (unsigned long long)rf->last_seq,
                 (unsigned long long)(newest - rf->last_seq));
        return 0;
    }
    snprintf(how, howlen,
             "the stream %s was lost (epoch \"%s\", now \"%s\"; newest seq %llu, %llu "
             "held): the feed starts over, the ring is emptied and cursors get a reset",
             rf->key, rf->epoch, epoch, (unsigned long long)newest,
             (unsigned long long)rf->last_seq);
    atomic_fetch_add(&rf->stream_resets, 1);
    feed_reset(rf->feed);
    rf->last_seq = 0;
    set_epoch(rf, epoch);
    pthread_mutex_lock(&rf->lock);
    rf->generation++;
    pthread_mutex_unlock(&rf->lock);
    set_followed(rf);
    return 0;
}

/* Connect and sync. 0 with rf->follow set, or -1 with err set. */
static int follow_connect(struct redis_feed *rf, char *how, size_t howlen, char *err,
                          size_t errlen)
{
    redisContext *c =
        redis_conn_open(&rf->addr, FOLLOW_CONNECT_MS, FOLLOW_REPLY_MS, err, errlen);
    if (!c)
        return -1;
    if (sync_stream(rf, c, how, howlen, err, errlen) != 0) {
        redisFree(c);
        return -1;
    }
    pthread_mutex_lock(&rf->lock);
    bool stop = rf->stop;
    if (!stop)
        rf->follow = c;
    pthread_mutex_unlock(&rf->lock);
    if (stop)
        redisFree(c);
    return stop ? -1 : 0;
}

static void follow_close(struct redis_feed *rf)
{
    pthread_mutex_lock(&rf->lock);
    redisContext *c = rf->follow;
    rf->follow = NULL; /* from here redis_feed_free cannot reach it */
    pthread_mutex_unlock(&rf->lock);
    if (c)
        redisFree(c);
}

/* Learn the stream's epoch once it has one (it had none when first seen). */
static void learn_epoch(struct redis_feed *rf)
{
    const char *argv[] = {"GET", rf->epoch_key};
    char err[160];
    redisReply *r = redis_conn_command(rf->follow, 2, argv, NULL, err, sizeof(err));
    if (r && r->type == REDIS_REPLY_STRING) {
        char epoch[EPOCH_MAX];
        snprintf(epoch, sizeof(epoch), "%.*s", (int)r->len, r->str);
        set_epoch(rf, epoch);
    }
    if (r)
        freeReplyObject(r);
}

/* One blocking XREAD after the last id held. 0; -1 with err set when the connection
 * failed; -2 when the feed is closing. */
static int follow_read(struct redis_feed *rf, char *err, size_t errlen)
{
    char from[32], count[16], block[16];
    snprintf(from, sizeof(from), "%llu-0", (unsigned long long)rf->last_seq);
    snprintf(count, sizeof(count), "%d", FOLLOW_COUNT);
    snprintf(block, sizeof(block), "%d", FOLLOW_BLOCK_MS);
    const char *argv[] = {"XREAD", "COUNT",   count,   "BLOCK",
                          block,   "STREAMS", rf->key, from};
    redisReply *r = redis_conn_command(rf->follow, 8, argv, NULL, err, errlen);
    if (!r)
        return -1;
    const redisReply *entries;
    size_t n;
    char why[160];
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        rc = -1; /* a stream key holding something else: err says what */
    } else if (redis_stream_entries(r, true, &entries, &n, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "XREAD %s: %s", rf->key, why);
        rc = -1;
    } else if (n == 0) {
        /* silence: is it still the stream we follow? */
        char how[512];
        pthread_mutex_lock(&rf->lock);
        uint64_t gen = rf->generation;
        pthread_mutex_unlock(&rf->lock);
        rc = sync_stream(rf, rf->follow, how, sizeof(how), err, errlen);
        pthread_mutex_lock(&rf->lock);
        bool reset = rf->generation != gen;
        pthread_mutex_unlock(&rf->lock);
        if (rc == 0 && reset)
            say(rf, "%s", how);
    } else if (take_entries(rf, entries, n, false) != 0) {
        rc = -2;
    } else if (rf->epoch[0] == '\0') {
        learn_epoch(rf);
    }
    freeReplyObject(r);
    return rc;
}

/* Sleep ns, or until stop. */
static void nap(struct redis_feed *rf, int64_t ns)
{
    struct timespec until = clock_ts_from_ns(clock_mono_ns() + ns);
    pthread_mutex_lock(&rf->lock);
    while (!rf->stop && clock_mono_ns() < until.tv_sec * NS_PER_S + until.tv_nsec)
        pthread_cond_timedwait(&rf->cond, &rf->lock, &until);
    pthread_mutex_unlock(&rf->lock);
}

static void *follow_main(void *arg)
{
    struct redis_feed *rf = arg;
    int64_t backoff = BACKOFF_MIN_NS;
    char err[256], how[512];
    while (!stopping(rf)) {
        if (!rf->follow) {
            if (follow_connect(rf, how, sizeof(how), err, sizeof(err)) != 0) {
                if (stopping(rf))
                    break;
                went_down(rf, err);
                atomic_fetch_add(&rf->connect_failures, 1);
                nap(rf, backoff);
                backoff = backoff * 2 < BACKOFF_MAX_NS ? backoff * 2 : BACKOFF_MAX_NS;
                continue;
            }
            backoff = BACKOFF_MIN_NS;
            came_up(rf, how);
        }
        int rc = follow_read(rf, err, sizeof(err));
        if (rc == -2)
            break; /* the feed is closing */
        if (rc < 0) {
            follow_close(rf);
            if (!stopping(rf))
                went_down(rf, err);
        }
    }
    follow_close(rf);
    return NULL;
}

/* ---- publishing --------------------------------------------------------- */

/* The feed's publisher (feed_set_publisher): see the top. */
static uint64_t publish_through_redis(void *ctx, const char *data, size_t len, char *err,
                                      size_t errlen)
{
    struct redis_feed *rf = ctx;
    pthread_mutex_lock(&rf->lock);
    bool up = rf->state == REDIS_UP;
    double down_s = (double)(clock_mono_ns() - rf->state_since_mono_ns) / 1e9;
    pthread_mutex_unlock(&rf->lock);
    if (!up) {
        atomic_fetch_add(&rf->publish_failures, 1);
        snprintf(err, errlen,
                 "Redis at %s:%u is unreachable (down for %.1f s): nothing was published",
                 rf->addr.host, rf->addr.port, down_s);
        return 0;
    }
    char why[256] = "";
    uint64_t seq = 0;
    bool retried = false;
    int64_t rtt = 0;
    pthread_mutex_lock(&rf->pub_lock);
    pthread_mutex_lock(&rf->lock);
    bool stale = rf->publisher_stale;
    rf->publisher_stale = false;
    uint64_t gen = rf->generation;
    pthread_mutex_unlock(&rf->lock);
    if (stale)
        redis_publisher_disconnect(rf->pub); /* that connection died in the outage */
    /* stamped here, under the publish lock: this instance's stamps follow its seqs */
    enum redis_publish_result res = redis_publish(rf->pub, clock_real_ns(), data, len, &seq,
                                                  &retried, &rtt, why, sizeof(why));
    pthread_mutex_unlock(&rf->pub_lock);
    if (retried)
        atomic_fetch_add(&rf->publish_retries, 1);
    switch (res) {
    case REDIS_PUBLISH_OK:
        break;
    case REDIS_PUBLISH_UNKNOWN:
        atomic_fetch_add(&rf->publish_unknown, 1);
        snprintf(err, errlen,
                 "Redis at %s:%u went away before answering, twice (%s): the update is in "
                 "the feed once or not at all, and is not sent again",
                 rf->addr.host, rf->addr.port, why);
        return 0;
    case REDIS_PUBLISH_NOT_SENT:
        atomic_fetch_add(&rf->publish_failures, 1);
        snprintf(err, errlen,
                 "Redis at %s:%u cannot be reached (%s): nothing was published",
                 rf->addr.host, rf->addr.port, why);
        return 0;
    case REDIS_PUBLISH_REFUSED:
    default:
        atomic_fetch_add(&rf->publish_failures, 1);
        snprintf(err, errlen, "Redis at %s:%u refused it (%s): nothing was published",
                 rf->addr.host, rf->addr.port, why);
        return 0;
    }
    gauge_add(&rf->rtt, rtt);
    /* Wait for the follower to put it into the ring (see redis_feed.h). */
    int64_t t0 = clock_mono_ns();
    struct timespec until = clock_ts_from_ns(t0 + OWN_WAIT_NS);
    pthread_mutex_lock(&rf->lock);
    while (rf->followed < seq && rf->generation == gen && !rf->stop &&
           clock_mono_ns() < t0 + OWN_WAIT_NS)
        pthread_cond_timedwait(&rf->cond, &rf->lock, &until);
    bool arrived = rf->followed >= seq;
    pthread_mutex_unlock(&rf->lock);
    gauge_add(&rf->own_wait, clock_mono_ns() - t0);
    if (!arrived)
        atomic_fetch_add(&rf->own_wait_timeouts, 1);
    return seq;
}

/* ---- start, stop, /stats ------------------------------------------------ */

struct redis_feed *redis_feed_start(struct feed *f, const struct redis_feed_config *cfg,
                                    char *err, size_t errlen)
{
    struct redis_feed *rf = calloc(1, sizeof(*rf));
    size_t klen = strlen(cfg->key);
    char why[256], how[512];
    if (!rf || !(rf->key = strdup(cfg->key)) || !(rf->epoch_key = malloc(klen + 8)) ||
        !(rf->pub = redis_publisher_new(&cfg->addr, cfg->key, cfg->maxlen))) {
        snprintf(err, errlen, "--redis: out of memory");
        goto fail;
    }
    snprintf(rf->epoch_key, klen + 8, "%s:epoch", cfg->key);
    rf->feed = f;
    rf->addr = cfg->addr;
    rf->maxlen = cfg->maxlen;
    rf->buffer = cfg->buffer;
    rf->state = REDIS_UP;
    rf->state_since_real_ns = clock_real_ns();
    rf->state_since_mono_ns = clock_mono_ns();
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&rf->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&rf->lock, NULL);
    pthread_mutex_init(&rf->pub_lock, NULL);
    if (follow_connect(rf, how, sizeof(how), why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--redis %s:%u: %s", cfg->addr.host, cfg->addr.port, why);
        goto fail_sync;
    }
    int rc = pthread_create(&rf->thread, NULL, follow_main, rf);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail_sync;
    }
    rf->thread_started = true;
    say(rf, "up: %s", how);
    feed_set_publisher(f, publish_through_redis, rf);
    return rf;
fail_sync:
    follow_close(rf);
    pthread_mutex_destroy(&rf->pub_lock);
    pthread_mutex_destroy(&rf->lock);
    pthread_cond_destroy(&rf->cond);
fail:
    if (rf) {
        redis_publisher_free(rf->pub);
        free(rf->epoch_key);
        free(rf->key);
    }
    free(rf);
    return NULL;
}

void redis_feed_free(struct redis_feed *rf)
{
    if (!rf)
        return;
    pthread_mutex_lock(&rf->lock);
    rf->stop = true;
    if (rf->follow)
        shutdown(rf->follow->fd, SHUT_RDWR); /* ends a blocking XREAD at once */
    pthread_cond_broadcast(&rf->cond);
    pthread_mutex_unlock(&rf->lock);
    if (rf->thread_started)
        pthread_join(rf->thread, NULL);
    follow_close(rf);
    redis_publisher_free(rf->pub);
    pthread_mutex_destroy(&rf->pub_lock);
    pthread_mutex_destroy(&rf->lock);
    pthread_cond_destroy(&rf->cond);
    free(rf->epoch_key);
    free(rf->key);
    free(rf);
}

static double gauge_mean(struct gauge *g, double unit)
{
    uint64_t n = atomic_load(&g->n);
    return n ? (double)atomic_load(&g->sum) / (double)n / unit : 0;
}

int redis_feed_render(struct redis_feed *rf, uint64_t generator_failures, struct dynbuf *b)
{
    pthread_mutex_lock(&rf->lock);
    bool up = rf->state == REDIS_UP;
    int64_t since = rf->state_since_real_ns;
    double for_s = (double)(clock_mono_ns() - rf->state_since_mono_ns) / 1e9;
    double down_s = (double)rf->down_total_ns / 1e9 + (up ? 0 : for_s);
    uint64_t followed = rf->followed;
    char epoch[EPOCH_MAX];
    snprintf(epoch, sizeof(epoch), "%s", rf->epoch_shown);
    pthread_mutex_unlock(&rf->lock);
    b->len--; /* reopen the object: drop its closing brace */
    int rc = dynbuf_adds(b, ",\"redis\":{\"address\":");
    char addr[REDIS_HOST_MAX + 8];
    int alen = snprintf(addr, sizeof(addr), "%s:%u", rf->addr.host, rf->addr.port);
    rc = rc ? rc : jsonw_string(b, addr, (size_t)alen);
    rc = rc ? rc : dynbuf_adds(b, ",\"key\":");
    rc = rc ? rc : jsonw_string(b, rf->key, strlen(rf->key));
    rc = rc ? rc : dynbuf_adds(b, ",\"epoch\":");
    rc = rc ? rc : jsonw_string(b, epoch, strlen(epoch));
    rc = rc ? rc
            : dynbuf_addf(
                  b,
                  ",\"maxlen\":%zu,\"instance\":\"%s\",\"state\":\"%s\","
                  "\"state_since_unix_ns\":%lld,\"state_for_s\":%.3f,\"down_s_total\":%.3f,"
                  "\"reconnects\":%llu,\"connect_failures\":%llu,\"stream_resets\":%llu,"
                  "\"gaps\":%llu,\"newest_followed\":%llu,\"updates_loaded\":%llu,"
                  "\"updates_followed\":%llu,\"entries_refused\":%llu,"
                  "\"lag_ms_last\":%.3f,\"lag_ms_mean\":%.3f,\"lag_ms_max\":%.3f,"
                  "\"publish_failures\":%llu,\"publish_unknown\":%llu,"
                  "\"publish_retries\":%llu,\"generator_failures\":%llu,"
                  "\"publish_rtt_us_mean\":%.1f,\"publish_rtt_us_max\":%.1f,"
                  "\"own_wait_us_mean\":%.1f,\"own_wait_us_max\":%.1f,"
                  "\"own_wait_timeouts\":%llu}}",
                  rf->maxlen, redis_publisher_id(rf->pub), up ? "up" : "down",
                  (long long)since, for_s, down_s,
                  (unsigned long long)atomic_load(&rf->reconnects),
                  (unsigned long long)atomic_load(&rf->connect_failures),
                  (unsigned long long)atomic_load(&rf->stream_resets),
                  (unsigned long long)atomic_load(&rf->gaps), (unsigned long long)followed,
                  (unsigned long long)atomic_load(&rf->loaded),
                  (unsigned long long)atomic_load(&rf->followed_n),
                  (unsigned long long)atomic_load(&rf->refused),
                  (double)atomic_load(&rf->lag.last) / 1e6, gauge_mean(&rf->lag, 1e6),
                  (double)atomic_load(&rf->lag.max) / 1e6,
                  (unsigned long long)atomic_load(&rf->publish_failures),
                  (unsigned long long)atomic_load(&rf->publish_unknown),
                  (unsigned long long)atomic_load(&rf->publish_retries),
                  (unsigned long long)generator_failures, gauge_mean(&rf->rtt, 1e3),
                  (double)atomic_load(&rf->rtt.max) / 1e3, gauge_mean(&rf->own_wait, 1e3),
                  (double)atomic_load(&rf->own_wait.max) / 1e3,
                  (unsigned long long)atomic_load(&rf->own_wait_timeouts));
    return rc;
}
