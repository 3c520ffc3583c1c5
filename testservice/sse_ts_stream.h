/* sse_ts_stream.h: one SSE client of the test service: the EventSource the lab measures
 * with (clients/eventsource.h), on a libcurl request of its own, reporting to its
 * numbered callbacks (sse_ts_outbox.h).
 *
 * Only the worker thread touches a stream. Each is driven from outside: the worker adds
 * it, ticks it (connect when due, drop a silent connection), hands it its finished
 * transfers, pumps its callbacks, restarts or frees it on command.
 */
#ifndef PUSHPULL_SSE_TS_STREAM_H
#define PUSHPULL_SSE_TS_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

/* How to run one SSE client: what POST / asked for. */
struct sse_ts_config {
    char *stream_url;    /* the SSE endpoint (owned) */
    char *callback_url;  /* callbacks go to callback_url/1, /2, ... (owned) */
    char *last_event_id; /* Last-Event-ID of the first request, NULL if none (owned) */
    char *method;        /* request method, NULL for GET (owned) */
    char *body;          /* request body, NULL for none (owned) */
    struct curl_slist *headers; /* extra "Name: value" request headers (owned) */
    int64_t initial_delay_ms;   /* reconnection delay until a retry: field; -1: default */
    int64_t read_timeout_ms;    /* drop a connection silent this long; 0: never */
};

/* Release a config and everything it owns. NULL is fine. */
void sse_ts_config_free(struct sse_ts_config *cfg);

struct ts_stream; /* opaque */

/* A new stream numbered id on multi; takes cfg (freed on failure too). Connects at the
 * next tick. NULL when out of memory. Free with ts_stream_free. */
struct ts_stream *ts_stream_new(CURLM *multi, unsigned id, struct sse_ts_config *cfg);
/* Drop the request, the callback in flight, the queue, and free. NULL is fine. */
void ts_stream_free(struct ts_stream *s);
unsigned ts_stream_id(const struct ts_stream *s);
/* Connect if due, drop a connection silent past the read timeout. Returns the monotonic
 * time of the stream's next deadline, or INT64_MAX when it has none. */
int64_t ts_stream_tick(struct ts_stream *s, int64_t now_ns);
/* The restart command: drop the connection and reconnect after the retry delay, with
 * Last-Event-ID, reporting no error. Nothing happens to a stopped stream. */
void ts_stream_restart(struct ts_stream *s);
/* A transfer of multi whose CURLOPT_PRIVATE is s finished. */
void ts_stream_finished(struct ts_stream *s, CURL *easy, CURLcode res);
/* Send the next queued callback if none is in flight. */
void ts_stream_pump(struct ts_stream *s);

#endif
