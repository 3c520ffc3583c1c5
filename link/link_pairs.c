/* link_pairs.c: the link emulator's connection pairs and the state machine that pumps
 * bytes and FINs through them (see link_pairs.h; link.c says what the link imitates).
 *
 * A pair is a client socket and an upstream socket, with one direction of bytes reading
 * each: up reads the client and writes the server, down the reverse. A direction pushes
 * what it reads into its link_shaper and writes what the shaper releases; a FIN read
 * from a sender is passed on with shutdown(SHUT_WR) once the bytes ahead of it have been
 * delivered, and the pair ends normally when both FINs have been passed on. A reset (or
 * any error) on one socket travels the same way: what that side sent before it still
 * goes on, and a RST follows the last of it where a FIN would, one delay later, as on a
 * real path (side_failed); what was on its way to the failed side is lost. Out of memory,
 * the pair ends with RST to both sides at once.
 *
 * Interest in each socket is recomputed after every event from the pair's state (read
 * unless that direction's queue takes --queue bytes of memory, its segments' overhead
 * included, or the sender sent FIN; write only while the kernel's send buffer is full),
 * and a socket with no interest leaves the epoll set, so nothing can spin. Each pair has
 * one deadline in a timer_heap, the earliest of: its next release in either direction, its
 * injected reset (--drop-every, or one exponential draw at accept for --drop-rate), its
 * idle cut (--idle-timeout). Pairs that end go to a dead list and are freed by
 * link_pairs_reap after the loop's batch of events, so a later event of the same batch
 * never touches freed memory.
 *
 * A client from off loopback never reaches a loopback upstream from loopback: its
 * upstream socket is bound first (upstream_bind_source; link.c says why).
 *
 * Bytes are counted at one place each: read in dir_read, forwarded in dir_flush,
 * discarded in pair_end (read minus forwarded, whatever the reason the pair ended).
 */
#include "link/link_pairs.h"

#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

#define READ_BUDGET (256 * 1024) /* bytes read from one socket per event, for fairness */

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

/* One socket of a pair. */
struct link_end {
    enum link_watch kind; /* LINK_WATCH_END; first, so an epoll pointer can be told apart */
    struct link_pair *pair; /* the pair this socket belongs to */
    int fd;                 /* the socket; -1 once closed */
    uint32_t events;        /* epoll interest registered now; 0: not in the epoll set */
    int eof;                /* reading returned 0: the peer sent its FIN */
    int shut;               /* we passed a FIN on to it (shutdown SHUT_WR) */
};

/* One direction of a pair. */
struct dir {
    struct link_shaper q; /* bytes on their way, owned here */
    int blocked;          /* the receiver's send buffer was full: waiting for EPOLLOUT */
    int reset_after;      /* the sender reset: a RST, not a FIN, follows its last byte */
    int64_t reset_at;     /* then: when the RST reaches the receiver, whether or not the
                             bytes ahead of it could be written (INT64_MAX: no reset) */
    uint64_t bytes_in;    /* read from the sender */
    uint64_t bytes_out;   /* written to the receiver */
};

/* A client connection and its upstream connection. Allocated by link_pairs_open, freed by
 * link_pairs_reap after pair_end ran. */
struct link_pair {
    uint32_t slot;               /* index in link_pairs.slots, and id in its timers */
    struct link_end ends[2];     /* [CLIENT], [SERVER] */
    struct dir dirs[2];          /* [UP], [DOWN] */
    int connecting;              /* the upstream connect is still under way */
    int64_t drop_at;             /* injected reset, INT64_MAX: none */
    int64_t last_active;         /* when a byte was last read or written either way */
    int dead;                    /* ended: skip its events, free it at the next reap */
    struct link_pair *next_dead; /* link_pairs.dead list */
};

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

/* ---- the table ---------------------------------------------------------------- */

int link_pairs_init(struct link_pairs *t, const struct link_config *cfg, int ep)
{
    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->ep = ep;
    rng_seed(&t->rng, cfg->seed);
    uint32_t max = cfg->max_connections;
    t->slots = calloc(max, sizeof(*t->slots));
    t->free_slots = malloc(max * sizeof(*t->free_slots));
    t->timers = timer_heap_new(max);
    if (!t->slots || !t->free_slots || !t->timers) {
        errno = ENOMEM;
        return -1;
    }
    for (uint32_t i = 0; i < max; i++)
        t->free_slots[i] = max - 1 - i; /* slot 0 is handed out first */
    t->nfree = max;
    return 0;
}

void link_pairs_free(struct link_pairs *t)
{
    if (t->slots)
        link_pairs_end_all(t);
    (void)link_pairs_reap(t);
    timer_heap_free(t->timers);
    free(t->free_slots);
    free(t->slots);
    t->timers = NULL;
    t->free_slots = NULL;
    t->slots = NULL;
}

size_t link_pairs_reap(struct link_pairs *t)
{
    size_t n = 0;
    while (t->dead) {
        struct link_pair *p = t->dead;
        t->dead = p->next_dead;
        free(p);
        n++;
    }
    return n;
}

int64_t link_pairs_next_due(const struct link_pairs *t)
{
    uint32_t slot;
    int64_t due = 0;
    if (!timer_heap_peek(t->timers, &slot, &due))
        due = 0;
    return due;
}

/* ---- pairs ------------------------------------------------------------------ */

/* The direction that writes to side s's socket. */
static struct dir *dir_into(struct link_pair *p, int side)
{
    return &p->dirs[!side];
}

/* Direction d may write now: its receiver is connected, not full, not shut. */
static int dir_writable(const struct link_pair *p, int d)
{
    const struct link_end *dst = &p->ends[!d];
    if (d == UP && p->connecting)
        return 0;
    return !p->dirs[d].blocked && !dst->shut && dst->fd >= 0;
}

/* The epoll interest side s's socket should have, from the pair's state. */
static uint32_t end_wanted(const struct link_pairs *t, const struct link_pair *p, int side)
{
    const struct link_end *e = &p->ends[side];
    if (side == SERVER && p->connecting)
        return EPOLLOUT;
    uint32_t ev = 0;
    if (!e->eof && link_shaper_memory(&p->dirs[side].q) < t->cfg->queue_bytes)
        ev |= EPOLLIN;
    if (p->dirs[!side].blocked)
        ev |= EPOLLOUT;
    return ev;
}

/* Bring side s's registration in line with end_wanted. 0, or -1 (errno) from epoll_ctl. */
static int end_update(struct link_pairs *t, struct link_pair *p, int side)
{
    struct link_end *e = &p->ends[side];
    if (e->fd < 0) /* that side failed and is closed (side_failed) */
        return 0;
    uint32_t want = end_wanted(t, p, side);
    if (want == e->events)
        return 0;
    struct epoll_event ev = {.events = want, .data.ptr = e};
    int op = e->events == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(t->ep, op, e->fd, &ev) != 0)
        return -1;
    e->events = want;
    return 0;
}

/* Give the pair its earliest deadline in the timer heap, or none. */
static void pair_schedule(struct link_pairs *t, struct link_pair *p)
{
    int64_t due = p->drop_at;
    int64_t idle_ns = t->cfg->idle_timeout_ns;
    if (idle_ns > 0 && p->last_active + idle_ns < due)
        due = p->last_active + idle_ns;
    for (int d = UP; d <= DOWN; d++) {
        int64_t next = link_shaper_next_ns(&p->dirs[d].q);
        if (dir_writable(p, d) && next < due)
            due = next;
        if (p->dirs[d].reset_at < due)
            due = p->dirs[d].reset_at;
    }
    if (due == INT64_MAX)
        timer_heap_clear(t->timers, p->slot);
    else
        timer_heap_set(t->timers, p->slot, due);
}

/* End the pair: close both sockets (with RST for resets), count why, drop what was
 * still queued, and hand the memory to the dead list (freed by link_pairs_reap).
 *
 * Discarded is counted as read minus written, not as what the shaper still holds: the
 * two agree, except that the shaper's count misses the bytes a push loses when memory
 * runs out, and in = forwarded + discarded must hold even then. */
static void pair_end(struct link_pairs *t, struct link_pair *p, enum end_reason why)
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
        t->c.resets_injected++;
        break;
    case END_IDLE:
        t->c.idle_cuts++;
        break;
    case END_PEER:
        t->c.peer_resets++;
        break;
    case END_UPSTREAM:
        t->c.upstream_failed++;
        break;
    case END_NORMAL:
    case END_SHUTDOWN:
        break;
    }
    t->c.closed++;
    for (int d = UP; d <= DOWN; d++) {
        struct dir *dir = &p->dirs[d];
        uint64_t lost = dir->bytes_in - dir->bytes_out;
        (void)link_shaper_free(&dir->q);
        if (d == UP) /* the one place bytes discarded are counted */
            t->c.bytes_discarded_up += lost;
        else
            t->c.bytes_discarded_down += lost;
        t->c.bytes_discarded += lost;
    }
    timer_heap_clear(t->timers, p->slot);
    t->slots[p->slot] = NULL;
    t->free_slots[t->nfree++] = p->slot;
    t->open--;
    p->dead = 1;
    p->next_dead = t->dead;
    t->dead = p;
}

/* What dir_flush found. */
enum flush {
    FLUSH_OK,              /* wrote what was due, or could not yet */
    FLUSH_RECEIVER_FAILED, /* a write to the receiver failed: it reset, or is gone */
    FLUSH_RESET_DUE        /* the sender reset, and its last byte has gone: reset now */
};

/* Write what direction d may send by now; pass its FIN on when that is due too. */
static enum flush dir_flush(struct link_pairs *t, struct link_pair *p, int d, int64_t now)
{
    struct dir *dir = &p->dirs[d];
    struct link_end *dst = &p->ends[!d];
    if (!dir_writable(p, d))
        return FLUSH_OK;
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
            return FLUSH_OK;
        }
        if (w < 0)
            return FLUSH_RECEIVER_FAILED;
        if (d == UP) /* the one place bytes delivered are counted */
            t->c.bytes_up += (uint64_t)w;
        else
            t->c.bytes_down += (uint64_t)w;
        dir->bytes_out += (uint64_t)w;
        link_shaper_consume(&dir->q, (size_t)w);
        p->last_active = now;
    }
    if (link_shaper_take_fin(&dir->q, now)) {
        if (dir->reset_after)
            return FLUSH_RESET_DUE;
        if (shutdown(dst->fd, SHUT_WR) != 0)
            return FLUSH_RECEIVER_FAILED;
        dst->shut = 1;
    }
    return FLUSH_OK;
}

/* What dir_read found. */
enum readres {
    READ_OK,            /* read what there was, or what the queue and the budget allow */
    READ_SENDER_FAILED, /* reading failed: the sender reset (what came before is kept) */
    READ_NO_MEMORY      /* the shaper could not take the bytes */
};

/* Read what side d's socket has (within the queue cap and the budget) into direction d. */
static enum readres dir_read(struct link_pairs *t, struct link_pair *p, int d, int64_t now)
{
    struct link_end *src = &p->ends[d];
    struct dir *dir = &p->dirs[d];
    size_t budget = READ_BUDGET;
    while (!src->eof && budget > 0 && link_shaper_memory(&dir->q) < t->cfg->queue_bytes) {
        ssize_t n = recv(src->fd, t->buf, sizeof(t->buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            return READ_SENDER_FAILED;
        if (n == 0) {
            src->eof = 1;
            if (link_shaper_close(&dir->q, now) != 0)
                return READ_NO_MEMORY;
            break;
        }
        if (d == UP) /* the one place bytes read are counted */
            t->c.bytes_in_up += (uint64_t)n;
        else
            t->c.bytes_in_down += (uint64_t)n;
        dir->bytes_in += (uint64_t)n;
        if (link_shaper_push(&dir->q, now, t->buf, (size_t)n) != 0)
            return READ_NO_MEMORY;
        p->last_active = now;
        if ((size_t)n < sizeof(t->buf))
            break; /* drained for now: level-triggered epoll says when more comes */
        budget -= (size_t)n < budget ? (size_t)n : budget;
    }
    return READ_OK;
}

/* Side s reset, or failed. As on a real path, what it sent before the reset still
 * reaches the other side, and the reset follows the last of it where a FIN would: read
 * what is left in its socket (what the queue takes), close it, and mark its direction to
 * end with a reset. What was on its way to s is lost with it. 0 while the pair goes on
 * delivering, -1 when it has ended. */
static int side_failed(struct link_pairs *t, struct link_pair *p, int s, int64_t now)
{
    struct link_end *e = &p->ends[s];
    struct dir *from = &p->dirs[s];
    if (e->fd >= 0) {
        enum readres r = dir_read(t, p, s, now); /* ends at the reset's error */
        close(e->fd);                            /* also leaves the epoll set */
        e->fd = -1;
        e->events = 0;
        if (r == READ_NO_MEMORY) {
            pair_end(t, p, END_PEER);
            return -1;
        }
    }
    from->reset_after = 1;
    if (!e->eof) {
        e->eof = 1;
        if (link_shaper_close(&from->q, now) != 0) {
            pair_end(t, p, END_PEER);
            return -1;
        }
    }
    /* A RST is not held back by a receiver that does not read (no window applies to
     * it): it goes at the FIN's time, and bytes still queued then are lost, as bytes
     * behind a zero window are on a real path. */
    from->reset_at = link_shaper_fin_ns(&from->q);
    /* Both sides gone, the reset due now, or a FIN passed on before it: reset now. */
    if (p->ends[!s].fd < 0 || dir_flush(t, p, s, now) != FLUSH_OK || p->ends[!s].shut) {
        pair_end(t, p, END_PEER);
        return -1;
    }
    return 0;
}

/* dir_flush, then what it found asks for. 0 while the pair goes on, -1 when it ended. */
static int dir_pump(struct link_pairs *t, struct link_pair *p, int d, int64_t now)
{
    switch (dir_flush(t, p, d, now)) {
    case FLUSH_OK:
        return 0;
    case FLUSH_RECEIVER_FAILED:
        return side_failed(t, p, !d, now);
    case FLUSH_RESET_DUE:
        pair_end(t, p, END_PEER);
        return -1;
    }
    return 0;
}

/* Read side s's socket into its direction and send what is due. 0 while the pair goes
 * on, -1 when it ended. */
static int side_readable(struct link_pairs *t, struct link_pair *p, int s, int64_t now)
{
    switch (dir_read(t, p, s, now)) {
    case READ_OK:
        return dir_pump(t, p, s, now);
    case READ_SENDER_FAILED:
        return side_failed(t, p, s, now);
    case READ_NO_MEMORY:
        pair_end(t, p, END_PEER);
        return -1;
    }
    return 0;
}

/* After anything happened to a pair: finish it when both FINs have been passed on,
 * else refresh its epoll interest and its deadline. */
static void pair_settle(struct link_pairs *t, struct link_pair *p)
{
    if (p->dead)
        return;
    if (p->ends[CLIENT].shut && p->ends[SERVER].shut) {
        pair_end(t, p, END_NORMAL);
        return;
    }
    if (end_update(t, p, CLIENT) != 0 || end_update(t, p, SERVER) != 0) {
        pair_end(t, p, END_PEER);
        return;
    }
    pair_schedule(t, p);
}

/* When the pair is reset by the network, if ever: --drop-every after accept, or a
 * lifetime drawn for --drop-rate, whichever comes first. INT64_MAX: never. */
static int64_t pair_drop_at(struct link_pairs *t, int64_t now)
{
    int64_t at = INT64_MAX;
    if (t->cfg->drop_every_ns > 0)
        at = now + t->cfg->drop_every_ns;
    if (t->cfg->drop_rate > 0) {
        /* Memoryless: a chance p per second is a rate of -ln(1 - p) per second, so one
         * exponential draw at accept gives the connection's whole lifetime. */
        double per_s = -log1p(-t->cfg->drop_rate);
        double life_ns = rng_exponential(&t->rng, 1.0 / per_s) * 1e9;
        if (life_ns < 9e18 && now + (int64_t)life_ns < at)
            at = now + (int64_t)life_ns;
    }
    return at;
}

/* The server tells loopback peers from the rest by their address (only they may use
 * /publish, /control and /drop), and the address it sees is that of the link's upstream
 * socket. So a client from off loopback must not reach a loopback upstream from
 * loopback: its upstream socket is bound to the address the client reached this host
 * at, which is off loopback as well (another host cannot reach 127.0.0.0/8 here). The
 * server then treats the client as it would treat it directly, less its own address:
 * passing that on would take IP_TRANSPARENT (root) or a PROXY header the server does not
 * read. 0, or -1 (errno) when there is no such address to use: a client from off
 * loopback that reached a loopback address (only with net.ipv4.conf.*.route_localnet). */
static int upstream_bind_source(const struct link_pairs *t, int cfd,
                                const struct sockaddr_in *peer, int sfd)
{
    if (link_addr_is_loopback(peer->sin_addr) ||
        !link_addr_is_loopback(t->cfg->upstream.sin_addr))
        return 0; /* the kernel's choice is right: loopback only for a loopback client */
    struct sockaddr_in here;
    socklen_t len = sizeof(here);
    if (getsockname(cfd, (struct sockaddr *)&here, &len) != 0)
        return -1;
    if (here.sin_family != AF_INET || link_addr_is_loopback(here.sin_addr)) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    here.sin_port = 0;
    int one = 1; /* the port is chosen at connect, so ports are shared as without bind */
    (void)setsockopt(sfd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    return bind(sfd, (const struct sockaddr *)&here, sizeof(here));
}

int link_pairs_open(struct link_pairs *t, int cfd, const struct sockaddr_in *peer,
                    int64_t now)
{
    struct link_pair *p = t->nfree > 0 ? calloc(1, sizeof(*p)) : NULL;
    if (!p) { /* over --max-connections, or out of memory */
        close_with_reset(cfd);
        t->c.refused++;
        return -1;
    }
    p->slot = t->free_slots[--t->nfree];
    t->slots[p->slot] = p;
    t->open++;
    if (t->open > t->c.open_peak)
        t->c.open_peak = t->open;

    struct link_shaper_config up = t->cfg->up;
    struct link_shaper_config down = t->cfg->down;
    up.seed = rng_next(&t->rng);
    down.seed = rng_next(&t->rng);
    if (t->cfg->handshake)
        up.not_before_ns = now + up.delay_ns + down.delay_ns;
    link_shaper_init(&p->dirs[UP].q, &up);
    link_shaper_init(&p->dirs[DOWN].q, &down);
    p->drop_at = pair_drop_at(t, now);
    p->dirs[UP].reset_at = p->dirs[DOWN].reset_at = INT64_MAX;
    p->last_active = now;
    for (int side = CLIENT; side <= SERVER; side++) {
        p->ends[side].kind = LINK_WATCH_END;
        p->ends[side].pair = p;
    }
    p->ends[CLIENT].fd = cfd;
    set_nodelay(cfd);

    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    p->ends[SERVER].fd = sfd;
    if (sfd < 0) {
        pair_end(t, p, END_UPSTREAM);
        return 0;
    }
    set_nodelay(sfd);
    if (upstream_bind_source(t, cfd, peer, sfd) != 0) {
        pair_end(t, p, END_UPSTREAM);
        return 0;
    }
    const struct sockaddr_in *to = &t->cfg->upstream;
    if (connect(sfd, (const struct sockaddr *)to, sizeof(*to)) == 0)
        p->connecting = 0;
    else if (errno == EINPROGRESS)
        p->connecting = 1;
    else {
        pair_end(t, p, END_UPSTREAM);
        return 0;
    }
    pair_settle(t, p);
    return 0;
}

/* ---- events ----------------------------------------------------------------- */

void link_pairs_event(struct link_pairs *t, struct link_end *e, uint32_t events)
{
    struct link_pair *p = e->pair;
    if (p->dead)
        return;
    int side = e == &p->ends[SERVER] ? SERVER : CLIENT;
    int64_t now = clock_mono_ns();
    if (side == SERVER && p->connecting) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
            (soerr != 0 && soerr != ECONNRESET && soerr != EPIPE)) {
            pair_end(t, p, END_UPSTREAM);
            return;
        }
        p->connecting = 0;
        if (soerr != 0) { /* connected, and reset at once: what it sent still goes on */
            if (side_failed(t, p, SERVER, now) == 0)
                pair_settle(t, p);
            return;
        }
        if (dir_pump(t, p, UP, now) == 0)
            pair_settle(t, p);
        return;
    }
    if (events & EPOLLERR) { /* a reset, or a socket error: read what came first */
        if (side_failed(t, p, side, now) == 0)
            pair_settle(t, p);
        return;
    }
    int acted = 0;
    if ((events & (EPOLLIN | EPOLLHUP)) && (e->events & EPOLLIN)) {
        acted = 1;
        if (side_readable(t, p, side, now) != 0)
            return;
    }
    if ((events & EPOLLOUT) && e->fd >= 0) {
        acted = 1;
        dir_into(p, side)->blocked = 0;
        if (dir_pump(t, p, !side, now) != 0)
            return;
    }
    if (!acted) { /* a hang-up nobody is listening for: the socket is finished */
        if (side_failed(t, p, side, now) == 0)
            pair_settle(t, p);
        return;
    }
    pair_settle(t, p);
}

/* A pair's deadline came: an injected reset, a release, or an idle cut. */
static void pair_due(struct link_pairs *t, struct link_pair *p, int64_t now)
{
    if (now >= p->drop_at) {
        pair_end(t, p, END_INJECTED);
        return;
    }
    for (int d = UP; d <= DOWN; d++) {
        if (dir_pump(t, p, d, now) != 0)
            return;
    }
    for (int d = UP; d <= DOWN; d++) {
        if (now >= p->dirs[d].reset_at) { /* its receiver did not take every byte */
            pair_end(t, p, END_PEER);
            return;
        }
    }
    int64_t idle_ns = t->cfg->idle_timeout_ns;
    if (idle_ns > 0 && now >= p->last_active + idle_ns) {
        pair_end(t, p, END_IDLE);
        return;
    }
    pair_settle(t, p);
}

/* Each handled pair either ends or gets a deadline after now; the count bound is a
 * guard, not a mechanism. */
void link_pairs_run_due(struct link_pairs *t, int64_t now)
{
    size_t guard = timer_heap_size(t->timers);
    uint32_t slot;
    int64_t due;
    while (guard-- > 0 && timer_heap_pop_due(t->timers, now, &slot, &due)) {
        struct link_pair *p = t->slots[slot];
        if (p)
            pair_due(t, p, now);
    }
}

void link_pairs_end_all(struct link_pairs *t)
{
    for (uint32_t s = 0; s < t->cfg->max_connections; s++) {
        if (t->slots[s])
            pair_end(t, t->slots[s], END_SHUTDOWN);
    }
}
