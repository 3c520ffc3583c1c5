/* lab_client.c: the bench's lab-client rows: the lab's own instrumented client
 * (bin/pushpull-client) on both servers, at the reference client's loads.
 *
 * The reference client is the bench's yardstick; these rows hold the instrument the lab
 * reports with against the same servers and loads, so its latency, missed updates, its
 * own CPU and its saturation verdict sit beside the reference's. One row per workload:
 *   lab-sse, lab-ws  the fan-out load (N streams, R updates/s for T);
 *   lab-long         the long-polling load;
 *   lab-poll         the long-polling load's N users polling every half update gap (so
 *                    an interval poll can keep up on both servers: nchan's answers one
 *                    message after the cursor per poll, the lab server's the newest).
 * On the lab server the client speaks its contract; on nchan it speaks nchan's through
 * the client's adapter for a foreign server (clients/foreign.h: --url with the endpoint,
 * --observer-url with the SSE one), and the bench posts the lab's update JSON as the
 * message, with ts_ns the instant the POST is written (servers.h). Latency is receipt
 * minus ts_ns on both: the lab server's own publish stamp, or nchan's publisher's send.
 *
 * Timeline: the client starts with a warm-up long enough for its users to connect (they
 * spread over its first half), then a window of T plus 1 s; the bench publishes R per
 * second from half a second into the window, so every publish falls inside it, and the
 * client ends by itself after its drain and writes summary.json, which fills the row.
 * The server's CPU is read around the publishes. The client binary is $PUSHPULL_CLIENT,
 * else pushpull-client beside the lab server's program.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_run_impl.h"
#include "clock.h"
#include "proc.h"
#include "servers.h"
#include "usage.h"

#define LAB_START_MARGIN (500 * NS_PER_MS) /* the client's exec and set-up */
#define LAB_DRAIN_S      2
#define LAB_END_TIMEOUT_MS                                                                 \
    120000 /* after its window: drain, 10,000 users closed, files written */

/* The client's --approach for each bench approach. */
static const char *const lab_approach[BENCH_APPROACHES] = {
    [BENCH_SSE] = "sse", [BENCH_LONG] = "long", [BENCH_WS] = "ws", [BENCH_POLL] = "short"};

/* The client's program: $PUSHPULL_CLIENT, or pushpull-client beside the server's. */
static void client_bin(const struct bench_opts *o, char *out, size_t cap)
{
    const char *env = getenv("PUSHPULL_CLIENT");
    if (env && env[0]) {
        snprintf(out, cap, "%s", env);
        return;
    }
    const char *slash = strrchr(o->server_bin, '/');
    int dir = slash ? (int)(slash - o->server_bin + 1) : 0;
    snprintf(out, cap, "%.*spushpull-client", dir, o->server_bin);
}

/* The client's summary.json into the row. 0, or -1 with x->err. */
static int take_summary(struct run_ctx *x, const char *path)
{
    struct bench_row *r = x->row;
    struct dynbuf text;
    dynbuf_init(&text, 64u << 20);
    char why[1024];
    cJSON *doc = dynbuf_read_file(&text, path, why, sizeof(why)) == 0 && text.mem
                     ? cJSON_Parse(text.mem)
                     : NULL;
    dynbuf_free(&text);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results");
    if (!cJSON_IsObject(res)) {
        cJSON_Delete(doc);
        bench_run_fail(x, "no results in %s", path);
        return -1;
    }
    r->deliveries = bench_json_num(res, "updates_received");
    r->missed = bench_json_num(res, "missed");
    r->latency_p50_ms = bench_json_num(res, "latency_p50_ms");
    r->latency_p90_ms = bench_json_num(res, "latency_p90_ms");
    r->latency_p99_ms = bench_json_num(res, "latency_p99_ms");
    r->latency_max_ms = bench_json_num(res, "latency_max_ms");
    r->latency_mean_ms = bench_json_num(res, "latency_mean_ms");
    r->client_cpu_s = bench_json_num(res, "client_cpu_s");
    r->client_cpu_us_per_request = bench_json_num(res, "client_cpu_us_per_request");
    r->client_cpu_us_per_delivery =
        r->deliveries > 0 ? r->client_cpu_s * 1e6 / r->deliveries : NAN;
    r->client_loop_busy_max_pct = bench_json_num(res, "loop_busy_max_pct");
    r->client_full_turns = bench_json_num(res, "loop_full_turns");
    r->client_saturated = bench_json_num(res, "client_saturated");
    static const char *const errs[] = {"errors_connect", "errors_timeout", "errors_status",
                                       "errors_parse", "errors_io"};
    r->client_errors = 0;
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        double e = bench_json_num(res, errs[i]);
        r->client_errors += isnan(e) ? 0 : e;
    }
    cJSON_Delete(doc);
    if (!(r->deliveries > 0)) /* no latencies: the zeros mean nothing */
        r->latency_p50_ms = r->latency_p90_ms = r->latency_p99_ms = r->latency_max_ms =
            r->latency_mean_ms = NAN;
    return 0;
}

/* Start the client for x's workload, its output in out_dir. 0, or -1 with x->err. */
static int start_lab_client(struct run_ctx *x, const struct load *ld, int64_t warmup_ns,
                            const char *out_dir)
{
    const struct bench_opts *o = x->o;
    enum bench_approach a = x->w->approach;
    char bin[PATH_MAX], server[64], n[32], warm[32], dur[32], drain[16], threads[16],
        interval[32], log[PATH_MAX + 32];
    client_bin(o, bin, sizeof(bin));
    if (access(bin, X_OK) != 0) {
        bench_run_fail(x, "no lab client at %s (make, or $PUSHPULL_CLIENT)", bin);
        return -1;
    }
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", x->srv.port);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)ld->clients);
    snprintf(warm, sizeof(warm), "%lldms", (long long)(warmup_ns / NS_PER_MS));
    snprintf(dur, sizeof(dur), "%lldms",
             (long long)((ld->duration_ns + NS_PER_S) / NS_PER_MS));
    snprintf(drain, sizeof(drain), "%ds", LAB_DRAIN_S);
    snprintf(threads, sizeof(threads), "%u", o->client_threads);
    /* half the gap between updates, at least 10 ms */
    double half_gap_ms = 500.0 / ld->rate_hz;
    snprintf(interval, sizeof(interval), "%.0fms", half_gap_ms > 10 ? half_gap_ms : 10);
    snprintf(log, sizeof(log), "%s/lab-client.log", x->dir);
    const char *argv[24] = {
        bin,         "--server", server,     "--approach", lab_approach[a],
        "--clients", n,          "--warmup", warm,         "--duration",
        dur,         "--drain",  drain,      "--threads",  threads,
        "--out",     out_dir};
    int k = 17;
    if (a == BENCH_POLL) {
        argv[k++] = "--interval";
        argv[k++] = interval;
    }
    if (x->k != &bench_server_pushpull) { /* a foreign server: clients/foreign.h */
        argv[k++] = "--url";
        argv[k++] = x->k->ep[a].path;
        if (x->k->ep[BENCH_SSE].path) {
            argv[k++] = "--observer-url";
            argv[k++] = x->k->ep[BENCH_SSE].path;
        }
    }
    argv[k] = NULL;
    struct proc_spec spec = {.argv = argv,
                             .name = "the lab client",
                             .out = PROC_FILE,
                             .out_path = log,
                             .err = PROC_FILE,
                             .err_path = log};
    return proc_start(&x->client, &spec, x->err, sizeof(x->err));
}

int bench_lab_client_run(struct run_ctx *x)
{
    const struct bench_opts *o = x->o;
    const struct load *ld = (const struct load *)((const char *)o + x->w->load);
    struct bench_row *r = x->row;
    char out_dir[PATH_MAX + 16], summary[PATH_MAX + 32];
    snprintf(out_dir, sizeof(out_dir), "%s/lab-client", x->dir);
    snprintf(summary, sizeof(summary), "%s/summary.json", out_dir);
    r->clients = (double)ld->clients;
    /* users open over the first half of the warm-up: 2,000 a second, plus 2 s */
    int64_t warmup_ns = 2 * NS_PER_S + (int64_t)ld->clients * NS_PER_S / 1000;
    /* one update first: nchan's channel exists and the lab feed is warm */
    if (bench_server_publish(&x->srv, o->payload_bytes, 0, x->err, sizeof(x->err)) != 0)
        return -1;
    int64_t spawned = clock_mono_ns();
    if (start_lab_client(x, ld, warmup_ns, out_dir) != 0)
        return -1;
    int64_t t0 = spawned + warmup_ns + LAB_START_MARGIN;
    if (bench_wait_until(t0) != 0)
        return -1;
    uint64_t have = 0;
    if (x->w->approach != BENCH_POLL &&
        x->k->subscribers(&x->srv, &have, x->err, sizeof(x->err)) == 0 &&
        have < ld->clients)
        bench_row_note(r, "the server held %llu of %llu subscribers when publishing began",
                       (unsigned long long)have, (unsigned long long)ld->clients);
    struct usage u1, u2;
    if (bench_server_usage(&x->srv, &u1) != 0) {
        bench_run_fail(x, "the server's usage could not be read");
        return -1;
    }
    int64_t t0_real = clock_real_ns(), last_send = t0;
    uint64_t count = (uint64_t)llround(ld->rate_hz * (double)ld->duration_ns / 1e9);
    uint64_t before = x->srv.published;
    double late_max = 0;
    for (uint64_t i = 0; i < count; i++) {
        int64_t due = t0 + (int64_t)((double)i * 1e9 / ld->rate_hz);
        if (bench_wait_until(due) != 0)
            return -1;
        last_send = clock_mono_ns();
        double late = (double)(last_send - due) / 1e6;
        late_max = late > late_max ? late : late_max;
        if (bench_server_publish(&x->srv, o->payload_bytes, t0_real + (due - t0), x->err,
                                 sizeof(x->err)) != 0)
            return -1;
    }
    if (bench_server_usage(&x->srv, &u2) != 0) {
        bench_run_fail(x, "the server's usage could not be read");
        return -1;
    }
    if (!proc_wait(&x->client,
                   (int)((ld->duration_ns + NS_PER_S) / NS_PER_MS) + LAB_END_TIMEOUT_MS)) {
        bench_run_fail(x, "the lab client did not end (see %s/lab-client.log)", x->dir);
        return -1;
    }
    int status = proc_exit_code(&x->client);
    if (status != 0 && status != 3) { /* 3: it ran, and no user received anything */
        char how[64];
        proc_describe(&x->client, how, sizeof(how));
        bench_run_fail(x, "the lab client %s (see %s/lab-client.log)", how, x->dir);
        return -1;
    }
    if (take_summary(x, summary) != 0)
        return -1;
    r->window_s = (double)(ld->duration_ns + NS_PER_S) / 1e9;
    r->published = (double)(x->srv.published - before);
    r->server_cpu_s = u2.cpu_s - u1.cpu_s;
    double expected = r->published * r->clients;
    r->delivered_pct = expected > 0 ? 100.0 * r->deliveries / expected : NAN;
    r->server_cpu_us_per_delivery =
        r->deliveries > 0 ? r->server_cpu_s * 1e6 / r->deliveries : NAN;
    r->publish_late_max_ms = late_max;
    r->publish_rate_hz =
        count > 1 ? (double)(count - 1) * 1e9 / (double)(last_send - t0) : NAN;
    if (r->client_saturated > 0)
        bench_row_note(r, "the lab client was saturated: its own loop, not the server, may "
                          "set the latency");
    else if (r->deliveries < expected)
        bench_row_note(r, "%.0f of %.0f updates delivered, %.0f missed", r->deliveries,
                       expected, r->missed);
    return 0;
}
