/* sse_ts_worker.c: the test service's worker: one thread and one libcurl multi handle for
 * every SSE client and its callbacks (see sse_ts_worker.h).
 *
 * Loop: curl_multi_poll (at most 100 ms, or the nearest reconnection or read deadline),
 * with curl_multi_wakeup from the API thread; then commands, each stream's tick
 * (connect when due, drop a silent connection), perform, finished transfers, and the
 * callback queues. libcurl callbacks only parse and enqueue; handles are added and
 * removed between libcurl calls. The streams themselves are sse_ts_stream.c.
 *
 * Simplifications: tens of streams, so every turn walks them all.
 */
#include "sse_ts_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sse_ts_stream.h"

#define TS_POLL_MS 100 /* longest sleep between turns */

enum ts_cmd_kind { TS_CMD_CREATE, TS_CMD_RESTART, TS_CMD_DELETE };

/* A request from the API thread. */
struct ts_cmd {
    enum ts_cmd_kind kind;
    unsigned id;               /* the stream concerned */
    struct sse_ts_config *cfg; /* TS_CMD_CREATE: the config (owned until applied) */
    struct ts_cmd *next;
};

/* The worker's list of streams. */
struct ts_node {
    struct ts_stream *s;  /* owned */
    struct ts_node *next; /* newest first */
};

struct sse_ts_worker {
    pthread_t thread;
    CURLM *multi;
    struct ts_node *streams; /* worker thread only */
    /* Shared with the API thread, under mu: */
    pthread_mutex_t mu;
    struct ts_cmd *cmd_head, *cmd_tail; /* commands not yet applied */
    bool quit;                          /* stop the thread */
    unsigned next_id;                   /* last stream number handed out */
    unsigned *live;                     /* numbers not deleted (owned) */
    size_t nlive, caplive;
};

static struct ts_node *node_find(struct sse_ts_worker *w, unsigned id)
{
    for (struct ts_node *n = w->streams; n; n = n->next)
        if (ts_stream_id(n->s) == id)
            return n;
    return NULL;
}

static void node_remove(struct sse_ts_worker *w, struct ts_node *dead)
{
    for (struct ts_node **pp = &w->streams; *pp; pp = &(*pp)->next) {
        if (*pp == dead) {
            *pp = dead->next;
            ts_stream_free(dead->s);
            free(dead);
            return;
        }
    }
}

/* ---- commands (API thread side) ---------------------------------------- */

/* Index of id in w->live, or -1. Caller holds mu. */
static long live_index_locked(const struct sse_ts_worker *w, unsigned id)
{
    for (size_t i = 0; i < w->nlive; i++)
        if (w->live[i] == id)
            return (long)i;
    return -1;
}

/* Queue a command and wake the worker. Caller holds mu. */
static void cmd_push_locked(struct sse_ts_worker *w, struct ts_cmd *c)
{
    if (w->cmd_tail)
        w->cmd_tail->next = c;
    else
        w->cmd_head = c;
    w->cmd_tail = c;
    curl_multi_wakeup(w->multi);
}

unsigned sse_ts_worker_create(struct sse_ts_worker *w, struct sse_ts_config *cfg)
{
    struct ts_cmd *c = calloc(1, sizeof(*c));
    unsigned id = 0;
    if (!c) {
        sse_ts_config_free(cfg);
        return 0;
    }
    pthread_mutex_lock(&w->mu);
    if (w->nlive == w->caplive) {
        size_t cap = w->caplive ? 2 * w->caplive : 16;
        unsigned *grown = realloc(w->live, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&w->mu);
            sse_ts_config_free(cfg);
            free(c);
            return 0;
        }
        w->live = grown;
        w->caplive = cap;
    }
    id = ++w->next_id;
    w->live[w->nlive++] = id;
    c->kind = TS_CMD_CREATE;
    c->id = id;
    c->cfg = cfg;
    cmd_push_locked(w, c);
    pthread_mutex_unlock(&w->mu);
    return id;
}

/* Queue a restart or delete for a live stream. 0, or -1 when unknown or out of memory. */
static int worker_command(struct sse_ts_worker *w, enum ts_cmd_kind kind, unsigned id)
{
    struct ts_cmd *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->kind = kind;
    c->id = id;
    pthread_mutex_lock(&w->mu);
    long i = live_index_locked(w, id);
    if (i < 0) {
        pthread_mutex_unlock(&w->mu);
        free(c);
        return -1;
    }
    if (kind == TS_CMD_DELETE)
        w->live[i] = w->live[--w->nlive];
    cmd_push_locked(w, c);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int sse_ts_worker_restart(struct sse_ts_worker *w, unsigned id)
{
    return worker_command(w, TS_CMD_RESTART, id);
}

int sse_ts_worker_delete(struct sse_ts_worker *w, unsigned id)
{
    return worker_command(w, TS_CMD_DELETE, id);
}

/* ---- the worker thread -------------------------------------------------- */

static void worker_apply(struct sse_ts_worker *w, struct ts_cmd *c)
{
    struct ts_node *n = node_find(w, c->id);
    switch (c->kind) {
    case TS_CMD_CREATE:
        n = calloc(1, sizeof(*n));
        if (n)
            n->s = ts_stream_new(w->multi, c->id, c->cfg);
        else
            sse_ts_config_free(c->cfg);
        c->cfg = NULL;
        if (!n || !n->s) {
            free(n);
            fprintf(stderr, "pushpull-sse-testservice: stream %u: out of memory\n", c->id);
            break;
        }
        n->next = w->streams;
        w->streams = n;
        break;
    case TS_CMD_RESTART:
        if (n)
            ts_stream_restart(n->s);
        break;
    case TS_CMD_DELETE:
        if (n)
            node_remove(w, n);
        break;
    }
}

/* Apply queued commands. Returns true when the worker should quit. */
static bool worker_take_commands(struct sse_ts_worker *w)
{
    pthread_mutex_lock(&w->mu);
    struct ts_cmd *list = w->cmd_head;
    bool quit = w->quit;
    w->cmd_head = w->cmd_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    for (struct ts_cmd *c = list, *next; c; c = next) {
        next = c->next;
        if (!quit)
            worker_apply(w, c);
        sse_ts_config_free(c->cfg);
        free(c);
    }
    return quit;
}

/* Tick every stream. Returns ms until the nearest deadline (at most TS_POLL_MS). */
static int worker_deadlines(struct sse_ts_worker *w)
{
    int64_t now = clock_mono_ns();
    int64_t next = now + TS_POLL_MS * NS_PER_MS;
    for (struct ts_node *n = w->streams; n; n = n->next) {
        int64_t due = ts_stream_tick(n->s, now);
        if (due < next)
            next = due;
    }
    int64_t ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
    return ms < 0 ? 0 : (int)ms;
}

static void worker_finished(struct sse_ts_worker *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode res = msg->data.result;
        struct ts_stream *s = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
        if (s)
            ts_stream_finished(s, e, res);
    }
}

static void worker_pump(struct sse_ts_worker *w)
{
    for (struct ts_node *n = w->streams; n; n = n->next)
        ts_stream_pump(n->s);
}

static void *worker_main(void *arg)
{
    struct sse_ts_worker *w = arg;
    for (;;) {
        if (worker_take_commands(w))
            break;
        int wait_ms = worker_deadlines(w);
        int running = 0;
        curl_multi_perform(w->multi, &running);
        worker_finished(w);
        worker_pump(w);
        /* New handles were added: let libcurl start them before sleeping. */
        curl_multi_perform(w->multi, &running);
        worker_finished(w);
        worker_pump(w);
        long curl_ms = -1;
        curl_multi_timeout(w->multi, &curl_ms);
        if (curl_ms >= 0 && curl_ms < wait_ms)
            wait_ms = (int)curl_ms;
        curl_multi_poll(w->multi, NULL, 0, wait_ms, NULL);
    }
    return NULL;
}

struct sse_ts_worker *sse_ts_worker_start(char *err, size_t errlen)
{
    struct sse_ts_worker *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "calloc: %s", strerror(errno));
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    w->multi = curl_multi_init();
    if (!w->multi) {
        snprintf(err, errlen, "curl_multi_init failed");
        goto fail;
    }
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    return w;
fail:
    if (w->multi)
        curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return NULL;
}

void sse_ts_worker_stop(struct sse_ts_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    curl_multi_wakeup(w->multi);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    (void)worker_take_commands(w); /* frees what came in after the last turn */
    while (w->streams)
        node_remove(w, w->streams);
    curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->mu);
    free(w->live);
    free(w);
}
