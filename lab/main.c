/* main.c: pushpull-lab, the conductor: run scenarios end to end, and the tools around
 * it.
 *
 * `run SCENARIO.json... [--quick] [--out DIR]` is the whole job (lab/conductor.h): check
 * every file, make every run (start the server, the link when the scenario has a network,
 * and the client; time the restart experiment; save what each program counted), merge,
 * draw the plots, write the report, and end with each scenario's closing table. `check`
 * validates files in both modes, normal and --quick, and prints "ok: FILE (N runs, M with
 * --quick)" for each. `plan` prints a scenario's runs for people, one per line:
 * "RUN_ID<TAB>SERVER_ARGS<TAB>CLIENT_ARGS<TAB>LINK_ARGS<TAB>RESTART" (nothing reads it:
 * each run's parameters travel as its run.json). `merge`, `plot`, `report` and `table`
 * redo one step on a finished results directory. `demo` is the classroom demo (lab/demo.h):
 * the server behind the link, until Ctrl-C.
 *
 * The programs are found beside this one (or in $PUSHPULL_BIN), the gnuplot scripts in
 * the repository's plots/ (or $PUSHPULL_PLOTS). A bad file fails with the loader's
 * one-line message and exit status 2.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conductor.h"
#include "demo.h"
#include "dynbuf.h"
#include "lab.h"
#include "plot.h"
#include "runargs.h"
#include "scale.h"
#include "scenario.h"

#define LAB_LINE_MAX ((size_t)64 * 1024)

static const char usage_text[] =
    "usage: pushpull-lab run SCENARIO.json... [--quick] [--out DIR]\n"
    "       pushpull-lab check SCENARIO.json...\n"
    "       pushpull-lab plan SCENARIO.json [--quick]\n"
    "       pushpull-lab merge|plot|report|table RESULTS_DIR\n"
    "       pushpull-lab demo [--rate HZ] [--port N] [--delay DUR] [--bind ADDR]\n"
    "\n"
    "  run      run scenarios: every file checked first; for each run the server, the\n"
    "           link (when the scenario has a network) and the client; then the merge,\n"
    "           the plots and the report into results/<name>/<UTC time>/ (or DIR, or\n"
    "           DIR/<name> for several files), and each scenario's closing table\n"
    "  check    validate scenarios in both modes; print \"ok: FILE (N runs, M with "
    "--quick)\"\n"
    "  plan     print a scenario's runs for people, one per line:\n"
    "           RUN_ID<TAB>SERVER_ARGS<TAB>CLIENT_ARGS<TAB>LINK_ARGS<TAB>RESTART\n"
    "           (stderr: count and estimated time)\n"
    "  merge    one summary.csv/.json from the runs of a results directory\n"
    "  plot     draw its plots again (plots/*.gp, gnuplot)\n"
    "  report   write its report.md again: measured values beside the models\n"
    "  table    print its closing table\n"
    "  demo     the classroom demo: the server behind the link, the page's URL\n"
    "           (pushpull-lab demo --help)\n"
    "\n"
    "  -q, --quick     the short version (the file's \"quick\" overrides)\n"
    "  -o, --out DIR   where run puts its results\n"
    "  -h, --help      this text\n"
    "\n"
    "The programs are taken from this program's directory ($PUSHPULL_BIN overrides), the\n"
    "plot scripts from the repository's plots/ ($PUSHPULL_PLOTS). The scenario format is\n"
    "documented in scenarios/README.md. Exit status: 0 ok, 1 a run or a step failed (or\n"
    "the results directory is in use), 2 a bad scenario or command line, 130\n"
    "interrupted.\n";

/* The directory this program is in, from /proc/self/exe. 0 or -1. */
static int own_dir(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    snprintf(out, cap, "%s", dirname(exe));
    return 0;
}

/* $PUSHPULL_BIN, or this program's directory. */
static void find_bin_dir(char *out, size_t cap)
{
    const char *env = getenv("PUSHPULL_BIN");
    if (env && env[0])
        snprintf(out, cap, "%s", env);
    else if (own_dir(out, cap) != 0)
        snprintf(out, cap, "bin");
}

/* $PUSHPULL_PLOTS, or the first of BIN/../plots (bin/), BIN/../../../plots
 * (build/asan/bin/) and plots that holds style.gp. */
static void find_plots_dir(char *out, size_t cap)
{
    const char *env = getenv("PUSHPULL_PLOTS");
    char own[PATH_MAX], style[PATH_MAX + 64];
    if (env && env[0]) {
        snprintf(out, cap, "%s", env);
        return;
    }
    if (own_dir(own, sizeof(own)) == 0) {
        const char *up[] = {"/..", "/../../.."};
        for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
            snprintf(style, sizeof(style), "%s%s/plots/style.gp", own, up[i]);
            if (access(style, R_OK) == 0 &&
                snprintf(out, cap, "%s%s/plots", own, up[i]) < (int)cap)
                return;
        }
    }
    snprintf(out, cap, "plots");
}

static int lab_plan(const char *path, unsigned flags)
{
    char err[1024];
    struct scenario *s = NULL;
    struct dynbuf line;
    int status = 0;
    dynbuf_init(&line, LAB_LINE_MAX);
    if (scenario_load(path, flags, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        status = 2;
        goto end;
    }
    double total_s = 0;
    for (size_t i = 0; i < scenario_run_count(s); i++) {
        const struct scenario_run *r = scenario_run_at(s, i);
        dynbuf_reset(&line);
        if (runargs_plan_line(r, &line) != 0 || dynbuf_adds(&line, "\n") != 0 ||
            (r->scale->scaled && scale_plan_lines(r, &line) != 0)) {
            fprintf(stderr, "pushpull-lab: %s: run %s: plan line longer than %zu bytes\n",
                    path, r->id, LAB_LINE_MAX);
            status = 1;
            goto end;
        }
        fputs(line.mem, stdout);
        total_s += runargs_estimate_s(r);
    }
    if (scenario_warning(s)[0])
        fprintf(stderr, "warning: %s\n", scenario_warning(s));
    fprintf(stderr, "pushpull-lab: %s: %zu runs%s, about %.0f s\n", path,
            scenario_run_count(s), (flags & SCENARIO_QUICK) ? " (quick)" : "", total_s);
end:
    dynbuf_free(&line);
    scenario_free(s);
    return status;
}

/* merge, plot, report or table on one results directory. */
static int lab_results_command(const char *cmd, int nargs, char **args)
{
    char err[2048], dir[PATH_MAX], plots[PATH_MAX];
    if (nargs != 1) {
        fprintf(stderr, "pushpull-lab: %s: expected one results directory, got %d\n", cmd,
                nargs);
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s", args[0]);
    for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/';)
        dir[--len] = '\0';
    static volatile sig_atomic_t never;
    int rc;
    if (strcmp(cmd, "merge") == 0) {
        rc = lab_merge(dir, err, sizeof(err));
    } else if (strcmp(cmd, "report") == 0) {
        rc = lab_report(dir, err, sizeof(err));
    } else if (strcmp(cmd, "plot") == 0) {
        find_plots_dir(plots, sizeof(plots));
        rc = plot_all(dir, plots, &never, err, sizeof(err));
    } else {
        rc = conductor_print_closing(dir, err, sizeof(err));
    }
    if (rc != 0) {
        fprintf(stderr, "pushpull-lab: %s\n", err);
        return 1;
    }
    if (strcmp(cmd, "plot") == 0)
        printf("pushpull: plots in %s/plots/\n", dir);
    else if (strcmp(cmd, "report") == 0)
        printf("pushpull: %s/report.md\n", dir);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"quick", no_argument, NULL, 'q'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "merge") == 0 || strcmp(cmd, "report") == 0 ||
        strcmp(cmd, "table") == 0 || strcmp(cmd, "plot") == 0)
        return lab_results_command(cmd, argc - 2, argv + 2);
    if (strcmp(cmd, "demo") == 0) {
        char bin[PATH_MAX];
        find_bin_dir(bin, sizeof(bin));
        return lab_demo(bin, argc - 1, argv + 1);
    }
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "plan") != 0 && strcmp(cmd, "check") != 0) {
        fprintf(stderr,
                "pushpull-lab: unknown command \"%s\" (expected run, check, plan, merge, "
                "plot, report, table or demo; see --help)\n",
                cmd);
        return 2;
    }
    bool quick = false;
    const char *out = NULL;
    int c;
    int ac = argc - 1; /* getopt sees the command as the program name */
    char **av = argv + 1;
    opterr = 0; /* our own one-line messages */
    while ((c = getopt_long(ac, av, ":qo:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quick = true;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case ':':
            fprintf(stderr, "pushpull-lab: %s: %s expects a value (see --help)\n", cmd,
                    av[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "pushpull-lab: %s: unknown option \"%s\" (see --help)\n", cmd,
                    av[optind - 1]);
            return 2;
        }
    }
    int nfiles = ac - optind;
    char **files = av + optind;
    int status;
    if (strcmp(cmd, "run") == 0) {
        if (nfiles < 1) {
            fprintf(stderr, "pushpull-lab: run: expected one or more scenario files "
                            "(scenarios/*.json)\n");
            return 2;
        }
        char bin[PATH_MAX], plots[PATH_MAX];
        find_bin_dir(bin, sizeof(bin));
        find_plots_dir(plots, sizeof(plots));
        struct conductor_opts o = {quick, out, bin, plots};
        curl_global_init(CURL_GLOBAL_DEFAULT);
        status = conductor_run(&o, files, nfiles);
        curl_global_cleanup();
    } else if (out) {
        fprintf(stderr, "pushpull-lab: %s: --out is for run only\n", cmd);
        return 2;
    } else if (strcmp(cmd, "plan") == 0) {
        if (nfiles != 1) {
            fprintf(stderr, "pushpull-lab: plan: expected one scenario file, got %d\n",
                    nfiles);
            return 2;
        }
        status = lab_plan(files[0], quick ? SCENARIO_QUICK : 0);
    } else {
        if (nfiles < 1) {
            fprintf(stderr, "pushpull-lab: check: expected one or more scenario files\n");
            return 2;
        }
        status = conductor_check(files, nfiles, true); /* both modes; --quick is moot */
    }
    if (status == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "pushpull-lab: writing the output: %s\n", strerror(errno));
        return 1;
    }
    return status;
}
