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
 * the LOOP_OWN tag and the user's id), so one turn serves both, and a later raw-socket
 * fast path for HTTP/1.1 (issue 14) would plug in the same way.
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

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#define LOOP_USERS_PER_SHARD 64

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
/* Stop watching fd (call before closing it). */
void loop_unwatch(struct loop *l, int fd);
/* Give id a deadline on the monotonic clock (replacing any), or clear it. */
void loop_timer_set(struct loop *l, uint32_t id, int64_t due_ns);
void loop_timer_clear(struct loop *l, uint32_t id);
/* Dispatch events until the monotonic clock reaches `until`. 0, or -1 when epoll fails
 * (message in err). */
int loop_run_until(struct loop *l, int64_t until, char *err, size_t errlen);

#endif
