/* user_protocol.h: the run's protocol (--protocol) in a user's libcurl transfers:
 * HTTP/1.1 or HTTP/2, plain or over TLS (user_protocol.c says how and why).
 */
#ifndef PUSHPULL_USER_PROTOCOL_H
#define PUSHPULL_USER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include "user.h"

/* The protocol's settings on u's easy handle, once. 0, or -1 with one line in err
 * (a libcurl without HTTP/2 or TLS). */
int user_protocol_setup(struct user *u, char *err, size_t errlen);
/* Before each transfer (h2c: prior knowledge only for a group's first connection). */
void user_protocol_before(struct user *u);
/* One raw response head line from libcurl: under HTTP/2, the fields' decoded bytes in
 * h2load's measure and the response's frames, for the HPACK figure (wire.h). */
void user_protocol_head_line(struct user *u, const char *buf, size_t len);
/* After a transfer that succeeded: whether it was answered in the version asked for. */
bool user_protocol_as_asked(struct user *u);

#endif
