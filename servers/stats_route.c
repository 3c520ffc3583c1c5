/* stats_route.c: GET /stats[?client=TAG] (see stats_route.h).
 *
 * Without a tag, the whole document: stats_render's counters and the feed's figures,
 * then the settings as "config", so a result file explains itself. With client=TAG, that
 * tag's row only; asking does not count the request in the row it reads. A tag not seen
 * yet reads as zeros, until the table is full (STATS_MAX_TAGS): a new tag then can never
 * be tracked, and asking for it is a 404 that says so, not a row of zeros.
 */
#include "stats_route.h"

#include <stdio.h>

#include "generator.h"
#include "reply.h"
#include "route.h"

int stats_route_render(struct server *srv, struct dynbuf *b)
{
    if (stats_render(&srv->stats, feed_published(srv->feed), feed_newest(srv->feed),
                     feed_parked(srv->feed), b) != 0)
        return -1;
    /* The settings the numbers were produced under, so a result file explains itself. */
    const struct server_config *c = &srv->cfg;
    b->len--; /* reopen the object: drop its closing brace */
    return dynbuf_addf(
        b,
        ",\"config\":{\"rate_hz\":%g,\"process\":\"%s\",\"burst_size\":%u,"
        "\"payload_bytes\":%zu,\"buffer\":%zu,\"longpoll_timeout_s\":%g,"
        "\"heartbeat_s\":%g,\"retry_ms\":%u,\"threads\":%u,"
        "\"max_connections\":%u,\"request_timeout_s\":%g,"
        "\"idle_timeout_s\":%g,\"max_publish_bytes\":%zu,\"open_publish\":%s,"
        "\"durable\":%s}}",
        c->process == GEN_TRACE ? 0 : generator_rate(srv->gen),
        generator_process_name(c->process), c->burst_size, c->payload_bytes, c->buffer,
        (double)c->longpoll_timeout_ns / 1e9, (double)c->heartbeat_ns / 1e9, c->retry_ms,
        c->threads, c->max_connections, (double)c->request_timeout_ns / 1e9,
        (double)c->idle_timeout_ns / 1e9, c->max_publish_bytes,
        c->open_publish ? "true" : "false", c->feed_file[0] ? "true" : "false");
}

static enum MHD_Result stats_handle(struct request *req)
{
    struct server *srv = req->srv;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    /* the tag is valid: admission.c answered 400 otherwise */
    const char *tag =
        MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "client");
    if (tag) {
        const struct stats_row *row = stats_tag_find(&srv->stats, tag);
        if (!row && atomic_load(&srv->stats.ntags) >= STATS_MAX_TAGS)
            return reply_error(req, 404,
                               "client: \"%s\" is not tracked: the table of %d client tags "
                               "is full",
                               tag, STATS_MAX_TAGS);
        if (stats_render_tag(row, tag, &b) != 0)
            return MHD_NO;
        enum MHD_Result rc = reply_json(req, 200, b.mem, b.len, NULL);
        dynbuf_free(&b);
        return rc;
    }
    if (stats_route_render(srv, &b) != 0) {
        dynbuf_free(&b);
        return MHD_NO;
    }
    enum MHD_Result rc = reply_json(req, 200, b.mem, b.len, NULL);
    dynbuf_free(&b);
    return rc;
}

const struct route stats_route = {
    .path = "/stats",
    .method = "GET",
    .kind = STATS_STATS,
    .handle = stats_handle,
    .done = NULL,
};
