/* time_route.c: GET /time, the server side of the clock-offset probe.
 *
 * A client on another host cannot subtract the server's publish stamp from its own
 * receipt time until it knows how far apart the two clocks are. It estimates that the
 * NTP way: it reads its clock (t0), asks GET /time, reads its clock again (t1); the
 * server's reading lies within [t0, t1] of the client's clock, so the offset is
 * t_ns - (t0 + t1) / 2, give or take half the round trip. The probe with the shortest
 * round trip of several gives the tightest bound.
 *
 * So the answer is as small and as quick as can be: {"t_ns":N}, the server's
 * CLOCK_REALTIME in nanoseconds, read at the last moment before the response is built;
 * no feed, no lock. It is counted in the "time" row of /stats like any other request,
 * and HEAD gets the same header fields without the body, as on every GET path.
 */
#include "server.h"
#include "reply.h"
#include "route.h"

#include <stdio.h>

#include "clock.h"

static enum MHD_Result time_handle(struct request *req)
{
    char body[48];
    int n = snprintf(body, sizeof(body), "{\"t_ns\":%lld}", (long long)clock_real_ns());
    return reply_json(req, 200, body, (size_t)n, NULL);
}

const struct route time_route = {
    .path = "/time",
    .method = "GET",
    .kind = STATS_TIME,
    .handle = time_handle,
    .done = NULL,
};
