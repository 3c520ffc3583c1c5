/* sse_ts_worker.h: the SSE test service's worker: one thread that owns every SSE client
 * stream and its numbered callback queue.
 *
 * The control API (sse_ts_api.c) runs on libmicrohttpd's thread and never touches a
 * libcurl handle: it hands commands to the worker through a mutex-protected queue and
 * wakes it with curl_multi_wakeup. The worker runs one libcurl multi handle for every
 * stream request and every callback POST. Stream numbers are handed out and checked under
 * the same mutex, so the API can answer 201 or 404 at once without waiting for the worker.
 */
#ifndef PUSHPULL_SSE_TS_WORKER_H
#define PUSHPULL_SSE_TS_WORKER_H

#include <stddef.h>
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

struct sse_ts_worker; /* opaque */

/* Start the worker thread. Returns NULL with a message in err on failure. The caller
 * stops and frees it with sse_ts_worker_stop. curl_global_init must have run. */
struct sse_ts_worker *sse_ts_worker_start(char *err, size_t errlen);
/* Stop the thread, drop every stream (no more callbacks) and free everything. */
void sse_ts_worker_stop(struct sse_ts_worker *w);

/* Start a client. Takes ownership of cfg (heap-allocated) whatever happens. Returns the
 * new stream's number (1, 2, ...), or 0 when out of memory. */
unsigned sse_ts_worker_create(struct sse_ts_worker *w, struct sse_ts_config *cfg);
/* Drop stream id's connection and reconnect (with Last-Event-ID). 0, or -1 if unknown. */
int sse_ts_worker_restart(struct sse_ts_worker *w, unsigned id);
/* Stop stream id for good: no more requests, no more callbacks. 0, or -1 if unknown. */
int sse_ts_worker_delete(struct sse_ts_worker *w, unsigned id);

#endif
