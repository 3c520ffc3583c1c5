/* proc.c: start, watch and stop programs by pid (see proc.h).
 *
 * The child, between fork and execv, puts itself in a process group of its own, asks for
 * SIGTERM when its parent dies (and checks that the parent has not died already), undoes
 * whatever signal mask and handlers it inherited (a blocked or ignored SIGTERM would make
 * it unstoppable), and points its stdout and stderr where the spec says. Files and pipes
 * are opened in the parent, before the fork, so a bad path is the caller's error, not a
 * silent child; a failed execv is written to the child's stderr and exits 127, as a
 * shell's would.
 *
 * There is no SIGCHLD handler: a program's end is learnt by waitpid(WNOHANG) every
 * PROC_TICK_MS, which is also how often the waits look at the cancel flag. The first line
 * from a pipe is read one byte at a time, so not a byte past its newline is taken from
 * the caller; from a file it is re-read from the start until it holds a newline.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define PROC_TICK_MS 2

static const volatile sig_atomic_t *cancel_flag;

void proc_cancel_on(const volatile sig_atomic_t *flag)
{
    cancel_flag = flag;
}

static bool cancelled(void)
{
    return cancel_flag && *cancel_flag;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal may end it early: every caller loops */
}

void proc_init(struct proc *p)
{
    memset(p, 0, sizeof(*p));
    p->out = -1;
    p->err = -1;
}

/* The descriptor a stream of the child gets: a pipe's write end (its read end to
 * *read_end), an opened file, /dev/null, or -1 to leave the stream alone. */
static int open_stream(enum proc_io mode, const char *path, int *read_end, char *err,
                       size_t errlen)
{
    *read_end = -1;
    if (mode == PROC_INHERIT)
        return -1;
    if (mode == PROC_PIPE) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
            snprintf(err, errlen, "pipe2: %s", strerror(errno));
            return -2;
        }
        *read_end = fds[0];
        return fds[1];
    }
    const char *target = mode == PROC_DEVNULL ? "/dev/null" : path;
    if (!target) {
        snprintf(err, errlen, "a file stream without a path");
        return -2;
    }
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", target, strerror(errno));
        return -2;
    }
    return fd;
}

/* In the child, after fork: never returns. */
static void child_exec(const struct proc_spec *spec, pid_t parent, int out_fd, int err_fd)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1); /* the parent died before the request took hold */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int reset[] = {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGUSR1, SIGHUP};
    for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
        signal(reset[i], SIG_DFL);
    if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(126);
    if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
        _exit(126);
    execv(spec->argv[0], (char *const *)spec->argv);
    fprintf(stderr, "execv %s: %s\n", spec->argv[0], strerror(errno));
    _exit(127);
}

int proc_start(struct proc *p, const struct proc_spec *spec, char *err, size_t errlen)
{
    int rc = -1, out_fd = -1, err_fd = -1, out_read = -1, err_read = -1;
    char why[PROC_PATH_MAX + 64] = "";
    proc_init(p);
    snprintf(p->name, sizeof(p->name), "%s", spec->name ? spec->name : spec->argv[0]);
    out_fd = open_stream(spec->out, spec->out_path, &out_read, why, sizeof(why));
    if (out_fd == -2)
        goto end;
    err_fd = open_stream(spec->err, spec->err_path, &err_read, why, sizeof(why));
    if (err_fd == -2)
        goto end;
    pid_t parent = getpid();
    int64_t started = clock_real_ns();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, sizeof(why), "fork: %s", strerror(errno));
        goto end;
    }
    if (pid == 0)
        child_exec(spec, parent, out_fd, err_fd);
    setpgid(pid, pid); /* the child does it too; whichever runs first wins the race */
    p->pid = pid;
    p->running = true;
    p->started_unix_ns = started;
    p->out = out_read;
    p->err = err_read;
    out_read = err_read = -1;
    if (spec->out == PROC_FILE)
        snprintf(p->out_path, sizeof(p->out_path), "%s", spec->out_path);
    if (spec->err == PROC_FILE)
        snprintf(p->err_path, sizeof(p->err_path), "%s", spec->err_path);
    rc = 0;
end:
    if (rc != 0)
        snprintf(err, errlen, "cannot start %s (%s): %s", p->name, spec->argv[0], why);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    if (out_read >= 0)
        close(out_read);
    if (err_read >= 0)
        close(err_read);
    return rc;
}

void proc_adopt(struct proc *p, pid_t pid, const char *name)
{
    proc_init(p);
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->pid = pid;
    p->running = pid > 0;
}

int proc_poll(struct proc *p)
{
    if (!p->running)
        return 1;
    int st = 0;
    pid_t got = waitpid(p->pid, &st, WNOHANG);
    if (got == 0)
        return 0;
    if (got < 0 && errno == EINTR)
        return 0;
    p->running = false;
    p->ended_unix_ns = clock_real_ns();
    /* ECHILD: someone else reaped it; its status is lost, say "killed by signal 0" */
    p->status = got == p->pid ? st : 0x7f;
    return 1;
}

int proc_wait(struct proc *p, int timeout_ms)
{
    int64_t end = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    for (;;) {
        if (proc_poll(p))
            return 1;
        if (cancelled() || clock_mono_ns() >= end)
            return 0;
        sleep_ms(PROC_TICK_MS);
    }
}

int proc_signal(struct proc *p, int sig)
{
    if (!p->running || proc_poll(p))
        return -1;
    return kill(p->pid, sig);
}

int proc_stop(struct proc *p, int grace_ms)
{
    if (p->running && !proc_poll(p)) {
        kill(p->pid, SIGTERM);
        int64_t end = clock_mono_ns() + (int64_t)grace_ms * NS_PER_MS;
        while (!proc_poll(p) && clock_mono_ns() < end)
            sleep_ms(PROC_TICK_MS);
        if (p->running) {
            kill(p->pid, SIGKILL);
            int st = 0;
            while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
                ;
            p->running = false;
            p->status = st;
            p->ended_unix_ns = clock_real_ns();
        }
    }
    return proc_exit_code(p);
}

void proc_close(struct proc *p)
{
    if (p->out >= 0)
        close(p->out);
    if (p->err >= 0)
        close(p->err);
    p->out = -1;
    p->err = -1;
}

int proc_exit_code(const struct proc *p)
{
    if (p->running || p->pid == 0 || !WIFEXITED(p->status))
        return -1;
    return WEXITSTATUS(p->status);
}

void proc_describe(const struct proc *p, char *out, size_t cap)
{
    if (p->running)
        snprintf(out, cap, "is running");
    else if (p->pid == 0)
        snprintf(out, cap, "was never started");
    else if (WIFEXITED(p->status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(out, cap, "was killed by signal %d (%s)", WTERMSIG(p->status),
                 strsignal(WTERMSIG(p->status)));
    else
        snprintf(out, cap, "ended with wait status %d", p->status);
}

/* The first non-blank line of a file, at most cap - 1 bytes ("" when none). */
static void first_line_of(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = strlen(line);
        if (n == 0)
            continue;
        if (n >= cap)
            n = cap - 1;
        memcpy(out, line, n);
        out[n] = '\0';
        break;
    }
    fclose(f);
}

/* One step of reading the first line from the pipe: 1 when line is complete, 0 when not
 * yet, -1 at the end of the pipe. */
static int pipe_step(int fd, char *line, size_t cap, size_t *len)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, PROC_TICK_MS) <= 0)
        return 0;
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? -1 : 0;
        if (ch == '\n')
            return 1;
        if (*len + 1 < cap)
            line[(*len)++] = ch;
        line[*len] = '\0';
        pf.revents = 0;
        if (poll(&pf, 1, 0) <= 0)
            return 0;
    }
}

/* One step of reading the first line from the file: re-read its start. */
static int file_step(int fd, char *line, size_t cap, size_t *len)
{
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    if (n <= 0)
        return 0;
    char *nl = memchr(buf, '\n', (size_t)n);
    size_t take = nl ? (size_t)(nl - buf) : (size_t)n;
    if (take >= cap)
        take = cap - 1;
    memcpy(line, buf, take);
    line[take] = '\0';
    *len = take;
    return nl ? 1 : 0;
}

int proc_first_line(struct proc *p, int timeout_ms, char *line, size_t cap, char *err,
                    size_t errlen)
{
    size_t len = 0;
    int fd = p->out, rc = -1;
    bool from_file = fd < 0;
    line[0] = '\0';
    if (from_file) {
        fd = p->out_path[0] ? open(p->out_path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0) {
            snprintf(err, errlen, "%s: its stdout is neither a pipe nor a readable file",
                     p->name);
            return -1;
        }
    }
    int64_t end = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    bool eof = false;
    for (;;) {
        int got =
            from_file ? file_step(fd, line, cap, &len) : pipe_step(fd, line, cap, &len);
        if (got == 1) {
            rc = 0;
            break;
        }
        eof = eof || got < 0;
        /* gone (or its stdout closed and it is about to be): wait a moment for the end */
        if (proc_poll(p) || (eof && proc_wait(p, 100))) {
            char how[96], why[256];
            proc_describe(p, how, sizeof(how));
            first_line_of(p->err_path, why, sizeof(why));
            snprintf(err, errlen, "%s %s before printing its first line%s%s", p->name, how,
                     why[0] ? ": " : "", why);
            break;
        }
        if (cancelled()) {
            snprintf(err, errlen, "interrupted while waiting for %s to start", p->name);
            break;
        }
        if (clock_mono_ns() >= end) {
            snprintf(err, errlen, "%s printed no first line within %.1f s (pid %d)",
                     p->name, timeout_ms / 1000.0, (int)p->pid);
            break;
        }
        if (from_file)
            sleep_ms(PROC_TICK_MS);
    }
    if (from_file)
        close(fd);
    return rc;
}

int proc_usage(const struct proc *p, double *cpu_s, long *peak_rss_kb)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* after the command's closing parenthesis: state is field 3, utime 14, stime 15
     * (proc(5)) */
    const char *at = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!at || sscanf(at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                      &st) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(ut + st) / (double)(hz > 0 ? hz : 100);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
    *peak_rss_kb = -1;
    if (!(fp = fopen(path, "r")))
        return -1;
    while (fgets(buf, sizeof(buf), fp))
        if (sscanf(buf, "VmHWM: %ld", peak_rss_kb) == 1)
            break;
    fclose(fp);
    return 0;
}
