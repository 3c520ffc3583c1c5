/* short_poll.c: GET /poll, the client asks on a timer whether anything changed.
 *
 * The technique: every T seconds each client sends a request and gets an answer at once.
 * It is the simplest thing that works through every proxy, cache and firewall, and it
 * keeps no state on the server between requests. Its costs are the two numbers the lab
 * measures: a full request/response header pair every T seconds per client, whether or
 * not anything changed (that is most polls when updates are rarer than polls), and a
 * delivery delay of T/2 on average, T at worst (MODELS.md, "Short polling").
 *
 * Two ways to ask, both here:
 *   GET /poll                   the latest update (state mode). It carries an ETag, the
 *                               update's seq; a client that sends If-None-Match with it
 *                               gets 304 and no body while nothing changed (RFC 9110
 *                               section 13.1.2). Updates between two polls are never seen.
 *   GET /poll?since=N[&limit=K] every update after N still in the ring (event mode),
 *                               with the cursor for the next ask in "next". A gap the
 *                               ring can no longer fill says "reset":true, never silence.
 * Long polling reuses the event-mode body (poll_render_since_locked, below), and both share
 * each cursor's answer until the next update (since_answers.h).
 */
#include "server.h"
#include "reply.h"
#include "route.h"
#include "short_poll.h"
#include "since_answers.h"

#include <stdio.h>
#include <string.h>

/* Largest "limit" accepted. */
#define POLL_MAX_LIMIT 100000
/* One since-response carries at most about this many bytes of updates (at least one
 * update, whatever its size), with or without a limit: a client that asks for a large
 * ring at once follows "next" instead of making the server build a huge body under the
 * feed's lock. */
#define POLL_MAX_BYTES (1024 * 1024)

int poll_render_since_locked(struct feed *f, uint64_t since, uint64_t limit,
                             struct dynbuf *out, uint64_t *count)
{
    struct feed_range r = feed_range_locked(f, since, limit);
    size_t bytes = 0;
    for (uint64_t n = 0; n < r.count; n++) {
        bytes += feed_get_locked(f, r.first + n)->json_len + 1;
        if (n > 0 && bytes > POLL_MAX_BYTES) {
            r.count = n;
            break;
        }
    }
    uint64_t next = r.count ? r.first + r.count - 1 : (r.reset ? r.first - 1 : since);
    int rc = dynbuf_addf(out, "{\"next\":%llu,", (unsigned long long)next);
    if (rc == 0 && r.reset)
        rc = dynbuf_adds(out, "\"reset\":true,");
    if (rc == 0)
        rc = dynbuf_adds(out, "\"events\":[");
    for (uint64_t i = 0; rc == 0 && i < r.count; i++) {
        const struct feed_update *u = feed_get_locked(f, r.first + i);
        if (i > 0)
            rc = dynbuf_add(out, ",", 1);
        if (rc == 0)
            rc = dynbuf_add(out, u->json, u->json_len);
    }
    if (rc == 0)
        rc = dynbuf_adds(out, "]}");
    *count = r.count;
    return rc;
}

/* Does an If-None-Match list (RFC 9110 section 13.1.2) name this entity tag? Weak tags
 * compare by their opaque part, as the weak comparison the header calls for. */
static bool etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == elen && memcmp(p, etag, len) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

void poll_answers_init(struct poll_answers *a)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
}

void poll_answers_free(struct poll_answers *a)
{
    if (a->ok)
        MHD_destroy_response(a->ok);
    if (a->same)
        MHD_destroy_response(a->same);
    a->ok = a->same = NULL;
    a->built = false;
    pthread_mutex_destroy(&a->lock);
}

/* The newest update's JSON ({"seq":0} before the first), feed lock held. */
static void newest_body_locked(struct feed *f, uint64_t newest, const char **body,
                               size_t *len)
{
    const struct feed_update *u = feed_get_locked(f, newest);
    *body = u ? u->json : "{\"seq\":0}";
    *len = u ? u->json_len : strlen(*body);
}

/* Make a's answers those for update `newest`. Both locks held. 0, or -1 out of memory
 * (a unchanged). */
static int answers_build_locked(struct poll_answers *a, struct feed *f, uint64_t newest)
{
    const char *body;
    size_t len;
    newest_body_locked(f, newest, &body, &len);
    char etag[sizeof(a->etag)];
    snprintf(etag, sizeof(etag), "\"%llu\"", (unsigned long long)newest);
    struct MHD_Response *ok = reply_json_build(body, len, MHD_HTTP_HEADER_ETAG, etag, NULL);
    struct MHD_Response *same = reply_not_modified_build(etag);
    if (!ok || !same) {
        if (ok)
            MHD_destroy_response(ok);
        if (same)
            MHD_destroy_response(same);
        return -1;
    }
    if (a->ok)
        MHD_destroy_response(a->ok); /* freed when the last poll holding it is sent */
    if (a->same)
        MHD_destroy_response(a->same);
    a->ok = ok;
    a->same = same;
    a->len = len;
    a->seq = newest;
    a->resets = feed_reset_generation_locked(f);
    memcpy(a->etag, etag, sizeof(etag));
    a->built = true;
    return 0;
}

/* State mode: the latest update, or 304 when the client already has it, from the shared
 * answers (rebuilt when the feed has moved on). */
static enum MHD_Result poll_latest(struct request *req)
{
    struct feed *f = req->srv->feed;
    struct poll_answers *a = &req->srv->poll_answers;
    const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    pthread_mutex_lock(&a->lock);
    feed_lock(f);
    uint64_t newest = feed_newest_locked(f);
    /* a seq names an update within one reset generation (a Redis stream lost and followed
     * anew starts again at 1): answers for an old generation's seq are rebuilt */
    bool current =
        a->built && a->seq == newest && a->resets == feed_reset_generation_locked(f);
    int rc = current ? 0 : answers_build_locked(a, f, newest);
    feed_unlock(f);
    enum MHD_Result res = MHD_NO;
    if (rc == 0 && inm && etag_matches(inm, a->etag))
        res = reply_shared(req, 304, a->same, 0);
    else if (rc == 0)
        res = reply_shared(req, 200, a->ok, a->len);
    pthread_mutex_unlock(&a->lock);
    return res; /* MHD_NO out of memory: libmicrohttpd closes the connection */
}

static enum MHD_Result short_poll_handle(struct request *req)
{
    uint64_t since = 0, limit = 0;
    int has_since =
        request_uint_value(req, MHD_GET_ARGUMENT_KIND, "since", UINT64_MAX, &since);
    if (has_since < 0)
        return MHD_YES;
    int has_limit =
        request_uint_value(req, MHD_GET_ARGUMENT_KIND, "limit", POLL_MAX_LIMIT, &limit);
    if (has_limit < 0)
        return MHD_YES;
    if (has_limit && (limit == 0 || !has_since))
        return reply_error(req, 400,
                           "limit: expected a whole number from 1 to %d, with since",
                           POLL_MAX_LIMIT);
    if (!has_since)
        return poll_latest(req);
    /* clients that keep up ask with the same cursor until the next update: one answer */
    feed_lock(req->srv->feed);
    return since_answers_reply_locked(&req->srv->since_answers, req, since, limit);
}

const struct route short_poll_route = {
    .path = "/poll",
    .method = "GET",
    .kind = STATS_POLL,
    .handle = short_poll_handle,
    .done = NULL,
};
