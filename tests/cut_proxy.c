/* cut_proxy.c: a loopback TCP proxy that loses one answer when armed (see cut_proxy.h). */
#include "cut_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CUT_MAX_PAIRS 32

/* One proxied connection: the client's socket and ours to the upstream. */
struct pair {
    int down;     /* to the client */
    int up;       /* to the upstream */
    bool cutting; /* the marked request went up: lose what comes back */
};

struct cut_proxy {
    int listener;
    unsigned port, upstream;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop, marker, cuts */
    bool stop;
    bool severed;    /* close everything, accept nothing */
    char marker[64]; /* "" when not armed */
    int cuts;
    struct pair pairs[CUT_MAX_PAIRS];
    size_t npairs;
};

static int connect_upstream(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void pair_close(struct cut_proxy *p, size_t i)
{
    close(p->pairs[i].down);
    close(p->pairs[i].up);
    p->pairs[i] = p->pairs[--p->npairs];
}

/* Move what is readable on one side of pair i to the other. false when the pair ended. */
static bool pump(struct cut_proxy *p, size_t i, bool upward)
{
    struct pair *pr = &p->pairs[i];
    char buf[65536];
    ssize_t n = read(upward ? pr->down : pr->up, buf, sizeof(buf));
    if (n <= 0)
        return false;
    if (!upward && pr->cutting) {
        /* the answer to the marked request: lost, and both sides closed */
        pthread_mutex_lock(&p->lock);
        p->cuts++;
        pthread_mutex_unlock(&p->lock);
        return false;
    }
    if (upward) {
        pthread_mutex_lock(&p->lock);
        if (p->marker[0] && memmem(buf, (size_t)n, p->marker, strlen(p->marker))) {
            pr->cutting = true;
            p->marker[0] = '\0';
        }
        pthread_mutex_unlock(&p->lock);
    }
    int to = upward ? pr->up : pr->down;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void *proxy_main(void *arg)
{
    struct cut_proxy *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool stop = p->stop, severed = p->severed;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        while (severed && p->npairs > 0)
            pair_close(p, p->npairs - 1);
        struct pollfd fds[1 + 2 * CUT_MAX_PAIRS];
        fds[0] = (struct pollfd){.fd = p->listener, .events = POLLIN};
        for (size_t i = 0; i < p->npairs; i++) {
            fds[1 + 2 * i] = (struct pollfd){.fd = p->pairs[i].down, .events = POLLIN};
            fds[2 + 2 * i] = (struct pollfd){.fd = p->pairs[i].up, .events = POLLIN};
        }
        size_t n = p->npairs;
        if (poll(fds, 1 + 2 * n, 50) <= 0)
            continue;
        for (size_t i = n; i-- > 0;) {
            bool ok = true;
            if (fds[1 + 2 * i].revents)
                ok = pump(p, i, true);
            if (ok && fds[2 + 2 * i].revents)
                ok = pump(p, i, false);
            if (!ok)
                pair_close(p, i);
        }
        if (fds[0].revents & POLLIN) {
            int down = accept(p->listener, NULL, NULL);
            int up = down >= 0 && !severed ? connect_upstream(p->upstream) : -1;
            if (up >= 0 && p->npairs < CUT_MAX_PAIRS)
                p->pairs[p->npairs++] = (struct pair){.down = down, .up = up};
            else {
                if (down >= 0)
                    close(down);
                if (up >= 0)
                    close(up);
            }
        }
    }
    while (p->npairs > 0)
        pair_close(p, p->npairs - 1);
    return NULL;
}

struct cut_proxy *cut_proxy_start(unsigned upstream_port)
{
    struct cut_proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->upstream = upstream_port;
    p->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (p->listener < 0 || bind(p->listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(p->listener, 16) != 0 ||
        getsockname(p->listener, (struct sockaddr *)&sin, &len) != 0) {
        fprintf(stderr, "cut_proxy: listening: %s\n", strerror(errno));
        if (p->listener >= 0)
            close(p->listener);
        free(p);
        return NULL;
    }
    p->port = ntohs(sin.sin_port);
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
        fprintf(stderr, "cut_proxy: pthread_create failed\n");
        pthread_mutex_destroy(&p->lock);
        close(p->listener);
        free(p);
        return NULL;
    }
    return p;
}

unsigned cut_proxy_port(const struct cut_proxy *p)
{
    return p->port;
}

void cut_proxy_arm(struct cut_proxy *p, const char *marker)
{
    pthread_mutex_lock(&p->lock);
    snprintf(p->marker, sizeof(p->marker), "%s", marker);
    pthread_mutex_unlock(&p->lock);
}

void cut_proxy_sever(struct cut_proxy *p, int severed)
{
    pthread_mutex_lock(&p->lock);
    p->severed = severed != 0;
    pthread_mutex_unlock(&p->lock);
}

int cut_proxy_cuts(struct cut_proxy *p)
{
    pthread_mutex_lock(&p->lock);
    int n = p->cuts;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void cut_proxy_stop(struct cut_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    close(p->listener);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
