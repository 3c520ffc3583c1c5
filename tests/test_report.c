/* test_report.c: the report generator fed results it did not measure: runs that differ
 * in approach (WebSocket among them), poll mode, network, sample size, clock and the
 * messages their users wrote, built here as summary.json
 * documents, so every finding sentence can be checked against what its run did; the
 * capacity figures the merge computes (lab/capacity.c) against arithmetic done by hand;
 * and the report and the closing table for exponent notation, which they must never
 * print.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dynbuf.h"
#include "lab/capacity.h"
#include "lab/lab.h"
#include "lab/radio.h"

#define near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static char dir[] = "/tmp/pushpull-report-XXXXXX";

/* What differs between the runs the tests build. */
struct spec {
    const char *id, *approach, *poll; /* poll: "state", "events" or NULL */
    double interval_ms, timeout_s, heartbeat_s;
    double clients, duration_s, warmup_s, rate_hz, updates; /* updates: per user */
    double missed, empty, lat_mean, delay_ms, compression;
    const char *process;
    double msgs;       /* messages the users sent in the window (200 bytes each); 0: none */
    double msg_header; /* what framed each: a POST's heads both ways, or a frame's */
};

static cJSON *num_obj(cJSON *o, const char *k, double v)
{
    cJSON_AddNumberToObject(o, k, v);
    return o;
}

/* One run of summary.json as the merge leaves it (run.json, results, meta, the server's
 * three readings, the link's document when there is a delay). */
static cJSON *make_run(const struct spec *s)
{
    cJSON *run = cJSON_CreateObject();
    cJSON_AddStringToObject(run, "run_id", s->id);
    double c = s->compression > 0 ? s->compression : 1;
    const char *proc = s->process ? s->process : "poisson";
    /* run.json */
    cJSON *rec = cJSON_AddObjectToObject(run, "run");
    cJSON_AddStringToObject(rec, "approach", s->approach);
    cJSON_AddNumberToObject(rec, "approach_index", 0);
    cJSON *set = cJSON_AddObjectToObject(rec, "settings");
    if (s->poll)
        cJSON_AddStringToObject(set, "poll", s->poll);
    if (s->interval_ms > 0)
        num_obj(set, "interval_ms", s->interval_ms);
    if (s->timeout_s > 0)
        num_obj(set, "timeout_s", s->timeout_s);
    bool ws = strcmp(s->approach, "ws") == 0;
    if (strcmp(s->approach, "sse") == 0) {
        num_obj(set, "heartbeat_s", s->heartbeat_s);
        num_obj(set, "retry_ms", 3000);
    }
    if (ws) {
        num_obj(set, "heartbeat_s", s->heartbeat_s);
        num_obj(set, "backoff_ms", 1000);
    }
    num_obj(set, "clients", s->clients);
    num_obj(set, "duration_s", s->duration_s);
    num_obj(set, "warmup_s", s->warmup_s);
    num_obj(set, "seed", 1);
    cJSON_AddStringToObject(set, "update_process", proc);
    num_obj(set, "rate_hz", s->rate_hz);
    num_obj(set, "payload_bytes", 64);
    cJSON_AddStringToObject(set, "headers", "browser");
    num_obj(set, "cookie_bytes", 600);
    num_obj(set, "send_rate_hz", s->msgs > 0 ? s->msgs / s->clients / s->duration_s : 0);
    num_obj(set, "send_bytes", 200);
    cJSON_AddStringToObject(set, "send_mode", "poisson");
    cJSON_AddObjectToObject(rec, "swept");
    cJSON_AddBoolToObject(rec, "quick", c > 1);
    num_obj(rec, "time_compression", c);
    num_obj(rec, "full_duration_s", s->duration_s * c);
    cJSON *target = cJSON_AddObjectToObject(rec, "target");
    num_obj(target, "users", 50000);
    num_obj(target, "egress_usd_per_gb", 0.09);
    cJSON *radio = cJSON_AddObjectToObject(rec, "radio");
    cJSON_AddStringToObject(radio, "model", "lte");
    cJSON *stats = cJSON_AddObjectToObject(rec, "stats");
    num_obj(stats, "window_unix_ns", 1e18);
    num_obj(stats, "end_unix_ns", 1e18 + 61e9);
    cJSON_AddNullToObject(rec, "restart");
    /* the client's results: 100 users x 60 s, 6000 requests, 3 MB down, 1.2 MB up */
    cJSON *res = cJSON_AddObjectToObject(run, "results");
    cJSON_AddStringToObject(res, "approach", s->approach);
    num_obj(res, "clients", s->clients);
    num_obj(res, "duration_s", s->duration_s);
    num_obj(res, "drain_s", 2);
    double published = s->updates * s->clients;
    num_obj(res, "updates_expected", published);
    num_obj(res, "updates_received", published * (1 - s->missed));
    num_obj(res, "missed", published * s->missed);
    num_obj(res, "missed_share", s->missed);
    num_obj(res, "empty_share", s->empty);
    bool push = strcmp(s->approach, "sse") == 0 || ws;
    double requests = push ? 0 : 6000;
    num_obj(res, "requests", requests);
    num_obj(res, "responses_news", requests * (1 - s->empty));
    num_obj(res, "responses_empty", requests * s->empty);
    num_obj(res, "responses_304", 0);
    num_obj(res, "req_header_bytes", push ? 0 : 1200000);
    num_obj(res, "req_body_bytes", 0);
    num_obj(res, "resp_header_bytes", push ? 0 : 1000000);
    num_obj(res, "resp_body_bytes", ws ? 0 : 2000000);
    num_obj(res, "framing_bytes", 0);
    num_obj(res, "sse_events", push && !ws ? published : 0);
    num_obj(res, "sse_comments", 0);
    num_obj(res, "sse_framing_bytes", push && !ws ? 15 * published : 0);
    /* a WebSocket's: 100 handshakes (156 B up, 166 B down) before the window, so none in
     * it; every update a 114-byte JSON in a 2-byte header; 400 pings and pongs */
    num_obj(res, "ws_handshake_req_bytes", 0);
    num_obj(res, "ws_handshake_resp_bytes", 0);
    num_obj(res, "ws_data_frames_down", ws ? published : 0);
    num_obj(res, "ws_frame_header_bytes_down", ws ? 2 * published : 0);
    num_obj(res, "ws_payload_bytes_down", ws ? 114 * published : 0);
    num_obj(res, "ws_pings_down", ws ? 400 : 0);
    num_obj(res, "ws_ping_pong_bytes_down", ws ? 2 * 400 : 0);
    num_obj(res, "ws_ping_pong_bytes_up", ws ? 6 * 400 : 0);
    num_obj(res, "connections_opened_run", s->clients);
    /* the users' messages: a POST's heads and its 201's 10-byte body, or a frame */
    num_obj(res, "msgs_sent", s->msgs);
    num_obj(res, "msgs_echoed", s->msgs);
    num_obj(res, "msg_header_bytes", s->msgs * s->msg_header);
    num_obj(res, "msg_payload_bytes", s->msgs * 200);
    num_obj(res, "msg_reply_bytes", ws ? 0 : s->msgs * 10);
    num_obj(res, "msg_wire_bytes", s->msgs * (s->msg_header + 200 + (ws ? 0 : 10)));
    num_obj(res, "msg_rtt_mean_ms", ws ? 1.5 : 4);
    num_obj(res, "msg_rtt_p99_ms", ws ? 6 : 20);
    num_obj(res, "up_requests", ws ? 0 : s->msgs);
    num_obj(res, "up_req_header_bytes", ws ? 0 : s->msgs * (s->msg_header - 150));
    num_obj(res, "up_req_body_bytes", ws ? 0 : s->msgs * 200);
    num_obj(res, "up_resp_header_bytes", ws ? 0 : s->msgs * 150);
    num_obj(res, "up_resp_body_bytes", ws ? 0 : s->msgs * 10);
    num_obj(res, "ws_frame_header_bytes_up", ws ? s->msgs * 4 : 0);
    num_obj(res, "ws_mask_bytes_up", ws ? s->msgs * 4 : 0);
    num_obj(res, "ws_payload_bytes_up", ws ? s->msgs * 200 : 0);
    double total = ws ? 116 * published + 3200 : push ? 2000000 : 4200000;
    total += s->msgs * (s->msg_header + 200 + (ws ? 0 : 10));
    num_obj(res, "bytes_per_client_min", total / s->clients / (s->duration_s / 60));
    num_obj(res, "requests_per_client_min", requests / s->clients / (s->duration_s / 60));
    num_obj(res, "latency_count", published * (1 - s->missed));
    num_obj(res, "latency_mean_ms", s->lat_mean);
    num_obj(res, "latency_p99_ms", s->lat_mean * 2);
    num_obj(res, "latency_max_ms", s->lat_mean * 2.2);
    num_obj(res, "staleness_mean_ms", s->lat_mean / 2);
    num_obj(res, "client_cpu_pct", 20);
    cJSON_AddStringToObject(res, "headers", "browser");
    cJSON_AddStringToObject(res, "bytes_check", "ok");
    cJSON *meta = cJSON_AddObjectToObject(run, "meta");
    num_obj(meta, "cpus", 2);
    cJSON_AddStringToObject(meta, "commit", "0123abc");
    /* the server's readings: 9 CPU seconds in the window, 20,000 KiB for 101
     * connections (the users' and the observer's) */
    cJSON *srv = cJSON_AddObjectToObject(run, "server");
    cJSON *cfg = cJSON_AddObjectToObject(srv, "config");
    cJSON_AddStringToObject(cfg, "process", proc);
    num_obj(cfg, "rate_hz", s->rate_hz);
    num_obj(cfg, "payload_bytes", 64);
    num_obj(srv, "newest_seq", 1000);
    num_obj(srv, "unaccounted_bytes", 0);
    num_obj(srv, "cpu_s", 12);
    cJSON *idle = cJSON_AddObjectToObject(run, "server_idle");
    num_obj(idle, "connections_open", 1);
    num_obj(idle, "rss_kib", 5000);
    num_obj(idle, "cpu_s", 0.01);
    cJSON *win = cJSON_AddObjectToObject(run, "server_window");
    num_obj(win, "connections_open", s->clients + 2);
    num_obj(win, "rss_kib", 5000 + 200 * (s->clients + 1));
    num_obj(win, "cpu_s", 3);
    if (s->delay_ms > 0) {
        cJSON *link = cJSON_AddObjectToObject(run, "link");
        cJSON *lc = cJSON_AddObjectToObject(link, "config");
        num_obj(lc, "delay_up_ms", s->delay_ms);
        num_obj(lc, "delay_down_ms", s->delay_ms);
    }
    cJSON *plot = cJSON_AddObjectToObject(run, "plot");
    cJSON_AddStringToObject(plot, "series", s->approach);
    return run;
}

/* Write dir/summary.json from specs (capacity computed as the merge does), then the
 * report; its text, whole (the caller frees it). */
static char *report_of(const struct spec *specs, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *sc = cJSON_AddObjectToObject(doc, "scenario");
    cJSON_AddStringToObject(sc, "name", "synthetic");
    cJSON_AddStringToObject(sc, "description", "Runs built by the test.");
    cJSON *runs = cJSON_AddArrayToObject(doc, "runs");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(runs, make_run(&specs[i]));
    char err[512], path[256];
    assert_int_equal(capacity_add(runs, dir, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    assert_int_equal(lab_write_json(path, doc, err, sizeof(err)), 0);
    cJSON_Delete(doc);
    if (lab_report(dir, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    snprintf(path, sizeof(path), "%s/report.md", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    struct dynbuf b;
    dynbuf_init(&b, 1 << 22);
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
        assert_int_equal(dynbuf_add(&b, buf, got), 0);
    fclose(f);
    assert_int_equal(dynbuf_add(&b, "", 1), 0);
    return b.mem;
}

/* No number anywhere in text in exponent notation ("1.97e+03", "4e-05"). */
static void assert_no_exponents(const char *text)
{
    regex_t re;
    assert_int_equal(regcomp(&re, "[0-9]e[-+][0-9]", REG_EXTENDED | REG_NOSUB), 0);
    int found = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (found == 0)
        fail_msg("a number in exponent notation");
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("the report lacks \"%s\"", want);
}

static void lacks(const char *text, const char *unwanted)
{
    const char *at = strstr(text, unwanted);
    if (at)
        fail_msg("the report has \"%s\": ...%.120s", unwanted,
                 at > text + 60 ? at - 60 : text);
}

/* The closing table of dir (lab_table) into text[cap]. */
static void closing_table(char *text, size_t cap)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/table.txt", dir);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    assert_int_equal(lab_table(dir, f, err, sizeof(err)), 0);
    rewind(f);
    size_t got = fread(text, 1, cap - 1, f);
    text[got] = '\0';
    fclose(f);
    unlink(path);
}

static const struct spec state_1s = {.id = "short-state",
                                     .approach = "short",
                                     .poll = "state",
                                     .interval_ms = 1000,
                                     .clients = 100,
                                     .duration_s = 60,
                                     .warmup_s = 2,
                                     .rate_hz = 5,
                                     .updates = 300,
                                     .missed = 0.8,
                                     .empty = 0.01,
                                     .lat_mean = 150};
static const struct spec cursor_5s = {.id = "short-events",
                                      .approach = "short",
                                      .poll = "events",
                                      .interval_ms = 5000,
                                      .clients = 100,
                                      .duration_s = 60,
                                      .warmup_s = 0.5,
                                      .rate_hz = 1,
                                      .updates = 60,
                                      .missed = 0.032,
                                      .empty = 0.01,
                                      .lat_mean = 2500};
static const struct spec long_30 = {.id = "long",
                                    .approach = "long",
                                    .timeout_s = 30,
                                    .clients = 100,
                                    .duration_s = 60,
                                    .warmup_s = 2,
                                    .rate_hz = 5,
                                    .updates = 300,
                                    .lat_mean = 1.2};
static const struct spec sse_15 = {.id = "sse",
                                   .approach = "sse",
                                   .heartbeat_s = 15,
                                   .clients = 100,
                                   .duration_s = 60,
                                   .warmup_s = 2,
                                   .rate_hz = 5,
                                   .updates = 300,
                                   .lat_mean = 0.8};

static const struct spec ws_15 = {.id = "ws",
                                  .approach = "ws",
                                  .heartbeat_s = 15,
                                  .clients = 100,
                                  .duration_s = 60,
                                  .warmup_s = 2,
                                  .rate_hz = 5,
                                  .updates = 300,
                                  .lat_mean = 0.6};

static void state_mode_gets_the_state_sentence(void **state)
{
    (void)state;
    struct spec runs[] = {state_1s, long_30, sse_15};
    char *r = report_of(runs, 3);
    has(r, "- Polling the latest state every 1000 ms never saw 80% of the updates");
    has(r, "a cursor (`since`) would have fetched them, late.");
    lacks(r, "Polling with a cursor");
    has(r, "- SSE delivered 30,000 of 30,000 updates on loopback");
    has(r, "at a mean latency of 1.2 ms on loopback.");
    lacks(r, "waits up to three transits");
    assert_no_exponents(r);
    free(r);
}

static void cursor_mode_gets_its_own_sentence_and_cause(void **state)
{
    (void)state;
    /* warmed up 0.5 s against a 5 s interval: the audit's case */
    struct spec runs[] = {cursor_5s, long_30};
    char *r = report_of(runs, 2);
    lacks(r, "never saw");
    lacks(r, "would have fetched them");
    has(r, "- Polling with a cursor every 5000 ms missed 3.2% of the updates published in "
           "the window, though a cursor fetches every one: its warm-up (0.5 s) was shorter "
           "than one interval (5 s)");
    has(r, "- Warning: short-events warmed up 0.5 s, shorter than its poll interval (5 s)");
    /* the missed share disagrees with its model (0%), and the cause is named */
    has(r, "- short-events: missed share measured 3.2%, model 0%");
    has(r, "the warm-up (0.5 s) was shorter than one poll interval (5 s)");
    free(r);
    /* warmed up long enough: the end of the window is the cause */
    struct spec late = cursor_5s;
    late.warmup_s = 5;
    struct spec runs2[] = {late};
    r = report_of(runs2, 1);
    has(r, "still on their way when the client stopped (its drain was 2 s)");
    lacks(r, "Warning:");
    free(r);
}

static void few_updates_make_no_finding(void **state)
{
    (void)state;
    struct spec few_state = state_1s, few_long = long_30, few_sse = sse_15;
    few_state.updates = few_long.updates = few_sse.updates = 3;
    few_state.compression = few_long.compression = few_sse.compression = 15;
    struct spec runs[] = {few_state, few_long, few_sse};
    char *r = report_of(runs, 3);
    has(r, "- Updates polling the latest state every 1000 ms never saw: too few samples (3 "
           "updates in the window; a finding needs 30), the quick version: run the full "
           "scenario.");
    has(r, "- Long polling's requests per update: too few samples (3 updates");
    has(r, "- SSE against short polling every 1000 ms: too few samples (3 updates");
    lacks(r, "- Polling the latest state every 1000 ms never saw 80%");
    lacks(r, "delivered");
    /* the quick version is marked, with its clock */
    has(r, "> **The quick version** (--quick): 60 s windows where the full scenario has "
           "900 s, its clock running 15 times faster");
    has(r, "| 3 (too few) |");
    has(r, "Too few samples to judge (fewer than 30 updates in the window):");
    assert_no_exponents(r);
    free(r);
}

static void a_network_delay_is_named_in_the_sentences(void **state)
{
    (void)state;
    struct spec l = long_30, s = sse_15, p = state_1s;
    l.delay_ms = s.delay_ms = p.delay_ms = 100;
    l.lat_mean = 150;
    s.lat_mean = 101;
    struct spec runs[] = {p, l, s};
    char *r = report_of(runs, 3);
    has(r, "at a mean latency of 150 ms across a 100 ms one-way delay; an update published "
           "in its blind window waits up to three transits, 300 ms here.");
    has(r, "updates across a 100 ms one-way delay (p99");
    lacks(r, "ms on loopback");
    lacks(r, "updates on loopback");
    free(r);
}

static void near_zero_models_print_no_deviation(void **state)
{
    (void)state;
    struct spec runs[] = {long_30, sse_15};
    char *r = report_of(runs, 2);
    has(r, "| 0.8 (≈0 on loopback) |"); /* no latency.csv, so no interval */
    lacks(r, "-100%");
    lacks(r, "+inf");
    free(r);
}

static void the_empty_share_is_judged_too(void **state)
{
    (void)state;
    /* periodic, T < P: empty share model 1 - T/P = 0.5; measured 0.93 with 300 updates */
    struct spec s = state_1s;
    s.process = "periodic";
    s.rate_hz = 0.5;
    s.updates = 30;
    s.missed = 0;
    s.empty = 0.93;
    struct spec runs[] = {s};
    char *r = report_of(runs, 1);
    has(r, "## Where measurement and model disagree");
    has(r, "- short-state: empty share measured 93%, model 50%");
    free(r);
}

static void capacity_is_the_arithmetic_of_its_columns(void **state)
{
    (void)state;
    cJSON *runs = cJSON_CreateArray();
    struct spec s = state_1s;
    s.interval_ms = 60000; /* for the radio: one wake-up a minute */
    cJSON_AddItemToArray(runs, make_run(&s));
    s.id = "quick";
    s.compression = 30;
    cJSON_AddItemToArray(runs, make_run(&s));
    char err[256];
    assert_int_equal(capacity_add(runs, dir, err, sizeof(err)), 0);
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 0), "capacity");
    /* down: 3,000,000 B over 100 users x 60 s = 500 B/s per user; x 2,592,000 s x 50,000
     * users / 10^9 = 64,800 GB a month; x 0.09 USD = 5,832 USD */
    near(lab_num(c, "down_bytes_per_user_s"), 500, 1e-9);
    near(lab_num(c, "down_gb_month_target"), 64800, 1e-6);
    near(lab_num(c, "egress_usd_month_target"), 5832, 1e-6);
    near(lab_num(c, "up_gb_month_target"), 25920, 1e-6); /* 1,200,000 B up */
    /* 6,000 requests: 1 per user-second, 50,000 a second at the target */
    near(lab_num(c, "requests_per_s_target"), 50000, 1e-6);
    /* (102 - 1 - 1) / 100 = 1 connection per user */
    near(lab_num(c, "connections_per_user"), 1, 1e-12);
    near(lab_num(c, "connections_target"), 50000, 1e-6);
    /* CPU: 12 - 3 = 9 s over 61 s of 100 users: 9 / (100 x 61 / 3600) = 5.3115 s per
     * user-hour; x 50,000 / 3,600 = 73.77 cores */
    near(lab_num(c, "server_cpu_s_per_user_hour"), 9 / (100 * 61 / 3600.0), 1e-9);
    near(lab_num(c, "server_cores_target"), 9 / (100 * 61 / 3600.0) * 50000 / 3600, 1e-9);
    /* memory: 200 KiB per connection opened (20,200 KiB over 101); 5,000 KiB + 200 x
     * 50,000 = 10,005,000 KiB = 9.5415 GiB */
    near(lab_num(c, "server_kib_per_connection"), 200, 1e-9);
    near(lab_num(c, "server_memory_gib_target"), (5000 + 200 * 50000) / 1048576.0, 1e-9);
    /* Poisson, 300 updates: 1.96 / sqrt(300) = 11.3% */
    near(lab_num(c, "rate_uncertainty_pct"), 100 * 1.959964 / sqrt(300), 1e-3);
    assert_string_equal(lab_str(c, "scaling"), "one N");
    /* the radio: a poll a minute wakes LTE 60 times an hour, 11.836 s each */
    near(lab_num(c, "radio_wakeups_per_user_h"), 60, 0.2);
    near(lab_num(c, "radio_high_s_per_user_h"), 60 * (0.2601 + 11.576), 5);
    assert_string_equal(lab_str(c, "radio_basis"), "estimate");
    /* the quick run: its clock 30 times faster, every rate a 30th, its interval (2 s on
     * its clock) 60 s: the same radio */
    const cJSON *q = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 1), "capacity");
    near(lab_num(q, "down_gb_month_target"), 64800 / 30.0, 1e-6);
    near(lab_num(q, "server_cores_target"), 9 / (100 * 61 / 3600.0) * 50000 / 3600 / 30,
         1e-9);
    near(lab_num(q, "radio_period_s"), 1800, 1e-9); /* 60 s x 30 */
    cJSON_Delete(runs);
}

/* A run whose client wrote traffic.csv (clients/traffic_log.h) has its radio computed from
 * it, users it never names idle; the report and the decision record say so. One with rows
 * dropped (past --traffic-log's cap) is estimated instead. */
static void a_recorded_timeline_is_the_radio_basis(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "mkdir -p %s/runs/recorded", dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof(path), "%s/runs/recorded/traffic.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* 50 of the 100 users: a burst in the warm-up (its tail over before the window), then
     * two in the window 30 s apart, 500 B up and 1,300 B down each; rows in no order */
    fprintf(f, "user,t_ms,bytes_up,bytes_down\n");
    for (int u = 49; u >= 0; u--)
        fprintf(f, "%d,40000.000,500,1300\n%d,-30000.5,500,1300\n%d,10000,500,1300\n", u, u,
                u);
    fclose(f);
    struct spec s = state_1s; /* its estimate: polled every second, the radio never idle */
    s.id = "recorded";
    struct spec specs[] = {s, long_30};
    char *r = report_of(specs, 2);
    has(r, "the phone's radio is computed from each user's recorded traffic (traffic.csv)");
    has(r, "| traffic.csv |");
    free(r);

    cJSON *runs = cJSON_CreateArray();
    cJSON_AddItemToArray(runs, make_run(&s));
    cJSON *dropped = make_run(&s);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(dropped, "results"), "traffic_rows_dropped",
                            1);
    cJSON_AddItemToArray(runs, dropped);
    char err[256];
    assert_int_equal(capacity_add(runs, dir, err, sizeof(err)), 0);
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 0), "capacity");
    assert_string_equal(lab_str(c, "radio_basis"), "traffic.csv");
    /* per user-hour over 100 users x 60 s: 100 wake-ups in 6,000 s = 60 an hour, each a
     * promotion, its transfer (500 B at 6 Mbit/s, 1,300 B at 13) and a whole tail */
    struct radio_params p;
    radio_defaults(RADIO_LTE, &p);
    double up_s = 500 * 8 / 6e6, down_s = 1300 * 8 / 13e6;
    double high = p.promotion_s + up_s + down_s + p.tail_s;
    double joules = p.promotion_s * p.promotion_w +
                    up_s * (p.beta_w + p.alpha_up_w * p.up_mbps) +
                    down_s * (p.beta_w + p.alpha_down_w * p.down_mbps) +
                    p.tail_s * p.tail_w - high * p.idle_w;
    near(lab_num(c, "radio_wakeups_per_user_h"), 60, 1e-9);
    near(lab_num(c, "radio_high_s_per_user_h"), 60 * high, 1e-6);
    near(lab_num(c, "radio_j_per_user_h"), 60 * joules, 1e-6);
    const cJSON *d = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 1), "capacity");
    assert_string_equal(lab_str(d, "radio_basis"), "estimate");
    assert_true(lab_num(d, "radio_wakeups_per_user_h") < 60);
    cJSON_Delete(runs);
    snprintf(path, sizeof(path), "rm -rf %s/runs", dir);
    assert_int_equal(system(path), 0);
}

static void a_clients_sweep_says_when_n_is_too_small(void **state)
{
    (void)state;
    cJSON *runs = cJSON_CreateArray();
    struct spec s = long_30;
    double n[] = {10, 100, 1000};
    char ids[3][32];
    for (int i = 0; i < 3; i++) {
        snprintf(ids[i], sizeof(ids[i]), "long-clients=%g", n[i]);
        s.id = ids[i];
        s.clients = n[i];
        cJSON *run = make_run(&s);
        cJSON *sw = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "run"), "swept");
        cJSON_AddNumberToObject(sw, "clients", n[i]);
        cJSON_AddItemToArray(runs, run);
    }
    char err[256];
    assert_int_equal(capacity_add(runs, dir, err, sizeof(err)), 0);
    /* the same bytes and CPU over 10x the users: per-user cost 10x lower, still
     * changing with N */
    const cJSON *big = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 2), "capacity");
    assert_string_equal(lab_str(big, "scaling"), "changing");
    cJSON_Delete(runs);
}

static void the_decision_record_closes_the_report(void **state)
{
    (void)state;
    struct spec runs[] = {state_1s, long_30, sse_15};
    char *r = report_of(runs, 3);
    const char *adr = strstr(r, "## For your decision record");
    assert_non_null(adr);
    assert_null(strstr(adr + 1, "\n## ")); /* the last section */
    has(adr, "**Context.** synthetic: 50,000 users on LTE phones");
    has(adr, "1. Short polling, every 1000 ms, If-None-Match (run short-state)");
    has(adr, "| 1 | 64.8 TB + 25.9 TB | 50,000 | 50,000 | 74 | 9.5 GiB | 5830 USD |");
    has(adr, " | 80% |\n"); /* the state poll's missed share */
    has(adr, "**Behind proxies.**");
    has(adr, "- Server-Sent Events: a response that never ends");
    has(adr, "[docs/MODELS.md](");
    has(r, "## At the target population: 50,000 users");
    has(r, "## The phone's radio");
    has(r,
        "A heartbeat is a poll the server sends. SSE with a 15 s heartbeat costs a phone");
    free(r);
}

static void the_closing_table_marks_quick_and_few(void **state)
{
    (void)state;
    struct spec s = state_1s;
    s.compression = 15;
    s.updates = 3;
    struct spec runs[] = {s, long_30};
    free(report_of(runs, 2));
    char text[4096];
    closing_table(text, sizeof(text));
    has(text, "synthetic (quick: 60 s windows where the full scenario has 900 s, its clock "
              "15 times faster)");
    has(text, "too few\n");
    assert_no_exponents(text);
}

/* WebSocket is a row like the others: its table, its sentence beside the baseline, its
 * bytes per frame beside RFC 6455's model, its capacity from its own counters, its
 * option in the decision record. */
static void websocket_is_reported_like_the_others(void **state)
{
    (void)state;
    struct spec runs[] = {state_1s, sse_15, ws_15};
    char *r = report_of(runs, 3);
    has(r, "\n### WebSocket\n");
    has(r, "| ws | heartbeat 15 s, backoff 1000 ms | 100 | 300 |");
    has(r, "- WebSocket delivered 30,000 of 30,000 updates on loopback");
    has(r, "- WebSocket against SSE: 116.1 bytes per update delivered against 66.67, of "
           "which 2 framed each update (a frame header) against 15 (the id and data lines");
    /* {"seq":NNNN,...} of 114 bytes in a 2-byte header (RFC 6455 section 5.2) */
    has(r, "Bytes per WebSocket frame (ws): 116 measured (payload and frame headers of the "
           "window over its 30,000 data frames down), model 116 for one update");
    has(r, "400 pings down and their pongs up, 8 B a heartbeat (model 8: an empty ping, a "
           "masked empty pong)");
    has(r, "- WebSocket: one transit; frame headers and masks per RFC 6455 section 5.2");
    has(r, "3. WebSocket, heartbeat 15 s, backoff 1000 ms (run ws)");
    has(r, "- WebSocket: an upgraded connection: a proxy that does not know Upgrade");
    free(r);
}

/* Its capacity comes from its frames: 30,000 updates of 116 bytes and 400 pings down,
 * 400 pongs up, over 100 users x 60 s; the users' messages count where they go. */
static void websocket_and_message_bytes_count_in_capacity(void **state)
{
    (void)state;
    cJSON *runs = cJSON_CreateArray();
    cJSON_AddItemToArray(runs, make_run(&ws_15));
    struct spec sse = sse_15;
    sse.msgs = 1000;
    sse.msg_header = 1066;
    cJSON_AddItemToArray(runs, make_run(&sse));
    char err[256];
    assert_int_equal(capacity_add(runs, dir, err, sizeof(err)), 0);
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 0), "capacity");
    near(lab_num(c, "down_bytes"), 116 * 30000 + 800, 0);
    near(lab_num(c, "up_bytes"), 2400, 0);
    near(lab_num(c, "down_bytes_per_user_s"), 3480800 / 6000.0, 1e-9);
    near(lab_num(c, "down_gb_month_target"), 3480800 / 6000.0 * 2592000 * 50000 / 1e9,
         1e-6);
    near(lab_num(c, "requests_per_s_target"), 0, 0);
    /* SSE's POSTs: 916 B of request head and 200 B of body up, a 150 B head and a 10 B
     * body down, 1000 of them, beside its 2,000,000 B of events */
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 1), "capacity");
    near(lab_num(p, "up_bytes"), 1116000, 0);
    near(lab_num(p, "down_bytes"), 2160000, 0);
    near(lab_num(p, "requests_all"), 1000, 0);
    near(lab_num(p, "requests_per_s_target"), 1000 / 6000.0 * 50000, 1e-6);
    cJSON_Delete(runs);
}

/* Users who write: the section "Messages up" and two more columns of the closing table,
 * POST /publish against a frame. */
static void messages_up_are_reported_per_approach(void **state)
{
    (void)state;
    struct spec sse = sse_15, ws = ws_15;
    sse.msgs = ws.msgs = 1000;
    sse.msg_header = 1066; /* a browser's POST head with a cookie, and the 201's */
    ws.msg_header = 8;     /* a 4-byte header and a 4-byte mask */
    struct spec runs[] = {sse, ws};
    char *r = report_of(runs, 2);
    has(r, "\n## Messages up\n\nEvery user also wrote: 200-byte messages, 0.1667 a second "
           "each (poisson).");
    has(r, "| sse | 1000 | 1000 | 1276 | 1066 | 200 | 10 | 4 (≈0) | 20 |");
    has(r, "| ws | 1000 | 1000 | 208 (208, +0%) | 8 | 200 | 0 | 1.5 (≈0) | 6 |");
    has(r,
        "One message on the wire: Server-Sent Events 1276 B (1066 B of it framing); "
        "WebSocket 208 B (8 B of it framing). Server-Sent Events cost 6.13 times as much "
        "as WebSocket");
    free(r);
    char text[4096];
    closing_table(text, sizeof(text));
    has(text, "B/msg up  msg rtt ms\n");
    has(text, " "
              "    1276"
              " "
              "          4\n"); /* %8s and %11s */
    has(text, " "
              "     208"
              " "
              "        1.5\n");
    /* without messages, neither the section nor the columns */
    struct spec quiet[] = {sse_15, ws_15};
    r = report_of(quiet, 2);
    lacks(r, "## Messages up");
    free(r);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_mode_gets_the_state_sentence),
        cmocka_unit_test(cursor_mode_gets_its_own_sentence_and_cause),
        cmocka_unit_test(few_updates_make_no_finding),
        cmocka_unit_test(a_network_delay_is_named_in_the_sentences),
        cmocka_unit_test(near_zero_models_print_no_deviation),
        cmocka_unit_test(the_empty_share_is_judged_too),
        cmocka_unit_test(capacity_is_the_arithmetic_of_its_columns),
        cmocka_unit_test(a_recorded_timeline_is_the_radio_basis),
        cmocka_unit_test(a_clients_sweep_says_when_n_is_too_small),
        cmocka_unit_test(the_decision_record_closes_the_report),
        cmocka_unit_test(the_closing_table_marks_quick_and_few),
        cmocka_unit_test(websocket_is_reported_like_the_others),
        cmocka_unit_test(websocket_and_message_bytes_count_in_capacity),
        cmocka_unit_test(messages_up_are_reported_per_approach),
    };
    return cmocka_run_group_tests_name("report", tests, setup, teardown);
}
