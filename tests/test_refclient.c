/* test_refclient.c: the reference client (bench/refclient.c) against the real lab server:
 * URL parsing, then SSE streams and long polls that must receive every published update
 * exactly once, and streams the server cuts (POST /drop) that are counted and reopened.
 * Every wait is bounded; nothing asserts on time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bench/refclient.h"
#include "clock.h"
#include "tests/harness.h"

/* The test's server, stopped by the teardown even when an assertion failed. */
static struct harness_server the_server;
static int server_running;

static void server_up(void)
{
    const char *args[] = {"--rate", "0", NULL};
    assert_int_equal(harness_server_start(&the_server, args), 0);
    server_running = 1;
}

static int server_down(void **state)
{
    (void)state;
    int rc = server_running ? harness_server_stop(&the_server) : 0;
    server_running = 0;
    return rc;
}

static void test_url_parse(void **state)
{
    (void)state;
    struct ref_config c;
    char err[256];
    memset(&c, 0, sizeof(c));
    assert_int_equal(ref_url_parse("http://127.0.0.1:8080/events", &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.host, "127.0.0.1:8080");
    assert_string_equal(c.target, "/events");
    assert_int_equal(ntohs(c.addr.sin_port), 8080);
    assert_int_equal(ntohl(c.addr.sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ref_url_parse("ws://localhost/sub/ws?x=1#frag", &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.host, "localhost");
    assert_string_equal(c.target, "/sub/ws?x=1");
    assert_int_equal(ntohs(c.addr.sin_port), 80);
    assert_int_equal(ref_url_parse("http://10.1.2.3:9?since=4", &c, err, sizeof(err)), 0);
    assert_string_equal(c.target, "/?since=4");
    const char *bad[] = {"https://127.0.0.1/",
                         "http://",
                         "http://example.com/",
                         "http://127.0.0.1:0/",
                         "http://127.0.0.1:70000/",
                         "http://1.2.3.4:/",
                         "127.0.0.1:80/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ref_url_parse(bad[i], &c, err, sizeof(err)) == 0)
            fail_msg("accepted %s", bad[i]);
}

/* Start a client of `clients` connections on transport tp to the server's path. */
static struct refclient *start(const struct harness_server *srv, const char *tp,
                               const char *path, uint64_t clients)
{
    struct ref_config c;
    char url[128], err[256];
    memset(&c, 0, sizeof(c));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", srv->port, path);
    assert_int_equal(ref_url_parse(url, &c, err, sizeof(err)), 0);
    c.tp = ref_transport_find(tp);
    assert_non_null(c.tp);
    c.clients = clients;
    c.threads = 2;
    c.max_pending = 8;
    struct refclient *rc = refclient_start(&c, err, sizeof(err));
    assert_non_null(rc);
    return rc;
}

/* Wait (at most 20 s) until the client says ready and the server holds them all. */
static void wait_held(struct refclient *rc, const struct harness_server *srv, uint64_t n)
{
    int64_t give_up = harness_now_ms() + 20000;
    double parked = 0;
    while (harness_now_ms() < give_up) {
        cJSON *st = harness_stats(srv->port);
        parked = harness_stat(st, "parked");
        cJSON_Delete(st);
        if (refclient_ready(rc) == n && parked == (double)n)
            return;
        harness_sleep_ms(20);
    }
    fail_msg("ready %llu, parked %.0f, want %llu", (unsigned long long)refclient_ready(rc),
             parked, (unsigned long long)n);
}

static void wait_deliveries(struct refclient *rc, uint64_t n)
{
    int64_t give_up = harness_now_ms() + 20000;
    while (refclient_deliveries(rc) < n && harness_now_ms() < give_up)
        harness_sleep_ms(20);
}

/* Every update reaches every subscriber once, whichever transport. */
static void every_update_once(const char *tp, const char *path)
{
    server_up();
    struct harness_server *srv = &the_server;
    struct refclient *rc = start(srv, tp, path, 20);
    wait_held(rc, srv, 20);
    refclient_mark(rc);
    for (int i = 0; i < 3; i++) {
        char data[64]; /* the publisher's stamp, as the bench posts it */
        snprintf(data, sizeof(data), "pub_ns=%lld;update", (long long)clock_real_ns());
        assert_true(harness_publish(srv->port, data) > 0);
    }
    wait_deliveries(rc, 60);
    struct ref_result r;
    refclient_stop(rc, &r);
    assert_int_equal(r.deliveries, 60);
    assert_int_equal(hist_count(r.latency), 60);
    assert_int_equal(r.pub_stamped, 60);
    assert_int_equal(hist_count(r.pub_latency), 60);
    assert_int_equal(r.duplicates, 0);
    assert_int_equal(r.missed, 0);
    assert_int_equal(r.ready, 20);
    for (int e = 0; e < REF_ERR_COUNT; e++)
        assert_int_equal(r.errors[e], 0);
    assert_true(r.bytes_read > 0);
    hist_free(r.latency);
    hist_free(r.pub_latency);
}

static void test_sse_every_update_once(void **state)
{
    (void)state;
    every_update_once("sse", "/events");
}

static void test_long_every_update_once(void **state)
{
    (void)state;
    every_update_once("long", "/longpoll");
}

/* Streams the server cuts are counted as closed and reopened with Last-Event-ID: the
 * update published while they were away comes on the new stream, none is missed. */
static void test_dropped_streams_reopen(void **state)
{
    (void)state;
    server_up();
    struct harness_server *srv = &the_server;
    struct refclient *rc = start(srv, "sse", "/events", 10);
    wait_held(rc, srv, 10);
    assert_true(harness_publish(srv->port, "before") > 0);
    wait_deliveries(rc, 10);
    struct harness_response resp;
    assert_int_equal(harness_http(srv->port, "POST", "/drop", NULL, NULL, 0, &resp), 0);
    harness_response_free(&resp);
    /* most likely before they come back (100 ms later); if after, it comes live */
    assert_true(harness_publish(srv->port, "away") > 0);
    harness_sleep_ms(200);
    wait_held(rc, srv, 10);
    assert_true(harness_publish(srv->port, "after") > 0);
    wait_deliveries(rc, 30);
    struct ref_result r;
    refclient_stop(rc, &r);
    assert_int_equal(r.errors[REF_ERR_CLOSED], 10);
    assert_int_equal(r.connects, 20);
    assert_int_equal(r.deliveries, 30);
    assert_int_equal(r.duplicates, 0);
    assert_int_equal(r.missed, 0);
    hist_free(r.latency);
    hist_free(r.pub_latency);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test_teardown(test_sse_every_update_once, server_down),
        cmocka_unit_test_teardown(test_long_every_update_once, server_down),
        cmocka_unit_test_teardown(test_dropped_streams_reopen, server_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
