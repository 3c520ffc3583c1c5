/* link_pump.c: one connection pair's state machine: bytes, FINs and resets from each
 * socket to the other through two link_shapers (see link_pump.h; link.c says what the
 * link imitates).
 *
 * A pair is a client socket and an upstream socket, with one direction of bytes reading
 * each: up reads the client and writes the server, down the reverse. A direction pushes
 * what it reads into its link_shaper and writes what the shaper releases; a FIN read
 * from a sender is passed on with shutdown(SHUT_WR) once the bytes ahead of it have been
 * delivered, and the pair ends normally when both FINs have been passed on. A reset (or
 * any error) on one socket travels the same way: what that side sent before it still
 * goes on, and a RST follows the last of it where a FIN would, one delay later, as on a
 * real path (link_pump_failed); what was on its way to the failed side is lost. Out of
 * memory, the pair ends with RST to both sides at once.
 *
 * Interest in each socket is recomputed after every event from the pair's state (read
 * unless that direction's queue takes --queue bytes of memory, its segments' overhead
 * included, or the sender sent FIN; write only while the kernel's send buffer is full),
 * and a socket with no interest leaves the epoll set, so nothing can spin. Each pair has
 * one deadline in the table's timer_heap, the earliest of: its next release in either
 * direction, a reset that follows its sender's last byte, its injected reset, its idle
 * cut (pair_schedule; link_pairs.c acts on them).
 *
 * Bytes are counted at one place each: read in dir_read, forwarded in dir_flush,
 * discarded in link_pump_end (read minus forwarded, whatever the reason the pair ended).
 */
#include "link/link_pump.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUDGET (256 * 1024) /* bytes read from one socket per event, for fairness */

/* Close with RST instead of FIN: SO_LINGER on with a zero timeout. */
void link_pump_close_with_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* The direction that writes to side s's socket. */
static struct link_dir *dir_into(struct link_pair *p, int side)
{
    return &p->dirs[!side];
}

/* Direction d may write now: its receiver is connected, not full, not shut. */
static int dir_writable(const struct link_pair *p, int d)
{
    const struct link_end *dst = &p->ends[!d];
    if (d == LINK_UP && p->connecting)
        return 0;
    return !p->dirs[d].blocked && !dst->shut && dst->fd >= 0;
}

/* The epoll interest side s's socket should have, from the pair's state. */
static uint32_t end_wanted(const struct link_pairs *t, const struct link_pair *p, int side)
{
    const struct link_end *e = &p->ends[side];
    if (side == LINK_SERVER && p->connecting)
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
    if (e->fd < 0) /* that side failed and is closed (link_pump_failed) */
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
    for (int d = LINK_UP; d <= LINK_DOWN; d++) {
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
void link_pump_end(struct link_pairs *t, struct link_pair *p, enum link_end_reason why)
{
    int reset =
        why == LINK_END_INJECTED || why == LINK_END_PEER || why == LINK_END_UPSTREAM;
    for (int side = LINK_CLIENT; side <= LINK_SERVER; side++) {
        int fd = p->ends[side].fd;
        if (fd < 0)
            continue;
        if (reset && !(why == LINK_END_UPSTREAM && side == LINK_SERVER))
            link_pump_close_with_reset(fd);
        else
            close(fd); /* also leaves the epoll set */
        p->ends[side].fd = -1;
    }
    switch (why) {
    case LINK_END_INJECTED:
        t->c.resets_injected++;
        break;
    case LINK_END_IDLE:
        t->c.idle_cuts++;
        break;
    case LINK_END_PEER:
        t->c.peer_resets++;
        break;
    case LINK_END_UPSTREAM:
        t->c.upstream_failed++;
        break;
    case LINK_END_NORMAL:
    case LINK_END_SHUTDOWN:
        break;
    }
    t->c.closed++;
    for (int d = LINK_UP; d <= LINK_DOWN; d++) {
        struct link_dir *dir = &p->dirs[d];
        uint64_t lost = dir->bytes_in - dir->bytes_out;
        (void)link_shaper_free(&dir->q);
        if (d == LINK_UP) /* the one place bytes discarded are counted */
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
    struct link_dir *dir = &p->dirs[d];
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
        if (d == LINK_UP) /* the one place bytes delivered are counted */
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
    struct link_dir *dir = &p->dirs[d];
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
        if (d == LINK_UP) /* the one place bytes read are counted */
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
int link_pump_failed(struct link_pairs *t, struct link_pair *p, int s, int64_t now)
{
    struct link_end *e = &p->ends[s];
    struct link_dir *from = &p->dirs[s];
    if (e->fd >= 0) {
        enum readres r = dir_read(t, p, s, now); /* ends at the reset's error */
        close(e->fd);                            /* also leaves the epoll set */
        e->fd = -1;
        e->events = 0;
        if (r == READ_NO_MEMORY) {
            link_pump_end(t, p, LINK_END_PEER);
            return -1;
        }
    }
    from->reset_after = 1;
    if (!e->eof) {
        e->eof = 1;
        if (link_shaper_close(&from->q, now) != 0) {
            link_pump_end(t, p, LINK_END_PEER);
            return -1;
        }
    }
    /* A RST is not held back by a receiver that does not read (no window applies to
     * it): it goes at the FIN's time, and bytes still queued then are lost, as bytes
     * behind a zero window are on a real path. */
    from->reset_at = link_shaper_fin_ns(&from->q);
    /* Both sides gone, the reset due now, or a FIN passed on before it: reset now. */
    if (p->ends[!s].fd < 0 || dir_flush(t, p, s, now) != FLUSH_OK || p->ends[!s].shut) {
        link_pump_end(t, p, LINK_END_PEER);
        return -1;
    }
    return 0;
}

/* dir_flush, then what it found asks for. 0 while the pair goes on, -1 when it ended. */
int link_pump_flush(struct link_pairs *t, struct link_pair *p, int d, int64_t now)
{
    switch (dir_flush(t, p, d, now)) {
    case FLUSH_OK:
        return 0;
    case FLUSH_RECEIVER_FAILED:
        return link_pump_failed(t, p, !d, now);
    case FLUSH_RESET_DUE:
        link_pump_end(t, p, LINK_END_PEER);
        return -1;
    }
    return 0;
}

/* Read side s's socket into its direction and send what is due. 0 while the pair goes
 * on, -1 when it ended. */
int link_pump_readable(struct link_pairs *t, struct link_pair *p, int s, int64_t now)
{
    switch (dir_read(t, p, s, now)) {
    case READ_OK:
        return link_pump_flush(t, p, s, now);
    case READ_SENDER_FAILED:
        return link_pump_failed(t, p, s, now);
    case READ_NO_MEMORY:
        link_pump_end(t, p, LINK_END_PEER);
        return -1;
    }
    return 0;
}

/* After anything happened to a pair: finish it when both FINs have been passed on,
 * else refresh its epoll interest and its deadline. */
void link_pump_settle(struct link_pairs *t, struct link_pair *p)
{
    if (p->dead)
        return;
    if (p->ends[LINK_CLIENT].shut && p->ends[LINK_SERVER].shut) {
        link_pump_end(t, p, LINK_END_NORMAL);
        return;
    }
    if (end_update(t, p, LINK_CLIENT) != 0 || end_update(t, p, LINK_SERVER) != 0) {
        link_pump_end(t, p, LINK_END_PEER);
        return;
    }
    pair_schedule(t, p);
}

/* Side s's socket takes writes again: what waits for it goes on. */
int link_pump_writable(struct link_pairs *t, struct link_pair *p, int s, int64_t now)
{
    dir_into(p, s)->blocked = 0;
    return link_pump_flush(t, p, !s, now);
}
