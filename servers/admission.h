/* admission.h: what a request must be before any route sees it.
 *
 * The rules of RFC 9112 and RFC 9110 that keep a request's framing unambiguous, checked
 * here because libmicrohttpd 0.9.75 does not: one Host for HTTP/1.1, no whitespace in a
 * field name, Content-Length and Transfer-Encoding that agree on where the body ends, no
 * transfer coding but chunked, and a declared body no larger than the server would ever
 * read. Then the route's own rules (method, loopback) and the client tag. admission.c
 * lists each rule with its source.
 */
#ifndef PUSHPULL_ADMISSION_H
#define PUSHPULL_ADMISSION_H

#include <stdbool.h>

#include "request.h"

/* Check a routed request (req->route may be NULL: 404) whose head libmicrohttpd has
 * parsed. true when it may proceed to its route; false when an error answer has been
 * queued (req->answered), with Connection: close when the framing of what follows on
 * the connection cannot be trusted. */
bool admission_check(struct request *req, const char *method, const char *version);

#endif
