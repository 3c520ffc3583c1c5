/* main.c: pushpull-link's command line: read the flags, start the link emulator,
 * stop it cleanly on SIGINT or SIGTERM, then print what it carried.
 *
 * SIGINT and SIGTERM are blocked and delivered through a signalfd that the event loop
 * watches, so stopping is ordinary code: every pair is closed, the summary goes to stderr
 * and --stats FILE is written. The first line on stdout is "listening on ADDR:PORT" (the
 * real port when --listen asks for port 0), flushed at once for whoever started us.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "link/link.h"
#include "link/link_report.h"
#include "flags.h"

#define PROGRAM "pushpull-link"
#include "units.h"

static const char usage_text[] =
    "usage: pushpull-link [--listen ADDR:PORT] [--upstream ADDR:PORT] [options]\n"
    "\n"
    "A TCP proxy that puts a network between pushpull's clients and its server: delay,\n"
    "jitter, a rate cap, a buffering middlebox and faults, per direction (up: client to\n"
    "server; down: server to client). Bytes stay in order; FINs follow the last byte.\n"
    "\n"
    "  --listen ADDR:PORT       where clients connect; port 0 picks a free one\n"
    "                           (default 127.0.0.1:8081; a bare PORT means 127.0.0.1).\n"
    "                           An address off loopback needs --allow-remote\n"
    "  --allow-remote           let --listen be off loopback (0.0.0.0, this host's\n"
    "                           address): other hosts may then use the server's open\n"
    "                           routes through the link; they reach it from this host's\n"
    "                           address, so its loopback-only routes stay closed to them\n"
    "  --upstream ADDR:PORT     the server (default 127.0.0.1:8080)\n"
    "  --delay DUR              one-way delay, both directions (default 0)\n"
    "  --delay-up DUR           one-way delay client to server (overrides --delay)\n"
    "  --delay-down DUR         one-way delay server to client (overrides --delay)\n"
    "  --jitter DUR             each segment's delay varies uniformly by +-DUR, never\n"
    "                           below 0; order is kept, both directions (default 0)\n"
    "  --rate RATE              bandwidth cap, both directions, e.g. 1mbit; 0 = none\n"
    "                           (default 0)\n"
    "  --rate-up RATE           bandwidth cap client to server (overrides --rate)\n"
    "  --rate-down RATE         bandwidth cap server to client (overrides --rate)\n"
    "  --queue N                bytes one direction may hold before the link stops\n"
    "                           reading its sender, about 48 more counted for each piece\n"
    "                           read (default 4M)\n"
    "  --buffer N               hold server-to-client bytes until N have gathered or the\n"
    "                           server closes (a buffering proxy); 0 = off (default 0).\n"
    "                           Byte-level: a short response on a kept-alive connection\n"
    "                           waits too, so use it in front of streams\n"
    "  --handshake              a new connection's first byte up waits one round trip,\n"
    "                           as after a real TCP handshake (default off)\n"
    "  --drop-every DUR         reset each connection this long after it opened; 0 = off\n"
    "                           (default 0)\n"
    "  --drop-rate P            chance per second that a connection is reset, 0 to 0.99\n"
    "                           (default 0)\n"
    "  --seed N                 seeds --drop-rate and --jitter (default 1)\n"
    "  --idle-timeout DUR       close (FIN) connections that moved no byte this long;\n"
    "                           0 = off (default 0)\n"
    "  --max-connections N      connections open at once; more are reset (default 8000;\n"
    "                           lowered, with a warning, to what the open-file limit\n"
    "                           allows: two descriptors each, 32 spare)\n"
    "  --stats FILE             write the counters as JSON to FILE on exit\n"
    "  -h, --help               this text\n"
    "\n"
    "--delay, --delay-up, --delay-down and --jitter need a unit (50ms, 1.5s, 200us);\n"
    "--drop-every and --idle-timeout take one too, a bare number meaning seconds. Rates\n"
    "are in bit, kbit, mbit or gbit per second. Counts take k and M: 64k. The summary of\n"
    "what was carried goes to stderr on exit.\n";

/* What the command line said, before it is folded into a link_config. */
struct args {
    struct link_config cfg; /* the settings */
    int64_t delay_ns;       /* --delay */
    int64_t delay_up_ns;    /* --delay-up, -1: not given */
    int64_t delay_down_ns;  /* --delay-down, -1: not given */
    int64_t jitter_ns;      /* --jitter */
    uint64_t rate_bps;      /* --rate */
    int64_t rate_up_bps;    /* --rate-up, -1: not given */
    int64_t rate_down_bps;  /* --rate-down, -1: not given */
    size_t buffer_bytes;    /* --buffer */
    const char *stats_path; /* --stats, or NULL */
};

/* A duration within [0, hi]. need_unit: a bare number other than 0 is refused, so
 * "--delay 50" cannot silently mean 50 seconds. */
static int64_t duration_arg(const char *flag, const char *v, int need_unit, int64_t hi,
                            const char *expected)
{
    int64_t ns;
    size_t len = strlen(v);
    int bare = len > 0 && (v[len - 1] == '.' || (v[len - 1] >= '0' && v[len - 1] <= '9'));
    if (units_parse_duration_ns(v, NS_PER_S, &ns) != 0 || ns > hi ||
        (need_unit && bare && ns != 0))
        flags_bad_value(flag, expected, v);
    return ns;
}

static uint64_t rate_arg(const char *flag, const char *v)
{
    uint64_t bps;
    if (units_parse_bitrate(v, &bps) != 0 || (bps != 0 && bps < 1000) ||
        bps > UINT64_C(100000000000))
        flags_bad_value(flag, "0 (no cap) or a rate from 1kbit to 100gbit, such as 1mbit",
                        v);
    return bps;
}

/* "ADDR:PORT" (IPv4 dotted quad) or a bare "PORT" meaning 127.0.0.1. */
static void addr_arg(const char *flag, const char *v, unsigned min_port,
                     struct sockaddr_in *out)
{
    char host[INET_ADDRSTRLEN] = "127.0.0.1";
    const char *port = v;
    const char *colon = strrchr(v, ':');
    if (colon) {
        size_t hlen = (size_t)(colon - v);
        if (hlen == 0 || hlen >= sizeof(host))
            flags_bad_value(flag, "ADDR:PORT with an IPv4 address, such as 127.0.0.1:8080",
                            v);
        memcpy(host, v, hlen);
        host[hlen] = '\0';
        port = colon + 1;
    }
    unsigned long p = 0;
    size_t digits = strspn(port, "0123456789");
    if (digits >= 1 && digits <= 5 && port[digits] == '\0')
        p = strtoul(port, NULL, 10);
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1 || digits == 0 || digits > 5 ||
        port[digits] != '\0' || p < min_port || p > 65535)
        flags_bad_value(flag,
                        min_port == 0
                            ? "ADDR:PORT with an IPv4 address and a port from 0 to 65535"
                            : "ADDR:PORT with an IPv4 address and a port from 1 to 65535",
                        v);
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_addr = a;
    out->sin_port = htons((uint16_t)p);
}

/* Refuse a --stats path whose directory cannot be written now, rather than after the
 * whole run. */
static void check_stats_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len >= sizeof(dir))
        flags_bad_value("stats", "a shorter path", path);
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (slash && len == 0)
        memcpy(dir, "/", 2);
    else if (!slash)
        memcpy(dir, ".", 2);
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "pushpull-link: --stats: cannot write in %s: %s\n", dir,
                strerror(errno));
        exit(2);
    }
}

static void parse_args(int argc, char **argv, struct args *a)
{
    enum {
        O_LISTEN = 256,
        O_UPSTREAM,
        O_DELAY,
        O_DELAY_UP,
        O_DELAY_DOWN,
        O_JITTER,
        O_RATE,
        O_RATE_UP,
        O_RATE_DOWN,
        O_QUEUE,
        O_BUFFER,
        O_HANDSHAKE,
        O_DROP_EVERY,
        O_DROP_RATE,
        O_SEED,
        O_IDLE,
        O_MAXCONN,
        O_STATS,
        O_ALLOW_REMOTE
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"upstream", required_argument, NULL, O_UPSTREAM},
        {"delay", required_argument, NULL, O_DELAY},
        {"delay-up", required_argument, NULL, O_DELAY_UP},
        {"delay-down", required_argument, NULL, O_DELAY_DOWN},
        {"jitter", required_argument, NULL, O_JITTER},
        {"rate", required_argument, NULL, O_RATE},
        {"rate-up", required_argument, NULL, O_RATE_UP},
        {"rate-down", required_argument, NULL, O_RATE_DOWN},
        {"queue", required_argument, NULL, O_QUEUE},
        {"buffer", required_argument, NULL, O_BUFFER},
        {"handshake", no_argument, NULL, O_HANDSHAKE},
        {"drop-every", required_argument, NULL, O_DROP_EVERY},
        {"drop-rate", required_argument, NULL, O_DROP_RATE},
        {"seed", required_argument, NULL, O_SEED},
        {"idle-timeout", required_argument, NULL, O_IDLE},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"stats", required_argument, NULL, O_STATS},
        {"allow-remote", no_argument, NULL, O_ALLOW_REMOTE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char delay_expected[] =
        "a duration with a unit from 0 to 60s, such as 50ms";
    struct link_config *cfg = &a->cfg;
    int c;
    flags_program(PROGRAM); /* one-line messages, getopt's own switched off */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            addr_arg("listen", optarg, 0, &cfg->listen);
            break;
        case O_UPSTREAM:
            addr_arg("upstream", optarg, 1, &cfg->upstream);
            break;
        case O_DELAY:
            a->delay_ns = duration_arg("delay", optarg, 1, 60 * NS_PER_S, delay_expected);
            break;
        case O_DELAY_UP:
            a->delay_up_ns =
                duration_arg("delay-up", optarg, 1, 60 * NS_PER_S, delay_expected);
            break;
        case O_DELAY_DOWN:
            a->delay_down_ns =
                duration_arg("delay-down", optarg, 1, 60 * NS_PER_S, delay_expected);
            break;
        case O_JITTER:
            a->jitter_ns = duration_arg("jitter", optarg, 1, 60 * NS_PER_S, delay_expected);
            break;
        case O_RATE:
            a->rate_bps = rate_arg("rate", optarg);
            break;
        case O_RATE_UP:
            a->rate_up_bps = (int64_t)rate_arg("rate-up", optarg);
            break;
        case O_RATE_DOWN:
            a->rate_down_bps = (int64_t)rate_arg("rate-down", optarg);
            break;
        case O_QUEUE:
            cfg->queue_bytes = flags_count("queue", optarg, 1024, UINT64_C(1) << 30);
            break;
        case O_BUFFER:
            a->buffer_bytes = flags_count("buffer", optarg, 0, UINT64_C(1) << 30);
            break;
        case O_HANDSHAKE:
            cfg->handshake = 1;
            break;
        case O_DROP_EVERY:
            cfg->drop_every_ns =
                duration_arg("drop-every", optarg, 0, 86400 * NS_PER_S,
                             "0 (off) or a duration up to 24h, such as 20s");
            if (cfg->drop_every_ns > 0 && cfg->drop_every_ns < NS_PER_MS)
                flags_bad_value("drop-every", "0 (off) or at least 1ms", optarg);
            break;
        case O_DROP_RATE:
            if (units_parse_number(optarg, &cfg->drop_rate) != 0 || cfg->drop_rate > 0.99)
                flags_bad_value("drop-rate", "a probability per second from 0 to 0.99",
                                optarg);
            break;
        case O_SEED:
            cfg->seed = flags_count("seed", optarg, 0, UINT64_MAX / 2);
            break;
        case O_IDLE:
            cfg->idle_timeout_ns =
                duration_arg("idle-timeout", optarg, 0, 86400 * NS_PER_S,
                             "0 (off) or a duration up to 24h, such as 30s");
            if (cfg->idle_timeout_ns > 0 && cfg->idle_timeout_ns < NS_PER_MS)
                flags_bad_value("idle-timeout", "0 (off) or at least 1ms", optarg);
            break;
        case O_MAXCONN:
            cfg->max_connections =
                (unsigned)flags_count("max-connections", optarg, 1, 1000000);
            break;
        case O_STATS:
            if (optarg[0] == '\0')
                flags_bad_value("stats", "a file name", optarg);
            a->stats_path = optarg;
            break;
        case O_ALLOW_REMOTE:
            cfg->allow_remote = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default: /* ':' a value is missing, '?' an unknown option */
            flags_getopt_error(c, argv);
        }
    }
    flags_no_operands(argc, argv);
    if (!cfg->allow_remote && !link_addr_is_loopback(cfg->listen.sin_addr)) {
        char addr[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &cfg->listen.sin_addr, addr, sizeof(addr));
        fprintf(stderr,
                "pushpull-link: --listen: %s is not a loopback address, so other hosts "
                "could use the server through the link; add --allow-remote if that is "
                "meant\n",
                addr);
        exit(2);
    }
    if (a->stats_path)
        check_stats_dir(a->stats_path);
    if (a->buffer_bytes > cfg->queue_bytes) {
        fprintf(stderr,
                "pushpull-link: --buffer: expected at most the --queue size (%zu bytes), "
                "got %zu\n",
                cfg->queue_bytes, a->buffer_bytes);
        exit(2);
    }
    /* Fold the general flags and the per-direction overrides, whatever their order. */
    cfg->up.delay_ns = a->delay_up_ns >= 0 ? a->delay_up_ns : a->delay_ns;
    cfg->down.delay_ns = a->delay_down_ns >= 0 ? a->delay_down_ns : a->delay_ns;
    cfg->up.jitter_ns = a->jitter_ns;
    cfg->down.jitter_ns = a->jitter_ns;
    cfg->up.rate_bps = a->rate_up_bps >= 0 ? (uint64_t)a->rate_up_bps : a->rate_bps;
    cfg->down.rate_bps = a->rate_down_bps >= 0 ? (uint64_t)a->rate_down_bps : a->rate_bps;
    cfg->down.hold_bytes = a->buffer_bytes; /* a buffering proxy holds responses only */
}

#define FD_SPARE                                                                           \
    32 /* descriptors kept beyond the pairs': stdio, epoll, timer, signals,                \
          --stats, and one to accept and reset a connection over the limit */

/* Every connection is two descriptors: lift the soft limit as far as needed. When the
 * hard limit is lower, carry only the connections that fit, so that one more is accepted
 * and reset (counted as refused), as --max-connections promises, instead of left in the
 * listen backlog when accept4 finds no descriptor. */
static void fit_fd_limit(struct link_config *cfg)
{
    rlim_t need = (rlim_t)cfg->max_connections * 2 + FD_SPARE;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur >= need)
        return;
    unsigned fit =
        rl.rlim_cur > FD_SPARE + 2 ? (unsigned)((rl.rlim_cur - FD_SPARE) / 2) : 1;
    fprintf(stderr,
            "pushpull-link: warning: open-file limit is %llu, below the %llu that "
            "--max-connections %u needs: carrying at most %u connections at once, more are "
            "reset (raise it with ulimit -n)\n",
            (unsigned long long)rl.rlim_cur, (unsigned long long)need, cfg->max_connections,
            fit);
    cfg->max_connections = fit;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void describe(const struct link_config *cfg, unsigned port)
{
    char listen_addr[INET_ADDRSTRLEN] = "?", up_addr[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &cfg->listen.sin_addr, listen_addr, sizeof(listen_addr));
    inet_ntop(AF_INET, &cfg->upstream.sin_addr, up_addr, sizeof(up_addr));
    fprintf(stderr,
            "pushpull-link: %s:%u -> %s:%u; delay up %gms down %gms, jitter %gms, rate up "
            "%llu down %llu bit/s (0 = none), buffer %zu, drop every %gs / %g per s, idle "
            "timeout %gs%s; Ctrl-C stops\n",
            listen_addr, port, up_addr, ntohs(cfg->upstream.sin_port),
            (double)cfg->up.delay_ns / NS_PER_MS, (double)cfg->down.delay_ns / NS_PER_MS,
            (double)cfg->up.jitter_ns / NS_PER_MS, (unsigned long long)cfg->up.rate_bps,
            (unsigned long long)cfg->down.rate_bps, cfg->down.hold_bytes,
            (double)cfg->drop_every_ns / NS_PER_S, cfg->drop_rate,
            (double)cfg->idle_timeout_ns / NS_PER_S, cfg->handshake ? ", handshake" : "");
}

int main(int argc, char **argv)
{
    struct args a;
    memset(&a, 0, sizeof(a));
    link_config_defaults(&a.cfg);
    a.cfg.listen.sin_port = htons(8081);
    a.cfg.upstream.sin_port = htons(8080);
    a.delay_up_ns = a.delay_down_ns = -1;
    a.rate_up_bps = a.rate_down_bps = -1;
    parse_args(argc, argv, &a);
    fit_fd_limit(&a.cfg);
    /* Wake-ups within a microsecond of the deadline instead of the default 50 us. */
    (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        fprintf(stderr, "pushpull-link: signalfd: %s\n", strerror(errno));
        return 1;
    }

    char err[256];
    struct link *l = link_new(&a.cfg, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "pushpull-link: %s\n", err);
        close(sfd);
        return 1;
    }
    char addr[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &a.cfg.listen.sin_addr, addr, sizeof(addr));
    printf("listening on %s:%u\n", addr, link_port(l));
    fflush(stdout);
    describe(&a.cfg, link_port(l));
    if (!link_addr_is_loopback(a.cfg.listen.sin_addr))
        fprintf(stderr,
                "pushpull-link: warning: --allow-remote: any host that reaches %s:%u can "
                "use the server through the link (no authentication, up to %u connections "
                "held as long as it likes); it reaches the server from this host's "
                "address, not loopback, so /publish, /control and /drop stay closed to "
                "it\n",
                addr, link_port(l), a.cfg.max_connections);

    int64_t t0 = clock_mono_ns();
    int rc = 0;
    if (link_run(l, sfd, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-link: %s\n", err);
        rc = 1;
    }
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        fprintf(stderr, "pushpull-link: %s, stopping\n",
                si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");

    struct link_counters c;
    link_counters_get(l, &c);
    struct link_report_run run = {.elapsed_s = (double)(clock_mono_ns() - t0) / 1e9,
                                  .cpu_s = cpu_seconds()};
    link_report_print(stderr, &c, &run);
    if (a.stats_path &&
        link_report_write_json(a.stats_path, &a.cfg, &c, &run, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-link: %s\n", err);
        rc = 1;
    }
    link_free(l);
    close(sfd);
    return rc;
}
