/* sse_ts_worker.h: the SSE test service's worker: one thread that owns every SSE client
 * stream and its numbered callback queue.
 *
 * The control API (sse_ts_api.c) runs on libmicrohttpd's thread and never touches a
 * libcurl handle: it hands commands to the worker through a mutex-protected queue and
 * wakes it with curl_multi_wakeup. The worker runs one libcurl multi handle for every
 * stream request and every callback POST. Stream numbers are handed out and checked under
 * the same mutex, so the API can answer 201 or 404 at once without waiting for the worker.
 * Each stream is sse_ts_stream.h: the lab's EventSource (clients/eventsource.h) on a
 * libcurl request of the worker's multi handle.
 */
#ifndef PUSHPULL_SSE_TS_WORKER_H
#define PUSHPULL_SSE_TS_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "sse_ts_stream.h"

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
