/* bench_run.c: the conductor of `pushpull-bench` (see bench_run.h).
 *
 * The workloads, one row each (issue 14's loads):
 *   idle-sse, idle-long, idle-ws  N idle subscribers: the server's RSS growth per one
 *   fanout-sse, fanout-ws         N streams, R updates/s of B bytes for T: latency,
 *                                 delivery, server CPU per delivered update
 *   poll-200, poll-304            wrk -tT -cC -dD on the poll URL, plain or with the
 *                                 newest ETag (and Last-Modified) sent back: requests/s
 *   longpoll                      N long polls, R updates/s for T: latency
 * A server that does not serve an approach (the lab server's /ws is still to come) is
 * skipped for that workload, and the tables say n/a.
 *
 * Noise: this machine is shared, so every row carries the load average at its start, the
 * CPU steal during it, and the CPU that processes outside the bench used during it
 * (busy ticks of /proc/stat minus what the bench's own processes used, from getrusage of
 * this process and its reaped children): a run with others busy says so in its row.
 */
#include "bench_run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "flags.h"
#include "nginx_conf.h"
#include "proc.h"
#include "report.h"
#include "servers.h"
#include "units.h"
#include "usage.h"
#include "wrk.h"

struct load {
    uint64_t clients;    /* connections */
    double rate_hz;      /* updates published per second (0 for idle) */
    int64_t duration_ns; /* publishing time (0 for idle) */
};

struct bench_opts {
    struct load idle, fanout, longpoll;
    int64_t wrk_duration_ns;
    unsigned wrk_threads, wrk_connections;
    unsigned reps;
    unsigned payload_bytes;
    unsigned client_threads; /* the reference client's loops */
    unsigned server_threads; /* the lab server's threads and nginx's workers */
    int64_t settle_ns;       /* wait after all are subscribed, before measuring */
    int64_t grace_ns;        /* after the last publish, give up waiting for deliveries once
                                none has come for this long */
    const char *out;         /* results root */
    const char *server_bin, *nginx_bin, *wrk_bin;
    unsigned workloads; /* bit i: workloads[i] selected */
    unsigned servers;   /* bit i: bench_server_kinds[i] selected */
};

enum wl_kind { WL_IDLE, WL_PUSH, WL_WRK };

struct workload {
    const char *name;
    const char *what; /* for --help */
    enum wl_kind kind;
    enum bench_approach approach;
    size_t load;     /* offsetof the struct load in bench_opts (WL_IDLE, WL_PUSH) */
    int conditional; /* WL_WRK: send the newest ETag back, so every answer is a 304 */
};

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
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

#define READY_TIMEOUT_MS  150000
#define SUBSCRIBE_TIMEOUT (60 * NS_PER_S)
#define RESULT_TIMEOUT_MS 60000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Sleep until the monotonic deadline; -1 when interrupted first. */
static int wait_until(int64_t deadline)
{
    for (;;) {
        if (interrupted)
            return -1;
        int64_t left = deadline - clock_mono_ns();
        if (left <= 0)
            return 0;
        struct timespec ts =
            clock_ts_from_ns(left < 50 * NS_PER_MS ? left : 50 * NS_PER_MS);
        nanosleep(&ts, NULL);
    }
}

/* ---- one measurement --------------------------------------------------------------- */

struct run_ctx {
    const struct bench_opts *o;
    const struct workload *w;
    const struct server_kind *k;
    char dir[PATH_MAX];  /* this run's directory */
    char self[PATH_MAX]; /* this program, to start the reference client */
    struct server srv;
    struct proc client; /* the reference client, with its stdout on a pipe */
    struct bench_row *row;
    char err[512];
};

/* Say why the run failed (x->err, later the row's note). */
__attribute__((format(printf, 2, 3))) static void run_fail(struct run_ctx *x,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, sizeof(x->err), fmt, ap);
    va_end(ap);
}

/* Write the row's note. */
__attribute__((format(printf, 2, 3))) static void row_note(struct bench_row *r,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof(r->note), fmt, ap);
    va_end(ap);
}

static double json_num(const cJSON *doc, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The reference client's JSON line into the row. */
static int take_client_result(struct run_ctx *x, const char *line)
{
    struct bench_row *r = x->row;
    cJSON *doc = cJSON_Parse(line);
    if (!doc) {
        run_fail(x, "the reference client's result is not JSON");
        return -1;
    }
    r->deliveries = json_num(doc, "deliveries");
    r->latency_min_ms = json_num(doc, "latency_min_ms");
    r->latency_p50_ms = json_num(doc, "latency_p50_ms");
    r->latency_p90_ms = json_num(doc, "latency_p90_ms");
    r->latency_p99_ms = json_num(doc, "latency_p99_ms");
    r->latency_max_ms = json_num(doc, "latency_max_ms");
    r->latency_mean_ms = json_num(doc, "latency_mean_ms");
    double stamped = json_num(doc, "pub_stamped");
    if (stamped > 0) {
        r->pub_latency_min_ms = json_num(doc, "pub_latency_min_ms");
        r->pub_latency_p50_ms = json_num(doc, "pub_latency_p50_ms");
        r->pub_latency_p90_ms = json_num(doc, "pub_latency_p90_ms");
        r->pub_latency_p99_ms = json_num(doc, "pub_latency_p99_ms");
        r->pub_latency_max_ms = json_num(doc, "pub_latency_max_ms");
        r->pub_latency_mean_ms = json_num(doc, "pub_latency_mean_ms");
    }
    if (stamped != r->deliveries && r->deliveries > 0)
        row_note(r, "%.0f of %.0f updates carried the publisher's stamp", stamped,
                 r->deliveries);
    r->client_cpu_s = json_num(doc, "cpu_user_s") + json_num(doc, "cpu_sys_s");
    r->client_cpu_us_per_delivery = json_num(doc, "cpu_us_per_delivery");
    r->client_cpu_us_per_request = json_num(doc, "cpu_us_per_request");
    r->client_loop_busy_max_pct = json_num(doc, "loop_busy_max_pct");
    r->client_full_turns = json_num(doc, "full_turns");
    r->client_errors = json_num(doc, "errors_connect") + json_num(doc, "errors_read") +
                       json_num(doc, "errors_closed") + json_num(doc, "errors_status") +
                       json_num(doc, "errors_parse");
    cJSON_Delete(doc);
    if (r->deliveries == 0) /* no latencies: the zeros mean nothing */
        r->latency_min_ms = r->latency_p50_ms = r->latency_p90_ms = r->latency_p99_ms =
            r->latency_max_ms = r->latency_mean_ms = NAN;
    return 0;
}

static void save_text(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The reference client's next line on its stdout (on a pipe, proc_first_line reads one
 * line's bytes and leaves the rest). 0, or -1 with x->err saying why. */
static int client_line(struct run_ctx *x, char *line, size_t cap, int timeout_ms)
{
    return proc_first_line(&x->client, timeout_ms, line, cap, x->err, sizeof(x->err));
}

/* A whole small file into out (NUL-terminated). 0 or -1. */
static int read_file(const char *path, struct dynbuf *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[4096];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        rc |= dynbuf_add(out, buf, n);
    fclose(f);
    return rc != 0 || !out->mem ? -1 : 0;
}

static int start_client(struct run_ctx *x, const char *url, const char *transport,
                        uint64_t clients)
{
    char n[32], threads[16], log[PATH_MAX + 32];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)clients);
    snprintf(threads, sizeof(threads), "%u", x->o->client_threads);
    snprintf(log, sizeof(log), "%s/client.log", x->dir);
    const char *argv[] = {x->self,      "client",  "--url",     url,
                          "--approach", transport, "--clients", n,
                          "--threads",  threads,   "--json",    NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "the reference client",
                             .out = PROC_PIPE,
                             .err = PROC_FILE,
                             .err_path = log};
    if (proc_start(&x->client, &spec, x->err, sizeof(x->err)) != 0)
        return -1;
    char line[128];
    unsigned long long ready = 0, of = 0;
    if (client_line(x, line, sizeof(line), READY_TIMEOUT_MS) != 0 ||
        sscanf(line, "ready %llu of %llu", &ready, &of) != 2) {
        run_fail(x, "the reference client never said ready (see %s)", log);
        return -1;
    }
    if (ready < clients) {
        run_fail(x, "only %llu of %llu connections ready (see %s)", ready, of, log);
        return -1;
    }
    return 0;
}

/* Wait until the server says it holds n subscribers. */
static int wait_subscribed(struct run_ctx *x, uint64_t n)
{
    int64_t give_up = clock_mono_ns() + SUBSCRIBE_TIMEOUT;
    uint64_t have = 0;
    for (;;) {
        if (x->k->subscribers(&x->srv, &have, x->err, sizeof(x->err)) != 0)
            return -1;
        if (have >= n)
            return 0;
        if (clock_mono_ns() > give_up) {
            run_fail(x, "the server holds %llu of %llu subscribers",
                     (unsigned long long)have, (unsigned long long)n);
            return -1;
        }
        if (wait_until(clock_mono_ns() + 100 * NS_PER_MS) != 0)
            return -1;
    }
}

/* After the last publish: wait until the reference client has everything published in
 * the window, or has received nothing new for the grace time (at most a minute), asking
 * it with SIGUSR1. */
static int wait_delivered(struct run_ctx *x, uint64_t expected)
{
    uint64_t last = UINT64_MAX;
    int64_t quiet_since = clock_mono_ns(), give_up = quiet_since + 60 * NS_PER_S;
    for (;;) {
        char line[64];
        unsigned long long n = 0;
        proc_signal(&x->client, SIGUSR1);
        if (client_line(x, line, sizeof(line), 5000) != 0 ||
            sscanf(line, "deliveries %llu", &n) != 1) {
            run_fail(x, "the reference client did not say how many it received");
            return -1;
        }
        int64_t now = clock_mono_ns();
        if (n >= expected || now > give_up)
            return 0;
        if (n != last) {
            last = n;
            quiet_since = now;
        } else if (now - quiet_since >= x->o->grace_ns) {
            return 0;
        }
        if (wait_until(now + 100 * NS_PER_MS) != 0)
            return -1;
    }
}

static int stop_client(struct run_ctx *x)
{
    char line[4096];
    proc_signal(&x->client, SIGTERM);
    int rc = client_line(x, line, sizeof(line), RESULT_TIMEOUT_MS);
    proc_stop(&x->client, 10000);
    proc_close(&x->client);
    if (rc != 0) {
        run_fail(x, "the reference client gave no result (see %s)", x->dir);
        return -1;
    }
    save_text(x->dir, "client.json", line);
    return take_client_result(x, line);
}

/* Idle and push workloads: hold the subscribers, publish on schedule (push), measure. */
static int run_push(struct run_ctx *x)
{
    const struct bench_opts *o = x->o;
    const struct load *ld = (const struct load *)((const char *)o + x->w->load);
    struct bench_row *r = x->row;
    const struct server_endpoint *ep = &x->k->ep[x->w->approach];
    char url[256];
    struct usage u0, u1, u2;
    int rc = -1;
    r->clients = (double)ld->clients;
    /* one update first: nchan's channel exists and the lab feed is warm before "before";
     * subscribers start at the next one, so it is never delivered */
    if (bench_server_publish(&x->srv, o->payload_bytes, 0, x->err, sizeof(x->err)) != 0 ||
        bench_server_usage(&x->srv, &u0) != 0)
        goto end;
    bench_server_url(&x->srv, x->w->approach, url, sizeof(url));
    if (start_client(x, url, ep->transport, ld->clients) != 0 ||
        wait_subscribed(x, ld->clients) != 0 ||
        wait_until(clock_mono_ns() + o->settle_ns) || bench_server_usage(&x->srv, &u1) != 0)
        goto end;
    r->server_rss_before_kib = (double)u0.rss_kib;
    r->server_rss_after_kib = (double)u1.rss_kib;
    r->server_rss_per_conn_kib = ((double)u1.rss_kib - (double)u0.rss_kib) / r->clients;
    int64_t t0 = clock_mono_ns(), t0_real = clock_real_ns(), last_send = t0;
    uint64_t count = x->w->kind == WL_PUSH
                         ? (uint64_t)llround(ld->rate_hz * (double)ld->duration_ns / 1e9)
                         : 0;
    uint64_t before = x->srv.published;
    double late_max = 0;
    for (uint64_t i = 0; i < count; i++) {
        int64_t due = t0 + (int64_t)((double)i * 1e9 / ld->rate_hz);
        if (wait_until(due) != 0)
            goto end;
        /* behind schedule when the previous publish was answered late */
        last_send = clock_mono_ns();
        double late = (double)(last_send - due) / 1e6;
        late_max = late > late_max ? late : late_max;
        if (bench_server_publish(&x->srv, o->payload_bytes, t0_real + (due - t0), x->err,
                                 sizeof(x->err)) != 0)
            goto end;
    }
    if (count > 0 && wait_delivered(x, (x->srv.published - before) * ld->clients) != 0)
        goto end;
    if (bench_server_usage(&x->srv, &u2) != 0 || stop_client(x) != 0)
        goto end;
    r->window_s = (double)(clock_mono_ns() - t0) / 1e9;
    r->published = (double)(x->srv.published - before);
    r->server_cpu_s = u2.cpu_s - u1.cpu_s;
    if (count > 0) {
        double expected = r->published * r->clients;
        r->delivered_pct = 100.0 * r->deliveries / expected;
        r->server_cpu_us_per_delivery =
            r->deliveries > 0 ? r->server_cpu_s * 1e6 / r->deliveries : NAN;
        r->publish_late_max_ms = late_max;
        r->publish_rate_hz =
            count > 1 ? (double)(count - 1) * 1e9 / (double)(last_send - t0) : NAN;
        if (r->deliveries < expected)
            row_note(r, "%.0f of %.0f updates delivered", r->deliveries, expected);
    } else {
        r->deliveries = NAN;
    }
    rc = 0;
end:
    return rc;
}

/* The poll workloads: wrk against the poll URL. */
static int run_wrk(struct run_ctx *x)
{
    const struct bench_opts *o = x->o;
    struct bench_row *r = x->row;
    char url[256], hdr_etag[160] = "", hdr_mod[120] = "", check[300] = "";
    struct httpc_response resp;
    struct proc wrk;
    proc_init(&wrk);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct usage u0, u1;
    int rc = -1;
    if (bench_server_publish(&x->srv, o->payload_bytes, 0, x->err, sizeof(x->err)) != 0)
        goto end;
    const char *path = x->k->ep[BENCH_POLL].path;
    if (httpc_request(&x->srv.ctl, "GET", path, NULL, NULL, 0, 10000, &resp, x->err,
                      sizeof(x->err)) != 0)
        goto end;
    int status = resp.status;
    if (resp.etag[0])
        snprintf(hdr_etag, sizeof(hdr_etag), "If-None-Match: %s", resp.etag);
    if (resp.last_modified[0])
        snprintf(hdr_mod, sizeof(hdr_mod), "If-Modified-Since: %s", resp.last_modified);
    httpc_response_free(&resp);
    if (status != 200) {
        run_fail(x, "GET %s: %d, not 200", path, status);
        goto end;
    }
    if (x->w->conditional) {
        if (!hdr_etag[0] && !hdr_mod[0]) {
            run_fail(x, "GET %s: no ETag or Last-Modified", path);
            goto end;
        }
        snprintf(check, sizeof(check), "%s%s%s%s", hdr_etag, hdr_etag[0] ? "\r\n" : "",
                 hdr_mod, hdr_mod[0] ? "\r\n" : "");
        if (httpc_request(&x->srv.ctl, "GET", path, check, NULL, 0, 10000, &resp, x->err,
                          sizeof(x->err)) != 0)
            goto end;
        status = resp.status;
        httpc_response_free(&resp);
        if (status != 304) {
            run_fail(x, "GET %s with its validators: %d, not 304", path, status);
            goto end;
        }
    }
    bench_server_url(&x->srv, BENCH_POLL, url, sizeof(url));
    char t[16], c[16], d[32], log[PATH_MAX + 32], txt[PATH_MAX + 32];
    snprintf(t, sizeof(t), "%u", o->wrk_threads);
    snprintf(c, sizeof(c), "%u", o->wrk_connections);
    snprintf(d, sizeof(d), "%llds", (long long)(o->wrk_duration_ns / NS_PER_S));
    snprintf(log, sizeof(log), "%s/wrk.stderr", x->dir);
    snprintf(txt, sizeof(txt), "%s/wrk.txt", x->dir);
    const char *argv[16] = {o->wrk_bin, "-t", t, "-c", c, "-d", d, "--latency"};
    int a = 8;
    if (x->w->conditional && hdr_etag[0]) {
        argv[a++] = "-H";
        argv[a++] = hdr_etag;
    }
    if (x->w->conditional && hdr_mod[0]) {
        argv[a++] = "-H";
        argv[a++] = hdr_mod;
    }
    argv[a++] = url;
    argv[a] = NULL;
    struct proc_spec spec = {.argv = argv,
                             .name = "wrk",
                             .out = PROC_FILE,
                             .out_path = txt,
                             .err = PROC_FILE,
                             .err_path = log};
    if (bench_server_usage(&x->srv, &u0) != 0 ||
        proc_start(&wrk, &spec, x->err, sizeof(x->err)))
        goto end;
    int64_t t0 = clock_mono_ns();
    int ended = proc_wait(&wrk, (int)(o->wrk_duration_ns / NS_PER_MS) + 30000);
    int wrk_status = proc_stop(&wrk, 5000);
    r->window_s = (double)(clock_mono_ns() - t0) / 1e9;
    if (bench_server_usage(&x->srv, &u1) != 0)
        goto end;
    struct wrk_result wr;
    if (!ended || wrk_status != 0 || read_file(txt, &out) != 0) {
        run_fail(x, "wrk failed or timed out (see %s)", x->dir);
        goto end;
    }
    if (wrk_parse(out.mem, &wr, x->err, sizeof(x->err)) != 0)
        goto end;
    r->clients = o->wrk_connections;
    r->requests_per_s = wr.requests_per_s;
    r->wrk_latency_p50_ms = wr.latency_p50_ms >= 0 ? wr.latency_p50_ms : NAN;
    r->wrk_latency_p99_ms = wr.latency_p99_ms >= 0 ? wr.latency_p99_ms : NAN;
    r->wrk_bad_responses = (double)wr.non_2xx_3xx;
    r->wrk_socket_errors = (double)wr.socket_errors;
    r->server_cpu_s = u1.cpu_s - u0.cpu_s;
    r->server_cpu_us_per_request =
        wr.requests ? r->server_cpu_s * 1e6 / (double)wr.requests : NAN;
    if (wr.non_2xx_3xx || wr.socket_errors)
        row_note(r, "wrk: %llu bad answers, %llu socket errors",
                 (unsigned long long)wr.non_2xx_3xx, (unsigned long long)wr.socket_errors);
    rc = 0;
end:
    proc_stop(&wrk, 5000);
    dynbuf_free(&out);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double rusage_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One measurement, start to end; the row is filled whatever happens. */
static void run_one(struct run_ctx *x)
{
    struct bench_row *r = x->row;
    struct host_sample h0, h1;
    time_t now = time(NULL);
    strftime(r->started, sizeof(r->started), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    host_sample_read(&h0);
    r->load1 = h0.load1;
    r->load5 = h0.load5;
    r->load15 = h0.load15;
    double ours0 = rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN);
    int64_t wall0 = clock_mono_ns();
    proc_init(&x->client);
    x->err[0] = '\0';
    struct server_opts so = {.dir = x->dir,
                             .server_bin = x->o->server_bin,
                             .nginx_bin = x->o->nginx_bin,
                             .threads = x->o->server_threads};
    int rc = -1;
    if (mkdir(x->dir, 0755) != 0 && errno != EEXIST)
        run_fail(x, "mkdir %s: %s", x->dir, strerror(errno));
    else if (bench_server_start(&x->srv, x->k, &so, x->err, sizeof(x->err)) == 0) {
        rc = x->w->kind == WL_WRK ? run_wrk(x) : run_push(x);
        proc_stop(&x->client, 10000);
        proc_close(&x->client);
        if (bench_server_stop(&x->srv) != 0 && rc == 0)
            row_note(r, "the server did not stop cleanly");
    }
    r->ok = rc == 0;
    if (rc != 0)
        row_note(r, "%s", interrupted ? "interrupted" : x->err);
    host_sample_read(&h1);
    double ours = rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN) - ours0;
    double wall = (double)(clock_mono_ns() - wall0) / 1e9;
    double busy = (double)(h1.busy_ticks - h0.busy_ticks) / (double)sysconf(_SC_CLK_TCK);
    r->steal_pct = host_steal_pct(&h0, &h1);
    r->foreign_cpu_pct = wall > 0 ? fmax(0, 100.0 * (busy - ours) / wall) : NAN;
}

/* ---- the command ------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(
        f, "usage: pushpull-bench [run] [options]\n"
           "       pushpull-bench client --help   (the reference client alone)\n"
           "\n"
           "The lab server beside nginx + nchan (Debian: nginx, libnginx-mod-nchan, wrk),\n"
           "each fresh for every run, the reference client or wrk as the load. Writes\n"
           "runs.csv, summary.md, summary.csv and bench.png/.svg to OUT/<timestamp>/.\n"
           "\n"
           "  --workloads LIST        comma-separated (default all):\n");
    for (size_t i = 0; i < NWORKLOADS; i++)
        fprintf(f, "                            %-11s %s\n", workloads[i].name,
                workloads[i].what);
    fprintf(
        f,
        "  --servers LIST          pushpull,nchan (default both)\n"
        "  --against nchan|none    the same as --servers pushpull,nchan or pushpull\n"
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
        .servers = 3,
    };
    const char *wl_names[NWORKLOADS], *sv_names[2] = {"pushpull", "nchan"};
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
            o.servers = strcmp(optarg, "nchan") == 0 ? 3 : 1;
            break;
        case O_SERVERS:
            o.servers = parse_list("servers", optarg, sv_names, 2);
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
    proc_cancel_on(&interrupted); /* Ctrl-C ends any wait for a program's line */

    int total = 0;
    for (size_t w = 0; w < NWORKLOADS; w++)
        for (int s = 0; s < 2; s++)
            total += (o.workloads >> w & 1) && (o.servers >> s & 1) &&
                     bench_server_kinds[s]->ep[workloads[w].approach].path;
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
    for (unsigned rep = 1; rep <= o.reps && !interrupted; rep++) {
        for (size_t w = 0; w < NWORKLOADS && !interrupted; w++) {
            for (int s = 0; s < 2 && !interrupted; s++) {
                const struct server_kind *k = bench_server_kinds[s];
                if (!(o.workloads >> w & 1) || !(o.servers >> s & 1) ||
                    !k->ep[workloads[w].approach].path)
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
                run_one(&x);
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
    if (interrupted)
        return 130;
    return failed ? 1 : 0;
}
