/* publish.c: POST /publish, the way a test, a script or the demo page drives the feed.
 *
 * The request body (UTF-8 text, no NUL, at most --max-publish-bytes) becomes the next
 * update's "data"; the answer is 201 {"seq":N}. Only loopback peers may publish unless
 * the server is started with --open-publish: the server binds 127.0.0.1 by default, but
 * someone who binds 0.0.0.0 to show the demo to a room should not hand the room the feed
 * without saying so. (A WebSocket's text messages follow the same rule, ws_conn.c.)
 */
#include "server.h"
#include "reply.h"
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "jsonw.h"

static enum MHD_Result publish_handle(struct request *req)
{
    const char *data = req->upload.mem ? req->upload.mem : "";
    if (!jsonw_valid_utf8(data, req->upload.len))
        return reply_error(req, 400, "body: expected UTF-8 text without NUL bytes");
    uint64_t seq = feed_publish(req->srv->feed, data, req->upload.len);
    if (seq == 0)
        return reply_error(req, 503, "publish: the feed is shutting down");
    char body[48];
    int n = snprintf(body, sizeof(body), "{\"seq\":%llu}", (unsigned long long)seq);
    return reply_json(req, 201, body, (size_t)n, NULL);
}

const struct route publish_route = {
    .path = "/publish",
    .method = "POST",
    .access = ROUTE_PUBLISHERS,
    .kind = STATS_PUBLISH,
    .handle = publish_handle,
    .done = NULL,
};
