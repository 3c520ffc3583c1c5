/* long_poll.c: GET /longpoll?since=N[&timeout=S], the server holds the question until it
 * has an answer.
 *
 * The technique (RFC 6202 section 2): the client asks as in event-mode short polling, but
 * when nothing is newer than its cursor the server does not answer "nothing"; it parks
 * the request (the connection is suspended, no thread waits) until an update arrives or
 * the timeout passes, and answers then. The client asks again at once with the new
 * cursor. Updates that arrive while no request is parked (the "blind window": one
 * response transit, the client's turnaround, one request transit) are batched into the
 * next answer, so under bursts one request can carry many updates.
 *
 * Costs: about one request/response header pair per update (fewer when updates batch),
 * plus one per timeout when idle (H/timeout per client). Latency is one network transit
 * when the request is waiting, up to three (response, new request, response) when an
 * update falls into the blind window (RFC 6202 section 2.2). Where it fails: proxies and
 * load balancers that cut requests idle for longer than the timeout (RFC 6202 section
 * 5.5 recommends 30 s), and every parked request holds a socket and a little memory.
 *
 * A missing `since` means "from now": the request waits for the next update.
 *
 * An update wakes every parked request at once, and nearly all of them hold the same
 * cursor: the answer to each cursor is rendered once per update and handed to all who
 * ask it (since_answers.h), as GET /poll shares its answer to the newest update.
 */
#include "server.h"
#include "reply.h"
#include "route.h"
#include "short_poll.h"
#include "since_answers.h"

#include <stdlib.h>

#include "clock.h"

#define LONG_POLL_MAX_TIMEOUT_S 120

struct long_poll {
    uint64_t since;      /* the client's cursor */
    int64_t deadline_ns; /* when to answer empty */
    bool held;           /* counted as open in /stats */
};

/* Answer with what follows lp->since (feed lock held; released here). The answer is the
 * one shared by every long poll that asks the same as the feed stands (since_answers.h),
 * except when the server is closing: that one says Connection: close, and is built for
 * this request alone. */
static enum MHD_Result answer(struct request *req, struct long_poll *lp, bool closing)
{
    if (!closing)
        return since_answers_reply_locked(&req->srv->since_answers, req, lp->since, 0);
    struct dynbuf body;
    uint64_t count;
    dynbuf_init(&body, SIZE_MAX / 2);
    int rc = poll_render_since_locked(req->srv->feed, lp->since, 0, &body, &count);
    feed_unlock(req->srv->feed);
    if (rc != 0)
        return MHD_NO;
    enum MHD_Result res =
        reply_json(req, 200, body.mem, body.len, MHD_HTTP_HEADER_CONNECTION, "close", NULL);
    dynbuf_free(&body);
    return res;
}

/* First call: read the cursor and the timeout. Returns NULL when a 400 was queued (or
 * memory ran out; *fatal is then set). */
static struct long_poll *long_poll_begin(struct request *req, bool *fatal)
{
    struct server *srv = req->srv;
    uint64_t since = 0, timeout_s = 0;
    int has_since =
        request_uint_value(req, MHD_GET_ARGUMENT_KIND, "since", UINT64_MAX, &since);
    if (has_since < 0)
        return NULL;
    int has_timeout = request_uint_value(req, MHD_GET_ARGUMENT_KIND, "timeout",
                                         LONG_POLL_MAX_TIMEOUT_S, &timeout_s);
    if (has_timeout < 0)
        return NULL;
    struct long_poll *lp = calloc(1, sizeof(*lp));
    if (!lp) {
        *fatal = true;
        return NULL;
    }
    int64_t timeout =
        has_timeout ? (int64_t)timeout_s * NS_PER_S : srv->cfg.longpoll_timeout_ns;
    lp->deadline_ns = clock_mono_ns() + timeout;
    if (has_since) {
        lp->since = since;
    } else {
        feed_lock(srv->feed);
        lp->since = feed_newest_locked(srv->feed);
        feed_unlock(srv->feed);
    }
    req->state = lp;
    return lp;
}

static enum MHD_Result long_poll_handle(struct request *req)
{
    struct feed *f = req->srv->feed;
    struct long_poll *lp = req->state;
    if (req->waiter.why == FEED_WAKE_GONE || req->waiter.why == FEED_WAKE_DROP)
        return MHD_NO; /* the client left, or POST /drop: close without an answer */
    if (!lp) {
        bool fatal = false;
        lp = long_poll_begin(req, &fatal);
        if (!lp)
            return fatal ? MHD_NO : MHD_YES;
    }
    feed_lock(f);
    struct feed_range r = feed_range_locked(f, lp->since, 0);
    bool closing = feed_closing_locked(f);
    if (r.count > 0 || r.reset || closing || clock_mono_ns() >= lp->deadline_ns)
        return answer(req, lp, closing); /* unlocks */
    if (request_park_locked(req, lp->deadline_ns) != 0)
        return answer(req, lp, true);
    if (!lp->held) {
        lp->held = true;
        request_count_open(req, +1);
    }
    feed_unlock(f);
    return MHD_YES;
}

static void long_poll_done(struct request *req)
{
    struct long_poll *lp = req->state;
    if (lp && lp->held)
        request_count_open(req, -1);
    free(lp);
    req->state = NULL;
}

const struct route long_poll_route = {
    .path = "/longpoll",
    .method = "GET",
    .kind = STATS_LONGPOLL,
    .handle = long_poll_handle,
    .done = long_poll_done,
};
