/* conductor.h: `pushpull-lab run`, the whole job: check every scenario file, claim each
 * results directory, make every run (lab/runner.h), merge, draw, report, and end with
 * the closing table of every scenario and where its report and plots are.
 *
 * A results directory holds scenario.json (the file as given), plan.json (the run ids in
 * plan order, the scenario's name and whether it was quick), runs/<id>/ (run.json and
 * each program's files), summary.csv and summary.json (the merge), plots/ and report.md.
 * SIGINT, SIGTERM and SIGHUP stop the run in progress: every program it started is
 * stopped by pid and reaped, its run.json says "interrupted", and the exit status is 130.
 */
#ifndef PUSHPULL_LAB_CONDUCTOR_H
#define PUSHPULL_LAB_CONDUCTOR_H

#include <stdbool.h>
#include <stddef.h>

struct conductor_opts {
    bool quick;            /* run the quick version of every scenario */
    const char *out;       /* --out DIR, or NULL: results/<name>/<UTC time>/ */
    const char *bin_dir;   /* where the lab's programs are */
    const char *plots_dir; /* where the gnuplot scripts are */
};

/* Check the files in both modes, normal and quick: with print_ok, "ok: FILE (N runs, M
 * with --quick)" for each good one on stdout; every bad one's message on stderr. 0 when
 * all are good, else 2. */
int conductor_check(char **files, int n, bool print_ok);
/* Run the scenario files. The exit status: 0, 1 (a run or a step failed, or a results
 * directory is in use), 2 (a bad file), 130 (interrupted). Messages go to stderr,
 * progress and the closing tables to stdout. */
int conductor_run(const struct conductor_opts *o, char **files, int n);
/* The closing block of one results directory: its table, its report's and plots' paths. */
int conductor_print_closing(const char *dir, char *err, size_t errlen);

#endif
