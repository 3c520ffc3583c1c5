/* client_cmd.c: `pushpull-bench client`: flags, the wait for ready, the results. */
#include "client_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clock.h"
#include "dynbuf.h"
#include "flags.h"
#include "refclient.h"
#include "units.h"

/* Defaults, in one place. */
#define DEF_CLIENTS       1000
#define DEF_THREADS       2
#define DEF_PENDING       256
#define DEF_READY_TIMEOUT (120 * NS_PER_S)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t count_requested; /* SIGUSR1: print "deliveries N" */

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        count_requested = 1;
    else
        stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pushpull-bench client --url URL [options]\n"
            "\n"
            "The bench's reference client: N raw-socket subscribers, one epoll loop per\n"
            "thread, each read stamped with CLOCK_REALTIME as it returns; latency is that\n"
            "stamp minus the ts_ns publish stamp inside each update.\n"
            "\n"
            "  --url URL             http:// or ws:// URL, IPv4 host or localhost\n"
            "  --approach NAME       transport (default sse):\n");
    for (int i = 0; ref_transports[i]; i++)
        fprintf(f, "                          %-10s %s\n", ref_transports[i]->name,
                ref_transports[i]->summary);
    fprintf(
        f,
        "  --clients N           connections (default %d)\n"
        "  --threads N           event loops (default %d)\n"
        "  --pending N           connections being opened at once (default %d)\n"
        "  --header 'NAME: V'    an extra request header (repeatable)\n"
        "  --duration DUR        stop this long after ready (default: at SIGINT/SIGTERM)\n"
        "  --ready-timeout DUR   stop waiting for all to be ready (default 120s)\n"
        "  --json                results as one JSON line instead of the summary\n"
        "  -h, --help            this text\n"
        "\n"
        "Prints \"ready K of N\" once all N connections are ready (this starts the\n"
        "measurement window), then the results when stopped.\n",
        DEF_CLIENTS, DEF_THREADS, DEF_PENDING);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static const char *const error_names[REF_ERR_COUNT] = {"connect", "read", "closed",
                                                       "status", "parse"};

static double pct_ms(const struct hist *h, double p)
{
    return (double)hist_value_at_percentile(h, p) / 1000.0;
}

/* "NAME_min_ms":..,"NAME_p50_ms":.. and so on for p90, p99, max and mean. */
static void json_latency(struct dynbuf *b, const char *name, const struct hist *h)
{
    dynbuf_addf(b,
                "\"%s_min_ms\":%.3f,\"%s_p50_ms\":%.3f,\"%s_p90_ms\":%.3f,"
                "\"%s_p99_ms\":%.3f,\"%s_max_ms\":%.3f,\"%s_mean_ms\":%.3f",
                name, (double)hist_min(h) / 1000.0, name, pct_ms(h, 50), name,
                pct_ms(h, 90), name, pct_ms(h, 99), name, (double)hist_max(h) / 1000.0,
                name, hist_mean(h) / 1000.0);
}

static void print_json(const struct ref_config *cfg, const struct ref_result *r,
                       double user_s, double sys_s)
{
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    double cpu = user_s + sys_s;
    const struct hist *h = r->latency;
    dynbuf_addf(&b,
                "{\"approach\":\"%s\",\"clients\":%llu,\"ready\":%llu,\"connects\":%llu,"
                "\"requests\":%llu,\"responses\":%llu,\"deliveries\":%llu,"
                "\"duplicates\":%llu,\"missed\":%llu,\"bytes_read\":%llu,"
                "\"bytes_written\":%llu,",
                cfg->tp->name, (unsigned long long)r->clients, (unsigned long long)r->ready,
                (unsigned long long)r->connects, (unsigned long long)r->requests,
                (unsigned long long)r->responses, (unsigned long long)r->deliveries,
                (unsigned long long)r->duplicates, (unsigned long long)r->missed,
                (unsigned long long)r->bytes_read, (unsigned long long)r->bytes_written);
    for (int e = 0; e < REF_ERR_COUNT; e++)
        dynbuf_addf(&b, "\"errors_%s\":%llu,", error_names[e],
                    (unsigned long long)r->errors[e]);
    dynbuf_addf(&b,
                "\"turns\":%llu,\"full_turns\":%llu,\"loop_busy_max_pct\":%.2f,"
                "\"window_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,"
                "\"cpu_us_per_delivery\":%.3f,\"cpu_us_per_request\":%.3f,"
                "\"latency_underflow\":%llu,\"pub_stamped\":%llu,",
                (unsigned long long)r->turns, (unsigned long long)r->full_turns,
                r->busy_max_pct, r->window_s, user_s, sys_s,
                r->deliveries ? cpu * 1e6 / (double)r->deliveries : 0.0,
                r->requests ? cpu * 1e6 / (double)r->requests : 0.0,
                (unsigned long long)hist_underflow(h), (unsigned long long)r->pub_stamped);
    json_latency(&b, "latency", h);
    dynbuf_adds(&b, ",");
    json_latency(&b, "pub_latency", r->pub_latency);
    dynbuf_adds(&b, "}\n");
    fputs(b.mem ? b.mem : "{}\n", stdout);
    dynbuf_free(&b);
}

static void print_summary(const struct ref_config *cfg, const struct ref_result *r,
                          double user_s, double sys_s)
{
    const struct hist *h = r->latency;
    double cpu = user_s + sys_s;
    printf("reference client: %s, %llu connections (%llu ready), %.1f s window\n",
           cfg->tp->name, (unsigned long long)r->clients, (unsigned long long)r->ready,
           r->window_s);
    printf("  deliveries      %12llu  (%llu duplicates, %llu missed)\n",
           (unsigned long long)r->deliveries, (unsigned long long)r->duplicates,
           (unsigned long long)r->missed);
    printf("  requests        %12llu  responses %llu\n", (unsigned long long)r->requests,
           (unsigned long long)r->responses);
    printf("  latency ms      %12s  min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f"
           "  (from ts_ns)\n",
           "", (double)hist_min(h) / 1000.0, pct_ms(h, 50), pct_ms(h, 90), pct_ms(h, 99),
           (double)hist_max(h) / 1000.0);
    h = r->pub_latency;
    if (r->pub_stamped)
        printf("  latency ms      %12s  min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f"
               "  (from pub_ns, %llu updates)\n",
               "", (double)hist_min(h) / 1000.0, pct_ms(h, 50), pct_ms(h, 90),
               pct_ms(h, 99), (double)hist_max(h) / 1000.0,
               (unsigned long long)r->pub_stamped);
    printf("  client CPU      %12.3f s  (%.2f us per delivery, %.2f us per request)\n", cpu,
           r->deliveries ? cpu * 1e6 / (double)r->deliveries : 0.0,
           r->requests ? cpu * 1e6 / (double)r->requests : 0.0);
    printf("  loop busy max   %12.1f %%  (%llu of %llu turns full)\n", r->busy_max_pct,
           (unsigned long long)r->full_turns, (unsigned long long)r->turns);
    printf("  errors         ");
    for (int e = 0; e < REF_ERR_COUNT; e++)
        printf(" %s %llu", error_names[e], (unsigned long long)r->errors[e]);
    printf("\n");
}

int client_cmd_main(int argc, char **argv)
{
    flags_program("pushpull-bench client");
    struct ref_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.tp = &ref_sse_transport;
    cfg.clients = DEF_CLIENTS;
    cfg.threads = DEF_THREADS;
    cfg.max_pending = DEF_PENDING;
    int64_t duration = 0, ready_timeout = DEF_READY_TIMEOUT;
    int json = 0;
    const char *url = NULL;
    size_t hlen = 0;
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"approach", required_argument, NULL, 'a'},
                                         {"clients", required_argument, NULL, 'c'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"pending", required_argument, NULL, 'p'},
                                         {"header", required_argument, NULL, 'H'},
                                         {"duration", required_argument, NULL, 'd'},
                                         {"ready-timeout", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'a':
            cfg.tp = ref_transport_find(optarg);
            if (!cfg.tp)
                flags_bad_value("approach", "sse, long, long-etag or ws", optarg);
            break;
        case 'c':
            cfg.clients = flags_count("clients", optarg, 1, 1000000);
            break;
        case 't':
            cfg.threads = (unsigned)flags_count("threads", optarg, 1, 64);
            break;
        case 'p':
            cfg.max_pending = (unsigned)flags_count("pending", optarg, 1, 100000);
            break;
        case 'H': {
            size_t n = strlen(optarg);
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n") ||
                hlen + n + 3 > sizeof(cfg.headers))
                flags_bad_value("header", "one 'Name: value' line (1 KiB in all)", optarg);
            memcpy(cfg.headers + hlen, optarg, n);
            memcpy(cfg.headers + hlen + n, "\r\n", 3);
            hlen += n + 2;
            break;
        }
        case 'd':
            if (units_parse_duration_ns(optarg, NS_PER_S, &duration) != 0 || duration <= 0)
                flags_bad_value("duration", "a duration like 30s", optarg);
            break;
        case 'r':
            if (units_parse_duration_ns(optarg, NS_PER_S, &ready_timeout) != 0)
                flags_bad_value("ready-timeout", "a duration like 60s", optarg);
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            flags_getopt_error(c, argv);
        }
    }
    flags_no_operands(argc, argv);
    char err[256];
    if (!url) {
        fprintf(stderr, "pushpull-bench client: --url is required (see --help)\n");
        return 2;
    }
    if (ref_url_parse(url, &cfg, err, sizeof(err)) != 0)
        flags_bad_value("url", "http://HOST:PORT/PATH with an IPv4 HOST or localhost", url);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (cfg.clients + 64 > (uint64_t)rl.rlim_cur) {
        fprintf(
            stderr,
            "pushpull-bench client: %llu connections need more than the open-file limit "
            "of %llu (ulimit -n) less 64\n",
            (unsigned long long)cfg.clients, (unsigned long long)rl.rlim_cur);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct refclient *rc = refclient_start(&cfg, err, sizeof(err));
    if (!rc) {
        fprintf(stderr, "pushpull-bench client: %s\n", err);
        return 1;
    }
    struct timespec tick = {0, 10 * NS_PER_MS};
    int64_t give_up = clock_mono_ns() + ready_timeout;
    while (!stop_requested && refclient_ready(rc) < cfg.clients &&
           clock_mono_ns() < give_up)
        nanosleep(&tick, NULL);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    refclient_mark(rc);
    printf("ready %llu of %llu\n", (unsigned long long)refclient_ready(rc),
           (unsigned long long)cfg.clients);
    fflush(stdout);
    int64_t end = duration ? clock_mono_ns() + duration : INT64_MAX;
    while (!stop_requested && clock_mono_ns() < end) {
        nanosleep(&tick, NULL);
        if (count_requested) {
            count_requested = 0;
            printf("deliveries %llu\n", (unsigned long long)refclient_deliveries(rc));
            fflush(stdout);
        }
    }
    struct ref_result res;
    refclient_stop(rc, &res);
    getrusage(RUSAGE_SELF, &ru1);
    double user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
    double sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    if (!res.latency || !res.pub_latency) {
        fprintf(stderr, "pushpull-bench client: out of memory\n");
        return 1;
    }
    if (json)
        print_json(&cfg, &res, user_s, sys_s);
    else
        print_summary(&cfg, &res, user_s, sys_s);
    fflush(stdout);
    hist_free(res.latency);
    hist_free(res.pub_latency);
    return 0;
}
