/* main.c: pushpull-lab, the scenario tool: check scenario files and print their runs,
 * and turn a finished results directory into its summary table and report.
 *
 * `plan FILE [--quick]` loads one scenario (lab/scenario_read.c validates every field,
 * lab/scenario_expand.c expands the sweeps) and prints one line per run,
 * "RUN_ID<TAB>SERVER_ARGS<TAB>CLIENT_ARGS<TAB>LINK_ARGS<TAB>RESTART_ARGS", for a shell to
 * start `pushpull-server --port 0 SERVER_ARGS`, `pushpull-client --server URL --out DIR
 * CLIENT_ARGS` and, when LINK_ARGS is not empty (the scenario has a network), the link
 * emulator between them: `pushpull-link --listen 127.0.0.1:0 --upstream SERVER LINK_ARGS`.
 * RESTART_ARGS, when not empty (the scenario has a restart), tells the runner to kill the
 * server and start it again: "at=SECONDS down=SECONDS feed=memory|file", at counted from
 * the client's start. Every field is always there, empty or not, so a line always has four
 * tabs (split on each tab: bash's `read` with IFS=$'\t' merges an empty field into the
 * next). The arguments are words without blanks, so plain word splitting is safe. A line
 * on stderr gives the run count and an estimate of the wall time. `check FILE...`
 * validates files in both modes, normal and --quick, and prints "ok: FILE (N runs, M with
 * --quick)" for each.
 * Nothing runs here; a bad file fails with the loader's one-line message and exit status 2.
 * `merge DIR`, `report DIR` and `table DIR` work on what ./run.sh wrote (lab.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dynbuf.h"
#include "lab.h"
#include "runargs.h"
#include "scenario.h"

#define LAB_LINE_MAX ((size_t)64 * 1024)

static const char usage_text[] =
    "usage: pushpull-lab plan SCENARIO.json [--quick]\n"
    "       pushpull-lab check SCENARIO.json...\n"
    "       pushpull-lab merge|report|table RESULTS_DIR\n"
    "\n"
    "  plan     validate a scenario and print its runs, one per line:\n"
    "           RUN_ID<TAB>SERVER_ARGS<TAB>CLIENT_ARGS<TAB>LINK_ARGS<TAB>RESTART_ARGS\n"
    "           (LINK_ARGS empty without a network, RESTART_ARGS empty without a\n"
    "           restart, else \"at=SECONDS down=SECONDS feed=memory|file\", at counted\n"
    "           from the client's start; stderr: count and estimated time)\n"
    "  check    validate scenarios in both modes; print \"ok: FILE (N runs, M with "
    "--quick)\"\n"
    "  merge    one summary.csv/.json from the runs of a results directory\n"
    "  report   write its report.md: measured values beside the models\n"
    "  table    print its runs as an aligned table\n"
    "\n"
    "  -q, --quick   plan the short version (the file's \"quick\" overrides)\n"
    "  -h, --help    this text\n"
    "\n"
    "The scenario format is documented in scenarios/README.md. Exit status: 0 ok,\n"
    "1 output could not be written, 2 a bad scenario or command line.\n";

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
        if (runargs_plan_line(r, &line) != 0 || dynbuf_adds(&line, "\n") != 0) {
            fprintf(stderr, "pushpull-lab: %s: run %s: plan line longer than %zu bytes\n",
                    path, r->id, LAB_LINE_MAX);
            status = 1;
            goto end;
        }
        fputs(line.mem, stdout);
        total_s += runargs_estimate_s(r);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "pushpull-lab: writing the plan: %s\n", strerror(errno));
        status = 1;
        goto end;
    }
    fprintf(stderr, "pushpull-lab: %s: %zu runs%s, about %.0f s\n", path,
            scenario_run_count(s), (flags & SCENARIO_QUICK) ? " (quick)" : "", total_s);
end:
    dynbuf_free(&line);
    scenario_free(s);
    return status;
}

/* Load path in one mode; the run count goes to *runs. 0, or 2 after printing the error. */
static int lab_check_mode(const char *path, unsigned flags, size_t *runs)
{
    char err[1024];
    struct scenario *s = NULL;
    if (scenario_load(path, flags, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s%s\n", err, (flags & SCENARIO_QUICK) ? " (with --quick)" : "");
        return 2;
    }
    *runs = scenario_run_count(s);
    scenario_free(s);
    return 0;
}

static int lab_check(char **paths, int n)
{
    int status = 0;
    for (int i = 0; i < n; i++) {
        size_t runs = 0, quick_runs = 0;
        if (lab_check_mode(paths[i], 0, &runs) != 0 ||
            lab_check_mode(paths[i], SCENARIO_QUICK, &quick_runs) != 0) {
            status = 2;
            continue;
        }
        printf("ok: %s (%zu runs, %zu with --quick)\n", paths[i], runs, quick_runs);
    }
    return status;
}

/* merge, report or table on one results directory. */
static int lab_results_command(const char *cmd, int nargs, char **args)
{
    char err[1024];
    if (nargs != 1) {
        fprintf(stderr, "pushpull-lab: %s: expected one results directory, got %d\n", cmd,
                nargs);
        return 2;
    }
    int rc = strcmp(cmd, "merge") == 0    ? lab_merge(args[0], err, sizeof(err))
             : strcmp(cmd, "report") == 0 ? lab_report(args[0], err, sizeof(err))
                                          : lab_table(args[0], stdout, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "pushpull-lab: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"quick", no_argument, NULL, 'q'},
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
        strcmp(cmd, "table") == 0)
        return lab_results_command(cmd, argc - 2, argv + 2);
    if (strcmp(cmd, "plan") != 0 && strcmp(cmd, "check") != 0) {
        fprintf(stderr,
                "pushpull-lab: unknown command \"%s\" (expected plan, check, merge, report "
                "or table; see --help)\n",
                cmd);
        return 2;
    }
    unsigned flags = 0;
    int c;
    int ac = argc - 1; /* getopt sees the command as the program name */
    char **av = argv + 1;
    opterr = 0; /* our own one-line messages */
    while ((c = getopt_long(ac, av, ":qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            flags |= SCENARIO_QUICK;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fprintf(stderr, "pushpull-lab: %s: unknown option \"%s\" (see --help)\n", cmd,
                    av[optind - 1]);
            return 2;
        }
    }
    int nfiles = ac - optind;
    int status;
    if (strcmp(cmd, "plan") == 0) {
        if (nfiles != 1) {
            fprintf(stderr, "pushpull-lab: plan: expected one scenario file, got %d\n",
                    nfiles);
            return 2;
        }
        status = lab_plan(av[optind], flags);
    } else {
        if (nfiles < 1) {
            fprintf(stderr, "pushpull-lab: check: expected one or more scenario files\n");
            return 2;
        }
        status = lab_check(av + optind, nfiles); /* checks both modes; --quick is moot */
    }
    if (status == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "pushpull-lab: writing the output: %s\n", strerror(errno));
        return 1;
    }
    return status;
}
