/* main.c: pushpull-server's command line: read the flags, start the feed, the generator
 * and the daemon, and stop them all cleanly on SIGINT or SIGTERM, or die at once on
 * SIGUSR1.
 *
 * Signals are blocked in every thread and taken here with sigwait, so shutdown runs as
 * ordinary code (server_stop answers held polls and ends streams) rather than inside a
 * signal handler. SIGUSR1 is a crash on purpose, for the lab's restart experiment: no
 * goodbye to anyone (no "event: end", held polls unanswered), the kernel closes every
 * connection as it would after kill -9. The only thing done first is what a lab needs
 * to keep its numbers whole: the generator stops and the /stats document is printed as
 * one line on stdout, then _exit skips every destructor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "dynbuf.h"
#include "generator.h"
#include "redis_conn.h"
#include "server.h"
#include "stats_route.h"
#include "flags.h"

#define PROGRAM "pushpull-server"
#include "units.h"

static const char usage_text[] =
    "usage: pushpull-server [options]\n"
    "\n"
    "Serves one changing feed four ways: GET /poll (short polling, ETag/304, ?since=N),\n"
    "GET /longpoll?since=N (long polling), GET /events (Server-Sent Events), GET /ws\n"
    "(WebSocket, ?since=N; text frames sent up are published); plus\n"
    "GET /stats[?client=TAG], the demo page at /, and for loopback peers only\n"
    "POST /publish (every peer with --open-publish), POST /control?rate=HZ and\n"
    "POST /drop.\n"
    "\n"
    "  --bind ADDR              listen address (default 127.0.0.1; 0.0.0.0 for all, with\n"
    "                           a warning: the network can then reach the feed)\n"
    "  --port N                 TCP port, 0 picks a free one (default 8080)\n"
    "  --buffer N               updates kept for cursors and Last-Event-ID (default 1024)\n"
    "  --rate HZ                generated updates per second, 0 = only /publish (default "
    "1)\n"
    "  --process KIND           periodic | poisson | burst | trace (default periodic)\n"
    "  --trace FILE             CSV of publish times in seconds from the start (header\n"
    "                           t_s optional); implies --process trace\n"
    "  --burst-size N           updates per burst with --process burst (default 10)\n"
    "  --payload-bytes N        bytes of generated data per update (default 64)\n"
    "  --seed N                 generator seed (default 1)\n"
    "  --longpoll-timeout DUR   hold a long poll at most this long, <= 120s (default 30s)\n"
    "  --retry-ms DUR           SSE retry: sent to clients (default 3000ms)\n"
    "  --heartbeat DUR          SSE comment, WebSocket ping after this much silence, 0 =\n"
    "                           off (default 15s); a WebSocket peer that answers no ping\n"
    "                           for two heartbeats is cut\n"
    "  --max-connections N      answer 503 beyond this many connections (default 20000,\n"
    "                           or what the open-file limit allows)\n"
    "  --request-timeout DUR    close a connection whose request is not whole this long\n"
    "                           after it began, or a new one silent that long (default "
    "10s)\n"
    "  --idle-timeout DUR       close a keep-alive connection silent this long between\n"
    "                           requests (default 120s); held polls and streams are "
    "exempt\n"
    "  --threads N              libmicrohttpd worker threads (default 2)\n"
    "  --max-publish-bytes N    largest POST /publish body or WebSocket message (default\n"
    "                           64k)\n"
    "  --open-publish           every peer may publish (POST /publish, WebSocket text\n"
    "                           frames), not only loopback ones; /control and /drop stay\n"
    "                           loopback-only\n"
    "  --local-peer ADDR        only peers from this loopback address count as loopback\n"
    "                           for those routes (default: all of 127.0.0.0/8)\n"
    "  --www DIR                the demo page's files, served at / (default servers/www)\n"
    "  --feed-file PATH         keep the feed in this append-only log and reload it at\n"
    "                           start: sequence numbers survive a restart (default: none)\n"
    "  --redis HOST:PORT        keep the feed in a Redis stream that every instance given\n"
    "                           the same address and key shares: any of them publishes,\n"
    "                           each follows it (Redis must answer at start)\n"
    "  --redis-key NAME         the stream's key; NAME:seq, NAME:ts, NAME:epoch and\n"
    "                           NAME:pubs sit beside it (default pushpull:feed)\n"
    "  --redis-maxlen N         trim the stream to about N updates, at least --buffer\n"
    "                           (default 10k, or --buffer if larger)\n"
    "  --clock-offset-ms MS     test aid: stamps and GET /time read MS ms ahead\n"
    "  -h, --help               this text\n"
    "\n"
    "Durations take a unit: 250ms, 30s, 2m (a bare number means seconds, or ms for\n"
    "--retry-ms). Counts take k and M: 10k. The first line on stdout is\n"
    "\"listening on http://ADDR:PORT\".\n"
    "\n"
    "SIGINT and SIGTERM stop politely (streams get \"event: end\", held polls an answer).\n"
    "SIGUSR1 crashes on purpose (the lab's restart experiment): the /stats document is\n"
    "printed as one line on stdout, then the process exits without a goodbye to anyone.\n";

static int64_t duration_arg(const char *flag, const char *v, int64_t bare_unit, int64_t lo,
                            int64_t hi, const char *expected)
{
    int64_t ns;
    if (units_parse_duration_ns(v, bare_unit, &ns) != 0 || ns < lo || ns > hi)
        flags_bad_value(flag, expected, v);
    return ns;
}

/* Why no TCP connection can ever arrive at address a (network order), or NULL when one
 * may: broadcast and multicast addresses take no connections (RFC 1122 section 4.2.3.10),
 * nor do 240.0.0.0/4 (reserved) and 0.0.0.0/8 other than 0.0.0.0 itself ("this network").
 * An address that is not this machine's is refused by the bind itself. */
static const char *bind_refusal(struct in_addr a)
{
    uint32_t h = ntohl(a.s_addr);
    if (h == INADDR_BROADCAST)
        return "the broadcast address";
    if (IN_MULTICAST(h))
        return "a multicast address";
    if ((h >> 28) == 0xF)
        return "a reserved address (240.0.0.0/4)";
    if ((h >> 24) == 0 && h != INADDR_ANY)
        return "no host's address (0.0.0.0/8)";
    /* the broadcast address of a local network, which the kernel lets one bind */
    static char why[96];
    struct ifaddrs *ifs = NULL;
    const char *found = NULL;
    if (getifaddrs(&ifs) == 0) {
        /* An address an interface holds is a host's, whatever a broadcast field says:
         * an address added without "brd" reports itself as its broadcast address. */
        bool own = false;
        for (struct ifaddrs *i = ifs; i && !own; i = i->ifa_next) {
            const struct sockaddr_in *own_addr = (const struct sockaddr_in *)i->ifa_addr;
            own = own_addr && own_addr->sin_family == AF_INET &&
                  own_addr->sin_addr.s_addr == a.s_addr;
        }
        for (struct ifaddrs *i = ifs; i && !found && !own; i = i->ifa_next) {
            const struct sockaddr_in *b = (const struct sockaddr_in *)i->ifa_broadaddr;
            if ((i->ifa_flags & IFF_BROADCAST) && b && b->sin_family == AF_INET &&
                b->sin_addr.s_addr == a.s_addr) {
                snprintf(why, sizeof(why), "the broadcast address of %s", i->ifa_name);
                found = why;
            }
        }
        freeifaddrs(ifs);
    }
    return found;
}

/* The feed through Redis and the durable feed are two homes for one feed: one at a time.
 * The stream must hold at least what the ring does, or a starting instance could not
 * fill its ring. */
static void check_redis_args(const struct server_config *cfg)
{
    if (cfg->redis[0] && cfg->feed_file[0]) {
        fputs(
            "pushpull-server: --redis and --feed-file: expected one of them (with --redis "
            "the feed lives in Redis; its persistence is Redis's)\n",
            stderr);
        exit(2);
    }
    if (cfg->redis_maxlen > 0 && cfg->redis_maxlen < cfg->buffer) {
        fprintf(stderr,
                "pushpull-server: --redis-maxlen: expected at least --buffer (%zu), got "
                "%zu\n",
                cfg->buffer, cfg->redis_maxlen);
        exit(2);
    }
}

static void parse_args(int argc, char **argv, struct server_config *cfg, bool *explicit_max)
{
    enum {
        O_BIND = 256,
        O_REDIS,
        O_REDISKEY,
        O_REDISMAXLEN,
        O_PORT,
        O_BUFFER,
        O_RATE,
        O_PROCESS,
        O_BURST,
        O_PAYLOAD,
        O_SEED,
        O_LPTIMEOUT,
        O_RETRY,
        O_HEARTBEAT,
        O_MAXCONN,
        O_REQTIMEOUT,
        O_IDLETIMEOUT,
        O_THREADS,
        O_MAXPUB,
        O_TRACE,
        O_WWW,
        O_FEEDFILE,
        O_OPENPUB,
        O_LOCALPEER,
        O_CLOCKOFFSET
    };
    static const struct option opts[] = {
        {"bind", required_argument, NULL, O_BIND},
        {"redis", required_argument, NULL, O_REDIS},
        {"redis-key", required_argument, NULL, O_REDISKEY},
        {"redis-maxlen", required_argument, NULL, O_REDISMAXLEN},
        {"port", required_argument, NULL, O_PORT},
        {"buffer", required_argument, NULL, O_BUFFER},
        {"rate", required_argument, NULL, O_RATE},
        {"process", required_argument, NULL, O_PROCESS},
        {"burst-size", required_argument, NULL, O_BURST},
        {"payload-bytes", required_argument, NULL, O_PAYLOAD},
        {"seed", required_argument, NULL, O_SEED},
        {"longpoll-timeout", required_argument, NULL, O_LPTIMEOUT},
        {"retry-ms", required_argument, NULL, O_RETRY},
        {"heartbeat", required_argument, NULL, O_HEARTBEAT},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"request-timeout", required_argument, NULL, O_REQTIMEOUT},
        {"idle-timeout", required_argument, NULL, O_IDLETIMEOUT},
        {"threads", required_argument, NULL, O_THREADS},
        {"max-publish-bytes", required_argument, NULL, O_MAXPUB},
        {"trace", required_argument, NULL, O_TRACE},
        {"www", required_argument, NULL, O_WWW},
        {"feed-file", required_argument, NULL, O_FEEDFILE},
        {"open-publish", no_argument, NULL, O_OPENPUB},
        {"local-peer", required_argument, NULL, O_LOCALPEER},
        {"clock-offset-ms", required_argument, NULL, O_CLOCKOFFSET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    flags_program(PROGRAM); /* one-line messages, getopt's own switched off */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_BIND: {
            struct in_addr a;
            if (strlen(optarg) >= sizeof(cfg->bind) || inet_pton(AF_INET, optarg, &a) != 1)
                flags_bad_value("bind", "an IPv4 address such as 127.0.0.1", optarg);
            const char *why = bind_refusal(a);
            if (why) {
                fprintf(
                    stderr,
                    "pushpull-server: --bind: %s is %s, where no connection can arrive; "
                    "expected an address of this machine such as 127.0.0.1, or 0.0.0.0 "
                    "for all\n",
                    optarg, why);
                exit(2);
            }
            snprintf(cfg->bind, sizeof(cfg->bind), "%s", optarg);
            break;
        }
        case O_PORT:
            cfg->port = (unsigned)flags_count("port", optarg, 0, 65535);
            break;
        case O_BUFFER:
            cfg->buffer = flags_count("buffer", optarg, 1, 10000000);
            break;
        case O_RATE:
            if (units_parse_number(optarg, &cfg->rate_hz) != 0 ||
                cfg->rate_hz > GEN_MAX_RATE_HZ ||
                (cfg->rate_hz > 0 && cfg->rate_hz < GEN_MIN_RATE_HZ))
                flags_bad_value("rate", "0, or updates per second from 0.001 to 100000",
                                optarg);
            break;
        case O_PROCESS:
            if (strcmp(optarg, "periodic") == 0)
                cfg->process = GEN_PERIODIC;
            else if (strcmp(optarg, "poisson") == 0)
                cfg->process = GEN_POISSON;
            else if (strcmp(optarg, "burst") == 0)
                cfg->process = GEN_BURST;
            else if (strcmp(optarg, "trace") == 0)
                cfg->process = GEN_TRACE;
            else
                flags_bad_value("process", "periodic, poisson, burst or trace", optarg);
            break;
        case O_FEEDFILE:
            if (strlen(optarg) >= sizeof(cfg->feed_file))
                flags_bad_value("feed-file", "a shorter file name", optarg);
            snprintf(cfg->feed_file, sizeof(cfg->feed_file), "%s", optarg);
            break;
        case O_REDIS: {
            struct redis_addr a;
            char why[160];
            if (redis_addr_parse(optarg, &a, why, sizeof(why)) != 0 ||
                strlen(optarg) >= sizeof(cfg->redis))
                flags_bad_value("redis", "HOST:PORT such as 127.0.0.1:6379", optarg);
            snprintf(cfg->redis, sizeof(cfg->redis), "%s", optarg);
            break;
        }
        case O_REDISKEY: {
            bool printable = optarg[0] != '\0' && strlen(optarg) < sizeof(cfg->redis_key);
            for (const char *p = optarg; printable && *p; p++)
                printable = *p > ' ' && *p < 0x7f;
            if (!printable)
                flags_bad_value("redis-key",
                                "a key of 1 to 255 printable ASCII characters, no spaces",
                                optarg);
            snprintf(cfg->redis_key, sizeof(cfg->redis_key), "%s", optarg);
            break;
        }
        case O_REDISMAXLEN:
            cfg->redis_maxlen = flags_count("redis-maxlen", optarg, 1, 1000000000);
            break;
        case O_WWW:
            if (strlen(optarg) >= sizeof(cfg->www))
                flags_bad_value("www", "a shorter directory name", optarg);
            snprintf(cfg->www, sizeof(cfg->www), "%s", optarg);
            break;
        case O_TRACE: {
            if (strlen(optarg) >= sizeof(cfg->trace))
                flags_bad_value("trace", "a shorter file name", optarg);
            snprintf(cfg->trace, sizeof(cfg->trace), "%s", optarg);
            cfg->process = GEN_TRACE;
            /* Read it now, so a bad trace is one line and exit 2 before anything starts. */
            int64_t *offsets = NULL;
            size_t n = 0;
            char err[512];
            if (generator_load_trace(cfg->trace, &offsets, &n, err, sizeof(err)) != 0) {
                fprintf(stderr, "pushpull-server: %s\n", err);
                exit(2);
            }
            free(offsets);
            break;
        }
        case O_BURST:
            cfg->burst_size = (unsigned)flags_count("burst-size", optarg, 1, 100000);
            break;
        case O_PAYLOAD:
            cfg->payload_bytes = flags_count("payload-bytes", optarg, 0, 16 * 1024 * 1024);
            break;
        case O_SEED:
            cfg->seed = flags_count("seed", optarg, 0, UINT64_MAX / 2);
            break;
        case O_LPTIMEOUT:
            cfg->longpoll_timeout_ns =
                duration_arg("longpoll-timeout", optarg, NS_PER_S, NS_PER_S, 120 * NS_PER_S,
                             "a duration from 1s to 120s");
            break;
        case O_RETRY:
            cfg->retry_ms =
                (unsigned)(duration_arg("retry-ms", optarg, NS_PER_MS, 0, 3600 * NS_PER_S,
                                        "a duration from 0ms to 1h") /
                           NS_PER_MS);
            break;
        case O_HEARTBEAT:
            cfg->heartbeat_ns =
                duration_arg("heartbeat", optarg, NS_PER_S, 0, 3600 * NS_PER_S,
                             "a duration from 0 (off) to 1h");
            if (cfg->heartbeat_ns > 0 && cfg->heartbeat_ns < 10 * NS_PER_MS)
                flags_bad_value("heartbeat", "0 (off) or at least 10ms", optarg);
            break;
        case O_MAXCONN:
            cfg->max_connections =
                (unsigned)flags_count("max-connections", optarg, 1, 1000000);
            *explicit_max = true;
            break;
        case O_REQTIMEOUT:
            cfg->request_timeout_ns =
                duration_arg("request-timeout", optarg, NS_PER_S, NS_PER_S, 3600 * NS_PER_S,
                             "a duration from 1s to 1h");
            break;
        case O_IDLETIMEOUT:
            cfg->idle_timeout_ns =
                duration_arg("idle-timeout", optarg, NS_PER_S, NS_PER_S, 3600 * NS_PER_S,
                             "a duration from 1s to 1h");
            break;
        case O_THREADS:
            cfg->threads = (unsigned)flags_count("threads", optarg, 1, 256);
            break;
        case O_MAXPUB:
            cfg->max_publish_bytes =
                flags_count("max-publish-bytes", optarg, 1, 16 * 1024 * 1024);
            break;
        case O_OPENPUB:
            cfg->open_publish = true;
            break;
        case O_LOCALPEER: {
            struct in_addr a;
            if (inet_pton(AF_INET, optarg, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
                flags_bad_value("local-peer", "a loopback IPv4 address such as 127.0.0.1",
                                optarg);
            cfg->local_peer = a.s_addr;
            break;
        }
        case O_CLOCKOFFSET: {
            /* a test aid (clock.h): every stamp and GET /time read this much ahead */
            char *end = NULL;
            errno = 0;
            double ms = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' || !(ms >= -86400000.0) ||
                !(ms <= 86400000.0))
                flags_bad_value(
                    "clock-offset-ms",
                    "milliseconds from -86400000 to 86400000 (like 250 or -40.5)", optarg);
            clock_real_offset_ns = (int64_t)(ms * (double)NS_PER_MS);
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default: /* ':' a value is missing, '?' an unknown option */
            flags_getopt_error(c, argv);
        }
    }
    if (cfg->process == GEN_TRACE && cfg->trace[0] == '\0') {
        fputs("pushpull-server: --process trace: expected --trace FILE as well\n", stderr);
        exit(2);
    }
    check_redis_args(cfg);
    flags_no_operands(argc, argv);
}

/* Every connection is a file descriptor, and the server needs server_fd_reserve() more
 * (its own, and room to answer 503 beyond the limit): lift the soft open-file limit as far
 * as needed. When the hard limit is lower, the connection limit shrinks to what fits, so
 * that accepting never fails for want of a descriptor (which would leave new clients
 * waiting with no answer at all); a value given explicitly draws a warning as it
 * shrinks. */
static void fit_fd_limit(struct server_config *cfg, bool explicit_max)
{
    rlim_t reserve = server_fd_reserve(cfg);
    rlim_t need = (rlim_t)cfg->max_connections + reserve;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= need)
        return;
    if (rl.rlim_cur < reserve + 16) {
        fprintf(stderr,
                "pushpull-server: the open-file limit here is %llu (ulimit -n); the server "
                "needs at least %llu\n",
                (unsigned long long)rl.rlim_cur, (unsigned long long)(reserve + 16));
        exit(1);
    }
    unsigned fits = (unsigned)(rl.rlim_cur - reserve);
    if (explicit_max)
        fprintf(stderr,
                "pushpull-server: warning: --max-connections %u needs %llu open files; the "
                "limit here is %llu (ulimit -n), so %u connections are served\n",
                cfg->max_connections, (unsigned long long)need,
                (unsigned long long)rl.rlim_cur, fits);
    cfg->max_connections = fits;
}

/* SIGUSR1: the final /stats on stdout, then die without closing anything (see the top).
 * Requests answered between the render and _exit are not in the document: the window
 * is the time it takes to write one line. */
static _Noreturn void crash(struct server *srv)
{
    generator_stop(srv->gen); /* the document's publish count is then final */
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    int rc = stats_route_render(srv, &b);
    if (rc == 0)
        rc = dynbuf_adds(&b, "\n");
    if (rc == 0 && (fwrite(b.mem, 1, b.len, stdout) != b.len || fflush(stdout) != 0))
        rc = -1;
    fprintf(stderr, "pushpull-server: SIGUSR1, crashing on purpose%s\n",
            rc == 0 ? "" : " (the /stats document could not be written)");
    _exit(rc == 0 ? 0 : 1);
}

int main(int argc, char **argv)
{
    struct server_config cfg;
    server_config_defaults(&cfg);
    bool explicit_max = false;
    parse_args(argc, argv, &cfg, &explicit_max);
    fit_fd_limit(&cfg, explicit_max);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);

    char err[256];
    struct server srv;
    if (server_start(&srv, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-server: %s\n", err);
        return 1;
    }
    /* Started even at rate 0 (it then idles), so POST /control can set a rate later. */
    struct generator *gen = generator_start(srv.feed, &cfg, err, sizeof(err));
    if (!gen) {
        fprintf(stderr, "pushpull-server: %s\n", err);
        server_stop(&srv);
        return 1;
    }
    srv.gen = gen;
    printf("listening on http://%s:%u\n", cfg.bind, srv.port);
    fflush(stdout);
    struct in_addr bound;
    if (inet_pton(AF_INET, cfg.bind, &bound) == 1 && (ntohl(bound.s_addr) >> 24) != 127)
        fprintf(
            stderr,
            "pushpull-server: warning: listening on %s, beyond loopback: other machines "
            "can reach the feed and /stats (%s)\n",
            cfg.bind,
            cfg.open_publish ? "and, with --open-publish, publish to it; /control and "
                               "/drop stay loopback-only"
                             : "POST /publish, WebSocket messages, /control and /drop "
                               "stay loopback-only");
    fprintf(
        stderr,
        "pushpull-server: feed of %zu, %s updates at %g Hz (%zu-byte payloads), long-poll "
        "timeout %gs, SSE retry %ums, heartbeat %gs; Ctrl-C stops\n",
        cfg.buffer, generator_process_name(cfg.process), cfg.rate_hz, cfg.payload_bytes,
        (double)cfg.longpoll_timeout_ns / 1e9, cfg.retry_ms,
        (double)cfg.heartbeat_ns / 1e9);

    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGUSR1)
        crash(&srv);
    fprintf(stderr, "pushpull-server: %s, stopping\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    generator_stop(gen); /* no publish into a feed being torn down */
    server_stop(&srv);   /* requests may still read the generator's rate until here */
    generator_free(gen);
    return 0;
}
