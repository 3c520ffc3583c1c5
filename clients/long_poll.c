/* long_poll.c: long polling: ask, and let the server hold the answer until there is news.
 *
 * The technique: GET /longpoll?since=N; the server answers at once if it has updates after
 * N, else holds the request until one is published (or --longpoll-timeout passes and it
 * answers "events":[]); the page takes the updates and the "next" cursor and asks again
 * at once. A "reset":true in the reply means updates were lost before the cursor (the
 * server's buffer moved on): counted as a reset, and the lost updates as missed.
 *
 * What it costs: a request and response header pair per delivered batch, plus one per
 * timeout when idle (H/tau per user, MODELS.md). Where it fails: between a response and
 * the next request (the "blind window", 2d + c) updates wait, so bursts cost up to about
 * three network transits (RFC 6202 section 2.2); intermediaries may cut held requests;
 * each held request ties up a server connection.
 *
 * Users start spread over the first half of the warmup (a 10,000-user run with a 10 s
 * warmup opens 2,000 connections a second, not 10,000 at once), begin with a plain
 * GET /poll for the current state and cursor, and after a failed request wait 1 s
 * before trying again (a page's typical backoff, so an outage does not become a spin).
 * They never give up: while a server is down each user asks again every second with the
 * cursor it had; a server restarted with an in-memory feed finds that cursor ahead of its
 * newest and answers "reset":true with its whole buffer and a "next" from its own feed,
 * which becomes the cursor. A response counts as the server being up (user.h) when it is
 * 200; a 5xx as it being down.
 *
 * On a foreign server (--url, foreign.h) the cursor is the last answer's validators
 * instead: every request goes to its URL with If-None-Match and If-Modified-Since, is held
 * until the next update, and answers that one update; a 304 or 408 is asked again at
 * once. The first request has no validators: it waits for the next update.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "clock.h"
#include "foreign.h"
#include "poll_reply.h"
#include "transport.h"
#include "user.h"

struct long_state {
    uint64_t cursor;                  /* since= */
    struct foreign_cursor validators; /* a foreign server's cursor (foreign.h) */
    bool synced;                      /* cursor came from the server */
    struct foreign_cursor answer;     /* the validators the current answer brought */
    struct poll_reply reply;          /* the body of the current response */
};

static int long_init(struct user *u)
{
    struct long_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    u->tp = s;
    u->answer_validators = &s->answer;
    return poll_reply_init(&s->reply, u->env->cfg->max_body_bytes);
}

static void long_cleanup(struct user *u)
{
    struct long_state *s = u->tp;
    poll_reply_free(&s->reply);
    foreign_cursor_free(&s->validators);
    foreign_cursor_free(&s->answer);
    u->answer_validators = NULL;
    free(s);
    u->tp = NULL;
}

static int64_t long_first_start(const struct client_config *cfg, struct rng *r)
{
    return (int64_t)(rng_uniform(r) * (double)(cfg->warmup_ns / 2));
}

static int long_prepare(struct user *u, struct request_spec *spec, int64_t now)
{
    struct long_state *s = u->tp;
    (void)now;
    int64_t hold = u->env->cfg->longpoll_timeout_ns;
    int64_t answer = u->env->cfg->response_timeout_ns;
    if (foreign_on(u->env->cfg)) { /* every poll is held, and answers one update */
        poll_reply_begin(&s->reply, UPDATE_SHAPE_ONE);
        spec->timeout_ns = hold + answer;
        return foreign_poll_prepare(&s->validators, foreign_target(u, "/longpoll"), spec);
    }
    poll_reply_begin(&s->reply, s->synced ? UPDATE_SHAPE_EVENTS : UPDATE_SHAPE_ONE);
    spec->timeout_ns = s->synced ? hold + answer : answer; /* the hold, then an answer */
    if (!s->synced)
        return dynbuf_adds(spec->target, "/poll");
    return dynbuf_addf(spec->target, "/longpoll?since=%" PRIu64 "&timeout=%" PRId64,
                       s->cursor, hold / NS_PER_S);
}

static int long_on_headers(struct user *u, long status, const char *content_type)
{
    (void)u;
    (void)status;
    (void)content_type;
    return 0;
}

static void long_on_body(struct user *u, const char *buf, size_t len)
{
    struct long_state *s = u->tp;
    if (poll_reply_add(&s->reply, buf, len))
        user_abort_soon(u); /* past --max-body: read no more of it */
}

static enum outcome long_on_done(struct user *u, long status, int64_t now,
                                 int64_t *next_due)
{
    struct long_state *s = u->tp;
    if (foreign_on(u->env->cfg) && (status == 200 || status == 304 || status == 408)) {
        user_note_up(u);
        enum outcome o =
            foreign_poll_done(u, &s->validators, &s->answer, &s->reply, status);
        bool ok = o == OUTCOME_NEWS || o == OUTCOME_EMPTY || o == OUTCOME_NOT_MODIFIED;
        *next_due = ok ? now : now + LONG_POLL_ERROR_BACKOFF_NS;
        return o;
    }
    if (status != 200) {
        if (status >= 500)
            user_note_down(u, true);
        *next_due = now + LONG_POLL_ERROR_BACKOFF_NS;
        return OUTCOME_ERR_STATUS;
    }
    user_note_up(u);
    enum outcome o;
    if (!s->synced) {
        o = poll_reply_apply_latest(&s->reply, u, &s->cursor);
        s->synced = o == OUTCOME_NEWS || o == OUTCOME_EMPTY;
    } else {
        o = poll_reply_apply_events(&s->reply, u, &s->cursor);
    }
    bool ok = o == OUTCOME_NEWS || o == OUTCOME_EMPTY;
    *next_due = ok ? now : now + LONG_POLL_ERROR_BACKOFF_NS;
    return o;
}

static void long_on_error(struct user *u, int64_t now, int64_t *next_due)
{
    (void)u;
    *next_due = now + LONG_POLL_ERROR_BACKOFF_NS;
}

static size_t long_ref_head_bytes(const struct header_profile *p, const char *host_line)
{
    return headers_wire_bytes(p, REQUEST_FETCH, "/poll", host_line, NULL, 0);
}

const struct transport_ops transport_long_poll = {
    .name = "long",
    .kind = REQUEST_FETCH,
    .by_order = BY_ORDER_RESUMES,
    .ref_head_bytes = long_ref_head_bytes,
    .up_on_connect = true,
    .init = long_init,
    .cleanup = long_cleanup,
    .first_start = long_first_start,
    .prepare = long_prepare,
    .on_headers = long_on_headers,
    .on_body = long_on_body,
    .on_done = long_on_done,
    .on_error = long_on_error,
};
