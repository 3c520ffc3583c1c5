/* proc.h: start a program, learn when it is ready, wait for it and stop it, by pid.
 *
 * What the conductor (pushpull-lab run) and the C test harnesses share. A program is
 * started with fork and execv (no shell, no PATH search) in a process group of its own,
 * so a Ctrl-C typed at the terminal reaches only the process that started it, which then
 * stops each of its programs by pid, in its own order. Should the starter die without
 * doing so, the kernel sends the program SIGTERM (PR_SET_PDEATHSIG), so nothing it started
 * is left running. The program's stdout and stderr each go to a file, to a pipe the caller
 * reads, to /dev/null, or stay the caller's.
 *
 * Readiness is the program's first line on stdout (the lab's programs print "listening
 * on ..." once they accept connections): proc_first_line waits for it, bounded, and tells
 * a program that exited first (with its status and the start of its stderr) from one that
 * stayed silent. Stopping is SIGTERM, a bounded wait, then SIGKILL: every path reaps, so
 * no zombie outlives its struct proc. Every wait polls the program every few
 * milliseconds; the waits a caller may want to abandon (the first line, proc_wait) also
 * end early when the flag given to proc_cancel_on is set, typically by the caller's
 * SIGINT handler. Stopping is never cut short.
 *
 * Functions return 0 / -1 (or the small values documented) and write what failed into the
 * caller's buffer, naming the program as the caller named it ("the server").
 */
#ifndef PUSHPULL_PROC_H
#define PUSHPULL_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_NAME_MAX 48
#define PROC_PATH_MAX 4096

/* Where one of the program's output streams goes. */
enum proc_io {
    PROC_INHERIT, /* the caller's own stream */
    PROC_DEVNULL, /* /dev/null */
    PROC_FILE,    /* a file, created or truncated (mode 0644) */
    PROC_PIPE     /* a pipe whose read end the caller gets (proc.out or proc.err) */
};

/* How to start a program. */
struct proc_spec {
    const char *const *argv; /* NULL-terminated; argv[0] is the program's path */
    const char *name;        /* how messages name it: "the server", "the client" */
    enum proc_io out;        /* its stdout */
    const char *out_path;    /* the file, with PROC_FILE */
    enum proc_io err;        /* its stderr */
    const char *err_path;    /* the file, with PROC_FILE */
};

/* A started program. Zero it (or proc_init) before use; proc_start fills it. */
struct proc {
    char name[PROC_NAME_MAX];     /* from the spec, for messages */
    pid_t pid;                    /* its pid, also after reaping; 0 before the start */
    bool running;                 /* started and not reaped yet */
    int status;                   /* the wait status once reaped (waitpid's) */
    int64_t started_unix_ns;      /* CLOCK_REALTIME at the start */
    int64_t ended_unix_ns;        /* CLOCK_REALTIME when it was seen to end (reaped) */
    int out;                      /* stdout's read end with PROC_PIPE, else -1 */
    int err;                      /* stderr's read end with PROC_PIPE, else -1 */
    char out_path[PROC_PATH_MAX]; /* stdout's file with PROC_FILE, else "" */
    char err_path[PROC_PATH_MAX]; /* stderr's file with PROC_FILE, else "" */
};

/* An idle struct proc: no pid, no descriptors. */
void proc_init(struct proc *p);
/* Start spec->argv. 0 with *p describing the running program, or -1 with a message in err
 * (the failed call and strerror(errno); a program that cannot be executed is reported by
 * proc_first_line or proc_wait as having exited with status 127, its stderr saying
 * why). The caller owns the pipes (proc_close) and must reap the program (proc_wait or
 * proc_stop). */
int proc_start(struct proc *p, const struct proc_spec *spec, char *err, size_t errlen);
/* Has it ended? Reaps it without waiting: 1 when it has (status and ended_unix_ns set;
 * also when it had been reaped before), 0 while it runs. */
int proc_poll(struct proc *p);
/* Wait at most timeout_ms for it to end: 1 reaped, 0 still running (also when the cancel
 * flag was set). */
int proc_wait(struct proc *p, int timeout_ms);
/* SIGTERM, wait at most grace_ms, then SIGKILL and wait until it is gone. Returns its exit
 * status (0 to 255), or -1 when it died of a signal (SIGKILL included). A program already
 * reaped is not signalled: its recorded status is returned. Not cut short by the cancel
 * flag. */
int proc_stop(struct proc *p, int grace_ms);
/* Send sig to it if it is still running. 0, or -1 (not running, or kill failed). */
int proc_signal(struct proc *p, int sig);
/* Take over a program started some other way (pid must be a child of this process, not
 * reaped yet): *p as proc_start would leave it, with no pipes or files, so proc_wait and
 * proc_stop work on a bare pid. */
void proc_adopt(struct proc *p, pid_t pid, const char *name);
/* Close the pipes proc_start opened (not the files: those belong to the child). */
void proc_close(struct proc *p);

/* Wait at most timeout_ms for the first line of its stdout (a pipe or a file; the newline
 * is dropped, line holds at most cap - 1 bytes of it). 0; or -1 with err saying that it
 * exited first (its status, and the first line of its stderr when that is a file), that
 * it printed nothing for timeout_ms, or that waiting was cancelled. On -1 it may still be
 * running: the caller stops it. From a pipe only the line's own bytes are read. */
int proc_first_line(struct proc *p, int timeout_ms, char *line, size_t cap, char *err,
                    size_t errlen);
/* Its end in words: "exited with status 2", "was killed by signal 9 (Killed)", or "is
 * running". */
void proc_describe(const struct proc *p, char *out, size_t cap);
/* Its exit status (0 to 255), or -1 when it died of a signal or has not been reaped. */
int proc_exit_code(const struct proc *p);
/* What the running program has cost so far, from /proc: its CPU (user + system) in
 * seconds and its peak resident memory (VmHWM) in KiB (-1 when not found). 0, or -1 when
 * it cannot be read (not running, or already reaped). */
int proc_usage(const struct proc *p, double *cpu_s, long *peak_rss_kb);

/* From now on, proc_wait and proc_first_line return early once *flag is non-zero (set by
 * the caller's signal handler). NULL turns this off. */
void proc_cancel_on(const volatile sig_atomic_t *flag);

#endif
