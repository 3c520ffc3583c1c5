/* link.c: the link emulator's event loop and listener (see link.h).
 *
 * What it imitates. A path between a client and a server: one-way delay and jitter, a
 * bottleneck rate with its queue (link_shaper.c), and the middleboxes that users sit
 * behind: a load balancer that cuts connections idle for too long (it closes both sides
 * with FIN), a network that resets connections (RST to both sides, after --drop-every or
 * at random with --drop-rate per second), and a buffering proxy that holds the response
 * stream until a buffer fills (--buffer). FINs travel in order: a half-closed side is
 * passed on with shutdown(SHUT_WR) once the bytes ahead of it have been delivered. So do
 * the resets of either side: what it sent before still arrives, the RST one delay after
 * it (not held back by a receiver that does not read, as no window holds back a RST).
 *
 * What it does not. It is a proxy, so each side talks TCP to the link on loopback, not to
 * each other: no packet loss or retransmission, congestion control only as the loopback
 * kernel does it, and a connect completes at once (with --handshake the client's first byte
 * is made to wait one round trip, as after a real SYN / SYN-ACK; without it, new
 * connections are one round trip cheaper than in life). An upstream that refuses shows up
 * as a client connection that is accepted and then reset, not as ECONNREFUSED. The resets
 * the link injects reach both sides at once rather than one delay later. The buffering
 * proxy works on bytes, not HTTP messages: a real one forwards a complete Content-Length or
 * chunked response at once, this one holds any response shorter than --buffer on a
 * kept-alive connection until more bytes or the close come, so it belongs in front of
 * streams (SSE), where the two behave alike. Idle means no byte read or written either way;
 * bytes waiting in a queue do not count as activity. Timing is as good as the timerfd's
 * wake-ups: see the README for what was measured here.
 *
 * Who may connect. The server lets only loopback peers use /publish, /control and /drop,
 * and it sees the link's address, not the client's. So the link listens on loopback unless
 * told otherwise (allow_remote, --allow-remote), and even then it never hands a client from
 * another host a loopback address: such a client's upstream connection is made from the
 * address of this host that it connected to (link_pairs.c), and the server treats it as off
 * loopback. A client that came in at another loopback address than 127.0.0.1 is passed on
 * from that address too, so a server given --local-peer 127.0.0.1 can keep such a door
 * (the demo's --bind 127.0.0.2) out of its loopback-only routes. An upstream of 0.0.0.0
 * (what the server's first line says when it binds every address) is taken as 127.0.0.1, as
 * Linux takes it: left as it is, the kernel would connect from 127.0.0.1 whatever source
 * the link chose. What --allow-remote does expose: every route the server answers any host
 * (the feed, /stats, the demo page), with no authentication, and up to max_connections
 * pairs each holding a server connection for as long as the client likes (there is no idle
 * cut unless --idle-timeout). The server cannot see the client's own address through the
 * link: passing it on would take IP_TRANSPARENT (root) or a PROXY protocol header that the
 * server does not read.
 *
 * Design. One thread, one epoll set (level-triggered), non-blocking sockets. This file
 * is the loop: the listener, one timerfd and the caller's stop fd; link_pairs.c holds
 * the connection pairs (opening them, their events, their deadlines: releases, injected
 * resets, idle cuts) and link_pump.c is the state machine of one pair. The timerfd is
 * armed for the earliest deadline of all pairs, in absolute CLOCK_MONOTONIC nanoseconds:
 * no busy loop, no sleep per chunk. After each batch of events the loop runs the
 * deadlines that passed, frees the pairs that ended (only then, so a later event of the
 * same batch never touches freed memory) and re-arms the timer. When accept4 fails (out
 * of descriptors or memory) the listener leaves the epoll set until a pair ends, rather
 * than spin on a socket that stays readable.
 */
#include "link/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "link/link_pairs.h"

#define MAX_EVENTS 256

struct link {
    struct link_config cfg;      /* copy of the settings */
    int ep;                      /* epoll set */
    int lfd;                     /* listening socket */
    int tfd;                     /* timerfd for the earliest deadline */
    enum link_watch listen_kind; /* LINK_WATCH_LISTEN: epoll pointer for lfd */
    enum link_watch timer_kind;  /* LINK_WATCH_TIMER: epoll pointer for tfd */
    enum link_watch stop_kind; /* LINK_WATCH_STOP: epoll pointer for the caller's stop fd */
    int listening;             /* lfd is in the epoll set (off while fds ran out) */
    uint64_t closed_at_pause;  /* pairs.c.closed when the listener left the set */
    int64_t armed_ns;          /* the timerfd's expiry, 0: disarmed or fired */
    struct link_pairs pairs;   /* every connection pair, and the counters */
    unsigned port;             /* bound port */
};

int link_addr_is_loopback(struct in_addr a)
{
    return (ntohl(a.s_addr) >> 24) == 127;
}

void link_config_defaults(struct link_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen.sin_family = AF_INET;
    cfg->listen.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg->upstream.sin_family = AF_INET;
    cfg->upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg->seed = 1;
    cfg->queue_bytes = 4u << 20;
    cfg->max_connections = 8000;
}

/* ---- the listener ------------------------------------------------------------- */

static void listener_pause(struct link *l)
{
    if (epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd, NULL) == 0) {
        l->listening = 0;
        l->closed_at_pause = l->pairs.c.closed;
    }
}

/* Back in the epoll set once a pair has ended since the pause (it freed descriptors). */
static void listener_resume(struct link *l)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->listen_kind};
    if (!l->listening && l->pairs.c.closed != l->closed_at_pause &&
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev) == 0)
        l->listening = 1;
}

static void on_accept(struct link *l)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int fd =
            accept4(l->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (fd < 0) {
            /* Out of descriptors or memory: stop accepting until a pair ends, rather
             * than spin on a listener that stays readable. */
            fprintf(stderr, "pushpull-link: accept4: %s (new connections wait)\n",
                    strerror(errno));
            listener_pause(l);
            return;
        }
        l->pairs.c.accepted++;
        /* refused ones are counted there */
        (void)link_pairs_open(&l->pairs, fd, &peer, clock_mono_ns());
    }
}

/* ---- the timer ---------------------------------------------------------------- */

/* Arm the timerfd for the earliest deadline (or disarm it). 0, or -1 (errno). */
static int arm_timer(struct link *l)
{
    int64_t due = link_pairs_next_due(&l->pairs);
    if (due == l->armed_ns)
        return 0;
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (due > 0)
        its.it_value = clock_ts_from_ns(due);
    if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
        return -1;
    l->armed_ns = due;
    return 0;
}

/* ---- the proxy ---------------------------------------------------------------- */

struct link *link_new(const struct link_config *cfg, char *err, size_t errlen)
{
    struct link *ret = NULL;
    struct link *l = NULL;
    char addr[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &cfg->listen.sin_addr, addr, sizeof(addr));
    if (!cfg->allow_remote && !link_addr_is_loopback(cfg->listen.sin_addr)) {
        snprintf(err, errlen, "listen address %s is off loopback and allow_remote is 0",
                 addr);
        goto out;
    }
    l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "calloc: %s", strerror(errno));
        goto out;
    }
    l->cfg = *cfg;
    if (l->cfg.max_connections == 0)
        l->cfg.max_connections = 1;
    if (l->cfg.upstream.sin_addr.s_addr == htonl(INADDR_ANY)) /* see "Who may connect" */
        l->cfg.upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l->ep = l->lfd = l->tfd = -1;
    l->listen_kind = LINK_WATCH_LISTEN;
    l->timer_kind = LINK_WATCH_TIMER;
    l->stop_kind = LINK_WATCH_STOP;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        goto out;
    }
    if (link_pairs_init(&l->pairs, &l->cfg, l->ep) != 0) {
        snprintf(err, errlen, "malloc: %s", strerror(ENOMEM));
        goto out;
    }
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->tfd < 0) {
        snprintf(err, errlen, "timerfd_create: %s", strerror(errno));
        goto out;
    }
    l->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->lfd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        goto out;
    }
    int one = 1;
    (void)setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l->lfd, (const struct sockaddr *)&cfg->listen, sizeof(cfg->listen)) != 0) {
        snprintf(err, errlen, "bind %s:%u: %s", addr, ntohs(cfg->listen.sin_port),
                 strerror(errno));
        goto out;
    }
    if (listen(l->lfd, SOMAXCONN) != 0) {
        snprintf(err, errlen, "listen: %s", strerror(errno));
        goto out;
    }
    struct sockaddr_in bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(l->lfd, (struct sockaddr *)&bound, &blen) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        goto out;
    }
    l->port = ntohs(bound.sin_port);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &l->listen_kind};
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &l->timer_kind};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &lev) != 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->tfd, &tev) != 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        goto out;
    }
    l->listening = 1;
    ret = l;
    l = NULL;
out:
    link_free(l);
    return ret;
}

unsigned link_port(const struct link *l)
{
    return l->port;
}

int link_run(struct link *l, int stop_fd, char *err, size_t errlen)
{
    int rc = 0;
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &l->stop_kind};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, stop_fd, &sev) != 0) {
        snprintf(err, errlen, "epoll_ctl (stop fd): %s", strerror(errno));
        return -1;
    }
    int stopping = 0;
    while (!stopping) {
        struct epoll_event evs[MAX_EVENTS];
        int n = epoll_wait(l->ep, evs, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++) {
            enum link_watch *w = evs[i].data.ptr;
            switch (*w) {
            case LINK_WATCH_LISTEN:
                on_accept(l);
                break;
            case LINK_WATCH_TIMER: {
                uint64_t expirations;
                if (read(l->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                    fprintf(stderr, "pushpull-link: read timerfd: %s\n", strerror(errno));
                l->armed_ns = 0; /* one-shot: it has fired */
                break;
            }
            case LINK_WATCH_STOP:
                stopping = 1;
                break;
            case LINK_WATCH_END:
                link_pairs_event(&l->pairs, (struct link_end *)w, evs[i].events);
                break;
            }
        }
        link_pairs_run_due(&l->pairs, clock_mono_ns());
        (void)link_pairs_reap(&l->pairs);
        listener_resume(l);
        if (arm_timer(l) != 0) {
            snprintf(err, errlen, "timerfd_settime: %s", strerror(errno));
            rc = -1;
            break;
        }
    }
    (void)epoll_ctl(l->ep, EPOLL_CTL_DEL, stop_fd, NULL);
    link_pairs_end_all(&l->pairs);
    (void)link_pairs_reap(&l->pairs);
    return rc;
}

void link_counters_get(const struct link *l, struct link_counters *out)
{
    *out = l->pairs.c;
}

void link_free(struct link *l)
{
    if (!l)
        return;
    link_pairs_free(&l->pairs);
    if (l->lfd >= 0)
        close(l->lfd);
    if (l->tfd >= 0)
        close(l->tfd);
    if (l->ep >= 0)
        close(l->ep);
    free(l);
}
