/* sse_ts_net.h: the libcurl options every request of the test service shares.
 *
 * HTTP only (redirects too), no signals, a 10 s connect limit, and loopback peers only
 * (127.0.0.0/8, ::1), checked when each socket is opened, which covers redirects: a test
 * service must not reach out to the network whatever URL it is handed.
 */
#ifndef PUSHPULL_SSE_TS_NET_H
#define PUSHPULL_SSE_TS_NET_H

#include <curl/curl.h>

/* Set url and the shared options on e. */
void ts_net_easy_common(CURL *e, const char *url);

#endif
