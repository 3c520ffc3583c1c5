/* user_impl.h: what a user's three files share (user.c, the request cycle; user_http.c,
 * the drivers' seam; user_curl.c, the libcurl driver); not for other files, which see
 * user.h only.
 */
#ifndef PUSHPULL_USER_IMPL_H
#define PUSHPULL_USER_IMPL_H

#include <curl/curl.h>

#include "transport.h"
#include "user.h"

/* user.c. The user's timer while a transfer is out: the nearest of its limits (user.h),
 * or none. (libcurl keeps its transfer and connect limits itself: only answer_due is set
 * then.) */
void user_arm_limits(struct user *u);

/* user_curl.c. The libcurl driver's easy handle for u (user_init's last step). 0, or -1
 * with err; user_free releases what was made. */
int user_curl_init(struct user *u, char *err, size_t errlen);
/* The request as options of u's easy handle, added to the loop. 0 or -1. */
int user_curl_start(struct user *u, const struct request_spec *spec,
                    const char *const *extra);
/* How a libcurl transfer ended, in the drivers' common terms. */
enum http_end user_curl_end(struct user *u, CURLcode result);
/* libcurl's account of the request's bytes, counted once as the transfer ends. */
void user_curl_count_request(struct user *u);

#endif
