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

#include <stdlib.h>
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

size_t conns_sweep(struct conns *cs, int64_t now_ns)
{
    size_t n = 0;
    pthread_mutex_lock(&cs->lock);
    for (struct conn_state *c = cs->head; c; c = c->next) {
        if (c->cut || !atomic_load(&c->receiving) || now_ns < deadline_of(cs, c))
            continue;
        /* libmicrohttpd's next read on it sees the end and closes it as it would any
         * connection its peer closed; the descriptor is valid until conn_close. */
        shutdown(c->fd, SHUT_RDWR);
        c->cut = true;
        conn_count_timeout(cs);
        n++;
    }
    pthread_mutex_unlock(&cs->lock);
    return n;
}
