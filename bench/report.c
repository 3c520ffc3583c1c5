/* report.c: runs.csv rows, medians and ratios, summary.md, the plot, the human summary. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The numeric columns, in CSV order: name (with unit) and where the value lives. */
#define COL(f)                                                                             \
    {                                                                                      \
#f, offsetof(struct bench_row, f)                                                  \
    }
static const struct {
    const char *name;
    size_t off;
} columns[] = {
    COL(load1),
    COL(load5),
    COL(load15),
    COL(steal_pct),
    COL(foreign_cpu_pct),
    COL(clients),
    COL(window_s),
    COL(published),
    COL(deliveries),
    COL(delivered_pct),
    COL(latency_min_ms),
    COL(latency_p50_ms),
    COL(latency_p90_ms),
    COL(latency_p99_ms),
    COL(latency_max_ms),
    COL(latency_mean_ms),
    COL(pub_latency_min_ms),
    COL(pub_latency_p50_ms),
    COL(pub_latency_p90_ms),
    COL(pub_latency_p99_ms),
    COL(pub_latency_max_ms),
    COL(pub_latency_mean_ms),
    COL(server_rss_before_kib),
    COL(server_rss_after_kib),
    COL(server_rss_per_conn_kib),
    COL(server_cpu_s),
    COL(server_cpu_us_per_delivery),
    COL(server_cpu_us_per_request),
    COL(requests_per_s),
    COL(wrk_latency_p50_ms),
    COL(wrk_latency_p99_ms),
    COL(wrk_bad_responses),
    COL(wrk_socket_errors),
    COL(client_cpu_s),
    COL(client_cpu_us_per_delivery),
    COL(client_cpu_us_per_request),
    COL(client_loop_busy_max_pct),
    COL(client_full_turns),
    COL(client_errors),
    COL(missed),
    COL(client_saturated),
    COL(publish_late_max_ms),
    COL(publish_rate_hz),
};
#undef COL
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

static double *field(struct bench_row *r, size_t i)
{
    return (double *)((char *)r + columns[i].off);
}

static double value_of(const struct bench_row *r, const char *metric)
{
    for (size_t i = 0; i < NCOLS; i++)
        if (strcmp(columns[i].name, metric) == 0)
            return *(const double *)((const char *)r + columns[i].off);
    return NAN;
}

void bench_row_init(struct bench_row *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < NCOLS; i++)
        *field(r, i) = NAN;
}

int report_csv_header(FILE *f)
{
    fputs("workload,server,rep,started,ok", f);
    for (size_t i = 0; i < NCOLS; i++)
        fprintf(f, ",%s", columns[i].name);
    fputs(",note\n", f);
    return ferror(f) ? -1 : 0;
}

int report_csv_row(FILE *f, const struct bench_row *r)
{
    fprintf(f, "%s,%s,%d,%s,%d", r->workload, r->server, r->rep, r->started, r->ok);
    for (size_t i = 0; i < NCOLS; i++) {
        double v = *(const double *)((const char *)r + columns[i].off);
        if (isnan(v))
            fputs(",", f);
        else
            fprintf(f, ",%.6g", v);
    }
    fputs(",\"", f);
    for (const char *p = r->note; *p; p++) {
        if (*p == '"')
            fputc('"', f); /* a quote inside a quoted CSV field is doubled */
        fputc(*p, f);
    }
    fputs("\"\n", f);
    fflush(f);
    return ferror(f) ? -1 : 0;
}

/* The comparison's lines: the goals, then what helps read them. */
#define LINE(w, m, l, hb, g)                                                               \
    {                                                                                      \
        .workload = w, .metric = m, .label = l, .higher_better = hb, .goal = g             \
    }
static const struct report_line line_table[] = {
    LINE("idle-sse", "server_rss_per_conn_kib", "idle SSE stream: server RSS (KiB)", 0,
         1.0),
    LINE("idle-long", "server_rss_per_conn_kib", "held long poll: server RSS (KiB)", 0,
         1.0),
    LINE("idle-ws", "server_rss_per_conn_kib", "idle WebSocket: server RSS (KiB)", 0, 1.0),
    LINE("fanout-sse", "pub_latency_p99_ms", "fan-out SSE: p99 latency (ms)", 0, 0.8),
    LINE("fanout-sse", "server_cpu_us_per_delivery", "fan-out SSE: server CPU/event (us)",
         0, 1.0),
    LINE("fanout-sse", "delivered_pct", "fan-out SSE: delivered (%)", 1, 0),
    LINE("fanout-sse", "pub_latency_p50_ms", "fan-out SSE: p50 latency (ms)", 0, 0),
    LINE("fanout-sse", "pub_latency_max_ms", "fan-out SSE: max latency (ms)", 0, 0),
    LINE("fanout-sse", "latency_p99_ms", "fan-out SSE: p99 from ts_ns (ms)", 0, 0),
    LINE("fanout-sse", "publish_late_max_ms", "fan-out SSE: publish late, max (ms)", 0, 0),
    LINE("fanout-sse", "publish_rate_hz", "fan-out SSE: publishes/s achieved", 1, 0),
    LINE("fanout-sse", "client_cpu_us_per_delivery",
         "fan-out SSE: ref. client CPU/event (us)", 0, 0),
    LINE("fanout-ws", "pub_latency_p99_ms", "fan-out WebSocket: p99 latency (ms)", 0, 0.8),
    LINE("fanout-ws", "server_cpu_us_per_delivery",
         "fan-out WebSocket: server CPU/event (us)", 0, 1.0),
    LINE("fanout-ws", "delivered_pct", "fan-out WebSocket: delivered (%)", 1, 0),
    LINE("fanout-ws", "publish_rate_hz", "fan-out WebSocket: publishes/s achieved", 1, 0),
    LINE("poll-200", "requests_per_s", "polling, 200s: requests/s (wrk)", 1, 1.2),
    LINE("poll-304", "requests_per_s", "polling, 304s: requests/s (wrk)", 1, 1.2),
    LINE("poll-200", "server_cpu_us_per_request", "polling, 200s: server CPU/request (us)",
         0, 0),
    LINE("poll-304", "server_cpu_us_per_request", "polling, 304s: server CPU/request (us)",
         0, 0),
    LINE("longpoll", "pub_latency_p50_ms", "long polling: p50 latency (ms)", 0, 0),
    LINE("longpoll", "pub_latency_mean_ms", "long polling: mean latency (ms)", 0, 0),
    LINE("longpoll", "pub_latency_p99_ms", "long polling: p99 latency (ms)", 0, 0),
    LINE("longpoll", "latency_p50_ms", "long polling: p50 from ts_ns (ms)", 0, 0),
    LINE("longpoll", "latency_mean_ms", "long polling: mean from ts_ns (ms)", 0, 0),
    LINE("longpoll", "delivered_pct", "long polling: delivered (%)", 1, 0),
    LINE("longpoll", "server_cpu_us_per_delivery", "long polling: server CPU/answer (us)",
         0, 0),
    LINE("longpoll", "client_cpu_us_per_request",
         "long polling: ref. client CPU/cycle (us)", 0, 0),
    /* the lab's own client at the same loads (lab_client.c): receipt - ts_ns */
    LINE("lab-sse", "latency_p50_ms", "lab client, SSE: p50 latency (ms)", 0, 0),
    LINE("lab-sse", "latency_p99_ms", "lab client, SSE: p99 latency (ms)", 0, 0),
    LINE("lab-sse", "delivered_pct", "lab client, SSE: delivered (%)", 1, 0),
    LINE("lab-sse", "missed", "lab client, SSE: missed", 0, 0),
    LINE("lab-sse", "client_cpu_us_per_delivery", "lab client, SSE: its CPU/event (us)", 0,
         0),
    LINE("lab-sse", "client_saturated", "lab client, SSE: saturated (0/1)", 0, 0),
    LINE("lab-ws", "latency_p50_ms", "lab client, WebSocket: p50 latency (ms)", 0, 0),
    LINE("lab-ws", "latency_p99_ms", "lab client, WebSocket: p99 latency (ms)", 0, 0),
    LINE("lab-ws", "delivered_pct", "lab client, WebSocket: delivered (%)", 1, 0),
    LINE("lab-ws", "missed", "lab client, WebSocket: missed", 0, 0),
    LINE("lab-ws", "client_saturated", "lab client, WebSocket: saturated (0/1)", 0, 0),
    LINE("lab-long", "latency_p50_ms", "lab client, long poll: p50 latency (ms)", 0, 0),
    LINE("lab-long", "latency_p99_ms", "lab client, long poll: p99 latency (ms)", 0, 0),
    LINE("lab-long", "delivered_pct", "lab client, long poll: delivered (%)", 1, 0),
    LINE("lab-long", "missed", "lab client, long poll: missed", 0, 0),
    LINE("lab-long", "client_cpu_us_per_request",
         "lab client, long poll: its CPU/cycle (us)", 0, 0),
    LINE("lab-long", "client_saturated", "lab client, long poll: saturated (0/1)", 0, 0),
    LINE("lab-poll", "latency_p50_ms", "lab client, interval poll: p50 (ms)", 0, 0),
    LINE("lab-poll", "latency_p99_ms", "lab client, interval poll: p99 (ms)", 0, 0),
    LINE("lab-poll", "delivered_pct", "lab client, interval poll: delivered (%)", 1, 0),
    LINE("lab-poll", "missed", "lab client, interval poll: missed", 0, 0),
    LINE("lab-poll", "client_saturated", "lab client, interval poll: saturated (0/1)", 0,
         0),
};

#undef LINE

size_t report_lines_init(struct report_line *lines, size_t cap)
{
    size_t n = sizeof(line_table) / sizeof(line_table[0]);
    if (n > cap)
        n = cap;
    memcpy(lines, line_table, n * sizeof(*lines));
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void report_summarize(struct report_line *lines, size_t n, const struct bench_row *rows,
                      size_t nrows)
{
    double *v = malloc((nrows ? nrows : 1) * sizeof(*v));
    static const char *const servers[REPORT_SERVERS] = {"pushpull", "nchan", "floor"};
    for (size_t i = 0; i < n; i++) {
        struct report_line *l = &lines[i];
        for (int s = 0; s < REPORT_SERVERS; s++) {
            const char *server = servers[s];
            int k = 0;
            for (size_t j = 0; v && j < nrows; j++) {
                const struct bench_row *r = &rows[j];
                double x = value_of(r, l->metric);
                if (r->ok && !isnan(x) && strcmp(r->workload, l->workload) == 0 &&
                    strcmp(r->server, server) == 0)
                    v[k++] = x;
            }
            l->n[s] = k;
            l->med[s] = l->min[s] = l->max[s] = NAN;
            if (k > 0) {
                qsort(v, (size_t)k, sizeof(*v), cmp_double);
                l->min[s] = v[0];
                l->max[s] = v[k - 1];
                l->med[s] = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
            }
        }
        l->ratio = l->n[0] && l->n[1] && l->med[1] != 0 ? l->med[0] / l->med[1] : NAN;
        l->ceiling = l->n[2] && l->n[1] && l->med[1] != 0 ? l->med[2] / l->med[1] : NAN;
        if (l->goal == 0 || isnan(l->ratio))
            l->met = -1;
        else
            l->met = l->higher_better ? l->ratio >= l->goal : l->ratio <= l->goal;
    }
    free(v);
}

/* A value with 4 significant digits, but whole numbers from 1000 up (41523, not 4.152e+04).
 */
static void num(char *out, size_t cap, double v)
{
    if (fabs(v) >= 1000)
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%.4g", v);
}

/* "12.3 (11.0-14.2)" or "n/a" into out. */
static void cell(char *out, size_t cap, const struct report_line *l, int s,
                 const char *dash)
{
    char med[32], lo[32], hi[32];
    num(med, sizeof(med), l->med[s]);
    num(lo, sizeof(lo), l->min[s]);
    num(hi, sizeof(hi), l->max[s]);
    if (l->n[s] == 0)
        snprintf(out, cap, "n/a");
    else if (l->n[s] == 1)
        snprintf(out, cap, "%s (1 run)", med);
    else
        snprintf(out, cap, "%s (%s%s%s)", med, lo, dash, hi);
}

static void goal_text(char *out, size_t cap, const struct report_line *l)
{
    if (l->goal == 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%s %.2g", l->higher_better ? ">=" : "<=", l->goal);
}

static const char *verdict(const struct report_line *l)
{
    return l->met < 0 ? "" : l->met ? "met" : "not met";
}

static void print_ceiling(FILE *f, const struct report_line *l, size_t n);

void report_print(FILE *f, const struct report_line *l, size_t n)
{
    fprintf(f, "%-42s %24s %24s %7s %6s %s\n", "metric", "pushpull med (min-max)",
            "nchan med (min-max)", "ratio", "goal", "");
    for (size_t i = 0; i < n; i++) {
        char a[128], b[128], g[16], r[16];
        if (l[i].n[0] == 0 && l[i].n[1] == 0)
            continue;
        cell(a, sizeof(a), &l[i], 0, "-");
        cell(b, sizeof(b), &l[i], 1, "-");
        goal_text(g, sizeof(g), &l[i]);
        if (isnan(l[i].ratio))
            snprintf(r, sizeof(r), "-");
        else
            snprintf(r, sizeof(r), "%.2f", l[i].ratio);
        fprintf(f, "%-42s %24s %24s %7s %6s %s\n", l[i].label, a, b, r, g, verdict(&l[i]));
    }
    print_ceiling(f, l, n);
}

/* The ceiling's verdict on a line's goal: whether any server could meet it here. */
static const char *reach(const struct report_line *l)
{
    if (l->goal == 0 || isnan(l->ceiling))
        return "";
    int ok = l->higher_better ? l->ceiling >= l->goal : l->ceiling <= l->goal;
    return ok ? "within reach" : "out of reach for any server here";
}

static int has_ceiling(const struct report_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i].n[2] > 0)
            return 1;
    return 0;
}

/* The floor's lines for the human summary. */
static void print_ceiling(FILE *f, const struct report_line *l, size_t n)
{
    if (!has_ceiling(l, n))
        return;
    fprintf(f, "\nthe machine's ceiling: pushpull-bench floor, the least server, under the "
               "same load\n");
    fprintf(f, "%-42s %24s %11s %14s %6s %s\n", "metric", "floor med (min-max)",
            "floor/nchan", "pushpull/floor", "goal", "");
    for (size_t i = 0; i < n; i++) {
        char a[128], g[16], c[16] = "-", p[16] = "-";
        if (l[i].n[2] == 0)
            continue;
        cell(a, sizeof(a), &l[i], 2, "-");
        goal_text(g, sizeof(g), &l[i]);
        if (!isnan(l[i].ceiling))
            snprintf(c, sizeof(c), "%.2f", l[i].ceiling);
        if (l[i].n[0] && l[i].med[2] != 0)
            snprintf(p, sizeof(p), "%.2f", l[i].med[0] / l[i].med[2]);
        fprintf(f, "%-42s %24s %11s %14s %6s %s\n", l[i].label, a, c, p, g, reach(&l[i]));
    }
}

int report_env_noisy(const struct report_env *env)
{
    return env->load_start > 0.5 || env->foreign_median > 5 || env->foreign_max > 20;
}

/* The floor's table: what any server reaches on this machine under the same load. */
static void write_md_ceiling(FILE *f, const struct report_line *l, size_t n)
{
    if (!has_ceiling(l, n))
        return;
    fprintf(
        f,
        "\n**The machine's ceiling.** `pushpull-bench floor` (bench/floor.c) is the least "
        "server that answers these requests: it reads each request head, compares "
        "If-None-Match with the current ETag and writes the lab server's header lines "
        "and body, one epoll loop per thread, nothing else. It ran under the same load "
        "on the same cores, where wrk takes its share, so no server can do better here: "
        "when floor / nchan is below a goal, that goal is out of reach for any server on "
        "this machine.\n\n"
        "| metric | floor | floor / nchan | pushpull / floor | goal (pushpull / nchan) | "
        "|\n|---|---:|---:|---:|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        char a[128], g[16];
        if (l[i].n[2] == 0)
            continue;
        cell(a, sizeof(a), &l[i], 2, "–");
        goal_text(g, sizeof(g), &l[i]);
        fprintf(f, "| %s | %s | ", l[i].label, a);
        if (isnan(l[i].ceiling))
            fprintf(f, "– | ");
        else
            fprintf(f, "%.2f | ", l[i].ceiling);
        if (l[i].n[0] && l[i].med[2] != 0)
            fprintf(f, "%.2f | ", l[i].med[0] / l[i].med[2]);
        else
            fprintf(f, "– | ");
        fprintf(f, "%s | %s |\n", g, reach(&l[i]));
    }
}

static int write_md(FILE *f, const struct report_env *env, const struct report_line *l,
                    size_t n)
{
    fprintf(f, "# pushpull-server beside nginx + nchan\n\n");
    fprintf(f, "Started %s: `%s`\n\n", env->started, env->command);
    fprintf(f, "- Servers: %s\n- Machine: %s\n", env->versions, env->machine);
    fprintf(
        f,
        "- Load average (1 min) before the first run %.2f, at most %.2f at a run's start "
        "(the bench's own processes included); processes outside the bench used %.0f%% "
        "of one core in the median run, %.0f%% at most (`foreign_cpu_pct` in "
        "runs.csv)%s\n\n",
        env->load_start, env->load_max, env->foreign_median, env->foreign_max,
        report_env_noisy(env)
            ? ". **The machine was not quiet: treat these numbers as noisy.**"
            : "");
    fprintf(f, "%s\n\n", env->params);
    fprintf(f, "Medians over the repetitions, with min and max. Ratio = pushpull / nchan; "
               "the goals are issue 14's.\n\n");
    fprintf(f, "| metric | pushpull | nginx + nchan | ratio | goal | |\n"
               "|---|---:|---:|---:|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        char a[128], b[128], g[16];
        if (l[i].n[0] == 0 && l[i].n[1] == 0)
            continue;
        cell(a, sizeof(a), &l[i], 0, "–");
        cell(b, sizeof(b), &l[i], 1, "–");
        goal_text(g, sizeof(g), &l[i]);
        fprintf(f, "| %s | %s | %s | ", l[i].label, a, b);
        if (isnan(l[i].ratio))
            fprintf(f, "– | %s | %s |\n", g, verdict(&l[i]));
        else
            fprintf(f, "%.2f | %s | %s |\n", l[i].ratio, g, verdict(&l[i]));
    }
    write_md_ceiling(f, l, n);
    fprintf(
        f,
        "\nLatency is the reference client's (`pushpull-bench client`): the moment the "
        "bytes were read (CLOCK_REALTIME) minus the instant the publisher's schedule set "
        "for the update (`pub_ns` in its data), the same for both servers. The "
        "publisher waits for each POST's answer, so a server slow to answer pushes the "
        "next publish late; timing from the schedule counts that lateness (wrk2's rule "
        "against coordinated omission), and \"publishes/s achieved\" shows the rate "
        "that went out. The lines \"from ts_ns\" use the update's own `ts_ns`: the lab "
        "server stamps it when it handles the publish; through nchan it is the moment "
        "the POST was written.\n"
        "Server CPU and RSS are /proc/PID/stat and /proc/PID/status, for nginx the "
        "master and its workers summed. Every row, with the load average, steal and "
        "others' CPU at the time, is in runs.csv.\n\n"
        "![pushpull relative to nchan](bench.png)\n");
    return ferror(f) ? -1 : 0;
}

static int write_summary_csv(FILE *f, const struct report_line *l, size_t n)
{
    fputs("workload,metric,pushpull_runs,pushpull_median,pushpull_min,pushpull_max,"
          "nchan_runs,nchan_median,nchan_min,nchan_max,ratio,goal_ratio,goal_met,"
          "floor_runs,floor_median,floor_min,floor_max,ceiling\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s,%s,%d,", l[i].workload, l[i].metric, l[i].n[0]);
        for (int s = 0; s < 2; s++) {
            if (l[i].n[s])
                fprintf(f, "%.6g,%.6g,%.6g,", l[i].med[s], l[i].min[s], l[i].max[s]);
            else
                fputs(",,,", f);
            if (s == 0)
                fprintf(f, "%d,", l[i].n[1]);
        }
        if (isnan(l[i].ratio))
            fputs(",", f);
        else
            fprintf(f, "%.4g,", l[i].ratio);
        if (l[i].goal)
            fprintf(f, "%g,%s,", l[i].goal, l[i].met < 0 ? "" : l[i].met ? "yes" : "no");
        else
            fputs(",,", f);
        fprintf(f, "%d,", l[i].n[2]);
        if (l[i].n[2])
            fprintf(f, "%.6g,%.6g,%.6g,", l[i].med[2], l[i].min[2], l[i].max[2]);
        else
            fputs(",,,", f);
        if (isnan(l[i].ceiling))
            fputs("\n", f);
        else
            fprintf(f, "%.4g\n", l[i].ceiling);
    }
    return ferror(f) ? -1 : 0;
}

/* bench.dat: one line per metric both servers have: pushpull's median, min and max over
 * nchan's median, and nchan's min and max over it too, and the goal. */
static int write_plot(const char *dir, const struct report_line *l, size_t n, char *err,
                      size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/bench.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# index label pp_med pp_min pp_max nc_med nc_min nc_max goal (all / nchan "
               "median)\n");
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(l[i].ratio) || l[i].med[1] <= 0)
            continue;
        double m = l[i].med[1];
        fprintf(f, "%d \"%s\" %g %g %g 1 %g %g %g\n", k++, l[i].label, l[i].med[0] / m,
                l[i].min[0] / m, l[i].max[0] / m, l[i].min[1] / m, l[i].max[1] / m,
                l[i].goal ? l[i].goal : NAN);
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/bench.gp", dir);
    f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(
        f,
        "# bench.gp: pushpull relative to nginx + nchan (1 = nchan's median).\n"
        "# gnuplot -e \"term='png'\" bench.gp > bench.png (or term='svg')\n"
        "if (!exists('term')) term = 'png'\n"
        "if (term eq 'png') set terminal pngcairo noenhanced size 1100,600 font ',9'; "
        "else set terminal svg noenhanced size 1100,600 font ',9'\n"
        "set title 'pushpull relative to nginx + nchan: median, min-max (lower is better "
        "except requests/s and delivered)'\n"
        "set logscale y\n"
        "set ylabel 'value / nchan median'\n"
        "set xtics rotate by -35 left nomirror\n"
        "set bmargin 12\n"
        "set grid ytics\n"
        "set key top left\n"
        "set xrange [-0.7:%d-0.3]\n"
        "plot 'bench.dat' using 1:(NaN):xtic(2) notitle, \\\n"
        "     '' using ($1-0.12):6:7:8 with yerrorbars pt 7 lc rgb "
        "'#1f77b4' title 'nginx + nchan', \\\n"
        "     '' using ($1+0.12):3:4:5 with yerrorbars pt 5 lc rgb '#d62728' title "
        "'pushpull', \\\n"
        "     '' using ($1+0.12):9 with points pt 3 ps 2 lc rgb '#2ca02c' title 'goal "
        "for pushpull'\n",
        k > 0 ? k : 1);
    fclose(f);
    if (k == 0)
        return 0;
    for (int t = 0; t < 2; t++) {
        const char *term = t == 0 ? "png" : "svg";
        char cmd[2600];
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && gnuplot -e \"term='%s'\" bench.gp > bench.%s 2> bench.gp.log",
                 dir, term, term);
        int st = system(cmd);
        if (st != 0) {
            snprintf(err, errlen, "gnuplot failed (see %s/bench.gp.log)", dir);
            return 0; /* the numbers are written; the picture is extra */
        }
    }
    return 0;
}

/* Write one file with fn; 0 or -1 with the message in err. */
static int write_with(const char *dir, const char *name,
                      int (*fn)(FILE *, const struct report_env *,
                                const struct report_line *, size_t),
                      const struct report_env *env, const struct report_line *l, size_t n,
                      char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = fn(f, env, l, n);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int summary_csv(FILE *f, const struct report_env *env, const struct report_line *l,
                       size_t n)
{
    (void)env;
    return write_summary_csv(f, l, n);
}

int report_write(const char *dir, const struct report_env *env, const struct report_line *l,
                 size_t n, char *err, size_t errlen)
{
    err[0] = '\0';
    if (write_with(dir, "summary.md", write_md, env, l, n, err, errlen) != 0 ||
        write_with(dir, "summary.csv", summary_csv, env, l, n, err, errlen) != 0)
        return -1;
    return write_plot(dir, l, n, err, errlen);
}
