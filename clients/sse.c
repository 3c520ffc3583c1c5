/* sse.c: Server-Sent Events: one long-lived response that the server writes events into.
 *
 * The technique: the page opens an EventSource on GET /events; the server answers 200
 * text/event-stream and never ends the body, writing "id: N\ndata: {...}\n\n" per update
 * and a comment as a heartbeat when quiet. If the connection drops, the browser waits the
 * retry delay (the stream's "retry:" field; 3000 ms until one arrives, Chromium's default)
 * and reconnects with Last-Event-ID: N, and the server replays what was missed, after an
 * "event: reset" if its buffer no longer reaches back (counted as a reset; the lost
 * updates count as missed).
 *
 * What it costs: one request per user per connection, then only the events themselves:
 * each carries "id:", "data: ", a blank line and the chunk framing (MODELS.md: about 8 B +
 * id line + chunk header per event), and a heartbeat per quiet interval. Where it fails:
 * buffering proxies hold events back (RFC 6202 section 3.2); HTTP/1.1 browsers allow 6
 * connections per origin; the server holds one connection per user.
 *
 * Protocol handling: clients/eventsource.c, the EventSource state machine the contract
 * test service runs too (WHATWG HTML section 9.2): a 200 with Content-Type
 * text/event-stream opens the stream; a 204 stops the client for good; any other status,
 * or a wrong Content-Type, is an error that also stops it (no reconnect loop); a dropped
 * connection or network error reconnects after the retry delay, with Last-Event-ID. This
 * file adds what a page does with the events. `event: end`, which this lab's server sends
 * on shutdown, is taken as the server saying goodbye: the user stops. A browser's bare
 * EventSource would ignore the name and reconnect after the retry delay into a server that
 * is gone (an error loop); a page that listens for "end" and calls close(), which is what
 * this models, does not. Only "message" events carry updates; one whose data is not an
 * update is counted at once (sse_events_invalid) and makes its stream's outcome a parse
 * error; other types count as events, not updates. An event past --max-body is refused
 * like a poll body that size (errors_parse, errors_parse_too_big) and the stream is
 * reconnected.
 *
 * Opening: a browser waits for a stream to open as long as it takes (a buffering proxy
 * may hold the response headers for many seconds), and so do the users by default; with
 * --open-timeout, no response headers within it is a timeout, and the client reconnects
 * as after any network error. (Users whose streams never opened are named at the end
 * either way: transfers_aborted_at_end.) Users open their streams spread over the first
 * half of the warmup.
 *
 * Server restarts: the stream of a crashed server is cut without "event: end" (a transfer
 * error, or a body that just stops): the user notes an outage (user.h), and then, like a
 * browser, retries every retry delay (connection refused is one more failed attempt, not
 * a reason to stop) until a stream opens again, with the Last-Event-ID it had. A server
 * restarted with an in-memory feed finds that id ahead of its newest and answers
 * "event: reset" and its whole buffer; from then the ids are the new feed's. A durable
 * one replays what followed the id.
 *
 * A foreign server (--url, foreign.h) is asked at its URL, and resumed the same standard
 * way; its observer starts with no Last-Event-ID (the "0" above is the lab server's id).
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eventsource.h"
#include "foreign.h"
#include "transport.h"
#include "update_json.h"
#include "user.h"

struct sse_state {
    struct eventsource *es;       /* the protocol: verdicts, retry, last id (owned) */
    struct update_reader *reader; /* an event's data, read as an update (owned) */
    bool no_content;              /* the server answered 204 */
    bool opened;                  /* this response opened a stream (200 + right type) */
    bool too_big;                 /* an event passed --max-body: read no more of it */
    bool replay_all;              /* observer: ask for the whole buffer next time */
    unsigned fresh;               /* updates new to the user on this stream */
    unsigned bad_updates;         /* message events whose data was not an update */
};

/* A message event's data as an update; 0, or -1 when it is not one. */
static int read_update(struct sse_state *s, const struct sse_event *ev, struct update *up)
{
    size_t n;
    update_reader_begin(s->reader, UPDATE_SHAPE_ONE);
    if (update_reader_feed(s->reader, ev->data, ev->data_len) != UPDATE_READ_OK ||
        update_reader_finish(s->reader) != UPDATE_READ_OK)
        return -1;
    *up = update_reader_updates(s->reader, &n)[0];
    return up->seq > 0 ? 0 : -1;
}

static int sse_on_event(void *ctx, const struct sse_event *ev)
{
    struct user *u = ctx;
    struct sse_state *s = u->tp;
    if (strcmp(ev->type, "message") == 0) {
        struct update up;
        int by_order;
        if (read_update(s, ev, &up) == 0) {
            s->fresh += (unsigned)user_deliver_update(u, &up);
        } else if ((by_order = by_order_deliver(u)) >= 0) { /* no stamp: by order */
            s->fresh += (unsigned)by_order;
        } else {
            s->bad_updates++;
            counters_add(u->ctr, CTR_SSE_EVENTS_INVALID, 1, u->ctr->measuring);
        }
    } else if (strcmp(ev->type, "reset") == 0) {
        user_note_reset(u);
    } else if (strcmp(ev->type, "end") == 0) {
        eventsource_close(s->es); /* the page's close(): no reconnection */
    }
    return 0;
}

static int sse_init(struct user *u)
{
    struct sse_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    u->tp = s;
    size_t max = (size_t)u->env->cfg->max_body_bytes;
    struct es_config cfg = {
        .retry_ms = ES_DEFAULT_RETRY_MS, .max_event_bytes = max, .last_event_id = NULL};
    struct es_callbacks cb = {.on_event = sse_on_event, .on_comment = NULL, .ctx = u};
    s->es = eventsource_new(&cfg, &cb);
    s->reader = update_reader_new(max);
    return s->es && s->reader ? 0 : -1;
}

static void sse_cleanup(struct user *u)
{
    struct sse_state *s = u->tp;
    eventsource_free(s->es);
    update_reader_free(s->reader);
    free(s);
    u->tp = NULL;
}

static int64_t sse_first_start(const struct client_config *cfg, struct rng *r)
{
    return (int64_t)(rng_uniform(r) * (double)(cfg->warmup_ns / 2));
}

static int sse_prepare(struct user *u, struct request_spec *spec, int64_t now)
{
    struct sse_state *s = u->tp;
    (void)now;
    const char *id = eventsource_last_id(s->es);
    s->opened = false;
    s->too_big = false;
    s->fresh = 0;
    bool lab = !foreign_on(u->env->cfg); /* ids of another server are its own business */
    if (lab && u->observer && (s->replay_all || !id[0]))
        /* The observer asks for the server's whole buffer on its first connection (stamps
         * from before the run) and after an attempt that never opened a stream: the server
         * was down, and may come back as another run with an in-memory feed, where an id
         * from the old feed at or below the new newest seq would be answered with what
         * follows it, so the new feed's first stamps would never be seen. (An id above
         * the new newest is answered with a reset and the whole buffer anyway.) A stream
         * merely cut, as a flaky link does, resumes from its id like any user's, so the
         * server's figures are not swollen by replays. Stamps seen twice are harmless
         * (freshness.h). */
        snprintf(spec->extra[0], sizeof(spec->extra[0]), "Last-Event-ID: 0");
    else if (id[0] && foreign_value_fits(u, "an SSE id", strlen(id)))
        snprintf(spec->extra[0], sizeof(spec->extra[0]), "Last-Event-ID: %s", id);
    if (!lab && !u->env->headers->has_accept[REQUEST_EVENTSOURCE])
        /* what a browser's EventSource always sends, and nchan's condition for a
         * stream (it answers 403 without it) */
        snprintf(spec->extra[1], sizeof(spec->extra[1]), "Accept: text/event-stream");
    spec->timeout_ns = 0;                                   /* a stream has no end */
    spec->answer_timeout_ns = u->env->cfg->open_timeout_ns; /* 0: wait, as a browser */
    return dynbuf_adds(spec->target, foreign_target(u, "/events"));
}

static int sse_on_headers(struct user *u, long status, const char *content_type)
{
    struct sse_state *s = u->tp;
    enum es_verdict v = eventsource_response(s->es, status, content_type);
    if (v == ES_VERDICT_STOP) {
        s->no_content = true;
        return 0;
    }
    if (status >= 500)
        user_note_down(u, true);
    if (v == ES_VERDICT_FAIL)
        return -1;
    s->opened = true;
    s->replay_all = false;
    user_note_up(u);
    return 0;
}

/* The single count of the stream's byte split: the parser's counts move by this feed. */
static void sse_on_body(struct user *u, const char *buf, size_t len)
{
    struct sse_state *s = u->tp;
    if (!s->opened || s->too_big)
        return;
    struct sse_counts before = *eventsource_counts(s->es);
    enum sse_status st = eventsource_feed(s->es, buf, len);
    const struct sse_counts *after = eventsource_counts(s->es);
    bool w = u->ctr->measuring;
    counters_add(u->ctr, CTR_SSE_DATA_BYTES, after->data_bytes - before.data_bytes, w);
    counters_add(u->ctr, CTR_SSE_FRAMING_BYTES, after->framing_bytes - before.framing_bytes,
                 w);
    counters_add(u->ctr, CTR_SSE_COMMENT_BYTES, after->comment_bytes - before.comment_bytes,
                 w);
    counters_add(u->ctr, CTR_SSE_COMMENTS, after->comments - before.comments, w);
    counters_add(u->ctr, CTR_SSE_EVENTS, after->events - before.events, w);
    if (st == SSE_ERR_TOO_BIG) {
        s->too_big = true; /* read no more of this stream */
        user_abort_soon(u);
    }
}

static int64_t next_or_stop(int64_t at)
{
    return at == ES_NEVER ? TRANSPORT_STOP : at;
}

static enum outcome sse_on_done(struct user *u, long status, int64_t now, int64_t *next_due)
{
    struct sse_state *s = u->tp;
    (void)status;
    bool bad = s->bad_updates > 0;
    s->bad_updates = 0;
    int64_t at =
        eventsource_ended(s->es, s->too_big ? ES_END_TOO_BIG : ES_END_EOF, NULL, now);
    *next_due = next_or_stop(at);
    if (s->no_content)
        return OUTCOME_EMPTY;
    if (!s->opened)
        return OUTCOME_ERR_STATUS; /* the connection failed (eventsource.h) */
    if (s->too_big)
        return OUTCOME_ERR_TOO_BIG;
    if (at != ES_NEVER)
        user_note_down(u, false); /* the peer ended the stream without saying goodbye */
    if (bad)
        return OUTCOME_ERR_PARSE;
    return s->fresh > 0 ? OUTCOME_NEWS : OUTCOME_EMPTY;
}

static void sse_on_error(struct user *u, int64_t now, int64_t *next_due)
{
    struct sse_state *s = u->tp;
    s->bad_updates = 0;
    if (!s->opened)
        s->replay_all = true; /* the observer's cue (sse_prepare) */
    *next_due = next_or_stop(eventsource_ended(s->es, ES_END_NETWORK, NULL, now));
}

static size_t sse_ref_head_bytes(const struct header_profile *p, const char *host_line)
{
    return headers_wire_bytes(p, REQUEST_EVENTSOURCE, "/events", host_line, NULL, 0);
}

const struct transport_ops transport_sse = {
    .name = "sse",
    .kind = REQUEST_EVENTSOURCE,
    .by_order = BY_ORDER_RESUMES,
    .ref_head_bytes = sse_ref_head_bytes,
    .init = sse_init,
    .cleanup = sse_cleanup,
    .first_start = sse_first_start,
    .prepare = sse_prepare,
    .on_headers = sse_on_headers,
    .on_body = sse_on_body,
    .on_done = sse_on_done,
    .on_error = sse_on_error,
};
