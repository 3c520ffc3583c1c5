/* sse.c: GET /events, Server-Sent Events: one long response the server writes into.
 *
 * The technique (WHATWG HTML section 9.2, "Server-sent events"): the client opens one
 * request and the server never finishes the response; each update is written into it as
 * an event the moment it is published. On the wire, per update:
 *
 *     id: 42\n
 *     data: {"seq":42,"ts_ns":...,"data":"..."}\n
 *     \n
 *
 * inside HTTP/1.1 chunked framing (hex length, CRLF, bytes, CRLF). No "event:" line, so
 * a browser's EventSource hands it to onmessage. The stream opens with "retry: <ms>"
 * (how long the browser waits before reconnecting), and a comment ": keepalive" goes out
 * after a heartbeat interval of silence so proxies that cut idle connections leave it
 * alone (WHATWG 9.2.7 suggests about every 15 s). A client that reconnects sends
 * Last-Event-ID (or ?lastEventId= where it cannot set headers); every update after it
 * still in the ring is replayed first, after an "event: reset" if some were lost. On
 * shutdown the stream gets "event: end" and a proper end of the chunked body.
 *
 * Costs: one request per client per connection; per update only the event text plus
 * about 25 bytes of framing; one comment per heartbeat when idle. Latency is one network
 * transit. Where it fails: buffering proxies that hold the response until it is
 * "complete" (X-Accel-Buffering: no asks nginx not to), HTTP/1.1 browsers' limit of six
 * connections per origin, and every open stream holds a socket.
 *
 * Mechanics: libmicrohttpd pulls the body from sse_read(). With nothing to send it parks
 * the request on the feed and suspends the connection; a publish, the heartbeat deadline
 * or shutdown resumes it, and libmicrohttpd calls sse_read() again.
 */
#include "server.h"
#include "reply.h"
#include "route.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

/* At most this many updates are rendered per refill, to bound one stream's buffer. */
#define SSE_BATCH 64
/* ... and at most about this many bytes, so a burst of large updates cannot make one
 * stream's buffer large (a single update larger than this still goes out whole). */
#define SSE_BATCH_BYTES (64 * 1024)
/* libmicrohttpd's buffer beside the response (sse_handle). */
#define SSE_RESPONSE_BLOCK 256

struct sse_stream {
    uint64_t cursor;       /* last seq written into out */
    struct dynbuf out;     /* rendered text not yet handed to libmicrohttpd */
    size_t out_off;        /* bytes of out already handed over */
    int64_t last_write_ns; /* when bytes last left, for the heartbeat */
    bool opened;           /* the retry line is written */
    bool ended;            /* "event: end" is written; next read ends the body */
    bool counted;          /* counted as open in /stats */
    bool cut;              /* sse_cut ran: the socket is shut down */
    bool unknown_id;       /* the client's Last-Event-ID was unusable: reset, from the
                              oldest update kept */
    bool trimmed;          /* sse_trim ran: libmicrohttpd's idle buffer pages given back */
    uint64_t drops;        /* the feed's drop generation when the stream opened */
};

/* Bytes HTTP/1.1 chunked coding adds around a chunk of n bytes: hex size, CRLF, CRLF. */
static uint64_t chunk_framing(size_t n)
{
    uint64_t digits = 1;
    while (n >= 16) {
        n /= 16;
        digits++;
    }
    return digits + 4;
}

/* Append one update as an event: "id: <seq>\ndata: <json>\n\n". This runs once per
 * stream per update (ten thousand times a publish at the bench's fan-out load), so the
 * id is written by hand and the head goes in with one append: the printf family parses
 * its format on every call, and was about 1% of the server's CPU in a fan-out profile.
 * 0, or -1 when out of memory (the buffer is freed, as dynbuf does). */
static int sse_add_event(struct dynbuf *out, const struct feed_update *u)
{
    char head[32] = "id: "; /* "id: ", at most 20 digits, "\ndata: " */
    char digits[20];
    size_t nd = 0, n = 4;
    uint64_t v = u->seq;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (nd > 0)
        head[n++] = digits[--nd];
    memcpy(head + n, "\ndata: ", 7);
    n += 7;
    if (dynbuf_add(out, head, n) != 0 || dynbuf_add(out, u->json, u->json_len) != 0)
        return -1;
    return dynbuf_add(out, "\n\n", 2);
}

/* Render what the stream should say next into s->out. Feed lock held. Returns 1 when
 * there is something, 0 when the request was parked (nothing to say yet), -1 on error. */
static int sse_fill_locked(struct request *req, struct sse_stream *s)
{
    struct feed *f = req->srv->feed;
    int rc = 0;
    if (feed_drop_generation_locked(f) != s->drops)
        return -1; /* POST /drop while this stream was busy writing */
    dynbuf_reset(&s->out);
    s->out_off = 0;
    if (!s->opened) {
        rc = dynbuf_addf(&s->out, "retry: %u\n\n", req->srv->cfg.retry_ms);
        s->opened = true;
    }
    struct feed_range r = feed_range_locked(f, s->cursor, SSE_BATCH);
    if (rc == 0 && s->unknown_id)
        rc = dynbuf_addf(&s->out, "event: reset\ndata: {\"since\":null,\"first\":%llu}\n\n",
                         (unsigned long long)r.first);
    else if (rc == 0 && r.reset)
        rc = dynbuf_addf(&s->out, "event: reset\ndata: {\"since\":%llu,\"first\":%llu}\n\n",
                         (unsigned long long)s->cursor, (unsigned long long)r.first);
    s->unknown_id = false;
    uint64_t sent = 0; /* updates rendered: stop at SSE_BATCH_BYTES, after at least one */
    while (rc == 0 && sent < r.count && (sent == 0 || s->out.len < SSE_BATCH_BYTES))
        rc = sse_add_event(&s->out, feed_get_locked(f, r.first + sent++));
    if (sent > 0 || r.reset)
        s->cursor = sent ? r.first + sent - 1 : r.first - 1;
    if (rc != 0)
        return -1;
    if (s->out.len > 0)
        return 1;
    int64_t hb = req->srv->cfg.heartbeat_ns;
    int64_t due = hb > 0 ? s->last_write_ns + hb : INT64_MAX;
    if (!feed_closing_locked(f) && clock_mono_ns() >= due)
        return dynbuf_adds(&s->out, ": keepalive\n\n") ? -1 : 1;
    /* Nothing to say: wait on the feed. Parking fails only when the feed is closing,
     * and then the stream says goodbye instead. */
    if (!feed_closing_locked(f) && request_park_locked(req, due) == 0)
        return 0;
    s->ended = true;
    return dynbuf_adds(&s->out, "event: end\ndata: {\"reason\":\"shutdown\"}\n\n") ? -1 : 1;
}

/* End the stream abruptly: its peer is gone, POST /drop asked, or its text could not be
 * rendered. Returns what sse_read gives libmicrohttpd.
 *
 * Not MHD_CONTENT_READER_END_WITH_ERROR, because of how libmicrohttpd 0.9.75 (Debian
 * 12's) handles it for a stream that has been suspended and resumed: the connection
 * leaked whenever an idle keep-alive connection was open (issue 10). In its
 * src/microhttpd/connection.c, MHD_connection_handle_idle's CHUNKED_BODY_UNREADY case
 * (and NORMAL_BODY_UNREADY, for HTTP/1.0) calls try_ready_chunked_body, which on
 * END_WITH_ERROR closes the connection (connection_close_error: state CLOSED, event-loop
 * info CLEANUP); the case then leaves the state machine with `break`, not `continue`, so
 * the CLOSED case that calls cleanup_connection() does not run in that pass (END_OF_STREAM
 * from NORMAL_BODY_UNREADY takes the same `break`). Something must call handle_idle again,
 * and nothing does: suspending took the socket out of the epoll set
 * (internal_suspend_connection_ in daemon.c), resuming put the connection on the ready
 * list only, and MHD_epoll (daemon.c) drops it from that list once its event-loop info
 * is CLEANUP. What is left is MHD_epoll's walk over the normal timeout list, which starts
 * at the least recently active connection and stops at the first that is not closed: an
 * idle keep-alive connection sits there and stops it, so every such stream's socket stayed
 * open as long as the idle connection did, counting against --max-connections.
 *
 * So the cut takes a path that frees: the socket is shut down here (the peer sees the
 * stream end without a word: no "event: end", no last chunk), and libmicrohttpd is given
 * one byte to send. Its write fails (EPIPE), and a failed write closes the connection in
 * MHD_connection_handle_write, after which call_handlers runs handle_idle at once, whose
 * CLOSED case calls cleanup_connection(). The byte never leaves and is counted nowhere. */
static ssize_t sse_cut(struct request *req, struct sse_stream *s, char *buf)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (s->cut || !ci)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* cannot happen; closes all the same */
    s->cut = true;
    shutdown(ci->connect_fd, SHUT_RDWR);
    buf[0] = '\n';
    return 1;
}

/* Give the kernel back the whole pages of the buffer libmicrohttpd lends sse_read, the
 * first time the stream parks (it is idle from then on, as most streams are most of the
 * time). That buffer is the free rest of the connection's pool (--max-connections times
 * SERVER_CONN_MEMORY in server.c), and libmicrohttpd 0.9.75 has written zeros over half
 * of it before the stream's first byte: when the response begins, it shrinks the read
 * buffer, which it had sized at half the pool, and zeroes what it frees
 * (MHD_pool_reallocate in its memorypool.c). An idle stream would keep those pages
 * resident for nothing: half the pool, 8 of the 17.7 KiB an idle stream cost. The buffer
 * holds nothing of value while sse_read has written nothing into it, and the pages come
 * back zeroed (MADV_DONTNEED on private anonymous memory), as libmicrohttpd left them, the
 * moment an update is written there. Only whole pages inside [buf, buf + max) are given,
 * never the bytes libmicrohttpd keeps around it (its chunk header and the allocator's). */
static void sse_trim(struct sse_stream *s, char *buf, size_t max)
{
    if (s->trimmed)
        return;
    s->trimmed = true;
    long page = sysconf(_SC_PAGESIZE); /* glibc's, from the auxiliary vector: no call */
    if (page <= 0)
        return;
    uintptr_t lo = ((uintptr_t)buf + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)buf + max) & ~((uintptr_t)page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct request *req = cls;
    struct sse_stream *s = req->state;
    (void)pos;
    if (req->waiter.why == FEED_WAKE_GONE || req->waiter.why == FEED_WAKE_DROP || s->cut)
        return sse_cut(req, s, buf); /* gone, or POST /drop: cut it */
    if (s->out_off == s->out.len) {
        if (s->ended) {
            /* libmicrohttpd now writes the last chunk: "0" CRLF CRLF. */
            uint64_t last = req->chunked ? 5 : 0;
            req->framing_bytes += last;
            request_count(req, SF_FRAMING_BYTES, last);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        feed_lock(req->srv->feed);
        int rc = sse_fill_locked(req, s);
        feed_unlock(req->srv->feed);
        if (rc < 0)
            return sse_cut(req, s, buf);
        if (rc == 0) {
            sse_trim(s, buf, max);
            return 0; /* parked and suspended: called again when woken */
        }
    }
    request_count_stream_headers(req);
    size_t n = s->out.len - s->out_off;
    if (n > max)
        n = max;
    memcpy(buf, s->out.mem + s->out_off, n);
    s->out_off += n;
    s->last_write_ns = clock_mono_ns();
    req->body_bytes += n;
    uint64_t framing = req->chunked ? chunk_framing(n) : 0;
    req->framing_bytes += framing;
    request_count(req, SF_RESP_BODY_BYTES, n);
    request_count(req, SF_FRAMING_BYTES, framing);
    return (ssize_t)n;
}

/* Where a new stream starts: after the client's Last-Event-ID (or ?lastEventId=, where
 * it cannot set headers), or, without one, at what comes next. An id that is no whole
 * number (a browser sends back whatever id it was given; a proxy may add a space) is
 * treated as unknown, not refused: a 400 would make EventSource give up for good (WHATWG
 * 9.2.3), while a reset from the oldest kept update lets it carry on. Such ids are
 * counted (last_event_id_unusable in /stats). */
static void sse_start_cursor(struct request *req, struct sse_stream *s)
{
    struct server *srv = req->srv;
    uint64_t id = 0;
    const char *v =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Last-Event-ID");
    int has = 0;
    if (v && v[0] != '\0')
        has = request_uint_parse(req, MHD_HEADER_KIND, "Last-Event-ID", UINT64_MAX, &id);
    else
        has =
            request_uint_parse(req, MHD_GET_ARGUMENT_KIND, "lastEventId", UINT64_MAX, &id);
    if (has < 0) {
        stats_add(&srv->stats.last_event_id_unusable, 1);
        s->unknown_id = true;
        s->cursor = 0;
    } else if (has > 0) {
        s->cursor = id;
    } else {
        s->cursor = feed_newest_locked(srv->feed);
    }
}

/* The body of a HEAD response, never asked for (libmicrohttpd sends none). */
static ssize_t sse_no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls, (void)pos, (void)buf, (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* HEAD /events: the stream's header fields, and no stream (RFC 9110 section 9.3.2). The
 * length stays unknown, as the stream's is, so there is no Content-Length (a HEAD answer
 * must not claim one the GET would not have); and no chunked coding either, because
 * libmicrohttpd 0.9.75 sends a chunked body's last chunk even to HEAD, which a client
 * would read as the start of the next response. So the connection closes after it. */
static enum MHD_Result sse_head(struct request *req)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, sse_no_body, NULL, NULL);
    if (!r)
        return MHD_NO;
    MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result rc = reply_queue(req, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result sse_handle(struct request *req)
{
    struct server *srv = req->srv;
    if (req->head)
        return sse_head(req);
    struct sse_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return MHD_NO;
    dynbuf_init(&s->out, SIZE_MAX / 2);
    s->last_write_ns = clock_mono_ns();
    feed_lock(srv->feed);
    s->drops = feed_drop_generation_locked(srv->feed);
    sse_start_cursor(req, s);
    feed_unlock(srv->feed);
    req->state = s;
    /* The block size is the buffer libmicrohttpd allocates with the response: it fills a
     * chunked stream (HTTP/1.1) in the connection's pool instead, and uses the block only
     * for an HTTP/1.0 stream, so a small one saves 3.8 KiB per stream (4096 did). */
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, SSE_RESPONSE_BLOCK, sse_read, req, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    s->counted = true;
    request_count_open(req, +1);
    enum MHD_Result rc = reply_queue(req, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static void sse_done(struct request *req)
{
    struct sse_stream *s = req->state;
    if (!s)
        return;
    if (s->counted)
        request_count_open(req, -1);
    dynbuf_free(&s->out);
    free(s);
    req->state = NULL;
}

const struct route sse_route = {
    .path = "/events",
    .method = "GET",
    .kind = STATS_SSE,
    .handle = sse_handle,
    .done = sse_done,
};
