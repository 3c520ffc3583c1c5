/* refclient.c: the reference client's event loops (see refclient.h).
 *
 * Each loop owns a slice of the connections and one epoll set, level-triggered: a
 * readable socket gets one read() of up to 64 KiB per turn, so one busy stream cannot
 * starve the others, and what is left is read at the next turn. The read is stamped at
 * once (clock_real_ns) and everything parsed from those bytes carries that stamp. The
 * HTTP response parser (http_resp.c) runs here; the transport sees only the head, the
 * de-chunked body and the end of each response.
 *
 * Opening: at most max_pending connections per loop are being opened (connecting, or
 * waiting to be ready) at a time, so 10,000 connections do not land on the server's
 * listen queue at once. A connection that fails or is closed is counted by category
 * (enum ref_error) and reopened 100 ms later; nothing is fatal mid-run (wrk's rule).
 *
 * Counters are per loop and incremented at one place each; the result adds them up
 * after the loops have stopped, and merges the per-loop latency histograms.
 */
#include "refclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define MAX_EVENTS   256
#define READ_BYTES   65536
#define REOPEN_NS    (100 * NS_PER_MS)
#define TURN_TIMEOUT 50 /* ms: how soon a loop sees a stop or a mark */

enum phase { PH_IDLE, PH_CONNECTING, PH_HTTP, PH_UPGRADED, PH_REOPEN };

const struct ref_transport *const ref_transports[] = {
    &ref_sse_transport, &ref_long_transport, &ref_long_etag_transport, &ref_ws_transport,
    NULL};

/* A loop's counters; the result is their sum over loops, from the mark to the stop. */
struct counts {
    uint64_t connects, requests, responses, deliveries, pub_stamped, duplicates, missed;
    uint64_t bytes_read, bytes_written, turns, full_turns;
    uint64_t errors[REF_ERR_COUNT];
    int64_t busy_ns;
};

struct ref_loop {
    struct refclient *rc;
    pthread_t thread;
    int ep;
    struct ref_conn *conns; /* this loop's slice */
    size_t n;
    size_t next_open; /* conns[next_open..n) have never been opened */
    unsigned pending; /* connections being opened */
    unsigned max_pending;
    struct ref_conn *reopen_head, *reopen_tail; /* dropped, in the order of reopen_ns */
    _Atomic uint64_t ready;
    _Atomic uint64_t delivered; /* deliveries since the start, for refclient_deliveries */
    struct counts counts, at_mark;
    atomic_uint seen_mark; /* the last mark this loop took (refclient_mark waits for it) */
    int64_t mark_ns;
    struct hist *hist;     /* latencies from ts_ns since the mark (or the start) */
    struct hist *pub_hist; /* latencies from pub_ns, likewise */
    char rbuf[READ_BYTES];
};

struct refclient {
    struct ref_config cfg;
    struct ref_loop *loops;
    unsigned nloops;
    atomic_int stop;
    atomic_uint mark;
};

const struct ref_transport *ref_transport_find(const char *name)
{
    for (int i = 0; ref_transports[i]; i++)
        if (strcmp(ref_transports[i]->name, name) == 0)
            return ref_transports[i];
    return NULL;
}

int ref_url_parse(const char *url, struct ref_config *cfg, char *err, size_t errlen)
{
    const char *p;
    if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else if (strncmp(url, "ws://", 5) == 0)
        p = url + 5;
    else {
        snprintf(err, errlen, "expected a URL starting http:// or ws://, got \"%s\"", url);
        return -1;
    }
    size_t hostlen = strcspn(p, "/?#");
    if (hostlen == 0 || hostlen >= sizeof(cfg->host)) {
        snprintf(err, errlen, "no host (or too long a host) in \"%s\"", url);
        return -1;
    }
    memcpy(cfg->host, p, hostlen);
    cfg->host[hostlen] = '\0';
    const char *path = p + hostlen;
    const char *frag = strchr(path, '#');
    size_t tlen = frag ? (size_t)(frag - path) : strlen(path);
    if (tlen + 2 > sizeof(cfg->target)) {
        snprintf(err, errlen, "the path of \"%s\" is too long", url);
        return -1;
    }
    size_t off = 0;
    if (tlen == 0 || path[0] == '?')
        cfg->target[off++] = '/';
    memcpy(cfg->target + off, path, tlen);
    cfg->target[off + tlen] = '\0';
    char name[128];
    unsigned long port = 80;
    char *colon = strrchr(cfg->host, ':');
    size_t namelen = colon ? (size_t)(colon - cfg->host) : hostlen;
    memcpy(name, cfg->host, namelen);
    name[namelen] = '\0';
    if (colon) {
        char *end;
        port = strtoul(colon + 1, &end, 10);
        if (*end != '\0' || colon[1] == '\0' || port == 0 || port > 65535) {
            snprintf(err, errlen, "bad port in \"%s\"", url);
            return -1;
        }
    }
    memset(&cfg->addr, 0, sizeof(cfg->addr));
    cfg->addr.sin_family = AF_INET;
    cfg->addr.sin_port = htons((uint16_t)port);
    if (strcmp(name, "localhost") == 0)
        cfg->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, name, &cfg->addr.sin_addr) != 1) {
        snprintf(err, errlen, "the host of \"%s\" is not an IPv4 address or localhost",
                 url);
        return -1;
    }
    return 0;
}

/* ---- transports' window on the connection --------------------------------------- */

void ref_conn_deliver(struct ref_conn *c, const struct update_found *u)
{
    struct counts *k = &c->loop->counts;
    uint64_t seq = u->seq;
    k->deliveries++;
    atomic_fetch_add_explicit(&c->loop->delivered, 1, memory_order_relaxed);
    hist_record(c->loop->hist, (c->rx_real_ns - u->ts_ns) / NS_PER_US);
    if (u->pub_ns) {
        k->pub_stamped++;
        hist_record(c->loop->pub_hist, (c->rx_real_ns - u->pub_ns) / NS_PER_US);
    }
    if (c->last_seq != 0 && seq <= c->last_seq)
        k->duplicates++;
    else if (c->last_seq != 0 && seq > c->last_seq + 1)
        k->missed += seq - c->last_seq - 1;
    if (seq > c->last_seq)
        c->last_seq = seq;
}

const char *ref_conn_target(const struct ref_conn *c)
{
    return c->loop->rc->cfg.target;
}

const char *ref_conn_host(const struct ref_conn *c)
{
    return c->loop->rc->cfg.host;
}

const char *ref_conn_headers(const struct ref_conn *c)
{
    return c->loop->rc->cfg.headers;
}

/* ---- one connection's life ------------------------------------------------------- */

static void mark_ready(struct ref_conn *c)
{
    struct ref_loop *L = c->loop;
    if (c->pending) {
        c->pending = 0;
        L->pending--;
    }
    if (!c->ready) {
        c->ready = 1;
        atomic_fetch_add(&L->ready, 1);
    }
}

/* Count the error and close; the connection reopens REOPEN_NS later. */
static void conn_drop(struct ref_conn *c, enum ref_error why)
{
    struct ref_loop *L = c->loop;
    if (c->phase == PH_REOPEN)
        return; /* already dropped (a transport's write failed inside this turn) */
    L->counts.errors[why]++;
    if (c->ready) {
        c->ready = 0;
        atomic_fetch_sub(&L->ready, 1);
    }
    if (c->pending) {
        c->pending = 0;
        L->pending--;
    }
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    dynbuf_reset(&c->out);
    c->phase = PH_REOPEN;
    c->reopen_ns = clock_mono_ns() + REOPEN_NS;
    c->next_reopen = NULL;
    if (L->reopen_tail)
        L->reopen_tail->next_reopen = c;
    else
        L->reopen_head = c;
    L->reopen_tail = c;
}

/* Ask epoll for these events; no system call when they are already the ones asked for
 * (a long-poll cycle would otherwise pay one for nothing). */
static void watch(struct ref_conn *c, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
}

/* Write what is queued; the single place bytes are written. */
static int conn_flush(struct ref_conn *c)
{
    struct ref_loop *L = c->loop;
    while (c->out.len > 0) {
        ssize_t n = write(c->fd, c->out.mem, c->out.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            watch(c, EPOLLIN | EPOLLOUT);
            return 0;
        }
        if (n < 0) {
            conn_drop(c, REF_ERR_READ);
            return -1;
        }
        L->counts.bytes_written += (uint64_t)n;
        dynbuf_consume(&c->out, (size_t)n);
    }
    watch(c, EPOLLIN);
    if (!c->tp->ready_at_head && c->phase == PH_HTTP)
        mark_ready(c);
    return 0;
}

int ref_conn_send(struct ref_conn *c, const void *buf, size_t len)
{
    if (c->fd < 0 || dynbuf_add(&c->out, buf, len) != 0)
        return -1;
    return conn_flush(c);
}

static int on_head(void *ctx, const struct http_resp *r)
{
    struct ref_conn *c = ctx;
    if (c->tp->on_head(c, r) != 0) {
        c->fail = REF_ERR_STATUS + 1;
        return -1;
    }
    if (c->tp->ready_at_head)
        mark_ready(c);
    return 0;
}

static void on_body(void *ctx, const char *buf, size_t len)
{
    struct ref_conn *c = ctx;
    if (!c->fail && c->tp->on_body(c, buf, len) != 0)
        c->fail = REF_ERR_PARSE + 1;
}

/* Start the next exchange on an open connection: the single place requests are made. */
static void conn_request(struct ref_conn *c)
{
    struct http_resp_callbacks cb = {on_head, on_body, c};
    http_resp_init(&c->resp, &cb);
    if (c->tp->request(c, &c->out) != 0) {
        conn_drop(c, REF_ERR_PARSE);
        return;
    }
    c->loop->counts.requests++;
    conn_flush(c);
}

static void conn_open(struct ref_conn *c)
{
    struct ref_loop *L = c->loop;
    c->phase = PH_CONNECTING;
    c->pending = 1;
    L->pending++;
    L->counts.connects++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_drop(c, REF_ERR_CONNECT);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const struct sockaddr_in *a = &L->rc->cfg.addr;
    if (connect(c->fd, (const struct sockaddr *)a, sizeof(*a)) != 0 &&
        errno != EINPROGRESS) {
        conn_drop(c, REF_ERR_CONNECT);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    c->events = EPOLLOUT;
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        conn_drop(c, REF_ERR_CONNECT);
}

static void conn_connected(struct ref_conn *c)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        conn_drop(c, REF_ERR_CONNECT);
        return;
    }
    c->phase = PH_HTTP;
    c->fail = 0;
    c->tp->reset(c);
    conn_request(c);
}

/* A response has ended: ask the transport what comes next. */
static void conn_response_done(struct ref_conn *c)
{
    c->loop->counts.responses++;
    enum ref_next next = c->tp->on_done(c, &c->resp);
    if (next == REF_NEXT_UPGRADE)
        c->phase = PH_UPGRADED;
    else if (next == REF_NEXT_ERROR)
        conn_drop(c, REF_ERR_PARSE);
    else if (next == REF_NEXT_CLOSE || c->resp.close)
        conn_drop(c, REF_ERR_CLOSED);
    else
        conn_request(c);
}

/* Hand len bytes (stamped in c->rx_real_ns) to the parser and the transport. */
static void conn_input(struct ref_conn *c, const char *buf, size_t len)
{
    while (len > 0 && c->fd >= 0) {
        if (c->phase == PH_UPGRADED) {
            int r = c->tp->on_upgraded(c, buf, len);
            if (r != 0)
                conn_drop(c, r < 0 ? REF_ERR_PARSE : REF_ERR_CLOSED);
            return;
        }
        size_t used = len;
        enum http_resp_status st = http_resp_feed(&c->resp, buf, len, &used);
        if (c->fail) {
            conn_drop(c, (enum ref_error)(c->fail - 1));
            return;
        }
        if (st == HTTP_RESP_ERROR) {
            conn_drop(c, REF_ERR_PARSE);
            return;
        }
        if (st == HTTP_RESP_MORE)
            return;
        buf += used;
        len -= used;
        conn_response_done(c);
    }
}

static void conn_readable(struct ref_conn *c)
{
    struct ref_loop *L = c->loop;
    ssize_t n = read(c->fd, L->rbuf, sizeof(L->rbuf));
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_drop(c, REF_ERR_READ);
        return;
    }
    if (n == 0) {
        if (c->phase == PH_HTTP && http_resp_eof(&c->resp) == HTTP_RESP_DONE) {
            L->counts.responses++; /* a body that ended with the close */
            c->tp->on_done(c, &c->resp);
        }
        conn_drop(c, REF_ERR_CLOSED);
        return;
    }
    c->rx_real_ns = clock_real_ns();
    L->counts.bytes_read += (uint64_t)n;
    conn_input(c, L->rbuf, (size_t)n);
}

/* ---- the loop -------------------------------------------------------------------- */

static void open_more(struct ref_loop *L, int64_t now)
{
    while (L->pending < L->max_pending) {
        struct ref_conn *c = NULL;
        if (L->reopen_head && L->reopen_head->reopen_ns <= now) {
            c = L->reopen_head;
            L->reopen_head = c->next_reopen;
            if (!L->reopen_head)
                L->reopen_tail = NULL;
        } else if (L->next_open < L->n) {
            c = &L->conns[L->next_open++];
        } else {
            return;
        }
        conn_open(c);
    }
}

static void take_mark(struct ref_loop *L, unsigned mark)
{
    L->at_mark = L->counts;
    L->mark_ns = clock_mono_ns();
    struct hist *h = hist_new(), *p = hist_new(); /* only this thread records in them */
    if (h && p) {
        hist_free(L->hist);
        hist_free(L->pub_hist);
        L->hist = h;
        L->pub_hist = p;
    } else {
        hist_free(h);
        hist_free(p);
    }
    atomic_store(&L->seen_mark, mark);
}

static void *loop_main(void *arg)
{
    struct ref_loop *L = arg;
    struct epoll_event evs[MAX_EVENTS];
    L->mark_ns = clock_mono_ns();
    while (!atomic_load(&L->rc->stop)) {
        unsigned mark = atomic_load(&L->rc->mark);
        if (mark != atomic_load(&L->seen_mark))
            take_mark(L, mark);
        open_more(L, clock_mono_ns());
        int n = epoll_wait(L->ep, evs, MAX_EVENTS, TURN_TIMEOUT);
        if (n <= 0)
            continue;
        int64_t t0 = clock_mono_ns();
        L->counts.turns++;
        if (n == MAX_EVENTS)
            L->counts.full_turns++;
        for (int i = 0; i < n; i++) {
            struct ref_conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue; /* dropped earlier in this turn */
            if (c->phase == PH_CONNECTING) {
                conn_connected(c);
                continue;
            }
            if ((evs[i].events & EPOLLOUT) && conn_flush(c) != 0)
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_readable(c);
        }
        L->counts.busy_ns += clock_mono_ns() - t0;
    }
    return NULL;
}

static void loop_free(struct ref_loop *L)
{
    for (size_t i = 0; i < L->n; i++) {
        struct ref_conn *c = &L->conns[i];
        if (c->fd >= 0)
            close(c->fd);
        c->tp->fini(c);
        dynbuf_free(&c->out);
    }
    free(L->conns);
    hist_free(L->hist);
    hist_free(L->pub_hist);
    if (L->ep >= 0)
        close(L->ep);
}

struct refclient *refclient_start(const struct ref_config *cfg, char *err, size_t errlen)
{
    struct refclient *rc = calloc(1, sizeof(*rc));
    unsigned nl = cfg->threads ? cfg->threads : 1;
    if (!rc || !(rc->loops = calloc(nl, sizeof(*rc->loops)))) {
        snprintf(err, errlen, "calloc: out of memory");
        free(rc);
        return NULL;
    }
    rc->cfg = *cfg;
    rc->nloops = nl;
    for (unsigned i = 0; i < nl; i++) {
        struct ref_loop *L = &rc->loops[i];
        L->rc = rc;
        L->n = cfg->clients / nl + (i < cfg->clients % nl);
        L->max_pending = cfg->max_pending / nl ? cfg->max_pending / nl : 1;
        L->ep = epoll_create1(EPOLL_CLOEXEC);
        L->conns = calloc(L->n ? L->n : 1, sizeof(*L->conns));
        L->hist = hist_new();
        L->pub_hist = hist_new();
        if (L->ep < 0 || !L->conns || !L->hist || !L->pub_hist) {
            snprintf(err, errlen, "epoll_create1/calloc: %s", strerror(errno));
            goto fail;
        }
        for (size_t j = 0; j < L->n; j++) {
            struct ref_conn *c = &L->conns[j];
            c->fd = -1;
            c->loop = L;
            c->tp = cfg->tp;
            c->index = j * nl + i;
            dynbuf_init(&c->out, 64 * 1024);
            if (c->tp->init(c) != 0) {
                snprintf(err, errlen, "%s: out of memory", cfg->tp->name);
                goto fail;
            }
        }
    }
    for (unsigned i = 0; i < nl; i++) {
        int e = pthread_create(&rc->loops[i].thread, NULL, loop_main, &rc->loops[i]);
        if (e != 0) {
            snprintf(err, errlen, "pthread_create: %s", strerror(e));
            atomic_store(&rc->stop, 1);
            for (unsigned j = 0; j < i; j++)
                pthread_join(rc->loops[j].thread, NULL);
            goto fail;
        }
    }
    return rc;
fail:
    for (unsigned i = 0; i < nl; i++)
        if (rc->loops[i].conns || rc->loops[i].ep > 0)
            loop_free(&rc->loops[i]);
    free(rc->loops);
    free(rc);
    return NULL;
}

uint64_t refclient_ready(struct refclient *rc)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < rc->nloops; i++)
        n += atomic_load(&rc->loops[i].ready);
    return n;
}

uint64_t refclient_deliveries(struct refclient *rc)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < rc->nloops; i++)
        n += atomic_load_explicit(&rc->loops[i].delivered, memory_order_relaxed);
    return n;
}

void refclient_mark(struct refclient *rc)
{
    unsigned mark = atomic_fetch_add(&rc->mark, 1) + 1;
    struct timespec ms = {0, NS_PER_MS};
    for (unsigned i = 0; i < rc->nloops; i++)
        while (atomic_load(&rc->loops[i].seen_mark) != mark)
            nanosleep(&ms, NULL);
}

void refclient_stop(struct refclient *rc, struct ref_result *out)
{
    atomic_store(&rc->stop, 1);
    memset(out, 0, sizeof(*out));
    out->clients = rc->cfg.clients;
    out->latency = hist_new();
    out->pub_latency = hist_new();
    int64_t stop_ns = clock_mono_ns();
    for (unsigned i = 0; i < rc->nloops; i++) {
        struct ref_loop *L = &rc->loops[i];
        pthread_join(L->thread, NULL);
        const struct counts *k = &L->counts, *b = &L->at_mark;
        out->ready += atomic_load(&L->ready);
        out->connects += k->connects - b->connects;
        out->requests += k->requests - b->requests;
        out->responses += k->responses - b->responses;
        out->deliveries += k->deliveries - b->deliveries;
        out->pub_stamped += k->pub_stamped - b->pub_stamped;
        out->duplicates += k->duplicates - b->duplicates;
        out->missed += k->missed - b->missed;
        out->bytes_read += k->bytes_read - b->bytes_read;
        out->bytes_written += k->bytes_written - b->bytes_written;
        out->turns += k->turns - b->turns;
        out->full_turns += k->full_turns - b->full_turns;
        for (int e = 0; e < REF_ERR_COUNT; e++)
            out->errors[e] += k->errors[e] - b->errors[e];
        double window = (double)(stop_ns - L->mark_ns);
        double busy = window > 0 ? 100.0 * (double)(k->busy_ns - b->busy_ns) / window : 0;
        if (busy > out->busy_max_pct)
            out->busy_max_pct = busy;
        if (i == 0)
            out->window_s = window / 1e9;
        if (out->latency)
            hist_merge(out->latency, L->hist);
        if (out->pub_latency)
            hist_merge(out->pub_latency, L->pub_hist);
        loop_free(L);
    }
    free(rc->loops);
    free(rc);
}
