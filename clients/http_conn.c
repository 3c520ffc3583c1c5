/* http_conn.c: one user's HTTP/1.1 connection on its own socket (http_conn.h).
 *
 * A request goes out from http_conn_send: on an open connection it is written at once
 * (it nearly always fits the socket's buffer; a partial write waits for EPOLLOUT), on a
 * new one after the non-blocking connect completes. The answer is read with one recv()
 * per readiness event into a buffer on the stack and fed to the reader; level-triggered
 * epoll calls again for what is left. The socket's interest changes only while connecting
 * or while a write waits, so a steady keep-alive cycle makes no epoll_ctl call.
 */
#include "http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"
#include "user.h"

#define READ_CHUNK 16384

/* ---- the single read site and the single write site --------------------------------- */

static void on_line(void *ctx, const char *line, size_t len)
{
    struct http_conn *c = ctx;
    user_http_head_line(c->u, line, len);
}

static void on_body(void *ctx, const char *buf, size_t len)
{
    struct http_conn *c = ctx;
    c->body_read += len;
    user_http_body(c->u, buf, len);
}

static const struct http_reader_callbacks reader_cb = {on_line, on_body};

/* The single read site: bytes go to the reader while an answer is wanted; whatever it
 * does not hand on as body is counted as response head bytes (http_reader.h: its lines,
 * and anything no part of an answer). *st is the reader's verdict (MORE when no answer
 * is wanted); *spare is set when bytes came that no answer took. */
static ssize_t conn_read(struct http_conn *c, char *buf, size_t cap,
                         enum http_reader_status *st, bool *spare)
{
    struct user *u = c->u;
    *st = HTTP_READER_MORE;
    *spare = false;
    ssize_t n = recv(c->fd, buf, cap, 0);
    if (n <= 0) {
        if (n == 0 || errno == EPIPE)
            c->fin_seen = true;
        return n;
    }
    user_note_read(u); /* the updates in these bytes are received now */
    uint64_t body0 = c->body_read;
    size_t used = 0;
    if (c->busy)
        *st = http_reader_feed(&c->resp, buf, (size_t)n, &used, &reader_cb, c);
    *spare = used < (size_t)n;
    uint64_t head = (uint64_t)n - (c->body_read - body0);
    counters_add(u->ctr, CTR_RESP_HEADER_BYTES, head, u->ctr->measuring);
    return n;
}

/* The single write site: request head, then body, by their offsets in c->req. */
static ssize_t conn_write(struct http_conn *c)
{
    struct user *u = c->u;
    ssize_t n =
        send(c->fd, c->req.mem + c->req_sent, c->req.len - c->req_sent, MSG_NOSIGNAL);
    if (n <= 0)
        return n;
    size_t from = c->req_sent, to = c->req_sent + (size_t)n;
    size_t head = from < c->head_len ? (to < c->head_len ? to : c->head_len) - from : 0;
    counters_add(u->ctr, CTR_REQ_HEADER_BYTES, head, u->sent_in_window);
    counters_add(u->ctr, CTR_REQ_BODY_BYTES, (uint64_t)n - head, u->sent_in_window);
    c->req_sent = to;
    return n;
}

static bool would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* ---- the socket --------------------------------------------------------------------- */

/* Watch the socket for exactly `events` (hang-ups and errors always). 0 or -1. */
static int set_interest(struct http_conn *c, uint32_t events)
{
    return loop_interest(c->u->env->loop, c->u->slot, c->fd, &c->watching, events);
}

/* Close the socket, its kernel account read first. */
static void conn_close(struct http_conn *c)
{
    if (c->fd < 0)
        return;
    if (c->watching)
        loop_unwatch(c->u->env->loop, c->fd);
    user_socket_close(c->u, c->fd, c->fin_seen);
    c->fd = -1;
    c->watching = 0;
    c->connected = false;
    c->fin_seen = false;
    c->connect_due = 0;
    c->body_read = 0;
}

/* The transfer is over: report it (the connection is closed first when it cannot carry
 * another request). */
static void end(struct http_conn *c, enum http_end how, bool keep)
{
    c->busy = false;
    if (!keep)
        conn_close(c);
    user_http_end(c->u, how);
}

/* A server on IPv4 loopback is reached from one of LOOP_SOURCES source addresses,
 * 127.0.0.1 up, by user id. The kernel picks a connection's port by walking the ephemeral
 * range (28,000 ports by default) for one whose (source, port, server, server port) is
 * free, so with 20,000 users and the TIME_WAIT leftovers of earlier runs all on
 * 127.0.0.1, each connect() walked thousands of taken ports (a profile of 19,500 SSE
 * users: 81% of the client's CPU in __inet_hash_connect); spread over many sources, the
 * first port tried is nearly always free. The server sees loopback peers either way. */
#define LOOP_SOURCES 250

static void bind_source(struct http_conn *c)
{
    const struct sockaddr_in *dst = (const struct sockaddr_in *)&c->addr;
    if (c->addr.ss_family != AF_INET || (ntohl(dst->sin_addr.s_addr) >> 24) != 127)
        return;
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
    src.sin_addr.s_addr = htonl((127u << 24) | (1u + c->u->id % LOOP_SOURCES));
    int one = 1;
    /* the port is chosen at connect(), for the whole four-tuple */
    (void)setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    (void)bind(c->fd, (struct sockaddr *)&src, sizeof(src)); /* else: the kernel's pick */
}

/* Open a socket and start connecting; EPOLLOUT says when it is done. */
static void conn_open(struct http_conn *c)
{
    struct user *u = c->u;
    if (user_server_addr(u, &c->addr, &c->addrlen) != 0) { /* its target now */
        end(c, HTTP_END_CONNECT, false);
        return;
    }
    c->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        end(c, HTTP_END_CONNECT, false);
        return;
    }
    user_socket_opened(u, c->fd);
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bind_source(c);
    c->connect_due = clock_mono_ns() + u->env->cfg->connect_timeout_ns;
    if ((connect(c->fd, (struct sockaddr *)&c->addr, c->addrlen) != 0 &&
         errno != EINPROGRESS) ||
        set_interest(c, EPOLLOUT) != 0)
        end(c, HTTP_END_CONNECT, false);
}

/* Write what is left of the request; wait for EPOLLOUT when the socket is full. */
static void write_request(struct http_conn *c)
{
    if (c->req_sent == 0)
        user_http_begun(c->u);
    while (c->req_sent < c->req.len) {
        ssize_t n = conn_write(c);
        if (n > 0)
            continue;
        if (n < 0 && would_block(errno)) {
            if (set_interest(c, EPOLLIN | EPOLLOUT) != 0)
                end(c, HTTP_END_IO, false);
            return;
        }
        if (c->reused && !c->retried) {
            /* the server closed the kept connection as the request left: once more on a
             * new one */
            c->retried = true;
            conn_close(c);
            c->req_sent = 0;
            c->reused = false;
            conn_open(c);
            return;
        }
        end(c, HTTP_END_IO, false);
        return;
    }
    if (set_interest(c, EPOLLIN) != 0)
        end(c, HTTP_END_IO, false);
}

void http_conn_send(struct http_conn *c)
{
    c->busy = true;
    c->retried = false;
    c->req_sent = 0;
    http_reader_begin(&c->resp);
    c->reused = c->fd >= 0;
    if (c->fd < 0)
        conn_open(c);
    else
        write_request(c);
}

/* The connect finished (EPOLLOUT, or an error). */
static void on_connected(struct http_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        end(c, HTTP_END_CONNECT, false);
        return;
    }
    c->connected = true;
    c->connect_due = 0;
    write_request(c);
}

/* The server closed, or the socket failed, before the answer was whole. */
static void on_cut(struct http_conn *c)
{
    if (c->reused && !c->retried && !c->resp.started) {
        c->retried = true; /* a kept connection closed under the request: once more */
        conn_close(c);
        c->reused = false;
        c->req_sent = 0;
        http_reader_begin(&c->resp);
        conn_open(c);
        return;
    }
    enum http_reader_status st = http_reader_eof(&c->resp);
    end(c, st == HTTP_READER_DONE ? HTTP_END_OK : HTTP_END_IO, false);
}

/* Read what is there. */
static void read_answer(struct http_conn *c)
{
    char buf[READ_CHUNK];
    enum http_reader_status st;
    bool spare;
    ssize_t n = conn_read(c, buf, sizeof(buf), &st, &spare);
    if (n < 0 && would_block(errno))
        return;
    if (!c->busy) {
        conn_close(c); /* an idle connection closed, or sent what nobody asked for */
        return;
    }
    if (n <= 0) {
        on_cut(c);
        return;
    }
    if (st == HTTP_READER_DONE)
        end(c, HTTP_END_OK, c->resp.keep_alive && !spare);
    else if (st == HTTP_READER_ERROR)
        end(c, HTTP_END_IO, false);
}

void http_conn_io(struct http_conn *c, uint32_t events)
{
    if (c->fd < 0)
        return;
    if (!c->connected) {
        on_connected(c);
        return;
    }
    if (c->busy && c->req_sent < c->req.len && (events & EPOLLOUT)) {
        write_request(c);
        if (!c->busy || c->fd < 0 || c->req_sent < c->req.len)
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        read_answer(c);
}

void http_conn_stop(struct http_conn *c)
{
    c->busy = false;
    conn_close(c);
}

/* ---- setup -------------------------------------------------------------------------- */

int http_conn_init(struct http_conn *c, struct user *u)
{
    memset(c, 0, sizeof(*c));
    c->u = u;
    c->fd = -1;
    dynbuf_init(&c->req, 1 << 20);
    http_reader_init(&c->resp);
    return user_server_addr(u, &c->addr, &c->addrlen);
}

void http_conn_free(struct http_conn *c)
{
    conn_close(c);
    dynbuf_free(&c->req);
    http_reader_free(&c->resp);
}
