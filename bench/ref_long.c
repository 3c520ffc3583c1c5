/* ref_long.c: the reference client's long-polling transports, one per cursor dialect.
 *
 * Long polling: a GET the server holds until there is something newer than the cursor,
 * answered with it; the client asks again at once on the same kept-alive connection.
 * What it costs: a request and a response head per answer, and between the answer and
 * the next request the client is blind (an update then waits for the next request).
 *
 * Two rows, because servers name the cursor differently:
 *   long       the lab server: GET URL, then URL?since=NEXT with NEXT from the answer's
 *              {"next":..,"events":[...]} (the first request has no since: wait for the
 *              next update);
 *   long-etag  nchan: the answer is the message itself, and its Last-Modified and ETag
 *              go back as If-Modified-Since and If-None-Match.
 * A 304 or 408 (a held request that timed out, in nchan) is asked again with the same
 * cursor.
 */
#include <stdlib.h>
#include <string.h>

#include "ref_transport.h"
#include "update_scan.h"

#define BODY_MAX (4 * 1024 * 1024)

struct long_state {
    struct dynbuf body; /* the answer so far */
    uint64_t since;     /* long: the next cursor */
    int has_since;      /* long: a cursor is known */
    char etag[96];      /* long-etag: the last answer's ETag ("" before the first) */
    char lastmod[64];   /* long-etag: its Last-Modified */
};

_Static_assert(sizeof(((struct long_state *)0)->etag) ==
                       sizeof(((struct http_resp *)0)->etag) &&
                   sizeof(((struct long_state *)0)->lastmod) ==
                       sizeof(((struct http_resp *)0)->last_modified),
               "the cursor fields match the parser's");

static void found(void *ctx, const struct update_found *u)
{
    ref_conn_deliver(ctx, u);
}

static int long_init(struct ref_conn *c)
{
    struct long_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    dynbuf_init(&s->body, BODY_MAX);
    c->state = s;
    return 0;
}

static void long_fini(struct ref_conn *c)
{
    struct long_state *s = c->state;
    if (s)
        dynbuf_free(&s->body);
    free(s);
    c->state = NULL;
}

static void long_reset(struct ref_conn *c)
{
    struct long_state *s = c->state;
    dynbuf_reset(&s->body); /* the cursor is kept: a reconnect resumes */
}

static int since_request(struct ref_conn *c, struct dynbuf *out)
{
    struct long_state *s = c->state;
    const char *t = ref_conn_target(c);
    int rc = dynbuf_addf(out, "GET %s", t);
    if (s->has_since)
        rc |= dynbuf_addf(out, "%csince=%llu", strchr(t, '?') ? '&' : '?',
                          (unsigned long long)s->since);
    rc |= dynbuf_addf(out, " HTTP/1.1\r\nHost: %s\r\n%s\r\n", ref_conn_host(c),
                      ref_conn_headers(c));
    return rc;
}

static int etag_request(struct ref_conn *c, struct dynbuf *out)
{
    struct long_state *s = c->state;
    int rc = dynbuf_addf(out, "GET %s HTTP/1.1\r\nHost: %s\r\n", ref_conn_target(c),
                         ref_conn_host(c));
    if (s->lastmod[0])
        rc |= dynbuf_addf(out, "If-Modified-Since: %s\r\n", s->lastmod);
    if (s->etag[0])
        rc |= dynbuf_addf(out, "If-None-Match: %s\r\n", s->etag);
    rc |= dynbuf_addf(out, "%s\r\n", ref_conn_headers(c));
    return rc;
}

static int long_on_head(struct ref_conn *c, const struct http_resp *r)
{
    (void)c;
    return r->status == 200 || r->status == 304 || r->status == 408 ? 0 : -1;
}

static int long_on_body(struct ref_conn *c, const char *buf, size_t len)
{
    struct long_state *s = c->state;
    return dynbuf_add(&s->body, buf, len);
}

/* Deliver the updates of a 200; 0, or -1 when the body was not what an update is. */
static int deliver_body(struct ref_conn *c, struct update_scan_result *res)
{
    struct long_state *s = c->state;
    int rc = update_scan(s->body.mem ? s->body.mem : "", s->body.len, found, c, res);
    dynbuf_reset(&s->body);
    return rc;
}

static enum ref_next since_on_done(struct ref_conn *c, const struct http_resp *r)
{
    struct long_state *s = c->state;
    struct update_scan_result res;
    if (r->status != 200)
        return REF_NEXT_REQUEST;
    if (deliver_body(c, &res) != 0 || !res.has_next)
        return REF_NEXT_ERROR;
    s->since = res.next;
    s->has_since = 1;
    return REF_NEXT_REQUEST;
}

static enum ref_next etag_on_done(struct ref_conn *c, const struct http_resp *r)
{
    struct long_state *s = c->state;
    if (r->status != 200)
        return REF_NEXT_REQUEST;
    if (deliver_body(c, NULL) != 0)
        return REF_NEXT_ERROR;
    /* both fit: the parser's fields are the same size as ours */
    memcpy(s->etag, r->etag, sizeof(s->etag));
    memcpy(s->lastmod, r->last_modified, sizeof(s->lastmod));
    return REF_NEXT_REQUEST;
}

const struct ref_transport ref_long_transport = {
    .name = "long",
    .summary = "long polling with the lab's cursor: GET URL?since=NEXT",
    .ready_at_head = 0,
    .init = long_init,
    .fini = long_fini,
    .reset = long_reset,
    .request = since_request,
    .on_head = long_on_head,
    .on_body = long_on_body,
    .on_done = since_on_done,
    .on_upgraded = NULL,
};

const struct ref_transport ref_long_etag_transport = {
    .name = "long-etag",
    .summary = "long polling with nchan's cursor: If-Modified-Since + If-None-Match",
    .ready_at_head = 0,
    .init = long_init,
    .fini = long_fini,
    .reset = long_reset,
    .request = etag_request,
    .on_head = long_on_head,
    .on_body = long_on_body,
    .on_done = etag_on_done,
    .on_upgraded = NULL,
};
