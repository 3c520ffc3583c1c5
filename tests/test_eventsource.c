/* test_eventsource.c: unit tests for the EventSource state machine (clients/eventsource.c)
 * that the lab's SSE users and the contract test service both run: the verdict on each
 * response (200 + text/event-stream opens, 204 stops quietly, any other status or type
 * fails for good), reconnection after every other end (a connection that closed or
 * failed before any response included: never "status 0"), the reconnection time (start,
 * retry: field, cap), Last-Event-ID (kept across connections, given before the first,
 * the partial event's id dropped), close() from inside an event, and the error lines.
 * Times are made-up monotonic nanoseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clients/eventsource.h"
#include "clock.h"

struct seen {
    int events;         /* events passed up */
    char last_data[64]; /* the last one's data */
    int comments;       /* comments passed up */
    bool close_on_end;  /* call close() on an event of type "end" */
    struct eventsource *es;
};

static int on_event(void *ctx, const struct sse_event *ev)
{
    struct seen *s = ctx;
    s->events++;
    snprintf(s->last_data, sizeof(s->last_data), "%s", ev->data);
    if (s->close_on_end && strcmp(ev->type, "end") == 0)
        eventsource_close(s->es);
    return 0;
}

static void on_comment(void *ctx, const char *text, size_t len)
{
    (void)text;
    (void)len;
    ((struct seen *)ctx)->comments++;
}

static struct eventsource *make(struct seen *s, uint64_t retry_ms, const char *last_id)
{
    memset(s, 0, sizeof(*s));
    struct es_config cfg = {
        .retry_ms = retry_ms, .max_event_bytes = 64, .last_event_id = last_id};
    struct es_callbacks cb = {.on_event = on_event, .on_comment = on_comment, .ctx = s};
    s->es = eventsource_new(&cfg, &cb);
    assert_non_null(s->es);
    return s->es;
}

static void feed(struct eventsource *es, const char *text)
{
    assert_int_equal(eventsource_feed(es, text, strlen(text)), SSE_OK);
}

#define T0 (1000 * NS_PER_S)

static void test_verdicts(void **state)
{
    (void)state;
    struct seen s;
    struct eventsource *es = make(&s, 3000, NULL);
    assert_int_equal(eventsource_state(es), ES_CONNECTING);
    assert_int_equal(eventsource_response(es, 200, "Text/Event-Stream; charset=utf-8"),
                     ES_VERDICT_OPEN);
    assert_int_equal(eventsource_state(es), ES_OPEN);
    assert_string_equal(eventsource_error(es), "");
    eventsource_free(es);

    es = make(&s, 3000, NULL);
    assert_int_equal(eventsource_response(es, 204, NULL), ES_VERDICT_STOP);
    assert_int_equal(eventsource_state(es), ES_CLOSED);
    assert_int_equal(eventsource_ended(es, ES_END_EOF, NULL, T0), ES_NEVER);
    assert_string_equal(eventsource_error(es), ""); /* stopping is no error */
    eventsource_free(es);

    es = make(&s, 3000, NULL);
    assert_int_equal(eventsource_response(es, 503, "text/event-stream"), ES_VERDICT_FAIL);
    assert_int_equal(eventsource_ended(es, ES_END_NETWORK, "write error", T0), ES_NEVER);
    assert_string_equal(eventsource_error(es), "HTTP status 503 from the stream");
    eventsource_free(es);

    const char *wrong[] = {"text/plain", "", NULL, "text/event-streamx"};
    for (size_t i = 0; i < 4; i++) {
        es = make(&s, 3000, NULL);
        assert_int_equal(eventsource_response(es, 200, wrong[i]), ES_VERDICT_FAIL);
        assert_int_equal(eventsource_state(es), ES_CLOSED);
        assert_non_null(strstr(eventsource_error(es), "is not text/event-stream"));
        eventsource_free(es);
    }
}

/* Every other end reconnects after the reconnection time: before a response (refused,
 * closed at once), after one, and the retry: field moves the time. */
static void test_reconnects(void **state)
{
    (void)state;
    struct seen s;
    struct eventsource *es = make(&s, 250, NULL);
    /* refused: no response at all */
    assert_int_equal(eventsource_ended(es, ES_END_NETWORK, "Connection refused", T0),
                     T0 + 250 * NS_PER_MS);
    assert_string_equal(eventsource_error(es), "Connection refused");
    assert_int_equal(eventsource_state(es), ES_CONNECTING);
    /* closed before any response, with a transfer that "completed" */
    assert_int_equal(eventsource_ended(es, ES_END_EOF, NULL, T0), T0 + 250 * NS_PER_MS);
    assert_string_equal(eventsource_error(es), "the connection closed before a response");
    /* a stream that says retry: 40 and ends */
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    feed(es, "retry: 40\n: hi\ndata: a\n\n");
    assert_int_equal(s.events, 1);
    assert_int_equal(s.comments, 1);
    assert_int_equal(eventsource_ended(es, ES_END_EOF, NULL, T0), T0 + 40 * NS_PER_MS);
    assert_string_equal(eventsource_error(es), "the server closed the stream");
    /* the cap on retry: an hour */
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    feed(es, "retry: 99999999999\n\n");
    assert_int_equal(eventsource_retry_ms(es), ES_MAX_RETRY_MS);
    assert_int_equal(eventsource_ended(es, ES_END_TIMEOUT, NULL, T0),
                     T0 + (int64_t)ES_MAX_RETRY_MS * NS_PER_MS);
    assert_string_equal(eventsource_error(es), "read timeout: no data from the stream");
    /* a deliberate restart is no error */
    assert_int_equal(eventsource_ended(es, ES_END_RESTART, NULL, T0),
                     T0 + (int64_t)ES_MAX_RETRY_MS * NS_PER_MS);
    assert_string_equal(eventsource_error(es), "");
    eventsource_free(es);
}

/* Last-Event-ID: none at first; the id of the last whole event; a partial event's id is
 * dropped with it; one given before the first connection is sent on it. */
static void test_last_event_id(void **state)
{
    (void)state;
    struct seen s;
    struct eventsource *es = make(&s, 0, NULL);
    assert_string_equal(eventsource_last_id(es), "");
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    feed(es, "id: 5\ndata: a\n\nid: 6\ndata: cut");
    assert_int_equal(eventsource_ended(es, ES_END_NETWORK, NULL, T0), T0);
    assert_string_equal(eventsource_last_id(es), "5");
    assert_string_equal(eventsource_error(es), "the connection failed");
    assert_int_equal(s.events, 1);
    /* bytes outside an open stream are not events */
    feed(es, "data: stray\n\n");
    assert_int_equal(s.events, 1);
    eventsource_free(es);

    es = make(&s, 0, "abc");
    assert_string_equal(eventsource_last_id(es), "abc");
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    feed(es, "data: x\n\n");
    assert_int_equal(eventsource_ended(es, ES_END_EOF, NULL, T0), T0);
    assert_string_equal(eventsource_last_id(es), "abc");
    /* the given id counts no bytes: only what came on the wire */
    const struct sse_counts *c = eventsource_counts(es);
    assert_int_equal(c->data_bytes + c->framing_bytes + c->comment_bytes, 9);
    eventsource_free(es);
}

/* close() inside an event: nothing more reaches the caller, the parser reads on (its
 * counts stay whole), and the end is final. */
static void test_close_from_an_event(void **state)
{
    (void)state;
    struct seen s;
    struct eventsource *es = make(&s, 100, NULL);
    s.close_on_end = true;
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    const char *text = "data: 1\n\nevent: end\ndata: {}\n\ndata: 2\n\n";
    feed(es, text);
    assert_int_equal(s.events, 2);
    assert_string_equal(s.last_data, "{}");
    assert_int_equal(eventsource_state(es), ES_CLOSED);
    const struct sse_counts *c = eventsource_counts(es);
    assert_int_equal(c->data_bytes + c->framing_bytes + c->comment_bytes, strlen(text));
    assert_int_equal(eventsource_ended(es, ES_END_EOF, NULL, T0), ES_NEVER);
    assert_string_equal(eventsource_error(es), "");
    eventsource_free(es);
}

/* An event past the cap: the parser refuses it, the caller ends with TOO_BIG, and the
 * client reconnects, saying why. */
static void test_event_too_big(void **state)
{
    (void)state;
    struct seen s;
    struct eventsource *es = make(&s, 10, NULL);
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    char big[100];
    memset(big, 'x', sizeof(big));
    assert_int_equal(eventsource_feed(es, big, sizeof(big)), SSE_ERR_TOO_BIG);
    assert_int_equal(eventsource_ended(es, ES_END_TOO_BIG, NULL, T0), T0 + 10 * NS_PER_MS);
    assert_string_equal(eventsource_error(es), "an event exceeded the 64-byte cap");
    /* the next connection reads again */
    assert_int_equal(eventsource_response(es, 200, "text/event-stream"), ES_VERDICT_OPEN);
    feed(es, "data: ok\n\n");
    assert_int_equal(s.events, 1);
    eventsource_free(es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),      cmocka_unit_test(test_reconnects),
        cmocka_unit_test(test_last_event_id), cmocka_unit_test(test_close_from_an_event),
        cmocka_unit_test(test_event_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
