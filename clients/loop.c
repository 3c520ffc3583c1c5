/* loop.c: epoll + libcurl multi socket API (sharded) + own sockets + timer heaps (see
 * loop.h).
 *
 * One turn of the loop: wait in epoll_wait until the nearest of (caller's stop time, the
 * earliest libcurl timeout of any shard, the earliest user deadline); hand each ready
 * socket to its shard's curl_multi_socket_action (the epoll entry carries shard and fd)
 * and report the transfers that finished there at once, or, for an own socket (the entry
 * carries LOOP_OWN and the user's id), call on_io; tell every shard whose timeout has
 * passed and report what finished; fire the user deadlines that are due. Callbacks run
 * between libcurl calls, never inside them, so they may add and remove easy handles.
 * A finished transfer is reported as soon as the socket that finished it was handled,
 * not after the rest of the turn's sockets: its user's next request then goes out in the
 * same turn (at its deadline, which for a long poll is at once), and a turn of hundreds
 * of ready sockets does not hold every answer until the last one is read.
 * epoll_wait counts in milliseconds; waits are rounded up so the loop does not spin, which
 * makes a timer fire up to 1 ms late.
 */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "timer_heap.h"

#define LOOP_OWN UINT32_MAX /* the epoll entry is an own socket, not a shard's */

struct shard {
    struct loop *loop; /* back pointer, for libcurl's callbacks */
    CURLM *multi;      /* this shard's multi handle (owned) */
    uint32_t index;    /* position in loop->shards */
    int running;       /* transfers libcurl reports running */
};

struct loop {
    int epfd;             /* epoll instance */
    struct shard *shards; /* nshards multi handles (owned) */
    uint32_t nshards;
    struct timer_heap *users;    /* user deadlines, by id */
    struct timer_heap *curl_due; /* libcurl timeouts, by shard index */
    struct loop_callbacks cb;
    struct epoll_event *events; /* one batch (owned) */
    int max_events;             /* its size */
    bool measuring;             /* loop_stats is being kept */
    int64_t measure_since;      /* when the current span began */
    struct loop_stats stats;    /* its lag histogram owned */
};

static struct shard *shard_of(struct loop *l, uint32_t id)
{
    uint32_t s = id / LOOP_USERS_PER_SHARD;
    return &l->shards[s < l->nshards ? s : l->nshards - 1];
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. socketp is non-NULL
 * once the socket is in the epoll set (set with curl_multi_assign). */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct shard *sh = userp;
    struct loop *l = sh->loop;
    if (what == CURL_POLL_REMOVE) {
        /* the socket may already be closed, which removed it from the set: ignore */
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(sh->multi, s, NULL);
        return 0;
    }
    struct epoll_event ev = {.events = 0,
                             .data.u64 = ((uint64_t)sh->index << 32) | (uint32_t)s};
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, s, &ev) != 0) {
        /* a reused descriptor number can be in the set already, or gone from it */
        op = (errno == EEXIST) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(l->epfd, op, s, &ev) != 0)
            return -1;
    }
    if (!socketp)
        curl_multi_assign(sh->multi, s, sh);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember when this shard's libcurl wants to be called. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct shard *sh = userp;
    if (timeout_ms < 0)
        timer_heap_clear(sh->loop->curl_due, sh->index);
    else
        timer_heap_set(sh->loop->curl_due, sh->index,
                       clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS);
    return 0;
}

struct loop *loop_new(uint32_t ids, const struct loop_callbacks *cb, char *err,
                      size_t errlen)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "calloc: out of memory");
        return NULL;
    }
    l->epfd = -1;
    l->cb = *cb;
    l->nshards = ids / LOOP_USERS_PER_SHARD + 1;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        goto fail;
    }
    l->users = timer_heap_new(ids);
    l->curl_due = timer_heap_new(l->nshards);
    l->shards = calloc(l->nshards, sizeof(*l->shards));
    l->max_events = ids < 512 ? 512 : ids < LOOP_MAX_EVENTS ? (int)ids : LOOP_MAX_EVENTS;
    l->events = calloc((size_t)l->max_events, sizeof(*l->events));
    l->stats.lag = hist_new();
    if (!l->users || !l->curl_due || !l->shards || !l->events || !l->stats.lag) {
        snprintf(err, errlen, "timer_heap_new: out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < l->nshards; i++) {
        struct shard *sh = &l->shards[i];
        sh->loop = l;
        sh->index = i;
        sh->multi = curl_multi_init();
        if (!sh->multi) {
            snprintf(err, errlen, "curl_multi_init: out of memory");
            goto fail;
        }
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
        /* keep every user's idle connection (the default, 4 x handles added, would close
         * the connections of users between polls) */
        curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, (long)LOOP_USERS_PER_SHARD + 8);
        /* a browser's limit per origin (RFC 9112 section 9.4 leaves it open; every
         * current browser uses 6): it binds only users that share a host name
         * (--users-per-connection), since every other user has one of its own */
        curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 6L);
    }
    return l;
fail:
    loop_free(l);
    return NULL;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; l->shards && i < l->nshards; i++)
        if (l->shards[i].multi)
            curl_multi_cleanup(l->shards[i].multi);
    free(l->shards);
    timer_heap_free(l->users);
    timer_heap_free(l->curl_due);
    free(l->events);
    hist_free(l->stats.lag);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l);
}

int loop_add(struct loop *l, uint32_t id, CURL *easy, char *err, size_t errlen)
{
    struct shard *sh = shard_of(l, id);
    CURLMcode mc = curl_multi_add_handle(sh->multi, easy);
    if (mc != CURLM_OK) {
        snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return -1;
    }
    return 0;
}

void loop_remove(struct loop *l, uint32_t id, CURL *easy)
{
    curl_multi_remove_handle(shard_of(l, id)->multi, easy);
}

int loop_watch(struct loop *l, uint32_t id, int fd, uint32_t events, int add, char *err,
               size_t errlen)
{
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)LOOP_OWN << 32) | id};
    if (epoll_ctl(l->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
        snprintf(err, errlen, "epoll_ctl(%s, %d): %s", add ? "ADD" : "MOD", fd,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int loop_interest(struct loop *l, uint32_t id, int fd, uint32_t *watching, uint32_t events)
{
    char err[160];
    if (*watching == events)
        return 0;
    if (loop_watch(l, id, fd, events, *watching == 0, err, sizeof(err)) != 0)
        return -1;
    *watching = events;
    return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_timer_set(struct loop *l, uint32_t id, int64_t due_ns)
{
    timer_heap_set(l->users, id, due_ns);
}

void loop_timer_clear(struct loop *l, uint32_t id)
{
    timer_heap_clear(l->users, id);
}

/* Report every finished transfer of a shard. The message is copied before the callback,
 * which removes the handle and so invalidates it. */
static void collect_done(struct loop *l, struct shard *sh)
{
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(sh->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        l->cb.on_done(l->cb.ctx, easy, result);
    }
}

static void fire_timers(struct loop *l, int64_t now)
{
    uint32_t id;
    int64_t due;
    /* bounded: each id fires at most once per turn even if its callback re-arms it for
     * a time already past */
    size_t budget = timer_heap_size(l->users);
    while (budget-- > 0 && timer_heap_pop_due(l->users, now, &id, &due)) {
        if (l->measuring && due > 0) /* 0: "at once" (user_abort_soon), no deadline */
            hist_record(l->stats.lag, (now - due) / NS_PER_US);
        l->cb.on_timer(l->cb.ctx, id);
    }
}

void loop_measure(struct loop *l, bool on)
{
    int64_t now = clock_mono_ns();
    if (l->measuring && !on)
        l->stats.wall_ns += now - l->measure_since;
    if (!l->measuring && on)
        l->measure_since = now;
    l->measuring = on;
}

const struct loop_stats *loop_stats(const struct loop *l)
{
    return &l->stats;
}

int loop_run_until(struct loop *l, int64_t until, char *err, size_t errlen)
{
    struct epoll_event *events = l->events;
    int64_t work_from = clock_mono_ns(); /* this turn's work began */
    for (;;) {
        int64_t now = clock_mono_ns();
        if (l->measuring)
            l->stats.busy_ns += now - work_from;
        if (now >= until)
            return 0;
        int64_t wake = until;
        uint32_t id;
        int64_t due;
        if (timer_heap_peek(l->curl_due, &id, &due) && due < wake)
            wake = due;
        if (timer_heap_peek(l->users, &id, &due) && due < wake)
            wake = due;
        int64_t wait_ns = wake - now;
        int wait_ms = wait_ns <= 0 ? 0 : (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
        int n = epoll_wait(l->epfd, events, l->max_events, wait_ms);
        work_from = clock_mono_ns();
        if (l->measuring) {
            l->stats.turns++;
            l->stats.full_turns += n == l->max_events;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            uint32_t s = (uint32_t)(events[i].data.u64 >> 32);
            int fd = (int)(uint32_t)events[i].data.u64;
            if (s == LOOP_OWN && l->cb.on_io) {
                l->cb.on_io(l->cb.ctx, (uint32_t)events[i].data.u64, events[i].events);
                continue;
            }
            if (s >= l->nshards)
                continue;
            int flags = 0;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
                flags |= CURL_CSELECT_IN;
            if (events[i].events & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
            if (events[i].events & EPOLLERR)
                flags |= CURL_CSELECT_ERR;
            struct shard *sh = &l->shards[s];
            curl_multi_socket_action(sh->multi, fd, flags, &sh->running);
            collect_done(l, sh);
        }
        now = clock_mono_ns();
        size_t budget = l->nshards;
        while (budget-- > 0 && timer_heap_pop_due(l->curl_due, now, &id, &due)) {
            struct shard *sh = &l->shards[id];
            curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &sh->running);
            collect_done(l, sh);
        }
        fire_timers(l, clock_mono_ns());
    }
}
