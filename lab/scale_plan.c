/* scale_plan.c: what `pushpull-lab plan` shows of a scaled run: each process, where it
 * runs and its command line as the conductor will start it (see scale.h).
 *
 * The argv are built by the same functions the run uses (runargs_server,
 * runargs_client, place_wrap), with the words only the run can know written as
 * placeholders, so the ssh form of a scenario can be read, and checked by a test, without
 * connecting anywhere.
 */
#include "scale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "runargs.h"

#define DIR_WORD "DIR"

/* "  WHAT at PLACE: ARGV\n", argv wrapped for p. */
static int plan_line(struct dynbuf *out, const char *what, const struct scenario_place *p,
                     const struct runargs *raw, const char *remote_dir)
{
    struct place_set none;
    struct runargs wrapped;
    char place[SCENARIO_PLACE_MAX + 8];
    memset(&none, 0, sizeof(none));
    runargs_init(&wrapped);
    scenario_place_format(p, place, sizeof(place));
    int rc = place_wrap(&none, p, raw, DIR_WORD, remote_dir, &wrapped);
    if (rc == 0 && p->kind == SCENARIO_NETNS) { /* the name the run will give it */
        free(wrapped.v[3]);
        wrapped.v[3] = NULL;
        wrapped.n = 3;
        rc = runargs_addf(&wrapped, "pp-PID-N-%s", p->name);
        for (size_t i = 0; rc == 0 && i < raw->n; i++)
            rc = runargs_add(&wrapped, raw->v[i]);
    }
    rc = rc ? rc : dynbuf_addf(out, "  %s at %s: ", what, place);
    rc = rc ? rc : runargs_join(&wrapped, out);
    rc = rc ? rc : dynbuf_adds(out, "\n");
    runargs_free(&wrapped);
    return rc;
}

int scale_plan_lines(const struct scenario_run *r, struct dynbuf *out)
{
    const struct scenario_scale *sc = r->scale;
    const char *remote = sc->remote_dir[0] ? sc->remote_dir : DIR_WORD;
    struct runargs a;
    char what[64];
    int rc = 0;
    for (uint32_t k = 0; rc == 0 && k < sc->instances; k++) {
        runargs_init(&a);
        runargs_add(&a, DIR_WORD "/bin/pushpull-server");
        if (sc->instance_at[k].kind != SCENARIO_LOCAL) {
            runargs_add(&a, "--bind");
            runargs_add(&a,
                        sc->instance_at[k].kind == SCENARIO_SSH ? "0.0.0.0" : "NS_ADDR");
        }
        runargs_add(&a, "--port");
        runargs_add(&a, "0");
        runargs_server(r, &a);
        if (k > 0) {
            runargs_add(&a, "--process");
            runargs_add(&a, "periodic");
            runargs_add(&a, "--rate");
            runargs_add(&a, "0");
        }
        if (r->feed.redis) {
            runargs_add(&a, "--redis");
            runargs_add(&a, "REDIS_ADDR:PORT");
        }
        snprintf(what, sizeof(what), "instance %u", k + 1);
        rc = a.failed ? -1 : plan_line(out, what, &sc->instance_at[k], &a, remote);
        runargs_free(&a);
    }
    if (rc == 0 && sc->balancer == SCENARIO_BALANCER_HAPROXY) {
        runargs_init(&a);
        runargs_add(&a, "/usr/sbin/haproxy");
        runargs_add(&a, "-db");
        runargs_add(&a, "-f");
        runargs_add(&a, "RUN_DIR/haproxy.cfg");
        rc = plan_line(out, "balancer", &sc->balancer_at, &a, remote);
        runargs_free(&a);
    }
    for (uint32_t i = 0; rc == 0 && i < sc->partitions; i++) {
        const struct scenario_place *p = &sc->partition_at[i];
        runargs_init(&a);
        runargs_add(&a, DIR_WORD "/bin/pushpull-client");
        runargs_add(&a, "--server");
        runargs_add(&a, sc->balancer == SCENARIO_BALANCER_HAPROXY ? "http://BALANCER:PORT"
                                                                  : "INSTANCE_URLS");
        runargs_add(&a, "--out");
        if (p->kind == SCENARIO_SSH)
            runargs_addf(&a, "%s/results/remote/%s/partition-%u", remote, r->id, i + 1);
        else if (sc->partitions > 1)
            runargs_addf(&a, "RUN_DIR/partitions/%u", i + 1);
        else
            runargs_add(&a, "RUN_DIR");
        runargs_add(&a, "--label");
        runargs_add(&a, r->id);
        if (sc->partitions > 1) {
            runargs_add(&a, "--partition");
            runargs_addf(&a, "%u/%u", i + 1, sc->partitions);
        }
        runargs_client(r, &a);
        snprintf(what, sizeof(what), "partition %u/%u", i + 1, sc->partitions);
        rc = a.failed ? -1 : plan_line(out, what, p, &a, remote);
        runargs_free(&a);
    }
    /* each ssh host's check, once */
    for (uint32_t i = 0; rc == 0 && i < sc->instances + sc->partitions; i++) {
        const struct scenario_place *p =
            i < sc->instances ? &sc->instance_at[i] : &sc->partition_at[i - sc->instances];
        bool again = false;
        for (uint32_t j = 0; j < i && !again; j++) {
            const struct scenario_place *q = j < sc->instances
                                                 ? &sc->instance_at[j]
                                                 : &sc->partition_at[j - sc->instances];
            again = q->kind == SCENARIO_SSH && strcmp(q->name, p->name) == 0;
        }
        if (p->kind != SCENARIO_SSH || again)
            continue;
        runargs_init(&a);
        rc = place_ssh_check_argv(p, remote, &a);
        rc = rc ? rc : dynbuf_addf(out, "  check at ssh:%s: ", p->name);
        rc = rc ? rc : runargs_join(&a, out);
        rc = rc ? rc : dynbuf_adds(out, "\n");
        runargs_free(&a);
    }
    return rc;
}
