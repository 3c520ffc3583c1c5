/* usage.c: what a process costs and how busy the machine is, from /proc (see usage.h).
 *
 * Simplifications: usage_read finds children by scanning /proc for processes whose
 * parent is pid, which is fine for the handful of processes on a lab machine; a process
 * that exits between the scan and the read is skipped, not an error.
 */
#include "usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int usage_parse_stat(const char *text, struct usage_stat *out)
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

int usage_parse_status_kib(const char *text, const char *field, uint64_t *kib)
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
static int add_usage(pid_t pid, struct usage *u)
{
    char path[64], text[4096];
    struct usage_stat st;
    uint64_t rss;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small(path, text, sizeof(text)) != 0 || usage_parse_stat(text, &st) != 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (read_small(path, text, sizeof(text)) != 0 ||
        usage_parse_status_kib(text, "VmRSS", &rss) != 0)
        return -1;
    u->cpu_s += (double)(st.utime + st.stime) / (double)sysconf(_SC_CLK_TCK);
    u->rss_kib += rss;
    u->procs++;
    return 0;
}

int usage_read(pid_t pid, int with_children, struct usage *u)
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
        struct usage_stat st;
        snprintf(path, sizeof(path), "/proc/%ld/stat", child);
        if (read_small(path, text, sizeof(text)) == 0 && usage_parse_stat(text, &st) == 0 &&
            st.ppid == pid)
            add_usage((pid_t)child, u); /* gone meanwhile: skipped */
    }
    closedir(d);
    return 0;
}

int host_parse_loadavg(const char *text, struct host_sample *s)
{
    return sscanf(text, "%lf %lf %lf", &s->load1, &s->load5, &s->load15) == 3 ? 0 : -1;
}

int host_parse_cpu_line(const char *text, struct host_sample *s)
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
        host_parse_loadavg(text, s) != 0)
        return -1;
    if (read_small("/proc/stat", text, sizeof(text)) != 0 ||
        host_parse_cpu_line(text, s) != 0)
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
