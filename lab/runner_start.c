/* runner_start.c: a run's programs started: each one's argv built, its output files in
 * the run's directory, and its readiness awaited.
 *
 * The order is runner.c's (the server, nghttpx in front of it when the run's protocol asks
 * for one, the link emulator, the client). A server's and a link's readiness is their
 * first line, "listening on URL" (or ADDR:PORT), read within START_TIMEOUT_MS; what the
 * line says is where the next program connects: t->server_url, t->upstream (what the link
 * forwards to) and t->front_url (what the client talks to: the server, the front or the
 * link). The client has no such line; once it is started, the window's /stats reading and
 * the planned crash are due from that moment (runner.c's watch loop acts on them). A
 * restarted server is started by the same function as the first, with its own files.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "front.h"
#include "proc.h"
#include "runargs.h"
#include "runner_impl.h"

#define START_TIMEOUT_MS 10000 /* a program's first line */

/* Start argv as `name`, its stdout and stderr in the run's directory; with line, wait for
 * its first line. 0, or RUNNER_FAILED / RUNNER_INTERRUPTED. */
static int start(struct trial *t, struct proc *p, const struct runargs *argv,
                 const char *name, const char *out, const char *errname, char *line,
                 size_t cap)
{
    char outf[4200], errf[4200], why[1024];
    struct proc_spec spec = {.argv = (const char *const *)argv->v,
                             .name = name,
                             .out = PROC_FILE,
                             .out_path = runner_path_in(t, outf, sizeof(outf), out),
                             .err = PROC_FILE,
                             .err_path = runner_path_in(t, errf, sizeof(errf), errname)};
    if (proc_start(p, &spec, why, sizeof(why)) != 0)
        return runner_fail(t, "%s", why);
    if (!line)
        return runner_record(t);
    if (proc_first_line(p, START_TIMEOUT_MS, line, cap, why, sizeof(why)) != 0) {
        if (*t->env->stop)
            return RUNNER_INTERRUPTED;
        return runner_fail(t, "%s (see %s)", why, errf);
    }
    return 0;
}

/* The text after "listening on " in a first line, or NULL. */
static const char *listening_on(const char *line)
{
    static const char prefix[] = "listening on ";
    return strncmp(line, prefix, sizeof(prefix) - 1) == 0 ? line + sizeof(prefix) - 1
                                                          : NULL;
}

int runner_start_server(struct trial *t, int which)
{
    char line[256];
    const char *names[] = {"the server", "the restarted server"};
    const char *outs[] = {"server.out", "server-restarted.out"};
    const char *errs[] = {"server.err", "server-restarted.err"};
    int rc = start(t, &t->server[which], &t->argv_server[which], names[which], outs[which],
                   errs[which], line, sizeof(line));
    if (rc != 0)
        return rc;
    const char *url = listening_on(line);
    if (!url || strncmp(url, "http://", 7) != 0 || !strrchr(url, ':'))
        return runner_fail(
            t, "%s's first line is \"%s\", not \"listening on http://ADDR:PORT\"",
            names[which], line);
    if (which == FIRST)
        snprintf(t->server_url, sizeof(t->server_url), "%s", url);
    return runner_record(t);
}

/* The client speaks TLS (to the front). */
static bool tls(const struct trial *t)
{
    return t->r->protocol == SCENARIO_HTTPS1 || t->r->protocol == SCENARIO_H2;
}

int runner_start_link(struct trial *t)
{
    char line[256], stats[4200];
    struct runargs *a = &t->argv_link;
    runargs_addf(a, "%s/pushpull-link", t->env->bin_dir);
    runargs_add(a, "--listen");
    runargs_add(a, "127.0.0.1:0");
    runargs_add(a, "--upstream");
    runargs_add(a, t->upstream);
    runargs_add(a, "--stats");
    runargs_add(a, runner_path_in(t, stats, sizeof(stats), "link_stats.json"));
    if (runargs_link(t->r, a) != 0)
        return runner_fail(t, "the link's command line is too long");
    int rc = start(t, &t->link, a, "the link emulator", "link.out", "link.err", line,
                   sizeof(line));
    if (rc != 0)
        return rc;
    const char *addr = listening_on(line);
    if (!addr)
        return runner_fail(t,
                           "the link emulator's first line is \"%s\", not \"listening on "
                           "ADDR:PORT\"",
                           line);
    snprintf(t->front_url, sizeof(t->front_url), "%s://%s", tls(t) ? "https" : "http",
             addr);
    return runner_record(t);
}

/* nghttpx in front of the server (lab/front.h): the client, or the link, then talks to
 * its plain port (HTTP/1.1, h2c) or its TLS port (https1, h2), and trusts its
 * certificate. Its log and configuration stay in the run's directory. */
int runner_start_front(struct trial *t)
{
    char why[1024];
    if (front_prepare(&t->front, t->dir, t->server_url + strlen("http://"), why,
                      sizeof(why)) != 0 ||
        front_start(&t->front, &t->argv_front, START_TIMEOUT_MS, why, sizeof(why)) != 0)
        return runner_fail(t, "%s", why);
    unsigned port = tls(t) ? t->front.tls_port : t->front.plain_port;
    snprintf(t->upstream, sizeof(t->upstream), "127.0.0.1:%u", port);
    snprintf(t->front_url, sizeof(t->front_url), "%s://127.0.0.1:%u",
             tls(t) ? "https" : "http", port);
    return runner_record(t);
}

int runner_start_client(struct trial *t)
{
    struct runargs *a = &t->argv_client;
    runargs_addf(a, "%s/pushpull-client", t->env->bin_dir);
    runargs_add(a, "--server");
    runargs_add(a, t->front_url);
    runargs_add(a, "--out");
    runargs_add(a, t->dir);
    runargs_add(a, "--label");
    runargs_add(a, t->r->id);
    if (tls(t)) {
        runargs_add(a, "--cacert");
        runargs_add(a, t->front.cert);
    }
    if (runargs_client(t->r, a) != 0)
        return runner_fail(t, "the client's command line is too long");
    int rc = start(t, &t->client, a, "the client", "client.txt", "client.err", NULL, 0);
    if (rc != 0)
        return rc;
    t->window_due = clock_mono_ns() + (int64_t)(t->r->warmup_s * (double)NS_PER_S);
    if (t->r->restart.on)
        t->crash_due = clock_mono_ns() +
                       (int64_t)((t->r->warmup_s + t->r->restart.at_s) * (double)NS_PER_S);
    t->rec.status = RUN_RUNNING;
    return runner_record(t);
}
