/* test_conductor.c: pushpull-lab run as a process among processes: a scenario of one run
 * of one approach ends with its report, every plot and the closing table (and a plot
 * with nothing to draw says so); Ctrl-C mid-run stops every program it started (checked
 * by pid), a program that never prints its first line is named within the bound, a
 * client that fails is named with its status and last words, a second run on the same
 * --out is refused while the first holds it, and a server killed
 * with SIGKILL mid-run is reported with when and how it died, leaving no empty
 * server_stats.json; a run whose feed lives in Redis starts, saves and stops a
 * redis-server of its own. The conductor and the programs are the
 * ASan/UBSan builds; the conductor is started through common/proc.h and every wait is
 * bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "lab/lab.h"
#include "proc.h"
#include "summary_csv.h"

#define LAB "build/asan/bin/pushpull-lab"

static char tmp[] = "/tmp/pushpull-conductor-XXXXXX";

/* A scenario of two clients and ten updates a second, long enough to act on mid-run. */
static const char long_run[] =
    "{\"name\":\"long-run\",\"description\":\"a run to interrupt\",\"duration_s\":30,"
    "\"warmup_s\":0.5,\"clients\":2,\"updates\":{\"process\":\"periodic\",\"rate_hz\":10},"
    "\"approaches\":[{\"kind\":\"sse\",\"heartbeat_s\":1}]%s}";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* tmp/name.json holding long_run, with `extra` members (",\"network\":{...}" or ""). */
static void write_scenario(char *path, size_t cap, const char *name, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof(text), long_run, extra);
    snprintf(path, cap, "%s/%s.json", tmp, name);
    write_text(path, text);
}

/* Start `pushpull-lab run FILE --out OUT`, its output in OUT.stdout and OUT.stderr. */
static void start_lab(struct proc *p, const char *file, const char *out)
{
    char o[4200], e[4200], why[512];
    snprintf(o, sizeof(o), "%s.stdout", out);
    snprintf(e, sizeof(e), "%s.stderr", out);
    const char *argv[] = {LAB, "run", file, "--out", out, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "pushpull-lab",
                             .out = PROC_FILE,
                             .out_path = o,
                             .err = PROC_FILE,
                             .err_path = e};
    if (proc_start(p, &spec, why, sizeof(why)) != 0)
        fail_msg("%s", why);
}

/* The whole of a small file, or "" (the caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    if (f) {
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    return text;
}

/* run.json of run `id` under out once its outcome is `status` (at most timeout_ms);
 * NULL when it never is. */
static cJSON *await_record(const char *out, const char *id, const char *status,
                           int timeout_ms)
{
    char path[4200], err[512];
    snprintf(path, sizeof(path), "%s/runs/%s/run.json", out, id);
    int64_t end = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    while (clock_mono_ns() < end) {
        cJSON *doc = lab_read_json(path, err, sizeof(err));
        const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(doc, "outcome");
        if (doc && strcmp(lab_str(outcome, "status"), status) == 0)
            return doc;
        cJSON_Delete(doc);
        usleep(20 * 1000);
    }
    return NULL;
}

/* The pid run.json gives a program ("server", "link", "client"), or 0. */
static pid_t pid_of(const cJSON *record, const char *role)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(record, "programs"), role);
    double pid = lab_num(p, "pid");
    return pid > 0 ? (pid_t)pid : 0;
}

static bool gone(pid_t pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

static long file_size(const char *dir, const char *name)
{
    char path[4300];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* dir/summary.csv with the cells of the named columns emptied in every row, as a run
 * that received nothing would leave them. */
static void empty_columns(const char *dir, const char *const *names, size_t n_names)
{
    char path[4300];
    snprintf(path, sizeof(path), "%s/summary.csv", dir);
    char *text = slurp(path), *out = calloc(1, 1 << 20);
    assert_non_null(out);
    bool blank[512] = {false};
    size_t col = 0, line = 0, o = 0;
    const char *cell = text;
    for (const char *p = text;; p++) {
        if (*p != ',' && *p != '\n' && *p != '\0')
            continue;
        size_t len = (size_t)(p - cell);
        if (line == 0)
            for (size_t k = 0; k < n_names && col < 512; k++)
                if (strlen(names[k]) == len && strncmp(names[k], cell, len) == 0)
                    blank[col] = true;
        if (line == 0 || col >= 512 || !blank[col]) {
            memcpy(out + o, cell, len);
            o += len;
        }
        if (*p == '\0')
            break;
        out[o++] = *p;
        col = *p == '\n' ? 0 : col + 1;
        line += *p == '\n';
        cell = p + 1;
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
    free(text);
    free(out);
}

static void a_single_run_ends_with_its_report_plots_and_table(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4300];
    snprintf(file, sizeof(file), "%s/single.json", tmp);
    write_text(file, "{\"name\":\"single\",\"description\":\"one run of one approach\","
                     "\"duration_s\":2,\"warmup_s\":0.5,\"clients\":3,\"updates\":"
                     "{\"process\":\"periodic\",\"rate_hz\":10},\"approaches\":"
                     "[{\"kind\":\"sse\",\"heartbeat_s\":1}]}");
    snprintf(out, sizeof(out), "%s/single", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    assert_int_equal(proc_wait(&lab, 120000), 1);
    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path);
    if (proc_exit_code(&lab) != 0)
        fail_msg("exit %d:\n%s", proc_exit_code(&lab), err);
    free(err);
    const char *plots[] = {"tradeoff",  "requests", "bytes",    "cdf",
                           "staleness", "server",   "capacity", "radio"};
    for (size_t i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "plots/%s.png", plots[i]);
        assert_true(file_size(out, name) > 1000);
        snprintf(name, sizeof(name), "plots/%s.svg", plots[i]);
        assert_true(file_size(out, name) > 1000);
    }
    assert_int_equal(file_size(out, "plots/restart.png"), -1); /* no restart, no plot */
    snprintf(path, sizeof(path), "%s/report.md", out);
    char *report = slurp(path);
    assert_non_null(strstr(report, "### Server-Sent Events\n"));
    assert_null(strstr(report, "### Short polling"));
    assert_non_null(
        strstr(report, "in 1 of 1 runs the client's counts equal the kernel's"));
    /* one run still gets its capacity, its radio and its decision record, and each
     * figure is its row's arithmetic */
    assert_non_null(strstr(report, "## At the target population: 10,000 users"));
    assert_non_null(strstr(report, "\n| sse | 3 users, 2 s | "));
    assert_non_null(strstr(report, "## The phone's radio"));
    assert_non_null(strstr(report, "## For your decision record"));
    assert_non_null(strstr(report, "1. Server-Sent Events, heartbeat 1 s (run sse)"));
    free(report);
    struct summary_csv t;
    char bad[512];
    assert_int_equal(summary_csv_read(out, &t), 0);
    assert_int_equal(t.nrows, 1);
    if (summary_csv_check_capacity(&t, bad, sizeof(bad)) != 0)
        fail_msg("%s", bad);
    summary_csv_free(&t);
    snprintf(path, sizeof(path), "%s.stdout", out);
    char *said = slurp(path), want[9000];
    snprintf(want, sizeof(want), "single\n  run ");
    assert_non_null(strstr(said, want));
    snprintf(want, sizeof(want), "\n  sse ");
    assert_non_null(strstr(said, want));
    snprintf(want, sizeof(want), "  report: %s/report.md\n  plots:  %s/plots/tradeoff.png",
             out, out);
    assert_non_null(strstr(said, want));
    free(said);

    /* the same run as if nothing had arrived: every plot is still drawn, and says so */
    const char *files[] = {"timeline.csv", "latency.csv"};
    for (size_t i = 0; i < 2; i++) { /* their header lines only */
        snprintf(path, sizeof(path), "%s/runs/sse/%s", out, files[i]);
        char *text = slurp(path);
        char *nl = strchr(text, '\n');
        assert_non_null(nl);
        nl[1] = '\0';
        write_text(path, text);
        free(text);
    }
    const char *merge[] = {LAB, "merge", out, NULL};
    struct proc_spec mspec = {.argv = merge, .name = "merge", .out = PROC_DEVNULL};
    struct proc m;
    char mwhy[256];
    assert_int_equal(proc_start(&m, &mspec, mwhy, sizeof(mwhy)), 0);
    assert_int_equal(proc_wait(&m, 60000), 1);
    assert_int_equal(proc_exit_code(&m), 0);
    static const char *const gone[] = {
        "latency_count",  "latency_mean_ms",   "latency_p50_ms",      "latency_p95_ms",
        "latency_max_ms", "staleness_mean_ms", "bytes_per_client_min"};
    empty_columns(out, gone, sizeof(gone) / sizeof(gone[0]));
    const char *argv[] = {LAB, "plot", out, NULL};
    char why[256];
    struct proc_spec spec = {.argv = argv, .name = "plot", .out = PROC_DEVNULL};
    struct proc p;
    assert_int_equal(proc_start(&p, &spec, why, sizeof(why)), 0);
    assert_int_equal(proc_wait(&p, 60000), 1);
    assert_int_equal(proc_exit_code(&p), 0);
    snprintf(path, sizeof(path), "%s/plots/tradeoff.svg", out);
    char *svg = slurp(path);
    assert_non_null(strstr(svg, "nothing to draw: no run received an update"));
    free(svg);
    snprintf(path, sizeof(path), "%s/plots/cdf.svg", out);
    svg = slurp(path);
    assert_non_null(strstr(svg, "nothing to draw: no run received an update"));
    free(svg);
    snprintf(path, sizeof(path), "%s/plots/staleness.svg", out);
    svg = slurp(path);
    assert_non_null(strstr(svg, "nothing to draw: no run recorded a user"));
    free(svg);
}

static void ctrl_c_stops_every_program_it_started(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4300];
    write_scenario(file, sizeof(file), "interrupted", ",\"network\":{\"delay_ms\":5}");
    snprintf(out, sizeof(out), "%s/interrupted", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    cJSON *rec = await_record(out, "sse", "running", 30000);
    if (!rec)
        fail_msg("the run never started (see %s.stderr)", out);
    pid_t pids[] = {pid_of(rec, "server"), pid_of(rec, "link"), pid_of(rec, "client")};
    cJSON_Delete(rec);
    for (size_t i = 0; i < 3; i++)
        assert_true(pids[i] > 0 && !gone(pids[i]));

    assert_int_equal(proc_signal(&lab, SIGINT), 0);
    assert_int_equal(proc_wait(&lab, 30000), 1);
    assert_int_equal(proc_exit_code(&lab), 130);
    for (size_t i = 0; i < 3; i++)
        if (!gone(pids[i]))
            fail_msg("pid %d is still there after the conductor stopped", (int)pids[i]);

    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path), want[256];
    snprintf(
        want, sizeof(want),
        "run sse: interrupted; stopped the client (pid %d), the link emulator (pid %d), "
        "the server (pid %d)",
        (int)pids[2], (int)pids[1], (int)pids[0]);
    if (!strstr(err, want))
        fail_msg("stderr lacks \"%s\":\n%s", want, err);
    free(err);
    rec = await_record(out, "sse", "interrupted", 1000);
    assert_non_null(rec);
    cJSON_Delete(rec);
    snprintf(path, sizeof(path), "%s/.pushpull-lab.lock", out);
    assert_int_equal(access(path, F_OK), -1); /* released */
}

static void a_silent_program_is_named_within_the_bound(void **state)
{
    (void)state;
    char file[4200], out[4200], bin[4200], path[4300], cwd[4096];
    write_scenario(file, sizeof(file), "silent", "");
    snprintf(out, sizeof(out), "%s/silent", tmp);
    /* a bin directory whose server never says where it listens */
    snprintf(bin, sizeof(bin), "%s/fakebin", tmp);
    assert_int_equal(mkdir(bin, 0755), 0);
    snprintf(path, sizeof(path), "%s/pushpull-server", bin);
    write_text(path, "#!/bin/sh\nexec sleep 60\n");
    assert_int_equal(chmod(path, 0755), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    char target[4200];
    snprintf(target, sizeof(target), "%s/build/asan/bin/pushpull-client", cwd);
    snprintf(path, sizeof(path), "%s/pushpull-client", bin);
    assert_int_equal(symlink(target, path), 0);

    assert_int_equal(setenv("PUSHPULL_BIN", bin, 1), 0);
    struct proc lab;
    int64_t t0 = clock_mono_ns();
    start_lab(&lab, file, out);
    unsetenv("PUSHPULL_BIN");
    assert_int_equal(proc_wait(&lab, 30000), 1);
    double took_s = (double)(clock_mono_ns() - t0) / 1e9;
    assert_int_equal(proc_exit_code(&lab), 1);
    assert_true(took_s >= 10 && took_s < 25);

    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path);
    if (!strstr(err, "pushpull: run sse: the server printed no first line within 10.0 s"))
        fail_msg("stderr:\n%s", err);
    free(err);
    cJSON *rec = await_record(out, "sse", "failed", 1000);
    assert_non_null(rec);
    pid_t server = pid_of(rec, "server");
    assert_true(server > 0 && gone(server)); /* stopped, not left sleeping */
    cJSON_Delete(rec);
}

/* A run through the front (protocol h2): nghttpx started with its config and
 * certificate in the run's directory, named in run.json with its cost, stopped at the
 * end; the report gets its section on protocols; Ctrl-C stops the front too. */
static void a_run_through_the_front_starts_and_stops_it(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4300];
    write_scenario(file, sizeof(file), "front", ",\"protocol\":[\"h2\",\"http1\"]");
    /* two runs, 30 s each: interrupt the first (the h2 one) once it runs; the second
     * (http1) must not have begun, so it has no front */
    snprintf(out, sizeof(out), "%s/front", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    cJSON *rec = await_record(out, "sse-protocol=h2", "running", 90000);
    if (!rec)
        fail_msg("the h2 run never started (see %s.stderr)", out);
    pid_t front = pid_of(rec, "front");
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "programs"),
                                         "front"),
        "argv");
    assert_int_equal(cJSON_GetArraySize(argv), 2);
    char conf[4300];
    snprintf(conf, sizeof(conf), "--conf=%s/runs/sse-protocol=h2/nghttpx.conf", out);
    assert_string_equal(cJSON_GetArrayItem(argv, 1)->valuestring, conf);
    cJSON_Delete(rec);
    assert_true(front > 0 && !gone(front));
    assert_true(file_size(out, "runs/sse-protocol=h2/front-cert.pem") > 100);
    assert_int_equal(file_size(out, "runs/sse-protocol=http1/nghttpx.conf"), -1); /* none */
    /* the client trusts exactly the run's certificate */
    rec = await_record(out, "sse-protocol=h2", "running", 1000);
    const cJSON *cargv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "programs"),
                                         "client"),
        "argv");
    char *joined = cJSON_PrintUnformatted(cargv);
    snprintf(path, sizeof(path), "\"--cacert\",\"%s/runs/sse-protocol=h2/front-cert.pem\"",
             out);
    assert_non_null(strstr(joined, path));
    assert_non_null(strstr(joined, "\"--protocol\",\"h2\""));
    free(joined);
    cJSON_Delete(rec);

    assert_int_equal(proc_signal(&lab, SIGINT), 0);
    assert_int_equal(proc_wait(&lab, 30000), 1);
    assert_int_equal(proc_exit_code(&lab), 130);
    if (!gone(front))
        fail_msg("the front (pid %d) is still there after the conductor stopped",
                 (int)front);
    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path), want[256];
    snprintf(want, sizeof(want), "the front (nghttpx) (pid %d)", (int)front);
    if (!strstr(err, want))
        fail_msg("stderr lacks \"%s\":\n%s", want, err);
    free(err);
}

/* The same, to its end: the front's cost in run.json, the report's section. */
static void a_front_run_ends_with_its_cost_and_the_protocol_section(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4300];
    snprintf(file, sizeof(file), "%s/front-end.json", tmp);
    write_text(file, "{\"name\":\"front-end\",\"description\":\"through the front\","
                     "\"duration_s\":2,\"warmup_s\":0.5,\"clients\":3,\"updates\":"
                     "{\"process\":\"periodic\",\"rate_hz\":10},\"protocol\":\"h2c\","
                     "\"approaches\":[{\"kind\":\"short\",\"interval_ms\":200}]}");
    snprintf(out, sizeof(out), "%s/front-end", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    assert_int_equal(proc_wait(&lab, 120000), 1);
    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path);
    if (proc_exit_code(&lab) != 0)
        fail_msg("exit %d:\n%s", proc_exit_code(&lab), err);
    free(err);
    cJSON *rec = await_record(out, "short-state", "ok", 1000);
    assert_non_null(rec);
    const cJSON *front = cJSON_GetObjectItemCaseSensitive(rec, "front");
    assert_true(lab_num(front, "cpu_s") >= 0);
    assert_true(lab_num(front, "peak_rss_kb") > 100);
    assert_true(gone(pid_of(rec, "front")));
    assert_string_equal(
        lab_str(cJSON_GetObjectItemCaseSensitive(rec, "settings"), "protocol"), "h2c");
    cJSON_Delete(rec);
    snprintf(path, sizeof(path), "%s/report.md", out);
    char *report = slurp(path);
    assert_non_null(strstr(report, "## Protocols: how much of each approach's cost"));
    assert_non_null(strstr(report, "| short-state | h2c | "));
    free(report);
}

/* A client that fails is named with its status and the last line it wrote on stderr. */
static void a_failed_client_is_named_with_its_last_words(void **state)
{
    (void)state;
    char file[4200], out[4200], bin[4200], path[4300], cwd[4096], target[4300];
    write_scenario(file, sizeof(file), "client-fails", "");
    snprintf(out, sizeof(out), "%s/client-fails", tmp);
    snprintf(bin, sizeof(bin), "%s/failbin", tmp);
    assert_int_equal(mkdir(bin, 0755), 0);
    snprintf(path, sizeof(path), "%s/pushpull-client", bin);
    write_text(path, "#!/bin/sh\necho 'starting' >&2\n"
                     "echo 'pushpull-client: no user received anything' >&2\nexit 3\n");
    assert_int_equal(chmod(path, 0755), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(target, sizeof(target), "%s/build/asan/bin/pushpull-server", cwd);
    snprintf(path, sizeof(path), "%s/pushpull-server", bin);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(setenv("PUSHPULL_BIN", bin, 1), 0);
    struct proc lab;
    start_lab(&lab, file, out);
    unsetenv("PUSHPULL_BIN");
    assert_int_equal(proc_wait(&lab, 30000), 1);
    assert_int_equal(proc_exit_code(&lab), 1);
    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path);
    if (!strstr(err, "pushpull: run sse: the client exited with status 3: pushpull-client: "
                     "no user received anything (see "))
        fail_msg("stderr:\n%s", err);
    free(err);
    cJSON *rec = await_record(out, "sse", "failed", 1000);
    assert_non_null(rec);
    assert_true(gone(pid_of(rec, "server"))); /* the server was stopped */
    cJSON_Delete(rec);
}

static void a_second_run_on_the_same_out_is_refused(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4300];
    write_scenario(file, sizeof(file), "locked", "");
    snprintf(out, sizeof(out), "%s/locked", tmp);
    struct proc first, second;
    start_lab(&first, file, out);
    cJSON *rec = await_record(out, "sse", "running", 30000);
    if (!rec)
        fail_msg("the first run never started (see %s.stderr)", out);
    cJSON_Delete(rec);

    const char *argv[] = {LAB, "run", file, "--out", out, NULL};
    char e[4300], why[256];
    snprintf(e, sizeof(e), "%s/second.stderr", tmp);
    struct proc_spec spec = {.argv = argv,
                             .name = "the second",
                             .out = PROC_DEVNULL,
                             .err = PROC_FILE,
                             .err_path = e};
    assert_int_equal(proc_start(&second, &spec, why, sizeof(why)), 0);
    assert_int_equal(proc_wait(&second, 10000), 1);
    assert_int_equal(proc_exit_code(&second), 1);
    char *err = slurp(e), want[9000];
    snprintf(want, sizeof(want),
             "pushpull: %s is in use by another run of pushpull-lab (pid %d, lock "
             "%s/.pushpull-lab.lock): wait for it to end, or give this run another --out\n",
             out, (int)first.pid, out);
    assert_string_equal(err, want);
    free(err);
    /* the first run's directory is untouched, and it still runs */
    snprintf(path, sizeof(path), "%s/runs/sse/run.json", out);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(proc_poll(&first), 0);
    assert_int_equal(proc_signal(&first, SIGINT), 0);
    assert_int_equal(proc_wait(&first, 30000), 1);
    assert_int_equal(proc_exit_code(&first), 130);
}

static void a_killed_server_is_reported_with_its_status(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4300];
    write_scenario(file, sizeof(file), "killed", "");
    snprintf(out, sizeof(out), "%s/killed", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    cJSON *rec = await_record(out, "sse", "running", 30000);
    if (!rec)
        fail_msg("the run never started (see %s.stderr)", out);
    pid_t server = pid_of(rec, "server"), client = pid_of(rec, "client");
    cJSON_Delete(rec);
    usleep(1000 * 1000); /* into the window */
    assert_int_equal(kill(server, SIGKILL), 0);
    assert_int_equal(proc_wait(&lab, 15000), 1); /* not the 30 s window */
    assert_int_equal(proc_exit_code(&lab), 1);
    assert_true(gone(client));

    snprintf(path, sizeof(path), "%s.stderr", out);
    char *err = slurp(path);
    if (!strstr(err, "pushpull: run sse: the server died ") ||
        !strstr(err, " s after the client started (") ||
        !strstr(err, "s into the measurement window), was killed by signal 9 (Killed); "
                     "see "))
        fail_msg("stderr:\n%s", err);
    free(err);
    snprintf(path, sizeof(path), "%s/runs/sse/server_stats.json", out);
    assert_int_equal(access(path, F_OK), -1); /* no empty document */
    rec = await_record(out, "sse", "failed", 1000);
    assert_non_null(rec);
    const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(rec, "outcome");
    assert_non_null(strstr(lab_str(outcome, "message"), "killed by signal 9"));
    cJSON_Delete(rec);
}

/* "feed": {"redis": true}: the conductor starts a redis-server of the run's own, its
 * config in the run's directory (AOF only when durable), gives the server --redis, saves
 * Redis's INFO at the end and stops it; interrupted, it stops Redis too, after the server.
 */
static void a_run_with_its_feed_in_redis(void **state)
{
    (void)state;
    char file[4200], out[4200], dir[4300], path[4400];
    snprintf(file, sizeof(file), "%s/redis.json", tmp);
    write_text(file, "{\"name\":\"redis\",\"description\":\"the feed through Redis\","
                     "\"duration_s\":2,\"warmup_s\":0.5,\"clients\":2,"
                     "\"updates\":{\"process\":\"periodic\",\"rate_hz\":10},"
                     "\"approaches\":[{\"kind\":\"sse\",\"heartbeat_s\":1}],"
                     "\"feed\":{\"redis\":true,\"durable\":true}}");
    snprintf(out, sizeof(out), "%s/redis", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    assert_int_equal(proc_wait(&lab, 120000), 1);
    if (proc_exit_code(&lab) != 0)
        fail_msg("the lab failed (see %s.stderr)", out);
    snprintf(dir, sizeof(dir), "%s/runs/sse", out);
    cJSON *rec = await_record(out, "sse", "ok", 1000);
    assert_non_null(rec);
    const cJSON *feed = cJSON_GetObjectItemCaseSensitive(rec, "feed");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(feed, "redis")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(feed, "durable")));
    const char *addr = lab_str(feed, "address");
    assert_int_equal(strncmp(addr, "127.0.0.1:", 10), 0);
    const cJSON *programs = cJSON_GetObjectItemCaseSensitive(rec, "programs");
    const cJSON *redis = cJSON_GetObjectItemCaseSensitive(programs, "redis");
    assert_string_equal(lab_str(redis, "ended"), "exited with status 0");
    assert_true(gone(pid_of(rec, "redis")));
    /* the server was told where Redis is */
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(programs, "server"), "argv");
    int n = cJSON_GetArraySize(argv);
    assert_true(n >= 2);
    assert_string_equal(cJSON_GetArrayItem(argv, n - 2)->valuestring, "--redis");
    assert_string_equal(cJSON_GetArrayItem(argv, n - 1)->valuestring, addr);
    /* its config is the run's own */
    snprintf(path, sizeof(path), "%s/redis.conf", dir);
    char *conf = slurp(path), want[64];
    snprintf(want, sizeof(want), "\nport %s\n", addr + 10);
    assert_non_null(strstr(conf, want));
    assert_non_null(strstr(conf, "\nbind 127.0.0.1\n"));
    assert_non_null(strstr(conf, "\nsave \"\"\n"));
    assert_non_null(strstr(conf, "\nappendonly yes\n"));
    free(conf);
    snprintf(path, sizeof(path), "%s/redis_info.txt", dir);
    char *info = slurp(path);
    assert_non_null(strstr(info, "\r\naof_enabled:1\r\n"));
    assert_non_null(strstr(info, "\r\nused_memory:"));
    assert_non_null(strstr(info, "\r\nused_cpu_user:"));
    free(info);
    /* the server followed the stream all along */
    snprintf(path, sizeof(path), "%s/server_stats.json", dir);
    char err[256];
    cJSON *st = lab_read_json(path, err, sizeof(err));
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(st, "redis");
    assert_string_equal(lab_str(rs, "state"), "up");
    assert_true(lab_num(rs, "updates_followed") > 0);
    assert_true(lab_num(rs, "reconnects") == 0);
    cJSON_Delete(st);
    cJSON_Delete(rec);

    /* interrupted: Redis is stopped as well, after the server */
    write_scenario(file, sizeof(file), "redis-interrupted", ",\"feed\":{\"redis\":true}");
    snprintf(out, sizeof(out), "%s/redis-interrupted", tmp);
    start_lab(&lab, file, out);
    rec = await_record(out, "sse", "running", 30000);
    if (!rec)
        fail_msg("the run never started (see %s.stderr)", out);
    pid_t server = pid_of(rec, "server"), client = pid_of(rec, "client"),
          broker = pid_of(rec, "redis");
    cJSON_Delete(rec);
    assert_true(broker > 0 && !gone(broker));
    assert_int_equal(proc_signal(&lab, SIGINT), 0);
    assert_int_equal(proc_wait(&lab, 30000), 1);
    assert_int_equal(proc_exit_code(&lab), 130);
    assert_true(gone(broker));
    snprintf(path, sizeof(path), "%s.stderr", out);
    char *said = slurp(path);
    char stopped[256];
    snprintf(stopped, sizeof(stopped),
             "stopped the client (pid %d), the server (pid %d), redis-server (pid %d)",
             (int)client, (int)server, (int)broker);
    if (!strstr(said, stopped))
        fail_msg("stderr lacks \"%s\":\n%s", stopped, said);
    free(said);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_single_run_ends_with_its_report_plots_and_table),
        cmocka_unit_test(ctrl_c_stops_every_program_it_started),
        cmocka_unit_test(a_silent_program_is_named_within_the_bound),
        cmocka_unit_test(a_failed_client_is_named_with_its_last_words),
        cmocka_unit_test(a_second_run_on_the_same_out_is_refused),
        cmocka_unit_test(a_run_through_the_front_starts_and_stops_it),
        cmocka_unit_test(a_front_run_ends_with_its_cost_and_the_protocol_section),
        cmocka_unit_test(a_killed_server_is_reported_with_its_status),
        cmocka_unit_test(a_run_with_its_feed_in_redis),
    };
    return cmocka_run_group_tests_name("conductor", tests, setup, teardown);
}
