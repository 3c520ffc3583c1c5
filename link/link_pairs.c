/* link_pairs.c: every connection pair the link emulator carries: their slots, how one
 * is opened, which of its events and deadlines go where (see link_pairs.h; link_pump.c
 * is the state machine of one pair, link.c says what the link imitates).
 *
 * Opening a pair: a free slot (else the client is reset and counted as refused), two
 * shapers seeded from the link's rng, the injected reset drawn at once (--drop-every,
 * or one exponential draw for --drop-rate), and a non-blocking connect to the upstream.
 * A client from off loopback never reaches a loopback upstream from loopback: its
 * upstream socket is bound first (upstream_bind_source; link.c says why).
 *
 * Deadlines: each pair has one in a timer_heap (link_pump.c sets it); when it passes,
 * pair_due injects the reset, releases what is due, sends a reset that a receiver did
 * not take in time, or cuts the pair idle (--idle-timeout). Pairs that end go to a dead
 * list and are freed by link_pairs_reap after the loop's batch of events, so a later
 * event of the same batch never touches freed memory.
 */
#include "link/link_pairs.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "link/link_pump.h"

/* ---- sockets ---------------------------------------------------------------- */

static void set_nodelay(int fd)
{
    int one = 1;
    /* The shaper decides when bytes leave; Nagle must not hold them a second time. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
 * socket. So a client reaches a loopback upstream from the address it reached this host
 * at: one from off loopback from that (off loopback too: another host cannot reach
 * 127.0.0.0/8 here), and one that came in at another loopback address than 127.0.0.1
 * (the demo's 127.0.0.2 door) from that address, which a server given --local-peer
 * 127.0.0.1 keeps out as it would another host. The server then treats the client as it
 * would treat it directly, less its own address: passing that on would take
 * IP_TRANSPARENT (root) or a PROXY header the server does not read. 0, or -1 (errno) when
 * there is no such address to use: a client from off loopback that reached a loopback
 * address (only with net.ipv4.conf.*.route_localnet). */
static int upstream_bind_source(const struct link_pairs *t, int cfd,
                                const struct sockaddr_in *peer, int sfd)
{
    if (!link_addr_is_loopback(t->cfg->upstream.sin_addr))
        return 0; /* the kernel's choice is right off loopback */
    struct sockaddr_in here;
    socklen_t len = sizeof(here);
    if (getsockname(cfd, (struct sockaddr *)&here, &len) != 0)
        return -1;
    bool here_loopback = here.sin_family == AF_INET && link_addr_is_loopback(here.sin_addr);
    if (link_addr_is_loopback(peer->sin_addr)) {
        if (!here_loopback || here.sin_addr.s_addr == htonl(INADDR_LOOPBACK))
            return 0; /* the kernel connects from 127.0.0.1, as the client came */
    } else if (here_loopback || here.sin_family != AF_INET) {
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
        link_pump_close_with_reset(cfd);
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
    link_shaper_init(&p->dirs[LINK_UP].q, &up);
    link_shaper_init(&p->dirs[LINK_DOWN].q, &down);
    p->drop_at = pair_drop_at(t, now);
    p->dirs[LINK_UP].reset_at = p->dirs[LINK_DOWN].reset_at = INT64_MAX;
    p->last_active = now;
    for (int side = LINK_CLIENT; side <= LINK_SERVER; side++) {
        p->ends[side].kind = LINK_WATCH_END;
        p->ends[side].pair = p;
    }
    p->ends[LINK_CLIENT].fd = cfd;
    set_nodelay(cfd);

    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    p->ends[LINK_SERVER].fd = sfd;
    if (sfd < 0) {
        link_pump_end(t, p, LINK_END_UPSTREAM);
        return 0;
    }
    set_nodelay(sfd);
    if (upstream_bind_source(t, cfd, peer, sfd) != 0) {
        link_pump_end(t, p, LINK_END_UPSTREAM);
        return 0;
    }
    const struct sockaddr_in *to = &t->cfg->upstream;
    if (connect(sfd, (const struct sockaddr *)to, sizeof(*to)) == 0)
        p->connecting = 0;
    else if (errno == EINPROGRESS)
        p->connecting = 1;
    else {
        link_pump_end(t, p, LINK_END_UPSTREAM);
        return 0;
    }
    link_pump_settle(t, p);
    return 0;
}

/* ---- events ----------------------------------------------------------------- */

void link_pairs_event(struct link_pairs *t, struct link_end *e, uint32_t events)
{
    struct link_pair *p = e->pair;
    if (p->dead)
        return;
    int side = e == &p->ends[LINK_SERVER] ? LINK_SERVER : LINK_CLIENT;
    int64_t now = clock_mono_ns();
    if (side == LINK_SERVER && p->connecting) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
            (soerr != 0 && soerr != ECONNRESET && soerr != EPIPE)) {
            link_pump_end(t, p, LINK_END_UPSTREAM);
            return;
        }
        p->connecting = 0;
        if (soerr != 0) { /* connected, and reset at once: what it sent still goes on */
            if (link_pump_failed(t, p, LINK_SERVER, now) == 0)
                link_pump_settle(t, p);
            return;
        }
        if (link_pump_flush(t, p, LINK_UP, now) == 0)
            link_pump_settle(t, p);
        return;
    }
    if (events & EPOLLERR) { /* a reset, or a socket error: read what came first */
        if (link_pump_failed(t, p, side, now) == 0)
            link_pump_settle(t, p);
        return;
    }
    int acted = 0;
    if ((events & (EPOLLIN | EPOLLHUP)) && (e->events & EPOLLIN)) {
        acted = 1;
        if (link_pump_readable(t, p, side, now) != 0)
            return;
    }
    if ((events & EPOLLOUT) && e->fd >= 0) {
        acted = 1;
        if (link_pump_writable(t, p, side, now) != 0)
            return;
    }
    if (!acted) { /* a hang-up nobody is listening for: the socket is finished */
        if (link_pump_failed(t, p, side, now) == 0)
            link_pump_settle(t, p);
        return;
    }
    link_pump_settle(t, p);
}

/* A pair's deadline came: an injected reset, a release, or an idle cut. */
static void pair_due(struct link_pairs *t, struct link_pair *p, int64_t now)
{
    if (now >= p->drop_at) {
        link_pump_end(t, p, LINK_END_INJECTED);
        return;
    }
    for (int d = LINK_UP; d <= LINK_DOWN; d++) {
        if (link_pump_flush(t, p, d, now) != 0)
            return;
    }
    for (int d = LINK_UP; d <= LINK_DOWN; d++) {
        if (now >= p->dirs[d].reset_at) { /* its receiver did not take every byte */
            link_pump_end(t, p, LINK_END_PEER);
            return;
        }
    }
    int64_t idle_ns = t->cfg->idle_timeout_ns;
    if (idle_ns > 0 && now >= p->last_active + idle_ns) {
        link_pump_end(t, p, LINK_END_IDLE);
        return;
    }
    link_pump_settle(t, p);
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
            link_pump_end(t, t->slots[s], LINK_END_SHUTDOWN);
    }
}
