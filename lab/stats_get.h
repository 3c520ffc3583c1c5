/* stats_get.h: read a server's /stats document over HTTP (libcurl), for the conductor to
 * save beside a run.
 */
#ifndef PUSHPULL_LAB_STATS_GET_H
#define PUSHPULL_LAB_STATS_GET_H

#include <stddef.h>

#include <curl/curl.h>

#include "dynbuf.h"

/* GET base_url/stats (base_url as the server printed it: "http://127.0.0.1:PORT") within
 * timeout_ms, the body appended to out. 0 on a 200 answer; -1 with one line in err (the
 * transfer's error, or the status). Needs curl_global_init first. */
int stats_get(const char *base_url, int timeout_ms, struct dynbuf *out, char *err,
              size_t errlen);

/* The same on the caller's easy handle h (curl_easy_init; the caller cleans it up): a
 * later call reuses the connection an earlier one opened (the server keeps it for its
 * --idle-timeout), so a reading taken while thousands of users connect is not one more
 * SYN in a listen queue full of theirs. */
int stats_get_on(CURL *h, const char *base_url, int timeout_ms, struct dynbuf *out,
                 char *err, size_t errlen);

#endif
