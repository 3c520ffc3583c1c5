/* eventsource.c: the EventSource state machine (eventsource.h has the rules).
 *
 * The parser keeps the last event ID across connections and drops a partial event at
 * each end (sse_parser_reset); this file adds the verdicts, the reconnection time, the
 * closed state and the error line. It allocates only the parser, so a closed client
 * costs as little as an open one.
 */
#include "eventsource.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"

struct eventsource {
    struct sse_parser *parser; /* owned; keeps the last event ID */
    struct es_callbacks cb;    /* the caller's */
    enum es_state state;
    uint64_t retry_ms; /* reconnection time in force */
    size_t max_event;  /* the parser's cap, for the error line */
    bool responded;    /* this connection got a response */
    char error[192];   /* the last connection's failure, "" if none */
};

static int es_on_event(void *ctx, const struct sse_event *ev)
{
    struct eventsource *es = ctx;
    if (es->state == ES_OPEN && es->cb.on_event)
        (void)es->cb.on_event(es->cb.ctx, ev);
    return 0;
}

static void es_on_comment(void *ctx, const char *text, size_t len)
{
    struct eventsource *es = ctx;
    if (es->state == ES_OPEN && es->cb.on_comment)
        es->cb.on_comment(es->cb.ctx, text, len);
}

static void es_on_retry(void *ctx, uint64_t ms)
{
    struct eventsource *es = ctx;
    es->retry_ms = ms < ES_MAX_RETRY_MS ? ms : ES_MAX_RETRY_MS;
}

struct eventsource *eventsource_new(const struct es_config *cfg,
                                    const struct es_callbacks *cb)
{
    struct eventsource *es = calloc(1, sizeof(*es));
    if (!es)
        return NULL;
    es->cb = *cb;
    es->state = ES_CONNECTING;
    es->retry_ms = cfg->retry_ms < ES_MAX_RETRY_MS ? cfg->retry_ms : ES_MAX_RETRY_MS;
    es->max_event =
        cfg->max_event_bytes ? cfg->max_event_bytes : SSE_DEFAULT_MAX_EVENT_BYTES;
    struct sse_callbacks pcb = {.on_event = es_on_event,
                                .on_comment = es_on_comment,
                                .on_retry = es_on_retry,
                                .ctx = es};
    es->parser = sse_parser_new(cfg->max_event_bytes, &pcb);
    const char *id = cfg->last_event_id;
    if (!es->parser ||
        (id && id[0] && sse_parser_set_last_id(es->parser, id, strlen(id)) != 0)) {
        eventsource_free(es);
        return NULL;
    }
    return es;
}

void eventsource_free(struct eventsource *es)
{
    if (!es)
        return;
    sse_parser_free(es->parser);
    free(es);
}

enum es_state eventsource_state(const struct eventsource *es)
{
    return es->state;
}

const char *eventsource_last_id(const struct eventsource *es)
{
    return sse_parser_last_id(es->parser);
}

/* "text/event-stream", any case, optionally followed by parameters. */
static bool is_event_stream(const char *ct)
{
    static const char want[] = "text/event-stream";
    size_t n = sizeof(want) - 1;
    if (!ct || strncasecmp(ct, want, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

enum es_verdict eventsource_response(struct eventsource *es, long status,
                                     const char *content_type)
{
    es->responded = true;
    es->error[0] = '\0';
    if (es->state == ES_CLOSED)
        return ES_VERDICT_STOP; /* closed while connecting: read nothing */
    if (status == 204) {
        es->state = ES_CLOSED;
        return ES_VERDICT_STOP;
    }
    if (status != 200)
        snprintf(es->error, sizeof(es->error), "HTTP status %ld from the stream", status);
    else if (!is_event_stream(content_type))
        snprintf(es->error, sizeof(es->error),
                 "Content-Type \"%.96s\" is not text/event-stream",
                 content_type ? content_type : "");
    if (es->error[0]) {
        es->state = ES_CLOSED;
        return ES_VERDICT_FAIL;
    }
    es->state = ES_OPEN;
    return ES_VERDICT_OPEN;
}

enum sse_status eventsource_feed(struct eventsource *es, const char *buf, size_t len)
{
    if (es->state == ES_CONNECTING)
        return SSE_OK; /* no stream is open: nothing to read */
    /* ES_CLOSED by close() inside a stream: the parser reads on (counts stay whole) and
     * es_on_event passes nothing up */
    return sse_parser_feed(es->parser, buf, len);
}

int64_t eventsource_ended(struct eventsource *es, enum es_end how, const char *detail,
                          int64_t now_ns)
{
    bool responded = es->responded;
    es->responded = false;
    sse_parser_reset(es->parser); /* a partial event is dropped; the last id is kept */
    if (es->state == ES_CLOSED)
        return ES_NEVER; /* the error, if any, is the verdict's */
    es->state = ES_CONNECTING;
    switch (how) {
    case ES_END_NETWORK:
        snprintf(es->error, sizeof(es->error), "%s",
                 detail && detail[0] ? detail : "the connection failed");
        break;
    case ES_END_EOF:
        snprintf(es->error, sizeof(es->error), "%s",
                 responded ? "the server closed the stream"
                           : "the connection closed before a response");
        break;
    case ES_END_TOO_BIG:
        snprintf(es->error, sizeof(es->error), "an event exceeded the %zu-byte cap",
                 es->max_event);
        break;
    case ES_END_TIMEOUT:
        snprintf(es->error, sizeof(es->error), "read timeout: no data from the stream");
        break;
    case ES_END_RESTART:
        es->error[0] = '\0';
        break;
    }
    return now_ns + (int64_t)es->retry_ms * NS_PER_MS;
}

void eventsource_close(struct eventsource *es)
{
    es->state = ES_CLOSED;
}

const char *eventsource_error(const struct eventsource *es)
{
    return es->error;
}

uint64_t eventsource_retry_ms(const struct eventsource *es)
{
    return es->retry_ms;
}

const struct sse_counts *eventsource_counts(const struct eventsource *es)
{
    return sse_parser_counts(es->parser);
}
