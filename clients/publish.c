/* publish.c: a user's messages as POST /publish, for the techniques whose feed connection
 * cannot carry them (short polling, long polling, SSE).
 *
 * The technique: the page sends what its user writes with fetch(url, {method: "POST",
 * body: text}), while its poll, long poll or EventSource goes on. A browser would send
 * the POST on a second keep-alive connection to the same origin: the feed's connection is
 * busy (a held long poll, an open stream) or, for short polling, would make the message
 * wait for a poll to finish. So each user gets a sender of its own: a second user (run.c)
 * whose transport is this one, on its own pinned host name (user.h), so its connection
 * persists between messages as the browser's would, and whose counts go to a counters
 * set of their own (the report's up_* columns), not the feed's. A user whose feed can
 * carry messages (the WebSocket) sends them itself and gets no sender.
 *
 * What it costs: a request head and a response head per message (201 {"seq":N}), where a
 * WebSocket pays a 2 to 4 byte frame header and a 4-byte mask. Schedule: a message goes
 * out when it is due (upstream.h), or, when the previous POST is still out, as soon as it
 * is answered (one request at a time on the connection, as HTTP/1.1 without pipelining
 * allows), stamped with the time it was due. A POST that fails (refused, cut, an answer
 * other than 201) loses its message: counted in the sender's errors, never sent again,
 * as a page that does not retry. Messages go out as long as the run lasts, also through a
 * server's outage (each failing).
 */
#include <stdlib.h>

#include "transport.h"
#include "user.h"

struct publish_state {
    struct dynbuf body; /* the message being sent */
};

static int publish_init(struct user *u)
{
    struct publish_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    dynbuf_init(&s->body, UPSTREAM_MAX_BYTES);
    u->tp = s;
    return 0;
}

static void publish_cleanup(struct user *u)
{
    struct publish_state *s = u->tp;
    dynbuf_free(&s->body);
    free(s);
    u->tp = NULL;
}

/* Unused: run.c starts a sender when its user's first message is due. */
static int64_t publish_first_start(const struct client_config *cfg, struct rng *r)
{
    (void)cfg;
    (void)r;
    return 0;
}

static int publish_prepare(struct user *u, struct request_spec *spec, int64_t now)
{
    struct publish_state *s = u->tp;
    (void)now;
    dynbuf_reset(&s->body);
    if (upstream_compose(&u->feed->up, &s->body) != 0)
        return -1;
    spec->body = s->body.mem;
    spec->body_len = s->body.len;
    spec->timeout_ns = u->env->cfg->response_timeout_ns;
    return dynbuf_adds(spec->target, "/publish");
}

static int publish_on_headers(struct user *u, long status, const char *content_type)
{
    (void)u;
    (void)status;
    (void)content_type;
    return 0;
}

static void publish_on_body(struct user *u, const char *buf, size_t len)
{
    (void)u; /* {"seq":N}: counted by user.c, nothing to read */
    (void)buf;
    (void)len;
}

static enum outcome publish_on_done(struct user *u, long status, int64_t now,
                                    int64_t *next_due)
{
    (void)now;
    *next_due = upstream_due(&u->feed->up);
    return status == 201 ? OUTCOME_EMPTY : OUTCOME_ERR_STATUS;
}

static void publish_on_error(struct user *u, int64_t now, int64_t *next_due)
{
    (void)now;
    *next_due = upstream_due(&u->feed->up);
}

const struct transport_ops transport_publish = {
    .name = "publish",
    .kind = REQUEST_SEND,
    .ref_head_bytes = NULL, /* not an approach: run.c reports the POST head itself */
    .init = publish_init,
    .cleanup = publish_cleanup,
    .first_start = publish_first_start,
    .prepare = publish_prepare,
    .on_headers = publish_on_headers,
    .on_body = publish_on_body,
    .on_done = publish_on_done,
    .on_error = publish_on_error,
};
