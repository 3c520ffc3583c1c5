/* test_hostile.c: the server against hostile and careless peers (issue 10), replayed
 * against the real ASan binary over raw sockets.
 *
 * Each probe checks three things: the answer on the wire (a status, or a close, never
 * silence), what /stats says about it, and that the server still stops cleanly: SIGTERM
 * gives exit status 0, which the ASan build turns non-zero on any sanitizer report or
 * leak. Every wait is bounded; no assertion is about speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers -------------------------------------------------------------- */

/* The server a test started and has not stopped yet: a failed assertion leaves the
 * test early, and the teardown then stops it by pid. */
static pid_t running;

static struct harness_server start(const char *const *args)
{
    struct harness_server s;
    assert_int_equal(harness_server_start(&s, args), 0);
    running = s.pid;
    return s;
}

static void stop(struct harness_server *s)
{
    running = 0;
    assert_int_equal(harness_server_stop(s), 0);
}

static int teardown(void **state)
{
    (void)state;
    if (running > 0)
        harness_stop_pid(running);
    running = 0;
    return 0;
}

/* Open GET /events and read until the stream's retry line: the stream is then parked. */
static int open_parked_stream(unsigned port)
{
    int fd = harness_connect(port);
    assert_true(fd >= 0);
    const char req[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(fd, req, sizeof(req) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 16);
    assert_int_equal(harness_read_until(fd, &raw, "retry: ", 5000), 1);
    dynbuf_free(&raw);
    return fd;
}

/* connections_open, waited for (2 s at most) to come down to `most`. */
static void expect_connections_at_most(unsigned port, double most, const char *when)
{
    double open = harness_stat_wait_at_most(port, "connections_open", most, 2000);
    if (open < 0 || open > most)
        fail_msg("%s: connections_open is %g, expected at most %g within 2 s", when, open,
                 most);
}

/* ---- 1: streams that end free their connection ----------------------------- */

/* The leak of issue 10 item 1: with an idle keep-alive connection open, a parked stream
 * that ends (its peer gone, or POST /drop) used to leave its connection behind for good.
 * Thousands of reconnects, in rounds; after every round the connections come back to
 * the baseline (the idle one and the /stats request's own) within 2 s. */
static void parked_streams_that_end_free_their_connection(void **state)
{
    (void)state;
    enum { ROUNDS = 100, PER_ROUND = 25 };
    const char *args[] = {"--rate", "0", "--max-connections", "50", "--heartbeat",
                          "250ms",  NULL};
    struct harness_server s = start(args);
    int idle = harness_connect(s.port);
    assert_true(idle >= 0);
    const char poll_req[] = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(idle, poll_req, sizeof(poll_req) - 1), 0);
    struct harness_response r;
    assert_int_equal(harness_read_response(idle, &r, 2000), 0);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    expect_connections_at_most(s.port, 2, "baseline");

    for (int round = 0; round < ROUNDS; round++) {
        int fds[PER_ROUND];
        for (int i = 0; i < PER_ROUND; i++)
            fds[i] = open_parked_stream(s.port);
        bool drop = round % 3 == 2;
        if (drop) {
            /* POST /drop cuts every parked stream without a word */
            assert_int_equal(harness_http(s.port, "POST", "/drop", NULL, "", 0, &r), 0);
            assert_int_equal(r.status, 200);
            harness_response_free(&r);
            for (int i = 0; i < PER_ROUND; i++)
                assert_true(harness_wait_eof(fds[i], 2000));
        }
        for (int i = 0; i < PER_ROUND; i++)
            close(fds[i]);
        char when[64];
        snprintf(when, sizeof(when), "after round %d (%s)", round + 1,
                 drop ? "POST /drop" : "the clients left");
        expect_connections_at_most(s.port, 2, when);
    }
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.events.requests"), ROUNDS * PER_ROUND);
    assert_int_equal(harness_stat(st, "transports.events.open"), 0);
    assert_int_equal(harness_stat(st, "parked"), 0);
    cJSON_Delete(st);
    /* the idle connection is still served */
    assert_int_equal(harness_send(idle, poll_req, sizeof(poll_req) - 1), 0);
    assert_int_equal(harness_read_response(idle, &r, 2000), 0);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    close(idle);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(parked_streams_that_end_free_their_connection, teardown),
    };
    return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
