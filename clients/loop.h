/* loop.h: the client's one event loop: epoll drives libcurl's multi socket API and the
 * sockets the client runs itself, and a timer heap holds every user's next action.
 *
 * No thread per user: libcurl tells the loop which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when it next needs the time (CURLMOPT_TIMERFUNCTION); the
 * loop waits in epoll_wait for whichever comes first of a socket event, libcurl's timeout,
 * the earliest user deadline, or the caller's stop time. This is wrk's design (one loop per
 * thread, per-connection state in one struct) with libcurl doing the HTTP.
 *
 * Own sockets: a transport that speaks its protocol itself (the WebSocket: libcurl 7.88
 * has none) puts its socket in the same epoll set with loop_watch, under its user's id,
 * and gets the socket's readiness through the on_io callback. One epoll set, two kinds of
 * entry: the entry's data says which (a libcurl socket carries its shard, an own socket
 * the LOOP_OWN tag and the user's id), so one turn serves both; the raw HTTP/1.1 driver
 * (http_conn.h) plugs in the same way.
 *
 * One loop per thread (run.c): a loop and everything it drives belong to the thread that
 * runs it; nothing here is shared or locked.
 *
 * Batches: one epoll_wait hands over up to LOOP_MAX_EVENTS ready sockets, or as many as
 * the loop has ids if fewer (it was 512 for any load, which cut a burst of 4,000 answers
 * into blocks of 512). Every read is stamped when it returns (user_note_read), so a batch
 * no longer delays a receipt's time; the cap only bounds how long one turn runs before
 * timers are looked at again.
 *
 * The instrument's own load (loop_stats): while measuring (loop_measure), the loop counts
 * its turns, the turns whose epoll_wait returned a full batch (more sockets were ready than
 * one turn takes: the loop is behind), the time it spent working rather than waiting in
 * epoll_wait (busy: near 100% means the loop, not the server, sets the pace), and how late
 * each user deadline fired (lag, in a histogram: a loop that is behind fires timers late,
 * and so does a machine that gives the client no CPU).
 *
 * Shards: users are spread over several multi handles of LOOP_USERS_PER_SHARD users each,
 * all driven by the same epoll set and the same thread. libcurl 7.88 walks its whole
 * connection cache on every curl_multi_remove_handle of a transfer that kept its
 * connection (close_connect_only in multi.c), so with one multi handle every short poll
 * would cost O(users): 10,000 pollers at 1 Hz saturated a core at 2,000 requests a
 * second. A shard bounds that walk to its own few connections.
 */
#ifndef PUSHPULL_LOOP_H
#define PUSHPULL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hist.h"

#define LOOP_USERS_PER_SHARD 64
#define LOOP_MAX_EVENTS      16384 /* ready sockets handed over per turn, at most */

struct loop_callbacks {
    /* A transfer finished (or failed); the easy handle is still in its multi: the callee
     * removes it with loop_remove. */
    void (*on_done)(void *ctx, CURL *easy, CURLcode result);
    /* The deadline set for id with loop_timer_set has passed (it is cleared first). */
    void (*on_timer)(void *ctx, uint32_t id);
    /* id's own socket (loop_watch) is ready: events as epoll_wait reported them (EPOLLIN,
     * EPOLLOUT, EPOLLERR, EPOLLHUP). May be NULL when nobody calls loop_watch. */
    void (*on_io)(void *ctx, uint32_t id, uint32_t events);
    void *ctx; /* passed to all three */
};

struct loop; /* opaque */

/* A loop for ids 0..ids-1 (each id is one user: one timer, one shard slot). The callbacks
 * struct is copied. NULL on failure with a message naming the failed call in err. Free
 * with loop_free. */
struct loop *loop_new(uint32_t ids, const struct loop_callbacks *cb, char *err,
                      size_t errlen);
/* curl_multi_cleanup of every shard (which closes every cached connection, running the
 * easy handles' close-socket callbacks), then the epoll fd and the heaps. Remove every
 * easy handle first. */
void loop_free(struct loop *l);
/* Start id's transfer on its shard. 0, or -1 with a message. */
int loop_add(struct loop *l, uint32_t id, CURL *easy, char *err, size_t errlen);
/* Stop watching id's transfer (finished or not). */
void loop_remove(struct loop *l, uint32_t id, CURL *easy);
/* Watch id's own socket fd for events (EPOLLIN and/or EPOLLOUT; errors and hang-ups are
 * always reported): `add` for a socket not yet watched, else the interest is changed.
 * 0, or -1 with a message naming the failed call. */
int loop_watch(struct loop *l, uint32_t id, int fd, uint32_t events, int add, char *err,
               size_t errlen);
/* Watch id's own socket fd for exactly `events`, where *watching is what it is watched
 * for now (0: not in the set), which is updated: no system call when nothing changes.
 * 0, or -1 when epoll_ctl fails. */
int loop_interest(struct loop *l, uint32_t id, int fd, uint32_t *watching, uint32_t events);
/* Stop watching fd (call before closing it). */
void loop_unwatch(struct loop *l, int fd);
/* Give id a deadline on the monotonic clock (replacing any), or clear it. */
void loop_timer_set(struct loop *l, uint32_t id, int64_t due_ns);
void loop_timer_clear(struct loop *l, uint32_t id);
/* What the loop measured of itself while measuring (see above). */
struct loop_stats {
    uint64_t turns;      /* epoll_wait calls */
    uint64_t full_turns; /* ... that returned a full batch */
    int64_t busy_ns;     /* time spent outside epoll_wait */
    int64_t wall_ns;     /* time measured */
    struct hist *lag;    /* user deadlines: fired this late, us (owned by the loop) */
};

/* Start (true) or stop measuring the loop's own load; figures add up across spans. */
void loop_measure(struct loop *l, bool on);
/* The figures so far (valid until loop_free). */
const struct loop_stats *loop_stats(const struct loop *l);
/* Dispatch events until the monotonic clock reaches `until`. 0, or -1 when epoll fails
 * (message in err). */
int loop_run_until(struct loop *l, int64_t until, char *err, size_t errlen);

#endif
