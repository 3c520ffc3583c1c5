/* publisher.c: the client as a foreign server's publisher (--publish-url, --publish-rate).
 *
 * A foreign server gets its updates from somebody; with --publish-url that somebody is
 * the client itself, so it knows exactly what was published and when. One extra user
 * (run.c: the id after the observer's, on the first loop, its counts with the senders'
 * in the up_* columns) POSTs the lab's update JSON, {"seq":k,"ts_ns":T,"data":"..."}, to
 * the URL at a fixed rate through the window: k numbers the publishes 1, 2, 3, ... and T
 * is the instant before the request is written (CLOCK_REALTIME), which is also noted in
 * the order log (by_order.h). A server that passes the body through gives its
 * subscribers that stamp, and latency runs from the send as with any stamped update; one
 * that wraps or rewrites it leaves the order, which by_order.c matches to these send
 * times. Each publish the server accepts (any 2xx: nchan answers 201 or 202) is told to
 * freshness (freshness.h) as published, so missed updates are counted without an
 * observer; a refused or failed one is counted in up_errors and is not published.
 *
 * Schedule: publish k is due at start + (k-1)/rate, start being the window's start (run.c
 * sets the first request then, when the users have joined in the warmup), until the
 * window ends. One request at a time on one keep-alive connection: a publish whose
 * predecessor is still out goes when it is answered, and slots that passed meanwhile are
 * skipped (so a slow server is published to more slowly; up_requests says how often).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "by_order.h"
#include "clock.h"
#include "foreign.h"
#include "transport.h"
#include "user.h"

struct publisher_state {
    struct dynbuf body; /* the publish being sent */
    uint64_t k;         /* its number; 0 before the first */
    int64_t ts_ns;      /* its send time (CLOCK_REALTIME) */
    int64_t next_slot;  /* when the next is due (monotonic); 0 before the first */
    int64_t stop_at;    /* the window's end: nothing is due from then (monotonic) */
};

static int publisher_init(struct user *u)
{
    struct publisher_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    dynbuf_init(&s->body, 4096);
    u->tp = s;
    return 0;
}

static void publisher_cleanup(struct user *u)
{
    struct publisher_state *s = u->tp;
    dynbuf_free(&s->body);
    free(s);
    u->tp = NULL;
}

/* The window's start: the users joined in the warmup (by_order.h). */
static int64_t publisher_first_start(const struct client_config *cfg, struct rng *r)
{
    (void)r;
    return cfg->warmup_ns;
}

static int64_t period_ns(const struct client_config *cfg)
{
    return (int64_t)((double)NS_PER_S / cfg->publish_rate_hz);
}

static int publisher_prepare(struct user *u, struct request_spec *spec, int64_t now)
{
    struct publisher_state *s = u->tp;
    const struct client_config *cfg = u->env->cfg;
    if (s->next_slot == 0) {
        s->next_slot = now;
        s->stop_at = now + cfg->duration_ns;
    }
    int64_t t = period_ns(cfg);
    while (s->next_slot <= now)
        s->next_slot += t;
    s->ts_ns = clock_real_ns();
    s->k = by_order_sent(u, s->ts_ns);
    if (s->k == 0)
        return -1; /* out of memory: the publisher stops, visibly (up_requests) */
    dynbuf_reset(&s->body);
    if (dynbuf_addf(&s->body,
                    "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64
                    ",\"data\":\"pushpull publish %" PRIu64 "\"}",
                    s->k, s->ts_ns, s->k) != 0)
        return -1;
    spec->body = s->body.mem;
    spec->body_len = s->body.len;
    spec->timeout_ns = cfg->response_timeout_ns;
    return dynbuf_adds(spec->target, foreign_publish_target(cfg));
}

static int publisher_on_headers(struct user *u, long status, const char *content_type)
{
    (void)u;
    (void)status;
    (void)content_type;
    return 0;
}

static void publisher_on_body(struct user *u, const char *buf, size_t len)
{
    (void)u; /* the server's account of the publish: counted by user.c, not read */
    (void)buf;
    (void)len;
}

static int64_t next_due(const struct publisher_state *s)
{
    return s->next_slot >= s->stop_at ? TRANSPORT_STOP : s->next_slot;
}

static enum outcome publisher_on_done(struct user *u, long status, int64_t now,
                                      int64_t *due)
{
    struct publisher_state *s = u->tp;
    (void)now;
    *due = next_due(s);
    if (status < 200 || status > 299)
        return OUTCOME_ERR_STATUS;
    pthread_mutex_t *lock = u->env->fresh_lock;
    if (lock)
        pthread_mutex_lock(lock);
    freshness_published(u->env->fresh, s->k, s->ts_ns);
    if (lock)
        pthread_mutex_unlock(lock);
    return OUTCOME_EMPTY;
}

static void publisher_on_error(struct user *u, int64_t now, int64_t *due)
{
    (void)now;
    *due = next_due(u->tp);
}

const struct transport_ops transport_publisher = {
    .name = "publisher",
    .kind = REQUEST_SEND,
    .ref_head_bytes = NULL, /* not an approach */
    .init = publisher_init,
    .cleanup = publisher_cleanup,
    .first_start = publisher_first_start,
    .prepare = publisher_prepare,
    .on_headers = publisher_on_headers,
    .on_body = publisher_on_body,
    .on_done = publisher_on_done,
    .on_error = publisher_on_error,
};
