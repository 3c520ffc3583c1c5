/* run_record.c: run.json (see run_record.h) written with cJSON.
 *
 * cJSON keeps numbers as doubles, which hold a nanosecond timestamp only to about 256 ns;
 * the *_unix_ns fields are therefore written as raw integer text, exactly, and a reader
 * that takes them back as doubles loses nothing it would notice.
 */
#include "run_record.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>

#include "lab.h"

static const char *const process_names[] = {"periodic", "poisson", "burst", "trace"};
static const char *const status_names[] = {"starting", "running", "ok", "failed",
                                           "interrupted"};

static void add_ns(cJSON *obj, const char *key, int64_t ns)
{
    char text[32];
    snprintf(text, sizeof(text), "%" PRId64, ns);
    cJSON_AddRawToObject(obj, key, text);
}

static void add_settings(cJSON *run, const struct scenario_run *r)
{
    cJSON *set = cJSON_AddObjectToObject(run, "settings");
    const char *choice = scenario_run_choice(r);
    if (choice)
        cJSON_AddStringToObject(set, r->approach->choice->key, choice);
    for (size_t k = 0; k < r->approach->n_settings; k++)
        cJSON_AddNumberToObject(set, r->approach->settings[k].name, r->set[k]);
    cJSON_AddNumberToObject(set, "clients", r->clients);
    cJSON_AddNumberToObject(set, "duration_s", r->duration_s);
    cJSON_AddNumberToObject(set, "warmup_s", r->warmup_s);
    cJSON_AddNumberToObject(set, "seed", (double)r->seed);
    cJSON_AddStringToObject(set, "update_process", process_names[r->process]);
    if (r->process != SCENARIO_TRACE)
        cJSON_AddNumberToObject(set, "rate_hz", r->rate_hz);
    if (r->process == SCENARIO_BURST)
        cJSON_AddNumberToObject(set, "burst_size", r->burst_size);
    cJSON_AddNumberToObject(set, "payload_bytes", (double)r->payload_bytes);
    if (r->process == SCENARIO_TRACE)
        cJSON_AddStringToObject(set, "trace", r->trace);
    cJSON_AddStringToObject(set, "headers", r->headers);
    cJSON_AddNumberToObject(set, "cookie_bytes", r->cookie_bytes);
    cJSON_AddStringToObject(set, "protocol", scenario_protocol_names[r->protocol]);
    cJSON_AddNumberToObject(set, "users_per_connection", r->users_per_connection);
    cJSON_AddNumberToObject(set, "send_rate_hz", r->send_rate_hz);
    cJSON_AddNumberToObject(set, "send_bytes", r->send_bytes);
    cJSON_AddStringToObject(set, "send_mode", r->send_mode);
}

/* What the report scales the run to: the target population and the phones' radio. */
static void add_target(cJSON *run, const struct scenario_run *r)
{
    cJSON *t = cJSON_AddObjectToObject(run, "target");
    cJSON_AddNumberToObject(t, "users", r->target_users);
    cJSON_AddNumberToObject(t, "egress_usd_per_gb", r->egress_usd_per_gb);
    scenario_radio_to_json(&r->radio, cJSON_AddObjectToObject(run, "radio"));
}

static void add_swept(cJSON *run, const struct scenario_run *r)
{
    cJSON *sw = cJSON_AddObjectToObject(run, "swept");
    for (size_t i = 0; i < r->n_swept; i++) {
        if (r->swept[i].text)
            cJSON_AddStringToObject(sw, r->swept[i].name, r->swept[i].text);
        else
            cJSON_AddNumberToObject(sw, r->swept[i].name, r->swept[i].value);
    }
}

static void add_network(cJSON *run, const struct scenario_run *r)
{
    const struct scenario_network *n = &r->network;
    if (!n->link) {
        cJSON_AddNullToObject(run, "network");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(run, "network");
    cJSON_AddNumberToObject(o, "delay_ms", n->delay_ms);
    cJSON_AddNumberToObject(o, "jitter_ms", n->jitter_ms);
    cJSON_AddNumberToObject(o, "rate_kbit", (double)n->rate_kbit);
    cJSON_AddNumberToObject(o, "drop_every_s", n->drop_every_s);
    cJSON_AddNumberToObject(o, "idle_timeout_s", n->idle_timeout_s);
    cJSON_AddNumberToObject(o, "buffer_bytes", (double)n->buffer_bytes);
    cJSON_AddBoolToObject(o, "handshake", n->handshake);
}

static void add_restart(cJSON *run, const struct run_record *rec)
{
    const struct scenario_restart *rs = &rec->run->restart;
    if (!rs->on) {
        cJSON_AddNullToObject(run, "restart");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(run, "restart");
    cJSON_AddNumberToObject(o, "at_s", rs->at_s);
    cJSON_AddNumberToObject(o, "down_s", rs->down_s);
    cJSON_AddStringToObject(o, "feed", rs->durable ? "file" : "memory");
    if (rec->crash_unix_ns) {
        add_ns(o, "crash_unix_ns", rec->crash_unix_ns);
        if (rec->up_unix_ns) {
            add_ns(o, "up_unix_ns", rec->up_unix_ns);
            cJSON_AddNumberToObject(o, "down_measured_s",
                                    (double)(rec->up_unix_ns - rec->crash_unix_ns) / 1e9);
        }
    }
}

/* Where the feed lived: the server's memory, or the run's Redis. */
static void add_feed(cJSON *run, const struct run_record *rec)
{
    const struct scenario_feed *f = &rec->run->feed;
    cJSON *o = cJSON_AddObjectToObject(run, "feed");
    cJSON_AddBoolToObject(o, "redis", f->redis);
    if (!f->redis)
        return;
    cJSON_AddBoolToObject(o, "durable", f->durable);
    cJSON_AddStringToObject(o, "address", rec->redis_address ? rec->redis_address : "");
}

static void add_programs(cJSON *run, const struct run_record *rec)
{
    cJSON *all = cJSON_AddObjectToObject(run, "programs");
    for (size_t i = 0; i < rec->n_programs; i++) {
        const struct run_program *p = &rec->programs[i];
        if (!p->proc || p->proc->pid == 0)
            continue;
        cJSON *o = cJSON_AddObjectToObject(all, p->role);
        cJSON *argv = cJSON_AddArrayToObject(o, "argv");
        for (size_t k = 0; k < p->argv->n; k++)
            cJSON_AddItemToArray(argv, cJSON_CreateString(p->argv->v[k]));
        cJSON_AddNumberToObject(o, "pid", p->proc->pid);
        char how[96];
        proc_describe(p->proc, how, sizeof(how));
        cJSON_AddStringToObject(o, "ended", p->proc->running ? "" : how);
    }
}

int run_record_write(const struct run_record *rec, const char *path, char *err,
                     size_t errlen)
{
    const struct scenario_run *r = rec->run;
    cJSON *run = cJSON_CreateObject();
    cJSON_AddStringToObject(run, "run_id", r->id);
    cJSON_AddStringToObject(run, "scenario", scenario_name(rec->scenario));
    cJSON_AddNumberToObject(run, "plan_index", (double)rec->plan_index);
    cJSON_AddNumberToObject(run, "plan_runs", (double)rec->plan_runs);
    cJSON_AddStringToObject(run, "approach", r->approach->name);
    cJSON_AddNumberToObject(run, "approach_index", (double)r->approach_index);
    add_settings(run, r);
    add_swept(run, r);
    add_network(run, r);
    add_restart(run, rec);
    add_feed(run, rec);
    add_target(run, r);
    cJSON_AddBoolToObject(run, "quick", scenario_quick(rec->scenario));
    cJSON_AddNumberToObject(run, "time_compression",
                            scenario_time_compression(rec->scenario));
    cJSON_AddNumberToObject(run, "full_duration_s",
                            scenario_full_duration_s(rec->scenario));
    cJSON *stats = cJSON_AddObjectToObject(run, "stats");
    add_ns(stats, "idle_unix_ns", rec->stats_idle_unix_ns);
    add_ns(stats, "window_unix_ns", rec->stats_window_unix_ns);
    add_ns(stats, "end_unix_ns", rec->stats_end_unix_ns);
    if (rec->loadavg_window >= 0)
        cJSON_AddNumberToObject(stats, "loadavg_window", rec->loadavg_window);
    if (rec->loadavg_end >= 0)
        cJSON_AddNumberToObject(stats, "loadavg_end", rec->loadavg_end);
    add_programs(run, rec);
    if (rec->front_cpu_s >= 0) {
        cJSON *front = cJSON_AddObjectToObject(run, "front");
        cJSON_AddNumberToObject(front, "cpu_s", rec->front_cpu_s);
        cJSON_AddNumberToObject(front, "peak_rss_kb", (double)rec->front_peak_rss_kb);
    } else {
        cJSON_AddNullToObject(run, "front");
    }
    if (rec->add_scale)
        rec->add_scale(rec->scale_arg, cJSON_AddObjectToObject(run, "scale"));
    add_ns(run, "started_unix_ns", rec->started_unix_ns);
    add_ns(run, "ended_unix_ns", rec->ended_unix_ns);
    cJSON *outcome = cJSON_AddObjectToObject(run, "outcome");
    cJSON_AddStringToObject(outcome, "status", status_names[rec->status]);
    cJSON_AddStringToObject(outcome, "message", rec->message);
    int rc = lab_write_json(path, run, err, errlen);
    cJSON_Delete(run);
    return rc;
}

void run_record_fail(struct run_record *rec, const char *id, char *err, size_t errlen,
                     const char *fmt, va_list ap)
{
    vsnprintf(rec->message, sizeof(rec->message), fmt, ap);
    snprintf(err, errlen, "run %s: %s", id, rec->message);
}
