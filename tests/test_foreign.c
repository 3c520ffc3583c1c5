/* test_foreign.c: the client's adapter for a foreign push server (clients/foreign.h),
 * against nginx + nchan started by the test, and its command line.
 *
 * nginx runs as the bench runs it (bench/servers.h: its own prefix and config under the
 * test's directory, on loopback, stopped by pid), with a cutting proxy (cut_proxy.h)
 * between it and the real pushpull-client. The test publishes the lab's update JSON to /pub
 * while the client runs, severs every connection once mid-window, and reads the client's
 * summary.json: every update published in the window reached every user (missed 0,
 * received = expected), and the users connected again (more connections than users), so
 * each technique's cursor resumed where it was: SSE by Last-Event-ID, the polls by
 * If-None-Match/If-Modified-Since. A WebSocket has no cursor (a drop loses updates), so it
 * runs without the cut. One more SSE run has the client publish (--publish-url) instead of
 * the test: nchan accepts every post and passes its stamp through, so nothing is timed by
 * order. Needs Debian's nginx and libnginx-mod-nchan, as the bench does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/nginx_conf.h"
#include "bench/servers.h"
#include "clients/cli.h"
#include "client_harness.h"
#include "clock.h"
#include "cut_proxy.h"

static char tmp[] = "/tmp/pushpull-foreign-XXXXXX";

static int setup(void **state)
{
    (void)state;
    /* nginx's workers run as nobody when the test runs as root: let them in */
    return mkdtemp(tmp) && chmod(tmp, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void sleep_until(int64_t mono_ns)
{
    int64_t left = mono_ns - clock_mono_ns();
    if (left > 0) {
        struct timespec ts = clock_ts_from_ns(left);
        nanosleep(&ts, NULL);
    }
}

/* What one run saw, read before anything is asserted (so nginx, the proxy and the client
 * are stopped by pid whatever happens). */
struct seen {
    char err[256]; /* why the run could not happen; "" when it did */
    int status;    /* the client's exit status */
    double expected, received, missed, conns, parse; /* from its summary.json */
    double by_order, up_requests, up_errors;         /* ... its own publishing */
};

/* One run of the client on nchan's url for approach, through the proxy (a ws:// URL is
 * given whole, its host and port replaced by the proxy's); publishes 4 a second in its
 * window (or, with publishes, the client itself does: --publish-url) and, with cut,
 * severs every connection for 250 ms in it. */
static void run_against_nchan(const char *approach, const char *url, int cut, int publishes,
                              struct seen *o)
{
    char dir[128], out[160], server[64], whole[96];
    memset(o, 0, sizeof(*o));
    o->status = -1;
    snprintf(dir, sizeof(dir), "%s/%s%s", tmp, approach, publishes ? "-publishing" : "");
    snprintf(out, sizeof(out), "%s/out", dir);
    if (mkdir(dir, 0755) != 0 || mkdir(out, 0755) != 0) {
        snprintf(o->err, sizeof(o->err), "mkdir %s", out);
        return;
    }
    struct server srv;
    struct server_opts so = {
        .dir = dir, .server_bin = "", .nginx_bin = "/usr/sbin/nginx", .threads = 1};
    if (bench_server_start(&srv, &bench_server_nchan, &so, o->err, sizeof(o->err)) != 0)
        return;
    struct cut_proxy *px = NULL;
    /* the channel exists before anyone subscribes (interval polls start from it) */
    if (bench_server_publish(&srv, 20, 0, o->err, sizeof(o->err)) != 0)
        goto end;
    px = cut_proxy_start(srv.port);
    if (!px) {
        snprintf(o->err, sizeof(o->err), "cut_proxy_start failed");
        goto end;
    }
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", cut_proxy_port(px));
    if (strncmp(url, "ws://", 5) == 0) { /* a whole URL under --server: its port */
        snprintf(whole, sizeof(whole), "ws://127.0.0.1:%u%s", cut_proxy_port(px),
                 strchr(url + 5, '/'));
        url = whole;
    }
    const char *args[] = {"--server",
                          server,
                          "--approach",
                          approach,
                          "--url",
                          url,
                          "--observer-url",
                          "/sub/events",
                          "--clients",
                          "3",
                          "--warmup",
                          "1s",
                          "--duration",
                          "4s",
                          "--drain",
                          "1s",
                          "--interval",
                          "100ms",
                          "--threads",
                          "1",
                          "--out",
                          out,
                          publishes ? "--publish-url" : NULL,
                          "/pub",
                          "--publish-rate",
                          "4",
                          NULL};
    int64_t t0 = clock_mono_ns();
    pid_t pid = client_harness_start(out, args);
    if (pid <= 0) {
        snprintf(o->err, sizeof(o->err), "the client did not start");
        goto end;
    }
    for (int i = 0; i < 13 && !o->err[0]; i++) { /* 1.5 s .. 4.5 s after the start */
        sleep_until(t0 + 1500 * NS_PER_MS + i * 250 * NS_PER_MS);
        if (cut && (i == 3 || i == 4))
            cut_proxy_sever(px, i == 3);
        if (!publishes)
            bench_server_publish(&srv, 20, 0, o->err, sizeof(o->err));
    }
    o->status = client_harness_finish(pid, 60);
    cJSON *sum = client_harness_summary(out);
    if (!sum) {
        snprintf(o->err, sizeof(o->err), "no summary.json in %s", out);
        goto end;
    }
    o->expected = client_harness_num(sum, "results.updates_expected");
    o->received = client_harness_num(sum, "results.updates_received");
    o->missed = client_harness_num(sum, "results.missed");
    o->conns = client_harness_num(sum, "results.connections_opened_run");
    o->parse = client_harness_num(sum, "results.errors_parse");
    o->by_order = client_harness_num(sum, "run_totals.deliveries_by_order");
    o->up_requests = client_harness_num(sum, "results.up_requests");
    o->up_errors = client_harness_num(sum, "results.up_errors");
    cJSON_Delete(sum);
end:
    cut_proxy_stop(px);
    if (bench_server_stop(&srv) != 0 && !o->err[0])
        snprintf(o->err, sizeof(o->err), "nginx did not stop cleanly");
}

static void check(const char *approach, const char *url, int cut, int publishes)
{
    struct seen o;
    run_against_nchan(approach, url, cut, publishes, &o);
    print_message(
        "%s: status %d, %.0f of %.0f received, %.0f missed, %.0f connections%s%s\n",
        approach, o.status, o.received, o.expected, o.missed, o.conns, o.err[0] ? ": " : "",
        o.err);
    assert_string_equal(o.err, "");
    assert_int_equal(o.status, 0);
    assert_true(o.expected >= 3 * 8); /* most of the 13 publishes, for each of 3 users */
    assert_true(o.received == o.expected);
    assert_true(o.missed == 0);
    assert_true(o.parse == 0);
    if (cut)
        assert_true(o.conns > 3); /* they were cut, and came back */
    /* nchan passes the body through: every update is timed by its stamp */
    assert_true(o.by_order == 0);
    if (publishes) /* nchan took every publish of the client's (201 or 202) */
        assert_true(o.up_requests >= 8 && o.up_errors == 0);
}

static void test_sse_resumes_by_last_event_id(void **state)
{
    (void)state;
    check("sse", "/sub/events", 1, 0);
}

static void test_long_poll_resumes_by_validators(void **state)
{
    (void)state;
    check("long", "/sub/longpoll", 1, 0);
}

static void test_interval_poll_resumes_by_validators(void **state)
{
    (void)state;
    check("short", "/sub/poll", 1, 0);
}

static void test_websocket_receives_all(void **state)
{
    (void)state;
    check("ws", "ws://host/sub/ws", 0, 0);
}

/* The client as nchan's publisher (--publish-url): its posts come through as updates. */
static void test_sse_with_the_client_publishing(void **state)
{
    (void)state;
    check("sse", "/sub/events", 0, 1);
}

/* The flags: one line naming the flag for each combination that cannot work. */
static void test_flags(void **state)
{
    (void)state;
    static const struct {
        const char *args[8];
        const char *says; /* NULL: accepted */
    } cases[] = {
        {{"--url", "/sub/events", "--approach", "sse"}, NULL},
        {{"--url", "http://127.0.0.1:8080/sub/poll"}, NULL},
        {{"--url", "ws://127.0.0.1:8080/sub/ws", "--approach", "ws"}, NULL},
        {{"--url", "http://10.0.0.1:8080/sub/poll"}, "--url: expected"},
        {{"--url", "ftp://127.0.0.1:8080/x"}, "--url: expected"},
        {{"--url", "https://127.0.0.1:8080/x"}, "--url: expected"},
        {{"--url", "http://127.0.0.1:80801/x"}, "--url: expected"},
        {{"--url", ""}, "--url: expected"},
        {{"--observer-url", "/sub/events"}, "--observer-url: only with --url"},
        {{"--url", "/a", "--observer-url", "sub"}, "--observer-url: expected"},
        {{"--url", "/a", "--poll", "events"}, "--poll events"},
        {{"--url", "/a", "--approach", "long", "--send-rate", "1"}, "--send-rate"},
        {{"--url", "/a", "--publish-url", "/pub", "--publish-rate", "10"}, NULL},
        {{"--publish-url", "/pub"}, "--publish-url: only with --url"},
        {{"--url", "/a", "--publish-url", "ftp://x/pub"}, "--publish-url: expected"},
        {{"--url", "/a", "--publish-url", "/pub", "--publish-rate", "0"},
         "--publish-rate: expected"},
        {{"--url", "/a", "--publish-url", "/pub", "--partition", "1/2"},
         "--publish-url: one process"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[10] = {"pushpull-client"};
        int argc = 1;
        for (int k = 0; cases[i].args[k]; k++)
            argv[argc++] = (char *)cases[i].args[k];
        struct client_config cfg;
        char err[256] = "";
        enum cli_result r = cli_parse(argc, argv, &cfg, err, sizeof(err));
        if (!cases[i].says) {
            if (r != CLI_RUN)
                fail_msg("case %zu: %s", i, err);
        } else {
            assert_int_equal(r, CLI_ERROR);
            if (!strstr(err, cases[i].says))
                fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].says);
        }
        cli_config_free(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_sse_resumes_by_last_event_id),
        cmocka_unit_test(test_long_poll_resumes_by_validators),
        cmocka_unit_test(test_interval_poll_resumes_by_validators),
        cmocka_unit_test(test_websocket_receives_all),
        cmocka_unit_test(test_sse_with_the_client_publishing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
