/* usage.h: what a process costs and how busy the machine is, read from /proc.
 *
 * CPU seconds come from /proc/PID/stat (utime + stime) and resident memory from
 * /proc/PID/status (VmRSS), for a process alone or with its direct children (nginx's
 * master and workers). The machine's load average (/proc/loadavg) and CPU steal (the
 * aggregate line of /proc/stat) are read the same way, so every measurement carries how
 * busy the machine was. The parsers are apart from the file reading so the tests can feed
 * them text as the kernel writes it. Starting and stopping the processes is common/proc's.
 */
#ifndef PUSHPULL_BENCH_USAGE_H
#define PUSHPULL_BENCH_USAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Fields of /proc/PID/stat that the bench reads. */
struct usage_stat {
    pid_t ppid;     /* parent pid (field 4) */
    uint64_t utime; /* user CPU in clock ticks (field 14) */
    uint64_t stime; /* system CPU in clock ticks (field 15) */
};
/* Parse the text of /proc/PID/stat; the command name in parentheses may hold blanks and
 * parentheses itself. 0 or -1. */
int usage_parse_stat(const char *text, struct usage_stat *out);
/* The value of a "Name:   N kB" line of /proc/PID/status (e.g. field "VmRSS"). 0 or -1. */
int usage_parse_status_kib(const char *text, const char *field, uint64_t *kib);

/* What a process (and optionally its direct children) costs now. */
struct usage {
    double cpu_s;     /* user + system CPU seconds */
    uint64_t rss_kib; /* VmRSS, summed */
    unsigned procs;   /* processes summed */
};
/* Read pid's usage, plus that of its direct children when with_children (nginx's
 * workers). 0, or -1 when pid cannot be read. */
int usage_read(pid_t pid, int with_children, struct usage *u);

/* The machine's state at one instant. */
struct host_sample {
    double load1, load5, load15; /* /proc/loadavg */
    uint64_t total_ticks;        /* sum of the cpu line of /proc/stat (8 columns) */
    uint64_t busy_ticks;         /* its user + nice + system columns */
    uint64_t steal_ticks;        /* its steal column (the 8th) */
};
/* Parse /proc/loadavg's text into s->load1..load15. 0 or -1. */
int host_parse_loadavg(const char *text, struct host_sample *s);
/* Parse the aggregate "cpu " line of /proc/stat's text into total and steal ticks. */
int host_parse_cpu_line(const char *text, struct host_sample *s);
/* Read both files. 0 or -1. */
int host_sample_read(struct host_sample *s);
/* Percent of CPU time stolen between two samples (0 when no time passed). */
double host_steal_pct(const struct host_sample *before, const struct host_sample *after);

#endif
