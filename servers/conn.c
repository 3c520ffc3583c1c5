/* conn.c: the list of open connections and the deadlines the sweeper holds them to (see
 * conn.h).
 *
 * A sweep is a walk of the whole list under its lock, comparing three stamps per
 * connection with the clock: no system call unless a connection is due, so ten thousand
 * held streams cost a few microseconds a second. The deadline a receiving connection is
 * held to:
 *
 *     request line in       line_ns + request timeout
 *     nothing served yet    accepted_ns + request timeout
 *     otherwise (idle)      boundary_ns + idle timeout
 */
#include "conn.h"

#include <linux/sockios.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

void conns_init(struct conns *cs, int64_t request_timeout_ns, int64_t idle_timeout_ns,
                atomic_uint_least64_t *timed_out)
{
    pthread_mutex_init(&cs->lock, NULL);
    cs->head = NULL;
    cs->request_timeout_ns = request_timeout_ns;
    cs->idle_timeout_ns = idle_timeout_ns;
    cs->timed_out = timed_out;
}

void conns_destroy(struct conns *cs)
{
    free(cs->pfds);
    free(cs->pconn);
    pthread_mutex_destroy(&cs->lock);
}

struct conn_state *conn_open(struct conns *cs, int fd, int64_t now_ns)
{
    struct conn_state *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->accepted_ns = now_ns;
    atomic_store(&c->boundary_ns, now_ns);
    atomic_store(&c->receiving, true);
    pthread_mutex_lock(&cs->lock);
    c->next = cs->head;
    if (cs->head)
        cs->head->prev = c;
    cs->head = c;
    cs->count++;
    pthread_mutex_unlock(&cs->lock);
    return c;
}

void conn_close(struct conns *cs, struct conn_state *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cs->count--;
    pthread_mutex_unlock(&cs->lock);
    free(c);
}

void conn_request_line(struct conn_state *c, int64_t now_ns)
{
    atomic_store(&c->line_ns, now_ns);
}

void conn_request_whole(struct conn_state *c)
{
    atomic_store(&c->receiving, false);
}

void conn_request_ended(struct conn_state *c, int64_t now_ns)
{
    atomic_store(&c->line_ns, 0);
    atomic_store(&c->boundary_ns, now_ns);
    atomic_store(&c->served, true);
    atomic_store(&c->receiving, true);
}

void conn_count_timeout(struct conns *cs)
{
    atomic_fetch_add(cs->timed_out, 1);
}

/* The deadline of a connection that is receiving (see the top). */
static int64_t deadline_of(const struct conns *cs, struct conn_state *c)
{
    int64_t line = atomic_load(&c->line_ns);
    if (line != 0)
        return line + cs->request_timeout_ns;
    if (!atomic_load(&c->served))
        return c->accepted_ns + cs->request_timeout_ns;
    return atomic_load(&c->boundary_ns) + cs->idle_timeout_ns;
}

/* Make room for n entries in the sweep scratch. Lock held. */
static int reserve_locked(struct conns *cs, size_t n)
{
    if (n <= cs->pcap)
        return 0;
    struct pollfd *p = realloc(cs->pfds, n * sizeof(*p));
    if (!p)
        return -1;
    cs->pfds = p;
    struct conn_state **c = realloc(cs->pconn, n * sizeof(*c));
    if (!c)
        return -1;
    cs->pconn = c;
    cs->pcap = n;
    return 0;
}

/* Shut the connection down: libmicrohttpd's next read on it sees the end and closes it as
 * it would any connection its peer closed; the descriptor is valid until conn_close. */
static void cut_locked(struct conn_state *c)
{
    shutdown(c->fd, SHUT_RDWR);
    c->cut = true;
}

size_t conns_sweep(struct conns *cs, int64_t now_ns)
{
    size_t n = 0, watched = 0;
    pthread_mutex_lock(&cs->lock);
    bool watch = reserve_locked(cs, cs->count) == 0;
    for (struct conn_state *c = cs->head; c; c = c->next) {
        if (c->cut || !atomic_load(&c->receiving))
            continue;
        if (now_ns >= deadline_of(cs, c)) {
            cut_locked(c);
            conn_count_timeout(cs);
            n++;
        } else if (watch && c->fd >= 0) {
            cs->pfds[watched] = (struct pollfd){.fd = c->fd, .events = POLLRDHUP};
            cs->pconn[watched++] = c;
        }
    }
    /* One poll() over the receiving sockets tells whose peer has closed its side. One
     * whose peer is gone with nothing left unread is cut at the second sweep that finds
     * it so, still within the same request: by then libmicrohttpd has had all the time it
     * needs to see a whole request in what it read. */
    if (watched > 0 && poll(cs->pfds, watched, 0) > 0) {
        for (size_t i = 0; i < watched; i++) {
            struct conn_state *c = cs->pconn[i];
            int unread = 0;
            if (!(cs->pfds[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
                ioctl(c->fd, SIOCINQ, &unread) != 0 || unread != 0)
                continue;
            int64_t boundary = atomic_load(&c->boundary_ns);
            if (c->gone_seen == boundary)
                cut_locked(c);
            else
                c->gone_seen = boundary;
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return n;
}
