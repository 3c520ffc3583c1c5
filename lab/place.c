/* place.c: a scaled run's places: its namespaces made, routed and removed, and a program's
 * argv wrapped to start where the scenario puts it (see place.h).
 *
 * `ip netns exec` execs the program in the same process after entering the namespace, so
 * the pid common/proc.h watches is the program's own, and its PR_SET_PDEATHSIG and process
 * group survive: nothing changes for the runner but the first words of argv. iproute2's
 * `ip` is the one common/netns.c uses.
 */
#include "place.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dynbuf.h"
#include "proc.h"

#define CHECK_WAIT_MS 20000

/* The namespace index of label, or ps->n. */
static size_t find(const struct place_set *ps, const char *label)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->label[i], label) == 0)
            return i;
    return ps->n;
}

/* One place: its namespace made if it names a new one. 0 or -1. */
static int open_one(struct place_set *ps, const struct scenario_place *p, char *err,
                    size_t errlen)
{
    if (p->kind != SCENARIO_NETNS || find(ps, p->name) < ps->n)
        return 0;
    if (ps->n == PLACES_MAX_NS) {
        snprintf(err, errlen, "hosts: more than %d distinct namespaces", PLACES_MAX_NS);
        return -1;
    }
    if (netns_create(&ps->ns[ps->n], p->name, err, errlen) != 0)
        return -1;
    snprintf(ps->label[ps->n], sizeof(ps->label[ps->n]), "%.32s", p->name);
    ps->n++;
    return 0;
}

int places_open(struct place_set *ps, const struct scenario_scale *sc, char *err,
                size_t errlen)
{
    int rc = open_one(ps, &sc->redis_at, err, errlen);
    for (uint32_t i = 0; rc == 0 && i < sc->instances; i++)
        rc = open_one(ps, &sc->instance_at[i], err, errlen);
    if (rc == 0)
        rc = open_one(ps, &sc->balancer_at, err, errlen);
    for (uint32_t i = 0; rc == 0 && i < sc->partitions; i++)
        rc = open_one(ps, &sc->partition_at[i], err, errlen);
    if (rc != 0) {
        char ignore[256];
        places_close(ps, ignore, sizeof(ignore));
    }
    return rc;
}

int places_route(struct place_set *ps, const struct scenario_place *a,
                 const struct scenario_place *b, char *err, size_t errlen)
{
    if (a->kind != SCENARIO_NETNS || b->kind != SCENARIO_NETNS)
        return 0;
    size_t i = find(ps, a->name), j = find(ps, b->name);
    if (i == j || i >= ps->n || j >= ps->n || ps->routed[i][j])
        return 0;
    if (netns_route_between(&ps->ns[i], &ps->ns[j], err, errlen) != 0)
        return -1;
    ps->routed[i][j] = ps->routed[j][i] = true;
    return 0;
}

int places_close(struct place_set *ps, char *err, size_t errlen)
{
    int rc = 0;
    char why[512];
    for (size_t i = ps->n; i-- > 0;)
        if (netns_remove(&ps->ns[i], why, sizeof(why)) != 0 && rc == 0) {
            snprintf(err, errlen, "%s", why);
            rc = -1;
        }
    memset(ps, 0, sizeof(*ps));
    return rc;
}

const struct netns *places_ns(const struct place_set *ps, const struct scenario_place *p)
{
    size_t i = p->kind == SCENARIO_NETNS ? find(ps, p->name) : ps->n;
    return i < ps->n ? &ps->ns[i] : NULL;
}

void place_addr(const struct place_set *ps, const struct scenario_place *p, char *out,
                size_t cap)
{
    const struct netns *ns = places_ns(ps, p);
    if (ns) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ns->ns_addr, a, sizeof(a));
        snprintf(out, cap, "%s", a);
    } else if (p->kind == SCENARIO_SSH) {
        snprintf(out, cap, "%s", strchr(p->name, '@') + 1);
    } else {
        snprintf(out, cap, "127.0.0.1");
    }
}

/* iproute2's ip, where common/netns.c finds it. */
static const char *ip_program(void)
{
    return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
}

/* word single-quoted for a POSIX shell ('it'\''s'), appended to b. */
static int add_quoted(struct dynbuf *b, const char *word)
{
    int rc = dynbuf_adds(b, "'");
    for (const char *c = word; rc == 0 && *c; c++)
        rc = *c == '\'' ? dynbuf_adds(b, "'\\''") : dynbuf_addf(b, "%c", *c);
    return rc == 0 ? dynbuf_adds(b, "'") : -1;
}

const char *place_ssh_program(void)
{
    const char *p = getenv("PUSHPULL_SSH");
    return p && p[0] ? p : "/usr/bin/ssh";
}

/* The ssh words before the remote command. */
static void add_ssh(struct runargs *out, const struct scenario_place *p)
{
    runargs_add(out, place_ssh_program());
    runargs_add(out, "-o");
    runargs_add(out, "BatchMode=yes");
    runargs_add(out, "-o");
    runargs_add(out, "ConnectTimeout=10");
    runargs_add(out, p->name);
    runargs_add(out, "--");
}

int place_wrap(const struct place_set *ps, const struct scenario_place *p,
               const struct runargs *argv, const char *local_dir, const char *remote_dir,
               struct runargs *out)
{
    if (p->kind == SCENARIO_LOCAL)
        return runargs_add_all(out, argv);
    if (p->kind == SCENARIO_NETNS) {
        const struct netns *ns = places_ns(ps, p);
        runargs_add(out, ip_program());
        runargs_add(out, "netns");
        runargs_add(out, "exec");
        runargs_add(out, ns ? ns->name : p->name);
        return runargs_add_all(out, argv);
    }
    /* ssh: one line for the remote shell, every word quoted */
    struct dynbuf line;
    dynbuf_init(&line, 1 << 16);
    size_t ll = strlen(local_dir);
    int rc = dynbuf_adds(&line, "cd ") || add_quoted(&line, remote_dir) ||
             dynbuf_adds(&line, " && exec");
    for (size_t i = 0; rc == 0 && i < argv->n; i++) {
        const char *w = argv->v[i];
        char moved[4200];
        if (ll && strncmp(w, local_dir, ll) == 0 && w[ll] == '/') {
            snprintf(moved, sizeof(moved), "%s%s", remote_dir, w + ll);
            w = moved;
        }
        rc = dynbuf_adds(&line, " ") || add_quoted(&line, w);
    }
    add_ssh(out, p);
    if (rc == 0)
        runargs_add(out, line.mem);
    dynbuf_free(&line);
    return rc != 0 || out->failed ? -1 : 0;
}

int place_ssh_check_argv(const struct scenario_place *p, const char *remote_dir,
                         struct runargs *out)
{
    struct dynbuf line;
    dynbuf_init(&line, 8192);
    int rc = dynbuf_adds(&line, "git -C ") || add_quoted(&line, remote_dir) ||
             dynbuf_adds(&line, " rev-parse HEAD && test -x ") ||
             add_quoted(&line, remote_dir) || dynbuf_adds(&line, "/bin/pushpull-server");
    add_ssh(out, p);
    if (rc == 0)
        runargs_add(out, line.mem);
    dynbuf_free(&line);
    return rc != 0 || out->failed ? -1 : 0;
}

int place_ssh_check(const struct scenario_place *p, const char *remote_dir,
                    const char *commit, char *err, size_t errlen)
{
    struct runargs a;
    struct proc pr;
    char line[256] = "", why[512];
    runargs_init(&a);
    proc_init(&pr);
    int rc = -1;
    if (place_ssh_check_argv(p, remote_dir, &a) != 0) {
        snprintf(err, errlen, "hosts: ssh:%s: the check's command line is too long",
                 p->name);
        goto out;
    }
    struct proc_spec spec = {.argv = (const char *const *)a.v,
                             .name = "ssh",
                             .out = PROC_PIPE,
                             .err = PROC_DEVNULL};
    if (proc_start(&pr, &spec, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "hosts: ssh:%s: %s", p->name, why);
        goto out;
    }
    int got = proc_first_line(&pr, CHECK_WAIT_MS, line, sizeof(line), why, sizeof(why));
    int status = proc_wait(&pr, CHECK_WAIT_MS) ? proc_exit_code(&pr) : -1;
    if (pr.running)
        proc_stop(&pr, 1000);
    if (got != 0 || status == 255 || line[0] == '\0')
        snprintf(err, errlen,
                 "hosts: ssh:%s: expected pushpull checked out at %s (git -C %s rev-parse "
                 "HEAD), got no answer (ssh exit %d; is the host reachable with a key?)",
                 p->name, remote_dir, remote_dir, status);
    else if (strcmp(line, commit) != 0)
        snprintf(err, errlen, "hosts: ssh:%s: expected pushpull at commit %s in %s, got %s",
                 p->name, commit, remote_dir, line);
    else if (status != 0)
        snprintf(
            err, errlen,
            "hosts: ssh:%s: expected %s/bin/pushpull-server built (make all), got none",
            p->name, remote_dir);
    else
        rc = 0;
out:
    proc_close(&pr);
    runargs_free(&a);
    return rc;
}

int place_local_commit(const char *dir, char *out, size_t cap, char *err, size_t errlen)
{
    const char *argv[] = {"/usr/bin/git", "-C", dir, "rev-parse", "HEAD", NULL};
    struct proc pr;
    char why[512];
    proc_init(&pr);
    struct proc_spec spec = {
        .argv = argv, .name = "git", .out = PROC_PIPE, .err = PROC_DEVNULL};
    out[0] = '\0';
    int rc = proc_start(&pr, &spec, why, sizeof(why));
    if (rc == 0)
        rc = proc_first_line(&pr, CHECK_WAIT_MS, out, cap, why, sizeof(why));
    if (pr.running)
        proc_stop(&pr, 1000);
    proc_close(&pr);
    if (rc != 0 || strlen(out) < 40) {
        snprintf(err, errlen,
                 "hosts: ssh needs this checkout's commit: git -C %s rev-parse "
                 "HEAD failed",
                 dir);
        return -1;
    }
    return 0;
}
