/* route.c: the route table, and finding the route of a path (see route.h).
 *
 * Routes are tried in order; the first whose path matches (exactly, or as a prefix for
 * prefix routes) serves the request. A table of ten is searched linearly: a request
 * costs a few string compares, far below anything else it costs.
 */
#include "route.h"

#include <string.h>

/* The route table: adding a transport is one line here and one file. */
static const struct route *const routes[] = {
    &short_poll_route, &long_poll_route, &sse_route,  &ws_route,        &publish_route,
    &stats_route,      &control_route,   &drop_route, &www_index_route, &www_file_route};

const struct route *route_find(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = routes[i];
        if (r->prefix ? strncmp(r->path, path, strlen(r->path)) == 0
                      : strcmp(r->path, path) == 0)
            return r;
    }
    return NULL;
}
