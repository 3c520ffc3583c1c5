/* balancer.c: a scaled run's HAProxy: its config written, started, awaited, read (see
 * balancer.h).
 *
 * An instance that goes away must stop getting users at once, or leastconn (which sees it
 * with no connections) sends every reconnecting user to it first: it is marked down at
 * the first connection to it that fails (observe layer4, on-error mark-down), that
 * connection retried on another instance (option redispatch 1), and checked with GET
 * /time every 500 ms to come back. The checks are lenient (three misses of 2 s each): a
 * busy instance answering its flood of reconnects slowly must not be marked down too.
 * Measured with 2000 SSE users and an instance crashed: without them a third of its users
 * were still retrying at the end of a 4 s window.
 *
 * HAProxy prints nothing when it is ready, so readiness is its listening port accepting a
 * TCP connection (polled every 20 ms), or its early exit (a config it refused: its stderr
 * says why). HTTP mode keeps each request's own framing (chunked SSE, long-poll holds,
 * the WebSocket upgrade) and adds nothing to the bodies; `option http-buffer-request` is
 * off, and the default keep-alive mode keeps a user's connection to its instance for as
 * long as the user keeps it. `option http-no-delay` is what makes it fit for push: without
 * it HAProxy sends a chunk of a streamed response with MSG_MORE, expecting more, and an
 * SSE event then waits for the kernel's flush (about 100 ms more latency per update,
 * measured here with 200 SSE users at 5 updates a second: 6 ms mean with it, 111 without).
 */
#include "balancer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

const char *balancer_program(void)
{
    const char *p = getenv("PUSHPULL_HAPROXY");
    return p && p[0] ? p : "/usr/sbin/haproxy";
}

int balancer_write_config(struct balancer *b, const char *run_dir, const char *addr,
                          unsigned port, const char *const *backends, size_t n,
                          double hold_s, unsigned conns, char *err, size_t errlen)
{
    snprintf(b->cfg, sizeof(b->cfg), "%s/haproxy.cfg", run_dir);
    snprintf(b->listen, sizeof(b->listen), "%s:%u", addr, port);
    b->cpu_s = -1;
    b->peak_rss_kb = -1;
    FILE *f = fopen(b->cfg, "w");
    if (!f) {
        snprintf(err, errlen, "fopen %s: %s", b->cfg, strerror(errno));
        return -1;
    }
    long hold_ms = (long)(hold_s * 1000.0) + 1;
    fprintf(f,
            "# written by the conductor (lab/balancer.c) for this run only\n"
            "global\n"
            "    maxconn %u\n"
            "    nbthread 1\n"
            "\n"
            "defaults\n"
            "    mode http\n"
            "    option dontlognull\n"
            "    option http-no-delay\n"
            "    timeout connect 5s\n"
            "    timeout client %ldms\n"
            "    timeout server %ldms\n"
            "    timeout tunnel %ldms\n"
            "    timeout http-request 10s\n"
            "    timeout http-keep-alive %ldms\n"
            "    retries 3\n"
            "    option redispatch 1\n"
            "\n"
            "frontend users\n"
            "    bind %s:%u\n"
            "    maxconn %u\n"
            "    default_backend instances\n"
            "\n"
            "backend instances\n"
            "    balance leastconn\n"
            "    option httpchk GET /time\n"
            "    timeout check 2s\n"
            "    default-server check inter 500ms fall 3 rise 2 observe layer4 "
            "error-limit 1 on-error mark-down\n",
            conns + 100, hold_ms, hold_ms, hold_ms, hold_ms, addr, port, conns + 100);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "    server instance-%zu %s maxconn %u\n", i + 1, backends[i],
                conns + 100);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "writing %s: %s", b->cfg, strerror(errno));
        return -1;
    }
    return 0;
}

/* Does addr:port accept a connection? */
static bool accepts(const char *addr, unsigned port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
        return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    close(fd);
    return ok;
}

int balancer_start(struct balancer *b, const struct runargs *argv, const char *run_dir,
                   const char *addr, unsigned port, int timeout_ms, char *err,
                   size_t errlen)
{
    char outf[4200], errf[4200];
    snprintf(outf, sizeof(outf), "%s/haproxy.out", run_dir);
    snprintf(errf, sizeof(errf), "%s/haproxy.err", run_dir);
    struct proc_spec spec = {.argv = (const char *const *)argv->v,
                             .name = "haproxy",
                             .out = PROC_FILE,
                             .out_path = outf,
                             .err = PROC_FILE,
                             .err_path = errf};
    if (proc_start(&b->proc, &spec, err, errlen) != 0)
        return -1;
    int64_t end = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    while (clock_mono_ns() < end) {
        if (proc_poll(&b->proc)) {
            char how[96];
            proc_describe(&b->proc, how, sizeof(how));
            snprintf(err, errlen, "haproxy %s before it listened on %s (see %s)", how,
                     b->listen, errf);
            return -1;
        }
        if (accepts(addr, port))
            return 0;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    snprintf(err, errlen, "haproxy did not listen on %s within %d s (see %s)", b->listen,
             timeout_ms / 1000, errf);
    return -1;
}

int balancer_usage(struct balancer *b)
{
    return proc_usage(&b->proc, &b->cpu_s, &b->peak_rss_kb);
}
