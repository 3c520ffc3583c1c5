/* loop.h: the client's one event loop: epoll drives libcurl's multi socket API, and a
 * timer heap holds every user's next action.
 *
 * No thread per user: libcurl tells the loop which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when it next needs the time (CURLMOPT_TIMERFUNCTION); the
 * loop waits in epoll_wait for whichever comes first of a socket event, libcurl's timeout,
 * the earliest user deadline, or the caller's stop time. This is wrk's design (one loop per
 * thread, per-connection state in one struct) with libcurl doing the HTTP.
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
    void *ctx; /* passed to both */
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
/* Give id a deadline on the monotonic clock (replacing any), or clear it. */
void loop_timer_set(struct loop *l, uint32_t id, int64_t due_ns);
void loop_timer_clear(struct loop *l, uint32_t id);
/* Dispatch events until the monotonic clock reaches `until`. 0, or -1 when epoll fails
 * (message in err). */
int loop_run_until(struct loop *l, int64_t until, char *err, size_t errlen);

#endif
