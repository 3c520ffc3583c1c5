/* test_wrk_parse.c: reading wrk's summary (bench/wrk.c), as Debian's wrk 4.1 prints it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "bench/wrk.h"

static const char plain[] = "Running 10s test @ http://127.0.0.1:18091/poll\n"
                            "  2 threads and 100 connections\n"
                            "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
                            "    Latency   399.58us  619.56us   8.50ms   92.19%\n"
                            "    Req/Sec    18.52k     4.25k   24.21k    65.00%\n"
                            "  Latency Distribution\n"
                            "     50%  228.00us\n"
                            "     75%  324.00us\n"
                            "     90%  733.00us\n"
                            "     99%    3.36ms\n"
                            "  368430 requests in 10.00s, 89.90MB read\n"
                            "Requests/sec:  36717.98\n"
                            "Transfer/sec:      8.96MB\n";

static const char troubled[] = "Running 1s test @ http://127.0.0.1:18091/nonexist\n"
                               "  2 threads and 10 connections\n"
                               "  Latency Distribution\n"
                               "     50%    1.20s \n"
                               "     99%    2.00m \n"
                               "  11643 requests in 1.10s, 2.49MB read\n"
                               "  Socket errors: connect 1, read 2, write 3, timeout 4\n"
                               "  Non-2xx or 3xx responses: 11643\n"
                               "Requests/sec:  10582.32\n";

static void test_plain(void **state)
{
    (void)state;
    struct wrk_result r;
    char err[128];
    assert_int_equal(wrk_parse(plain, &r, err, sizeof(err)), 0);
    assert_true(fabs(r.requests_per_s - 36717.98) < 1e-6);
    assert_int_equal(r.requests, 368430);
    assert_true(fabs(r.latency_p50_ms - 0.228) < 1e-9);
    assert_true(fabs(r.latency_p99_ms - 3.36) < 1e-9);
    assert_int_equal(r.non_2xx_3xx, 0);
    assert_int_equal(r.socket_errors, 0);
}

static void test_troubled(void **state)
{
    (void)state;
    struct wrk_result r;
    char err[128];
    assert_int_equal(wrk_parse(troubled, &r, err, sizeof(err)), 0);
    assert_int_equal(r.requests, 11643);
    assert_true(fabs(r.latency_p50_ms - 1200) < 1e-9);
    assert_true(fabs(r.latency_p99_ms - 120000) < 1e-9);
    assert_int_equal(r.non_2xx_3xx, 11643);
    assert_int_equal(r.socket_errors, 10);
}

static void test_missing_lines(void **state)
{
    (void)state;
    struct wrk_result r;
    char err[128];
    assert_int_equal(wrk_parse("unable to connect to 127.0.0.1:1 Connection refused\n", &r,
                               err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "Requests/sec"));
    assert_int_equal(wrk_parse("Requests/sec: 5\n", &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "requests in"));
    /* without --latency there is no distribution: -1 marks it */
    assert_int_equal(wrk_parse("  10 requests in 1.00s, 1KB read\nRequests/sec: 10\n", &r,
                               err, sizeof(err)),
                     0);
    assert_true(r.latency_p50_ms < 0 && r.latency_p99_ms < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_troubled),
        cmocka_unit_test(test_missing_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
