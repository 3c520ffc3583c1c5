/* ref_sse.c: the reference client's Server-Sent Events transport.
 *
 * One GET with Accept: text/event-stream, answered 200 with a body that never ends:
 * chunked (the lab server) or delimited by the close (nchan). The body goes through the
 * lab's own SSE parser (common/sse_parser.c, tested against the WHATWG rules) and each
 * event's data is scanned for the update it carries. What it costs: one request per
 * connection, then only framing per update ("id: N\ndata: ...\n\n"). A stream the
 * server closes is counted and reopened with the standard Last-Event-ID (the last id the
 * stream gave, which the parser keeps across the reset, as the WHATWG EventSource does);
 * the lab server and nchan both resume from it. An id longer than SSE_MAX_ID is not sent,
 * and what the stream then missed shows as missed seqs.
 */
#include <string.h>

#include "ref_transport.h"
#include "sse_parser.h"
#include "update_scan.h"

/* the largest event accepted: the bench's updates are a few hundred bytes */
#define SSE_MAX_EVENT (256 * 1024)
/* the longest event id sent back: nchan's are "<time>:<tag>", the lab server's a number */
#define SSE_MAX_ID 256

static void found(void *ctx, const struct update_found *u)
{
    ref_conn_deliver(ctx, u);
}

static int on_event(void *ctx, const struct sse_event *ev)
{
    update_scan(ev->data, ev->data_len, found, ctx, NULL);
    return 0;
}

static int sse_init(struct ref_conn *c)
{
    struct sse_callbacks cb = {.on_event = on_event, .ctx = c};
    c->state = sse_parser_new(SSE_MAX_EVENT, &cb);
    return c->state ? 0 : -1;
}

static void sse_fini(struct ref_conn *c)
{
    sse_parser_free(c->state);
    c->state = NULL;
}

static void sse_reset(struct ref_conn *c)
{
    sse_parser_reset(c->state);
}

static int sse_request(struct ref_conn *c, struct dynbuf *out)
{
    const char *id = sse_parser_last_id(c->state); /* no CR or LF: the parser split there */
    int rc =
        dynbuf_addf(out, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n",
                    ref_conn_target(c), ref_conn_host(c));
    if (id[0] && strlen(id) <= SSE_MAX_ID)
        rc |= dynbuf_addf(out, "Last-Event-ID: %s\r\n", id);
    return rc | dynbuf_addf(out, "%s\r\n", ref_conn_headers(c));
}

static int sse_on_head(struct ref_conn *c, const struct http_resp *r)
{
    (void)c;
    return r->status == 200 && r->body != HTTP_BODY_NONE ? 0 : -1;
}

static int sse_on_body(struct ref_conn *c, const char *buf, size_t len)
{
    return sse_parser_feed(c->state, buf, len) == SSE_ERR_TOO_BIG ? -1 : 0;
}

static enum ref_next sse_on_done(struct ref_conn *c, const struct http_resp *r)
{
    (void)c;
    (void)r;
    return REF_NEXT_CLOSE; /* a stream that ended */
}

const struct ref_transport ref_sse_transport = {
    .name = "sse",
    .summary = "GET URL as text/event-stream; one update per event's data",
    .ready_at_head = 1,
    .init = sse_init,
    .fini = sse_fini,
    .reset = sse_reset,
    .request = sse_request,
    .on_head = sse_on_head,
    .on_body = sse_on_body,
    .on_done = sse_on_done,
    .on_upgraded = NULL,
};
