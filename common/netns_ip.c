/* netns_ip.c: how the namespace module runs iproute2's `ip` (netns_impl.h): fork and
 * execv with stdin on /dev/null and stdout and stderr on pipes, bounded in time, and a
 * failure in one line, in ip's own words (netns.c's opening comment says why `ip`).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "netns.h"
#include "netns_impl.h"

#define IP_ARGS_MAX    24  /* words after "ip" in one command */
#define IP_STDERR_KEEP 400 /* bytes of ip's stderr kept for a message */

const char *netns_child_step_call(int step)
{
    return step == STEP_STDIO   ? "dup2"
           : step == STEP_SETNS ? "setns(CLONE_NEWNET)"
                                : "execv";
}

/* In a child of fork: report step and errno to the parent through fd, and end. */
void netns_child_fail(int fd, int step) __attribute__((noreturn));
void netns_child_fail(int fd, int step)
{
    struct child_status s = {step, errno};
    ssize_t w = write(fd, &s, sizeof(s));
    (void)w;
    _exit(127);
}

/* waitpid that retries on EINTR. */
pid_t netns_reap(pid_t pid, int *status)
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
int netns_ip_run(const char *const args[], struct dynbuf *out, char *msg, size_t msglen)
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
            netns_child_fail(spipe[1], STEP_STDIO);
        execv(argv[0], (char *const *)argv);
        netns_child_fail(spipe[1], STEP_EXEC);
    }
    close(opipe[1]);
    close(epipe[1]);
    close(spipe[1]);
    opipe[1] = epipe[1] = spipe[1] = -1;
    int64_t deadline = clock_mono_ns() + NETNS_IP_WAIT_S * NS_PER_S;
    int late = ip_drain(opipe[0], epipe[0], out, &overflow, etext, &elen, deadline) != 0;
    if (late)
        kill(pid, SIGKILL);
    if (netns_reap(pid, &status) < 0) {
        snprintf(msg, msglen, "%s: waitpid: %s", cmd, strerror(errno));
        goto cleanup;
    }
    struct child_status cs;
    ssize_t got = read(spipe[0], &cs, sizeof(cs));
    one_line(etext, elen, eline, sizeof(eline));
    if (got == (ssize_t)sizeof(cs))
        snprintf(msg, msglen, "%s: %s %s: %s", cmd, netns_child_step_call(cs.step), path,
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
int netns_ip_step(char *err, size_t errlen, const char *name, const char *step,
                  struct dynbuf *out, ...) __attribute__((sentinel));
int netns_ip_step(char *err, size_t errlen, const char *name, const char *step,
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
    if (netns_ip_run(args, out, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "netns%s%s: %s: %s", name ? " " : "", name ? name : "", step,
             msg);
    return -1;
}
