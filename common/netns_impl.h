/* netns_impl.h: what the namespace module's files share (netns.c, netns_ip.c,
 * netns_subnet.c); not for other files, which see netns.h only.
 */
#ifndef PUSHPULL_NETNS_IMPL_H
#define PUSHPULL_NETNS_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dynbuf.h"

#define IP_STDOUT_MAX                                                                      \
    (64u << 20) /* ip's output kept: a host with a full BGP table has                      \
                   ~100 MB of routes */

/* Why a child of fork failed, written to its parent before _exit(127). */
enum child_step { STEP_OK, STEP_STDIO, STEP_SETNS, STEP_EXEC };
struct child_status {
    int step; /* enum child_step */
    int err;  /* errno of the failed call */
};

/* netns_ip.c. A child of fork that failed at `step`: tell the parent through fd, then
 * _exit(127) (async-signal-safe only). */
void netns_child_fail(int fd, int step) __attribute__((noreturn));
/* The failed call's name for a step ("execv"). */
const char *netns_child_step_call(int step);
/* waitpid(pid) through EINTR; the wait status into *status (NULL: not wanted). */
pid_t netns_reap(pid_t pid, int *status);
/* Run `ip` with args (NULL-terminated, "ip" itself left out), stdout into out (NULL:
 * discarded), bounded in time; 0, or -1 with msg saying the command and ip's stderr. */
int netns_ip_run(const char *const args[], struct dynbuf *out, char *msg, size_t msglen);
/* One named step on namespace `name`: ip with the words that follow, up to a NULL. */
int netns_ip_step(char *err, size_t errlen, const char *name, const char *step,
                  struct dynbuf *out, ...) __attribute__((sentinel));

/* netns_subnet.c. A free /NETNS_PREFIX from the pool for namespace `name` (host byte
 * order): one that overlaps no address or route of this host. 0, or -1 with err. */
int netns_subnet_pick(const char *name, uint32_t *net, char *err, size_t errlen);

#endif
