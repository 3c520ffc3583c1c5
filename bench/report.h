/* report.h: what one bench run measured, and the files and summary made of it.
 *
 * Every measurement is one row: one workload against one server, one repetition. The
 * rows go to runs.csv as they come (one column per field of struct bench_row, names with
 * their units). At the end each (workload, metric, server) gets its median with min and
 * max over the repetitions, and each metric the issue sets a goal for gets its ratio
 * (pushpull's median over nchan's) and a verdict, and where the floor server ran, the
 * ceiling (the floor's median over nchan's): summary.md and summary.csv, a gnuplot
 * plot (bench.png, bench.svg) of pushpull relative to nchan, and a fixed human summary
 * on stdout.
 */
#ifndef PUSHPULL_BENCH_REPORT_H
#define PUSHPULL_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

/* One measurement. Numbers not measured in a workload are NaN (an empty CSV cell). */
struct bench_row {
    char workload[24]; /* the workload's name */
    char server[16];   /* the server's name */
    int rep;           /* repetition, from 1 */
    char started[24];  /* UTC start, YYYY-MM-DDTHH:MM:SSZ */
    int ok;            /* 1 when the run completed (servers, client, wrk all did their
                          part); whether everything was delivered is delivered_pct */
    char note[200];    /* why not, or what to know */
    double load1, load5, load15; /* /proc/loadavg at the start */
    double steal_pct;            /* CPU steal during the run, % of all CPU time */
    double foreign_cpu_pct;      /* CPU used by processes outside the bench, % of one
                                    core, during the run (the noise from others) */
    double clients;              /* connections held (wrk: its connections) */
    double window_s;             /* the measured window */
    double published;            /* updates published in the window */
    double deliveries;           /* updates the reference client received */
    double delivered_pct;        /* deliveries / (published * clients) */
    double latency_min_ms, latency_p50_ms, latency_p90_ms, latency_p99_ms;
    double latency_max_ms, latency_mean_ms; /* receipt - ts_ns, the reference client's:
                                               the lab server's own publish stamp, or
                                               (nchan) the publisher's */
    double pub_latency_min_ms, pub_latency_p50_ms, pub_latency_p90_ms, pub_latency_p99_ms;
    double pub_latency_max_ms, pub_latency_mean_ms; /* receipt - pub_ns: from the
                                                       publisher's send, for both */
    double server_rss_before_kib;   /* server VmRSS (nginx: all processes) before */
    double server_rss_after_kib;    /* ... with the clients held */
    double server_rss_per_conn_kib; /* (after - before) / clients */
    double server_cpu_s;            /* server CPU in the window */
    double server_cpu_us_per_delivery;
    double server_cpu_us_per_request;
    double requests_per_s; /* wrk */
    double wrk_latency_p50_ms, wrk_latency_p99_ms;
    double wrk_bad_responses; /* non-2xx/3xx */
    double wrk_socket_errors;
    double client_cpu_s; /* reference client CPU in the window */
    double client_cpu_us_per_delivery;
    double client_cpu_us_per_request;
    double client_loop_busy_max_pct; /* its busiest loop's working share */
    double client_full_turns;        /* epoll turns that returned a full batch */
    double client_errors;            /* all categories */
    double missed;              /* the lab client's: updates published in its window that a
                                   user never received (lab-* workloads) */
    double client_saturated;    /* the lab client's own verdict on itself: 1 when its loop,
                                   not the server, may have set the latency (lab-*) */
    double publish_late_max_ms; /* the latest publish behind its schedule */
    double publish_rate_hz;     /* updates per second the publisher achieved (first
                                   to last send) */
};

/* Set every number to NaN and every string to "". */
void bench_row_init(struct bench_row *r);

/* The CSV header line (with LF), and one row. 0 or -1 on a write error. */
int report_csv_header(FILE *f);
int report_csv_row(FILE *f, const struct bench_row *r);

/* The servers a line has columns for, by runs.csv's server names in this order:
 * "pushpull", "nchan" and "floor" (floor.h: the least server, the machine's ceiling). */
#define REPORT_SERVERS 3

/* One line of the comparison: a metric of a workload, per server over repetitions. */
struct report_line {
    const char *workload; /* workload name */
    const char *metric;   /* column name in struct bench_row's CSV */
    const char *label;    /* words for the tables */
    int higher_better;    /* 1: more is better (requests/s) */
    double goal;          /* the ratio pushpull/nchan the issue asks for (0: none) */
    /* filled by report_summarize: */
    int n[REPORT_SERVERS]; /* repetitions with a value: pushpull, nchan, floor */
    double med[REPORT_SERVERS], min[REPORT_SERVERS], max[REPORT_SERVERS]; /* over those */
    double ratio;   /* med[0] / med[1], NaN when either is missing */
    double ceiling; /* med[2] / med[1]: the floor over nchan, the most any server's ratio
                       can be on this machine (NaN when either is missing) */
    int met;        /* 1 goal met, 0 not, -1 no goal or no ratio */
};

/* Copy the lines the report shows (the goals first) into lines, at most cap;
 * returns how many. */
size_t report_lines_init(struct report_line *lines, size_t cap);
/* Fill the per-server statistics and ratios from the rows (rows with ok == 0 do not
 * count). */
void report_summarize(struct report_line *lines, size_t n, const struct bench_row *rows,
                      size_t nrows);

/* What the report says about the run beside the numbers. */
struct report_env {
    const char *started;  /* UTC time of the first run */
    const char *command;  /* the command line */
    const char *versions; /* server versions, one line */
    const char *machine;  /* kernel, CPUs, open-file limit */
    const char *params;   /* the workloads' parameters, one paragraph */
    double load_start; /* load1 before the first run (the bench's own load is not in it) */
    double load_max;   /* load1 at the runs' starts, at most (the bench's own included) */
    double foreign_median; /* the runs' median foreign_cpu_pct */
    double foreign_max;    /* the largest foreign_cpu_pct */
};

/* 1 when the machine was not quiet enough for the numbers to be kept: a load average
 * above 0.5 before the bench started, or others using more than 5% of a core in the
 * median run or 20% in any. */
int report_env_noisy(const struct report_env *env);

/* summary.md, summary.csv, bench.dat and bench.gp in dir, then gnuplot for bench.png and
 * bench.svg (a failed gnuplot leaves a message in err but returns 0: the numbers are
 * written). 0, or -1 with a message in err. */
int report_write(const char *dir, const struct report_env *env, const struct report_line *l,
                 size_t n, char *err, size_t errlen);
/* The fixed human summary. */
void report_print(FILE *f, const struct report_line *l, size_t n);

#endif
