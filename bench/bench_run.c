/* bench_run.c: the conductor of `pushpull-bench` (see bench_run.h).
 *
 * The workloads, one row each (issue 14's loads):
 *   idle-sse, idle-long, idle-ws  N idle subscribers: the server's RSS growth per one
 *   fanout-sse, fanout-ws         N streams, R updates/s of B bytes for T: latency,
 *                                 delivery, server CPU per delivered update
 *   poll-200, poll-304            wrk -tT -cC -dD on the poll URL, plain or with the
 *                                 newest ETag (and Last-Modified) sent back: requests/s
 *   longpoll                      N long polls, R updates/s for T: latency
 *   lab-sse, lab-ws, lab-long,    the lab's own instrumented client (bin/pushpull-client)
 *   lab-poll                      at the same loads (lab_client.c): its latency, missed
 *                                 updates, its own CPU and saturation
 * A server that does not serve an approach is skipped for that workload, and the tables
 * say n/a.
 *
 * Each run is one measurement (bench_measure.c): this file is the command around them:
 * the options, the prerequisites, the loop over repetitions, workloads and servers, a
 * progress line per run, and at the end the comparison (report.h).
 */
#include "bench_run.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_run_impl.h"
#include "clock.h"
#include "flags.h"
#include "nginx_conf.h"
#include "proc.h"
#include "report.h"
#include "servers.h"
#include "units.h"
#include "usage.h"

static const struct workload workloads[] = {
    {"idle-sse", "idle SSE streams: server RSS per stream", WL_IDLE, BENCH_SSE,
     offsetof(struct bench_opts, idle), 0},
    {"idle-long", "held long polls: server RSS per poll", WL_IDLE, BENCH_LONG,
     offsetof(struct bench_opts, idle), 0},
    {"idle-ws", "idle WebSockets: server RSS per connection", WL_IDLE, BENCH_WS,
     offsetof(struct bench_opts, idle), 0},
    {"fanout-sse", "SSE fan-out: latency, delivery, server CPU per event", WL_PUSH,
     BENCH_SSE, offsetof(struct bench_opts, fanout), 0},
    {"fanout-ws", "WebSocket fan-out: the same", WL_PUSH, BENCH_WS,
     offsetof(struct bench_opts, fanout), 0},
    {"poll-200", "wrk on the poll URL: 200s, requests/s", WL_WRK, BENCH_POLL, 0, 0},
    {"poll-304", "wrk with the newest ETag sent back: 304s, requests/s", WL_WRK, BENCH_POLL,
     0, 1},
    {"longpoll", "long polling: latency from the reference client", WL_PUSH, BENCH_LONG,
     offsetof(struct bench_opts, longpoll), 0},
    {"lab-sse", "the lab's client on SSE streams at the fan-out load", WL_LAB, BENCH_SSE,
     offsetof(struct bench_opts, fanout), 0},
    {"lab-ws", "the lab's client on WebSockets at the fan-out load", WL_LAB, BENCH_WS,
     offsetof(struct bench_opts, fanout), 0},
    {"lab-long", "the lab's client long polling at the long-polling load", WL_LAB,
     BENCH_LONG, offsetof(struct bench_opts, longpoll), 0},
    {"lab-poll", "the lab's client polling every half update gap, same load", WL_LAB,
     BENCH_POLL, offsetof(struct bench_opts, longpoll), 0},
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))
volatile sig_atomic_t bench_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    bench_interrupted = 1;
}
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
/* ---- the command ------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(
        f, "usage: pushpull-bench [run] [options]\n"
           "       pushpull-bench client --help   (the reference client alone)\n"
           "\n"
           "The lab server beside nginx + nchan (Debian: nginx, libnginx-mod-nchan, wrk),\n"
           "each fresh for every run, the reference client, the lab's own client\n"
           "(pushpull-client beside --server-bin, or $PUSHPULL_CLIENT) or wrk as the\n"
           "load. Writes runs.csv, summary.md, summary.csv and bench.png/.svg to\n"
           "OUT/<timestamp>/.\n"
           "\n"
           "  --workloads LIST        comma-separated (default all):\n");
    for (size_t i = 0; i < NWORKLOADS; i++)
        fprintf(f, "                            %-11s %s\n", workloads[i].name,
                workloads[i].what);
    fprintf(
        f,
        "  --servers LIST          pushpull,nchan,floor (default all three; floor, the\n"
        "                          least server, serves the poll workloads only: the\n"
        "                          machine's ceiling for them)\n"
        "  --against nchan|none    the same as --servers pushpull,nchan,floor or pushpull\n"
        "  --reps N                repetitions of every run (default 3)\n"
        "  --idle-clients N        idle workloads' connections (default 10k)\n"
        "  --fanout-clients N      fan-out streams (default 10k)\n"
        "  --fanout-rate HZ        fan-out updates per second (default 5)\n"
        "  --fanout-time DUR       fan-out publishing time (default 20s)\n"
        "  --longpoll-clients N    long polls (default 4000)\n"
        "  --longpoll-rate HZ      long-polling updates per second (default 2)\n"
        "  --longpoll-time DUR     long-polling publishing time (default 20s)\n"
        "  --payload-bytes N       bytes of data per update (default 100)\n"
        "  --wrk-time DUR          each wrk run (default 10s)\n"
        "  --wrk-connections N     wrk -c (default 100)\n"
        "  --wrk-threads N         wrk -t (default 2)\n"
        "  --client-threads N      the reference client's event loops (default 2)\n"
        "  --server-threads N      lab server threads and nginx workers (default 2)\n"
        "  --quick                 a short check of the whole chain: 1 rep, 2k clients,\n"
        "                          3 s phases (numbers not for keeping)\n"
        "  --out DIR               results root (default results/bench)\n"
        "  --server-bin PATH       the lab server (default $PUSHPULL_SERVER or\n"
        "                          bin/pushpull-server)\n"
        "  --nginx PATH, --wrk PATH  (default /usr/sbin/nginx, /usr/bin/wrk)\n"
        "  -h, --help              this text\n"
        "\n"
        "Durations take a unit (250ms, 20s); counts take k (10k).\n");
}

/* Whether server k takes part in workload w: it serves w's approach, and a yardstick for
 * wrk (the floor) only wrk's workloads. */
static int serves(const struct server_kind *k, const struct workload *w)
{
    return k->ep[w->approach].path && (!k->wrk_only || w->kind == WL_WRK);
}

static unsigned parse_list(const char *flag, const char *v, const char *const *names,
                           size_t n)
{
    unsigned mask = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < n && strcmp(names[i], tok) != 0)
            i++;
        if (i == n) {
            char expected[256] = "a comma-separated list of";
            for (size_t j = 0; j < n; j++) {
                strncat(expected, j ? ", " : " ", sizeof(expected) - strlen(expected) - 1);
                strncat(expected, names[j], sizeof(expected) - strlen(expected) - 1);
            }
            flags_bad_value(flag, expected, v);
        }
        mask |= 1u << i;
    }
    if (!mask)
        flags_bad_value(flag, "at least one name", v);
    return mask;
}

static int64_t parse_duration(const char *flag, const char *v)
{
    int64_t ns;
    if (units_parse_duration_ns(v, NS_PER_S, &ns) != 0 || ns < NS_PER_S / 10 ||
        ns > 3600 * NS_PER_S)
        flags_bad_value(flag, "a duration from 100ms to 1h, like 20s", v);
    return ns;
}

static double parse_rate(const char *flag, const char *v)
{
    double x;
    if (units_parse_number(v, &x) != 0 || x < 0.1 || x > 1000)
        flags_bad_value(flag, "a rate from 0.1 to 1000 per second", v);
    return x;
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The first line a command prints (stdout and stderr), or "" . */
static void first_line(const char *cmd, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

static void write_params(const char *dir, const struct bench_opts *o, const char *command)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/params.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f,
            "{\"command\":\"%s\",\"reps\":%u,\"payload_bytes\":%u,"
            "\"idle_clients\":%llu,\"fanout_clients\":%llu,\"fanout_rate_hz\":%g,"
            "\"fanout_time_s\":%g,\"longpoll_clients\":%llu,\"longpoll_rate_hz\":%g,"
            "\"longpoll_time_s\":%g,\"wrk_time_s\":%g,\"wrk_connections\":%u,"
            "\"wrk_threads\":%u,\"client_threads\":%u,\"server_threads\":%u,"
            "\"settle_s\":%g,\"grace_s\":%g}\n",
            command, o->reps, o->payload_bytes, (unsigned long long)o->idle.clients,
            (unsigned long long)o->fanout.clients, o->fanout.rate_hz,
            (double)o->fanout.duration_ns / 1e9, (unsigned long long)o->longpoll.clients,
            o->longpoll.rate_hz, (double)o->longpoll.duration_ns / 1e9,
            (double)o->wrk_duration_ns / 1e9, o->wrk_connections, o->wrk_threads,
            o->client_threads, o->server_threads, (double)o->settle_ns / 1e9,
            (double)o->grace_ns / 1e9);
    fclose(f);
}

/* One progress line per run: the figures that matter for its kind. */
static void print_progress(const struct run_ctx *x, int i, int total)
{
    const struct bench_row *r = x->row;
    printf("[%2d/%2d] %-10s %-8s rep %d  ", i, total, r->workload, r->server, r->rep);
    if (!r->ok)
        printf("FAILED: %s", r->note);
    else if (x->w->kind == WL_IDLE)
        printf("%8.2f KiB per connection        ", r->server_rss_per_conn_kib);
    else if (x->w->kind == WL_WRK)
        printf("%9.0f requests/s              ", r->requests_per_s);
    else if (x->w->kind == WL_LAB) /* the lab client knows ts_ns only */
        printf("p50 %7.1f ms  p99 %7.1f ms  %6.2f%%", r->latency_p50_ms, r->latency_p99_ms,
               r->delivered_pct);
    else
        printf("p50 %7.1f ms  p99 %7.1f ms  %6.2f%%", r->pub_latency_p50_ms,
               r->pub_latency_p99_ms, r->delivered_pct);
    if (r->ok)
        printf("  load %.2f  others %3.0f%%", r->load1, r->foreign_cpu_pct);
    printf("\n");
    fflush(stdout);
}

int bench_run_main(int argc, char **argv)
{
    flags_program("pushpull-bench");
    struct bench_opts o = {
        .idle = {10000, 0, 0},
        .fanout = {10000, 5, 20 * NS_PER_S},
        .longpoll = {4000, 2, 20 * NS_PER_S},
        .wrk_duration_ns = 10 * NS_PER_S,
        .wrk_threads = 2,
        .wrk_connections = 100,
        .reps = 3,
        .payload_bytes = 100,
        .client_threads = 2,
        .server_threads = 2,
        .settle_ns = NS_PER_S,
        .grace_ns = 2 * NS_PER_S,
        .out = "results/bench",
        .server_bin =
            getenv("PUSHPULL_SERVER") ? getenv("PUSHPULL_SERVER") : "bin/pushpull-server",
        .nginx_bin = "/usr/sbin/nginx",
        .wrk_bin = "/usr/bin/wrk",
        .workloads = (1u << NWORKLOADS) - 1,
        .servers = (1u << BENCH_SERVERS) - 1,
    };
    const char *wl_names[NWORKLOADS], *sv_names[BENCH_SERVERS];
    for (int i = 0; i < BENCH_SERVERS; i++)
        sv_names[i] = bench_server_kinds[i]->name;
    for (size_t i = 0; i < NWORKLOADS; i++)
        wl_names[i] = workloads[i].name;
    enum {
        O_WORKLOADS = 256,
        O_SERVERS,
        O_AGAINST,
        O_REPS,
        O_IDLE_CLIENTS,
        O_FANOUT_CLIENTS,
        O_FANOUT_RATE,
        O_FANOUT_TIME,
        O_LP_CLIENTS,
        O_LP_RATE,
        O_LP_TIME,
        O_PAYLOAD,
        O_WRK_TIME,
        O_WRK_CONN,
        O_WRK_THREADS,
        O_CLIENT_THREADS,
        O_SERVER_THREADS,
        O_QUICK,
        O_OUT,
        O_SERVER_BIN,
        O_NGINX,
        O_WRK
    };
    static const struct option opts[] = {
        {"workloads", required_argument, NULL, O_WORKLOADS},
        {"servers", required_argument, NULL, O_SERVERS},
        {"against", required_argument, NULL, O_AGAINST},
        {"reps", required_argument, NULL, O_REPS},
        {"idle-clients", required_argument, NULL, O_IDLE_CLIENTS},
        {"fanout-clients", required_argument, NULL, O_FANOUT_CLIENTS},
        {"fanout-rate", required_argument, NULL, O_FANOUT_RATE},
        {"fanout-time", required_argument, NULL, O_FANOUT_TIME},
        {"longpoll-clients", required_argument, NULL, O_LP_CLIENTS},
        {"longpoll-rate", required_argument, NULL, O_LP_RATE},
        {"longpoll-time", required_argument, NULL, O_LP_TIME},
        {"payload-bytes", required_argument, NULL, O_PAYLOAD},
        {"wrk-time", required_argument, NULL, O_WRK_TIME},
        {"wrk-connections", required_argument, NULL, O_WRK_CONN},
        {"wrk-threads", required_argument, NULL, O_WRK_THREADS},
        {"client-threads", required_argument, NULL, O_CLIENT_THREADS},
        {"server-threads", required_argument, NULL, O_SERVER_THREADS},
        {"quick", no_argument, NULL, O_QUICK},
        {"out", required_argument, NULL, O_OUT},
        {"server-bin", required_argument, NULL, O_SERVER_BIN},
        {"nginx", required_argument, NULL, O_NGINX},
        {"wrk", required_argument, NULL, O_WRK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, quick = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_WORKLOADS:
            o.workloads = parse_list("workloads", optarg, wl_names, NWORKLOADS);
            break;
        case O_AGAINST:
            if (strcmp(optarg, "nchan") != 0 && strcmp(optarg, "none") != 0)
                flags_bad_value("against", "nchan or none", optarg);
            o.servers = strcmp(optarg, "nchan") == 0 ? (1u << BENCH_SERVERS) - 1 : 1;
            break;
        case O_SERVERS:
            o.servers = parse_list("servers", optarg, sv_names, BENCH_SERVERS);
            break;
        case O_REPS:
            o.reps = (unsigned)flags_count("reps", optarg, 1, 100);
            break;
        case O_IDLE_CLIENTS:
            o.idle.clients = flags_count("idle-clients", optarg, 1, 19000);
            break;
        case O_FANOUT_CLIENTS:
            o.fanout.clients = flags_count("fanout-clients", optarg, 1, 19000);
            break;
        case O_FANOUT_RATE:
            o.fanout.rate_hz = parse_rate("fanout-rate", optarg);
            break;
        case O_FANOUT_TIME:
            o.fanout.duration_ns = parse_duration("fanout-time", optarg);
            break;
        case O_LP_CLIENTS:
            o.longpoll.clients = flags_count("longpoll-clients", optarg, 1, 19000);
            break;
        case O_LP_RATE:
            o.longpoll.rate_hz = parse_rate("longpoll-rate", optarg);
            break;
        case O_LP_TIME:
            o.longpoll.duration_ns = parse_duration("longpoll-time", optarg);
            break;
        case O_PAYLOAD:
            o.payload_bytes = (unsigned)flags_count("payload-bytes", optarg, 1, 60000);
            break;
        case O_WRK_TIME:
            o.wrk_duration_ns = parse_duration("wrk-time", optarg);
            if (o.wrk_duration_ns < NS_PER_S)
                flags_bad_value("wrk-time", "at least 1s (wrk counts whole seconds)",
                                optarg);
            break;
        case O_WRK_CONN:
            o.wrk_connections = (unsigned)flags_count("wrk-connections", optarg, 1, 10000);
            break;
        case O_WRK_THREADS:
            o.wrk_threads = (unsigned)flags_count("wrk-threads", optarg, 1, 64);
            break;
        case O_CLIENT_THREADS:
            o.client_threads = (unsigned)flags_count("client-threads", optarg, 1, 64);
            break;
        case O_SERVER_THREADS:
            o.server_threads = (unsigned)flags_count("server-threads", optarg, 1, 64);
            break;
        case O_QUICK:
            quick = 1;
            break;
        case O_OUT:
            o.out = optarg;
            break;
        case O_SERVER_BIN:
            o.server_bin = optarg;
            break;
        case O_NGINX:
            o.nginx_bin = optarg;
            break;
        case O_WRK:
            o.wrk_bin = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            flags_getopt_error(c, argv);
        }
    }
    flags_no_operands(argc, argv);
    if (quick) {
        o.reps = 1;
        o.idle.clients = o.fanout.clients = o.longpoll.clients = 2000;
        o.fanout.duration_ns = o.longpoll.duration_ns = 3 * NS_PER_S;
        o.wrk_duration_ns = 2 * NS_PER_S;
        o.settle_ns = 200 * NS_PER_MS;
        o.grace_ns = NS_PER_S;
    }

    /* Prerequisites, each with the line that fixes it. */
    int need_wrk = 0;
    for (size_t i = 0; i < NWORKLOADS; i++)
        need_wrk |= (o.workloads >> i & 1) && workloads[i].kind == WL_WRK;
    if (access(o.server_bin, X_OK) != 0) {
        fprintf(stderr, "pushpull-bench: no lab server at %s (make, or --server-bin)\n",
                o.server_bin);
        return 2;
    }
    if ((o.servers & 2) &&
        (access(o.nginx_bin, X_OK) != 0 || access(NGINX_NCHAN_MODULE, R_OK) != 0)) {
        fprintf(stderr, "pushpull-bench: nginx + nchan are missing: apt-get install nginx "
                        "libnginx-mod-nchan (or --servers pushpull)\n");
        return 2;
    }
    if (need_wrk && access(o.wrk_bin, X_OK) != 0) {
        fprintf(stderr,
                "pushpull-bench: no wrk at %s: apt-get install wrk (or --wrk PATH, or "
                "--workloads without poll-200,poll-304)\n",
                o.wrk_bin);
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    uint64_t most = o.idle.clients > o.fanout.clients ? o.idle.clients : o.fanout.clients;
    most = most > o.longpoll.clients ? most : o.longpoll.clients;
    if (most + 64 > (uint64_t)rl.rlim_max) {
        fprintf(stderr,
                "pushpull-bench: %llu connections need an open-file limit above %llu "
                "(ulimit -Hn)\n",
                (unsigned long long)most, (unsigned long long)rl.rlim_max);
        return 2;
    }

    /* The run's directory, its parameters, its rows. */
    char stamp[32], root[PATH_MAX], dir[PATH_MAX], command[1024] = "pushpull-bench";
    time_t now = time(NULL);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
    for (int i = 1; i < argc; i++) {
        strncat(command, " ", sizeof(command) - strlen(command) - 1);
        strncat(command, argv[i], sizeof(command) - strlen(command) - 1);
    }
    snprintf(dir, sizeof(dir), "%s/%s", o.out, stamp);
    if (mkdirs(dir) != 0 || !realpath(dir, root)) {
        fprintf(stderr, "pushpull-bench: mkdir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char runs_dir[PATH_MAX + 16], csv_path[PATH_MAX + 16];
    snprintf(runs_dir, sizeof(runs_dir), "%s/runs", root);
    snprintf(csv_path, sizeof(csv_path), "%s/runs.csv", root);
    mkdir(runs_dir, 0755);
    write_params(root, &o, command);
    FILE *csv = fopen(csv_path, "w");
    if (!csv || report_csv_header(csv) != 0) {
        fprintf(stderr, "pushpull-bench: fopen %s: %s\n", csv_path, strerror(errno));
        if (csv)
            fclose(csv);
        return 1;
    }
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[sl > 0 ? sl : 0] = '\0';

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    proc_cancel_on(&bench_interrupted); /* Ctrl-C ends any wait for a program's line */

    int total = 0;
    for (size_t w = 0; w < NWORKLOADS; w++)
        for (int s = 0; s < BENCH_SERVERS; s++)
            total += (o.workloads >> w & 1) && (o.servers >> s & 1) &&
                     serves(bench_server_kinds[s], &workloads[w]);
    total *= (int)o.reps;
    struct bench_row *rows = calloc((size_t)total + 1, sizeof(*rows));
    if (!rows) {
        fclose(csv);
        return 1;
    }
    struct host_sample h0;
    double load_start = host_sample_read(&h0) == 0 ? h0.load1 : NAN;
    printf("pushpull-bench: %d runs into %s (load average %.2f)\n", total, root,
           load_start);
    int nrows = 0, failed = 0;
    for (unsigned rep = 1; rep <= o.reps && !bench_interrupted; rep++) {
        for (size_t w = 0; w < NWORKLOADS && !bench_interrupted; w++) {
            for (int s = 0; s < BENCH_SERVERS && !bench_interrupted; s++) {
                const struct server_kind *k = bench_server_kinds[s];
                if (!(o.workloads >> w & 1) || !(o.servers >> s & 1) ||
                    !serves(k, &workloads[w]))
                    continue;
                struct run_ctx x = {.o = &o, .w = &workloads[w], .k = k};
                x.row = &rows[nrows];
                bench_row_init(x.row);
                snprintf(x.row->workload, sizeof(x.row->workload), "%s", workloads[w].name);
                snprintf(x.row->server, sizeof(x.row->server), "%s", k->name);
                x.row->rep = (int)rep;
                int len = snprintf(x.dir, sizeof(x.dir), "%s/%s-%s-%u", runs_dir,
                                   workloads[w].name, k->name, rep);
                if (len < 0 || (size_t)len >= sizeof(x.dir)) {
                    fprintf(stderr, "pushpull-bench: %s: path too long\n", runs_dir);
                    break;
                }
                snprintf(x.self, sizeof(x.self), "%s", self);
                bench_measure_run(&x);
                report_csv_row(csv, x.row);
                failed += !x.row->ok;
                nrows++;
                print_progress(&x, nrows, total);
            }
        }
    }
    fclose(csv);

    /* The comparison. */
    struct report_line lines[64];
    size_t nl = report_lines_init(lines, 64);
    report_summarize(lines, nl, rows, (size_t)nrows);
    char versions[512], nginx_v[128], nchan_v[128], commit[64], machine[256], params[1024];
    first_line("/usr/sbin/nginx -v 2>&1", nginx_v, sizeof(nginx_v));
    first_line("dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null", nchan_v,
               sizeof(nchan_v));
    first_line("git rev-parse --short HEAD 2>/dev/null", commit, sizeof(commit));
    snprintf(versions, sizeof(versions),
             "pushpull-server %s (%u threads); %s, libnginx-mod-nchan %s (%u workers)",
             commit[0] ? commit : "(no git)", o.server_threads,
             nginx_v[0] ? nginx_v : "nginx", nchan_v[0] ? nchan_v : "?", o.server_threads);
    struct utsname un;
    uname(&un);
    snprintf(machine, sizeof(machine), "Linux %s, %ld CPUs, open-file limit %llu",
             un.release, sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)rl.rlim_max);
    snprintf(
        params, sizeof(params),
        "Loads: idle %llu connections; fan-out %llu streams x %g updates/s of %u B for "
        "%g s; long polling %llu users at %g updates/s for %g s (after the last "
        "publish the window runs until everything arrived, or nothing did for %g s); wrk "
        "-t%u -c%u -d%gs. %u repetitions, each server fresh for every run; the "
        "reference client runs %u event loops.",
        (unsigned long long)o.idle.clients, (unsigned long long)o.fanout.clients,
        o.fanout.rate_hz, o.payload_bytes, (double)o.fanout.duration_ns / 1e9,
        (unsigned long long)o.longpoll.clients, o.longpoll.rate_hz,
        (double)o.longpoll.duration_ns / 1e9, (double)o.grace_ns / 1e9, o.wrk_threads,
        o.wrk_connections, (double)o.wrk_duration_ns / 1e9, o.reps, o.client_threads);
    struct report_env env = {.started = rows[0].started,
                             .command = command,
                             .versions = versions,
                             .machine = machine,
                             .params = params,
                             .load_start = load_start,
                             .load_max = 0,
                             .foreign_median = 0,
                             .foreign_max = 0};
    double *foreign = calloc((size_t)nrows + 1, sizeof(*foreign));
    int nf = 0;
    for (int i = 0; i < nrows; i++) {
        env.load_max = fmax(env.load_max, rows[i].load1);
        if (foreign && !isnan(rows[i].foreign_cpu_pct))
            foreign[nf++] = rows[i].foreign_cpu_pct;
    }
    if (nf > 0) {
        qsort(foreign, (size_t)nf, sizeof(*foreign), cmp_double);
        env.foreign_median = foreign[nf / 2];
        env.foreign_max = foreign[nf - 1];
    }
    free(foreign);
    char err[512];
    if (report_write(root, &env, lines, nl, err, sizeof(err)) != 0)
        fprintf(stderr, "pushpull-bench: %s\n", err);
    else if (err[0])
        fprintf(stderr, "pushpull-bench: %s\n", err);
    printf("\n");
    report_print(stdout, lines, nl);
    printf("\nload average %.2f before the first run; others' CPU %.0f%% of a core in the "
           "median run, %.0f%% at most%s\n",
           env.load_start, env.foreign_median, env.foreign_max,
           report_env_noisy(&env) ? ": NOISY" : "");
    printf("report: %s/summary.md\nrows:   %s\nplot:   %s/bench.png\n", root, csv_path,
           root);
    free(rows);
    if (bench_interrupted)
        return 130;
    return failed ? 1 : 0;
}
