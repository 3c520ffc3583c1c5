/* fanout.c: how long one publish takes to reach every held connection, and what each held
 * connection costs the server in memory: bin/pushpull-fanout, the server alone (./run.sh
 * bench sets the lab server beside nginx + nchan, bench/).
 *
 * It starts the release server (bin/pushpull-server) on a free port, opens N idle SSE
 * streams, M held long polls and W WebSockets with plain non-blocking sockets on one epoll
 * (this process is the load, not the thing measured), waits until /stats says all of them
 * are open, reads the server's RSS, publishes one update, and times each connection's
 * receipt of it. Memory per held connection = (RSS with them held - RSS idle) /
 * (N + M + W). Times are from just before POST /publish is sent, so they include its
 * transit. A WebSocket's handshake is written by hand with RFC 6455's example key (the
 * server's frames are unmasked, so the marker is found in the raw bytes as for the
 * others); the WebSockets' pings are off with the streams' heartbeat (10 minutes).
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>

#include "clock.h"
#include "tests/harness.h"
#include "units.h"

#define MARKER "\"data\":\"fanout-marker\""

struct held {
    int fd;
    int64_t got_ns; /* when the marker arrived; 0 until then */
    char tail[48];  /* last bytes seen, so a marker split across reads is found */
    size_t tail_len;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int open_held(unsigned port, const char *request, int ep, struct held *h)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        harness_send(fd, request, strlen(request)) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    h->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Read what is there; note the marker. */
static void drain(struct held *h)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(h->fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        if (h->got_ns)
            continue;
        char joined[sizeof(h->tail) + sizeof(buf)];
        memcpy(joined, h->tail, h->tail_len);
        memcpy(joined + h->tail_len, buf, (size_t)n);
        size_t len = h->tail_len + (size_t)n;
        if (memmem(joined, len, MARKER, strlen(MARKER)))
            h->got_ns = clock_mono_ns();
        h->tail_len = len < sizeof(h->tail) ? len : sizeof(h->tail);
        memcpy(h->tail, joined + len - h->tail_len, h->tail_len);
    }
}

int main(int argc, char **argv)
{
    uint64_t nsse = 10000, nlp = 9000, nws = 0;
    static const struct option opts[] = {{"sse", required_argument, NULL, 's'},
                                         {"longpoll", required_argument, NULL, 'l'},
                                         {"ws", required_argument, NULL, 'w'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 's' && units_parse_count(optarg, &nsse) == 0)
            continue;
        if (c == 'l' && units_parse_count(optarg, &nlp) == 0)
            continue;
        if (c == 'w' && units_parse_count(optarg, &nws) == 0)
            continue;
        fprintf(stderr,
                c == 'h' ? "" : "pushpull-fanout: --%s: expected a count like 10k\n",
                c == 's'   ? "sse"
                : c == 'l' ? "longpoll"
                           : "ws");
        fputs("usage: pushpull-fanout [--sse N (10k)] [--longpoll N (9k)] [--ws N (0)]\n",
              stderr);
        return c == 'h' ? 0 : 2;
    }
    uint64_t total = nsse + nlp + nws;
    if (total == 0) {
        fputs("pushpull-fanout: nothing to hold (--sse, --longpoll and --ws are all 0)\n",
              stderr);
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (total + 64 > rl.rlim_cur) {
        fprintf(stderr,
                "pushpull-fanout: %llu connections need more than the open-file limit "
                "of %llu (ulimit -n)\n",
                (unsigned long long)total, (unsigned long long)rl.rlim_cur);
        return 2;
    }
    setenv("PUSHPULL_SERVER", "bin/pushpull-server", 0);
    const char *args[] = {"--rate", "0", "--heartbeat", "10m", "--longpoll-timeout",
                          "120s",   NULL};
    struct harness_server srv;
    if (harness_server_start(&srv, args) != 0)
        return 1;
    cJSON *st = harness_stats(srv.port);
    double rss0 = harness_stat(st, "rss_kib"), cpu0 = harness_stat(st, "cpu_s");
    cJSON_Delete(st);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct held *h = calloc(total, sizeof(*h));
    int64_t t_open = clock_mono_ns();
    for (uint64_t i = 0; i < total; i++) {
        const char *req = i < nsse ? "GET /events HTTP/1.1\r\nHost: bench\r\n\r\n"
                          : i < nsse + nlp
                              ? "GET /longpoll?since=0 HTTP/1.1\r\nHost: bench\r\n\r\n"
                              : "GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        if (open_held(srv.port, req, ep, &h[i]) != 0) {
            fprintf(stderr, "pushpull-fanout: connection %llu: %s\n", (unsigned long long)i,
                    strerror(errno));
            return 1;
        }
    }
    /* Held: streams and polls parked on the feed (the WebSocket thread parks one waiter
     * for all its connections, so those count as open WebSockets instead). */
    double parked = 0;
    int64_t give_up = clock_mono_ns() + 120 * NS_PER_S;
    while (parked < (double)total && clock_mono_ns() < give_up) {
        struct epoll_event evs[1024];
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++)
            drain(evs[i].data.ptr);
        st = harness_stats(srv.port);
        double ws_open = harness_stat(st, "transports.ws.open");
        parked = harness_stat(st, "parked") - (ws_open > 0 ? 1 : 0) + ws_open;
        cJSON_Delete(st);
    }
    double open_s = (double)(clock_mono_ns() - t_open) / 1e9;
    st = harness_stats(srv.port);
    double rss1 = harness_stat(st, "rss_kib"), cpu1 = harness_stat(st, "cpu_s");
    cJSON_Delete(st);
    if (parked < (double)total) {
        fprintf(stderr, "pushpull-fanout: only %.0f of %llu connections held\n", parked,
                (unsigned long long)total);
        return 1;
    }

    /* Send the publish without waiting for its answer: its 201 only comes once every
     * waiter is woken, and this process must be reading the held sockets meanwhile. */
    int pub = harness_connect(srv.port);
    static const char pubreq[] = "POST /publish HTTP/1.1\r\nHost: bench\r\n"
                                 "Content-Length: 13\r\n\r\nfanout-marker";
    int64_t t0 = clock_mono_ns();
    if (pub < 0 || harness_send(pub, pubreq, sizeof(pubreq) - 1) != 0) {
        fprintf(stderr, "pushpull-fanout: POST /publish: %s\n", strerror(errno));
        return 1;
    }
    uint64_t got = 0;
    give_up = clock_mono_ns() + 60 * NS_PER_S;
    while (got < total && clock_mono_ns() < give_up) {
        struct epoll_event evs[1024];
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++) {
            struct held *x = evs[i].data.ptr;
            bool before = x->got_ns != 0;
            drain(x);
            if (!before && x->got_ns)
                got++;
        }
    }
    struct harness_response pr;
    if (harness_read_response(pub, &pr, 10000) != 0 || pr.status != 201)
        fprintf(stderr, "pushpull-fanout: POST /publish was not answered 201\n");
    int64_t t_pub = clock_mono_ns();
    harness_response_free(&pr);
    close(pub);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double self_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                      ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    st = harness_stats(srv.port);
    double cpu2 = harness_stat(st, "cpu_s"), rss2 = harness_stat(st, "rss_kib");
    cJSON_Delete(st);
    /* WebSockets let their framing contexts go after 2 s of quiet (servers/ws_conn_io.c):
     * what the server holds once they have. */
    double rss3 = rss2;
    if (nws > 0) {
        harness_sleep_ms(3000);
        st = harness_stats(srv.port);
        rss3 = harness_stat(st, "rss_kib");
        cJSON_Delete(st);
    }
    int64_t *lat = calloc(total, sizeof(*lat));
    for (uint64_t i = 0; i < total; i++)
        lat[i] = h[i].got_ns ? h[i].got_ns - t0 : INT64_MAX;
    qsort(lat, total, sizeof(*lat), cmp_i64);
    printf("fan-out of one update to %llu held connections (%llu SSE + %llu long polls + "
           "%llu WebSockets)\n",
           (unsigned long long)total, (unsigned long long)nsse, (unsigned long long)nlp,
           (unsigned long long)nws);
    printf("  delivered        %llu of %llu\n", (unsigned long long)got,
           (unsigned long long)total);
    printf("  first receipt    %8.2f ms\n", (double)lat[0] / 1e6);
    printf("  median receipt   %8.2f ms\n", (double)lat[total / 2] / 1e6);
    printf("  p99 receipt      %8.2f ms\n", (double)lat[total * 99 / 100] / 1e6);
    printf("  last receipt     %8.2f ms\n", (double)lat[total - 1] / 1e6);
    printf("  publish answered %8.2f ms or sooner (it returns once all are woken)\n",
           (double)(t_pub - t0) / 1e6);
    printf("  server RSS       %8.0f KiB idle, %.0f KiB holding them: %.1f KiB per "
           "connection\n",
           rss0, rss1, (rss1 - rss0) / (double)total);
    if (nws > 0)
        printf(
            "  server RSS       %8.0f KiB after the fan-out, %.0f KiB 3 s later (framing "
            "contexts freed): %.1f KiB per connection\n",
            rss2, rss3, (rss3 - rss0) / (double)total);
    printf(
        "  server CPU       %8.3f s to accept and park them (%.1f s wall), %.3f s for the "
        "fan-out\n",
        cpu1 - cpu0, open_s, cpu2 - cpu1);
    printf("  bench CPU        %8.3f s in all (this process: the load, not the server)\n",
           self_cpu);
    for (uint64_t i = 0; i < total; i++)
        close(h[i].fd);
    free(h);
    free(lat);
    close(ep);
    int rc = harness_server_stop(&srv);
    return got == total && rc == 0 ? 0 : 1;
}
