/* httpc.c: the conductor's blocking HTTP/1.1 requests (see httpc.h). */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

void httpc_init(struct httpc *h, unsigned port)
{
    h->port = port;
    h->fd = -1;
}

void httpc_close(struct httpc *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
}

static int connect_loopback(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void on_body(void *ctx, const char *buf, size_t len)
{
    struct httpc_response *r = ctx;
    dynbuf_add(&r->body, buf, len);
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int httpc_request(struct httpc *h, const char *method, const char *path,
                  const char *headers, const char *body, size_t body_len, int timeout_ms,
                  struct httpc_response *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    dynbuf_init(&r->body, 8 * 1024 * 1024);
    struct dynbuf req;
    dynbuf_init(&req, 1 << 20);
    int rc = -1;
    if (h->fd < 0 && (h->fd = connect_loopback(h->port)) < 0) {
        snprintf(err, errlen, "connect to 127.0.0.1:%u: %s", h->port, strerror(errno));
        goto end;
    }
    dynbuf_addf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s", method, path, h->port,
                headers ? headers : "");
    if (body)
        dynbuf_addf(&req, "Content-Length: %zu\r\n", body_len);
    dynbuf_adds(&req, "\r\n");
    if (body)
        dynbuf_add(&req, body, body_len);
    if (!req.mem || send_all(h->fd, req.mem, req.len) != 0) {
        snprintf(err, errlen, "send %s %s: %s", method, path, strerror(errno));
        goto end;
    }
    struct http_resp resp;
    struct http_resp_callbacks cb = {NULL, on_body, r};
    http_resp_init(&resp, &cb);
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    char buf[16384];
    enum http_resp_status st = HTTP_RESP_MORE;
    while (st == HTTP_RESP_MORE) {
        int left = (int)((deadline - clock_mono_ns()) / NS_PER_MS);
        struct pollfd p = {.fd = h->fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            snprintf(err, errlen, "%s %s: no answer within %d ms", method, path,
                     timeout_ms);
            goto end;
        }
        ssize_t n = read(h->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "read %s %s: %s", method, path, strerror(errno));
            goto end;
        }
        st = n == 0 ? http_resp_eof(&resp) : http_resp_feed(&resp, buf, (size_t)n, NULL);
        if (n == 0 && st == HTTP_RESP_DONE)
            resp.close = 1;
    }
    if (st == HTTP_RESP_ERROR) {
        snprintf(err, errlen, "%s %s: %s", method, path, resp.error);
        goto end;
    }
    r->status = resp.status;
    memcpy(r->etag, resp.etag, sizeof(r->etag));
    memcpy(r->last_modified, resp.last_modified, sizeof(r->last_modified));
    if (resp.close)
        httpc_close(h);
    rc = 0;
end:
    dynbuf_free(&req);
    if (rc != 0)
        httpc_close(h);
    return rc;
}

void httpc_response_free(struct httpc_response *r)
{
    dynbuf_free(&r->body);
}

int httpc_wait_listening(unsigned port, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    for (;;) {
        int fd = connect_loopback(port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (clock_mono_ns() > deadline)
            return -1;
        struct timespec ts = {0, 10 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
}

unsigned httpc_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    unsigned port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}
