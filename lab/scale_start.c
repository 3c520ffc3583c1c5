/* scale_start.c: a scaled run's programs started, each at its place (lab/place.h): the
 * run's Redis, the instances (awaited: "listening on http://ADDR:PORT"), HAProxy
 * (awaited: its port accepts), the partitions; and the instances' /stats read.
 *
 * Instance 1 runs the scenario's generator; instances 2..M get the same flags followed by
 * `--process periodic --rate 0`: they publish nothing, serve the stream instance 1
 * publishes into Redis, and a trace's file is read by instance 1 only. An instance off
 * this host's loopback binds its namespace's address (0.0.0.0 on an ssh host) and is
 * reached there. A partition gets every instance's URL (user u uses the (u mod M)th) or
 * the balancer's, the whole population's --clients and --partition I/N; on an ssh host
 * it writes under REMOTE_DIR/results/remote/RUN_ID/partition-I.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "lab.h"
#include "loopback.h"
#include "scale_impl.h"
#include "stats_get.h"

/* Start m->argv as `name`, its output in m->dir/out and m->dir/errname. */
static int start_member(struct scaled *t, struct member *m, const char *name,
                        const char *out, const char *errname)
{
    char outf[4400], errf[4400], why[1024];
    snprintf(outf, sizeof(outf), "%s/%s", m->dir, out);
    snprintf(errf, sizeof(errf), "%s/%s", m->dir, errname);
    struct proc_spec spec = {.argv = (const char *const *)m->argv.v,
                             .name = name,
                             .out = PROC_FILE,
                             .out_path = outf,
                             .err = PROC_FILE,
                             .err_path = errf};
    if (m->argv.failed)
        return scale_fail(t, "%s's command line is too long", name);
    if (proc_start(&m->proc, &spec, why, sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    return 0;
}

int scale_start_broker(struct scaled *t)
{
    char why[1024], conf[4200];
    if (t->sc->redis_at.kind == SCENARIO_SSH)
        return scale_fail(t, "hosts.redis: Redis over ssh is not supported; put it in a "
                             "namespace or keep it local");
    struct runargs raw;
    runargs_init(&raw);
    place_wrap(&t->places, &t->sc->redis_at, &raw, "", "", &t->broker_prefix);
    runargs_free(&raw);
    place_addr(&t->places, &t->sc->redis_at, t->broker.host, sizeof(t->broker.host));
    t->broker.prefix = &t->broker_prefix;
    if (broker_start(&t->broker, broker_program(), t->dir, t->r->feed.durable, why,
                     sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    runargs_add_all(&t->broker_argv, &t->broker_prefix);
    runargs_add(&t->broker_argv, broker_program());
    snprintf(conf, sizeof(conf), "%s/redis.conf", t->dir);
    runargs_add(&t->broker_argv, conf);
    return scale_record(t);
}

/* Instance k (0-based), awaited; its URL from its first line. */
int scale_start_instance(struct scaled *t, uint32_t k)
{
    struct member *m = &t->inst[k];
    struct runargs raw;
    char line[256], why[1024], name[48];
    runargs_init(&raw);
    runargs_addf(&raw, "%s/pushpull-server", t->env->bin_dir);
    if (m->at->kind != SCENARIO_LOCAL) {
        runargs_add(&raw, "--bind");
        runargs_add(&raw, m->at->kind == SCENARIO_SSH ? "0.0.0.0" : m->addr);
    }
    runargs_add(&raw, "--port");
    runargs_add(&raw, "0");
    runargs_server(t->r, &raw);
    if (k > 0) { /* the stream is instance 1's to publish */
        runargs_add(&raw, "--process");
        runargs_add(&raw, "periodic");
        runargs_add(&raw, "--rate");
        runargs_add(&raw, "0");
    }
    if (t->r->feed.redis) {
        runargs_add(&raw, "--redis");
        runargs_add(&raw, t->broker.addr);
    }
    place_wrap(&t->places, m->at, &raw, t->local_dir, t->remote_dir, &m->argv);
    runargs_free(&raw);
    snprintf(name, sizeof(name), "instance %u", k + 1);
    int rc = start_member(t, m, name, "server.out", "server.err");
    if (rc != 0)
        return rc;
    if (proc_first_line(&m->proc, START_TIMEOUT_MS, line, sizeof(line), why, sizeof(why)) !=
        0)
        return *t->env->stop ? RUNNER_INTERRUPTED
                             : scale_fail(t, "%s (see %s/server.err)", why, m->dir);
    const char *prefix = "listening on http://";
    const char *colon = strrchr(line, ':');
    if (strncmp(line, prefix, strlen(prefix)) != 0 || !colon)
        return scale_fail(t,
                          "instance %u's first line is \"%s\", not \"listening on "
                          "http://ADDR:PORT\"",
                          k + 1, line);
    char url[sizeof(m->url)];
    snprintf(url, sizeof(url), "http://%s%s", m->addr, colon);
    memcpy(m->url, url, sizeof(url));
    return scale_record(t);
}

int scale_start_balancer(struct scaled *t)
{
    char why[1024], addr[300];
    const char *backends[SCENARIO_MAX_INSTANCES];
    if (t->sc->balancer_at.kind == SCENARIO_SSH)
        return scale_fail(t,
                          "hosts.balancer: HAProxy over ssh is not supported; put it in a "
                          "namespace or keep it local");
    for (uint32_t k = 0; k < t->sc->instances; k++)
        backends[k] = t->inst[k].url + strlen("http://");
    place_addr(&t->places, &t->sc->balancer_at, addr, sizeof(addr));
    unsigned port = loopback_free_port();
    /* above every silence: the long-poll hold, the heartbeat, the whole run */
    double hold_s = t->r->warmup_s + t->r->duration_s + 130;
    unsigned conns = t->r->clients * (t->r->send_rate_hz > 0 ? 2u : 1u);
    if (port == 0 ||
        balancer_write_config(&t->lb, t->dir, addr, port, backends, t->sc->instances,
                              hold_s, conns, why, sizeof(why)) != 0)
        return scale_fail(t, "%s", port ? why : "no free port for haproxy");
    struct runargs raw;
    runargs_init(&raw);
    runargs_add(&raw, balancer_program());
    runargs_add(&raw, "-db");
    runargs_add(&raw, "-f");
    runargs_add(&raw, t->lb.cfg);
    place_wrap(&t->places, &t->sc->balancer_at, &raw, "", "", &t->lb_argv);
    runargs_free(&raw);
    if (balancer_start(&t->lb, &t->lb_argv, t->dir, addr, port, START_TIMEOUT_MS, why,
                       sizeof(why)) != 0)
        return scale_fail(t, "%s", why);
    snprintf(t->urls, sizeof(t->urls), "http://%s", t->lb.listen);
    return scale_record(t);
}

/* GET /stats of instance k into its directory's `name`; the users it saw into m->users
 * when `users`. */
static int save_stats(struct scaled *t, uint32_t k, const char *name, bool users)
{
    char why[512], path[4400];
    struct member *m = &t->inst[k];
    struct dynbuf body;
    dynbuf_init(&body, (size_t)16 << 20);
    if (!m->stats && !(m->stats = curl_easy_init()))
        return scale_fail(t, "curl_easy_init failed");
    int rc = stats_get_on(m->stats, m->url, STATS_TIMEOUT_MS, &body, why, sizeof(why));
    cJSON *doc = rc == 0 && body.mem ? cJSON_ParseWithLength(body.mem, body.len) : NULL;
    dynbuf_free(&body);
    if (!doc)
        return scale_fail(t, "could not read instance %u's /stats for %s: %s", k + 1, name,
                          rc == 0 ? "the answer is not JSON" : why);
    if (users)
        m->users = scale_stats_users(doc);
    snprintf(path, sizeof(path), "%s/%s", m->dir, name);
    rc = lab_write_json(path, doc, why, sizeof(why));
    cJSON_Delete(doc);
    return rc == 0 ? 0 : scale_fail(t, "%s", why);
}

int scale_save_all_stats(struct scaled *t, const char *name, int64_t *at, bool users)
{
    *at = clock_real_ns();
    for (uint32_t k = 0; k < t->sc->instances; k++) {
        if (scale_is_crashed(t, k)) /* its final document is the one it printed */
            continue;
        int rc = save_stats(t, k, name, users);
        if (rc != 0)
            return rc;
    }
    return scale_record(t);
}

int scale_start_partition(struct scaled *t, uint32_t i)
{
    struct member *m = &t->part[i];
    struct runargs raw;
    char name[48];
    runargs_init(&raw);
    runargs_addf(&raw, "%s/pushpull-client", t->env->bin_dir);
    runargs_add(&raw, "--server");
    runargs_add(&raw, t->urls);
    runargs_add(&raw, "--out");
    if (m->at->kind == SCENARIO_SSH) {
        snprintf(m->remote, sizeof(m->remote), "%s/results/remote/%s/partition-%u",
                 t->remote_dir, t->r->id, i + 1);
        runargs_add(&raw, m->remote);
    } else {
        runargs_add(&raw, t->sc->partitions > 1 ? m->dir : t->dir);
    }
    runargs_add(&raw, "--label");
    runargs_add(&raw, t->r->id);
    if (t->sc->partitions > 1) {
        runargs_add(&raw, "--partition");
        runargs_addf(&raw, "%u/%u", i + 1, t->sc->partitions);
    }
    runargs_client(t->r, &raw);
    place_wrap(&t->places, m->at, &raw, t->local_dir, t->remote_dir, &m->argv);
    runargs_free(&raw);
    snprintf(name, sizeof(name), "partition %u", i + 1);
    return start_member(t, m, name, "client.txt", "client.err");
}
