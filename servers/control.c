/* control.c: the demo's two levers, for loopback peers only.
 *
 *   POST /control?rate=HZ   the generator's rate, live (0 pauses it; at most 1000):
 *                           200 {"rate_hz":HZ}
 *   POST /drop              close every open SSE stream, WebSocket and held long poll
 *                           abruptly: 200 {"dropped":N}
 *
 * A drop is what a restarting proxy or a flaky network does to a room full of clients.
 * It sends no "event: end" and no close frame: an EventSource must treat the cut as an
 * error, wait its retry delay and reconnect with Last-Event-ID, a WebSocket client
 * reconnect with ?since=, and a long-poll loop must re-ask with its cursor; all then get
 * everything they missed from the ring.
 */
#include "server.h"
#include "reply.h"
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "generator.h"
#include "units.h"

#define CONTROL_MAX_RATE 1000.0

static enum MHD_Result control_handle(struct request *req)
{
    const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "rate");
    double hz;
    if (!v || units_parse_number(v, &hz) != 0 || hz > CONTROL_MAX_RATE ||
        (hz > 0 && hz < GEN_MIN_RATE_HZ)) {
        char got[REPLY_QUOTE_SIZE];
        reply_quote(got, sizeof(got), v ? v : "(nothing)", strlen(v ? v : "(nothing)"));
        return reply_error(req, 400,
                           "rate: expected 0, or updates per second from %g to %g, got "
                           "\"%s\"",
                           GEN_MIN_RATE_HZ, CONTROL_MAX_RATE, got);
    }
    if (generator_set_rate(req->srv->gen, hz) != 0)
        return reply_error(req, 409,
                           "rate: the generator replays a trace; its rate is fixed");
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"rate_hz\":%g}", hz);
    return reply_json(req, 200, body, (size_t)n, NULL);
}

static enum MHD_Result drop_handle(struct request *req)
{
    struct stats *st = &req->srv->stats;
    long long held = (long long)(atomic_load(&st->row[STATS_SSE].open) +
                                 atomic_load(&st->row[STATS_WS].open) +
                                 atomic_load(&st->row[STATS_LONGPOLL].open));
    feed_drop(req->srv->feed);
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"dropped\":%lld}", held);
    return reply_json(req, 200, body, (size_t)n, NULL);
}

const struct route control_route = {
    .path = "/control",
    .method = "POST",
    .access = ROUTE_LOOPBACK,
    .kind = STATS_PUBLISH,
    .handle = control_handle,
    .done = NULL,
};

const struct route drop_route = {
    .path = "/drop",
    .method = "POST",
    .access = ROUTE_LOOPBACK,
    .kind = STATS_PUBLISH,
    .handle = drop_handle,
    .done = NULL,
};
