/* link_harness.c: start and stop a real pushpull-link, run a small upstream in a thread,
 * and read bytes with deadlines (see link_harness.h). */
#include "link_harness.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int64_t link_harness_now_ns(void)
{
    return clock_mono_ns();
}

static const char *link_binary(void)
{
    const char *bin = getenv("PUSHPULL_LINK");
    return bin ? bin : "build/asan/bin/pushpull-link";
}

/* ---- the link process ----------------------------------------------------------- */

int link_harness_start(struct link_harness_link *l, unsigned upstream_port,
                       const char *const *args)
{
    struct link_harness_opts o = {.listen = NULL, .nofile = 0};
    return link_harness_start_with(l, &o, upstream_port, args);
}

int link_harness_start_with(struct link_harness_link *l, const struct link_harness_opts *o,
                            unsigned upstream_port, const char *const *args)
{
    const char *bin = link_binary();
    const char *listen = o->listen ? o->listen : "127.0.0.1:0";
    char upstream[64], ulimit[96], prefix[64];
    snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", upstream_port);
    const char *colon = strrchr(listen, ':');
    int hostlen = colon ? (int)(colon - listen) : 0;
    snprintf(prefix, sizeof(prefix), "listening on %.*s:", hostlen, listen); /* its line */
    const char *argv[64];
    size_t n = 0;
    if (o->nofile > 0) { /* sh sets the limit, then becomes the link: same pid */
        snprintf(ulimit, sizeof(ulimit), "ulimit -n %u && exec \"$0\" \"$@\"", o->nofile);
        argv[n++] = "/bin/sh";
        argv[n++] = "-c";
        argv[n++] = ulimit;
    }
    argv[n++] = bin;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--upstream";
    argv[n++] = upstream;
    for (size_t i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct proc p;
    char err[512];
    struct proc_spec spec = {.argv = argv, .name = "the link", .out = PROC_PIPE};
    if (proc_start(&p, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "link_harness: %s\n", err);
        return -1;
    }
    l->pid = p.pid;
    l->port = harness_listening_port(&p, prefix);
    proc_close(&p); /* the link prints nothing more on stdout */
    if (l->port == 0) {
        link_harness_stop(l);
        return -1;
    }
    return 0;
}

int link_harness_stop(struct link_harness_link *l)
{
    if (l->pid <= 0)
        return -1;
    int rc = harness_stop_pid(l->pid);
    l->pid = 0;
    return rc;
}

int link_harness_run(const char *const *args, struct dynbuf *err)
{
    const char *bin = link_binary();
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct proc p;
    char why[512];
    struct proc_spec spec = {
        .argv = argv, .name = "the link", .out = PROC_DEVNULL, .err = PROC_PIPE};
    if (proc_start(&p, &spec, why, sizeof(why)) != 0) {
        fprintf(stderr, "link_harness: %s\n", why);
        return -1;
    }
    /* everything until EOF: the child's stderr closes when it exits */
    harness_read_until(p.err, err, NULL, 10000);
    proc_close(&p);
    return harness_wait(p.pid, 10000);
}

cJSON *link_harness_stats(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        if (dynbuf_add(&b, tmp, n) != 0)
            break;
    }
    fclose(f);
    cJSON *root = b.mem ? cJSON_Parse(b.mem) : NULL;
    dynbuf_free(&b);
    return root;
}

double link_harness_stat(const cJSON *stats, const char *key)
{
    const cJSON *node = stats;
    if (strncmp(key, "config.", 7) == 0) {
        node = cJSON_GetObjectItemCaseSensitive(stats, "config");
        key += 7;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);
    if (!cJSON_IsNumber(v))
        return -1;
    return v->valuedouble;
}

/* ---- the upstream peer ------------------------------------------------------------ */

#define PEER_MAX_CONNS 1024
#define PEER_OUT_MAX   (8u << 20) /* echo: stop reading while this much waits to go back */

/* One accepted connection of the peer. */
struct peer_conn {
    int fd;            /* the socket, -1 once closed */
    struct dynbuf out; /* echo: bytes still to send back */
    int eof;           /* the client sent FIN */
};

struct link_harness_peer {
    enum link_harness_mode mode;
    int lfd;                                /* listening socket */
    int wake[2];                            /* a byte on wake[1] stops the thread */
    unsigned port;                          /* the listening port */
    pthread_t thread;                       /* runs peer_main */
    pthread_mutex_t mu;                     /* guards seen and greet */
    struct link_harness_seen seen;          /* what happened so far */
    size_t greet;                           /* bytes sent first on each connection */
    struct peer_conn conns[PEER_MAX_CONNS]; /* open connections, fd -1 when free */
    struct pollfd pfds[PEER_MAX_CONNS + 2]; /* peer_main's poll set */
    size_t which[PEER_MAX_CONNS + 2];       /* pfds[k] watches conns[which[k]] */
};

static void peer_end(struct link_harness_peer *p, struct peer_conn *c, int reset)
{
    close(c->fd);
    c->fd = -1;
    dynbuf_free(&c->out);
    pthread_mutex_lock(&p->mu);
    if (reset)
        p->seen.resets++;
    else
        p->seen.eofs++;
    p->seen.last_end_ns = clock_mono_ns();
    pthread_mutex_unlock(&p->mu);
}

static void peer_accept(struct link_harness_peer *p)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof(from);
        int fd = accept4(p->lfd, (struct sockaddr *)&from, &fromlen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct peer_conn *c = NULL;
        for (size_t i = 0; i < PEER_MAX_CONNS && !c; i++) {
            if (p->conns[i].fd < 0)
                c = &p->conns[i];
        }
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->eof = 0;
        dynbuf_init(&c->out, PEER_OUT_MAX + 65536);
        pthread_mutex_lock(&p->mu);
        p->seen.accepted++;
        p->seen.from = from.sin_addr;
        size_t greet = p->greet;
        pthread_mutex_unlock(&p->mu);
        static const char chunk[4096] = {0};
        while (greet > 0) {
            size_t n = greet < sizeof(chunk) ? greet : sizeof(chunk);
            if (dynbuf_add(&c->out, chunk, n) != 0)
                break;
            greet -= n;
        }
    }
}

/* Read what is there; echo or count it. */
static void peer_readable(struct link_harness_peer *p, struct peer_conn *c)
{
    char buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        peer_end(p, c, 1);
        return;
    }
    if (n == 0) {
        c->eof = 1;
        if (p->mode == LINK_HARNESS_SINK || c->out.len == 0)
            peer_end(p, c, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->seen.bytes_in += (uint64_t)n;
    p->seen.last_byte_ns = clock_mono_ns();
    pthread_mutex_unlock(&p->mu);
    if (p->mode == LINK_HARNESS_ECHO && dynbuf_add(&c->out, buf, (size_t)n) != 0)
        peer_end(p, c, 1);
}

/* GREET_RESET: the greeting is written; close with RST (SO_LINGER on, zero timeout). */
static void peer_reset(struct link_harness_peer *p, struct peer_conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c->fd);
    c->fd = -1;
    dynbuf_free(&c->out);
    pthread_mutex_lock(&p->mu);
    p->seen.resets_sent++;
    p->seen.last_end_ns = clock_mono_ns();
    pthread_mutex_unlock(&p->mu);
}

static void peer_writable(struct link_harness_peer *p, struct peer_conn *c)
{
    ssize_t n = send(c->fd, c->out.mem, c->out.len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        peer_end(p, c, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->seen.bytes_out += (uint64_t)n;
    pthread_mutex_unlock(&p->mu);
    dynbuf_consume(&c->out, (size_t)n);
    if (p->mode == LINK_HARNESS_GREET_RESET && c->out.len == 0)
        peer_reset(p, c);
    else if (c->eof && c->out.len == 0)
        peer_end(p, c, 0);
}

static void *peer_main(void *arg)
{
    struct link_harness_peer *p = arg;
    struct pollfd *pfds = p->pfds;
    size_t *which = p->which;
    for (;;) {
        size_t n = 0;
        pfds[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
        for (size_t i = 0; i < PEER_MAX_CONNS; i++) {
            struct peer_conn *c = &p->conns[i];
            if (c->fd < 0)
                continue;
            short ev = 0;
            if (!c->eof && c->out.len < PEER_OUT_MAX)
                ev |= POLLIN;
            if (c->out.len > 0)
                ev |= POLLOUT;
            which[n] = i;
            pfds[n++] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        if (poll(pfds, n, -1) < 0 && errno != EINTR)
            break;
        if (pfds[0].revents)
            break;
        if (pfds[1].revents)
            peer_accept(p);
        for (size_t k = 2; k < n; k++) {
            struct peer_conn *c = &p->conns[which[k]];
            if (c->fd >= 0 && (pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                peer_readable(p, c);
            if (c->fd >= 0 && (pfds[k].revents & POLLOUT))
                peer_writable(p, c);
        }
    }
    return NULL;
}

struct link_harness_peer *link_harness_peer_start(enum link_harness_mode mode)
{
    struct link_harness_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->mode = mode;
    p->wake[0] = p->wake[1] = -1;
    for (size_t i = 0; i < PEER_MAX_CONNS; i++)
        p->conns[i].fd = -1;
    pthread_mutex_init(&p->mu, NULL);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(p->lfd, 1024) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&sin, &len) != 0 ||
        pipe2(p->wake, O_CLOEXEC) != 0)
        goto fail;
    p->port = ntohs(sin.sin_port);
    if (pthread_create(&p->thread, NULL, peer_main, p) != 0)
        goto fail;
    return p;
fail:
    fprintf(stderr, "link_harness: peer setup: %s\n", strerror(errno));
    if (p->lfd >= 0)
        close(p->lfd);
    if (p->wake[0] >= 0) {
        close(p->wake[0]);
        close(p->wake[1]);
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
    return NULL;
}

unsigned link_harness_peer_port(const struct link_harness_peer *p)
{
    return p->port;
}

void link_harness_peer_greet(struct link_harness_peer *p, size_t n)
{
    pthread_mutex_lock(&p->mu);
    p->greet = n;
    pthread_mutex_unlock(&p->mu);
}

void link_harness_peer_seen(struct link_harness_peer *p, struct link_harness_seen *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->seen;
    pthread_mutex_unlock(&p->mu);
}

void link_harness_peer_stop(struct link_harness_peer *p)
{
    if (!p)
        return;
    char one = 1;
    if (write(p->wake[1], &one, 1) != 1)
        fprintf(stderr, "link_harness: write wake pipe: %s\n", strerror(errno));
    pthread_join(p->thread, NULL);
    for (size_t i = 0; i < PEER_MAX_CONNS; i++) {
        if (p->conns[i].fd >= 0) {
            close(p->conns[i].fd);
            dynbuf_free(&p->conns[i].out);
        }
    }
    close(p->lfd);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- the client side ------------------------------------------------------------ */

int link_harness_connect(unsigned port)
{
    struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
    return link_harness_connect_to(lo, port);
}

int link_harness_connect_to(struct in_addr addr, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr = addr;
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int link_harness_remote_addr(struct in_addr *out)
{
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0)
        return -1;
    int rc = -1;
    for (const struct ifaddrs *i = all; i && rc != 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
            continue;
        *out = sin->sin_addr;
        rc = 0;
    }
    freeifaddrs(all);
    return rc;
}

size_t link_harness_read_n(int fd, void *buf, size_t n, int timeout_ms, int *why)
{
    int64_t end = link_harness_now_ns() + (int64_t)timeout_ms * NS_PER_MS;
    size_t got = 0;
    *why = 0;
    while (got < n) {
        int64_t left_ms = (end - link_harness_now_ns() + NS_PER_MS - 1) / NS_PER_MS;
        if (left_ms < 0)
            left_ms = 0; /* still look once */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)left_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            *why = ETIMEDOUT;
            return got;
        }
        ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *why = errno;
            return got;
        }
        if (r == 0)
            return got;
        got += (size_t)r;
    }
    return got;
}

int link_harness_wait_end(int fd, int timeout_ms)
{
    char c;
    int why = 0;
    size_t got = link_harness_read_n(fd, &c, 1, timeout_ms, &why);
    return got == 1 ? EPROTO : why;
}
