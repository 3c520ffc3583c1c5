/* conductor.c: `pushpull-lab run` (see conductor.h).
 *
 * Order: every file is checked (both modes) before anything starts; each is loaded in the
 * mode asked; every results directory is made and locked (lab/outlock.h) before the
 * first run, so a second conductor pointed at the same --out is refused before it touches
 * a file; then scenario by scenario, run by run, and after each scenario the merge, the
 * plots and the report. A failed run ends the whole command (its message names the run
 * and the program), as does an interrupt; what was finished stays on disk.
 *
 * Signals: one handler sets a flag and nothing else. The runner's waits look at it every
 * few milliseconds (common/proc.h's cancel flag too), so a Ctrl-C is acted on at once,
 * whatever the run is waiting for.
 */
#include "conductor.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "lab.h"
#include "outlock.h"
#include "plot.h"
#include "proc.h"
#include "runargs.h"
#include "runner.h"
#include "scenario.h"

#define MAX_FILES 64

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* SIGINT, SIGTERM and SIGHUP set the flag; no SA_RESTART, so a sleep ends at once. */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    proc_cancel_on(&stop_requested);
}

/* Load path in one mode; the run count goes to *runs. 0, or 2 after printing the error. */
static int check_mode(const char *path, unsigned flags, size_t *runs)
{
    char err[1024];
    struct scenario *s = NULL;
    if (scenario_load(path, flags, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s%s\n", err, (flags & SCENARIO_QUICK) ? " (with --quick)" : "");
        return 2;
    }
    *runs = scenario_run_count(s);
    if (scenario_warning(s)[0])
        fprintf(stderr, "warning: %s%s\n", scenario_warning(s),
                (flags & SCENARIO_QUICK) ? " (with --quick)" : "");
    scenario_free(s);
    return 0;
}

int conductor_check(char **files, int n, bool print_ok)
{
    int status = 0;
    for (int i = 0; i < n; i++) {
        size_t runs = 0, quick_runs = 0;
        if (check_mode(files[i], 0, &runs) != 0 ||
            check_mode(files[i], SCENARIO_QUICK, &quick_runs) != 0) {
            status = 2;
            continue;
        }
        if (print_ok)
            printf("ok: %s (%zu runs, %zu with --quick)\n", files[i], runs, quick_runs);
    }
    return status;
}

/* A file's name without its directory and ".json". */
static void file_stem(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    snprintf(out, cap, "%.*s", (int)n, base);
}

/* Where scenario i's results go: --out itself for one file, --out/<stem> for several,
 * results/<stem>/<stamp> without --out. */
static void results_dir(const struct conductor_opts *o, const char *file, int nfiles,
                        const char *stamp, char *out, size_t cap)
{
    char stem[256];
    file_stem(file, stem, sizeof(stem));
    if (!o->out)
        snprintf(out, cap, "results/%s/%s", stem, stamp);
    else if (nfiles > 1)
        snprintf(out, cap, "%s/%s", o->out, stem);
    else
        snprintf(out, cap, "%s", o->out);
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
}

/* plan.json: the scenario's name, whether it is the quick version, the run ids in order.
 * The merge reads it to know the runs and their order. */
static int write_plan(const char *dir, const char *file, const struct scenario *s,
                      char *err, size_t errlen)
{
    char path[4200];
    cJSON *plan = cJSON_CreateObject();
    cJSON_AddStringToObject(plan, "scenario", scenario_name(s));
    cJSON_AddStringToObject(plan, "scenario_file", file);
    cJSON_AddBoolToObject(plan, "quick", scenario_quick(s));
    cJSON *ids = cJSON_AddArrayToObject(plan, "runs");
    for (size_t i = 0; i < scenario_run_count(s); i++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(scenario_run_at(s, i)->id));
    snprintf(path, sizeof(path), "%s/plan.json", dir);
    int rc = lab_write_json(path, plan, err, errlen);
    cJSON_Delete(plan);
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/scenario.json", dir);
        rc = lab_copy_file(file, path, err, errlen);
    }
    return rc;
}

/* "  [i/n] ID (link: ARGS) (restart: WORDS)" */
static void print_progress(const struct scenario_run *r, size_t i, size_t n)
{
    struct runargs link;
    struct dynbuf words;
    runargs_init(&link);
    dynbuf_init(&words, 4096);
    runargs_link(r, &link);
    runargs_join(&link, &words);
    printf("  [%zu/%zu] %s", i + 1, n, r->id);
    if (words.len)
        printf(" (link: %s)", words.mem);
    dynbuf_reset(&words);
    runargs_restart_words(r, &words);
    if (words.len)
        printf(" (restart: %s)", words.mem);
    printf("\n");
    fflush(stdout);
    runargs_free(&link);
    dynbuf_free(&words);
}

/* Every run of s into dir, then the merge, the plots and the report. An exit status. */
static int run_scenario(const struct conductor_opts *o, const char *file,
                        const struct scenario *s, const char *dir)
{
    char err[2048];
    size_t n = scenario_run_count(s);
    double estimate = 0;
    for (size_t i = 0; i < n; i++)
        estimate += runargs_estimate_s(scenario_run_at(s, i));
    printf("pushpull: %s: %zu runs%s -> %s (about %.0f s)\n", file, n,
           scenario_quick(s) ? " (quick)" : "", dir, estimate);
    fflush(stdout);
    if (write_plan(dir, file, s, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull: %s\n", err);
        return 1;
    }
    struct runner_env env = {o->bin_dir, &stop_requested};
    for (size_t i = 0; i < n; i++) {
        if (stop_requested) {
            fprintf(stderr, "pushpull: interrupted before run %s\n",
                    scenario_run_at(s, i)->id);
            return 130;
        }
        print_progress(scenario_run_at(s, i), i, n);
        int rc = runner_run(&env, s, i, dir, err, sizeof(err));
        if (rc == RUNNER_INTERRUPTED) {
            fprintf(stderr, "pushpull: %s\n", err);
            return 130;
        }
        if (rc != RUNNER_OK) {
            fprintf(stderr, "pushpull: %s\n", err);
            return 1;
        }
    }
    if (lab_merge(dir, err, sizeof(err)) != 0 ||
        plot_all(dir, o->plots_dir, &stop_requested, err, sizeof(err)) != 0 ||
        lab_report(dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull: %s\n", err);
        return stop_requested ? 130 : 1;
    }
    return 0;
}

int conductor_print_closing(const char *dir, char *err, size_t errlen)
{
    if (lab_table(dir, stdout, err, errlen) != 0)
        return -1;
    printf("  report: %s/report.md\n", dir);
    printf("  plots:  %s/plots/tradeoff.png (and %s)\n\n", dir, plot_others());
    return 0;
}

/* Release every lock taken. */
static void release_all(struct outlock *locks, int n)
{
    for (int i = 0; i < n; i++)
        outlock_release(&locks[i]);
}

int conductor_run(const struct conductor_opts *o, char **files, int n)
{
    static char dirs[MAX_FILES][4096];
    struct scenario *loaded[MAX_FILES] = {0};
    struct outlock locks[MAX_FILES];
    int status = 0, locked = 0;
    char err[2048];
    if (n > MAX_FILES) {
        fprintf(stderr, "pushpull-lab: run: at most %d scenario files at once\n",
                MAX_FILES);
        return 2;
    }
    if (conductor_check(files, n, false) != 0)
        return 2;
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
    for (int i = 0; i < n; i++) {
        if (scenario_load(files[i], o->quick ? SCENARIO_QUICK : 0, &loaded[i], err,
                          sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            status = 2;
            goto end;
        }
        results_dir(o, files[i], n, stamp, dirs[i], sizeof(dirs[i]));
        if (lab_mkdirs(dirs[i], err, sizeof(err)) != 0 ||
            outlock_take(&locks[locked], dirs[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "pushpull: %s\n", err);
            status = 1;
            goto end;
        }
        locked++;
    }
    catch_stop_signals();
    int64_t t0 = clock_mono_ns();
    size_t runs = 0;
    for (int i = 0; i < n && status == 0; i++) {
        status = run_scenario(o, files[i], loaded[i], dirs[i]);
        runs += scenario_run_count(loaded[i]);
    }
    if (status != 0)
        goto end;
    printf("\npushpull: %d scenario%s, %zu runs, took %.0f s\n", n, n == 1 ? "" : "s", runs,
           (double)(clock_mono_ns() - t0) / 1e9);
    for (int i = 0; i < n; i++) {
        if (conductor_print_closing(dirs[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "pushpull: %s\n", err);
            status = 1;
            break;
        }
    }
end:
    fflush(stdout);
    release_all(locks, locked);
    for (int i = 0; i < n; i++)
        scenario_free(loaded[i]);
    return status;
}
