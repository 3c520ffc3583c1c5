/* targets.h: the server instances a run's users talk to (--server URL[,URL...]).
 *
 * Each URL is split once, before the run: its address resolved to a numeric one (every
 * user connects there, libcurl through CURLOPT_RESOLVE), its port, the Host line users
 * send, and its path prefix. User u starts on target u % M (by its global id, so every
 * partition agrees: partition.h) and moves to the next when its own stops answering
 * (failover.h). One URL, a single server's or a balancer's, is one target.
 */
#ifndef PUSHPULL_TARGETS_H
#define PUSHPULL_TARGETS_H

#include <stddef.h>
#include <stdint.h>

struct server_target {
    char url[1024];      /* as given */
    char address[64];    /* numeric: "127.0.0.1" or "[::1]" */
    unsigned port;       /* from the URL, or the scheme's */
    char host_line[300]; /* "Host: 127.0.0.1:8080", as the URL names the host */
    char base_path[256]; /* path prefix without a trailing / ("" or "/api") */
};

/* Split and resolve every URL of the comma-separated list. *out (n_out entries) is
 * allocated; the caller frees it with free(). 0, or -1 with one line in err naming the
 * URL and the failed call. */
int targets_parse(const char *list, struct server_target **out, uint32_t *n_out, char *err,
                  size_t errlen);

#endif
