/* request.c: per-request state, its counters, its byte accounting and its parking on the
 * feed (see request.h).
 *
 * Parking meets three threads: the daemon's (which suspends), the generator's (a publish
 * wakes) and the sweeper's (deadlines, vanished peers). They meet only under the feed's
 * lock, where a request is parked or taken off the list, so no request is resumed twice
 * or freed while parked: request_wake runs once per park, for a waiter the feed has
 * already detached.
 */
#include "request.h"

#include <poll.h>
#include <stdlib.h>

#include "server.h"
#include "sockacct.h"

uint64_t request_bytes_read(struct request *req)
{
    struct sockacct now;
    if (!req->cs || !req->cs->acct_ok || sockacct_read_accepted(req->cs->fd, &now) != 0)
        return 0;
    return now.read - req->cs->read_mark;
}

bool request_peer_done(struct request *req)
{
    /* A zero-timeout poll first: one cheap system call, where the kernel's counts take
     * two or three. Every state sockacct calls peer_fin follows the peer's FIN, which sets
     * the socket's receive shutdown, which poll reports as POLLRDHUP; without it the answer
     * is no, as the counts would say. */
    struct pollfd pfd = {.fd = req->cs ? req->cs->fd : -1, .events = POLLRDHUP};
    if (!req->cs || pfd.fd < 0 || poll(&pfd, 1, 0) != 1 ||
        !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        return false;
    struct sockacct now;
    if (!req->cs->acct_ok || sockacct_read_accepted(req->cs->fd, &now) != 0 ||
        !now.peer_fin)
        return false;
    /* Pipelined requests read along with this one are still to be answered: only the
     * answer to the last one read closes. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    uint64_t this_one = (ci ? ci->header_size : 0) + req->upload_seen;
    return now.read - req->cs->read_mark <= this_one;
}

/* The feed's wake callback: resume the connection the request suspended. */
static void request_wake(struct feed_waiter *w)
{
    struct request *req = (struct request *)((char *)w - offsetof(struct request, waiter));
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
}

struct request *request_new(struct server *srv, struct MHD_Connection *conn)
{
    struct request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->srv = srv;
    req->conn = conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->cs = ci ? ci->socket_context : NULL;
    if (req->cs)
        req->cs->request = req; /* until request_end */
    req->waiter.wake = request_wake;
    req->waiter.fd = req->cs ? req->cs->fd : -1;
    req->kind = STATS_OTHER;
    dynbuf_init(&req->upload, srv->cfg.max_publish_bytes);
    return req;
}

void request_free(struct request *req)
{
    if (!req)
        return;
    dynbuf_free(&req->upload);
    free(req);
}

void request_count(struct request *req, enum stats_field f, uint64_t n)
{
    stats_add(&req->srv->stats.row[req->kind].c[f], n);
    if (req->tag)
        stats_add(&req->tag->c[f], n);
}

void request_count_status(struct request *req, unsigned status)
{
    stats_count_status(&req->srv->stats.row[req->kind], status);
    if (req->tag)
        stats_count_status(req->tag, status);
}

void request_count_open(struct request *req, int delta)
{
    atomic_fetch_add(&req->srv->stats.row[req->kind].open, delta);
    if (req->tag)
        atomic_fetch_add(&req->tag->open, delta);
}

void request_count_ws(struct request *req, enum stats_ws_field f, uint64_t n)
{
    stats_add(&req->srv->stats.row[req->kind].ws[f], n);
    if (req->tag)
        stats_add(&req->tag->ws[f], n);
}

void request_count_ws_close(struct request *req, unsigned code)
{
    stats_count_ws_close(&req->srv->stats.row[req->kind], code);
    if (req->tag)
        stats_count_ws_close(req->tag, code);
}

/* a - b for two kernel counts, or 0 with the shortfall counted in unaccounted_bytes when
 * b is the larger: an impossible difference is shown, never clamped away silently. */
static uint64_t kernel_minus(struct stats *st, uint64_t a, uint64_t b)
{
    if (a >= b)
        return a - b;
    stats_add(&st->unaccounted_bytes, b - a);
    return 0;
}

/* The kernel's counts for the request's connection now, as request_account_bytes takes
 * them, with `floor` a proven lower bound of the read count (sockacct_read_served). In
 * state CLOSED (a reset, or both FINs crossed) the data bytes that left are what was
 * written, and the peer's FIN is in `read` when a peek says it came (sockacct.h): a
 * client that sends its request and closes at once meets the answer with a reset, and its
 * request must not count one byte over. 0, or -1 when they cannot be read. */
static int kernel_counts(struct conn_state *cs, uint64_t floor, uint64_t *written,
                         uint64_t *read, bool *peer_fin)
{
    struct sockacct now;
    if (!cs || !cs->acct_ok ||
        sockacct_read_served(cs->fd, floor, cs->next_waiting, &now) != 0)
        return -1;
    cs->next_waiting = now.waiting > 0; /* the order of the next reading's calls */
    *peer_fin = now.peer_fin;
    *written = now.closed ? now.payload_out : now.written;
    *read = now.read;
    if (now.closed && *read > cs->read_mark && sockacct_closed_fin(cs->fd))
        (*read)--;
    return 0;
}

/* A floor under the kernel's read count at the request's end, so that the reading takes
 * one TCP_INFO where it took TCP_INFO and SIOCINQ (the usual poll: nothing else waits).
 * libmicrohttpd cannot have parsed a byte it has not read, and it has parsed at least
 * the heads (MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE: the request line through the empty
 * line, as received) and bodies (the bytes handed to the route) of the requests accounted
 * on the connection so far, this one included: cs->parsed, counted from the read count at
 * accept. It is a place in the stream, not a count since the last reading: a pipelined
 * request read along with the one before is in read_mark already, and read_mark plus its
 * head would overshoot. read_mark is a floor too (an exact reading earlier). Where
 * libmicrohttpd read more than it says (empty lines before a request line, chunk framing,
 * a refused body it skipped, requests read ahead) the floor lies under the truth and the
 * reading takes its usual calls; it never lies over it. */
static uint64_t read_floor(struct request *req)
{
    struct conn_state *cs = req->cs;
    uint64_t seen = req->head_bytes + req->upload_seen;
    cs->parsed += seen - req->parsed_in;
    req->parsed_in = seen;
    return cs->parsed > cs->read_mark ? cs->parsed : cs->read_mark;
}

void request_account_bytes(struct request *req, bool check_rest)
{
    struct conn_state *cs = req->cs;
    struct stats *st = &req->srv->stats;
    uint64_t now_written, now_read;
    bool peer_fin;
    if (req->settled || !cs ||
        kernel_counts(cs, read_floor(req), &now_written, &now_read, &peer_fin) != 0)
        return;
    uint64_t wrote = kernel_minus(st, now_written, cs->written_mark);
    uint64_t got = kernel_minus(st, now_read, cs->read_mark);
    /* as request_peer_done: pipelined requests read along with this one still answer */
    req->peer_done = peer_fin && got <= req->head_bytes + req->upload_seen;
    uint64_t produced =
        (req->body_bytes - req->body_mark) + (req->framing_bytes - req->framing_mark);
    uint64_t taken = req->in_bytes - req->in_mark;
    /* The request's body: what its route was handed; for one refused at its head, what
     * libmicrohttpd read past the head before skipping the rest. */
    uint64_t upload = req->upload_seen;
    if (req->body_skipped && req->head_bytes > 0)
        upload = got > req->head_bytes ? got - req->head_bytes : 0;
    if (req->hdr_counted)
        upload = 0;
    cs->written_mark = now_written;
    cs->read_mark = now_read;
    req->body_mark = req->body_bytes;
    req->framing_mark = req->framing_bytes;
    req->in_mark = req->in_bytes;
    if (!req->hdr_counted) {
        req->hdr_counted = true;
        request_count(req, SF_RESP_HEADER_BYTES, kernel_minus(st, wrote, produced));
        request_count(req, SF_REQ_HEADER_BYTES, kernel_minus(st, got, upload));
        request_count(req, SF_REQ_BODY_BYTES, upload);
    } else if (check_rest) {
        uint64_t diff = wrote > produced ? wrote - produced : produced - wrote;
        uint64_t diff_in = got > taken ? got - taken : taken - got;
        stats_add(&st->unaccounted_bytes, diff + diff_in);
    } else if (produced > wrote) {
        /* A response cut short (its peer gone, or cut by us): what the transport produced
         * after the kernel stopped taking it never left this host. */
        stats_add(&st->undelivered_bytes, produced - wrote);
    }
}

void request_account_upgrade(struct request *req, size_t extra_in)
{
    struct conn_state *cs = req->cs;
    struct stats *st = &req->srv->stats;
    uint64_t now_written, now_read;
    bool peer_fin;
    req->hdr_counted = true; /* from here on the transport counts */
    if (kernel_counts(cs, 0, &now_written, &now_read, &peer_fin) != 0)
        return;
    uint64_t wrote = kernel_minus(st, now_written, cs->written_mark);
    uint64_t got = kernel_minus(st, now_read, cs->read_mark);
    uint64_t head = kernel_minus(st, got, extra_in);
    request_count(req, SF_RESP_HEADER_BYTES, wrote);
    request_count(req, SF_REQ_HEADER_BYTES, head);
    /* the extra bytes stay behind the mark: the transport reads them (in_bytes) */
    cs->written_mark = now_written;
    cs->read_mark += head;
    req->body_mark = req->body_bytes;
    req->framing_mark = req->framing_bytes;
    req->in_mark = req->in_bytes;
}

void request_account_leftover(struct stats *st, struct conn_state *cs)
{
    struct sockacct now;
    if (!cs->acct_ok || sockacct_read_accepted(cs->fd, &now) != 0)
        return;
    /* In state CLOSED (both FINs crossed before libmicrohttpd let go of the socket, or a
     * reset) sockacct cannot tell whether our FIN is in `written`; everything written
     * has left by then (or was dropped by a reset and never will), so the data bytes
     * that left are what was written. */
    uint64_t written = now.closed ? now.payload_out : now.written, read = now.read;
    if (now.closed && read > cs->read_mark && sockacct_closed_fin(cs->fd))
        read--;
    struct stats_row *r = &st->row[STATS_REJECTED];
    /* bytes before any request ended here, and no answer: a request closed unanswered
     * (after one, they are the refused request's rest that libmicrohttpd skipped) */
    if (!atomic_load(&cs->served) && read > cs->read_mark && written <= cs->written_mark)
        stats_count_rejected(st, 0);
    if (read > cs->read_mark)
        stats_add(&r->c[SF_REQ_HEADER_BYTES], read - cs->read_mark);
    if (written > cs->written_mark)
        stats_add(&r->c[SF_RESP_HEADER_BYTES], written - cs->written_mark);
    cs->read_mark = read;
    cs->written_mark = written;
}

void request_count_stream_headers(struct request *req)
{
    if (!req->hdr_counted)
        request_account_bytes(req, false);
}

int request_park_locked(struct request *req, int64_t deadline_ns)
{
    req->waiter.deadline_ns = deadline_ns;
    if (feed_park_locked(req->srv->feed, &req->waiter) != 0)
        return -1;
    req->suspended = true;
    MHD_suspend_connection(req->conn);
    return 0;
}
