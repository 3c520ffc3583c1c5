/* test_bench_report.c: the bench's rows and comparison (bench/report.c): CSV cells with
 * units in the header and empty cells for what a workload does not measure, medians with
 * min and max over repetitions, ratios and goals, and the files of a report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/report.h"

static struct bench_row row(const char *workload, const char *server, int rep, int ok)
{
    struct bench_row r;
    bench_row_init(&r);
    snprintf(r.workload, sizeof(r.workload), "%s", workload);
    snprintf(r.server, sizeof(r.server), "%s", server);
    r.rep = rep;
    r.ok = ok;
    snprintf(r.started, sizeof(r.started), "2026-12-01T00:00:0%dZ", rep);
    return r;
}

static void test_csv(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(report_csv_header(f), 0);
    struct bench_row r = row("poll-200", "nchan", 2, 1);
    r.requests_per_s = 41523.5;
    r.load1 = 0.25;
    snprintf(r.note, sizeof(r.note), "said \"hi\", twice");
    assert_int_equal(report_csv_row(f, &r), 0);
    fclose(f);
    const char *nl = strchr(text, '\n');
    assert_non_null(nl);
    /* the header: fixed columns first, units in names, the note last */
    assert_int_equal(strncmp(text, "workload,server,rep,started,ok,load1,", 37), 0);
    assert_non_null(strstr(text, ",latency_p99_ms,"));
    assert_non_null(strstr(text, ",server_rss_per_conn_kib,"));
    assert_non_null(strstr(text, ",requests_per_s,"));
    assert_int_equal(strncmp(nl - 5, ",note", 5), 0);
    /* same number of cells in both lines (no comma inside the quoted note here) */
    int header_commas = 0, row_commas = 0;
    for (const char *p = text; p < nl; p++)
        header_commas += *p == ',';
    const char *q = nl + 1;
    assert_int_equal(strncmp(q, "poll-200,nchan,2,2026-12-01T00:00:02Z,1,0.25,", 45), 0);
    for (const char *p = q; *p && *p != '"'; p++)
        row_commas += *p == ',';
    assert_int_equal(row_commas, header_commas);
    assert_non_null(strstr(q, ",41523.5,"));
    assert_non_null(strstr(q, ",,")); /* what was not measured is empty */
    assert_non_null(strstr(q, "\"said \"\"hi\"\", twice\"\n"));
    free(text);
}

static const struct report_line *find(const struct report_line *l, size_t n,
                                      const char *workload, const char *metric)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].workload, workload) == 0 && strcmp(l[i].metric, metric) == 0)
            return &l[i];
    fail_msg("no line %s %s", workload, metric);
    return NULL;
}

static void test_summary(void **state)
{
    (void)state;
    struct bench_row rows[16];
    size_t n = 0;
    const double pp[] = {18.0, 17.5, 19.0}, nc[] = {10.0, 10.5, 9.5};
    for (int i = 0; i < 3; i++) {
        rows[n] = row("idle-sse", "pushpull", i + 1, 1);
        rows[n++].server_rss_per_conn_kib = pp[i];
        rows[n] = row("idle-sse", "nchan", i + 1, 1);
        rows[n++].server_rss_per_conn_kib = nc[i];
        rows[n] = row("poll-200", "pushpull", i + 1, 1);
        rows[n++].requests_per_s = 50000 + 1000 * i;
        rows[n] = row("poll-200", "nchan", i + 1, 1);
        rows[n++].requests_per_s = 40000 + 1000 * i;
    }
    /* a failed run does not count, even with a number in it */
    rows[n] = row("idle-sse", "pushpull", 4, 0);
    rows[n++].server_rss_per_conn_kib = 1000;
    struct report_line lines[64];
    size_t nl = report_lines_init(lines, 64);
    assert_true(nl > 5);
    report_summarize(lines, nl, rows, n);

    const struct report_line *mem = find(lines, nl, "idle-sse", "server_rss_per_conn_kib");
    assert_int_equal(mem->n[0], 3);
    assert_int_equal(mem->n[1], 3);
    assert_true(mem->med[0] == 18.0 && mem->min[0] == 17.5 && mem->max[0] == 19.0);
    assert_true(mem->med[1] == 10.0 && mem->min[1] == 9.5 && mem->max[1] == 10.5);
    assert_true(fabs(mem->ratio - 1.8) < 1e-9);
    assert_int_equal(mem->met, 0); /* lower is better, goal <= 1.0 */

    const struct report_line *rps = find(lines, nl, "poll-200", "requests_per_s");
    assert_true(fabs(rps->ratio - 51000.0 / 41000.0) < 1e-9);
    assert_int_equal(rps->met, 1); /* higher is better, 1.24 >= 1.2 */

    const struct report_line *ws = find(lines, nl, "idle-ws", "server_rss_per_conn_kib");
    assert_int_equal(ws->n[0], 0);
    assert_true(isnan(ws->ratio));
    assert_int_equal(ws->met, -1);

    /* the human summary names the metric and its verdict */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    report_print(f, lines, nl);
    fclose(f);
    assert_non_null(strstr(text, "idle SSE stream: server RSS (KiB)"));
    assert_non_null(strstr(text, "not met"));
    assert_null(strstr(text, "idle WebSocket")); /* nothing measured: left out */
    free(text);

    /* the files */
    char dir[] = "/tmp/pushpull-bench-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct report_env env = {.started = "2026-12-01T00:00:01Z",
                             .command = "pushpull-bench --reps 3",
                             .versions = "v",
                             .machine = "m",
                             .params = "p",
                             .load_start = 0.1,
                             .load_max = 1.3,
                             .foreign_median = 1,
                             .foreign_max = 2};
    assert_false(report_env_noisy(&env));
    env.foreign_max = 21;
    assert_true(report_env_noisy(&env));
    env.foreign_max = 2;
    char err[256];
    assert_int_equal(report_write(dir, &env, lines, nl, err, sizeof(err)), 0);
    const char *files[] = {"summary.md", "summary.csv", "bench.dat", "bench.gp"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "grep -q '| idle SSE stream: server RSS (KiB) | 18 (17.5–19) | "
             "10 (9.5–10.5) | 1.80 | <= 1 | not met |' %s/summary.md",
             dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Medians of an even count are the mean of the middle two; a run that did not measure a
 * metric (NaN) is not counted; a zero median on nchan's side gives no ratio. */
static void test_median_even_and_gaps(void **state)
{
    (void)state;
    struct bench_row rows[16];
    size_t n = 0;
    const double pp[] = {30.0, 10.0, 40.0, 20.0}, nc[] = {8.0, 12.0, NAN, 10.0};
    for (int i = 0; i < 4; i++) {
        rows[n] = row("fanout-sse", "pushpull", i + 1, 1);
        rows[n].pub_latency_p99_ms = pp[i];
        rows[n++].server_cpu_us_per_delivery = 3.0;
        rows[n] = row("fanout-sse", "nchan", i + 1, 1);
        rows[n].pub_latency_p99_ms = nc[i];
        rows[n++].server_cpu_us_per_delivery = 0.0;
    }
    struct report_line lines[64];
    size_t nl = report_lines_init(lines, 64);
    report_summarize(lines, nl, rows, n);
    const struct report_line *p99 = find(lines, nl, "fanout-sse", "pub_latency_p99_ms");
    assert_int_equal(p99->n[0], 4);
    assert_int_equal(p99->n[1], 3);
    assert_true(p99->med[0] == 25.0); /* (20 + 30) / 2 */
    assert_true(p99->min[0] == 10.0 && p99->max[0] == 40.0);
    assert_true(p99->med[1] == 10.0 && p99->min[1] == 8.0 && p99->max[1] == 12.0);
    assert_true(fabs(p99->ratio - 2.5) < 1e-9);
    assert_int_equal(p99->met, 0); /* goal <= 0.8 */
    const struct report_line *cpu =
        find(lines, nl, "fanout-sse", "server_cpu_us_per_delivery");
    assert_true(cpu->med[0] == 3.0 && cpu->med[1] == 0.0);
    assert_true(isnan(cpu->ratio));
    assert_int_equal(cpu->met, -1);
}

/* The floor's runs give each line a third column and the ceiling, floor / nchan; a goal
 * above the ceiling is said to be out of reach for any server, one below it within
 * reach; a line the floor did not run has no ceiling, and the tables say all of it. */
static void test_ceiling(void **state)
{
    (void)state;
    struct bench_row rows[16];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        rows[n] = row("poll-200", "pushpull", i + 1, 1);
        rows[n++].requests_per_s = 90000 + 1000 * i;
        rows[n] = row("poll-200", "nchan", i + 1, 1);
        rows[n++].requests_per_s = 80000;
        rows[n] = row("poll-200", "floor", i + 1, 1);
        rows[n++].requests_per_s = 110000 - 2000 * i; /* median 108000: 1.35 */
        rows[n] = row("poll-304", "nchan", i + 1, 1);
        rows[n++].requests_per_s = 100000;
        rows[n] = row("poll-304", "floor", i + 1, 1);
        rows[n++].requests_per_s = 110000; /* 1.1: under the goal of 1.2 */
    }
    struct report_line lines[64];
    size_t nl = report_lines_init(lines, 64);
    report_summarize(lines, nl, rows, n);
    const struct report_line *p200 = find(lines, nl, "poll-200", "requests_per_s");
    const struct report_line *p304 = find(lines, nl, "poll-304", "requests_per_s");
    assert_int_equal(p200->n[2], 3);
    assert_true(p200->med[2] == 108000 && p200->min[2] == 106000 && p200->max[2] == 110000);
    assert_true(fabs(p200->ceiling - 1.35) < 1e-9);
    assert_true(fabs(p304->ceiling - 1.1) < 1e-9);
    assert_true(isnan(p304->ratio)); /* pushpull did not run it */
    assert_true(isnan(find(lines, nl, "idle-sse", "server_rss_per_conn_kib")->ceiling));

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    report_print(f, lines, nl);
    fclose(f);
    const char *c = strstr(text, "the machine's ceiling");
    assert_non_null(c);
    const char *l200 = strstr(c, "polling, 200s: requests/s (wrk)");
    const char *l304 = strstr(c, "polling, 304s: requests/s (wrk)");
    assert_non_null(l200);
    assert_non_null(l304);
    assert_non_null(strstr(l200, "1.35"));
    const char *within = strstr(l200, "within reach");
    assert_non_null(within);
    assert_true(within < l304);
    assert_non_null(strstr(l304, "out of reach for any server here"));
    free(text);

    char dir[] = "/tmp/pushpull-bench-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct report_env env = {.started = "2026-12-02T00:00:00Z",
                             .command = "pushpull-bench",
                             .versions = "v",
                             .machine = "m",
                             .params = "p"};
    char err[256], cmd[512];
    assert_int_equal(report_write(dir, &env, lines, nl, err, sizeof(err)), 0);
    snprintf(
        cmd, sizeof(cmd),
        "grep -q '| polling, 304s: requests/s (wrk) | 110000 (110000–110000) | 1.10 | – | "
        ">= 1.2 | out of reach for any server here |' %s/summary.md && "
        "grep -q '^poll-200,requests_per_s,3,91000,.*,3,108000,106000,110000,1.35$' "
        "%s/summary.csv",
        dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_median_even_and_gaps),
        cmocka_unit_test(test_ceiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
