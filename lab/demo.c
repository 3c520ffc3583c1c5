/* demo.c: pushpull-lab demo, the classroom demo: the server with a live generator, the
 * link emulator in front of it, and the page (servers/www) served through the link.
 *
 * Two programs, started with common/proc and stopped together. The server listens on
 * 127.0.0.1 at a free port and counts only 127.0.0.1 as loopback (--local-peer), so its
 * loopback-only routes (POST /publish, /control, /drop, WebSocket messages) answer no
 * one but this machine's own 127.0.0.1. The link listens where the room connects
 * (--bind, default 127.0.0.1; --port, default 8080) and adds --delay each way, so every
 * panel's traffic, the page itself and its /stats reads cross the same network: long
 * polling pays its extra round trip per update where SSE and the WebSocket do not. The
 * link passes a client on from the address it reached the link at (link/link_pairs.c):
 * a student's machine reaches the server from this host's address, and a second loopback
 * door (--bind 127.0.0.2, as the tests use) from 127.0.0.2, so both find the
 * loopback-only routes closed. Beyond loopback the link needs --allow-remote, which the
 * demo passes and the link warns about on stderr.
 *
 * Readiness is each program's first stdout line ("listening on ..."); the demo then
 * prints the page's URL first on stdout, then the server's own address. It runs until
 * SIGINT or SIGTERM, or until either program ends on its own; then the link is stopped
 * (its connections to the server close), then the server, each by pid with SIGTERM and a
 * bounded wait. The programs run in process groups of their own (proc.h), so a Ctrl-C at
 * the terminal reaches only the demo, which stops them in that order.
 */
#include "demo.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "flags.h"
#include "proc.h"
#include "units.h"

#define DEMO_READY_MS     15000 /* for each program's "listening on" line (ASan is slow) */
#define DEMO_STOP_MS      5000  /* from SIGTERM to SIGKILL */
#define DEMO_POLL_MS      100   /* how often the demo looks at its programs */
#define DEMO_DELAY_MAX_NS (10 * NS_PER_S)

static const char demo_usage[] =
    "usage: pushpull-lab demo [--rate HZ] [--port N] [--delay DUR] [--bind ADDR]\n"
    "                         [--www DIR]\n"
    "\n"
    "The classroom demo: the server with a live generator behind the link emulator; the\n"
    "page, and every panel's traffic, cross the link. Prints the URL to open; Ctrl-C "
    "stops\n"
    "both programs.\n"
    "\n"
    "  --rate HZ      updates per second, 0 to 100000 (default 2)\n"
    "  --port N       the port the room connects to, 0 picks a free one (default 8080)\n"
    "  --delay DUR    one-way delay each way, 0 to 10s, with a unit: 150ms (default 0)\n"
    "  --bind ADDR    the address the room connects to (default 127.0.0.1; 0.0.0.0 or\n"
    "                 this machine's address lets other machines open the page, with a\n"
    "                 warning). POST /publish, /control and /drop stay with 127.0.0.1\n"
    "  --www DIR      the page's files (default servers/www)\n"
    "  -h, --help     this text\n";

/* What the command line said. */
struct demo_args {
    const char *rate;    /* --rate, checked, passed on as written */
    unsigned port;       /* --port */
    const char *delay;   /* --delay, checked, passed on as written */
    struct in_addr bind; /* --bind */
    char bind_text[INET_ADDRSTRLEN];
    const char *www; /* --www */
};

static volatile sig_atomic_t demo_signal;

static void demo_on_signal(int sig)
{
    demo_signal = sig;
}

static bool addr_is_loopback(struct in_addr a)
{
    return (ntohl(a.s_addr) >> 24) == 127;
}

/* 1 when a is an IPv4 address some interface of this machine holds. */
static bool addr_is_own(struct in_addr a)
{
    struct ifaddrs *ifs = NULL;
    bool own = false;
    if (getifaddrs(&ifs) != 0)
        return false;
    for (struct ifaddrs *i = ifs; i && !own; i = i->ifa_next) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;
        own = in && in->sin_family == AF_INET && in->sin_addr.s_addr == a.s_addr;
    }
    freeifaddrs(ifs);
    return own;
}

static void demo_args_read(int argc, char **argv, struct demo_args *a)
{
    enum { O_RATE = 256, O_PORT, O_DELAY, O_BIND, O_WWW };
    static const struct option opts[] = {{"rate", required_argument, NULL, O_RATE},
                                         {"port", required_argument, NULL, O_PORT},
                                         {"delay", required_argument, NULL, O_DELAY},
                                         {"bind", required_argument, NULL, O_BIND},
                                         {"www", required_argument, NULL, O_WWW},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *a = (struct demo_args){.rate = "2", .port = 8080, .delay = "0", .www = "servers/www"};
    a->bind.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(a->bind_text, sizeof(a->bind_text), "127.0.0.1");
    flags_program("pushpull-lab demo");
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        double hz;
        int64_t ns;
        size_t len;
        switch (c) {
        case O_RATE:
            if (units_parse_number(optarg, &hz) != 0 || hz > 100000 ||
                (hz > 0 && hz < 0.001))
                flags_bad_value("rate", "0, or updates per second from 0.001 to 100000",
                                optarg);
            a->rate = optarg;
            break;
        case O_PORT:
            a->port = (unsigned)flags_count("port", optarg, 0, 65535);
            break;
        case O_DELAY:
            len = strlen(optarg);
            if (units_parse_duration_ns(optarg, NS_PER_S, &ns) != 0 ||
                ns > DEMO_DELAY_MAX_NS ||
                (ns != 0 && len > 0 &&
                 (optarg[len - 1] == '.' ||
                  (optarg[len - 1] >= '0' && optarg[len - 1] <= '9'))))
                flags_bad_value("delay",
                                "a one-way delay from 0 to 10s with a unit, such as "
                                "150ms",
                                optarg);
            a->delay = optarg;
            break;
        case O_BIND:
            if (inet_pton(AF_INET, optarg, &a->bind) != 1)
                flags_bad_value("bind", "an IPv4 address such as 127.0.0.1 or 0.0.0.0",
                                optarg);
            if (a->bind.s_addr != htonl(INADDR_ANY) && !addr_is_loopback(a->bind) &&
                !addr_is_own(a->bind))
                flags_bad_value("bind",
                                "127.0.0.1, 0.0.0.0 (every address) or an address of "
                                "this machine",
                                optarg);
            inet_ntop(AF_INET, &a->bind, a->bind_text, sizeof(a->bind_text));
            break;
        case O_WWW:
            a->www = optarg;
            break;
        case 'h':
            fputs(demo_usage, stdout);
            exit(0);
        default:
            flags_getopt_error(c, argv);
        }
    }
    flags_no_operands(argc, argv);
    char index[PATH_MAX];
    if ((size_t)snprintf(index, sizeof(index), "%s/index.html", a->www) >= sizeof(index) ||
        access(index, R_OK) != 0)
        flags_bad_value("www", "a directory holding the page's index.html", a->www);
}

/* Start one program and wait for its "listening on" line; the port is the number after
 * the line's last ':'. 0, or -1 with a message on stderr (the program may still run:
 * the caller stops it). */
static int demo_program_start(struct proc *p, const char *const *argv, const char *name,
                              unsigned *port)
{
    char err[1024], line[256];
    struct proc_spec spec = {
        .argv = argv, .name = name, .out = PROC_PIPE, .err = PROC_INHERIT};
    if (proc_start(p, &spec, err, sizeof(err)) != 0 ||
        proc_first_line(p, DEMO_READY_MS, line, sizeof(line), err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-lab demo: %s\n", err);
        return -1;
    }
    const char *colon = strrchr(line, ':');
    unsigned long v = colon ? strtoul(colon + 1, NULL, 10) : 0;
    if (strncmp(line, "listening on ", 13) != 0 || v == 0 || v > 65535) {
        fprintf(stderr,
                "pushpull-lab demo: %s said \"%s\", expected \"listening on ...\"\n", name,
                line);
        return -1;
    }
    *port = (unsigned)v;
    return 0;
}

/* The URLs: the one to open here first, then what other machines use with 0.0.0.0. */
static void demo_urls_print(const struct demo_args *a, unsigned port, unsigned server_port)
{
    bool any = a->bind.s_addr == htonl(INADDR_ANY);
    printf("open http://%s:%u/ in a browser (Ctrl-C stops)\n",
           any ? "127.0.0.1" : a->bind_text, port);
    printf("server http://127.0.0.1:%u behind the link (%s each way); publish, control and "
           "drop answer 127.0.0.1 only\n",
           server_port, a->delay);
    struct ifaddrs *ifs = NULL;
    if (any && getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;
            char text[INET_ADDRSTRLEN];
            if (in && in->sin_family == AF_INET && !addr_is_loopback(in->sin_addr) &&
                inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)))
                printf("other machines: http://%s:%u/ (%s)\n", text, port, i->ifa_name);
        }
        freeifaddrs(ifs);
    }
    fflush(stdout);
}

/* Stop a program if it was started; 0 when it ended with status 0, else -1 (said). */
static int demo_program_stop(struct proc *p)
{
    if (p->pid == 0)
        return 0;
    int rc = proc_stop(p, DEMO_STOP_MS);
    proc_close(p);
    if (rc == 0)
        return 0;
    char how[128];
    proc_describe(p, how, sizeof(how));
    fprintf(stderr, "pushpull-lab demo: %s %s\n", p->name, how);
    return -1;
}

int lab_demo(const char *bin_dir, int argc, char **argv)
{
    struct demo_args a;
    demo_args_read(argc, argv, &a);

    struct sigaction sa = {.sa_handler = demo_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    proc_cancel_on(&demo_signal);

    char server_bin[PATH_MAX], link_bin[PATH_MAX], listen[64], upstream[64];
    snprintf(server_bin, sizeof(server_bin), "%s/pushpull-server", bin_dir);
    snprintf(link_bin, sizeof(link_bin), "%s/pushpull-link", bin_dir);
    struct proc server, link;
    proc_init(&server);
    proc_init(&link);
    int status = 1;
    unsigned server_port = 0, port = 0;

    const char *server_argv[] = {server_bin, "--bind",       "127.0.0.1", "--port",
                                 "0",        "--local-peer", "127.0.0.1", "--rate",
                                 a.rate,     "--www",        a.www,       "--retry-ms",
                                 "1000",     "--heartbeat",  "5s",        NULL};
    if (demo_program_start(&server, server_argv, "the server", &server_port) != 0)
        goto end;
    snprintf(listen, sizeof(listen), "%s:%u", a.bind_text, a.port);
    snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", server_port);
    const char *link_argv[] = {
        link_bin, "--listen", listen,  "--upstream",
        upstream, "--delay",  a.delay, addr_is_loopback(a.bind) ? NULL : "--allow-remote",
        NULL};
    if (demo_program_start(&link, link_argv, "the link", &port) != 0)
        goto end;
    demo_urls_print(&a, port, server_port);

    while (!demo_signal) {
        if (proc_poll(&server) || proc_poll(&link)) {
            fprintf(stderr, "pushpull-lab demo: %s ended on its own; stopping\n",
                    server.running ? link.name : server.name);
            goto end;
        }
        struct timespec ts = {0, DEMO_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    status = 0;
end:;
    int link_rc = demo_program_stop(&link);
    int server_rc = demo_program_stop(&server);
    if (link_rc != 0 || server_rc != 0)
        status = 1;
    return status;
}
