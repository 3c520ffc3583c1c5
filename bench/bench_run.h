/* bench_run.h: `pushpull-bench [run]`: the lab server beside nginx + nchan.
 *
 * For every repetition, every workload and every server, one after the other, each
 * server fresh: start it in its own directory, put the load on it (the reference client
 * or the lab's own client as a separate process, or wrk), publish on a schedule, read what
 * the server cost from /proc and what the client saw from its JSON line, stop everything by
 * pid, and append one row to runs.csv. Then the medians, the ratios and the plot
 * (report.h). Ctrl-C stops the current run's processes, writes what was measured and exits
 * 130.
 */
#ifndef PUSHPULL_BENCH_RUN_H
#define PUSHPULL_BENCH_RUN_H

/* Run with argv[0] the program or "run". Returns the exit status: 0 all runs completed,
 * 1 some failed, 2 a bad command line or a missing prerequisite, 130 interrupted. */
int bench_run_main(int argc, char **argv);

#endif
