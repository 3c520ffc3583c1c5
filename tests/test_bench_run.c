/* test_bench_run.c: pushpull-bench as a user runs it, on a load small enough for a test.
 *
 * One repetition of an idle, a fan-out, a long-polling and (with wrk) a polling workload,
 * against the lab server and, where Debian's nginx and nchan module are installed,
 * against nginx + nchan too (and the floor server on the polling one): the bench must exit
 * 0 with one row per run in runs.csv, every row measured (ok = 1, the figures of its kind
 * present), summary.md with the comparison table, summary.csv and params.json; and nothing
 * it started may outlive it (no process whose command line names the results directory).
 * Nothing is timed: the bench's own bounds decide when a run has failed. The bench, its
 * reference client and the lab server are the ASan/UBSan builds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/nginx_conf.h"
#include "dynbuf.h"
#include "proc.h"

#define BENCH "build/asan/bin/pushpull-bench"

static char tmp[] = "/tmp/pushpull-bench-run-XXXXXX";

static int setup(void **state)
{
    (void)state;
    /* nginx's workers run as nobody when the test runs as root: let them in */
    return mkdtemp(tmp) && chmod(tmp, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void read_text(const char *path, struct dynbuf *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s is missing", path);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        assert_int_equal(dynbuf_add(out, buf, n), 0);
    fclose(f);
    assert_non_null(out->mem);
}

/* The one directory the bench made under tmp/results (its timestamp). */
static void results_dir(char *out, size_t cap)
{
    char root[300];
    snprintf(root, sizeof(root), "%s/results", tmp);
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(out, cap, "%s/%s", root, e->d_name);
        found++;
    }
    closedir(d);
    assert_int_equal(found, 1);
}

/* The index of a column in runs.csv's header, or fail. */
static int column(const char *header, const char *name)
{
    int i = 0;
    size_t len = strlen(name);
    for (const char *p = header; *p && *p != '\n'; i++) {
        if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\n'))
            return i;
        p += strcspn(p, ",\n");
        if (*p == ',')
            p++;
    }
    fail_msg("runs.csv has no column %s", name);
    return -1;
}

/* Cell i of a CSV line (no quoted cell before it), into out. */
static void cell(const char *line, int i, char *out, size_t cap)
{
    const char *p = line;
    for (int k = 0; k < i; k++) {
        p += strcspn(p, ",\n");
        assert_int_equal(*p, ',');
        p++;
    }
    size_t n = strcspn(p, ",\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

/* Is any process's command line naming dir still there? */
static int anything_left(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int left = 0;
    while (d && (e = readdir(d)) != NULL) {
        char path[300], buf[4096];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            buf[i] = buf[i] ? buf[i] : ' ';
        buf[n] = '\0';
        if (strstr(buf, dir) && !strstr(buf, "test_bench_run")) {
            print_message("still running: %s (pid %s)\n", buf, e->d_name);
            left++;
        }
    }
    if (d)
        closedir(d);
    return left;
}

static void test_small_bench(void **state)
{
    (void)state;
    int nchan =
        access("/usr/sbin/nginx", X_OK) == 0 && access(NGINX_NCHAN_MODULE, R_OK) == 0;
    int wrk = access("/usr/bin/wrk", X_OK) == 0;
    /* the lab client's rows too (lab_client.c), through its foreign adapter on nchan: a
     * stream and a long poll here; test_foreign runs all four of its techniques there */
    const char *workloads = wrk ? "idle-sse,fanout-sse,longpoll,poll-304,lab-sse,lab-long"
                                : "idle-sse,fanout-sse,longpoll,lab-sse,lab-long";
    char results[300];
    snprintf(results, sizeof(results), "%s/results", tmp);
    const char *argv[] = {BENCH,
                          "--out",
                          results,
                          "--reps",
                          "1",
                          "--against",
                          nchan ? "nchan" : "none",
                          "--workloads",
                          workloads,
                          "--idle-clients",
                          "20",
                          "--fanout-clients",
                          "20",
                          "--fanout-time",
                          "1s",
                          "--longpoll-clients",
                          "20",
                          "--longpoll-time",
                          "1s",
                          "--wrk-time",
                          "1s",
                          "--wrk-connections",
                          "4",
                          "--wrk-threads",
                          "1",
                          "--client-threads",
                          "1",
                          "--server-threads",
                          "1",
                          "--server-bin",
                          "build/asan/bin/pushpull-server",
                          NULL};
    char out_path[300], err_path[300], err[512];
    snprintf(out_path, sizeof(out_path), "%s/bench.stdout", tmp);
    snprintf(err_path, sizeof(err_path), "%s/bench.stderr", tmp);
    struct proc p;
    proc_init(&p);
    struct proc_spec spec = {.argv = argv,
                             .name = "pushpull-bench",
                             .out = PROC_FILE,
                             .out_path = out_path,
                             .err = PROC_FILE,
                             .err_path = err_path};
    assert_int_equal(proc_start(&p, &spec, err, sizeof(err)), 0);
    /* a bound, not a timing: each run has its own, far shorter */
    int ended = proc_wait(&p, 600000);
    int status = proc_stop(&p, 5000);
    struct dynbuf text;
    dynbuf_init(&text, 1 << 20);
    read_text(out_path, &text);
    print_message("%s", text.mem);
    dynbuf_free(&text);
    assert_true(ended);
    assert_int_equal(status, 0);

    char dir[600], path[700];
    results_dir(dir, sizeof(dir));
    assert_int_equal(anything_left(tmp), 0);

    /* runs.csv: one measured row per workload and server */
    snprintf(path, sizeof(path), "%s/runs.csv", dir);
    dynbuf_init(&text, 1 << 20);
    read_text(path, &text);
    int c_workload = column(text.mem, "workload"), c_server = column(text.mem, "server"),
        c_ok = column(text.mem, "ok"), c_rss = column(text.mem, "server_rss_per_conn_kib"),
        c_deliv = column(text.mem, "deliveries"),
        c_rps = column(text.mem, "requests_per_s"), c_load = column(text.mem, "load1"),
        c_steal = column(text.mem, "steal_pct"), c_missed = column(text.mem, "missed"),
        c_cpu = column(text.mem, "client_cpu_s");
    int rows = 0, labs = 0;
    for (const char *line = strchr(text.mem, '\n') + 1; *line;
         line = strchr(line, '\n') + 1) {
        char w[32], s[32], v[64];
        cell(line, c_workload, w, sizeof(w));
        cell(line, c_server, s, sizeof(s));
        cell(line, c_ok, v, sizeof(v));
        print_message("row %d: %s %s ok=%s\n", rows + 1, w, s, v);
        assert_string_equal(v, "1");
        /* --against nchan brings the floor too, on the poll workload only */
        assert_true(strcmp(s, "pushpull") == 0 || (nchan && strcmp(s, "nchan") == 0) ||
                    (nchan && strcmp(s, "floor") == 0 && strcmp(w, "poll-304") == 0));
        cell(line, c_load, v, sizeof(v));
        assert_true(v[0] != '\0'); /* the load average and steal, with every run */
        cell(line, c_steal, v, sizeof(v));
        assert_true(v[0] != '\0');
        if (strcmp(w, "idle-sse") == 0) {
            cell(line, c_rss, v, sizeof(v));
            assert_true(v[0] != '\0');
        } else if (strcmp(w, "poll-304") == 0) {
            cell(line, c_rps, v, sizeof(v));
            assert_true(strtod(v, NULL) > 0);
        } else {
            cell(line, c_deliv, v, sizeof(v));
            assert_true(strtod(v, NULL) > 0);
        }
        if (strncmp(w, "lab-", 4) == 0) { /* the lab client's own counts */
            cell(line, c_missed, v, sizeof(v));
            assert_true(v[0] != '\0');
            cell(line, c_cpu, v, sizeof(v));
            assert_true(v[0] != '\0');
            labs++;
        }
        rows++;
    }
    assert_int_equal(rows, (5 + wrk) * (1 + nchan) + wrk * nchan);
    assert_int_equal(labs, 2 * (1 + nchan));
    dynbuf_free(&text);

    /* summary.md: the comparison table with its goals */
    snprintf(path, sizeof(path), "%s/summary.md", dir);
    dynbuf_init(&text, 1 << 20);
    read_text(path, &text);
    assert_non_null(
        strstr(text.mem, "| metric | pushpull | nginx + nchan | ratio | goal |"));
    assert_non_null(strstr(text.mem, "| idle SSE stream: server RSS (KiB) |"));
    assert_non_null(strstr(text.mem, "(1 run)"));
    if (wrk && nchan) /* the floor's table, with its ceiling for the 304 goal */
        assert_non_null(strstr(text.mem, "| polling, 304s: requests/s (wrk) | "));
    if (wrk && nchan)
        assert_non_null(strstr(text.mem, "**The machine's ceiling.**"));
    dynbuf_free(&text);

    snprintf(path, sizeof(path), "%s/summary.csv", dir);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/params.json", dir);
    dynbuf_init(&text, 1 << 16);
    read_text(path, &text);
    cJSON *params = cJSON_Parse(text.mem);
    assert_non_null(params);
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(params, "reps");
    assert_true(cJSON_IsNumber(reps) && reps->valuedouble == 1);
    cJSON_Delete(params);
    dynbuf_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small_bench, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
