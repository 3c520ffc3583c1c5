/* merge_state.c: summary.json's "merge_inputs" object, written and read (merge_state.h).
 *
 * Counters are objects keyed by their column names (counters.c), so a file stays readable
 * when a counter is added: a name the reader knows but the file lacks is an error (the
 * file is from another version), a name it does not know is ignored. Numbers go through
 * JSON doubles: exact up to 2^53, which no counter of a run comes near.
 */
#include "merge_state.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static cJSON *counters_json(const uint64_t *v)
{
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < CTR__COUNT; k++)
        cJSON_AddNumberToObject(o, counters_name((enum counter)k), (double)v[k]);
    return o;
}

cJSON *merge_state_json(const struct run_results *res)
{
    const struct freshness_summary *fs = &res->fresh;
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    cJSON_AddItemToObject(m, "users_window", counters_json(res->users.win));
    cJSON_AddItemToObject(m, "users_run", counters_json(res->users.run));
    cJSON_AddItemToObject(m, "upstream_window", counters_json(res->upstream.win));
    cJSON_AddItemToObject(m, "upstream_run", counters_json(res->upstream.run));
    cJSON_AddItemToObject(m, "observer_run", counters_json(res->observer.run));
    cJSON_AddNumberToObject(m, "outage_max_run_ns", (double)res->users.outage_max_run_ns);
    cJSON_AddNumberToObject(m, "outage_max_win_ns", (double)res->users.outage_max_win_ns);
    cJSON *f = cJSON_AddObjectToObject(m, "freshness");
    cJSON_AddNumberToObject(f, "published", (double)fs->published);
    cJSON_AddNumberToObject(f, "first_seq", (double)fs->first_seq);
    cJSON_AddNumberToObject(f, "last_seq", (double)fs->last_seq);
    cJSON_AddNumberToObject(f, "unseen", (double)fs->unseen);
    cJSON_AddNumberToObject(f, "expected", (double)fs->expected);
    cJSON_AddNumberToObject(f, "received", (double)fs->received);
    cJSON_AddNumberToObject(f, "missed", (double)fs->missed);
    cJSON_AddNumberToObject(f, "duplicates", (double)fs->duplicates);
    cJSON_AddNumberToObject(f, "staleness_mean_ms", fs->staleness_mean_ms);
    cJSON_AddNumberToObject(f, "staleness_max_ms", fs->staleness_max_ms);
    cJSON_AddNumberToObject(f, "unknown_stamps", (double)fs->unknown_stamps);
    cJSON_AddNumberToObject(f, "feed_restarts", (double)fs->feed_restarts);
    cJSON_AddNumberToObject(f, "inconsistent", (double)fs->inconsistent);
    cJSON_AddNumberToObject(m, "users_stopped", res->users_stopped);
    cJSON_AddNumberToObject(m, "users_never_connected", res->users_never_connected);
    cJSON_AddNumberToObject(m, "users_served", res->users_served);
    cJSON_AddNumberToObject(m, "cpu_window_s", res->cpu_window_s);
    cJSON_AddNumberToObject(m, "cpu_total_s", res->cpu_total_s);
    cJSON_AddNumberToObject(m, "peak_rss_kb", (double)res->peak_rss_kb);
    cJSON_AddNumberToObject(m, "threads", res->threads);
    cJSON_AddNumberToObject(m, "loop_turns", (double)res->loop_turns);
    cJSON_AddNumberToObject(m, "loop_full_turns", (double)res->loop_full_turns);
    cJSON_AddNumberToObject(m, "loop_busy_max", res->loop_busy_max);
    cJSON_AddNumberToObject(m, "start_real_ns", (double)res->start_real_ns);
    cJSON_AddNumberToObject(m, "req_head_bytes", (double)res->req_head_bytes);
    cJSON_AddNumberToObject(m, "send_head_bytes", (double)res->send_head_bytes);
    cJSON_AddStringToObject(m, "headers", res->profile->name);
    cJSON_AddStringToObject(m, "address", res->address);
    cJSON_AddStringToObject(m, "host_line", res->host_line);
    cJSON *ck = cJSON_AddObjectToObject(m, "clock");
    cJSON_AddNumberToObject(ck, "probes", res->clock.probes);
    cJSON_AddNumberToObject(ck, "answered", res->clock.answered);
    cJSON_AddNumberToObject(ck, "offset_ns", (double)res->clock.offset_ns);
    cJSON_AddNumberToObject(ck, "rtt_ns", (double)res->clock.rtt_ns);
    cJSON_AddBoolToObject(ck, "applied", res->clock.applied);
    cJSON_AddStringToObject(ck, "source_url", res->clock.source_url);
    return m;
}

/* ---- reading ------------------------------------------------------------------------ */

struct reader {
    const cJSON *obj;
    char *err;
    size_t errlen;
    int failed; /* the first failure's message is kept */
};

static double num(struct reader *r, const cJSON *o, const char *path, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        if (!r->failed)
            snprintf(r->err, r->errlen, "merge_inputs%s.%s: expected a number", path, name);
        r->failed = 1;
        return 0;
    }
    return v->valuedouble;
}

static uint64_t count(struct reader *r, const cJSON *o, const char *path, const char *name)
{
    double d = num(r, o, path, name);
    if (d < 0 || d > 9007199254740992.0 || d != floor(d)) {
        if (!r->failed)
            snprintf(r->err, r->errlen, "merge_inputs%s.%s: expected a whole number >= 0",
                     path, name);
        r->failed = 1;
        return 0;
    }
    return (uint64_t)d;
}

static void str(struct reader *r, const char *name, char *out, size_t outlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->obj, name);
    if (!cJSON_IsString(v)) {
        if (!r->failed)
            snprintf(r->err, r->errlen, "merge_inputs.%s: expected a string", name);
        r->failed = 1;
        return;
    }
    snprintf(out, outlen, "%s", v->valuestring);
}

static void counters_read(struct reader *r, const char *name, uint64_t *v)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(r->obj, name);
    char path[64];
    snprintf(path, sizeof(path), ".%s", name);
    if (!cJSON_IsObject(o)) {
        if (!r->failed)
            snprintf(r->err, r->errlen, "merge_inputs.%s: expected an object", name);
        r->failed = 1;
        return;
    }
    for (int k = 0; k < CTR__COUNT; k++)
        v[k] = count(r, o, path, counters_name((enum counter)k));
}

int merge_state_read(const cJSON *obj, struct merge_state *out, char *err, size_t errlen)
{
    struct reader r = {obj, err, errlen, 0};
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "merge_inputs: expected an object (a client run's summary)");
        return -1;
    }
    counters_read(&r, "users_window", out->users.win);
    counters_read(&r, "users_run", out->users.run);
    counters_read(&r, "upstream_window", out->upstream.win);
    counters_read(&r, "upstream_run", out->upstream.run);
    counters_read(&r, "observer_run", out->observer.run);
    out->users.outage_max_run_ns = count(&r, obj, "", "outage_max_run_ns");
    out->users.outage_max_win_ns = count(&r, obj, "", "outage_max_win_ns");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, "freshness");
    if (!cJSON_IsObject(f) && !r.failed) {
        snprintf(err, errlen, "merge_inputs.freshness: expected an object");
        r.failed = 1;
    }
    struct freshness_summary *fs = &out->fresh;
    if (!r.failed) {
        fs->published = count(&r, f, ".freshness", "published");
        fs->first_seq = count(&r, f, ".freshness", "first_seq");
        fs->last_seq = count(&r, f, ".freshness", "last_seq");
        fs->unseen = count(&r, f, ".freshness", "unseen");
        fs->expected = count(&r, f, ".freshness", "expected");
        fs->received = count(&r, f, ".freshness", "received");
        fs->missed = count(&r, f, ".freshness", "missed");
        fs->duplicates = count(&r, f, ".freshness", "duplicates");
        fs->staleness_mean_ms = num(&r, f, ".freshness", "staleness_mean_ms");
        fs->staleness_max_ms = num(&r, f, ".freshness", "staleness_max_ms");
        fs->unknown_stamps = count(&r, f, ".freshness", "unknown_stamps");
        fs->feed_restarts = count(&r, f, ".freshness", "feed_restarts");
        fs->inconsistent = count(&r, f, ".freshness", "inconsistent");
    }
    out->users_stopped = (uint32_t)count(&r, obj, "", "users_stopped");
    out->users_never_connected = (uint32_t)count(&r, obj, "", "users_never_connected");
    out->users_served = (uint32_t)count(&r, obj, "", "users_served");
    out->cpu_window_s = num(&r, obj, "", "cpu_window_s");
    out->cpu_total_s = num(&r, obj, "", "cpu_total_s");
    out->peak_rss_kb = (long)count(&r, obj, "", "peak_rss_kb");
    out->threads = (uint32_t)count(&r, obj, "", "threads");
    out->loop_turns = count(&r, obj, "", "loop_turns");
    out->loop_full_turns = count(&r, obj, "", "loop_full_turns");
    out->loop_busy_max = num(&r, obj, "", "loop_busy_max");
    out->start_real_ns = (int64_t)num(&r, obj, "", "start_real_ns");
    out->req_head_bytes = (size_t)count(&r, obj, "", "req_head_bytes");
    out->send_head_bytes = (size_t)count(&r, obj, "", "send_head_bytes");
    str(&r, "headers", out->headers, sizeof(out->headers));
    str(&r, "address", out->address, sizeof(out->address));
    str(&r, "host_line", out->host_line, sizeof(out->host_line));
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(obj, "clock");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(ck, "source_url");
    if (!r.failed && (!cJSON_IsObject(ck) || !cJSON_IsString(url))) {
        snprintf(err, errlen, "merge_inputs.clock: expected an object with source_url");
        r.failed = 1;
    }
    if (!r.failed) {
        out->clock.probes = (uint32_t)count(&r, ck, ".clock", "probes");
        out->clock.answered = (uint32_t)count(&r, ck, ".clock", "answered");
        out->clock.offset_ns = (int64_t)num(&r, ck, ".clock", "offset_ns");
        out->clock.rtt_ns = (int64_t)count(&r, ck, ".clock", "rtt_ns");
        out->clock.applied = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "applied"));
        snprintf(out->clock.source_url, sizeof(out->clock.source_url), "%s",
                 url->valuestring);
    }
    return r.failed ? -1 : 0;
}
