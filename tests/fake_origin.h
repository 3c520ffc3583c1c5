/* fake_origin.h: a tiny scripted HTTP/1.1 origin on 127.0.0.1:0, for tests that point the
 * real client at a "foreign" server whose answers they write themselves.
 *
 * One thread accepts; one thread per connection reads requests (head and Content-Length
 * body, up to 8 KiB) and hands each to the test's serve function, which writes the answer
 * with fake_origin_send and says whether to keep the connection. Everything waits at most
 * 50 ms at a time and looks at the stop flag in between, so fake_origin_stop returns
 * promptly and joins every thread (a connection still held is closed then). At most
 * FAKE_ORIGIN_MAX_CONNS connections are served; later ones are closed at once.
 * Non-static names carry the fake_origin_ prefix (libtestsupport.a).
 */
#ifndef PUSHPULL_FAKE_ORIGIN_H
#define PUSHPULL_FAKE_ORIGIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_ORIGIN_MAX_CONNS 64

struct fake_origin;
/* Answer one request (req: its request line, header lines, blank line and body,
 * NUL-terminated). 0 keeps the connection for its next request, 1 closes it. */
typedef int (*fake_origin_serve)(struct fake_origin *o, int fd, const char *req);

struct fake_origin {
    int lfd;                                /* the listening socket */
    unsigned port;                          /* its port */
    fake_origin_serve serve;                /* the test's answers */
    void *ctx;                              /* the test's own state (borrowed) */
    pthread_mutex_t mu;                     /* guards stop, conns, nconns; the test may
                                               hold it around its own state too */
    bool stop;                              /* the test is over */
    pthread_t accepter;                     /* the accepting thread */
    pthread_t conns[FAKE_ORIGIN_MAX_CONNS]; /* connection threads, joined at the end */
    int nconns;                             /* entries of conns */
};

/* Listen and start serving with serve (ctx for the test). 0, or -1 (o is then unused). */
int fake_origin_start(struct fake_origin *o, fake_origin_serve serve, void *ctx);
/* Stop: every thread joined, every socket closed. */
void fake_origin_stop(struct fake_origin *o);
/* The test is over (for serve functions that hold a connection). */
bool fake_origin_stopping(struct fake_origin *o);
/* Write all of buf to fd; -1 when the peer is gone or the test is over. */
int fake_origin_send(struct fake_origin *o, int fd, const char *buf, size_t len);
/* Hold fd until the test ends or the peer closes (a held stream). Returns 1 (close). */
int fake_origin_hold(struct fake_origin *o, int fd);
/* The value of header name in head (any case), trimmed, into out (NUL-terminated,
 * truncated to outlen - 1); its length before truncation, or -1 when absent. */
long fake_origin_header(const char *head, const char *name, char *out, size_t outlen);

#endif
