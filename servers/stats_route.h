/* stats_route.h: GET /stats, the server's account of itself as one JSON document: the
 * counters of stats.h, the feed's figures, and the settings they were produced under.
 *
 * The same document is what SIGUSR1 prints before the deliberate crash (main.c), so a
 * lab run can add up a crashed server and its successor.
 */
#ifndef PUSHPULL_STATS_ROUTE_H
#define PUSHPULL_STATS_ROUTE_H

#include "dynbuf.h"
#include "server.h"

/* The GET /stats document (counts, then the settings as "config") into b. 0, or -1
 * when b refused to grow. */
int stats_route_render(struct server *srv, struct dynbuf *b);

#endif
