/* scale_record.c: run.json's "scale" for a scaled run: every instance and partition
 * (its place, URL, exact argv, pid and how it ended), the balancer (and its CPU and
 * memory), the crash when there is one, the namespaces the run made, the merge's argv.
 * run_record.c calls it each time run.json is written (struct run_record's add_scale).
 */
#include <stdio.h>

#include "scale_impl.h"

/* ---- run.json's "scale" ---------------------------------------------------------- */

static void add_member(cJSON *arr, const struct member *m, bool instance)
{
    char place[SCENARIO_PLACE_MAX + 8], how[96];
    cJSON *o = cJSON_CreateObject();
    scenario_place_format(m->at, place, sizeof(place));
    cJSON_AddStringToObject(o, "place", place);
    if (instance) {
        cJSON_AddStringToObject(o, "url", m->url);
        cJSON_AddNumberToObject(o, "connections_at_window", m->users);
    }
    cJSON *argv = cJSON_AddArrayToObject(o, "argv");
    for (size_t i = 0; i < m->argv.n; i++)
        cJSON_AddItemToArray(argv, cJSON_CreateString(m->argv.v[i]));
    if (m->proc.pid > 0) {
        cJSON_AddNumberToObject(o, "pid", (double)m->proc.pid);
        proc_describe(&m->proc, how, sizeof(how));
        cJSON_AddStringToObject(o, "ended", how);
    }
    cJSON_AddItemToArray(arr, o);
}

void scale_record_add(const void *arg, cJSON *obj)
{
    const struct scaled *t = arg;
    char how[96];
    cJSON_AddNumberToObject(obj, "instances", t->sc->instances);
    cJSON_AddNumberToObject(obj, "partitions", t->sc->partitions);
    cJSON *inst = cJSON_AddArrayToObject(obj, "instance");
    for (uint32_t i = 0; i < t->sc->instances; i++)
        add_member(inst, &t->inst[i], true);
    cJSON *part = cJSON_AddArrayToObject(obj, "partition");
    for (uint32_t i = 0; i < t->sc->partitions; i++)
        add_member(part, &t->part[i], false);
    if (t->sc->balancer == SCENARIO_BALANCER_HAPROXY) {
        cJSON *b = cJSON_AddObjectToObject(obj, "balancer");
        cJSON_AddStringToObject(b, "kind", "haproxy");
        cJSON_AddStringToObject(b, "listen", t->lb.listen);
        cJSON *argv = cJSON_AddArrayToObject(b, "argv");
        for (size_t i = 0; i < t->lb_argv.n; i++)
            cJSON_AddItemToArray(argv, cJSON_CreateString(t->lb_argv.v[i]));
        if (t->lb.proc.pid > 0) {
            cJSON_AddNumberToObject(b, "pid", (double)t->lb.proc.pid);
            proc_describe(&t->lb.proc, how, sizeof(how));
            cJSON_AddStringToObject(b, "ended", how);
        }
        if (t->lb.cpu_s >= 0) {
            cJSON_AddNumberToObject(b, "cpu_s", t->lb.cpu_s);
            cJSON_AddNumberToObject(b, "peak_rss_kb", (double)t->lb.peak_rss_kb);
        }
    } else {
        cJSON_AddNullToObject(obj, "balancer");
    }
    if (t->sc->crash_instance) {
        cJSON *c = cJSON_AddObjectToObject(obj, "instance_crash");
        cJSON_AddNumberToObject(c, "instance", t->sc->crash_instance);
        cJSON_AddNumberToObject(c, "at_s", t->sc->crash_at_s);
        if (t->crash_unix_ns)
            cJSON_AddNumberToObject(c, "crash_unix_ns", (double)t->crash_unix_ns);
    }
    cJSON *ns = cJSON_AddArrayToObject(obj, "namespaces");
    for (size_t i = 0; i < t->n_ns; i++)
        cJSON_AddItemToArray(ns, cJSON_CreateString(t->ns_names[i]));
    if (t->merge_argv.n) {
        cJSON *argv = cJSON_AddArrayToObject(obj, "merge_argv");
        for (size_t i = 0; i < t->merge_argv.n; i++)
            cJSON_AddItemToArray(argv, cJSON_CreateString(t->merge_argv.v[i]));
    }
}
