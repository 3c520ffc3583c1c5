/* bench_measure.c: one measurement of `pushpull-bench`: a server fresh, the load on it
 * (the reference client or wrk), the publishes on schedule, and the row filled from what
 * the server cost and what the client saw (see bench_run_impl.h).
 *
 * The idle and push workloads (run_push) hold the reference client's subscribers, publish
 * at a fixed rate stamped with when each publish was due, wait until everything arrived
 * or nothing has for the grace time, and read the client's JSON line; the poll workloads
 * (run_wrk) check the poll URL's answer (and its 304 with validators) and run wrk on it.
 *
 * Noise: this machine is shared, so every row carries the load average at its start, the
 * CPU steal during it, and the CPU that processes outside the bench used during it
 * (busy ticks of /proc/stat minus what the bench's own processes used, from getrusage of
 * this process and its reaped children): a run with others busy says so in its row.
 */
#include <cjson/cJSON.h>
#include <errno.h>
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
#include <time.h>
#include <unistd.h>

#include "bench_run_impl.h"
#include "clock.h"
#include "proc.h"
#include "report.h"
#include "servers.h"
#include "usage.h"
#include "wrk.h"

#define READY_TIMEOUT_MS  150000
#define SUBSCRIBE_TIMEOUT (60 * NS_PER_S)
#define RESULT_TIMEOUT_MS 60000
int bench_wait_until(int64_t deadline)
{
    for (;;) {
        if (bench_interrupted)
            return -1;
        int64_t left = deadline - clock_mono_ns();
        if (left <= 0)
            return 0;
        struct timespec ts =
            clock_ts_from_ns(left < 50 * NS_PER_MS ? left : 50 * NS_PER_MS);
        nanosleep(&ts, NULL);
    }
}
void bench_run_fail(struct run_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, sizeof(x->err), fmt, ap);
    va_end(ap);
}

void bench_row_note(struct bench_row *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof(r->note), fmt, ap);
    va_end(ap);
}

double bench_json_num(const cJSON *doc, const char *name)
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
        bench_run_fail(x, "the reference client's result is not JSON");
        return -1;
    }
    r->deliveries = bench_json_num(doc, "deliveries");
    r->latency_min_ms = bench_json_num(doc, "latency_min_ms");
    r->latency_p50_ms = bench_json_num(doc, "latency_p50_ms");
    r->latency_p90_ms = bench_json_num(doc, "latency_p90_ms");
    r->latency_p99_ms = bench_json_num(doc, "latency_p99_ms");
    r->latency_max_ms = bench_json_num(doc, "latency_max_ms");
    r->latency_mean_ms = bench_json_num(doc, "latency_mean_ms");
    double stamped = bench_json_num(doc, "pub_stamped");
    if (stamped > 0) {
        r->pub_latency_min_ms = bench_json_num(doc, "pub_latency_min_ms");
        r->pub_latency_p50_ms = bench_json_num(doc, "pub_latency_p50_ms");
        r->pub_latency_p90_ms = bench_json_num(doc, "pub_latency_p90_ms");
        r->pub_latency_p99_ms = bench_json_num(doc, "pub_latency_p99_ms");
        r->pub_latency_max_ms = bench_json_num(doc, "pub_latency_max_ms");
        r->pub_latency_mean_ms = bench_json_num(doc, "pub_latency_mean_ms");
    }
    if (stamped != r->deliveries && r->deliveries > 0)
        bench_row_note(r, "%.0f of %.0f updates carried the publisher's stamp", stamped,
                       r->deliveries);
    r->client_cpu_s = bench_json_num(doc, "cpu_user_s") + bench_json_num(doc, "cpu_sys_s");
    r->client_cpu_us_per_delivery = bench_json_num(doc, "cpu_us_per_delivery");
    r->client_cpu_us_per_request = bench_json_num(doc, "cpu_us_per_request");
    r->client_loop_busy_max_pct = bench_json_num(doc, "loop_busy_max_pct");
    r->client_full_turns = bench_json_num(doc, "full_turns");
    r->client_errors =
        bench_json_num(doc, "errors_connect") + bench_json_num(doc, "errors_read") +
        bench_json_num(doc, "errors_closed") + bench_json_num(doc, "errors_status") +
        bench_json_num(doc, "errors_parse");
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
        bench_run_fail(x, "the reference client never said ready (see %s)", log);
        return -1;
    }
    if (ready < clients) {
        bench_run_fail(x, "only %llu of %llu connections ready (see %s)", ready, of, log);
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
            bench_run_fail(x, "the server holds %llu of %llu subscribers",
                           (unsigned long long)have, (unsigned long long)n);
            return -1;
        }
        if (bench_wait_until(clock_mono_ns() + 100 * NS_PER_MS) != 0)
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
            bench_run_fail(x, "the reference client did not say how many it received");
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
        if (bench_wait_until(now + 100 * NS_PER_MS) != 0)
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
        bench_run_fail(x, "the reference client gave no result (see %s)", x->dir);
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
        bench_wait_until(clock_mono_ns() + o->settle_ns) ||
        bench_server_usage(&x->srv, &u1) != 0)
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
        if (bench_wait_until(due) != 0)
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
            bench_row_note(r, "%.0f of %.0f updates delivered", r->deliveries, expected);
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
        bench_run_fail(x, "GET %s: %d, not 200", path, status);
        goto end;
    }
    if (x->w->conditional) {
        if (!hdr_etag[0] && !hdr_mod[0]) {
            bench_run_fail(x, "GET %s: no ETag or Last-Modified", path);
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
            bench_run_fail(x, "GET %s with its validators: %d, not 304", path, status);
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
    char why[1024];
    if (!ended || wrk_status != 0 || dynbuf_read_file(&out, txt, why, sizeof(why)) != 0 ||
        !out.mem) {
        bench_run_fail(x, "wrk failed or timed out (see %s)", x->dir);
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
        bench_row_note(r, "wrk: %llu bad answers, %llu socket errors",
                       (unsigned long long)wr.non_2xx_3xx,
                       (unsigned long long)wr.socket_errors);
    rc = 0;
end:
    proc_stop(&wrk, 5000);
    dynbuf_free(&out);
    return rc;
}
static double rusage_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One measurement, start to end; the row is filled whatever happens. */
void bench_measure_run(struct run_ctx *x)
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
                             .bench_bin = x->self,
                             .threads = x->o->server_threads};
    int rc = -1;
    if (mkdir(x->dir, 0755) != 0 && errno != EEXIST)
        bench_run_fail(x, "mkdir %s: %s", x->dir, strerror(errno));
    else if (bench_server_start(&x->srv, x->k, &so, x->err, sizeof(x->err)) == 0) {
        rc = x->w->kind == WL_WRK   ? run_wrk(x)
             : x->w->kind == WL_LAB ? bench_lab_client_run(x)
                                    : run_push(x);
        proc_stop(&x->client, 10000);
        proc_close(&x->client);
        if (bench_server_stop(&x->srv) != 0 && rc == 0)
            bench_row_note(r, "the server did not stop cleanly");
    }
    r->ok = rc == 0;
    if (rc != 0)
        bench_row_note(r, "%s", bench_interrupted ? "interrupted" : x->err);
    host_sample_read(&h1);
    double ours = rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN) - ours0;
    double wall = (double)(clock_mono_ns() - wall0) / 1e9;
    double busy = (double)(h1.busy_ticks - h0.busy_ticks) / (double)sysconf(_SC_CLK_TCK);
    r->steal_pct = host_steal_pct(&h0, &h1);
    r->foreign_cpu_pct = wall > 0 ? fmax(0, 100.0 * (busy - ours) / wall) : NAN;
}
