/* fake_origin.c: a tiny scripted HTTP/1.1 origin for the client's tests (fake_origin.h).
 *
 * Threads, not an event loop: each connection's serve function may block (a held long
 * poll, an open stream), and a test has a handful of connections. A request is handed
 * over whole: its head, and after it the body its Content-Length announces (no chunked
 * request bodies: the client sends none).
 */
#include "fake_origin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct conn_arg {
    struct fake_origin *o;
    int fd;
};

bool fake_origin_stopping(struct fake_origin *o)
{
    pthread_mutex_lock(&o->mu);
    bool s = o->stop;
    pthread_mutex_unlock(&o->mu);
    return s;
}

int fake_origin_send(struct fake_origin *o, int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
                !fake_origin_stopping(o))
                continue; /* SO_SNDTIMEO passed: look at the stop flag, then go on */
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int fake_origin_hold(struct fake_origin *o, int fd)
{
    while (!fake_origin_stopping(o)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char tmp[4096];
        if (poll(&p, 1, 50) > 0 && read(fd, tmp, sizeof(tmp)) <= 0)
            return 1;
    }
    return 1;
}

long fake_origin_header(const char *head, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        const char *line = l + 2;
        if (strncasecmp(line, name, n) != 0 || line[n] != ':')
            continue;
        const char *v = line + n + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        const char *end = strstr(v, "\r\n");
        size_t len = end ? (size_t)(end - v) : strlen(v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        snprintf(out, outlen, "%.*s", (int)len, v);
        return (long)len;
    }
    if (outlen > 0)
        out[0] = '\0';
    return -1;
}

/* The request's end in buf[0..len): its head and the Content-Length bytes after it; 0
 * while it is not all there. */
static size_t request_end(const char *buf)
{
    const char *blank = strstr(buf, "\r\n\r\n");
    if (!blank)
        return 0;
    char cl[32];
    size_t body = 0;
    if (fake_origin_header(buf, "Content-Length", cl, sizeof(cl)) > 0)
        body = (size_t)strtoul(cl, NULL, 10);
    return (size_t)(blank + 4 - buf) + body;
}

/* Read one request, its head and its body (Content-Length), into buf (NUL-terminated
 * after it); *len holds the bytes in buf, a next request's included (kept for the next
 * call: shift them first). Its length, or 0 on EOF, error or stop. */
static size_t read_request(struct fake_origin *o, int fd, char *buf, size_t cap,
                           size_t *len)
{
    size_t end;
    buf[*len] = '\0';
    while ((end = request_end(buf)) == 0 || end > *len) {
        if (fake_origin_stopping(o) || *len + 1 >= cap)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n <= 0)
            return 0;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return end;
}

static void *conn_main(void *arg)
{
    struct conn_arg *a = arg;
    struct fake_origin *o = a->o;
    int fd = a->fd;
    free(a);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char buf[8192], req[8192];
    size_t len = 0, end;
    while ((end = read_request(o, fd, buf, sizeof(buf), &len)) > 0) {
        memcpy(req, buf, end);
        req[end] = '\0';
        memmove(buf, buf + end, len - end); /* what came after it: the next request */
        len -= end;
        if (o->serve(o, fd, req) != 0)
            break;
    }
    close(fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct fake_origin *o = arg;
    while (!fake_origin_stopping(o)) {
        struct pollfd p = {.fd = o->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) != 1)
            continue;
        int fd = accept(o->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct conn_arg *a = malloc(sizeof(*a));
        pthread_mutex_lock(&o->mu);
        bool room = a && o->nconns < FAKE_ORIGIN_MAX_CONNS;
        if (room) {
            a->o = o;
            a->fd = fd;
            room = pthread_create(&o->conns[o->nconns], NULL, conn_main, a) == 0;
            o->nconns += room;
        }
        pthread_mutex_unlock(&o->mu);
        if (!room) {
            free(a);
            close(fd);
        }
    }
    return NULL;
}

int fake_origin_start(struct fake_origin *o, fake_origin_serve serve, void *ctx)
{
    memset(o, 0, sizeof(*o));
    o->serve = serve;
    o->ctx = ctx;
    /* non-blocking: a connection reset between poll and accept must not hang accept */
    o->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (o->lfd < 0)
        return -1;
    int one = 1;
    setsockopt(o->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(o->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(o->lfd, 64) != 0 ||
        getsockname(o->lfd, (struct sockaddr *)&a, &len) != 0)
        goto fail;
    o->port = ntohs(a.sin_port);
    pthread_mutex_init(&o->mu, NULL);
    if (pthread_create(&o->accepter, NULL, accept_main, o) != 0) {
        pthread_mutex_destroy(&o->mu);
        goto fail;
    }
    return 0;
fail:
    close(o->lfd);
    o->lfd = -1;
    return -1;
}

void fake_origin_stop(struct fake_origin *o)
{
    pthread_mutex_lock(&o->mu);
    o->stop = true;
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->accepter, NULL);
    for (int i = 0; i < o->nconns; i++) /* nothing adds to conns once accepter ended */
        pthread_join(o->conns[i], NULL);
    close(o->lfd);
    pthread_mutex_destroy(&o->mu);
}
