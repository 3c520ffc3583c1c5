/* test_netns.c: the lab's network namespaces (common/netns), for real: created, used from
 * both sides of the veth, routed to each other, and removed without a trace, also when
 * their owner is killed or left them behind.
 *
 * Needs root, as the lab does. Each test keeps what it created in a fixture that its
 * teardown kills, reaps and removes, so a failed assertion leaves no namespace behind.
 * Traffic goes only between this host's end of a veth and a namespace the test created;
 * the one address outside the lab named here (203.0.113.1, TEST-NET-3) is only looked up
 * with a UDP connect, which sends nothing. Every wait is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "link_harness.h"
#include "netns.h"

/* ---- the fixture: what a test created, undone in teardown --------------------------- */

#define KIDS_MAX 8

struct fixture {
    struct netns ns[2];   /* the test's namespaces (zeroed: none) */
    pid_t kids[KIDS_MAX]; /* children still to kill and reap (0: none) */
    char extra[2][64];    /* namespaces made with ip directly, to delete ("": none) */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    *state = f;
    return f ? 0 : -1;
}

static const char *ip_bin(void)
{
    return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
}

/* Run ip with args (NULL-terminated, after "ip"); its stdout into out (may be NULL).
 * Its exit status, or -1. */
static int ip_cmd(const char *const args[], struct dynbuf *out)
{
    const char *argv[16];
    size_t n = 0;
    argv[n++] = ip_bin();
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int fd = -1;
    pid_t pid = harness_spawn(argv, STDOUT_FILENO, false, &fd);
    if (pid < 0)
        return -1;
    struct dynbuf sink;
    dynbuf_init(&sink, 1 << 20);
    harness_read_until(fd, out ? out : &sink, NULL, 10000);
    dynbuf_free(&sink);
    close(fd);
    return harness_wait(pid, 10000);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = 0;
    for (size_t i = 0; i < KIDS_MAX; i++) {
        if (f->kids[i] > 0) {
            kill(f->kids[i], SIGKILL);
            waitpid(f->kids[i], NULL, 0);
        }
    }
    for (size_t i = 0; i < 2; i++) {
        char err[1024];
        if (netns_remove(&f->ns[i], err, sizeof(err)) != 0) {
            print_error("teardown: %s\n", err);
            rc = -1;
        }
        if (f->extra[i][0]) {
            const char *del[] = {"netns", "del", f->extra[i], NULL};
            ip_cmd(del, NULL);
        }
    }
    free(f);
    return rc;
}

/* Create f->ns[i] or fail with netns_create's message. */
static struct netns *create(struct fixture *f, size_t i, const char *label)
{
    char err[1024];
    if (netns_create(&f->ns[i], label, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return &f->ns[i];
}

static void kid_add(struct fixture *f, pid_t pid)
{
    for (size_t i = 0; i < KIDS_MAX; i++) {
        if (f->kids[i] == 0) {
            f->kids[i] = pid;
            return;
        }
    }
    fail_msg("more than %d children", KIDS_MAX);
}

/* The fixture no longer holds pid (it was reaped). */
static void kid_forget(struct fixture *f, pid_t pid)
{
    for (size_t i = 0; i < KIDS_MAX; i++)
        if (f->kids[i] == pid)
            f->kids[i] = 0;
}

/* Wait (10 s at most) for a child the fixture holds; its exit status, or -1. */
static int kid_wait(struct fixture *f, pid_t pid)
{
    kid_forget(f, pid);
    return harness_wait(pid, 10000);
}

/* Run fn(arg) inside ns as a child the fixture holds; its pid. */
static pid_t fork_inside(struct fixture *f, const struct netns *ns, int (*fn)(void *),
                         void *arg)
{
    char err[1024];
    pid_t pid = netns_fork(ns, fn, arg, err, sizeof(err));
    if (pid < 0)
        fail_msg("%s", err);
    kid_add(f, pid);
    return pid;
}

static const char *text(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int exists(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Is name in `ip netns list`? */
static int listed(const char *name)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    const char *list[] = {"netns", "list", NULL};
    assert_int_equal(ip_cmd(list, &out), 0);
    int found = 0;
    for (const char *p = out.mem; p && *p && !found;) {
        size_t len = strcspn(p, " \n");
        found = len == strlen(name) && strncmp(p, name, len) == 0;
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    dynbuf_free(&out);
    return found;
}

/* Wait (5 s at most) until neither the namespace nor the veth end is there. 1 if so. */
static int gone_within(const char *name, const char *host_if, int ms)
{
    int64_t until = harness_now_ms() + ms;
    while ((exists("/run/netns", name) || exists("/sys/class/net", host_if)) &&
           harness_now_ms() < until)
        harness_sleep_ms(10);
    return !exists("/run/netns", name) && !exists("/sys/class/net", host_if) &&
           !listed(name) && if_nametoindex(host_if) == 0;
}

/* Is pid gone (no process, or a zombie its new parent has not reaped yet)? */
static int process_gone(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, stat, sizeof(stat) - 1);
    close(fd);
    stat[n > 0 ? n : 0] = '\0';
    const char *paren = strrchr(stat, ')');
    return !paren || paren[2] == 'Z' || paren[2] == 'X';
}

/* ---- what runs inside ------------------------------------------------------------- */

/* An echo server for one connection, inside: listen on bind:0, write the port (uint16_t)
 * to report, echo until EOF. Exit 0 when the client came from `from`, 3 when from
 * elsewhere, 2 when something failed. */
struct echo_job {
    struct in_addr bind; /* where to listen */
    struct in_addr from; /* who must connect */
    int report;          /* pipe write end for the port */
};

static int echo_once(void *arg)
{
    const struct echo_job *j = arg;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = j->bind};
    socklen_t len = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0)
        return 2;
    uint16_t port = ntohs(a.sin_port);
    if (write(j->report, &port, sizeof(port)) != (ssize_t)sizeof(port))
        return 2;
    struct pollfd p = {.fd = l, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1)
        return 2;
    struct sockaddr_in peer;
    len = sizeof(peer);
    int c = accept(l, (struct sockaddr *)&peer, &len);
    if (c < 0)
        return 2;
    char buf[8192];
    for (;;) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0 || harness_send(c, buf, (size_t)n) != 0)
            break;
    }
    close(c);
    close(l);
    return peer.sin_addr.s_addr == j->from.s_addr ? 0 : 3;
}

/* Start echo_once inside ns, expecting a client from `from`; its port. */
static unsigned echo_start(struct fixture *f, const struct netns *ns, struct in_addr from,
                           pid_t *pid)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    struct echo_job j = {.bind = ns->ns_addr, .from = from, .report = p[1]};
    *pid = fork_inside(f, ns, echo_once, &j);
    close(p[1]);
    uint16_t port = 0;
    struct pollfd pp = {.fd = p[0], .events = POLLIN};
    if (poll(&pp, 1, 10000) == 1 &&
        read(p[0], &port, sizeof(port)) != (ssize_t)sizeof(port))
        port = 0;
    close(p[0]);
    assert_true(port != 0);
    return port;
}

/* Send `bytes` bytes of a pattern to to:port and check they come back whole, then end
 * the connection. 0, or a small number saying what went wrong (1 connect, 2 send, 3 the
 * bytes, 4 no EOF after). With local non-NULL, the address this side used goes there. */
static int echo_exchange(struct in_addr to, unsigned port, size_t bytes,
                         struct in_addr *local)
{
    int fd = link_harness_connect_to(to, port);
    if (fd < 0)
        return 1;
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    if (local && getsockname(fd, (struct sockaddr *)&me, &len) == 0)
        *local = me.sin_addr;
    char *out = malloc(bytes), *back = malloc(bytes);
    int rc = 0, why = 0;
    for (size_t i = 0; out && i < bytes; i++)
        out[i] = (char)('a' + (i * 7 + i / 251) % 26);
    if (!out || !back || harness_send(fd, out, bytes) != 0)
        rc = 2;
    else if (link_harness_read_n(fd, back, bytes, 10000, &why) != bytes ||
             memcmp(out, back, bytes) != 0)
        rc = 3;
    else if (shutdown(fd, SHUT_WR) != 0 || link_harness_wait_end(fd, 10000) != 0)
        rc = 4;
    free(out);
    free(back);
    close(fd);
    return rc;
}

/* A client inside: echo_exchange to to:port, its result as the exit status. */
struct client_job {
    struct in_addr to;
    unsigned port;
};

static int client_inside(void *arg)
{
    const struct client_job *j = arg;
    return echo_exchange(j->to, j->port, 4096, NULL);
}

/* Inside: is `to` unreachable? A UDP connect looks up the route and sends nothing. Exit
 * 0 when it failed with ENETUNREACH, 1 when there was a route, 2 otherwise. */
static int no_route_inside(void *arg)
{
    const struct in_addr *to = arg;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr = *to};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 2;
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    int e = errno;
    close(fd);
    return rc == 0 ? 1 : e == ENETUNREACH ? 0 : 2;
}

static int sleep_inside(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static void assert_no_route(struct fixture *f, const struct netns *from, struct in_addr to)
{
    char t[INET_ADDRSTRLEN];
    int rc = kid_wait(f, fork_inside(f, from, no_route_inside, &to));
    if (rc != 0)
        fail_msg("from inside %s, %s: %s", from->name, text(to, t),
                 rc == 1 ? "there is a route" : "connect failed otherwise");
}

/* ---- tests ------------------------------------------------------------------------ */

/* A namespace has lo and one end of the veth up, with the /30's second address; this
 * host reaches an echo server inside from its own end, and the bytes come back whole. */
static void a_client_on_the_host_reaches_an_echo_inside(void **state)
{
    struct fixture *f = *state;
    struct netns *ns = create(f, 0, "echo");
    char h[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
    assert_int_equal(ntohl(ns->host_addr.s_addr), ntohl(ns->net.s_addr) + 1);
    assert_int_equal(ntohl(ns->ns_addr.s_addr), ntohl(ns->net.s_addr) + 2);
    assert_int_equal(ntohl(ns->net.s_addr) & 3, 0);
    assert_true(exists("/run/netns", ns->name) && listed(ns->name));
    assert_true(if_nametoindex(ns->host_if) != 0);
    print_message("# %s: %s on %s, %s inside\n", ns->name, text(ns->host_addr, h),
                  ns->host_if, text(ns->ns_addr, n));
    pid_t pid;
    unsigned port = echo_start(f, ns, ns->host_addr, &pid);
    struct in_addr local = {0};
    assert_int_equal(echo_exchange(ns->ns_addr, port, 64 * 1024, &local), 0);
    assert_int_equal(local.s_addr, ns->host_addr.s_addr);
    assert_int_equal(kid_wait(f, pid), 0); /* it saw the host's end as its client */
}

/* The real server, started inside with --bind on the namespace's address: its first line
 * names that address, this host gets /stats from it over the veth, and /publish answers
 * 403 (this host's end is off loopback, so to the server it is another host). */
static void the_real_server_runs_inside(void **state)
{
    struct fixture *f = *state;
    struct netns *ns = create(f, 0, "server");
    char addr[INET_ADDRSTRLEN], err[1024], want[64];
    text(ns->ns_addr, addr);
    const char *bin = getenv("PUSHPULL_SERVER");
    const char *argv[] = {
        bin ? bin : "build/asan/bin/pushpull-server", "--bind", addr, "--port", "0", NULL};
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = netns_spawn(ns, argv, p[1], -1, err, sizeof(err));
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        fail_msg("%s", err);
    }
    kid_add(f, pid);
    struct dynbuf line;
    dynbuf_init(&line, 4096);
    assert_int_equal(harness_read_until(p[0], &line, "\n", 10000), 1);
    close(p[0]);
    snprintf(want, sizeof(want), "listening on http://%s:", addr);
    int named = strncmp(line.mem, want, strlen(want)) == 0;
    unsigned port = named ? (unsigned)strtoul(line.mem + strlen(want), NULL, 10) : 0;
    dynbuf_free(&line);
    assert_true(named && port > 0);

    static const char *const asks[] = {
        "GET /stats HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n",
        "POST /publish HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\nConnection: close\r\n"
        "\r\nhello"};
    int want_status[] = {200, 403};
    for (size_t i = 0; i < 2; i++) {
        int fd = link_harness_connect_to(ns->ns_addr, port);
        assert_true(fd >= 0);
        assert_int_equal(harness_send(fd, asks[i], strlen(asks[i])), 0);
        struct harness_response r;
        assert_int_equal(harness_read_response(fd, &r, 5000), 0);
        close(fd);
        int status = r.status;
        cJSON *doc = i == 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
        int parsed = doc != NULL;
        cJSON_Delete(doc);
        harness_response_free(&r);
        assert_int_equal(status, want_status[i]);
        assert_true(i != 0 || parsed);
    }
    kid_forget(f, pid);
    assert_int_equal(harness_stop_pid(pid), 0); /* a clean exit: no sanitizer report */
}

/* netns_remove kills what still runs inside, and leaves no namespace (ip netns list,
 * /run/netns), no veth end (/sys/class/net) and no address behind. A second remove is
 * fine. */
static void removal_leaves_nothing_behind(void **state)
{
    struct fixture *f = *state;
    struct netns *ns = create(f, 0, NULL);
    struct netns was = *ns;
    pid_t sleeper = fork_inside(f, ns, sleep_inside, NULL);
    char err[1024];
    if (netns_remove(ns, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(ns->name, "");
    int status = 0;
    int64_t until = harness_now_ms() + 5000;
    pid_t got = waitpid(sleeper, &status, WNOHANG);
    while (got == 0 && harness_now_ms() < until) {
        harness_sleep_ms(5);
        got = waitpid(sleeper, &status, WNOHANG);
    }
    assert_int_equal(got, sleeper);
    kid_forget(f, sleeper);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_true(gone_within(was.name, was.host_if, 0));
    struct ifaddrs *all = NULL;
    assert_int_equal(getifaddrs(&all), 0);
    for (const struct ifaddrs *i = all; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
            assert_int_not_equal(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr,
                                 was.host_addr.s_addr);
    freeifaddrs(all);
    assert_int_equal(netns_remove(ns, err, sizeof(err)), 0);
}

/* Two namespaces get two /30s that overlap neither each other nor any other address of
 * this host. Neither reaches the other, nor anything outside the lab, until
 * netns_route_between joins them; then a client in one reaches an echo in the other, and
 * still nothing else. */
static void a_second_namespace_gets_its_own_range(void **state)
{
    struct fixture *f = *state;
    struct netns *a = create(f, 0, "a"), *b = create(f, 1, "b");
    uint32_t an = ntohl(a->net.s_addr), bn = ntohl(b->net.s_addr);
    assert_true(an >> 2 != bn >> 2);
    assert_string_not_equal(a->host_if, b->host_if);
    struct ifaddrs *all = NULL;
    assert_int_equal(getifaddrs(&all), 0);
    for (const struct ifaddrs *i = all; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
            continue;
        if (strcmp(i->ifa_name, a->host_if) == 0 || strcmp(i->ifa_name, b->host_if) == 0)
            continue;
        uint32_t addr = ntohl(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        uint32_t mask =
            ntohl(((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
        mask &= ~UINT32_C(3); /* the wider of the two prefixes */
        if ((addr & mask) == (an & mask) || (addr & mask) == (bn & mask))
            fail_msg("%s's address overlaps a namespace's /30", i->ifa_name);
    }
    freeifaddrs(all);

    struct in_addr outside;
    inet_pton(AF_INET, "203.0.113.1", &outside);
    assert_no_route(f, a, b->ns_addr);
    assert_no_route(f, a, outside);

    char err[1024];
    if (netns_route_between(a, b, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    pid_t echo;
    struct client_job job = {.to = b->ns_addr};
    job.port = echo_start(f, b, a->ns_addr, &echo);
    assert_int_equal(kid_wait(f, fork_inside(f, a, client_inside, &job)), 0);
    assert_int_equal(kid_wait(f, echo), 0); /* the client came from a's own address */
    assert_no_route(f, a, outside);
    assert_no_route(f, b, outside);
}

/* The owner dies without removing its namespace (SIGKILL: no handler, no atexit): the
 * watcher removes it, and kills what ran inside, within a second. */
static void a_killed_owner_leaves_nothing_behind(void **state)
{
    (void)state;
    struct record {
        char name[NETNS_NAME_MAX];
        char host_if[NETNS_IF_MAX];
        pid_t sleeper;
        char err[512];
    } rec;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t owner = fork();
    assert_true(owner >= 0);
    if (owner == 0) { /* the owner: make a namespace, start something in it, die */
        struct netns ns;
        memset(&rec, 0, sizeof(rec));
        if (netns_create(&ns, "doomed", rec.err, sizeof(rec.err)) == 0) {
            snprintf(rec.name, sizeof(rec.name), "%s", ns.name);
            snprintf(rec.host_if, sizeof(rec.host_if), "%s", ns.host_if);
            rec.sleeper = netns_fork(&ns, sleep_inside, NULL, rec.err, sizeof(rec.err));
        }
        ssize_t w = write(p[1], &rec, sizeof(rec));
        (void)w;
        raise(SIGKILL);
    }
    close(p[1]);
    ssize_t got = read(p[0], &rec, sizeof(rec));
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(owner, &status, 0), owner);
    assert_int_equal(got, sizeof(rec));
    if (!rec.name[0] || rec.sleeper <= 0)
        fail_msg("the owner: %s", rec.err);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    if (!gone_within(rec.name, rec.host_if, 5000))
        fail_msg("%s is still there 5 s after its owner died", rec.name);
    int64_t until = harness_now_ms() + 5000;
    while (!process_gone(rec.sleeper) && harness_now_ms() < until)
        harness_sleep_ms(10);
    assert_true(process_gone(rec.sleeper));
}

/* What a watcher could not remove (it was killed too, or the machine went down) is swept
 * by the next netns_create, or by netns_sweep: a namespace whose owner is gone goes, with
 * its veth pair; one whose owner lives stays. */
static void stale_namespaces_are_swept(void **state)
{
    struct fixture *f = *state;
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    char host_if[NETNS_IF_MAX];
    snprintf(f->extra[0], sizeof(f->extra[0]), "pp-%d-1-stale", (int)dead);
    snprintf(host_if, sizeof(host_if), "pp-%d-1", (int)dead);
    snprintf(f->extra[1], sizeof(f->extra[1]), "pp-1-1-alive"); /* pid 1 never ends */
    const char *add_stale[] = {"netns", "add", f->extra[0], NULL};
    const char *add_veth[] = {"link", "add",          host_if, "type",      "veth", "peer",
                              "name", NETNS_INNER_IF, "netns", f->extra[0], NULL};
    const char *add_alive[] = {"netns", "add", f->extra[1], NULL};
    assert_int_equal(ip_cmd(add_stale, NULL), 0);
    assert_int_equal(ip_cmd(add_veth, NULL), 0);
    assert_int_equal(ip_cmd(add_alive, NULL), 0);
    char err[1024];
    int removed = netns_sweep(err, sizeof(err));
    if (removed < 0)
        fail_msg("%s", err);
    assert_true(removed >= 1);
    assert_true(gone_within(f->extra[0], host_if, 0));
    assert_true(listed(f->extra[1]));
    const char *del_alive[] = {"netns", "del", f->extra[1], NULL};
    assert_int_equal(ip_cmd(del_alive, NULL), 0);
    f->extra[0][0] = f->extra[1][0] = '\0';
}

/* Without CAP_SYS_ADMIN and CAP_NET_ADMIN (dropped from the bounding set, so ip runs
 * without them): netns_create's message, written by a child, for the parent. */
static void create_without_privileges(int out)
{
    char err[1024] = "";
    struct netns ns;
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
        prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) != 0)
        snprintf(err, sizeof(err), "prctl(PR_CAPBSET_DROP): %s", strerror(errno));
    else if (netns_create(&ns, NULL, err, sizeof(err)) == 0)
        snprintf(err, sizeof(err), "created %s without the privileges", ns.name);
    ssize_t w = write(out, err, strlen(err) + 1);
    (void)w;
    _exit(0);
}

static void assert_one_line(const char *err, const char *const says[])
{
    int ok = err[0] && !strchr(err, '\n');
    for (size_t i = 0; ok && says[i]; i++)
        ok = strstr(err, says[i]) != NULL;
    if (!ok)
        fail_msg("expected one line with \"%s\"...: %s", says[0], err);
    print_message("# %s\n", err);
}

/* Each failure is one line that names the namespace, the step, the call or command, and
 * the system's or ip's own words, and leaves nothing behind. */
static void failures_say_what_failed_on_one_line(void **state)
{
    struct fixture *f = *state;
    char err[1024] = "";

    struct netns bad;
    assert_int_equal(netns_create(&bad, "Server 1", err, sizeof(err)), -1);
    const char *label[] = {"netns: label \"Server 1\"", "a-z, 0-9 and -", NULL};
    assert_one_line(err, label);
    assert_string_equal(bad.name, "");

    struct netns none = {0};
    assert_true(netns_fork(&none, sleep_inside, NULL, err, sizeof(err)) < 0);
    const char *no_ns[] = {"no namespace", NULL};
    assert_one_line(err, no_ns);

    struct netns *ns = create(f, 0, "errors");
    const char *argv[] = {"/nonexistent/pushpull-nothing", NULL};
    assert_true(netns_spawn(ns, argv, -1, -1, err, sizeof(err)) < 0);
    const char *no_exec[] = {ns->name, "execv", "/nonexistent/pushpull-nothing",
                             "No such file or directory", NULL};
    assert_one_line(err, no_exec);

    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0)
        create_without_privileges(p[1]);
    kid_add(f, kid);
    close(p[1]);
    struct dynbuf said;
    dynbuf_init(&said, 4096);
    harness_read_until(p[0], &said, NULL, 10000);
    close(p[0]);
    assert_int_equal(kid_wait(f, kid), 0);
    snprintf(err, sizeof(err), "%s", said.mem ? said.mem : "(nothing)");
    dynbuf_free(&said);
    const char *unprivileged[] = {"netns pp-", ": add the namespace: ip netns add pp-",
                                  "Operation not permitted", NULL};
    assert_one_line(err, unprivileged);
    char name[NETNS_NAME_MAX];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(err + 6, ":"), err + 6);
    assert_true(gone_within(name, name, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_client_on_the_host_reaches_an_echo_inside, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_real_server_runs_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(removal_leaves_nothing_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(a_second_namespace_gets_its_own_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_killed_owner_leaves_nothing_behind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stale_namespaces_are_swept, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_say_what_failed_on_one_line, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
