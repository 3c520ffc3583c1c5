/* test_e2e.c: the whole lab, end to end: the conductor (pushpull-lab run) runs a tiny
 * scenario through the three HTTP approaches (server, clients, merge, plots, report, all of
 * them the ASan/UBSan builds), and the results directory is checked for the invariants a
 * reader relies on, run.json included. A second tiny scenario crashes and restarts the
 * server mid-run, with the feed in memory and on file, and checks what the restart
 * experiment reports; a third runs through the link emulator, resets included, whose
 * byte counts must match the clients' kernel counts. A fourth, whose users also write,
 * sets SSE (messages as POSTs) against WebSocket (messages as frames). Every run's client
 * wrote each user's traffic, and the radio figures are computed from it.
 * ./run.sh's dispatch is checked once, on a bad file.
 *
 * Bounded: the scenarios last about 10, 40, 30 and 8 s; each command is stopped after
 * 180 s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dynbuf.h"
#include "lab/lab.h"
#include "proc.h"
#include "summary_csv.h"

static char results[] = "/tmp/pushpull-e2e-XXXXXX";

/* `pushpull-lab run FILE --out DIR`, its output in LOG, stopped after 180 s: its exit
 * status, or -1. */
static int lab_run(const char *file, const char *dir, const char *log)
{
    const char *argv[] = {"build/asan/bin/pushpull-lab", "run", file, "--out", dir, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "pushpull-lab",
                             .out = PROC_FILE,
                             .out_path = log,
                             .err = PROC_FILE,
                             .err_path = log};
    struct proc p;
    char why[512];
    if (proc_start(&p, &spec, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s\n", why);
        return -1;
    }
    if (!proc_wait(&p, 180000))
        proc_stop(&p, 5000);
    return proc_exit_code(&p);
}

/* Run a shell command with a time limit; its exit status, or -1. */
static int sh(const char *cmd)
{
    char line[9000];
    snprintf(line, sizeof(line), "PUSHPULL_BIN=build/asan/bin timeout -k 5 180 %s", cmd);
    int st = system(line);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(results))
        return -1;
    const char *names[] = {"tiny", "tiny-restart", "tiny-link", "tiny-ws"};
    size_t n = sizeof(names) / sizeof(names[0]);
    for (size_t i = 0; i < n; i++) {
        char file[512], dir[512], log[512], cmd[1024];
        snprintf(file, sizeof(file), "tests/data/%s.json", names[i]);
        snprintf(dir, sizeof(dir), "%s/%s", results, names[i]);
        snprintf(log, sizeof(log), "%s/%s.log", results, names[i]);
        if (lab_run(file, dir, log) != 0) {
            snprintf(cmd, sizeof(cmd), "cat %s", log);
            (void)system(cmd);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", results);
    return system(cmd) == 0 ? 0 : -1;
}

static cJSON *load_summary_of(const char *name)
{
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/%s/summary.json", results, name);
    cJSON *doc = lab_read_json(path, err, sizeof(err));
    if (!doc)
        fail_msg("%s", err);
    return doc;
}

static cJSON *load_summary(void)
{
    return load_summary_of("tiny");
}

/* dir/report.md, whole (the caller frees it). */
static struct dynbuf read_report(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/report.md", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    struct dynbuf text;
    dynbuf_init(&text, 1 << 20);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        assert_int_equal(dynbuf_add(&text, buf, n), 0);
    fclose(f);
    assert_non_null(text.mem);
    return text;
}

static void every_approach_ran_and_the_numbers_add_up(void **state)
{
    (void)state;
    cJSON *doc = load_summary();
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    assert_int_equal(cJSON_GetArraySize(runs), 3);
    const char *want[] = {"short", "long", "sse"};
    int i = 0;
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(run, "results");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(run, "server");
        assert_string_equal(lab_str(r, "approach"), want[i++]);
        /* Bytes: the client's split equals the kernel's count, and the server's too. */
        assert_string_equal(lab_str(r, "bytes_check"), "ok");
        assert_true(lab_num(s, "unaccounted_bytes") == 0);
        /* Nothing missed or doubled: cursor polling, long polling and SSE all resume. */
        assert_true(lab_num(r, "updates_expected") > 0);
        assert_true(lab_num(r, "updates_received") == lab_num(r, "updates_expected"));
        assert_true(lab_num(r, "missed") == 0);
        assert_true(lab_num(r, "duplicates") == 0);
        /* Every response is of one kind, and no errors on loopback. */
        double answered = lab_num(r, "responses_news") + lab_num(r, "responses_empty") +
                          lab_num(r, "responses_304");
        assert_true(answered <= lab_num(r, "requests") + 1);
        assert_true(lab_num(r, "errors_connect") + lab_num(r, "errors_timeout") +
                        lab_num(r, "errors_status") + lab_num(r, "errors_parse") +
                        lab_num(r, "errors_io") ==
                    0);
        /* The bytes per client per minute are the window's bytes, spread. */
        double total = lab_num(r, "req_header_bytes") + lab_num(r, "resp_header_bytes") +
                       lab_num(r, "resp_body_bytes") + lab_num(r, "framing_bytes");
        double per_min = total / (lab_num(r, "clients") * lab_num(r, "duration_s") / 60);
        assert_true(fabs(per_min - lab_num(r, "bytes_per_client_min")) <=
                    1 + per_min * 1e-3);
    }
    cJSON_Delete(doc);
}

static void latency_and_requests_match_the_technique(void **state)
{
    (void)state;
    cJSON *doc = load_summary();
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    const cJSON *s =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 0), "results");
    const cJSON *l =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 1), "results");
    const cJSON *e =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 2), "results");
    /* Short polling every 200 ms: mean wait about T/2 = 100 ms, never much above T. The
     * slack allows for a sanitizer build on a busy 2-core machine; the byte and update
     * invariants above are exact. */
    assert_true(lab_num(s, "latency_mean_ms") > 50 && lab_num(s, "latency_mean_ms") < 170);
    assert_true(lab_num(s, "latency_max_ms") < 400);
    /* 5 clients x 2 s / 200 ms = 50 polls. */
    assert_true(fabs(lab_num(s, "requests") - 50) <= 10);
    /* Push on loopback: far below the polling interval, even when the machine is busy. */
    assert_true(lab_num(l, "latency_p99_ms") < 150);
    assert_true(lab_num(e, "latency_p99_ms") < 150);
    /* SSE: the stream opened in the warmup; no request in the window. */
    assert_true(lab_num(e, "requests") == 0);
    assert_true(lab_num(e, "sse_events") >= lab_num(e, "updates_received"));
    cJSON_Delete(doc);
}

static void every_plot_and_the_report_exist(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/tiny", results);
    const char *plots[] = {"tradeoff",  "requests", "bytes",    "cdf",
                           "staleness", "server",   "capacity", "radio"};
    for (size_t i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "plots/%s.png", plots[i]);
        assert_true(file_size(dir, name) > 1000);
        snprintf(name, sizeof(name), "plots/%s.svg", plots[i]);
        assert_true(file_size(dir, name) > 1000);
    }
    assert_true(file_size(dir, "summary.csv") > 0);
    struct dynbuf text = read_report(dir);
    const char *sections[] = {"# tiny: poll, long-poll or stream?",
                              "## Findings",
                              "### Short polling",
                              "### Long polling",
                              "### Server-Sent Events",
                              "## Environment",
                              "| short-events | every 200 ms, cursor | 5 | 20 (too few) |",
                              "## At the target population: 10,000 users",
                              "## The phone's radio",
                              "- SSE against short polling every 200 ms: too few samples",
                              "the phone's radio is computed from each user's recorded "
                              "traffic (traffic.csv)",
                              "## For your decision record"};
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (!strstr(text.mem, sections[i]))
            fail_msg("report.md lacks \"%s\"", sections[i]);
    dynbuf_free(&text);
}

/* Every capacity figure of every run is the arithmetic of docs/MODELS.md applied to its
 * own row of summary.csv, and the curves the capacity and radio plots draw are there. */
static void capacity_can_be_worked_out_from_summary_csv(void **state)
{
    (void)state;
    const char *names[] = {"tiny", "tiny-link", "tiny-restart"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char dir[256], why[512];
        snprintf(dir, sizeof(dir), "%s/%s", results, names[i]);
        struct summary_csv t;
        assert_int_equal(summary_csv_read(dir, &t), 0);
        assert_true(t.nrows >= 3);
        if (summary_csv_check_capacity(&t, why, sizeof(why)) != 0)
            fail_msg("%s: %s", names[i], why);
        for (size_t r = 0; r < t.nrows; r++) {
            /* every user holds its connection at the window's start */
            assert_true(fabs(summary_csv_num(&t, r, "connections_per_user") - 1) < 0.01);
            assert_true(summary_csv_num(&t, r, "server_cpu_window_s") > 0);
            assert_true(summary_csv_num(&t, r, "radio_j_per_user_h") > 0);
        }
        summary_csv_free(&t);
        assert_true(file_size(dir, "capacity.csv") > 100);
        assert_true(file_size(dir, "radio.csv") > 100);
    }
}

/* Every run's client wrote its users' timelines (clients/traffic_log.h), whole, and the
 * capacity's radio figures were computed from them: through the link, across a server
 * restart, with messages and WebSockets too. */
static void every_run_recorded_its_users_traffic(void **state)
{
    (void)state;
    const char *names[] = {"tiny", "tiny-link", "tiny-restart", "tiny-ws"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cJSON *doc = load_summary_of(names[i]);
        const cJSON *run;
        cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
        {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(run, "results");
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(run, "capacity");
            char dir[512];
            snprintf(dir, sizeof(dir), "%s/%s/runs/%s", results, names[i],
                     lab_str(run, "run_id"));
            if (lab_num(r, "traffic_rows") < lab_num(r, "clients") ||
                lab_num(r, "traffic_rows_dropped") != 0 ||
                /* its header, and rows of at least "0,0.000,0,1\n" */
                file_size(dir, "traffic.csv") < 31 + 12 * lab_num(r, "traffic_rows"))
                fail_msg("%s: traffic.csv of %.0f rows (%.0f dropped), %ld bytes", dir,
                         lab_num(r, "traffic_rows"), lab_num(r, "traffic_rows_dropped"),
                         file_size(dir, "traffic.csv"));
            if (strcmp(lab_str(c, "radio_basis"), "traffic.csv") != 0)
                fail_msg("%s: radio_basis %s", dir, lab_str(c, "radio_basis"));
        }
        cJSON_Delete(doc);
    }
}

/* The server crashed 1.5 s into each window and came back 0.5 s later on the same port:
 * in memory the users are told to start over and the client sees the feed restart; on
 * file nothing is lost; every user has exactly one outage, and the report and the plot
 * say so. The byte split still matches the kernel's. */
static void a_restart_is_counted_and_reported(void **state)
{
    (void)state;
    cJSON *doc = load_summary_of("tiny-restart");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    assert_int_equal(cJSON_GetArraySize(runs), 6);
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const char *id = lab_str(run, "run_id");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(run, "results");
        const cJSON *crashed = cJSON_GetObjectItemCaseSensitive(run, "server_crashed");
        const cJSON *server = cJSON_GetObjectItemCaseSensitive(run, "server");
        bool durable = strstr(id, "feed=file") != NULL;
        if (!crashed || !cJSON_GetObjectItemCaseSensitive(run, "restart"))
            fail_msg("%s: no crashed server's /stats or no restart record", id);
        assert_string_equal(lab_str(r, "bytes_check"), "ok");
        /* the run's server figures are the crashed server's plus its successor's */
        char path[4096], err[512];
        snprintf(path, sizeof(path), "%s/tiny-restart/runs/%s/server_stats.json", results,
                 id);
        cJSON *successor = lab_read_json(path, err, sizeof(err));
        if (!successor)
            fail_msg("%s", err);
        assert_true(lab_num(crashed, "updates_published") > 0);
        assert_true(lab_num(server, "updates_published") ==
                    lab_num(crashed, "updates_published") +
                        lab_num(successor, "updates_published"));
        assert_true(lab_num(server, "connections_total") ==
                    lab_num(crashed, "connections_total") +
                        lab_num(successor, "connections_total"));
        cJSON_Delete(successor);
        assert_true(lab_num(r, "duplicates") == 0);
        assert_true(lab_num(r, "feed_stamps_inconsistent") == 0);
        if (lab_num(r, "outages") != 5 || lab_num(r, "outages_open") != 0)
            fail_msg("%s: %g outages, %g open (want 5 and 0)", id, lab_num(r, "outages"),
                     lab_num(r, "outages_open"));
        /* down 0.5 s: a short-polling user's outage is a whole number of 200 ms
         * intervals covering it (400 or 600 ms), the others' at least the down time; and
         * nobody takes seconds */
        assert_true(lab_num(r, "outage_mean_ms") >= 300);
        assert_true(lab_num(r, "outage_max_ms") < 5000);
        if (durable) {
            assert_true(lab_num(r, "feed_restarts") == 0);
            assert_true(lab_num(r, "resets") == 0);
            assert_true(lab_num(r, "missed") == 0);
            assert_true(lab_num(r, "updates_received") == lab_num(r, "updates_expected"));
        } else {
            assert_true(lab_num(r, "feed_restarts") == 1);
            assert_true(lab_num(r, "resets") >= 5); /* every user was told */
        }
    }
    cJSON_Delete(doc);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/tiny-restart", results);
    assert_true(file_size(dir, "plots/restart.png") > 1000);
    assert_true(file_size(dir, "plots/restart.svg") > 1000);
    struct dynbuf text = read_report(dir);
    if (!strstr(text.mem, "## The restart") ||
        !strstr(text.mem, "| sse-feed=file | file |"))
        fail_msg("report.md lacks the restart section or its sse-feed=file row");
    dynbuf_free(&text);
}

/* Through the link, every connection reset after 1 s: nothing is missed, and the link's
 * byte counts are the clients' own, read from the kernel at each socket's close (users
 * and observer: the link carries both), up to what a reset or the end of the run catches
 * in flight (below); and what the link read, it forwarded or discarded, exactly. */
static void the_link_counts_what_the_clients_sent_and_received(void **state)
{
    (void)state;
    cJSON *doc = load_summary_of("tiny-link");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    assert_int_equal(cJSON_GetArraySize(runs), 6);
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const char *id = lab_str(run, "run_id");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(run, "results");
        const cJSON *link = cJSON_GetObjectItemCaseSensitive(run, "link");
        assert_non_null(link);
        assert_true(lab_num(link, "resets_injected") > 0);
        assert_true(lab_num(r, "missed") == 0);
        assert_string_equal(lab_str(r, "bytes_check"), "ok");
        char path[4096], err[512];
        snprintf(path, sizeof(path), "%s/tiny-link/runs/%s/summary.json", results, id);
        cJSON *client = lab_read_json(path, err, sizeof(err));
        if (!client)
            fail_msg("%s", err);
        const cJSON *users = cJSON_GetObjectItemCaseSensitive(client, "run_totals");
        const cJSON *obs = cJSON_GetObjectItemCaseSensitive(client, "observer_totals");
        double sent =
            lab_num(users, "kernel_bytes_sent") + lab_num(obs, "kernel_bytes_sent");
        double got =
            lab_num(users, "kernel_bytes_received") + lab_num(obs, "kernel_bytes_received");
        /* Down, the link may have written a little more than the clients took in: the
         * client ends its run by closing its sockets while the server is still sending,
         * and what was then inside the link's delay line is written (the write succeeds)
         * after the client read its kernel counts, and is answered by a reset. That is
         * what one transit holds at the end, a few responses or events, never less. */
        /* Up, likewise, a reset can catch a request in the link's receive buffer: acked
         * by its kernel, never read (servers/link.h): at most a request per reset. */
        double down = lab_num(link, "bytes_down"), in_up = lab_num(link, "bytes_in_up");
        double catch_max = lab_num(link, "resets_injected") * 512;
        /* Every connection the link accepted is one the clients opened (each socket is
         * counted as it opens, before its connect; one whose connect never completed is
         * opened and not accepted). More accepted than opened is another program on this
         * host connecting to the link's port, e.g. a client of another test still
         * retrying a port its server freed, which the link's bind(0) then got: its bytes
         * are in the link's counts and in no client's. That is the one way found for the
         * link to read more than the clients sent (the clients' every write is counted
         * at one send site, the observer's too, and bytes_check above holds the users'
         * kernel counts equal to those), so such a run is named for what it is. */
        double opened = lab_num(users, "connections_opened") +
                        lab_num(obs, "connections_opened"),
               accepted = lab_num(link, "accepted");
        if (accepted > opened)
            fail_msg("%s: the link accepted %.0f connections and the clients opened %.0f: "
                     "the others came from another program on this host",
                     id, accepted, opened);
        if (sent < in_up || sent > in_up + catch_max || got > down || got < 0.9 * down)
            fail_msg(
                "%s: clients sent %.0f and received %.0f on %.0f connections; the link "
                "read %.0f from them and wrote %.0f to them on %.0f",
                id, sent, got, opened, in_up, down, accepted);
        assert_true(lab_num(link, "bytes_in_up") ==
                    lab_num(link, "bytes_up") + lab_num(link, "bytes_discarded_up"));
        assert_true(lab_num(link, "bytes_in_down") ==
                    lab_num(link, "bytes_down") + lab_num(link, "bytes_discarded_down"));
        cJSON_Delete(client);
    }
    cJSON_Delete(doc);
}

/* run.json: every run's parameters as data, its programs' exact argv, its outcome; and
 * the log ends with the closing table and the report's path. */
static void every_run_has_its_record(void **state)
{
    (void)state;
    const char *names[] = {"tiny", "tiny-restart", "tiny-link"};
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        char path[4096], err[512];
        snprintf(path, sizeof(path), "%s/%s/plan.json", results, names[n]);
        cJSON *plan = lab_read_json(path, err, sizeof(err));
        if (!plan)
            fail_msg("%s", err);
        const cJSON *id;
        int index = 0;
        cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(plan, "runs"))
        {
            snprintf(path, sizeof(path), "%s/%s/runs/%s/run.json", results, names[n],
                     id->valuestring);
            cJSON *rec = lab_read_json(path, err, sizeof(err));
            if (!rec)
                fail_msg("%s", err);
            assert_string_equal(lab_str(rec, "run_id"), id->valuestring);
            assert_string_equal(lab_str(rec, "scenario"), names[n]);
            assert_true(lab_num(rec, "plan_index") == index++);
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, "settings");
            const cJSON *swept = cJSON_GetObjectItemCaseSensitive(rec, "swept");
            const cJSON *programs = cJSON_GetObjectItemCaseSensitive(rec, "programs");
            const cJSON *network = cJSON_GetObjectItemCaseSensitive(rec, "network");
            const cJSON *restart = cJSON_GetObjectItemCaseSensitive(rec, "restart");
            assert_true(lab_num(set, "clients") == 5 && lab_num(set, "duration_s") >= 2);
            assert_string_equal(lab_str(set, "update_process"), "periodic");
            if (strcmp(lab_str(rec, "approach"), "short") == 0) {
                assert_string_equal(lab_str(set, "poll"), "events");
                assert_true(lab_num(set, "interval_ms") == 200);
            }
            assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(rec, "quick")));
            assert_true(lab_num(rec, "time_compression") == 1);
            assert_string_equal(
                lab_str(cJSON_GetObjectItemCaseSensitive(rec, "outcome"), "status"), "ok");
            assert_true(lab_num(rec, "ended_unix_ns") > lab_num(rec, "started_unix_ns"));
            /* the client was told exactly what the record says */
            const cJSON *argv = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(programs, "client"), "argv");
            char line[4096] = "";
            const cJSON *w;
            cJSON_ArrayForEach(w, argv)
            {
                size_t len = strlen(line);
                snprintf(line + len, sizeof(line) - len, " %s", w->valuestring);
            }
            char want[512];
            snprintf(want, sizeof(want), " --label %s --approach %s ", id->valuestring,
                     lab_str(rec, "approach"));
            if (!strstr(line, want) || !strstr(line, " --clients 5 --duration "))
                fail_msg("%s: client argv \"%s\"", id->valuestring, line);
            if (n == 1) { /* feed swept; crash and restart recorded */
                assert_string_equal(lab_str(restart, "feed"), lab_str(swept, "feed"));
                assert_true(lab_num(restart, "up_unix_ns") >
                            lab_num(restart, "crash_unix_ns"));
                assert_non_null(
                    cJSON_GetObjectItemCaseSensitive(programs, "server_restarted"));
            } else {
                assert_true(cJSON_IsNull(restart));
            }
            if (n == 2) { /* delay swept, the link in the path */
                assert_true(lab_num(network, "delay_ms") == lab_num(swept, "delay_ms"));
                assert_true(lab_num(network, "drop_every_s") == 1);
                assert_non_null(cJSON_GetObjectItemCaseSensitive(programs, "link"));
            } else {
                assert_true(cJSON_IsNull(network));
            }
            cJSON_Delete(rec);
        }
        assert_true(index >= 3);
        cJSON_Delete(plan);
        /* the run ends with the closing block */
        snprintf(path, sizeof(path), "%s/%s.log", results, names[n]);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char text[16384] = "";
        size_t got = fread(text, 1, sizeof(text) - 1, f);
        text[got] = '\0';
        fclose(f);
        char want[1024];
        snprintf(want, sizeof(want), "\n%s\n  run ", names[n]);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof(want), "  report: %s/%s/report.md\n  plots:  %s/%s/plots/",
                 results, names[n], results, names[n]);
        assert_non_null(strstr(text, want));
    }
}

/* WebSocket end to end, with users who write: every update and every message delivered,
 * the bytes equal to the kernel's, a message as a frame of RFC 6455's size (a 2-byte
 * header and a 4-byte mask around 100 bytes) against SSE's POST with its heads, the
 * report's WebSocket table and its section on the messages, and the capacity arithmetic
 * of summary.csv with a WebSocket's bytes in it. */
static void websocket_and_messages_end_to_end(void **state)
{
    (void)state;
    cJSON *doc = load_summary_of("tiny-ws");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    assert_int_equal(cJSON_GetArraySize(runs), 2);
    const cJSON *sse =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 0), "results");
    const cJSON *ws =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 1), "results");
    assert_string_equal(lab_str(ws, "approach"), "ws");
    assert_string_equal(
        lab_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 1), "run"),
                "approach"),
        "ws");
    for (int i = 0; i < 2; i++) {
        const cJSON *r = i ? ws : sse;
        assert_string_equal(lab_str(r, "bytes_check"), "ok");
        assert_true(lab_num(r, "updates_expected") > 0);
        assert_true(lab_num(r, "updates_received") == lab_num(r, "updates_expected"));
        assert_true(lab_num(r, "missed") == 0 && lab_num(r, "duplicates") == 0);
        /* 5 users x 2 messages a second x 2 s, periodic */
        assert_true(fabs(lab_num(r, "msgs_sent") - 20) <= 5);
        assert_true(lab_num(r, "msgs_echoed") == lab_num(r, "msgs_sent"));
    }
    /* a WebSocket user's message is a frame: 100 + 2 + 4, over the whole run */
    assert_true(lab_num(ws, "msg_wire_bytes_per_msg_run") == 106);
    assert_true(lab_num(ws, "ws_data_frames_down") >= lab_num(ws, "updates_received"));
    assert_true(lab_num(ws, "requests") == 0 && lab_num(ws, "up_requests") == 0);
    /* an SSE user's is a POST: the message and both heads */
    assert_true(lab_num(sse, "msg_wire_bytes_per_msg_run") > 106 + 100);
    assert_true(lab_num(sse, "up_requests") >= lab_num(sse, "msgs_sent"));
    char dir[256], why[512];
    snprintf(dir, sizeof(dir), "%s/tiny-ws", results);
    struct dynbuf text = read_report(dir);
    const char *sections[] = {"### WebSocket",
                              "| ws | heartbeat 1 s, backoff 200 ms | 5 |",
                              "Bytes per WebSocket frame (ws):",
                              "## Messages up",
                              "- WebSocket: one transit; frame headers and masks",
                              "2. WebSocket, heartbeat 1 s, backoff 200 ms (run ws)"};
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (!strstr(text.mem, sections[i]))
            fail_msg("tiny-ws/report.md lacks \"%s\"", sections[i]);
    dynbuf_free(&text);
    struct summary_csv t;
    assert_int_equal(summary_csv_read(dir, &t), 0);
    if (summary_csv_check_capacity(&t, why, sizeof(why)) != 0)
        fail_msg("tiny-ws: %s", why);
    summary_csv_free(&t);
    cJSON_Delete(doc);
}

static void a_bad_scenario_fails_before_anything_runs(void **state)
{
    (void)state;
    char path[4096], cmd[8192];
    snprintf(path, sizeof(path), "%s/bad.json", results);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"name\":\"bad\",\"description\":\"x\",\"duration_s\":2,\"clients\":5,"
          "\"updates\":{\"process\":\"periodic\",\"rate_hz\":\"fast\"},"
          "\"approaches\":[{\"kind\":\"sse\"}]}",
          f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "./run.sh run %s --out %s/bad-out >%s/bad.log 2>&1", path,
             results, results);
    assert_int_equal(sh(cmd), 2);
    assert_true(file_size(results, "bad-out") < 0); /* nothing was started or written */
    snprintf(path, sizeof(path), "%s/bad.log", results);
    f = fopen(path, "r");
    char line[1024] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(
        strstr(line, "bad.json: updates.rate_hz: expected a number from 0.001"));
    assert_non_null(strstr(line, "got \"fast\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_approach_ran_and_the_numbers_add_up),
        cmocka_unit_test(latency_and_requests_match_the_technique),
        cmocka_unit_test(every_plot_and_the_report_exist),
        cmocka_unit_test(capacity_can_be_worked_out_from_summary_csv),
        cmocka_unit_test(every_run_recorded_its_users_traffic),
        cmocka_unit_test(a_restart_is_counted_and_reported),
        cmocka_unit_test(the_link_counts_what_the_clients_sent_and_received),
        cmocka_unit_test(every_run_has_its_record),
        cmocka_unit_test(websocket_and_messages_end_to_end),
        cmocka_unit_test(a_bad_scenario_fails_before_anything_runs),
    };
    return cmocka_run_group_tests_name("e2e", tests, setup, teardown);
}
