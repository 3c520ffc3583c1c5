/* capacity.c: each run's cost per user and at the target population, its phone's radio,
 * and the curves the capacity and radio plots draw (see capacity.h for the bases).
 *
 * Every figure is written under the name of its summary.csv column, units in the name;
 * a figure a run cannot give (no /stats reading at the window's start in an old results
 * directory, no request in an SSE window) is left out, and its cell stays empty.
 */
#include "capacity.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "approach.h"
#include "dynbuf.h"
#include "interval.h"
#include "lab.h"
#include "radio.h"
#include "scenario.h"
#include "traffic.h"

const char *const capacity_column_names[] = {
    "time_compression",
    "target_users",
    "egress_usd_per_gb",
    "window_updates",
    "rate_uncertainty_pct",
    "bytes_uncertainty_pct",
    "requests_uncertainty_pct",
    "up_bytes",
    "down_bytes",
    "up_bytes_per_user_s",
    "down_bytes_per_user_s",
    "up_gb_month_target",
    "down_gb_month_target",
    "requests_all",
    "requests_per_user_s",
    "requests_per_s_target",
    "server_connections_idle",
    "server_connections_window",
    "connections_per_user",
    "connections_target",
    "server_cpu_window_s",
    "server_window_s",
    "server_cpu_s_per_user_hour",
    "server_cores_target",
    "server_rss_idle_kib",
    "server_rss_window_kib",
    "server_kib_per_connection",
    "server_memory_gib_target",
    "egress_usd_month_target",
    "scaling",
    "radio_model",
    "radio_basis",
    "radio_period_s",
    "radio_tail_s",
    "radio_wakeups_per_user_h",
    "radio_high_s_per_user_h",
    "radio_j_per_user_h",
    "radio_battery_pct_per_day",
};
const size_t capacity_column_count =
    sizeof(capacity_column_names) / sizeof(capacity_column_names[0]);

/* The periods the radio curve is drawn at, in seconds. */
static const double radio_periods[] = {1,  1.5, 2,   3,   4,   5,   6,  8,  10,
                                       11, 12,  13,  15,  20,  25,  30, 45, 60,
                                       90, 120, 180, 240, 300, 450, 600};
/* The populations the capacity curve is drawn at. */
static const double curve_users[] = {100,    300,    1000,    3000,    10000,   30000,
                                     100000, 300000, 1000000, 3000000, 10000000};

static void put(cJSON *o, const char *key, double v)
{
    if (!isnan(v) && !isinf(v))
        cJSON_AddNumberToObject(o, key, v);
}

/* A number from one of the run's /stats documents, or NAN. */
static double stats_num(const cJSON *run, const char *doc, const char *key)
{
    return lab_num(cJSON_GetObjectItemCaseSensitive(run, doc), key);
}

/* run.json's stats time `key` in seconds, or NAN when not taken. */
static double stats_time_s(const cJSON *rec, const char *key)
{
    double ns = lab_num(cJSON_GetObjectItemCaseSensitive(rec, "stats"), key);
    return ns > 0 ? ns / 1e9 : NAN;
}

/* A count of res that an older summary may lack: 0 then. */
static double count(const cJSON *res, const char *key)
{
    double v = lab_num(res, key);
    return isnan(v) ? 0 : v;
}

/* The window's bytes each way, whatever carried them: HTTP heads, bodies and chunk
 * framing of the users' own requests and of their messages' POSTs, and a WebSocket's
 * handshake and frames (header, mask, payload, ping/pong, close). Where that split is
 * decoded sizes (TLS, HTTP/2: bytes_check "decoded"), the kernel's counts of the window
 * (wire_bytes_sent, wire_bytes_received) instead. Either way their sum is the client's
 * total_bytes. */
static void window_bytes(const cJSON *res, double *up, double *down)
{
    if (strcmp(lab_str(res, "bytes_check"), "decoded") == 0) {
        *up = lab_num(res, "wire_bytes_sent");
        *down = lab_num(res, "wire_bytes_received");
        return;
    }
    static const char *const ups[] = {"req_header_bytes",       "req_body_bytes",
                                      "up_req_header_bytes",    "up_req_body_bytes",
                                      "ws_handshake_req_bytes", "ws_frame_header_bytes_up",
                                      "ws_mask_bytes_up",       "ws_payload_bytes_up",
                                      "ws_ping_pong_bytes_up",  "ws_close_bytes_up"};
    static const char *const downs[] = {
        "resp_header_bytes",          "resp_body_bytes",    "framing_bytes",
        "up_resp_header_bytes",       "up_resp_body_bytes", "ws_handshake_resp_bytes",
        "ws_frame_header_bytes_down", "ws_mask_bytes_down", "ws_payload_bytes_down",
        "ws_ping_pong_bytes_down",    "ws_close_bytes_down"};
    *up = *down = 0;
    for (size_t i = 0; i < sizeof(ups) / sizeof(ups[0]); i++)
        *up += count(res, ups[i]);
    for (size_t i = 0; i < sizeof(downs) / sizeof(downs[0]); i++)
        *down += count(res, downs[i]);
}

/* The radio figures of one run: from its traffic.csv, else estimated. */
static void radio_figures(const cJSON *run, const struct lab_approach *a, const char *dir,
                          cJSON *cap)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(run, "run");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
    struct radio_params p;
    if (scenario_radio_from_json(cJSON_GetObjectItemCaseSensitive(rec, "radio"), &p) != 0)
        radio_defaults(RADIO_LTE, &p);
    double c = lab_num(rec, "time_compression");
    c = c > 0 ? c : 1;
    struct traffic_input in;
    traffic_input_of(run, a->period_key, a->period_unit_s, &in);
    cJSON_AddStringToObject(cap, "radio_model", radio_model_name(p.model));
    put(cap, "radio_tail_s", p.tail_s + p.tail2_s);
    put(cap, "radio_period_s", in.period_s > 0 ? in.period_s : NAN);
    struct radio_result h = {0};
    char path[4096], err[512];
    double users = 0;
    struct radio_result sum;
    snprintf(path, sizeof(path), "%s/runs/%s/traffic.csv", dir, lab_str(run, "run_id"));
    struct stat sb;
    /* rows the client dropped (past its --traffic-log cap) leave timelines incomplete */
    if (count(res, "traffic_rows_dropped") <= 0 && stat(path, &sb) == 0 &&
        radio_read_traffic(path, &p, lab_num(res, "duration_s"), c, &sum, &users, err,
                           sizeof(err)) == 0 &&
        users > 0) {
        /* users the file never names sent nothing: idle all along */
        double clients = fmax(users, lab_num(res, "clients"));
        double idle_users = clients - users, span = sum.duration_s / users;
        sum.duration_s += idle_users * span;
        sum.energy_j += idle_users * span * p.idle_w;
        sum.idle_j += idle_users * span * p.idle_w;
        h = radio_per_hour(sum);
        cJSON_AddStringToObject(cap, "radio_basis", "traffic.csv");
    } else if (a->traffic) {
        h = traffic_estimate(
            a->traffic, &in, &p, CAPACITY_RADIO_HOURS,
            (uint64_t)lab_num(cJSON_GetObjectItemCaseSensitive(rec, "settings"), "seed"));
        cJSON_AddStringToObject(cap, "radio_basis", "estimate");
    } else {
        return;
    }
    double traffic_j = h.energy_j - h.idle_j;
    put(cap, "radio_wakeups_per_user_h", h.promotions);
    put(cap, "radio_high_s_per_user_h", h.high_s);
    put(cap, "radio_j_per_user_h", traffic_j);
    put(cap, "radio_battery_pct_per_day", traffic_j * 24 / (p.battery_wh * 3600) * 100);
}

/* One run's capacity object. */
static cJSON *run_capacity(const cJSON *run, const struct lab_approach *a, const char *dir)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(run, "run");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(rec, "target");
    cJSON *cap = cJSON_CreateObject();
    double c = lab_num(rec, "time_compression");
    c = c > 0 ? c : 1;
    double users = lab_num(target, "users"), price = lab_num(target, "egress_usd_per_gb");
    double n = lab_num(res, "clients"), w = lab_num(res, "duration_s");
    double user_s = n * w * c; /* user-seconds of the full scenario's clock */
    put(cap, "time_compression", c);
    put(cap, "target_users", users);
    put(cap, "egress_usd_per_gb", price);
    /* the window's updates per user, and how far their count may stray */
    double upd = lab_num(res, "updates_expected") / n;
    put(cap, "window_updates", upd);
    const char *proc =
        lab_str(cJSON_GetObjectItemCaseSensitive(rec, "settings"), "update_process");
    bool poisson = strcmp(proc, "poisson") == 0 || strcmp(proc, "trace") == 0;
    double rate_u = upd > 0 ? 100 * (poisson ? INTERVAL_Z / sqrt(upd) : 1 / upd) : NAN;
    put(cap, "rate_uncertainty_pct", rate_u);
    /* only the part of the cost that follows updates strays with their count */
    double bytes_share = 1, requests_share = 1;
    if (a->update_shares)
        a->update_shares(res, &bytes_share, &requests_share);
    put(cap, "bytes_uncertainty_pct", rate_u * bytes_share);
    put(cap, "requests_uncertainty_pct", rate_u * requests_share);
    /* bandwidth and requests: every byte and request of the window, the users' messages
     * (their POSTs, or their frames) included */
    double up, down;
    window_bytes(res, &up, &down);
    put(cap, "up_bytes", up);
    put(cap, "down_bytes", down);
    double up_s = up / user_s, down_s = down / user_s;
    put(cap, "up_bytes_per_user_s", up_s);
    put(cap, "down_bytes_per_user_s", down_s);
    put(cap, "up_gb_month_target", up_s * CAPACITY_MONTH_S * users / CAPACITY_GB);
    double down_gb = down_s * CAPACITY_MONTH_S * users / CAPACITY_GB;
    put(cap, "down_gb_month_target", down_gb);
    double requests = lab_num(res, "requests") + count(res, "up_requests");
    put(cap, "requests_all", requests);
    double req_s = requests / user_s;
    put(cap, "requests_per_user_s", req_s);
    put(cap, "requests_per_s_target", req_s * users);
    put(cap, "egress_usd_month_target", down_gb * price);
    /* connections: the window's less the idle server's (the /stats request's own) and the
     * client's observer */
    double conn_idle = stats_num(run, "server_idle", "connections_open");
    double conn_win = stats_num(run, "server_window", "connections_open");
    put(cap, "server_connections_idle", conn_idle);
    put(cap, "server_connections_window", conn_win);
    double per_user = (conn_win - conn_idle - 1) / n;
    put(cap, "connections_per_user", per_user >= 0 ? per_user : NAN);
    put(cap, "connections_target", per_user >= 0 ? per_user * users : NAN);
    /* CPU over the window and the drain */
    double cpu = lab_num(cJSON_GetObjectItemCaseSensitive(run, "server"), "cpu_s") -
                 stats_num(run, "server_window", "cpu_s");
    double span = stats_time_s(rec, "end_unix_ns") - stats_time_s(rec, "window_unix_ns");
    put(cap, "server_cpu_window_s", cpu);
    put(cap, "server_window_s", span);
    double cpu_uh = cpu / (n * span / 3600) / c;
    put(cap, "server_cpu_s_per_user_hour", cpu_uh);
    put(cap, "server_cores_target", cpu_uh * users / 3600);
    /* memory per connection opened between the idle reading and the window's */
    double rss_idle = stats_num(run, "server_idle", "rss_kib");
    double rss_win = stats_num(run, "server_window", "rss_kib");
    put(cap, "server_rss_idle_kib", rss_idle);
    put(cap, "server_rss_window_kib", rss_win);
    double opened = conn_win - conn_idle;
    double kib = opened > 0 ? (rss_win - rss_idle) / opened : NAN;
    put(cap, "server_kib_per_connection", kib);
    if (per_user >= 0)
        put(cap, "server_memory_gib_target",
            (rss_idle + kib * per_user * users) / (1024.0 * 1024.0));
    radio_figures(run, a, dir, cap);
    return cap;
}

/* The runs that differ from run only in clients: the same approach, choice and other
 * swept values. */
static bool same_but_clients(const cJSON *x, const cJSON *y)
{
    const cJSON *rx = cJSON_GetObjectItemCaseSensitive(x, "run");
    const cJSON *ry = cJSON_GetObjectItemCaseSensitive(y, "run");
    if (strcmp(lab_str(rx, "approach"), lab_str(ry, "approach")) != 0 ||
        lab_num(rx, "approach_index") != lab_num(ry, "approach_index"))
        return false;
    const cJSON *sx = cJSON_GetObjectItemCaseSensitive(rx, "swept");
    const cJSON *sy = cJSON_GetObjectItemCaseSensitive(ry, "swept");
    const cJSON *v;
    if (cJSON_GetArraySize(sx) != cJSON_GetArraySize(sy))
        return false;
    cJSON_ArrayForEach(v, sx)
    {
        if (strcmp(v->string, "clients") == 0)
            continue;
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(sy, v->string);
        if (!u ||
            (cJSON_IsNumber(v) &&
             (!cJSON_IsNumber(u) || u->valuedouble != v->valuedouble)) ||
            (cJSON_IsString(v) &&
             (!cJSON_IsString(u) || strcmp(u->valuestring, v->valuestring) != 0)))
            return false;
    }
    return true;
}

/* Whether a and b (per-user costs at two N) differ by more than the tolerance. */
static bool apart(double a, double b)
{
    if (isnan(a) || isnan(b) || (a <= 0 && b <= 0))
        return false;
    return fabs(a - b) / fmax(fabs(a), fabs(b)) > CAPACITY_SCALE_TOLERANCE;
}

/* "scaling" of every run: "one N" when it is the only N of its kind; else, at the two
 * largest N of its group, "steady" or "changing" (its per-user bandwidth, CPU or memory
 * per connection more than 25% apart). */
static void add_scaling(cJSON *runs)
{
    cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *big = NULL, *next = NULL;
        const cJSON *other;
        cJSON_ArrayForEach(other, runs)
        {
            if (!same_but_clients(run, other))
                continue;
            double n =
                lab_num(cJSON_GetObjectItemCaseSensitive(other, "results"), "clients");
            double nb =
                big ? lab_num(cJSON_GetObjectItemCaseSensitive(big, "results"), "clients")
                    : -1;
            double nn =
                next ? lab_num(cJSON_GetObjectItemCaseSensitive(next, "results"), "clients")
                     : -1;
            if (n > nb) {
                next = big;
                big = other;
            } else if (n < nb && n > nn) {
                next = other;
            }
        }
        const char *verdict = "one N";
        if (big && next) {
            const cJSON *cb = cJSON_GetObjectItemCaseSensitive(big, "capacity");
            const cJSON *cn = cJSON_GetObjectItemCaseSensitive(next, "capacity");
            bool changing = apart(lab_num(cb, "down_bytes_per_user_s"),
                                  lab_num(cn, "down_bytes_per_user_s")) ||
                            apart(lab_num(cb, "server_cpu_s_per_user_hour"),
                                  lab_num(cn, "server_cpu_s_per_user_hour")) ||
                            apart(lab_num(cb, "server_kib_per_connection"),
                                  lab_num(cn, "server_kib_per_connection"));
            verdict = changing ? "changing" : "steady";
        }
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(run, "capacity"),
                                "scaling", verdict);
    }
}

int capacity_add(cJSON *runs, const char *dir, char *err, size_t errlen)
{
    cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *rec = cJSON_GetObjectItemCaseSensitive(run, "run");
        const struct lab_approach *a = lab_approach_find(lab_str(rec, "approach"));
        if (!a) {
            snprintf(err, errlen, "run %s: approach \"%s\" is not one this lab knows",
                     lab_str(run, "run_id"), lab_str(rec, "approach"));
            return -1;
        }
        cJSON_AddItemToObject(run, "capacity", run_capacity(run, a, dir));
    }
    add_scaling(runs);
    return 0;
}

/* ---- the curves ------------------------------------------------------------------- */

static int write_capacity_curve(const cJSON *runs, const char *dir, char *err,
                                size_t errlen)
{
    struct dynbuf b;
    dynbuf_init(&b, (size_t)16 << 20);
    int rc = dynbuf_adds(&b, "run_id,series,color,label,users,down_gb_month,egress_usd_"
                             "month,server_cores,server_memory_gib,at_target\n");
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(run, "capacity");
        const cJSON *plot = cJSON_GetObjectItemCaseSensitive(run, "plot");
        double target = lab_num(cap, "target_users");
        double gb = lab_num(cap, "down_gb_month_target") / target;
        double cores = lab_num(cap, "server_cores_target") / target;
        double conns = lab_num(cap, "connections_per_user");
        double kib = lab_num(cap, "server_kib_per_connection");
        double idle = lab_num(cap, "server_rss_idle_kib");
        double price = lab_num(cap, "egress_usd_per_gb");
        char label[160];
        snprintf(label, sizeof(label), "%s%s%s", lab_str(plot, "axis_label"),
                 lab_str(plot, "axis_detail")[0] ? " " : "", lab_str(plot, "axis_detail"));
        for (char *p = label; *p; p++)
            if (*p == ',' || *p == '"')
                *p = ';';
        size_t n = sizeof(curve_users) / sizeof(curve_users[0]);
        for (size_t i = 0; rc == 0 && i <= n; i++) {
            double u = i < n ? curve_users[i] : target;
            double mem = (idle + kib * conns * u) / (1024.0 * 1024.0);
            rc = dynbuf_addf(&b, "%s,%s,%s,%s,%.0f,%.6g,%.6g,%.6g,%.6g,%d\n",
                             lab_str(run, "run_id"), lab_str(plot, "series"),
                             lab_str(plot, "color"), label, u, gb * u, gb * u * price,
                             cores * u, mem, i == n);
        }
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/capacity.csv", dir);
    if (rc != 0)
        snprintf(err, errlen, "%s: out of memory", path);
    else
        rc = lab_write_file(path, b.mem, b.len, err, errlen);
    dynbuf_free(&b);
    return rc;
}

/* "nan" never reaches a CSV: an unknown figure is an empty cell. */
static int add_cell(struct dynbuf *b, double v)
{
    return isnan(v) || isinf(v) ? dynbuf_adds(b, ",") : dynbuf_addf(b, ",%.6g", v);
}

static int write_radio_curve(const cJSON *runs, const char *dir, char *err, size_t errlen)
{
    struct dynbuf b;
    dynbuf_init(&b, (size_t)4 << 20);
    int rc = dynbuf_adds(&b, "series,series_title,color,period_title,period_s,radio_j_per_"
                             "user_h,radio_wakeups_per_user_h,radio_high_s_per_user_h\n");
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        const cJSON *run, *first = NULL;
        cJSON_ArrayForEach(run, runs)
        {
            const cJSON *rec = cJSON_GetObjectItemCaseSensitive(run, "run");
            if (!first && strcmp(lab_str(rec, "approach"), a->name) == 0)
                first = run;
        }
        if (!first || !a->traffic || !a->period_key)
            continue;
        const cJSON *rec = cJSON_GetObjectItemCaseSensitive(first, "run");
        const cJSON *plot = cJSON_GetObjectItemCaseSensitive(first, "plot");
        struct radio_params p;
        if (scenario_radio_from_json(cJSON_GetObjectItemCaseSensitive(rec, "radio"), &p) !=
            0)
            radio_defaults(RADIO_LTE, &p);
        struct traffic_input in;
        traffic_input_of(first, a->period_key, a->period_unit_s, &in);
        for (size_t i = 0; rc == 0 && i < sizeof(radio_periods) / sizeof(radio_periods[0]);
             i++) {
            in.period_s = radio_periods[i];
            struct radio_result h =
                traffic_estimate(a->traffic, &in, &p, CAPACITY_RADIO_HOURS, 1);
            rc = dynbuf_addf(&b, "%s,%s,%s,%s,%g", lab_str(plot, "series"),
                             lab_str(plot, "approach_title"), lab_str(plot, "color"),
                             a->period_title, radio_periods[i]);
            rc = rc ? rc : add_cell(&b, h.energy_j - h.idle_j);
            rc = rc ? rc : add_cell(&b, h.promotions);
            rc = rc ? rc : add_cell(&b, h.high_s);
            rc = rc ? rc : dynbuf_adds(&b, "\n");
        }
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/radio.csv", dir);
    if (rc != 0)
        snprintf(err, errlen, "%s: out of memory", path);
    else
        rc = lab_write_file(path, b.mem, b.len, err, errlen);
    dynbuf_free(&b);
    return rc;
}

int capacity_write_curves(const cJSON *runs, const char *dir, char *err, size_t errlen)
{
    if (write_capacity_curve(runs, dir, err, errlen) != 0)
        return -1;
    return write_radio_curve(runs, dir, err, errlen);
}
