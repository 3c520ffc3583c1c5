/* netns.c: the lab's network namespaces: create, run inside, route between, remove, sweep
 * (netns.h says what they are and how they are cleaned up).
 *
 * Two parts live apart: how `ip` is run (netns_ip.c) and how a free subnet is found
 * (netns_subnet.c); netns_impl.h is what the three files share.
 *
 * Every change to the network goes through iproute2's `ip`, one command per step, run by
 * fork and execv with stdin on /dev/null and stdout and stderr on pipes, bounded to
 * NETNS_IP_WAIT_S: a failure is reported in ip's own words, under the name of the step
 * ("add the veth pair"). Netlink would save the forks (about 1 ms each, ten per
 * namespace) at the price of a few hundred lines of message building; namespaces are made
 * once per run, so the simpler way wins. The addresses and routes already in use are read
 * as JSON (`ip -j`) and parsed with cJSON, not scraped from text.
 *
 * A child of fork only makes async-signal-safe calls before execv (the caller may have
 * threads), and tells its parent why it failed through a close-on-exec pipe: nothing
 * read means execv succeeded. The watcher (netns.h) is a grandchild, so that no wait(-1)
 * of the caller ever meets it; it keeps only a pidfd of its owner and stderr, and is
 * started before the lock is taken, so it never holds a copy of the lock's descriptor.
 */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "dynbuf.h"
#include "netns_impl.h"

#define NETNS_DIR   "/run/netns"
#define NETNS_LOCK  "/run/pushpull-netns.lock"
#define NAME_PREFIX "pp-"
#define COUNT_MAX   9999u /* n in pp-<pid>-<n>: 15 bytes with a 7-digit pid */

/* What this process has done: the namespaces it created (n of the next name is created +
 * 1), for which pid (a fork of the caller starts again), and whose watcher runs. */
static unsigned created;
static pid_t created_by;
static pid_t watched;

/* ---- the lock, names and owners ---------------------------------------------------- */

/* Take the lab-wide lock (flock on NETNS_LOCK): its descriptor, or -1 with err set.
 * Closing the descriptor releases it (lock_drop). */
static int lock_take(char *err, size_t errlen)
{
    int fd = open(NETNS_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "netns: open %s: %s", NETNS_LOCK, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "netns: flock %s: %s", NETNS_LOCK, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void lock_drop(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* A decimal number of at most `digits` digits at *s, advancing *s; 0 when there is none
 * (the names' numbers start at 1). */
static unsigned long digits_take(const char **s, int digits)
{
    unsigned long v = 0;
    int n = 0;
    while (**s >= '0' && **s <= '9' && n < digits) {
        v = v * 10 + (unsigned long)(**s - '0');
        (*s)++;
        n++;
    }
    return n > 0 && !(**s >= '0' && **s <= '9') ? v : 0;
}

static int label_ok(const char *label)
{
    size_t len = strlen(label);
    if (len < 1 || len > NETNS_LABEL_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((label[i] >= 'a' && label[i] <= 'z') ||
              (label[i] >= '0' && label[i] <= '9') || label[i] == '-'))
            return 0;
    return 1;
}

/* Is name one of the lab's ("pp-<pid>-<n>" or "pp-<pid>-<n>-<label>")? 1 with its owner
 * and its host end's name, else 0. */
static int name_parse(const char *name, pid_t *owner, char host_if[NETNS_IF_MAX])
{
    const char *s = name;
    if (strncmp(s, NAME_PREFIX, strlen(NAME_PREFIX)) != 0)
        return 0;
    s += strlen(NAME_PREFIX);
    unsigned long pid = digits_take(&s, 7);
    if (pid == 0 || *s != '-')
        return 0;
    s++;
    unsigned long n = digits_take(&s, 4);
    if (n == 0 || (*s != '\0' && (*s != '-' || !label_ok(s + 1))))
        return 0;
    *owner = (pid_t)pid;
    snprintf(host_if, NETNS_IF_MAX, NAME_PREFIX "%u-%u", (unsigned)(pid % 10000000),
             (unsigned)(n % 10000)); /* 7 and 4 digits, as read */
    return 1;
}

/* Is the owner of a namespace gone: no such process, or a zombie? This process counts
 * as gone while it has created none (a predecessor with the same pid left them). */
static int owner_gone(pid_t pid)
{
    if (pid == getpid())
        return created_by != pid || created == 0;
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = read(fd, stat, sizeof(stat) - 1);
    close(fd);
    if (n <= 0)
        return 1;
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')'); /* the state follows "(comm) " */
    return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

/* ---- removing ---------------------------------------------------------------------- */

/* Kill (SIGKILL) every process in namespace name, then delete host_if (and with it the
 * pair) and the namespace. Every step is tried; 0, or -1 with the first failure in err.
 * What is already gone is not an error. */
static int remove_by_name(const char *name, const char *host_if, char *err, size_t errlen)
{
    char path[sizeof(NETNS_DIR) + NETNS_NAME_MAX], e[640];
    int rc = 0;
    snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
    int mounted = access(path, F_OK) == 0;
    if (mounted) {
        struct dynbuf pids;
        dynbuf_init(&pids, 1 << 20);
        if (netns_ip_step(e, sizeof(e), name, "list its processes", &pids, "netns", "pids",
                          name, NULL) == 0) {
            for (const char *p = pids.mem; p && *p;) {
                long pid = strtol(p, NULL, 10);
                if (pid > 0 && pid != getpid())
                    kill((pid_t)pid, SIGKILL);
                const char *nl = strchr(p, '\n');
                p = nl ? nl + 1 : NULL;
            }
        } else if (rc == 0) {
            snprintf(err, errlen, "%s", e);
            rc = -1;
        }
        dynbuf_free(&pids);
    }
    if (if_nametoindex(host_if) != 0 &&
        netns_ip_step(e, sizeof(e), name, "delete the veth pair", NULL, "link", "del",
                      host_if, NULL) != 0 &&
        rc == 0) {
        snprintf(err, errlen, "%s", e);
        rc = -1;
    }
    if (mounted &&
        netns_ip_step(e, sizeof(e), name, "delete the namespace", NULL, "netns", "del",
                      name, NULL) != 0 &&
        rc == 0) {
        snprintf(err, errlen, "%s", e);
        rc = -1;
    }
    return rc;
}

/* Remove the lab's namespaces in NETNS_DIR whose owner is `owner` (> 0), or whose owner
 * is gone (owner 0), under the lock. The number removed, or -1 with the first failure in
 * err (the others are still tried). */
static int sweep(pid_t owner, char *err, size_t errlen)
{
    int lock = lock_take(err, errlen);
    if (lock < 0)
        return -1;
    struct dynbuf names; /* NUL-separated: collected first, removed after readdir */
    dynbuf_init(&names, 1 << 20);
    int removed = 0, failed = 0;
    DIR *d = opendir(NETNS_DIR);
    if (!d && errno != ENOENT) {
        snprintf(err, errlen, "netns: opendir %s: %s", NETNS_DIR, strerror(errno));
        failed = 1;
    }
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        pid_t pid;
        char host_if[NETNS_IF_MAX];
        if (name_parse(e->d_name, &pid, host_if) &&
            (owner > 0 ? pid == owner : owner_gone(pid)))
            dynbuf_add(&names, e->d_name, strlen(e->d_name) + 1);
    }
    if (d)
        closedir(d);
    for (size_t at = 0; names.mem && at < names.len; at += strlen(names.mem + at) + 1) {
        const char *name = names.mem + at;
        pid_t pid;
        char host_if[NETNS_IF_MAX], e[640];
        name_parse(name, &pid, host_if);
        if (remove_by_name(name, host_if, e, sizeof(e)) == 0) {
            removed++;
        } else if (!failed) {
            snprintf(err, errlen, "%s", e);
            failed = 1;
        }
    }
    dynbuf_free(&names);
    lock_drop(lock);
    return failed ? -1 : removed;
}

int netns_sweep(char *err, size_t errlen)
{
    return sweep(0, err, errlen);
}

/* ---- the watcher ------------------------------------------------------------------- */

/* The watcher's life: deaf to the terminal's signals, holding nothing of its owner's but
 * the pidfd (as fd 3) and stderr, it waits for the owner to end, removes what it left,
 * and exits. */
static void watcher_run(int pidfd, pid_t owner) __attribute__((noreturn));
static void watcher_run(int pidfd, pid_t owner)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
    static const int deaf[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
    for (size_t i = 0; i < sizeof(deaf) / sizeof(deaf[0]); i++)
        sigaction(deaf[i], &ign, NULL);
    sigaction(SIGCHLD, &dfl, NULL); /* it reaps the ip commands it runs */
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        dup2(nul, STDIN_FILENO);
        dup2(nul, STDOUT_FILENO);
    }
    if (pidfd != 3 && dup2(pidfd, 3) != 3)
        _exit(1);
    syscall(SYS_close_range, 4U, ~0U, 0U);
    if (chdir("/") != 0)
        _exit(1);
    struct pollfd p = {.fd = 3, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    char err[768];
    if (sweep(owner, err, sizeof(err)) < 0)
        dprintf(STDERR_FILENO,
                "pushpull: removing the network namespaces pid %d left behind: %s\n",
                (int)owner, err);
    _exit(0);
}

/* Start the watcher for this process, once per pid. 0, or -1 with err set. */
static int watcher_start(char *err, size_t errlen)
{
    pid_t me = getpid();
    if (watched == me)
        return 0;
    int pidfd = (int)syscall(SYS_pidfd_open, me, 0);
    if (pidfd < 0) {
        snprintf(err, errlen, "netns: start the watcher: pidfd_open: %s", strerror(errno));
        return -1;
    }
    int rc = -1, status = 0;
    pid_t mid = fork();
    if (mid < 0) {
        snprintf(err, errlen, "netns: start the watcher: fork: %s", strerror(errno));
        goto cleanup;
    }
    if (mid == 0) { /* a session of its own, then the watcher, and gone */
        setsid();
        pid_t w = fork();
        if (w == 0)
            watcher_run(pidfd, me);
        _exit(w < 0 ? 1 : 0);
    }
    if (netns_reap(mid, &status) < 0 && errno != ECHILD) { /* ECHILD: SIGCHLD is ignored */
        snprintf(err, errlen, "netns: start the watcher: waitpid: %s", strerror(errno));
        goto cleanup;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "netns: start the watcher: its second fork failed");
        goto cleanup;
    }
    watched = me;
    rc = 0;
cleanup:
    close(pidfd);
    return rc;
}

/* ---- creating ---------------------------------------------------------------------- */

/* Once per process (per pid): sweep what gone owners left, start the watcher. */
static int process_start(char *err, size_t errlen)
{
    if (created_by == getpid())
        return 0;
    if (sweep(0, err, errlen) < 0 || watcher_start(err, errlen) != 0)
        return -1;
    created_by = getpid();
    created = 0;
    return 0;
}

int netns_create(struct netns *ns, const char *label, char *err, size_t errlen)
{
    char path[sizeof(NETNS_DIR) + NETNS_NAME_MAX], host_cidr[24], ns_cidr[24];
    char host_text[INET_ADDRSTRLEN], ns_text[INET_ADDRSTRLEN];
    int lock = -1, made = 0, rc = -1;
    uint32_t net;
    memset(ns, 0, sizeof(*ns));
    ns->fd = -1;
    if (label && !label_ok(label)) {
        snprintf(err, errlen,
                 "netns: label \"%.40s\": expected 1 to %d of a-z, 0-9 and - (for the "
                 "name " NAME_PREFIX "<pid>-<n>-<label>)",
                 label, NETNS_LABEL_MAX);
        goto cleanup;
    }
    if (process_start(err, errlen) != 0)
        goto cleanup;
    if (created >= COUNT_MAX) {
        snprintf(err, errlen,
                 "netns: this process has created %u namespaces, the most it may",
                 COUNT_MAX);
        goto cleanup;
    }
    created++;
    snprintf(ns->host_if, sizeof(ns->host_if), NAME_PREFIX "%d-%u", (int)getpid(), created);
    snprintf(ns->name, sizeof(ns->name), "%s%s%s", ns->host_if, label ? "-" : "",
             label ? label : "");
    lock = lock_take(err, errlen);
    if (lock < 0 || netns_subnet_pick(ns->name, &net, err, errlen) != 0)
        goto cleanup;
    ns->net.s_addr = htonl(net);
    ns->host_addr.s_addr = htonl(net + 1);
    ns->ns_addr.s_addr = htonl(net + 2);
    inet_ntop(AF_INET, &ns->host_addr, host_text, sizeof(host_text));
    inet_ntop(AF_INET, &ns->ns_addr, ns_text, sizeof(ns_text));
    snprintf(host_cidr, sizeof(host_cidr), "%s/%d", host_text, NETNS_PREFIX);
    snprintf(ns_cidr, sizeof(ns_cidr), "%s/%d", ns_text, NETNS_PREFIX);
    if (netns_ip_step(err, errlen, ns->name, "add the namespace", NULL, "netns", "add",
                      ns->name, NULL) != 0)
        goto cleanup;
    made = 1;
    if (netns_ip_step(err, errlen, ns->name, "add the veth pair", NULL, "link", "add",
                      ns->host_if, "type", "veth", "peer", "name", NETNS_INNER_IF, "netns",
                      ns->name, NULL) ||
        netns_ip_step(err, errlen, ns->name, "address the host end", NULL, "addr", "add",
                      host_cidr, "dev", ns->host_if, NULL) ||
        netns_ip_step(err, errlen, ns->name, "bring the host end up", NULL, "link", "set",
                      ns->host_if, "up", NULL) ||
        netns_ip_step(err, errlen, ns->name, "address the end inside", NULL, "-n", ns->name,
                      "addr", "add", ns_cidr, "dev", NETNS_INNER_IF, NULL) ||
        netns_ip_step(err, errlen, ns->name, "bring lo up inside", NULL, "-n", ns->name,
                      "link", "set", "lo", "up", NULL) ||
        netns_ip_step(err, errlen, ns->name, "bring the end inside up", NULL, "-n",
                      ns->name, "link", "set", NETNS_INNER_IF, "up", NULL))
        goto cleanup;
    snprintf(path, sizeof(path), NETNS_DIR "/%s", ns->name);
    ns->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ns->fd < 0) {
        snprintf(err, errlen, "netns %s: open %s: %s", ns->name, path, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc != 0 && made) {
        char ignored[640]; /* err already says what failed first */
        remove_by_name(ns->name, ns->host_if, ignored, sizeof(ignored));
    }
    lock_drop(lock);
    if (rc != 0)
        memset(ns, 0, sizeof(*ns));
    return rc;
}

int netns_remove(struct netns *ns, char *err, size_t errlen)
{
    if (!ns->name[0])
        return 0;
    if (ns->fd >= 0)
        close(ns->fd);
    int rc = remove_by_name(ns->name, ns->host_if, err, errlen);
    memset(ns, 0, sizeof(*ns));
    return rc;
}

/* ---- running inside ---------------------------------------------------------------- */

/* fork; in the child: stdout and stderr onto out_fd and err_fd (-1: kept), setns into
 * ns, then execv argv, or (argv NULL) run fn(arg) and _exit with its value. The child's
 * pid once it is inside (and, with argv, has exec'd); -1 with err set, child reaped. */
static pid_t fork_inside(const struct netns *ns, const char *const argv[], int out_fd,
                         int err_fd, int (*fn)(void *), void *arg, char *err, size_t errlen)
{
    const char *what = argv ? argv[0] : "a function";
    int sp[2];
    if (!ns->name[0] || ns->fd < 0) {
        snprintf(err, errlen, "netns: run %s: no namespace (not created, or removed)",
                 what);
        return -1;
    }
    if (pipe2(sp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "netns %s: run %s: pipe2: %s", ns->name, what,
                 strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "netns %s: run %s: fork: %s", ns->name, what,
                 strerror(errno));
        close(sp[0]);
        close(sp[1]);
        return -1;
    }
    if (pid == 0) {
        if ((out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) ||
            (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0))
            netns_child_fail(sp[1], STEP_STDIO);
        if (setns(ns->fd, CLONE_NEWNET) != 0)
            netns_child_fail(sp[1], STEP_SETNS);
        if (argv) {
            execv(argv[0], (char *const *)argv);
            netns_child_fail(sp[1], STEP_EXEC);
        }
        struct child_status ok = {STEP_OK, 0};
        ssize_t w = write(sp[1], &ok, sizeof(ok));
        (void)w;
        close(sp[1]);
        _exit(fn(arg) & 0xff);
    }
    close(sp[1]);
    struct child_status st = {STEP_OK, 0};
    ssize_t got;
    do
        got = read(sp[0], &st, sizeof(st));
    while (got < 0 && errno == EINTR);
    close(sp[0]);
    int whole = got == (ssize_t)sizeof(st);
    if (argv ? !whole : whole && st.step == STEP_OK)
        return pid;
    netns_reap(pid, NULL);
    if (whole)
        snprintf(err, errlen, "netns %s: run %s: %s: %s", ns->name, what,
                 netns_child_step_call(st.step), strerror(st.err));
    else
        snprintf(err, errlen, "netns %s: run %s: the child ended before it was inside",
                 ns->name, what);
    return -1;
}

pid_t netns_spawn(const struct netns *ns, const char *const argv[], int out_fd, int err_fd,
                  char *err, size_t errlen)
{
    return fork_inside(ns, argv, out_fd, err_fd, NULL, NULL, err, errlen);
}

pid_t netns_fork(const struct netns *ns, int (*fn)(void *arg), void *arg, char *err,
                 size_t errlen)
{
    return fork_inside(ns, NULL, -1, -1, fn, arg, err, errlen);
}

/* ---- between namespaces ------------------------------------------------------------ */

/* Turn IPv4 forwarding on for packets that come in through host_if (one of the lab's). */
static int forwarding_on(const struct netns *ns, char *err, size_t errlen)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", ns->host_if);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "1\n", 2) != 2) {
        snprintf(err, errlen, "netns %s: turn forwarding on for %s: %s %s: %s", ns->name,
                 ns->host_if, fd < 0 ? "open" : "write", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int netns_route_between(const struct netns *a, const struct netns *b, char *err,
                        size_t errlen)
{
    if (!a->name[0] || !b->name[0] || strcmp(a->name, b->name) == 0) {
        snprintf(err, errlen, "netns: route between: expected two different namespaces");
        return -1;
    }
    char a_net[24], b_net[24], a_via[INET_ADDRSTRLEN], b_via[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->net, a_via, sizeof(a_via));
    snprintf(a_net, sizeof(a_net), "%s/%d", a_via, NETNS_PREFIX);
    inet_ntop(AF_INET, &b->net, b_via, sizeof(b_via));
    snprintf(b_net, sizeof(b_net), "%s/%d", b_via, NETNS_PREFIX);
    inet_ntop(AF_INET, &a->host_addr, a_via, sizeof(a_via));
    inet_ntop(AF_INET, &b->host_addr, b_via, sizeof(b_via));
    if (netns_ip_step(err, errlen, a->name, "route to the other namespace", NULL, "-n",
                      a->name, "route", "add", b_net, "via", a_via, NULL) ||
        netns_ip_step(err, errlen, b->name, "route to the other namespace", NULL, "-n",
                      b->name, "route", "add", a_net, "via", b_via, NULL) ||
        forwarding_on(a, err, errlen) || forwarding_on(b, err, errlen))
        return -1;
    return 0;
}
