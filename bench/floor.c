/* floor.c: `pushpull-bench floor`, the least server that answers the poll workloads.
 *
 * Design (see floor.h for why it exists). One listening socket, shared by every thread's
 * epoll set with EPOLLEXCLUSIVE, so a new connection wakes one loop, which then owns the
 * connection for its life: nothing about a connection is shared between threads. A
 * connection is registered once, edge-triggered for input and output, so a keep-alive
 * request costs what HTTP cannot avoid: one epoll turn (shared with the other ready
 * connections), one recv and one send. Each read is parsed for every whole request it
 * holds (pipelined ones too, answered in order), the answers go out in one send, and
 * what the kernel does not take waits for EPOLLOUT. The update is the one thing threads
 * share, under a mutex held for a copy of at most one body.
 *
 * Ownership: each loop owns its connections (a list, freed when they close and when the
 * loop ends); the update's body is owned by the global state and replaced whole by a
 * publish. Bad requests get a 400 (431 for a head over FLOOR_HEAD_MAX) and the close.
 */
#include "floor.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dynbuf.h"
#include "flags.h"
#include "floor_req.h"

#define FLOOR_HEAD_MAX    8192u      /* a request head's bytes at most */
#define FLOOR_BODY_MAX    (1u << 20) /* a published body's bytes at most */
#define FLOOR_MAX_THREADS 64
#define FLOOR_TURN_MS     100 /* how often a loop looks at the stop flag */

/* The update every poll answers, replaced whole by a publish. */
static struct {
    pthread_mutex_t mu;
    uint64_t seq; /* 0 until the first publish */
    char *body;   /* owned; NULL (empty) until the first publish */
    size_t len;
} update = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_int stopping;

struct fconn {
    int fd;
    struct dynbuf in, out;
    int closing; /* close once out is written */
    struct fconn *prev, *next;
};

struct loop {
    pthread_t thread;
    int ep, listen_fd;
    struct fconn *conns; /* owned */
    time_t date_at;      /* the second date[] was written for */
    char date[64];       /* "Date: ...\r\n" */
};

static const char *date_line(struct loop *l)
{
    time_t now = time(NULL);
    if (now != l->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(l->date, sizeof(l->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        l->date_at = now;
    }
    return l->date;
}

static void conn_free(struct loop *l, struct fconn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->fd);
    dynbuf_free(&c->in);
    dynbuf_free(&c->out);
    free(c);
}

/* The ETag's value for seq: "N" with its quotes. */
static int etag_matches(struct floor_span v, uint64_t seq)
{
    char tag[32];
    int n = snprintf(tag, sizeof(tag), "\"%llu\"", (unsigned long long)seq);
    return v.len == (size_t)n && memcmp(v.p, tag, (size_t)n) == 0;
}

static int answer_poll(struct loop *l, struct fconn *c, const struct floor_req *r)
{
    const char *date = date_line(l);
    pthread_mutex_lock(&update.mu);
    int rc;
    if (r->if_none.len && etag_matches(r->if_none, update.seq))
        rc = dynbuf_addf(&c->out,
                         "HTTP/1.1 304 Not Modified\r\n%sCache-Control: no-cache\r\n"
                         "ETag: \"%llu\"\r\n\r\n",
                         date, (unsigned long long)update.seq);
    else
        rc = dynbuf_addf(&c->out,
                         "HTTP/1.1 200 OK\r\n%sContent-Type: application/json\r\n"
                         "Cache-Control: no-cache\r\nETag: \"%llu\"\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         date, (unsigned long long)update.seq, update.len) != 0 ||
             dynbuf_add(&c->out, update.body ? update.body : "", update.len);
    pthread_mutex_unlock(&update.mu);
    return rc;
}

static int answer_publish(struct loop *l, struct fconn *c, const char *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, body, len);
    pthread_mutex_lock(&update.mu);
    free(update.body);
    update.body = copy;
    update.len = len;
    unsigned long long seq = ++update.seq;
    pthread_mutex_unlock(&update.mu);
    return dynbuf_addf(&c->out,
                       "HTTP/1.1 201 Created\r\n%sContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n\r\n{\"seq\":%llu}",
                       date_line(l), snprintf(NULL, 0, "{\"seq\":%llu}", seq), seq);
}

static int answer_error(struct loop *l, struct fconn *c, int status, const char *why)
{
    c->closing = 1;
    return dynbuf_addf(&c->out,
                       "HTTP/1.1 %d %s\r\n%sContent-Type: application/json\r\n"
                       "Connection: close\r\nContent-Length: %zu\r\n\r\n{\"error\":\"%s\"}",
                       status,
                       status == 431   ? "Request Header Fields Too Large"
                       : status == 404 ? "Not Found"
                                       : "Bad Request",
                       date_line(l), strlen(why) + 12, why);
}

static int span_is(struct floor_span s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* Answer every whole request in c->in, in order; leave a partial one for the next read. */
static int serve(struct loop *l, struct fconn *c)
{
    size_t used = 0;
    while (!c->closing && used < c->in.len) {
        struct floor_req r;
        const char *p = c->in.mem + used;
        size_t avail = c->in.len - used;
        enum floor_parse st = floor_req_parse(p, avail, FLOOR_HEAD_MAX, &r);
        if (st == FLOOR_MORE)
            break;
        if (st == FLOOR_TOO_BIG)
            return answer_error(l, c, 431, "request head over 8192 bytes");
        if (st == FLOOR_BAD)
            return answer_error(l, c, 400, "malformed request head");
        if (r.content_length > FLOOR_BODY_MAX)
            return answer_error(l, c, 400, "body over 1 MiB");
        if (avail - r.head_len < r.content_length)
            break; /* the body is still coming */
        int rc;
        if (span_is(r.method, "GET") && span_is(r.path, "/poll"))
            rc = answer_poll(l, c, &r);
        else if (span_is(r.method, "POST") && span_is(r.path, "/pub"))
            rc = answer_publish(l, c, p + r.head_len, (size_t)r.content_length);
        else
            rc = answer_error(l, c, 404, "GET /poll or POST /pub");
        if (rc != 0)
            return -1;
        used += r.head_len + (size_t)r.content_length;
    }
    dynbuf_consume(&c->in, used);
    return 0;
}

/* Write what is pending. 0 (all out, or the kernel is full: EPOLLOUT resumes), -1 gone. */
static int flush(struct fconn *c)
{
    while (c->out.len > 0) {
        ssize_t n = send(c->fd, c->out.mem, c->out.len, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        dynbuf_consume(&c->out, (size_t)n);
    }
    return c->closing ? -1 : 0;
}

/* Input and output for one ready connection (events: epoll's); -1 when it is to be
 * closed. A short read means the socket is drained, so the next arrival wakes the loop
 * again (edge-triggered) without a recv that says EAGAIN; once the peer has shut its side
 * (EPOLLRDHUP) it reads on to the end, answers what came, and closes. */
static int on_ready(struct loop *l, struct fconn *c, uint32_t events)
{
    char buf[16384];
    int to_end = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n == 0) {
            c->closing = 1; /* answered below, then closed */
            break;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            break;
        }
        if (dynbuf_add(&c->in, buf, (size_t)n) != 0 || serve(l, c) != 0)
            return -1;
        if ((size_t)n < sizeof(buf) && !to_end)
            break;
    }
    return flush(c);
}

static void accept_all(struct loop *l)
{
    int one = 1;
    for (;;) {
        int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: another loop took it, or none is left */
        struct fconn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        dynbuf_init(&c->in, FLOOR_HEAD_MAX + FLOOR_BODY_MAX);
        dynbuf_init(&c->out, 4 * FLOOR_BODY_MAX);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = c};
        c->next = l->conns;
        if (l->conns)
            l->conns->prev = c;
        l->conns = c;
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_free(l, c);
    }
}

static void *loop_run(void *arg)
{
    struct loop *l = arg;
    struct epoll_event evs[256];
    while (!atomic_load(&stopping)) {
        int n = epoll_wait(l->ep, evs, 256, FLOOR_TURN_MS);
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr)
                accept_all(l);
            else if (on_ready(l, evs[i].data.ptr, evs[i].events) != 0)
                conn_free(l, evs[i].data.ptr);
        }
    }
    while (l->conns)
        conn_free(l, l->conns);
    return NULL;
}

static int listen_loopback(unsigned port, unsigned *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: pushpull-bench floor [--port N] [--threads N]\n"
               "\n"
               "The least HTTP/1.1 server for the poll workloads, on 127.0.0.1: GET /poll\n"
               "(200 with the last body, or 304 for its ETag), POST /pub (the next body).\n"
               "The bench runs it as the machine's ceiling (--servers floor).\n"
               "\n"
               "  --port N      port (default 0: any free one, printed)\n"
               "  --threads N   event loops (default 2)\n");
}

int floor_main(int argc, char **argv)
{
    flags_program("pushpull-bench floor");
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    unsigned port = 0, threads = 2;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'p')
            port = (unsigned)flags_count("port", optarg, 0, 65535);
        else if (c == 't')
            threads = (unsigned)flags_count("threads", optarg, 1, FLOOR_MAX_THREADS);
        else if (c == 'h')
            return usage(stdout), 0;
        else
            flags_getopt_error(c, argv);
    }
    flags_no_operands(argc, argv);
    unsigned bound = 0;
    int lfd = listen_loopback(port, &bound);
    if (lfd < 0) {
        fprintf(stderr, "pushpull-bench floor: cannot listen on 127.0.0.1:%u: %s\n", port,
                strerror(errno));
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the loops inherit it; main waits below */
    struct loop loops[FLOOR_MAX_THREADS];
    unsigned started = 0;
    int rc = 0;
    for (; started < threads; started++) {
        struct loop *l = &loops[started];
        memset(l, 0, sizeof(*l));
        l->listen_fd = lfd;
        l->ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
        if (l->ep < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, lfd, &ev) != 0 ||
            pthread_create(&l->thread, NULL, loop_run, l) != 0) {
            fprintf(stderr, "pushpull-bench floor: cannot start loop %u: %s\n", started,
                    strerror(errno));
            if (l->ep >= 0)
                close(l->ep);
            rc = 1;
            break;
        }
    }
    if (rc == 0) {
        printf("listening on http://127.0.0.1:%u\n", bound);
        fflush(stdout);
        int sig;
        sigwait(&set, &sig);
    }
    atomic_store(&stopping, 1);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(loops[i].thread, NULL);
        close(loops[i].ep);
    }
    close(lfd);
    free(update.body);
    return rc;
}
