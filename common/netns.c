/* netns.c: the lab's network namespaces: create, run inside, route between, remove, sweep
 * (netns.h says what they are and how they are cleaned up).
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

#define NETNS_DIR      "/run/netns"
#define NETNS_LOCK     "/run/pushpull-netns.lock"
#define NAME_PREFIX    "pp-"
#define COUNT_MAX      9999u       /* n in pp-<pid>-<n>: 15 bytes with a 7-digit pid */
#define IP_ARGS_MAX    24          /* words after "ip" in one command */
#define IP_STDERR_KEEP 400         /* bytes of ip's stderr kept for a message */
#define IP_STDOUT_MAX  (64u << 20) /* a host with a full BGP table has ~100 MB of routes */

/* The pool, in the order it is tried: RFC 1918 blocks few networks use. */
static const struct {
    const char *net;
    unsigned len;
} pool[] = {{"10.213.0.0", 16}, {"172.29.0.0", 16}, {"192.168.213.0", 24}};

/* What this process has done: the namespaces it created (n of the next name is created +
 * 1), for which pid (a fork of the caller starts again), and whose watcher runs. */
static unsigned created;
static pid_t created_by;
static pid_t watched;

/* ---- running ip ------------------------------------------------------------------ */

/* Why a child of fork failed, written to its parent before _exit(127). */
enum child_step { STEP_OK, STEP_STDIO, STEP_SETNS, STEP_EXEC };
struct child_status {
    int step; /* enum child_step */
    int err;  /* errno of the failed call */
};

static const char *child_step_call(int step)
{
    return step == STEP_STDIO   ? "dup2"
           : step == STEP_SETNS ? "setns(CLONE_NEWNET)"
                                : "execv";
}

/* In a child of fork: report step and errno to the parent through fd, and end. */
static void child_fail(int fd, int step) __attribute__((noreturn));
static void child_fail(int fd, int step)
{
    struct child_status s = {step, errno};
    ssize_t w = write(fd, &s, sizeof(s));
    (void)w;
    _exit(127);
}

/* waitpid that retries on EINTR. */
static pid_t reap(pid_t pid, int *status)
{
    pid_t got;
    do
        got = waitpid(pid, status, 0);
    while (got < 0 && errno == EINTR);
    return got;
}

/* Where iproute2 put ip, or NULL. */
static const char *ip_path(void)
{
    static const char *const where[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip",
                                        "/bin/ip"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

/* "ip ARGS" as one string for messages, cut at cap. */
static void cmd_text(const char *const args[], char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "ip");
    for (size_t i = 0; args[i] && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, " %s", args[i]);
}

/* text (len bytes) on one line: line breaks become "; ", trailing space goes. */
static void one_line(const char *text, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    while (len > 0 &&
           (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < len && o + 3 < cap; i++) {
        if (text[i] == '\n') {
            out[o++] = ';';
            out[o++] = ' ';
        } else if (text[i] != '\r') {
            out[o++] = text[i];
        }
    }
    out[o] = '\0';
}

/* Read the child's stdout (into out, when it has room) and stderr (its first bytes into
 * etext) until both end or the deadline passes. 0, or -1 on timeout. *overflow is set
 * when stdout did not fit. */
static int ip_drain(int ofd, int efd, struct dynbuf *out, int *overflow, char *etext,
                    size_t *elen, int64_t deadline)
{
    struct pollfd p[2] = {{.fd = ofd, .events = POLLIN}, {.fd = efd, .events = POLLIN}};
    char buf[8192];
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        int64_t left_ms = (deadline - clock_mono_ns()) / NS_PER_MS;
        if (left_ms <= 0)
            return -1;
        int n = poll(p, 2, (int)left_ms);
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; n > 0 && i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            ssize_t got = read(p[i].fd, buf, sizeof(buf));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                p[i].fd = -1; /* EOF (or an error: nothing more will come) */
                continue;
            }
            if (i == 0 && !*overflow && out && dynbuf_add(out, buf, (size_t)got) != 0)
                *overflow = 1;
            if (i == 1 && *elen + 1 < IP_STDERR_KEEP) {
                size_t keep = IP_STDERR_KEEP - 1 - *elen;
                keep = keep < (size_t)got ? keep : (size_t)got;
                memcpy(etext + *elen, buf, keep);
                *elen += keep;
            }
        }
    }
    return 0;
}

/* Run ip with args (NULL-terminated, the words after "ip") for at most NETNS_IP_WAIT_S;
 * its stdout goes into out (NULL: discarded; the caller frees out). 0 when it exited
 * with status 0; else -1 with "ip ARGS: what went wrong" (its stderr on one line) in msg.
 */
static int ip_run(const char *const args[], struct dynbuf *out, char *msg, size_t msglen)
{
    char cmd[320], etext[IP_STDERR_KEEP], eline[IP_STDERR_KEEP + 64];
    size_t elen = 0;
    int opipe[2] = {-1, -1}, epipe[2] = {-1, -1}, spipe[2] = {-1, -1};
    int rc = -1, overflow = 0, status = 0;
    pid_t pid = -1;
    cmd_text(args, cmd, sizeof(cmd));
    const char *path = ip_path();
    if (!path) {
        snprintf(msg, msglen,
                 "%s: no ip program in /usr/sbin, /sbin, /usr/bin or /bin "
                 "(install the Debian package iproute2)",
                 cmd);
        return -1;
    }
    const char *argv[IP_ARGS_MAX + 2];
    size_t n = 0;
    argv[n++] = path;
    for (size_t i = 0; args[i] && n < IP_ARGS_MAX + 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (out)
        dynbuf_reset(out);
    if (pipe2(opipe, O_CLOEXEC) != 0 || pipe2(epipe, O_CLOEXEC) != 0 ||
        pipe2(spipe, O_CLOEXEC) != 0) {
        snprintf(msg, msglen, "%s: pipe2: %s", cmd, strerror(errno));
        goto cleanup;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(msg, msglen, "%s: fork: %s", cmd, strerror(errno));
        goto cleanup;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(opipe[1], STDOUT_FILENO) < 0 ||
            dup2(epipe[1], STDERR_FILENO) < 0)
            child_fail(spipe[1], STEP_STDIO);
        execv(argv[0], (char *const *)argv);
        child_fail(spipe[1], STEP_EXEC);
    }
    close(opipe[1]);
    close(epipe[1]);
    close(spipe[1]);
    opipe[1] = epipe[1] = spipe[1] = -1;
    int64_t deadline = clock_mono_ns() + NETNS_IP_WAIT_S * NS_PER_S;
    int late = ip_drain(opipe[0], epipe[0], out, &overflow, etext, &elen, deadline) != 0;
    if (late)
        kill(pid, SIGKILL);
    if (reap(pid, &status) < 0) {
        snprintf(msg, msglen, "%s: waitpid: %s", cmd, strerror(errno));
        goto cleanup;
    }
    struct child_status cs;
    ssize_t got = read(spipe[0], &cs, sizeof(cs));
    one_line(etext, elen, eline, sizeof(eline));
    if (got == (ssize_t)sizeof(cs))
        snprintf(msg, msglen, "%s: %s %s: %s", cmd, child_step_call(cs.step), path,
                 strerror(cs.err));
    else if (late)
        snprintf(msg, msglen, "%s: still running after %d s (killed)", cmd,
                 NETNS_IP_WAIT_S);
    else if (WIFSIGNALED(status))
        snprintf(msg, msglen, "%s: killed by signal %d", cmd, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        snprintf(msg, msglen, "%s: %s", cmd,
                 eline[0] ? eline : "exited with an error and said nothing");
    else if (overflow)
        snprintf(msg, msglen, "%s: more than %u bytes of output", cmd, IP_STDOUT_MAX);
    else
        rc = 0;
cleanup:
    for (int i = 0; i < 2; i++) {
        if (opipe[i] >= 0)
            close(opipe[i]);
        if (epipe[i] >= 0)
            close(epipe[i]);
        if (spipe[i] >= 0)
            close(spipe[i]);
    }
    return rc;
}

/* One step of the work on namespace `name` (NULL: none yet): ip with the words that
 * follow, up to a NULL. On failure err says "netns NAME: STEP: ip ARGS: ip's stderr". */
static int ip_step(char *err, size_t errlen, const char *name, const char *step,
                   struct dynbuf *out, ...) __attribute__((sentinel));
static int ip_step(char *err, size_t errlen, const char *name, const char *step,
                   struct dynbuf *out, ...)
{
    const char *args[IP_ARGS_MAX + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, out);
    for (const char *a = va_arg(ap, const char *); a && n < IP_ARGS_MAX;
         a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    char msg[1024];
    if (ip_run(args, out, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "netns%s%s: %s: %s", name ? " " : "", name ? name : "", step,
             msg);
    return -1;
}

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
        if (ip_step(e, sizeof(e), name, "list its processes", &pids, "netns", "pids", name,
                    NULL) == 0) {
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
        ip_step(e, sizeof(e), name, "delete the veth pair", NULL, "link", "del", host_if,
                NULL) != 0 &&
        rc == 0) {
        snprintf(err, errlen, "%s", e);
        rc = -1;
    }
    if (mounted &&
        ip_step(e, sizeof(e), name, "delete the namespace", NULL, "netns", "del", name,
                NULL) != 0 &&
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
    if (reap(mid, &status) < 0 && errno != ECHILD) { /* ECHILD: SIGCHLD is ignored */
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

/* ---- choosing a subnet ------------------------------------------------------------- */

/* IPv4 prefixes in use on this host, host byte order. */
struct prefix {
    uint32_t addr;
    unsigned len;
};
struct prefixes {
    struct prefix *v; /* malloc'd, freed by prefixes_free */
    size_t n, cap;
};

static int prefixes_add(struct prefixes *p, const char *text, unsigned len)
{
    char a[INET_ADDRSTRLEN];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen >= sizeof(a))
        return -1;
    memcpy(a, text, alen);
    a[alen] = '\0';
    if (slash) {
        char *end;
        unsigned long l = strtoul(slash + 1, &end, 10);
        if (*end || l > 32)
            return -1;
        len = (unsigned)l;
    }
    struct in_addr in;
    if (inet_pton(AF_INET, a, &in) != 1 || len > 32)
        return -1;
    if (len == 0)
        return 0; /* a default route: it says where to send, not what is in use */
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct prefix *v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (struct prefix){ntohl(in.s_addr), len};
    return 0;
}

static void prefixes_free(struct prefixes *p)
{
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static int overlaps(struct prefix a, struct prefix b)
{
    unsigned m = a.len < b.len ? a.len : b.len;
    uint32_t mask = m == 0 ? 0 : ~UINT32_C(0) << (32 - m);
    return ((a.addr ^ b.addr) & mask) == 0;
}

/* Add the prefixes of `ip -j -4 addr show` (an array of links, each with addr_info) or
 * of `ip -j -4 route show table all` (an array of routes with dst) in json. */
static int prefixes_from_json(struct prefixes *p, const char *json, int routes)
{
    cJSON *root = cJSON_Parse(json && *json ? json : "[]");
    int rc = cJSON_IsArray(root) ? 0 : -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (routes) {
            const cJSON *dst = cJSON_GetObjectItemCaseSensitive(item, "dst");
            if (cJSON_IsString(dst) && strcmp(dst->valuestring, "default") != 0 &&
                prefixes_add(p, dst->valuestring, 32) != 0)
                rc = -1;
            continue;
        }
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(item, "addr_info"), *a;
        cJSON_ArrayForEach(a, info)
        {
            const cJSON *len = cJSON_GetObjectItemCaseSensitive(a, "prefixlen");
            const char *keys[] = {"local", "address"}; /* address: a point-to-point peer */
            for (size_t k = 0; k < 2; k++) {
                const cJSON *at = cJSON_GetObjectItemCaseSensitive(a, keys[k]);
                if (cJSON_IsString(at) && cJSON_IsNumber(len) &&
                    prefixes_add(p, at->valuestring, (unsigned)len->valueint) != 0)
                    rc = -1;
            }
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* Read what this host uses (addresses with their prefixes, routes of every table). */
static int used_read(struct prefixes *used, char *err, size_t errlen)
{
    struct dynbuf out;
    dynbuf_init(&out, IP_STDOUT_MAX);
    int rc = -1;
    if (ip_step(err, errlen, NULL, "read this host's addresses", &out, "-j", "-4", "addr",
                "show", NULL) != 0)
        goto cleanup;
    if (prefixes_from_json(used, out.mem, 0) != 0) {
        snprintf(err, errlen, "netns: ip -j -4 addr show: not the JSON expected");
        goto cleanup;
    }
    if (ip_step(err, errlen, NULL, "read this host's routes", &out, "-j", "-4", "route",
                "show", "table", "all", NULL) != 0)
        goto cleanup;
    if (prefixes_from_json(used, out.mem, 1) != 0) {
        snprintf(err, errlen,
                 "netns: ip -j -4 route show table all: not the JSON expected");
        goto cleanup;
    }
    rc = 0;
cleanup:
    dynbuf_free(&out);
    return rc;
}

/* The first /30 of the pool that overlaps nothing in used: its network address (host
 * order) in *net. 0, or -1 when every one does. */
static int subnet_choose(const struct prefixes *used, uint32_t *net)
{
    for (size_t b = 0; b < sizeof(pool) / sizeof(pool[0]); b++) {
        struct in_addr base;
        inet_pton(AF_INET, pool[b].net, &base);
        uint32_t count = UINT32_C(1) << (NETNS_PREFIX - pool[b].len);
        for (uint32_t i = 0; i < count; i++) {
            struct prefix cand = {ntohl(base.s_addr) + (i << (32 - NETNS_PREFIX)),
                                  NETNS_PREFIX};
            size_t u = 0;
            while (u < used->n && !overlaps(cand, used->v[u]))
                u++;
            if (u == used->n) {
                *net = cand.addr;
                return 0;
            }
        }
    }
    return -1;
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
    struct prefixes used = {0};
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
    if (lock < 0 || used_read(&used, err, errlen) != 0)
        goto cleanup;
    if (subnet_choose(&used, &net) != 0) {
        snprintf(err, errlen,
                 "netns %s: choose a subnet: every /%d of 10.213.0.0/16, 172.29.0.0/16 and "
                 "192.168.213.0/24 overlaps an address or a route of this host",
                 ns->name, NETNS_PREFIX);
        goto cleanup;
    }
    ns->net.s_addr = htonl(net);
    ns->host_addr.s_addr = htonl(net + 1);
    ns->ns_addr.s_addr = htonl(net + 2);
    inet_ntop(AF_INET, &ns->host_addr, host_text, sizeof(host_text));
    inet_ntop(AF_INET, &ns->ns_addr, ns_text, sizeof(ns_text));
    snprintf(host_cidr, sizeof(host_cidr), "%s/%d", host_text, NETNS_PREFIX);
    snprintf(ns_cidr, sizeof(ns_cidr), "%s/%d", ns_text, NETNS_PREFIX);
    if (ip_step(err, errlen, ns->name, "add the namespace", NULL, "netns", "add", ns->name,
                NULL) != 0)
        goto cleanup;
    made = 1;
    if (ip_step(err, errlen, ns->name, "add the veth pair", NULL, "link", "add",
                ns->host_if, "type", "veth", "peer", "name", NETNS_INNER_IF, "netns",
                ns->name, NULL) ||
        ip_step(err, errlen, ns->name, "address the host end", NULL, "addr", "add",
                host_cidr, "dev", ns->host_if, NULL) ||
        ip_step(err, errlen, ns->name, "bring the host end up", NULL, "link", "set",
                ns->host_if, "up", NULL) ||
        ip_step(err, errlen, ns->name, "address the end inside", NULL, "-n", ns->name,
                "addr", "add", ns_cidr, "dev", NETNS_INNER_IF, NULL) ||
        ip_step(err, errlen, ns->name, "bring lo up inside", NULL, "-n", ns->name, "link",
                "set", "lo", "up", NULL) ||
        ip_step(err, errlen, ns->name, "bring the end inside up", NULL, "-n", ns->name,
                "link", "set", NETNS_INNER_IF, "up", NULL))
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
    prefixes_free(&used);
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
            child_fail(sp[1], STEP_STDIO);
        if (setns(ns->fd, CLONE_NEWNET) != 0)
            child_fail(sp[1], STEP_SETNS);
        if (argv) {
            execv(argv[0], (char *const *)argv);
            child_fail(sp[1], STEP_EXEC);
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
    reap(pid, NULL);
    if (whole)
        snprintf(err, errlen, "netns %s: run %s: %s: %s", ns->name, what,
                 child_step_call(st.step), strerror(st.err));
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
    if (ip_step(err, errlen, a->name, "route to the other namespace", NULL, "-n", a->name,
                "route", "add", b_net, "via", a_via, NULL) ||
        ip_step(err, errlen, b->name, "route to the other namespace", NULL, "-n", b->name,
                "route", "add", a_net, "via", b_via, NULL) ||
        forwarding_on(a, err, errlen) || forwarding_on(b, err, errlen))
        return -1;
    return 0;
}
