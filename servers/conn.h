/* conn.h: the server's open connections: what it keeps per socket, and the deadlines a
 * connection that is not parked is held to.
 *
 * Each accepted socket gets a struct conn_state (libmicrohttpd's socket context) on the
 * list of open connections, from accept to close. Besides the kernel byte counts at the
 * last request boundary (request.c does the accounting), it records where the connection
 * stands in its request cycle, so that the sweeper thread (conns_sweep, about once a
 * second) can close the ones that hold a socket without doing their part:
 *
 *   - a new connection must deliver its first request (line, headers and body) within
 *     the request timeout of its accept: a silent socket, or one that sends a header
 *     byte a second (slowloris), is closed then;
 *   - once its request line is in, a request must be whole within the request timeout
 *     of it: a body shorter than its Content-Length, or one trickled in, is closed then;
 *   - between requests, a keep-alive connection may stay silent for the idle timeout.
 *
 * A request that is whole (being answered, parked on the feed as a held long poll or an
 * idle stream, or writing a stream) is not held to these: parked requests are kept alive
 * by their own deadlines and heartbeats, and a response its client stops reading is
 * given up by libmicrohttpd's own timeout (server.c). A connection is closed by shutting
 * its socket down: libmicrohttpd's next read sees the end and closes it the ordinary way.
 * There is no answer (RFC 9110 allows a 408 here; libmicrohttpd 0.9.75 gives an
 * application no way to send one on a request it has not finished reading).
 *
 * Threads: libmicrohttpd's threads open, close and advance connections; the sweeper walks
 * them. The list is guarded by one mutex; the cycle fields are atomics written by the
 * connection's own thread. libmicrohttpd reports a close before it closes the socket, so
 * a socket on the list is never a reused descriptor.
 */
#ifndef PUSHPULL_CONN_H
#define PUSHPULL_CONN_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-socket state, created when the connection is accepted (MHD socket context). */
struct conn_state {
    struct conn_state *prev, *next; /* the open list, guarded by conns.lock */
    int fd;                         /* the socket */
    uint64_t written_mark;          /* kernel bytes written at the last request boundary */
    uint64_t read_mark;             /* kernel bytes read at the last request boundary */
    bool acct_ok;                   /* the kernel counters could be read */
    uint64_t parsed;   /* kernel bytes read that libmicrohttpd is known to have parsed (the
                          read count at accept plus the heads and bodies of the requests
                          accounted so far): a floor under the read count (request.c) */
    bool next_waiting; /* the last reading found bytes waiting to be read */
    int64_t accepted_ns;              /* CLOCK_MONOTONIC at accept */
    atomic_int_least64_t boundary_ns; /* accept, or when the last request ended */
    atomic_int_least64_t line_ns;     /* when this request's line arrived, 0 before */
    atomic_bool receiving; /* the current request is not whole yet (or not begun) */
    atomic_bool served;    /* a request has ended on this connection */
    bool cut;              /* conns_sweep shut the socket down (guarded by the lock) */
    int64_t gone_seen;     /* boundary_ns when a sweep last saw its peer gone with
                              nothing unread, or 0 (guarded by the lock) */
    void *request;         /* the request in progress (struct request), or NULL */
};

/* The open connections and their deadlines. Embedded in struct server. */
struct conns {
    pthread_mutex_t lock;             /* guards the list, conn_state.cut and the scratch */
    struct conn_state *head;          /* the open list */
    size_t count;                     /* connections on it */
    int64_t request_timeout_ns;       /* see the top of this file */
    int64_t idle_timeout_ns;          /* between requests */
    atomic_uint_least64_t *timed_out; /* the counter conn_count_timeout bumps */
    struct pollfd *pfds;              /* sweep scratch: one per receiving connection */
    struct conn_state **pconn;        /* the connection behind each pfds entry */
    size_t pcap;                      /* entries allocated in both */
};

/* Set up an empty list with these timeouts; timed_out is the /stats counter of
 * connections closed for a deadline (it must outlive conns). */
void conns_init(struct conns *cs, int64_t request_timeout_ns, int64_t idle_timeout_ns,
                atomic_uint_least64_t *timed_out);
/* Release the lock; every connection must have been closed (conn_close). */
void conns_destroy(struct conns *cs);

/* A new connection on socket fd, accepted now: on the list, receiving its first request.
 * NULL when out of memory. Freed by conn_close. */
struct conn_state *conn_open(struct conns *cs, int fd, int64_t now_ns);
/* The connection is closing (libmicrohttpd's close notice): off the list, freed. */
void conn_close(struct conns *cs, struct conn_state *c);

/* The current request's line has arrived (libmicrohttpd's URI callback). */
void conn_request_line(struct conn_state *c, int64_t now_ns);
/* The current request is whole: it is being answered, or parked. */
void conn_request_whole(struct conn_state *c);
/* The current request is over; the connection waits for its next one. */
void conn_request_ended(struct conn_state *c, int64_t now_ns);

/* Close (shut down) every connection past its deadline, and every receiving one whose
 * peer has closed its side with nothing left unread: libmicrohttpd 0.9.75 can miss that
 * end of stream (see reply_queue in reply.c), and the request can never be completed.
 * Returns how many were past their deadline (counted as timeouts). */
size_t conns_sweep(struct conns *cs, int64_t now_ns);
/* Count one connection closed for a deadline: the one place timed_out moves (the sweeper
 * and libmicrohttpd's own timeout both report here). */
void conn_count_timeout(struct conns *cs);

#endif
