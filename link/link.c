/* link.c: the link emulator's event loop and its connection pairs (see link.h).
 *
 * What it imitates. A path between a client and a server: one-way delay and jitter, a
 * bottleneck rate with its queue (link_shaper.c), and the middleboxes that users sit
 * behind: a load balancer that cuts connections idle for too long (it closes both sides
 * with FIN), a network that resets connections (RST to both sides, after --drop-every or
 * at random with --drop-rate per second), and a buffering proxy that holds the response
 * stream until a buffer fills (--buffer). FINs travel in order: a half-closed side is
 * passed on with shutdown(SHUT_WR) once the bytes ahead of it have been delivered.
 *
 * What it does not. It is a proxy, so each side talks TCP to the link on loopback, not to
 * each other: no packet loss or retransmission, congestion control only as the loopback
 * kernel does it, and a connect completes at once (with --handshake the client's first
 * byte is made to wait one round trip, as after a real SYN / SYN-ACK; without it, new
 * connections are one round trip cheaper than in life). An upstream that refuses shows
 * up as a client connection that is accepted and then reset, not as ECONNREFUSED. Resets
 * reach both sides at once rather than one delay later. The buffering proxy works on
 * bytes, not HTTP messages: a real one forwards a complete Content-Length or chunked
 * response at once, this one holds any response shorter than --buffer on a kept-alive
 * connection until more bytes or the close come, so it belongs in front of streams
 * (SSE), where the two behave alike. Idle means no byte read or written either way;
 * bytes waiting in a queue do not count as activity. Timing is as good as the timerfd's
 * wake-ups: see the README for what was measured here.
 *
 * Design. One thread, one epoll set (level-triggered), non-blocking sockets. A pair's
 * interest in each socket is recomputed after every event from its state (read unless
 * that direction's queue holds --queue bytes or the peer sent FIN; write only while the
 * kernel's send buffer is full), and a socket with no interest leaves the epoll set, so
 * nothing can spin. Each pair has one deadline in a timer_heap (the earliest of: its next
 * release in either direction, its injected reset, its idle cut), and one timerfd is armed
 * for the earliest of all, in absolute CLOCK_MONOTONIC nanoseconds: no busy loop, no
 * sleep per chunk. Pairs that end during a batch of events are freed after the batch, so
 * a later event of the same batch never touches freed memory.
 */
#include "link/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "rng.h"
#include "timer_heap.h"

#define MAX_EVENTS  256
#define READ_BUDGET (256 * 1024) /* bytes read from one socket per event, for fairness */

/* What an epoll registration points at: the first field of each watched thing. */
enum watch { WATCH_LISTEN, WATCH_TIMER, WATCH_STOP, WATCH_END };
enum side { CLIENT = 0, SERVER = 1 };
/* Directions are numbered by the side they read from: UP reads CLIENT, DOWN reads SERVER,
 * and each writes to the other side. */
enum dirno { UP = CLIENT, DOWN = SERVER };
enum end_reason {
    END_NORMAL,
    END_SHUTDOWN,
    END_INJECTED,
    END_IDLE,
    END_PEER,
    END_UPSTREAM
};

struct pair;

/* One socket of a pair. */
struct end {
    enum watch kind;   /* WATCH_END; first, so an epoll pointer can be told apart */
    struct pair *pair; /* the pair this socket belongs to */
    int fd;            /* the socket; -1 once closed */
    uint32_t events;   /* epoll interest registered now; 0: not in the epoll set */
    int eof;           /* reading returned 0: the peer sent its FIN */
    int shut;          /* we passed a FIN on to it (shutdown SHUT_WR) */
};

/* One direction of a pair. */
struct dir {
    struct link_shaper q; /* bytes on their way, owned here */
    int blocked;          /* the receiver's send buffer was full: waiting for EPOLLOUT */
    uint64_t bytes_in;    /* read from the sender */
    uint64_t bytes_out;   /* written to the receiver */
};

/* A client connection and its upstream connection. Allocated by pair_open, freed after
 * the batch of events in which pair_end ran. */
struct pair {
    uint32_t slot;          /* index in link.pairs, and id in link.timers */
    struct end ends[2];     /* [CLIENT], [SERVER] */
    struct dir dirs[2];     /* [UP], [DOWN] */
    int connecting;         /* the upstream connect is still under way */
    int64_t drop_at;        /* injected reset, INT64_MAX: none */
    int64_t last_active;    /* when a byte was last read or written either way */
    int dead;               /* ended: skip its events, free it after the batch */
    struct pair *next_dead; /* link.dead list */
};

struct link {
    struct link_config cfg;    /* copy of the settings */
    int ep;                    /* epoll set */
    int lfd;                   /* listening socket */
    int tfd;                   /* timerfd for the earliest deadline */
    enum watch listen_kind;    /* WATCH_LISTEN: epoll pointer for lfd */
    enum watch timer_kind;     /* WATCH_TIMER: epoll pointer for tfd */
    enum watch stop_kind;      /* WATCH_STOP: epoll pointer for the caller's stop fd */
    int listening;             /* lfd is in the epoll set (off while fds ran out) */
    struct pair **pairs;       /* slot -> pair, NULL when free; max_connections long */
    uint32_t *free_slots;      /* stack of free slots */
    uint32_t nfree;            /* slots on that stack */
    uint32_t open;             /* pairs open now */
    struct timer_heap *timers; /* one deadline per pair slot */
    int64_t armed_ns;          /* the timerfd's expiry, 0: disarmed or fired */
    struct pair *dead;         /* pairs ended during this batch of events */
    struct rng rng;            /* drop draws and per-connection jitter seeds */
    struct link_counters c;    /* what was carried */
    unsigned port;             /* bound port */
    char buf[64 * 1024];       /* read buffer, shared: one thread */
};

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

/* ---- sockets ---------------------------------------------------------------- */

static void set_nodelay(int fd)
{
    int one = 1;
    /* The shaper decides when bytes leave; Nagle must not hold them a second time. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Close with RST instead of FIN: SO_LINGER on with a zero timeout. */
static void close_with_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* ---- pairs ------------------------------------------------------------------ */

/* The direction that writes to side s's socket. */
static struct dir *dir_into(struct pair *p, int side)
{
    return &p->dirs[!side];
}

/* Direction d may write now: its receiver is connected, not full, not shut. */
static int dir_writable(const struct pair *p, int d)
{
    const struct end *dst = &p->ends[!d];
    if (d == UP && p->connecting)
        return 0;
    return !p->dirs[d].blocked && !dst->shut && dst->fd >= 0;
}

/* The epoll interest side s's socket should have, from the pair's state. */
static uint32_t end_wanted(const struct link *l, const struct pair *p, int side)
{
    const struct end *e = &p->ends[side];
    if (side == SERVER && p->connecting)
        return EPOLLOUT;
    uint32_t ev = 0;
    if (!e->eof && link_shaper_pending(&p->dirs[side].q) < l->cfg.queue_bytes)
        ev |= EPOLLIN;
    if (p->dirs[!side].blocked)
        ev |= EPOLLOUT;
    return ev;
}

/* Bring side s's registration in line with end_wanted. 0, or -1 (errno) from epoll_ctl. */
static int end_update(struct link *l, struct pair *p, int side)
{
    struct end *e = &p->ends[side];
    uint32_t want = end_wanted(l, p, side);
    if (want == e->events)
        return 0;
    struct epoll_event ev = {.events = want, .data.ptr = e};
    int op = e->events == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(l->ep, op, e->fd, &ev) != 0)
        return -1;
    e->events = want;
    return 0;
}

/* Give the pair its earliest deadline in the timer heap, or none. */
static void pair_schedule(struct link *l, struct pair *p)
{
    int64_t due = p->drop_at;
    if (l->cfg.idle_timeout_ns > 0 && p->last_active + l->cfg.idle_timeout_ns < due)
        due = p->last_active + l->cfg.idle_timeout_ns;
    for (int d = UP; d <= DOWN; d++) {
        int64_t next = link_shaper_next_ns(&p->dirs[d].q);
        if (dir_writable(p, d) && next < due)
            due = next;
    }
    if (due == INT64_MAX)
        timer_heap_clear(l->timers, p->slot);
    else
        timer_heap_set(l->timers, p->slot, due);
}

static void listener_resume(struct link *l)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->listen_kind};
    if (!l->listening && epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev) == 0)
        l->listening = 1;
}

/* End the pair: close both sockets (with RST for resets), count why, drop what was
 * still queued, and hand the memory to the dead list (freed after this batch).
 *
 * Discarded is counted as read minus written, not as what the shaper still holds: the
 * two agree, except that the shaper's count misses the bytes a push loses when memory
 * runs out, and in = forwarded + discarded must hold even then. */
static void pair_end(struct link *l, struct pair *p, enum end_reason why)
{
    int reset = why == END_INJECTED || why == END_PEER || why == END_UPSTREAM;
    for (int side = CLIENT; side <= SERVER; side++) {
        int fd = p->ends[side].fd;
        if (fd < 0)
            continue;
        if (reset && !(why == END_UPSTREAM && side == SERVER))
            close_with_reset(fd);
        else
            close(fd); /* also leaves the epoll set */
        p->ends[side].fd = -1;
    }
    switch (why) {
    case END_INJECTED:
        l->c.resets_injected++;
        break;
    case END_IDLE:
        l->c.idle_cuts++;
        break;
    case END_PEER:
        l->c.peer_resets++;
        break;
    case END_UPSTREAM:
        l->c.upstream_failed++;
        break;
    case END_NORMAL:
    case END_SHUTDOWN:
        break;
    }
    l->c.closed++;
    for (int d = UP; d <= DOWN; d++) {
        struct dir *dir = &p->dirs[d];
        uint64_t lost = dir->bytes_in - dir->bytes_out;
        (void)link_shaper_free(&dir->q);
        if (d == UP) /* the one place bytes discarded are counted */
            l->c.bytes_discarded_up += lost;
        else
            l->c.bytes_discarded_down += lost;
        l->c.bytes_discarded += lost;
    }
    timer_heap_clear(l->timers, p->slot);
    l->pairs[p->slot] = NULL;
    l->free_slots[l->nfree++] = p->slot;
    l->open--;
    p->dead = 1;
    p->next_dead = l->dead;
    l->dead = p;
    listener_resume(l);
}

/* Write what direction d may send by now; pass its FIN on when that is due too.
 * 0, or -1 when the receiver is gone (the caller ends the pair). */
static int dir_flush(struct link *l, struct pair *p, int d, int64_t now)
{
    struct dir *dir = &p->dirs[d];
    struct end *dst = &p->ends[!d];
    if (!dir_writable(p, d))
        return 0;
    for (;;) {
        const char *data = NULL;
        size_t n = link_shaper_peek(&dir->q, now, &data);
        if (n == 0)
            break;
        ssize_t w = send(dst->fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            dir->blocked = 1;
            return 0;
        }
        if (w < 0)
            return -1;
        if (d == UP) /* the one place bytes delivered are counted */
            l->c.bytes_up += (uint64_t)w;
        else
            l->c.bytes_down += (uint64_t)w;
        dir->bytes_out += (uint64_t)w;
        link_shaper_consume(&dir->q, (size_t)w);
        p->last_active = now;
    }
    if (link_shaper_take_fin(&dir->q, now)) {
        if (shutdown(dst->fd, SHUT_WR) != 0)
            return -1;
        dst->shut = 1;
    }
    return 0;
}

/* Read what side d's socket has (within the queue cap and the budget) into direction d,
 * then send whatever is already due. 0, or -1 when the sender reset or memory ran out. */
static int dir_read(struct link *l, struct pair *p, int d, int64_t now)
{
    struct end *src = &p->ends[d];
    struct dir *dir = &p->dirs[d];
    size_t budget = READ_BUDGET;
    while (!src->eof && budget > 0 && link_shaper_pending(&dir->q) < l->cfg.queue_bytes) {
        ssize_t n = recv(src->fd, l->buf, sizeof(l->buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            return -1;
        if (n == 0) {
            src->eof = 1;
            if (link_shaper_close(&dir->q, now) != 0)
                return -1;
            break;
        }
        if (d == UP) /* the one place bytes read are counted */
            l->c.bytes_in_up += (uint64_t)n;
        else
            l->c.bytes_in_down += (uint64_t)n;
        dir->bytes_in += (uint64_t)n;
        if (link_shaper_push(&dir->q, now, l->buf, (size_t)n) != 0)
            return -1;
        p->last_active = now;
        if ((size_t)n < sizeof(l->buf))
            break; /* drained for now: level-triggered epoll says when more comes */
        budget -= (size_t)n < budget ? (size_t)n : budget;
    }
    return dir_flush(l, p, d, now);
}

/* After anything happened to a pair: finish it when both FINs have been passed on,
 * else refresh its epoll interest and its deadline. */
static void pair_settle(struct link *l, struct pair *p)
{
    if (p->dead)
        return;
    if (p->ends[CLIENT].shut && p->ends[SERVER].shut) {
        pair_end(l, p, END_NORMAL);
        return;
    }
    if (end_update(l, p, CLIENT) != 0 || end_update(l, p, SERVER) != 0) {
        pair_end(l, p, END_PEER);
        return;
    }
    pair_schedule(l, p);
}

/* A new client connection cfd: connect its upstream and set up the pair in p (zeroed,
 * from calloc; a free slot exists). The link owns both from here: pair_end frees them. */
static void pair_open(struct link *l, struct pair *p, int cfd, int64_t now)
{
    p->slot = l->free_slots[--l->nfree];
    l->pairs[p->slot] = p;
    l->open++;
    if (l->open > l->c.open_peak)
        l->c.open_peak = l->open;

    struct link_shaper_config up = l->cfg.up;
    struct link_shaper_config down = l->cfg.down;
    up.seed = rng_next(&l->rng);
    down.seed = rng_next(&l->rng);
    if (l->cfg.handshake)
        up.not_before_ns = now + up.delay_ns + down.delay_ns;
    link_shaper_init(&p->dirs[UP].q, &up);
    link_shaper_init(&p->dirs[DOWN].q, &down);
    p->drop_at = INT64_MAX;
    if (l->cfg.drop_every_ns > 0)
        p->drop_at = now + l->cfg.drop_every_ns;
    if (l->cfg.drop_rate > 0) {
        /* Memoryless: a chance p per second is a rate of -ln(1 - p) per second, so one
         * exponential draw at accept gives the connection's whole lifetime. */
        double per_s = -log1p(-l->cfg.drop_rate);
        double life_ns = rng_exponential(&l->rng, 1.0 / per_s) * 1e9;
        if (life_ns < 9e18 && now + (int64_t)life_ns < p->drop_at)
            p->drop_at = now + (int64_t)life_ns;
    }
    p->last_active = now;
    for (int side = CLIENT; side <= SERVER; side++) {
        p->ends[side].kind = WATCH_END;
        p->ends[side].pair = p;
    }
    p->ends[CLIENT].fd = cfd;
    set_nodelay(cfd);

    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    p->ends[SERVER].fd = sfd;
    if (sfd < 0) {
        pair_end(l, p, END_UPSTREAM);
        return;
    }
    set_nodelay(sfd);
    if (connect(sfd, (const struct sockaddr *)&l->cfg.upstream, sizeof(l->cfg.upstream)) ==
        0)
        p->connecting = 0;
    else if (errno == EINPROGRESS)
        p->connecting = 1;
    else {
        pair_end(l, p, END_UPSTREAM);
        return;
    }
    pair_settle(l, p);
}

/* ---- events ----------------------------------------------------------------- */

static void on_accept(struct link *l)
{
    for (;;) {
        int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (fd < 0) {
            /* Out of descriptors or memory: stop accepting until a pair ends, rather
             * than spin on a listener that stays readable. */
            fprintf(stderr, "pushpull-link: accept4: %s (new connections wait)\n",
                    strerror(errno));
            if (epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd, NULL) == 0)
                l->listening = 0;
            return;
        }
        l->c.accepted++;
        struct pair *p = l->nfree > 0 ? calloc(1, sizeof(*p)) : NULL;
        if (!p) { /* over --max-connections, or out of memory */
            close_with_reset(fd);
            l->c.refused++;
            continue;
        }
        pair_open(l, p, fd, clock_mono_ns());
    }
}

/* Something happened on one socket of a pair. */
static void on_end_event(struct link *l, struct end *e, uint32_t events)
{
    struct pair *p = e->pair;
    if (p->dead)
        return;
    int side = e == &p->ends[SERVER] ? SERVER : CLIENT;
    int64_t now = clock_mono_ns();
    if (side == SERVER && p->connecting) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            pair_end(l, p, END_UPSTREAM);
            return;
        }
        p->connecting = 0;
        if (dir_flush(l, p, UP, now) != 0)
            pair_end(l, p, END_PEER);
        pair_settle(l, p);
        return;
    }
    if (events & EPOLLERR) {
        pair_end(l, p, END_PEER);
        return;
    }
    int acted = 0;
    if ((events & (EPOLLIN | EPOLLHUP)) && (e->events & EPOLLIN)) {
        acted = 1;
        if (dir_read(l, p, side, now) != 0) {
            pair_end(l, p, END_PEER);
            return;
        }
    }
    if (events & EPOLLOUT) {
        acted = 1;
        dir_into(p, side)->blocked = 0;
        if (dir_flush(l, p, !side, now) != 0) {
            pair_end(l, p, END_PEER);
            return;
        }
    }
    if (!acted) { /* a hang-up nobody is listening for: the socket is finished */
        pair_end(l, p, END_PEER);
        return;
    }
    pair_settle(l, p);
}

/* A pair's deadline came: an injected reset, a release, or an idle cut. */
static void on_pair_due(struct link *l, struct pair *p, int64_t now)
{
    if (now >= p->drop_at) {
        pair_end(l, p, END_INJECTED);
        return;
    }
    for (int d = UP; d <= DOWN; d++) {
        if (dir_flush(l, p, d, now) != 0) {
            pair_end(l, p, END_PEER);
            return;
        }
    }
    if (l->cfg.idle_timeout_ns > 0 && now >= p->last_active + l->cfg.idle_timeout_ns) {
        pair_end(l, p, END_IDLE);
        return;
    }
    pair_settle(l, p);
}

/* Handle every pair whose deadline has passed. Each handled pair either ends or gets a
 * deadline after now; the count bound is a guard, not a mechanism. */
static void run_due(struct link *l)
{
    int64_t now = clock_mono_ns();
    size_t guard = timer_heap_size(l->timers);
    uint32_t slot;
    int64_t due;
    while (guard-- > 0 && timer_heap_pop_due(l->timers, now, &slot, &due)) {
        struct pair *p = l->pairs[slot];
        if (p)
            on_pair_due(l, p, now);
    }
}

/* Arm the timerfd for the earliest deadline (or disarm it). 0, or -1 (errno). */
static int arm_timer(struct link *l)
{
    uint32_t slot;
    int64_t due = 0;
    if (!timer_heap_peek(l->timers, &slot, &due))
        due = 0;
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

static void free_dead(struct link *l)
{
    while (l->dead) {
        struct pair *p = l->dead;
        l->dead = p->next_dead;
        free(p);
    }
}

/* ---- the proxy ---------------------------------------------------------------- */

struct link *link_new(const struct link_config *cfg, char *err, size_t errlen)
{
    struct link *ret = NULL;
    struct link *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "calloc: %s", strerror(errno));
        goto out;
    }
    l->cfg = *cfg;
    if (l->cfg.max_connections == 0)
        l->cfg.max_connections = 1;
    l->ep = l->lfd = l->tfd = -1;
    l->listen_kind = WATCH_LISTEN;
    l->timer_kind = WATCH_TIMER;
    l->stop_kind = WATCH_STOP;
    rng_seed(&l->rng, cfg->seed);
    uint32_t max = l->cfg.max_connections;
    l->pairs = calloc(max, sizeof(*l->pairs));
    l->free_slots = malloc(max * sizeof(*l->free_slots));
    l->timers = timer_heap_new(max);
    if (!l->pairs || !l->free_slots || !l->timers) {
        snprintf(err, errlen, "malloc: %s", strerror(ENOMEM));
        goto out;
    }
    for (uint32_t i = 0; i < max; i++)
        l->free_slots[i] = max - 1 - i; /* slot 0 is handed out first */
    l->nfree = max;

    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
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
    char addr[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &cfg->listen.sin_addr, addr, sizeof(addr));
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
            enum watch *w = evs[i].data.ptr;
            switch (*w) {
            case WATCH_LISTEN:
                on_accept(l);
                break;
            case WATCH_TIMER: {
                uint64_t expirations;
                if (read(l->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                    fprintf(stderr, "pushpull-link: read timerfd: %s\n", strerror(errno));
                l->armed_ns = 0; /* one-shot: it has fired */
                break;
            }
            case WATCH_STOP:
                stopping = 1;
                break;
            case WATCH_END:
                on_end_event(l, (struct end *)w, evs[i].events);
                break;
            }
        }
        run_due(l);
        free_dead(l);
        if (arm_timer(l) != 0) {
            snprintf(err, errlen, "timerfd_settime: %s", strerror(errno));
            rc = -1;
            break;
        }
    }
    (void)epoll_ctl(l->ep, EPOLL_CTL_DEL, stop_fd, NULL);
    for (uint32_t s = 0; s < l->cfg.max_connections; s++) {
        if (l->pairs[s])
            pair_end(l, l->pairs[s], END_SHUTDOWN);
    }
    free_dead(l);
    return rc;
}

void link_counters_get(const struct link *l, struct link_counters *out)
{
    *out = l->c;
}

void link_free(struct link *l)
{
    if (!l)
        return;
    for (uint32_t s = 0; l->pairs && s < l->cfg.max_connections; s++) {
        if (l->pairs[s])
            pair_end(l, l->pairs[s], END_SHUTDOWN);
    }
    free_dead(l);
    if (l->lfd >= 0)
        close(l->lfd);
    if (l->tfd >= 0)
        close(l->tfd);
    if (l->ep >= 0)
        close(l->ep);
    timer_heap_free(l->timers);
    free(l->free_slots);
    free(l->pairs);
    free(l);
}
