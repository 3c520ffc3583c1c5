/* proc.h: the bench's view of processes and of the machine.
 *
 * Start a program with its stdout on a pipe, read its lines with a deadline, stop it by
 * its pid (SIGTERM, then SIGKILL after a grace period), and read what Linux says it cost:
 * CPU seconds from /proc/PID/stat (utime + stime) and resident memory from
 * /proc/PID/status (VmRSS), for a process alone or with its children (nginx's master and
 * workers). The machine's load average (/proc/loadavg) and CPU steal (/proc/stat) are read
 * the same way, so every measurement carries how busy the machine was. The parsers are
 * separate from the file reading so the tests can feed them text.
 */
#ifndef PUSHPULL_BENCH_PROC_H
#define PUSHPULL_BENCH_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dynbuf.h"

struct proc_child {
    pid_t pid; /* the process, or -1 */
    int out;   /* read end of its stdout pipe, or -1 */
    int in;    /* write end of its stdin pipe, or -1 */
};

/* Start argv[0] (looked up in PATH when it holds no slash) with argv. Its stdout goes to
 * a pipe (c->out), its stdin to a pipe when want_in (c->in; else /dev/null), its stderr
 * is appended to errlog (NULL: /dev/null). Every other descriptor is closed in the child.
 * 0, or -1 with a message naming the failed call in err. The caller stops the child
 * (proc_stop) and closes c->out and c->in (proc_child_close). */
int proc_start(struct proc_child *c, const char *const argv[], int want_in,
               const char *errlog, char *err, size_t errlen);
/* Close the pipes of c (not the process). */
void proc_child_close(struct proc_child *c);
/* Read everything from fd until EOF into out, waiting at most timeout_ms in all. 0, or -1
 * on timeout or error (out holds what came). */
int proc_read_all(int fd, struct dynbuf *out, int timeout_ms);
/* Read one line (without its LF) from fd into line, waiting at most timeout_ms in all.
 * 0; or -1 on timeout, EOF or error (line then holds what came). */
int proc_read_line(int fd, char *line, size_t cap, int timeout_ms);
/* Wait for pid at most timeout_ms: its exit status; -1 when it died of a signal or is
 * still running after the wait (it is left running). */
int proc_wait(pid_t pid, int timeout_ms);
/* SIGTERM, wait timeout_ms, then SIGKILL and reap: the exit status, or -1 when it had to
 * be killed or died of a signal. pid <= 0 is ignored (returns 0). */
int proc_stop(pid_t pid, int timeout_ms);

/* Fields of /proc/PID/stat that the bench reads. */
struct proc_stat {
    pid_t ppid;     /* parent pid (field 4) */
    uint64_t utime; /* user CPU in clock ticks (field 14) */
    uint64_t stime; /* system CPU in clock ticks (field 15) */
};
/* Parse the text of /proc/PID/stat; the command name in parentheses may hold blanks and
 * parentheses itself. 0 or -1. */
int proc_parse_stat(const char *text, struct proc_stat *out);
/* The value of a "Name:   N kB" line of /proc/PID/status (e.g. field "VmRSS"). 0 or -1. */
int proc_parse_status_kib(const char *text, const char *field, uint64_t *kib);

/* What a process (and optionally its direct children) costs now. */
struct proc_usage {
    double cpu_s;     /* user + system CPU seconds */
    uint64_t rss_kib; /* VmRSS, summed */
    unsigned procs;   /* processes summed */
};
/* Read pid's usage, plus that of its direct children when with_children (nginx's
 * workers). 0, or -1 when pid cannot be read. */
int proc_usage_read(pid_t pid, int with_children, struct proc_usage *u);

/* The machine's state at one instant. */
struct host_sample {
    double load1, load5, load15; /* /proc/loadavg */
    uint64_t total_ticks;        /* sum of the cpu line of /proc/stat (8 columns) */
    uint64_t busy_ticks;         /* its user + nice + system columns */
    uint64_t steal_ticks;        /* its steal column (the 8th) */
};
/* Parse /proc/loadavg's text into s->load1..load15. 0 or -1. */
int proc_parse_loadavg(const char *text, struct host_sample *s);
/* Parse the aggregate "cpu " line of /proc/stat's text into total and steal ticks. */
int proc_parse_cpu_line(const char *text, struct host_sample *s);
/* Read both files. 0 or -1. */
int host_sample_read(struct host_sample *s);
/* Percent of CPU time stolen between two samples (0 when no time passed). */
double host_steal_pct(const struct host_sample *before, const struct host_sample *after);

#endif
