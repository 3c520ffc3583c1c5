/* merge.c: one table from many runs: summary.csv and summary.json of a results
 * directory, rows in plan order, client columns first, then what the server saw.
 *
 * The client's summary.json is the source of its columns (its "results" object, whose
 * key order is its summary.csv's column order), so a column added to the client appears
 * here without a change. The server's columns come from the /stats document the conductor
 * saved at the end of each run: the settings it ran with ("config") and its own account
 * of the transport the run used, counted from the kernel's socket counters. A run that
 * went through the link emulator also has its --stats file, link_stats.json: it joins
 * the run as "link" (settings and counters whole), and a few link_* columns (the delay,
 * what it carried, the faults it injected) follow the server's when any run has one.
 * A run whose server was crashed and started again (a scenario's "restart") has two
 * documents: server_stats.crashed.json, printed by the first server as it died, and the
 * successor's server_stats.json. The run's server figures are their sum (peaks: the
 * larger; what is open now and the newest seq: the successor's), and the first document
 * is kept whole as "server_crashed".
 *
 * The runs and their order come from plan.json; each run's parameters from its run.json,
 * kept whole as "run" (and its restart record, once the crash happened, as "restart").
 * Then the plot columns (lab/plot.h): how each run is drawn, from its approach's row of
 * the table, so the plot scripts never need to know an approach. Last the capacity
 * columns (lab/capacity.h): each run's cost per user and at the target population, from
 * the /stats readings taken before the client started and at the window's start
 * (server_stats.idle.json, server_stats.window.json, kept as "server_idle" and
 * "server_window"), beside the inputs they come from; with them the merge writes
 * capacity.csv and radio.csv, the curves the capacity and radio plots draw.
 */
#include "lab.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "approach.h"
#include "capacity.h"
#include "dynbuf.h"
#include "plot.h"
#include "stats_fold.h"

/* The /stats row of the transport an approach uses. */
static const cJSON *server_row(const cJSON *stats, const char *approach)
{
    const struct lab_approach *a = lab_approach_find(approach);
    if (!a || !a->server_transport)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(stats, "transports"), a->server_transport);
}

/* The server's columns: name, and where in /stats the value is. */
struct server_col {
    const char *name;  /* column name, with its unit */
    const char *where; /* "top", "config" or "row" (the approach's transport) */
    const char *key;   /* key there */
};

static const struct server_col server_cols[] = {
    {"update_process", "config", "process"},
    {"update_rate_hz", "config", "rate_hz"},
    {"burst_size", "config", "burst_size"},
    {"payload_bytes", "config", "payload_bytes"},
    {"server_heartbeat_s", "config", "heartbeat_s"},
    {"server_updates_published", "top", "updates_published"},
    {"server_cpu_s", "top", "cpu_s"},
    {"server_max_rss_kib", "top", "max_rss_kib"},
    {"server_connections_peak", "top", "connections_peak"},
    {"server_connections_total", "top", "connections_total"},
    {"server_unaccounted_bytes", "top", "unaccounted_bytes"},
    {"server_requests", "row", "requests"},
    {"server_req_header_bytes", "row", "req_header_bytes"},
    {"server_resp_header_bytes", "row", "resp_header_bytes"},
    {"server_resp_body_bytes", "row", "resp_body_bytes"},
    {"server_framing_bytes", "row", "framing_bytes"},
};

/* The link's columns, from servers/link_report.c's JSON ("top" or "config"). */
static const struct server_col link_cols[] = {
    {"link_delay_ms", "config", "delay_down_ms"},
    {"link_connections", "top", "accepted"},
    {"link_resets", "top", "resets_injected"},
    {"link_idle_cuts", "top", "idle_cuts"},
    {"link_bytes_in_up", "top", "bytes_in_up"},
    {"link_bytes_up", "top", "bytes_up"},
    {"link_bytes_discarded_up", "top", "bytes_discarded_up"},
    {"link_bytes_in_down", "top", "bytes_in_down"},
    {"link_bytes_down", "top", "bytes_down"},
    {"link_bytes_discarded_down", "top", "bytes_discarded_down"},
};

static const cJSON *server_value(const cJSON *stats, const cJSON *results,
                                 const struct server_col *c)
{
    const cJSON *obj = stats;
    if (strcmp(c->where, "config") == 0)
        obj = cJSON_GetObjectItemCaseSensitive(stats, "config");
    else if (strcmp(c->where, "row") == 0)
        obj = server_row(stats, lab_str(results, "approach"));
    return cJSON_GetObjectItemCaseSensitive(obj, c->key);
}

/* A run's optional file runs/<id>/<file> into run as `key`. 1 when it was there, 0 when
 * not (the run had no link, no crash), -1 on a file that exists but does not parse. */
static int attach_optional(const char *dir, const char *id, const char *file,
                           const char *key, cJSON *run, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/runs/%s/%s", dir, id, file);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    cJSON *doc = lab_read_json(path, err, errlen);
    if (!doc)
        return -1;
    cJSON_AddItemToObject(run, key, doc);
    return 1;
}

/* Across a crash (stats_fold.h): a level of now is the successor's, a peak the larger of
 * the two, every other number a counter of both lives. */
static enum fold_rule crash_rule(const char *key)
{
    static const char *const level[] = {"newest_seq", "parked", "connections_open", "open",
                                        "rss_kib"};
    static const char *const peak[] = {"connections_peak", "max_rss_kib"};
    for (size_t i = 0; i < sizeof(level) / sizeof(level[0]); i++)
        if (strcmp(key, level[i]) == 0)
            return FOLD_KEEP;
    for (size_t i = 0; i < sizeof(peak) / sizeof(peak[0]); i++)
        if (strcmp(key, peak[i]) == 0)
            return FOLD_MAX;
    return FOLD_ADD;
}

/* One CSV cell: numbers as they are, text quoted when it holds a comma or a quote. */
static int csv_cell(struct dynbuf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15)
            return dynbuf_addf(b, "%.0f", d);
        return dynbuf_addf(b, "%.10g", d);
    }
    if (!cJSON_IsString(v))
        return 0;
    const char *s = v->valuestring;
    if (!strpbrk(s, ",\"\n"))
        return dynbuf_adds(b, s);
    int rc = dynbuf_adds(b, "\"");
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '"' ? dynbuf_adds(b, "\"\"") : dynbuf_add(b, p, 1);
    return rc ? rc : dynbuf_adds(b, "\"");
}

/* The run ids of dir/plan.json, in plan order (a reference into plan, which the caller
 * deletes), or NULL with err. */
static const cJSON *plan_ids(const char *dir, cJSON **plan, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/plan.json", dir);
    *plan = lab_read_json(path, err, errlen);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(*plan, "runs");
    const cJSON *id;
    bool strings = cJSON_IsArray(ids) && cJSON_GetArraySize(ids) > 0;
    cJSON_ArrayForEach(id, ids) strings = strings && cJSON_IsString(id);
    if (*plan && !strings)
        snprintf(err, errlen, "%s: no \"runs\" list of run ids", path);
    return *plan && strings ? ids : NULL;
}

/* A run's restart record for the report: run.json's "restart", once the crash and the
 * successor's start happened; NULL otherwise. A copy, for the caller to attach. */
static cJSON *restart_record(const cJSON *run_json)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(run_json, "restart");
    if (!cJSON_IsObject(rs) || !cJSON_GetObjectItemCaseSensitive(rs, "up_unix_ns"))
        return NULL;
    return cJSON_Duplicate(rs, true);
}

/* Whether the header line at the start of csv names a column twice (the plot scripts
 * find columns by name); err says which. */
static bool duplicate_column(const char *csv, char *err, size_t errlen)
{
    size_t len = strcspn(csv, "\n");
    for (size_t i = 0; i < len; i += strcspn(csv + i, ",\n") + 1) {
        size_t n = strcspn(csv + i, ",\n");
        for (size_t j = i + n + 1; j < len; j += strcspn(csv + j, ",\n") + 1)
            if (strcspn(csv + j, ",\n") == n && strncmp(csv + i, csv + j, n) == 0) {
                snprintf(err, errlen, "summary.csv would name the column \"%.*s\" twice",
                         (int)n, csv + i);
                return true;
            }
    }
    return false;
}

int lab_merge(const char *dir, char *err, size_t errlen)
{
    int rc = -1;
    char path[4096];
    struct dynbuf csv;
    dynbuf_init(&csv, (size_t)256 << 20);
    cJSON *plan = NULL;
    const cJSON *ids = plan_ids(dir, &plan, err, errlen);
    cJSON *root = cJSON_CreateObject();
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    if (!ids)
        goto end;
    snprintf(path, sizeof(path), "%s/scenario.json", dir);
    cJSON *scenario = lab_read_json(path, err, errlen);
    if (!scenario)
        goto end;
    cJSON_AddItemToObject(root, "scenario", scenario);
    const cJSON *id;
    const cJSON *first = NULL;
    bool any_link = false;
    cJSON_ArrayForEach(id, ids)
    {
        snprintf(path, sizeof(path), "%s/runs/%s/summary.json", dir, id->valuestring);
        cJSON *client = lab_read_json(path, err, errlen);
        if (!client)
            goto end;
        snprintf(path, sizeof(path), "%s/runs/%s/server_stats.json", dir, id->valuestring);
        cJSON *server = lab_read_json(path, err, errlen);
        if (!server) {
            cJSON_Delete(client);
            goto end;
        }
        snprintf(path, sizeof(path), "%s/runs/%s/run.json", dir, id->valuestring);
        cJSON *record = lab_read_json(path, err, errlen);
        if (!record) {
            cJSON_Delete(client);
            cJSON_Delete(server);
            goto end;
        }
        cJSON *run = cJSON_CreateObject();
        cJSON_AddStringToObject(run, "run_id", id->valuestring);
        cJSON *restart = restart_record(record);
        cJSON_AddItemToObject(run, "run", record);
        if (restart)
            cJSON_AddItemToObject(run, "restart", restart);
        cJSON_AddItemToObject(run, "results",
                              cJSON_DetachItemFromObjectCaseSensitive(client, "results"));
        cJSON_AddItemToObject(run, "meta",
                              cJSON_DetachItemFromObjectCaseSensitive(client, "meta"));
        cJSON_AddItemToObject(run, "server", server);
        cJSON_AddItemToArray(runs, run);
        cJSON_Delete(client);
        /* a crashed and restarted server: its two documents add up */
        int crashed = attach_optional(dir, id->valuestring, "server_stats.crashed.json",
                                      "server_crashed", run, err, errlen);
        if (crashed > 0)
            stats_fold(server, cJSON_GetObjectItemCaseSensitive(run, "server_crashed"),
                       crash_rule);
        int linked = attach_optional(dir, id->valuestring, "link_stats.json", "link", run,
                                     err, errlen);
        /* the server before the client started and at the window's start (capacity.h) */
        int idle = attach_optional(dir, id->valuestring, "server_stats.idle.json",
                                   "server_idle", run, err, errlen);
        int window = attach_optional(dir, id->valuestring, "server_stats.window.json",
                                     "server_window", run, err, errlen);
        if (crashed < 0 || linked < 0 || idle < 0 || window < 0)
            goto end;
        any_link = any_link || linked > 0;
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(run, "results"))) {
            snprintf(err, errlen, "%s/runs/%s/summary.json: no \"results\" object", dir,
                     id->valuestring);
            goto end;
        }
        if (!first)
            first = cJSON_GetObjectItemCaseSensitive(run, "results");
    }
    if (plot_columns_add(runs, dir, err, errlen) != 0 ||
        capacity_add(runs, dir, err, errlen) != 0 ||
        capacity_write_curves(runs, dir, err, errlen) != 0)
        goto end;
    /* Header: run_id, the first run's result keys in order, the server columns, the
     * link's when any run had it, the plot columns. */
    int wrc = dynbuf_adds(&csv, "run_id");
    const cJSON *col;
    cJSON_ArrayForEach(col, first) wrc = wrc ? wrc : dynbuf_addf(&csv, ",%s", col->string);
    for (size_t i = 0; i < sizeof(server_cols) / sizeof(server_cols[0]); i++)
        wrc = wrc ? wrc : dynbuf_addf(&csv, ",%s", server_cols[i].name);
    for (size_t i = 0; any_link && i < sizeof(link_cols) / sizeof(link_cols[0]); i++)
        wrc = wrc ? wrc : dynbuf_addf(&csv, ",%s", link_cols[i].name);
    for (size_t i = 0; i < plot_column_count; i++)
        wrc = wrc ? wrc : dynbuf_addf(&csv, ",%s", plot_column_names[i]);
    for (size_t i = 0; i < capacity_column_count; i++)
        wrc = wrc ? wrc : dynbuf_addf(&csv, ",%s", capacity_column_names[i]);
    wrc = wrc ? wrc : dynbuf_adds(&csv, "\n");
    if (wrc == 0 && duplicate_column(csv.mem, err, errlen))
        goto end;
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
        const cJSON *srv = cJSON_GetObjectItemCaseSensitive(run, "server");
        const cJSON *link = cJSON_GetObjectItemCaseSensitive(run, "link");
        wrc = wrc ? wrc : dynbuf_adds(&csv, lab_str(run, "run_id"));
        cJSON_ArrayForEach(col, first)
        {
            wrc = wrc ? wrc : dynbuf_adds(&csv, ",");
            wrc = wrc ? wrc
                      : csv_cell(&csv, cJSON_GetObjectItemCaseSensitive(res, col->string));
        }
        for (size_t i = 0; i < sizeof(server_cols) / sizeof(server_cols[0]); i++) {
            wrc = wrc ? wrc : dynbuf_adds(&csv, ",");
            wrc = wrc ? wrc : csv_cell(&csv, server_value(srv, res, &server_cols[i]));
        }
        /* a run without the link (none, in practice: the scenario decides) leaves these
         * cells empty */
        for (size_t i = 0; any_link && i < sizeof(link_cols) / sizeof(link_cols[0]); i++) {
            wrc = wrc ? wrc : dynbuf_adds(&csv, ",");
            wrc = wrc ? wrc : csv_cell(&csv, server_value(link, res, &link_cols[i]));
        }
        const cJSON *plot = cJSON_GetObjectItemCaseSensitive(run, "plot");
        for (size_t i = 0; i < plot_column_count; i++) {
            wrc = wrc ? wrc : dynbuf_adds(&csv, ",");
            wrc = wrc ? wrc
                      : csv_cell(&csv, cJSON_GetObjectItemCaseSensitive(
                                           plot, plot_column_names[i]));
        }
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(run, "capacity");
        for (size_t i = 0; i < capacity_column_count; i++) {
            wrc = wrc ? wrc : dynbuf_adds(&csv, ",");
            wrc = wrc ? wrc
                      : csv_cell(&csv, cJSON_GetObjectItemCaseSensitive(
                                           cap, capacity_column_names[i]));
        }
        wrc = wrc ? wrc : dynbuf_adds(&csv, "\n");
    }
    if (wrc != 0) {
        snprintf(err, errlen, "%s: out of memory building summary.csv", dir);
        goto end;
    }
    snprintf(path, sizeof(path), "%s/summary.csv", dir);
    if (lab_write_file(path, csv.mem, csv.len, err, errlen) != 0)
        goto end;
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    rc = lab_write_json(path, root, err, errlen);
end:
    cJSON_Delete(plan);
    cJSON_Delete(root);
    dynbuf_free(&csv);
    return rc;
}
