/* link_accuracy.c: how exact the link emulator is on this machine: delay error over many
 * round trips, achieved rate against the configured one, and the link's CPU while it
 * carries many quiet connections.
 *
 * Runs $PUSHPULL_LINK (default bin/pushpull-link, the release build) in front of an echo
 * or sink upstream in a thread of this process (tests/link_harness.c). Delay error is the
 * round trip of one byte minus twice the configured delay; the same round trip through a
 * link with no delay is printed beside it, so the proxy's own cost can be told apart from
 * timer error. CPU is the link's utime + stime from /proc/PID/stat over the window.
 *
 * usage: link_accuracy [--round-trips N] [--delay DUR] [--connections N] [--seconds S]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "tests/link_harness.h"
#include "units.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* n round trips of one byte; fills ms[] with each one. 0 or -1. */
static int round_trips(unsigned port, double *ms, size_t n)
{
    int fd = link_harness_connect(port);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = 'x';
        int why = 0;
        int64_t t0 = clock_mono_ns();
        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1 ||
            link_harness_read_n(fd, &c, 1, 5000, &why) != 1) {
            close(fd);
            return -1;
        }
        ms[i] = (double)(clock_mono_ns() - t0) / 1e6;
    }
    close(fd);
    return 0;
}

static void report_errors(const char *label, double *ms, size_t n, double expect_ms)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        ms[i] -= expect_ms;
        sum += ms[i];
    }
    qsort(ms, n, sizeof(*ms), cmp_double);
    printf("%-34s n=%zu  error ms: mean %.3f  p50 %.3f  p99 %.3f  max %.3f  min %.3f\n",
           label, n, sum / (double)n, ms[n / 2], ms[(size_t)((double)n * 0.99)], ms[n - 1],
           ms[0]);
}

static int measure_delay(size_t n, int64_t delay_ns)
{
    struct link_harness_peer *peer = link_harness_peer_start(LINK_HARNESS_ECHO);
    double *ms = calloc(n, sizeof(*ms));
    if (!peer || !ms)
        return -1;
    char delay[32];
    snprintf(delay, sizeof(delay), "%lldus", (long long)(delay_ns / 1000));
    const char *plain[] = {NULL};
    const char *shaped[] = {"--delay", delay, NULL};
    struct link_harness_link l;
    int rc = -1;
    if (link_harness_start(&l, link_harness_peer_port(peer), plain) == 0) {
        if (round_trips(l.port, ms, n) == 0)
            report_errors("round trip, no delay (proxy cost)", ms, n, 0);
        link_harness_stop(&l);
    }
    if (link_harness_start(&l, link_harness_peer_port(peer), shaped) == 0) {
        if (round_trips(l.port, ms, n) == 0) {
            char label[64];
            snprintf(label, sizeof(label), "round trip, --delay %s", delay);
            report_errors(label, ms, n, 2.0 * (double)delay_ns / 1e6);
            rc = 0;
        }
        link_harness_stop(&l);
    }
    free(ms);
    link_harness_peer_stop(peer);
    return rc;
}

static int measure_rate(const char *rate, double bps, size_t bytes)
{
    struct link_harness_peer *peer = link_harness_peer_start(LINK_HARNESS_SINK);
    char *payload = calloc(1, bytes);
    if (!peer || !payload)
        return -1;
    const char *args[] = {"--rate", rate, NULL};
    struct link_harness_link l;
    int rc = -1;
    if (link_harness_start(&l, link_harness_peer_port(peer), args) == 0) {
        int fd = link_harness_connect(l.port);
        int64_t t0 = clock_mono_ns();
        size_t off = 0;
        while (fd >= 0 && off < bytes) {
            ssize_t n = send(fd, payload + off, bytes - off, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        struct link_harness_seen seen;
        int64_t give_up = clock_mono_ns() + 120 * NS_PER_S;
        do {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
            link_harness_peer_seen(peer, &seen);
        } while (seen.bytes_in < bytes && clock_mono_ns() < give_up);
        double secs = (double)(seen.last_byte_ns - t0) / 1e9;
        double expect = (double)bytes * 8 / bps;
        printf("rate %-8s %9zu bytes: %.4f s, expected %.4f s (%+.2f%%), achieved %.0f "
               "bit/s\n",
               rate, bytes, secs, expect, (secs / expect - 1) * 100,
               (double)bytes * 8 / secs);
        rc = seen.bytes_in == bytes ? 0 : -1;
        if (fd >= 0)
            close(fd);
        link_harness_stop(&l);
    }
    free(payload);
    link_harness_peer_stop(peer);
    return rc;
}

/* The link's utime + stime in seconds, from /proc/PID/stat. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* conns connections through --delay 50ms, each echoing 100 bytes once a second (spread
 * evenly), for `seconds`: the link's CPU over that window. */
static int measure_cpu(size_t conns, int seconds)
{
    struct link_harness_peer *peer = link_harness_peer_start(LINK_HARNESS_ECHO);
    int *fds = calloc(conns, sizeof(*fds));
    if (!peer || !fds)
        return -1;
    const char *args[] = {"--delay", "50ms", NULL};
    struct link_harness_link l;
    if (link_harness_start(&l, link_harness_peer_port(peer), args) != 0)
        return -1;
    size_t open = 0;
    for (; open < conns; open++) {
        fds[open] = link_harness_connect(l.port);
        if (fds[open] < 0)
            break;
    }
    char msg[100], back[4096];
    memset(msg, 'c', sizeof(msg));
    double cpu0 = proc_cpu_s(l.pid);
    int64_t t0 = clock_mono_ns(), end = t0 + (int64_t)seconds * NS_PER_S;
    uint64_t sent = 0, received = 0;
    size_t next = 0;
    while (clock_mono_ns() < end) {
        /* Send on the connections whose turn has come: conns per second, evenly. */
        int64_t now = clock_mono_ns();
        uint64_t due = (uint64_t)((double)(now - t0) / 1e9 * (double)open);
        while (sent < due) {
            if (send(fds[next], msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
                sent++;
            next = (next + 1) % open;
            if (sent < due && next == 0)
                break;
        }
        for (size_t i = 0; i < open; i++) { /* drain echoes without blocking */
            ssize_t n = recv(fds[i], back, sizeof(back), MSG_DONTWAIT);
            if (n > 0)
                received += (uint64_t)n;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    double wall = (double)(clock_mono_ns() - t0) / 1e9;
    double cpu = proc_cpu_s(l.pid) - cpu0;
    printf("%zu connections, 100 B/s each, --delay 50ms, %.1f s: link CPU %.3f s = %.2f%% "
           "of one core (%llu messages sent, %llu bytes echoed)\n",
           open, wall, cpu, 100 * cpu / wall, (unsigned long long)sent,
           (unsigned long long)received);
    for (size_t i = 0; i < open; i++)
        close(fds[i]);
    free(fds);
    link_harness_stop(&l);
    link_harness_peer_stop(peer);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"round-trips", required_argument, NULL, 'n'},
                                         {"delay", required_argument, NULL, 'd'},
                                         {"connections", required_argument, NULL, 'c'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    uint64_t n = 1000, conns = 1000, seconds = 20;
    int64_t delay_ns = 20 * NS_PER_MS;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        if (c == 'n')
            bad = units_parse_count(optarg, &n) != 0 || n == 0;
        else if (c == 'd')
            bad = units_parse_duration_ns(optarg, NS_PER_MS, &delay_ns) != 0;
        else if (c == 'c')
            bad = units_parse_count(optarg, &conns) != 0 || conns == 0 || conns > 1000;
        else if (c == 's')
            bad = units_parse_count(optarg, &seconds) != 0 || seconds == 0;
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "link_accuracy: bad option (see the top of link_accuracy.c)\n");
            return 2;
        }
    }
    if (!getenv("PUSHPULL_LINK"))
        setenv("PUSHPULL_LINK", "bin/pushpull-link", 1);
    int rc = 0;
    rc |= measure_delay(n, delay_ns);
    rc |= measure_rate("1mbit", 1e6, 200000);
    rc |= measure_rate("10mbit", 1e7, 2000000);
    rc |= measure_rate("100mbit", 1e8, 20000000);
    rc |= measure_cpu(conns, (int)seconds);
    return rc ? 1 : 0;
}
