/* sse_ts_api.h: the SSE test service's control API (the sse-contract-tests protocol),
 * served by libmicrohttpd.
 *
 *   GET /               200 {"capabilities":[...]}
 *   DELETE /            200, then the process stops (as if sent SIGTERM)
 *   POST /              {streamUrl, callbackUrl, ...}: 201 + Location: /streams/K,
 *                       400 {"error":"..."} naming the bad field
 *   POST /streams/K     {"command":"restart"}: 204; 400 for another command
 *   DELETE /streams/K   204; no more callbacks
 *   404 for an unknown stream or path, 405 for a wrong method.
 */
#ifndef PUSHPULL_SSE_TS_API_H
#define PUSHPULL_SSE_TS_API_H

#include <stddef.h>

#include "sse_ts_worker.h"

struct sse_ts_api; /* opaque */

/* Listen on bind:port (port 0 picks a free one) and hand streams to w, which must
 * outlive the API. Returns NULL with a message in err. Free with sse_ts_api_stop. */
struct sse_ts_api *sse_ts_api_start(const char *bind, unsigned port,
                                    struct sse_ts_worker *w, char *err, size_t errlen);
/* The port actually bound. */
unsigned sse_ts_api_port(const struct sse_ts_api *api);
/* Stop serving (waits for handlers in progress) and free. NULL is fine. */
void sse_ts_api_stop(struct sse_ts_api *api);

#endif
