/* user_curl.c: the libcurl driver of a user: its easy handle's settings, the callbacks
 * that hand each transfer's bytes to the drivers' seam (user_http.c), and a transfer's
 * start, end and request bytes in the drivers' common terms.
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
 * Libcurl settings that matter for the numbers: the protocol (user_protocol.c); no proxy
 * (the environment is ignored); DNS cache entries never expire (libcurl 7.88 otherwise
 * scans its whole DNS cache after every transfer, O(users)); idle connections are kept for
 * a day (the default 118 s would reconnect slow pollers); no Accept-Encoding (nothing is
 * compressed).
 */
#include "user.h"

#include <stdio.h>
#include <sys/socket.h>

#include "clock.h"
#include "headers.h"
#include "loop.h"
#include "user_impl.h"
#include "user_protocol.h"

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

/* How a libcurl transfer ended, in the drivers' common terms. */
enum http_end user_curl_end(struct user *u, CURLcode result)
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

/* libcurl's account of the request's bytes (the raw driver counts at its write site). */
void user_curl_count_request(struct user *u)
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

/* The libcurl driver: the request as options of the user's easy handle. 0 or -1. */
int user_curl_start(struct user *u, const struct request_spec *spec,
                    const char *const *extra)
{
    char err[160];
    if (dynbuf_addf(&u->url, "%s://%s:%u%s%s",
                    cli_protocol_tls(u->env->cfg->protocol) ? "https" : "http", u->pin_host,
                    user_target(u)->port, user_target(u)->base_path,
                    spec->target->mem ? spec->target->mem : "/") != 0)
        return -1;
    u->req_headers =
        headers_build(u->env->headers, u->ops->kind, user_target(u)->host_line, extra);
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

/* The libcurl driver's easy handle for u, with its private host pinned to the server's
 * address (user.h) and every callback of this file. 0, or -1 with err; user_free releases
 * what was made. */
int user_curl_init(struct user *u, char *err, size_t errlen)
{
    const struct user_env *env = u->env;
    char entry[160];
    snprintf(entry, sizeof(entry), "%s:%u:%s", u->pin_host, user_target(u)->port,
             user_target(u)->address);
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
