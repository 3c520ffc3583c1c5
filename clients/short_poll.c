/* short_poll.c: short polling: ask the server every T seconds whether anything changed.
 *
 * The technique: a timer in the page fires every --interval and sends a GET. In `state`
 * mode the page asks for the latest update (GET /poll) and sends back the ETag of the one
 * it has (If-None-Match), so an unchanged state costs a 304 and no body; in `events` mode
 * it asks for everything after its cursor (GET /poll?since=N), so no update is lost.
 *
 * What it costs: one full request and response header pair per poll whether or not
 * anything changed (H/T bytes per second per user, MODELS.md), and an update waits for the
 * next poll: T/2 on average, T at worst. Where it fails: polls that bring nothing
 * (e^-lambda*T of them for Poisson updates), and in state mode every update overtaken by
 * the next one before a poll came is never seen (missed).
 *
 * Schedule: fixed rate, like setInterval. Each user starts at a random phase in [0, T)
 * (--seed) so polls do not march in step; poll k is due at phase + k*T. A poll still in
 * flight when the next is due delays it (one connection, one request at a time, as a tab
 * with one fetch pending); slots that passed entirely are skipped. The first poll in
 * events mode is a plain GET /poll, which gives the cursor (a page loads the current
 * state, then asks for changes). A failed poll changes nothing: the next one goes out at
 * its slot, so a user polls on through a server's outage; after an in-memory restart the
 * server answers an events cursor ahead of its newest with "reset":true and its buffer,
 * and "next" becomes the cursor. A 200 or 304 counts as the server being up (user.h), a
 * 5xx as it being down.
 *
 * State mode sends back the answer's validators and takes one update from a 200, which is
 * also how a foreign server's poll URL works (--url, foreign.h): the same two calls serve
 * both.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "foreign.h"
#include "poll_reply.h"
#include "transport.h"
#include "user.h"

struct short_state {
    int64_t next_slot; /* when the next poll is due (monotonic); 0 before the first */
    uint64_t cursor;   /* events mode: the since= cursor */
    bool synced;       /* events mode: cursor came from the server */
    struct foreign_cursor validators; /* state mode: the newest answer's ETag (and, on
                                         a foreign server, Last-Modified) */
    struct foreign_cursor answer;     /* the validators the current answer brought */
    struct poll_reply reply;          /* the body of the current response */
};

static int short_init(struct user *u)
{
    struct short_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    u->tp = s;
    u->answer_validators = &s->answer;
    return poll_reply_init(&s->reply, u->env->cfg->max_body_bytes);
}

static void short_cleanup(struct user *u)
{
    struct short_state *s = u->tp;
    poll_reply_free(&s->reply);
    foreign_cursor_free(&s->validators);
    foreign_cursor_free(&s->answer);
    u->answer_validators = NULL;
    free(s);
    u->tp = NULL;
}

static int64_t short_first_start(const struct client_config *cfg, struct rng *r)
{
    return (int64_t)(rng_uniform(r) * (double)cfg->interval_ns);
}

static int short_prepare(struct user *u, struct request_spec *spec, int64_t now)
{
    struct short_state *s = u->tp;
    int64_t t = u->env->cfg->interval_ns;
    if (s->next_slot == 0)
        s->next_slot = now;
    s->next_slot += t;
    while (s->next_slot <= now)
        s->next_slot += t;
    /* a poll is answered at once: its whole answer must come within the response
     * timeout */
    spec->timeout_ns = u->env->cfg->response_timeout_ns;
    bool events = u->env->cfg->poll == POLL_EVENTS && s->synced;
    poll_reply_begin(&s->reply, events ? UPDATE_SHAPE_EVENTS : UPDATE_SHAPE_ONE);
    if (u->env->cfg->poll == POLL_STATE)
        return foreign_poll_prepare(&s->validators, foreign_target(u, "/poll"), spec);
    if (!s->synced)
        return dynbuf_adds(spec->target, "/poll");
    return dynbuf_addf(spec->target, "/poll?since=%" PRIu64, s->cursor);
}

static int short_on_headers(struct user *u, long status, const char *content_type)
{
    (void)u;
    (void)status;
    (void)content_type;
    return 0; /* poll bodies are small: read them whatever the status */
}

static void short_on_body(struct user *u, const char *buf, size_t len)
{
    struct short_state *s = u->tp;
    if (poll_reply_add(&s->reply, buf, len))
        user_abort_soon(u); /* past --max-body: read no more of it */
}

static enum outcome short_on_done(struct user *u, long status, int64_t now,
                                  int64_t *next_due)
{
    struct short_state *s = u->tp;
    (void)now;
    *next_due = s->next_slot;
    if (status == 200 || status == 304)
        user_note_up(u);
    else if (status >= 500)
        user_note_down(u, true);
    if (u->env->cfg->poll == POLL_STATE)
        return foreign_poll_done(u, &s->validators, &s->answer, &s->reply, status);
    if (status != 200)
        return OUTCOME_ERR_STATUS;
    if (!s->synced) {
        enum outcome o = poll_reply_apply_latest(&s->reply, u, &s->cursor);
        s->synced = o == OUTCOME_NEWS || o == OUTCOME_EMPTY;
        return o;
    }
    return poll_reply_apply_events(&s->reply, u, &s->cursor);
}

static void short_on_error(struct user *u, int64_t now, int64_t *next_due)
{
    struct short_state *s = u->tp;
    (void)now;
    *next_due = s->next_slot;
}

static size_t short_ref_head_bytes(const struct header_profile *p, const char *host_line)
{
    return headers_wire_bytes(p, REQUEST_FETCH, "/poll", host_line, NULL, 0);
}

const struct transport_ops transport_short_poll = {
    .name = "short",
    .kind = REQUEST_FETCH,
    .ref_head_bytes = short_ref_head_bytes,
    .init = short_init,
    .cleanup = short_cleanup,
    .first_start = short_first_start,
    .prepare = short_prepare,
    .on_headers = short_on_headers,
    .on_body = short_on_body,
    .on_done = short_on_done,
    .on_error = short_on_error,
};
