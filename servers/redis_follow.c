/* redis_follow.c: the feed's follower thread: it reads the Redis stream into the ring
 * and keeps the state of the link to Redis (see redis_feed.h, redis_feed_impl.h).
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
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include "clock.h"
#include "redis_feed_impl.h"
#include "redis_stream.h"

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
        redis_feed_say(
            rf,
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
        redis_feed_say(rf, "up again after %.1f s down: %s", (double)down_ns / 1e9, how);
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
                redis_feed_say(
                    rf,
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
            redis_feed_say(
                rf,
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
int redis_follow_connect(struct redis_feed *rf, char *how, size_t howlen, char *err,
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

void redis_follow_close(struct redis_feed *rf)
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
            redis_feed_say(rf, "%s", how);
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

void *redis_follow_main(void *arg)
{
    struct redis_feed *rf = arg;
    int64_t backoff = BACKOFF_MIN_NS;
    char err[256], how[512];
    while (!stopping(rf)) {
        if (!rf->follow) {
            if (redis_follow_connect(rf, how, sizeof(how), err, sizeof(err)) != 0) {
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
            redis_follow_close(rf);
            if (!stopping(rf))
                went_down(rf, err);
        }
    }
    redis_follow_close(rf);
    return NULL;
}
