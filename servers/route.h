/* route.h: one endpoint of the server, and the table of them: the seam through which
 * every transport plugs in.
 *
 * A route names its path, the method it takes, who may use it and which /stats row it
 * counts in, and gives two functions: `handle`, called when the request is complete and
 * again after every resume, and `done`, called once when the request is over. The daemon
 * parses nothing transport-specific; a new transport is one new file plus one line in
 * the table (route.c).
 */
#ifndef PUSHPULL_ROUTE_H
#define PUSHPULL_ROUTE_H

#include <stdbool.h>

#include <microhttpd.h>

#include "stats.h"

struct request;

/* Who may use a route. */
enum route_access {
    ROUTE_ANYONE = 0, /* every peer the server can be reached by */
    ROUTE_PUBLISHERS, /* loopback peers, and every peer with --open-publish */
    ROUTE_LOOPBACK    /* loopback peers only, always */
};

/* One endpoint. Transports define one each (short_poll.c, long_poll.c, sse.c, ws.c...). */
struct route {
    const char *path;         /* exact path, e.g. "/poll" (a prefix when .prefix is set) */
    bool prefix;              /* match every path starting with .path */
    enum route_access access; /* 403 for peers it does not admit */
    const char *method;       /* the one method it accepts */
    enum stats_kind kind;     /* which /stats row it counts in */
    /* Called when the request is complete (body read) and again after every resume.
     * Queues a response, or parks the request and suspends; MHD_NO closes the
     * connection. */
    enum MHD_Result (*handle)(struct request *req);
    /* The request is over (sent, failed or aborted): release the transport's state.
     * May be NULL. The waiter is already off the feed's list. */
    void (*done)(struct request *req);
};

/* The route serving this path, or NULL. */
const struct route *route_find(const char *path);

/* ---- the routes ---- */
extern const struct route short_poll_route;
extern const struct route long_poll_route;
extern const struct route sse_route;
extern const struct route ws_route;
extern const struct route publish_route;
extern const struct route stats_route;
extern const struct route control_route;
extern const struct route drop_route;
extern const struct route www_index_route;
extern const struct route www_file_route;

#endif
