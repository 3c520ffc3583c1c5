/* user.c: one simulated user: the start/finish cycle every technique shares, byte and
 * connection accounting, and the libcurl driver (its setup and per-transfer callbacks).
 *
 * Two HTTP drivers, chosen per run (--http-driver): the client's own HTTP/1.1
 * (http_conn.c, the default), which counts request and response bytes at its socket's
 * single write and read sites and calls user_http_begun, user_http_head_line,
 * user_http_body and user_http_end; or libcurl, whose callbacks below call the same
 * functions. So a response's head lines, its body's split into payload and framing, the
 * outcome and the next request are judged in one place whichever driver read them. With
 * the raw driver the transfer's own limits (connect, whole transfer, answer) are this
 * file's too (arm_limits); libcurl keeps its connect and transfer limits itself.
 *
 * True bytes with libcurl. The request head is CURLINFO_REQUEST_SIZE (what libcurl wrote
 * for this transfer, retries included), read only for transfers libcurl actually began
 * (on_prereq); a POST's body (a message, publish.c) is CURLINFO_SIZE_UPLOAD_T, and since a
 * body under 64 KiB goes out in the same buffer as the head (no Expect: 100-continue),
 * which REQUEST_SIZE counts too, the head is the difference. Response header bytes are
 * summed in the header callback, which libcurl calls with every raw line, status line and
 * blank line included. The body arrives raw (CURLOPT_HTTP_TRANSFER_DECODING = 0: libcurl
 * still finds the end of a chunked body, but passes the chunk framing through), and
 * common/chunked.c splits it into payload and framing. Every byte handed to a callback is
 * counted before anything else happens to it, and callbacks never refuse bytes; a transfer
 * the transport no longer wants (a refused response, broken framing, a body past
 * --max-body) is paused in the write callback, so libcurl reads no more of its socket, and
 * stopped from the loop after the callback. So whatever libcurl took from the kernel was
 * counted. The kernel's own account of each socket (sockacct: TCP_INFO and the socket
 * queues) is added up when libcurl closes the socket, through CURLOPT_CLOSESOCKETFUNCTION;
 * CURLOPT_OPENSOCKETFUNCTION counts connections opened.
 *
 * Waiting: a transport may bound the wait for a response's headers (answer_timeout_ns,
 * for a stream, whose transfer has no end to time): the user's loop timer is set to that
 * deadline while the request is out, and a transfer still without headers then is
 * stopped and counted as a timeout.
 *
 * Techniques that run their own socket (the WebSocket) get no easy handle; user.c passes
 * them the user's timer and socket events, and they count through the same functions
 * (user_socket_opened, user_socket_close, user_count_*), so each count still has one
 * place.
 *
 * Libcurl settings that matter for the numbers: the protocol (user_protocol.c); no proxy
 * (the environment is ignored); DNS cache entries never expire (libcurl 7.88 otherwise
 * scans its whole DNS cache after every transfer, O(users)); idle connections are kept for
 * a day (the default 118 s would reconnect slow pollers); no Accept-Encoding (nothing is
 * compressed).
 */
#include "user.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "headers.h"
#include "loop.h"
#include "sockacct.h"
#include "user_protocol.h"

#define URL_MAX_BYTES 8192

int user_server_addr(const struct user_env *env, struct sockaddr_storage *a, socklen_t *len)
{
    char bare[64];
    const char *address = env->address;
    snprintf(bare, sizeof(bare), "%s", address[0] == '[' ? address + 1 : address);
    char *close_br = strchr(bare, ']');
    if (close_br)
        *close_br = '\0';
    memset(a, 0, sizeof(*a));
    struct sockaddr_in *a4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;
    if (inet_pton(AF_INET, bare, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)env->port);
        *len = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, bare, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)env->port);
        *len = sizeof(*a6);
        return 0;
    }
    return -1;
}

const struct transport_ops *transport_for(enum approach a)
{
    static const struct transport_ops *const table[] = {
        [APPROACH_SHORT] = &transport_short_poll,
        [APPROACH_LONG] = &transport_long_poll,
        [APPROACH_SSE] = &transport_sse,
        [APPROACH_WS] = &transport_ws,
    };
    return table[a];
}

/* ---- libcurl callbacks -------------------------------------------------------------- */

/* If line is "Name: value\r\n" for `name` (any case), point *val at the trimmed value. */
static int header_value(const char *line, size_t len, const char *name, const char **val,
                        size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

/* The user's timer while a transfer is out: the nearest of its limits (user.h), or none.
 * (libcurl keeps its transfer and connect limits itself: only answer_due is set then.) */
static void arm_limits(struct user *u)
{
    int64_t due = 0;
    int64_t lim[3] = {u->answer_due, u->xfer_due, u->hc ? u->hc->connect_due : 0};
    for (int i = 0; i < 3; i++)
        if (lim[i] > 0 && (due == 0 || lim[i] < due))
            due = lim[i];
    if (due > 0)
        loop_timer_set(u->env->loop, u->slot, due);
    else
        loop_timer_clear(u->env->loop, u->slot);
}

/* The final header block has ended: let the transport look at status and type. */
static void headers_complete(struct user *u)
{
    long status = 0;
    const char *ctype = u->resp_ctype;
    if (u->easy) {
        curl_easy_getinfo(u->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(u->easy, CURLINFO_CONTENT_TYPE, &ctype);
    } else {
        status = u->hc->resp.status;
        u->chunked = u->hc->resp.chunked; /* the reader's judgement of the framing */
    }
    if (status >= 100 && status < 200)
        return; /* an interim response; the real one follows */
    u->headers_done = true;
    u->status = status;
    u->answer_due = 0;
    if (!u->abort_requested)
        arm_limits(u); /* answered in time */
    chunked_init(&u->chunk);
    if (u->ops->on_headers(u, status, ctype ? ctype : "") != 0) {
        u->refused = true;
        user_abort_soon(u);
    }
}

/* One raw head line of the answer, from either driver (each counts the bytes itself). */
void user_http_head_line(struct user *u, const char *buf, size_t len)
{
    const char *v;
    size_t vlen;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        u->headers_done = false;
        u->chunked = false;
        u->resp_etag[0] = '\0';
        u->resp_ctype[0] = '\0';
    } else if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        headers_complete(u);
    } else if (header_value(buf, len, "Transfer-Encoding", &v, &vlen)) {
        u->chunked = vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0;
    } else if (header_value(buf, len, "ETag", &v, &vlen) && vlen < sizeof(u->resp_etag)) {
        memcpy(u->resp_etag, v, vlen);
        u->resp_etag[vlen] = '\0';
    } else if (!u->easy && header_value(buf, len, "Content-Type", &v, &vlen) &&
               vlen < sizeof(u->resp_ctype)) {
        memcpy(u->resp_ctype, v, vlen);
        u->resp_ctype[vlen] = '\0';
    }
}

/* CURLOPT_HEADERFUNCTION: one raw header line. The libcurl driver's single count of
 * response header bytes (the raw driver's is its read site, http_conn.c). */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct user *u = userdata;
    size_t len = size * nitems;
    counters_add(u->ctr, CTR_RESP_HEADER_BYTES, len, u->ctr->measuring);
    user_http_head_line(u, buf, len);
    user_protocol_head_line(u, buf, len);
    return len;
}

/* Payload on its way to the transport (unless refused). */
static void deliver(void *ctx, const char *buf, size_t len)
{
    struct user *u = ctx;
    if (!u->refused && !u->framing_error && len > 0)
        u->ops->on_body(u, buf, len);
}

/* Raw body bytes from either driver. The single count of body and framing bytes. */
void user_http_body(struct user *u, const char *buf, size_t len)
{
    uint64_t payload = len, framing = 0;
    if (u->chunked) {
        uint64_t p0 = u->chunk.payload_bytes;
        size_t used = 0;
        enum chunked_status st = u->framing_error
                                     ? CHUNKED_ERROR
                                     : chunked_feed(&u->chunk, buf, len, &used, deliver, u);
        payload = u->chunk.payload_bytes - p0;
        framing = len - payload; /* includes any bytes past the end or past an error */
        if (st == CHUNKED_ERROR || used < len) {
            u->framing_error = true;
            user_abort_soon(u);
        }
    } else {
        deliver(u, buf, len);
    }
    counters_add(u->ctr, CTR_RESP_BODY_BYTES, payload, u->ctr->measuring);
    counters_add(u->ctr, CTR_CHUNK_FRAMING_BYTES, framing, u->ctr->measuring);
}

/* CURLOPT_WRITEFUNCTION: raw body bytes. */
static size_t on_write(char *buf, size_t size, size_t nmemb, void *userdata)
{
    struct user *u = userdata;
    size_t len = size * nmemb;
    user_note_read(u); /* libcurl hands bytes on in the call that read them */
    user_http_body(u, buf, len);
    /* a transfer to be stopped reads no more: libcurl keeps these (counted) bytes to hand
     * back on an unpause that never comes, and the loop removes it at its next turn */
    return u->abort_requested ? CURL_WRITEFUNC_PAUSE : len;
}

/* A connection's setup, counted at its first request: by then libcurl has connected and
 * finished TLS (and sent HTTP/2's preface), and nothing of the request has gone out. The
 * transfer that opened a socket is the first to use it (CURLINFO_ACTIVESOCKET is not set
 * yet at this point in libcurl 7.88, so the opener remembers the socket).
 * user_count_setup is the one place CTR_SETUPS, CTR_SETUP_BYTES and
 * CTR_TLS_HANDSHAKE_US are counted (the WebSocket's TLS calls it too). */
static void count_setup(struct user *u)
{
    int fd = u->new_fd; /* the socket this user opened last, first used now */
    u->new_fd = -1;
    curl_off_t connect = 0, tls = 0;
    curl_easy_getinfo(u->easy, CURLINFO_CONNECT_TIME_T, &connect);
    curl_easy_getinfo(u->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    user_count_setup(u, fd, tls > connect ? (uint64_t)(tls - connect) : 0);
}

void user_count_setup(struct user *u, int fd, uint64_t tls_us)
{
    uint64_t bytes = 0;
    if (!wire_first_request(u->env->wire, fd, &bytes))
        return;
    counters_add(u->ctr, CTR_SETUPS, 1, u->ctr->measuring);
    counters_add(u->ctr, CTR_SETUP_BYTES, bytes, u->ctr->measuring);
    counters_add(u->ctr, CTR_TLS_HANDSHAKE_US, tls_us, u->ctr->measuring);
}

/* CURLOPT_PREREQFUNCTION: the connection is ready and the request is about to be sent
 * (for transports whose answer waits for news, that ends an outage: user.h). Until
 * libcurl gets this far with a transfer it has not reset the previous transfer's
 * CURLINFO_REQUEST_SIZE, so a transfer stopped before this point (the run ended in the
 * same loop turn that queued it) must count no request bytes. */
void user_http_begun(struct user *u)
{
    if (u->hc)
        user_count_setup(u, u->hc->fd, 0); /* plain HTTP/1.1: no TLS, no setup bytes */
    u->request_begun = true;
    if (u->down && !u->down_answered && u->ops->up_on_connect)
        user_note_up(u); /* a live server has the request: it is held, not failing */
}

static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    struct user *u = clientp;
    count_setup(u);
    user_http_begun(u);
    return CURL_PREREQFUNC_OK;
}

/* The one place connections are counted, for libcurl's sockets and own ones. */
void user_socket_opened(struct user *u, int fd)
{
    wire_opened(u->env->wire, fd, u->ctr);
    counters_add(u->ctr, CTR_CONNECTIONS, 1, u->ctr->measuring);
    counters_add(u->ctr, CTR_RECONNECTS, u->sockets_ever > 0, u->ctr->measuring);
    u->sockets_ever++;
    u->sockets_open++;
    u->conn_seq_max = 0; /* a new connection: maybe to a restarted server */
}

/* CURLOPT_OPENSOCKETFUNCTION: every TCP connection this user opens. */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose,
                                   struct curl_sockaddr *addr)
{
    struct user *u = clientp;
    (void)purpose;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0)
        return CURL_SOCKET_BAD; /* libcurl reports a connect error */
    user_socket_opened(u, fd);
    u->new_fd = fd; /* libcurl's transfer that opened it sends the first request */
    if (u->env->conns_open)
        u->env->conns_open[u->conn_group]++;
    return fd;
}

/* The one place the kernel's account of a socket is read, then the socket closed.
 * Sequence-space corrections: tcpi_bytes_acked counts our SYN once the server acked it
 * (one byte no application wrote; a socket that never connected has written 0, and one
 * that did has at least that 1); sockacct_read already leaves out the server's FIN once
 * it arrived (a.peer_fin), as far as the socket's state tells: a FIN followed by a reset
 * (a server that closed and then got more bytes from us) leaves the socket CLOSED, where
 * the state no longer says that the FIN came, so a caller that saw it (a read returned 0,
 * or EPIPE, which a reset after a FIN gives) says so with fin_seen. Our own FIN never
 * counts: the account is read before we close. */
int user_socket_close(struct user *u, int fd, bool fin_seen)
{
    struct sockacct a;
    int read = sockacct_read(fd, &a);
    wire_closing(u->env->wire, fd, read == 0 ? &a : NULL);
    if (read == 0) {
        uint64_t late_fin = fin_seen && !a.peer_fin && a.read > 0;
        uint64_t fin = (uint64_t)a.peer_fin + late_fin;
        uint64_t syn = a.written > 0;
        counters_add(u->ctr, CTR_KERNEL_BYTES_SENT, a.written - syn, false);
        counters_add(u->ctr, CTR_KERNEL_BYTES_RECEIVED, a.read - late_fin, false);
        counters_add(u->ctr, CTR_KERNEL_SEGS_OUT, a.segs_out, false);
        counters_add(u->ctr, CTR_KERNEL_SEGS_IN, a.segs_in, false);
        counters_add(u->ctr, CTR_KERNEL_FIN_RECEIVED, fin, false);
    } else {
        counters_add(u->ctr, CTR_KERNEL_READ_ERRORS, 1, false);
    }
    if (u->sockets_open > 0)
        u->sockets_open--;
    return close(fd);
}

/* CURLOPT_CLOSESOCKETFUNCTION */
/* libcurl calls this with the data of the transfer that opened the socket (the
 * group's connection stays its opener's, whoever used it last). */
static int on_closesocket(void *clientp, curl_socket_t fd)
{
    struct user *u = clientp;
    if (u->env->conns_open && u->env->conns_open[u->conn_group] > 0)
        u->env->conns_open[u->conn_group]--;
    return user_socket_close(u, fd, false); /* libcurl does not say */
}

/* ---- the request cycle -------------------------------------------------------------- */

static void start(struct user *u);

/* The next request at next_due. One due already (a long poll asks again at once) starts
 * here, as the answer is handled, rather than from the timer at the end of the loop's
 * turn, behind every other socket of the turn's batch; but never from inside start (a
 * request that fails at once waits for the timer, so a failure cannot recurse). */
static void schedule(struct user *u, int64_t next_due, int64_t now)
{
    if (next_due == TRANSPORT_STOP) {
        u->stopped = true;
        loop_timer_clear(u->env->loop, u->slot);
        return;
    }
    if (next_due <= now && !u->starting && !u->shutting_down) {
        loop_timer_clear(u->env->loop, u->slot);
        start(u);
        return;
    }
    loop_timer_set(u->env->loop, u->slot, next_due);
}

/* How a libcurl transfer ended, in the drivers' common terms. */
static enum http_end curl_end(struct user *u, CURLcode result)
{
    curl_off_t connect_us = 0;
    switch (result) {
    case CURLE_OK:
        return HTTP_END_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return HTTP_END_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(u->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        return connect_us == 0 ? HTTP_END_CONNECT : HTTP_END_TIMEOUT;
    default:
        return HTTP_END_IO;
    }
}

/* A limit of ours passed: a timeout, or a connect error when no connection was made. */
static enum http_end timeout_end(struct user *u)
{
    if (u->easy)
        return curl_end(u, CURLE_OPERATION_TIMEDOUT);
    return u->hc->connected ? HTTP_END_TIMEOUT : HTTP_END_CONNECT;
}

static enum counter error_counter(enum http_end how)
{
    return how == HTTP_END_CONNECT   ? CTR_ERR_CONNECT
           : how == HTTP_END_TIMEOUT ? CTR_ERR_TIMEOUT
                                     : CTR_ERR_IO;
}

void user_count_aborted(struct user *u)
{
    counters_add(u->ctr, CTR_ABORTED, 1, u->ctr->measuring);
}

void user_count_request(struct user *u)
{
    u->sent_in_window = u->ctr->measuring;
    counters_add(u->ctr, CTR_REQUESTS, 1, u->sent_in_window);
}

void user_count_failure(struct user *u, enum counter k)
{
    counters_add(u->ctr, k, 1, u->ctr->measuring);
}

static enum counter outcome_counter(enum outcome o)
{
    switch (o) {
    case OUTCOME_NEWS:
        return CTR_RESP_NEWS;
    case OUTCOME_EMPTY:
        return CTR_RESP_EMPTY;
    case OUTCOME_NOT_MODIFIED:
        return CTR_RESP_304;
    case OUTCOME_ERR_STATUS:
        return CTR_ERR_STATUS;
    case OUTCOME_ERR_PARSE:
    case OUTCOME_ERR_TOO_BIG:
        break;
    }
    return CTR_ERR_PARSE;
}

void user_count_outcome(struct user *u, enum outcome o)
{
    bool win = u->ctr->measuring;
    counters_add(u->ctr, outcome_counter(o), 1, win);
    counters_add(u->ctr, CTR_ERR_PARSE_TOO_BIG, o == OUTCOME_ERR_TOO_BIG, win);
}

/* libcurl's account of the request's bytes (the raw driver counts at its write site). */
static void count_curl_request(struct user *u)
{
    long req_bytes = 0;
    curl_off_t body_bytes = 0;
    if (u->request_begun) {
        curl_easy_getinfo(u->easy, CURLINFO_REQUEST_SIZE, &req_bytes);
        curl_easy_getinfo(u->easy, CURLINFO_SIZE_UPLOAD_T, &body_bytes);
    }
    if (u->post_len > 0 && body_bytes <= req_bytes)
        req_bytes -= (long)body_bytes; /* the body went out in the head's buffer */
    counters_add(u->ctr, CTR_REQ_HEADER_BYTES, (uint64_t)req_bytes, u->sent_in_window);
    counters_add(u->ctr, CTR_REQ_BODY_BYTES, (uint64_t)body_bytes, u->sent_in_window);
    curl_slist_free_all(u->req_headers);
    u->req_headers = NULL;
}

/* The one place a transfer ends: request bytes, outcome, next schedule. */
static void finish(struct user *u, enum http_end how)
{
    if (!u->busy)
        return;
    u->busy = false;
    u->abort_requested = false;
    u->answer_due = 0;
    u->xfer_due = 0;
    if (u->easy) {
        loop_remove(u->env->loop, u->slot, u->easy);
        count_curl_request(u);
    } else if (u->hc->busy) {
        http_conn_stop(u->hc); /* stopped mid-answer: the connection cannot go on */
    }

    int64_t now = clock_mono_ns();
    int64_t next = TRANSPORT_STOP;
    if (u->shutting_down) {
        user_count_aborted(u);
        return;
    }
    if (u->framing_error) {
        user_count_failure(u, CTR_ERR_PARSE);
        user_note_down(u, false);
        u->ops->on_error(u, now, &next);
    } else if (how != HTTP_END_OK && !u->refused) {
        user_count_failure(u, error_counter(how));
        user_note_down(u, false);
        u->ops->on_error(u, now, &next);
    } else if (!user_protocol_as_asked(u)) {
        user_count_failure(u, CTR_ERR_STATUS); /* never a silent fallback to HTTP/1.1 */
        user_note_down(u, true);
        u->ops->on_error(u, now, &next);
    } else {
        user_count_outcome(u, u->ops->on_done(u, u->status, now, &next));
    }
    schedule(u, next, now);
}

/* The libcurl driver: the request as options of the user's easy handle. 0 or -1. */
static int start_curl(struct user *u, const struct request_spec *spec,
                      const char *const *extra)
{
    char err[160];
    if (dynbuf_addf(&u->url, "%s://%s:%u%s%s",
                    cli_protocol_tls(u->env->cfg->protocol) ? "https" : "http", u->pin_host,
                    u->env->port, u->env->base_path,
                    spec->target->mem ? spec->target->mem : "/") != 0)
        return -1;
    u->req_headers = headers_build(u->env->headers, u->ops->kind, u->env->host_line, extra);
    curl_easy_setopt(u->easy, CURLOPT_URL, u->url.mem);
    user_protocol_before(u);
    curl_easy_setopt(u->easy, CURLOPT_HTTPHEADER, u->req_headers);
    curl_easy_setopt(u->easy, CURLOPT_TIMEOUT_MS, (long)(spec->timeout_ns / NS_PER_MS));
    if (spec->body) {
        curl_easy_setopt(u->easy, CURLOPT_POSTFIELDSIZE, (long)spec->body_len);
        curl_easy_setopt(u->easy, CURLOPT_POSTFIELDS, spec->body);
    }
    if (!u->req_headers || loop_add(u->env->loop, u->slot, u->easy, err, sizeof(err)) != 0)
        return -1;
    return 0;
}

/* The raw driver: the request's bytes written once into the connection's buffer. 0 or
 * -1. */
static int start_raw(struct user *u, const struct request_spec *spec,
                     const char *const *extra, int64_t now)
{
    struct http_conn *c = u->hc;
    dynbuf_reset(&c->req);
    if (headers_write_request(u->env->headers, u->ops->kind, u->url.mem, u->env->host_line,
                              extra, spec->body ? spec->body_len : 0, &c->req) != 0)
        return -1;
    c->head_len = c->req.len;
    if (spec->body && dynbuf_add(&c->req, spec->body, spec->body_len) != 0)
        return -1;
    u->xfer_due = spec->timeout_ns > 0 ? now + spec->timeout_ns : 0;
    http_conn_send(c);
    return 0;
}

static void start(struct user *u)
{
    struct dynbuf target;
    dynbuf_init(&target, URL_MAX_BYTES);
    struct request_spec spec = {
        .target = &target, .timeout_ns = 0, .answer_timeout_ns = 0, .body = NULL};
    for (int i = 0; i < TRANSPORT_MAX_EXTRA; i++)
        spec.extra[i][0] = '\0';
    int64_t now = clock_mono_ns();

    /* the raw driver writes the target straight after the base path, into u->url */
    dynbuf_reset(&u->url);
    if (u->hc) {
        spec.target = &u->url;
        if (dynbuf_adds(&u->url, u->env->base_path) != 0)
            spec.target = NULL;
    }
    if (!spec.target || u->ops->prepare(u, &spec, now) != 0 ||
        (u->hc && (u->url.len == strlen(u->env->base_path)) &&
         dynbuf_adds(&u->url, "/") != 0)) {
        dynbuf_free(&target);
        u->stopped = true; /* out of memory: this user gives up, visibly (stopped) */
        return;
    }
    const char *extra[TRANSPORT_MAX_EXTRA + 1];
    int n = 0;
    for (int i = 0; i < TRANSPORT_MAX_EXTRA; i++)
        if (spec.extra[i][0])
            extra[n++] = spec.extra[i];
    extra[n] = NULL;

    u->post_len = spec.body ? spec.body_len : 0;
    u->request_begun = false;
    u->headers_done = false;
    u->chunked = false;
    u->refused = false;
    u->framing_error = false;
    u->abort_requested = false;
    u->status = 0;
    u->resp_etag[0] = '\0';
    u->resp_ctype[0] = '\0';
    u->answer_due = spec.answer_timeout_ns > 0 ? now + spec.answer_timeout_ns : 0;
    user_count_request(u);
    u->busy = true;
    u->starting = true;
    int rc = u->hc ? start_raw(u, &spec, extra, now) : start_curl(u, &spec, extra);
    dynbuf_free(&target);
    if (rc != 0)
        finish(u, HTTP_END_IO); /* out of memory: counted as an I/O error, rescheduled */
    else if (u->busy)
        arm_limits(u);
    u->starting = false;
}

void user_on_timer(struct user *u)
{
    if (u->ops->on_timer) {
        u->ops->on_timer(u);
        return;
    }
    if (u->busy) {
        int64_t now = clock_mono_ns();
        int64_t conn_due = u->hc ? u->hc->connect_due : 0;
        if (u->abort_requested)
            finish(u, HTTP_END_OK);
        else if (u->answer_due && !u->headers_done && now >= u->answer_due)
            finish(u, timeout_end(u)); /* no answer: a timeout, as libcurl's */
        else if ((u->xfer_due && now >= u->xfer_due) || (conn_due && now >= conn_due))
            finish(u, timeout_end(u));
        else
            arm_limits(u);
        return;
    }
    if (!u->stopped && !u->shutting_down)
        start(u);
}

void user_on_done(struct user *u, CURLcode result)
{
    finish(u, curl_end(u, result));
}

void user_http_end(struct user *u, enum http_end how)
{
    finish(u, how);
}

void user_on_io(struct user *u, uint32_t events)
{
    if (u->ops->on_io)
        u->ops->on_io(u, events);
    else if (u->hc)
        http_conn_io(u->hc, events);
}

void user_note_reset(struct user *u)
{
    counters_add(u->ctr, CTR_RESETS, 1, u->ctr->measuring);
    u->conn_seq_max = 0; /* what follows starts again from the server's oldest */
}

/* ---- outages (user.h) --------------------------------------------------------------- */

void user_note_down(struct user *u, bool answered)
{
    if (!u->been_up || u->down)
        return;
    u->down = true;
    u->down_answered = answered;
    u->down_since = clock_mono_ns();
    u->down_in_window = u->ctr->measuring;
    counters_add(u->ctr, CTR_OUTAGES, 1, u->down_in_window);
}

/* The one place an outage's length is counted. */
static void outage_end(struct user *u, int64_t now)
{
    u->down = false;
    counters_add_outage(u->ctr, now - u->down_since, u->down_in_window);
}

void user_note_up(struct user *u)
{
    u->been_up = true;
    if (u->down)
        outage_end(u, clock_mono_ns());
}

void user_abort_soon(struct user *u)
{
    u->abort_requested = true;
    loop_timer_set(u->env->loop, u->slot, 0); /* due at once: the next loop turn */
}

void user_shutdown(struct user *u)
{
    u->shutting_down = true;
    loop_timer_clear(u->env->loop, u->slot);
    if (u->ops->shutdown)
        u->ops->shutdown(u);
    else
        finish(u, HTTP_END_OK);
    if (u->hc)
        http_conn_stop(u->hc); /* the kept connection too: its kernel account now */
    if (u->down) {
        counters_add(u->ctr, CTR_OUTAGES_OPEN, 1, u->down_in_window);
        outage_end(u, clock_mono_ns());
    }
}

void user_note_read(struct user *u)
{
    u->rx_real_ns = clock_real_ns();
    u->rx_mono_ns = clock_mono_ns();
}

int user_deliver_update(struct user *u, const struct update *up)
{
    uint64_t seq = up->seq;
    int64_t ts_ns = up->ts_ns;
    if (u->rx_real_ns == 0)
        user_note_read(u); /* nothing read yet (cannot happen with a driver): now */
    int64_t now = u->rx_real_ns;
    bool w = u->ctr->measuring;
    if (ts_ns > now && ts_ns - now > u->env->cfg->max_clock_skew_ns) {
        counters_add(u->ctr, CTR_STAMPS_FUTURE, 1, w);
        return 0;
    }
    if (seq < u->conn_seq_max) {
        counters_add(u->ctr, CTR_SEQ_BACKWARDS, 1, w);
        return 0;
    }
    u->conn_seq_max = seq;
    pthread_mutex_t *lock = u->env->fresh_lock;
    if (lock)
        pthread_mutex_lock(lock);
    if (u->sends)
        upstream_recognise(&u->up, up->data_head, u->rx_mono_ns);
    int fresh = 1;
    if (u->observer)
        freshness_published(u->env->fresh, seq, ts_ns);
    else
        fresh = freshness_receive(u->env->fresh, &u->fresh, seq, ts_ns, now);
    if (lock)
        pthread_mutex_unlock(lock);
    if (u->observer)
        return 1;
    counters_add(u->ctr, CTR_DELIVERIES, (uint64_t)fresh, u->ctr->measuring);
    return fresh;
}

/* ---- setup and teardown ------------------------------------------------------------- */

int user_init(struct user *u, uint32_t id, bool observer, const struct user_env *env,
              const struct transport_ops *ops, struct counters *ctr, char *err,
              size_t errlen)
{
    memset(u, 0, sizeof(*u));
    u->id = id;
    u->slot = id; /* run.c renumbers it when the users are spread over loops */
    u->observer = observer;
    u->env = env;
    u->ops = ops;
    u->ctr = ctr;
    dynbuf_init(&u->url, URL_MAX_BYTES);
    freshness_user_init(&u->fresh, !observer && id == 0);
    /* The private host name decides which connection a transfer may use (libcurl keeps
     * one pool per multi handle, keyed by host): one name per user gives each user its
     * own connection, one name per group of --users-per-connection users lets a
     * group share, as a browser's tabs share one origin's connections. A group never
     * spans two shards of the loop (loop.h), whose multi handles pool apart. */
    uint32_t upc = env->cfg->users_per_connection ? env->cfg->users_per_connection : 1;
    u->conn_group = id;
    u->new_fd = -1;
    if (observer)
        snprintf(u->pin_host, sizeof(u->pin_host), "observer.pushpull.invalid");
    else if (upc == 1)
        snprintf(u->pin_host, sizeof(u->pin_host), "u%u.pushpull.invalid", id);
    else {
        u->conn_group = id - id % LOOP_USERS_PER_SHARD % upc;
        snprintf(u->pin_host, sizeof(u->pin_host), "s%ug%u.pushpull.invalid",
                 id / LOOP_USERS_PER_SHARD, id % LOOP_USERS_PER_SHARD / upc);
    }

    if (ops->init(u) != 0) {
        snprintf(err, errlen, "%s transport init: out of memory", ops->name);
        return -1;
    }
    if (ops->on_io)
        return 0; /* its own socket: no libcurl */
    if (cli_http_driver(env->cfg) == HTTP_DRIVER_RAW) {
        u->hc = malloc(sizeof(*u->hc));
        if (!u->hc || http_conn_init(u->hc, u) != 0) {
            snprintf(err, errlen, "%s",
                     u->hc ? "the server's address is not numeric"
                           : "malloc: out of memory");
            return -1;
        }
        return 0;
    }
    char entry[160];
    snprintf(entry, sizeof(entry), "%s:%u:%s", u->pin_host, env->port, env->address);
    u->resolve = curl_slist_append(NULL, entry);
    u->easy = curl_easy_init();
    if (!u->resolve || !u->easy) {
        snprintf(err, errlen, "%s: out of memory",
                 u->easy ? "curl_slist_append" : "curl_easy_init");
        return -1;
    }
    CURL *e = u->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, u);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (user_protocol_setup(u, err, errlen) != 0)
        return -1;
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_RESOLVE, u->resolve);
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, -1L);
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, 86400L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(env->cfg->connect_timeout_ns / NS_PER_MS));
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, u);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, u);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, u);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, u);
    return 0;
}

void user_free(struct user *u)
{
    if (u->hc) {
        http_conn_free(u->hc);
        free(u->hc);
        u->hc = NULL;
    }
    if (u->easy)
        curl_easy_cleanup(u->easy);
    u->easy = NULL;
    if (u->tp && u->ops)
        u->ops->cleanup(u);
    curl_slist_free_all(u->resolve);
    curl_slist_free_all(u->req_headers);
    u->resolve = u->req_headers = NULL;
    dynbuf_free(&u->url);
    freshness_user_free(&u->fresh);
}
