/* stats_get.h: read a server's /stats document over HTTP (libcurl), for the conductor to
 * save beside a run.
 */
#ifndef PUSHPULL_LAB_STATS_GET_H
#define PUSHPULL_LAB_STATS_GET_H

#include <stddef.h>

#include "dynbuf.h"

/* GET base_url/stats (base_url as the server printed it: "http://127.0.0.1:PORT") within
 * timeout_ms, the body appended to out. 0 on a 200 answer; -1 with one line in err (the
 * transfer's error, or the status). Needs curl_global_init first. */
int stats_get(const char *base_url, int timeout_ms, struct dynbuf *out, char *err,
              size_t errlen);

#endif
