/* proc.c: start, read and stop programs; read /proc (see proc.h).
 *
 * Simplifications: proc_usage_read finds children by scanning /proc for processes whose
 * parent is pid, which is fine for the handful of processes on a lab machine; a process
 * that exits between the scan and the read is skipped, not an error.
 */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int proc_start(struct proc_child *c, const char *const argv[], int want_in,
               const char *errlog, char *err, size_t errlen)
{
    int out[2] = {-1, -1}, in[2] = {-1, -1};
    c->pid = -1;
    c->out = c->in = -1;
    if (pipe2(out, O_CLOEXEC) != 0 || (want_in && pipe2(in, O_CLOEXEC) != 0)) {
        snprintf(err, errlen, "pipe2: %s", strerror(errno));
        goto fail;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int errfd = errlog ? open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0644) : null;
        dup2(want_in ? in[0] : null, STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(errfd >= 0 ? errfd : null, STDERR_FILENO);
        closefrom(3);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the bench gone (even killed): stop too */
        if (getppid() != parent)
            _exit(127); /* it went before the line above */
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    if (want_in) {
        close(in[0]);
        c->in = in[1];
    }
    c->out = out[0];
    c->pid = pid;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (in[i] >= 0)
            close(in[i]);
    }
    return -1;
}

void proc_child_close(struct proc_child *c)
{
    if (c->out >= 0)
        close(c->out);
    if (c->in >= 0)
        close(c->in);
    c->out = c->in = -1;
}

int proc_read_line(int fd, char *line, size_t cap, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    size_t n = 0;
    line[0] = '\0';
    for (;;) {
        int64_t left_ms = (deadline - clock_mono_ns()) / NS_PER_MS;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&p, 1, (int)left_ms) <= 0)
            return -1;
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r <= 0)
            return -1;
        if (ch == '\n')
            return 0;
        if (n + 1 < cap) {
            line[n++] = ch;
            line[n] = '\0';
        }
    }
}

int proc_read_all(int fd, struct dynbuf *out, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    char buf[4096];
    for (;;) {
        int64_t left_ms = (deadline - clock_mono_ns()) / NS_PER_MS;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&p, 1, (int)left_ms) <= 0)
            return -1;
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r == 0)
            return 0;
        if (r < 0 || dynbuf_add(out, buf, (size_t)r) != 0)
            return -1;
    }
}

int proc_wait(pid_t pid, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 || clock_mono_ns() > deadline)
            return -1;
        struct timespec ts = {0, 5 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
}

int proc_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return 0;
    kill(pid, SIGTERM);
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0)
            return -1;
        if (clock_mono_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ts = {0, 5 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
}

int proc_parse_stat(const char *text, struct proc_stat *out)
{
    const char *p = strrchr(text, ')');
    if (!p)
        return -1;
    /* after ") ": field 3 is the state; ppid is field 4; utime, stime fields 14, 15 */
    char state;
    long ppid;
    unsigned long long f[11];
    int n = sscanf(p + 1, " %c %ld %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                   &state, &ppid, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
                   &f[8], &f[9], &f[10]);
    if (n != 13)
        return -1;
    out->ppid = (pid_t)ppid;
    out->utime = f[9];
    out->stime = f[10];
    return 0;
}

int proc_parse_status_kib(const char *text, const char *field, uint64_t *kib)
{
    size_t flen = strlen(field);
    for (const char *line = text; *line;) {
        if (strncmp(line, field, flen) != 0 || line[flen] != ':') {
            const char *nl = strchr(line, '\n');
            if (!nl)
                break;
            line = nl + 1;
            continue;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(line + flen + 1, &end, 10);
        if (end == line + flen + 1 || errno != 0 || strncmp(end, " kB", 3) != 0)
            return -1;
        *kib = v;
        return 0;
    }
    return -1;
}

/* Read a small /proc file into buf (NUL-terminated). 0 or -1. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap - 1)
            break;
    }
    close(fd);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* Add one process's usage to u; 0 or -1. */
static int add_usage(pid_t pid, struct proc_usage *u)
{
    char path[64], text[4096];
    struct proc_stat st;
    uint64_t rss;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small(path, text, sizeof(text)) != 0 || proc_parse_stat(text, &st) != 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (read_small(path, text, sizeof(text)) != 0 ||
        proc_parse_status_kib(text, "VmRSS", &rss) != 0)
        return -1;
    u->cpu_s += (double)(st.utime + st.stime) / (double)sysconf(_SC_CLK_TCK);
    u->rss_kib += rss;
    u->procs++;
    return 0;
}

int proc_usage_read(pid_t pid, int with_children, struct proc_usage *u)
{
    memset(u, 0, sizeof(*u));
    if (add_usage(pid, u) != 0)
        return -1;
    if (!with_children)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long child = strtol(e->d_name, &end, 10);
        if (*end != '\0' || child <= 0 || child == pid)
            continue;
        char path[64], text[1024];
        struct proc_stat st;
        snprintf(path, sizeof(path), "/proc/%ld/stat", child);
        if (read_small(path, text, sizeof(text)) == 0 && proc_parse_stat(text, &st) == 0 &&
            st.ppid == pid)
            add_usage((pid_t)child, u); /* gone meanwhile: skipped */
    }
    closedir(d);
    return 0;
}

int proc_parse_loadavg(const char *text, struct host_sample *s)
{
    return sscanf(text, "%lf %lf %lf", &s->load1, &s->load5, &s->load15) == 3 ? 0 : -1;
}

int proc_parse_cpu_line(const char *text, struct host_sample *s)
{
    if (strncmp(text, "cpu ", 4) != 0)
        return -1;
    unsigned long long v[10] = {0};
    int n = sscanf(text + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    if (n < 8)
        return -1;
    /* guest and guest_nice (9th, 10th) are already inside user and nice */
    s->total_ticks = 0;
    for (int i = 0; i < 8; i++)
        s->total_ticks += v[i];
    s->busy_ticks = v[0] + v[1] + v[2];
    s->steal_ticks = v[7];
    return 0;
}

int host_sample_read(struct host_sample *s)
{
    char text[4096];
    if (read_small("/proc/loadavg", text, sizeof(text)) != 0 ||
        proc_parse_loadavg(text, s) != 0)
        return -1;
    if (read_small("/proc/stat", text, sizeof(text)) != 0 ||
        proc_parse_cpu_line(text, s) != 0)
        return -1;
    return 0;
}

double host_steal_pct(const struct host_sample *before, const struct host_sample *after)
{
    if (after->total_ticks <= before->total_ticks)
        return 0;
    return 100.0 * (double)(after->steal_ticks - before->steal_ticks) /
           (double)(after->total_ticks - before->total_ticks);
}
