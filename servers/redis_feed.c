/* redis_feed.c: the feed through Redis as a whole: its start and stop, publishing
 * through it, and its "redis" object of /stats (see redis_feed.h).
 *
 * The state the follower keeps, and how it follows and syncs the stream, are
 * redis_follow.c's (the struct both share is in redis_feed_impl.h); this file starts that
 * thread, stops it, and reads what it keeps.
 *
 * Publishing (publish_through_redis, the feed's publisher): refused at once, 503, while
 * the state is down; otherwise one publish at a time per instance goes through
 * redis_publish.c, and the caller then waits (at most OWN_WAIT_NS) until the follower
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
#include "redis_feed_impl.h"
#include "redis_publish.h"

/* See redis_feed_impl.h. */
void redis_feed_say(const struct redis_feed *rf, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "pushpull-server: redis %s:%u: %s\n", rf->addr.host, rf->addr.port,
            msg);
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
    if (redis_follow_connect(rf, how, sizeof(how), why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--redis %s:%u: %s", cfg->addr.host, cfg->addr.port, why);
        goto fail_sync;
    }
    int rc = pthread_create(&rf->thread, NULL, redis_follow_main, rf);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail_sync;
    }
    rf->thread_started = true;
    redis_feed_say(rf, "up: %s", how);
    feed_set_publisher(f, publish_through_redis, rf);
    return rf;
fail_sync:
    redis_follow_close(rf);
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
    redis_follow_close(rf);
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
