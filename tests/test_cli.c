/* test_cli.c: unit tests for the client's command line (clients/cli.c): the defaults, one
 * accepted value of every flag, and the exact message for each kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "clients/cli.h"
#include "clock.h"

#define ARGV(...)                                                                          \
    (char *[])                                                                             \
    {                                                                                      \
        "pushpull-client", __VA_ARGS__, NULL                                               \
    }
#define ARGC(v) ((int)(sizeof(v) / sizeof(v[0])) - 1)

static enum cli_result parse(int argc, char **argv, struct client_config *cfg, char *err)
{
    return cli_parse(argc, argv, cfg, err, 256);
}

static void test_defaults(void **state)
{
    (void)state;
    struct client_config cfg;
    char err[256] = "";
    char *argv[] = {"pushpull-client", NULL};
    assert_int_equal(parse(1, argv, &cfg, err), CLI_RUN);
    assert_string_equal(cfg.server, "http://127.0.0.1:8080");
    assert_int_equal(cfg.approach, APPROACH_SHORT);
    assert_int_equal(cfg.poll, POLL_STATE);
    assert_int_equal(cfg.clients, 100);
    assert_int_equal(cfg.duration_ns, 30 * NS_PER_S);
    assert_int_equal(cfg.warmup_ns, 2 * NS_PER_S);
    assert_int_equal(cfg.drain_ns, -1);
    assert_int_equal(cli_drain_ns(&cfg), 2 * NS_PER_S); /* interval + 1 s */
    assert_int_equal(cfg.interval_ns, NS_PER_S);
    assert_int_equal(cfg.longpoll_timeout_ns, 30 * NS_PER_S);
    assert_int_equal(cfg.connect_timeout_ns, 5 * NS_PER_S);
    assert_int_equal(cfg.response_timeout_ns, 10 * NS_PER_S);
    assert_int_equal(cfg.open_timeout_ns, 0);
    assert_int_equal(cfg.ws_backoff_ns, NS_PER_S);
    assert_true(cfg.send_rate_hz == 0);
    assert_int_equal(cfg.send_bytes, 100);
    assert_int_equal(cfg.send_mode, SEND_POISSON);
    assert_int_equal(cfg.max_body_bytes, 4 << 20);
    assert_int_equal(cfg.max_clock_skew_ns, NS_PER_S);
    assert_string_equal(cfg.headers, "minimal");
    assert_int_equal(cfg.cookie_bytes, 0);
    assert_int_equal(cfg.seed, 1);
    assert_null(cfg.out_dir);
    assert_string_equal(cfg.label, "");
    assert_int_equal(cfg.clients_total, 100);
    assert_int_equal(cfg.partition_index, 1);
    assert_int_equal(cfg.partition_count, 1);
    assert_int_equal(cfg.clock_probes, 8);
    cli_config_free(&cfg);
}

static void test_every_flag(void **state)
{
    (void)state;
    struct client_config cfg;
    char err[256] = "";
    char **argv =
        ARGV("--server", "http://[::1]:9/api", "-a", "sse", "--clients", "10k",
             "--duration", "2m", "--warmup", "0", "--drain", "500ms", "--interval", "250ms",
             "--poll", "events", "--longpoll-timeout", "45s", "--connect-timeout", "1s",
             "--response-timeout", "750ms", "--open-timeout", "2s", "--ws-backoff", "250ms",
             "--send-rate", "0.5", "--send-bytes", "1k", "--send-mode", "periodic",
             "--max-body", "500k", "--max-clock-skew", "0", "--headers", "browser",
             "--cookie-bytes", "400", "--seed", "18446744073709551614", "--out", "/tmp/x",
             "--label", "run A", "--partition", "3/7", "--clock-probe", "0");
    int argc = 0;
    while (argv[argc])
        argc++;
    assert_int_equal(parse(argc, argv, &cfg, err), CLI_RUN);
    assert_string_equal(cfg.server, "http://[::1]:9/api");
    assert_int_equal(cfg.approach, APPROACH_SSE);
    /* users 2, 9, 16, ... of 10000: 1429 of them (10000 = 7 * 1428 + 4) */
    assert_int_equal(cfg.clients, 1429);
    assert_int_equal(cfg.clients_total, 10000);
    assert_int_equal(cfg.partition_index, 3);
    assert_int_equal(cfg.partition_count, 7);
    assert_int_equal(cfg.clock_probes, 0);
    assert_int_equal(cfg.duration_ns, 120 * NS_PER_S);
    assert_int_equal(cfg.warmup_ns, 0);
    assert_int_equal(cfg.drain_ns, 500 * NS_PER_MS);
    assert_int_equal(cli_drain_ns(&cfg), 500 * NS_PER_MS);
    assert_int_equal(cfg.interval_ns, 250 * NS_PER_MS);
    assert_int_equal(cfg.poll, POLL_EVENTS);
    assert_int_equal(cfg.longpoll_timeout_ns, 45 * NS_PER_S);
    assert_int_equal(cfg.connect_timeout_ns, NS_PER_S);
    assert_int_equal(cfg.response_timeout_ns, 750 * NS_PER_MS);
    assert_int_equal(cfg.open_timeout_ns, 2 * NS_PER_S);
    assert_int_equal(cfg.ws_backoff_ns, 250 * NS_PER_MS);
    assert_true(cfg.send_rate_hz == 0.5);
    assert_int_equal(cfg.send_bytes, 1000);
    assert_int_equal(cfg.send_mode, SEND_PERIODIC);
    assert_string_equal(cli_send_mode_name(cfg.send_mode), "periodic");
    assert_int_equal(cfg.max_body_bytes, 500000);
    assert_int_equal(cfg.max_clock_skew_ns, 0);
    assert_string_equal(cfg.headers, "browser");
    assert_int_equal(cfg.cookie_bytes, 400);
    assert_true(cfg.seed == UINT64_C(18446744073709551614));
    assert_string_equal(cfg.out_dir, "/tmp/x");
    assert_string_equal(cfg.label, "run A");
    cli_config_free(&cfg);
}

struct bad_case {
    const char *flag;
    const char *value;
    const char *want; /* the whole message */
};

static const struct bad_case bad_cases[] = {
    {"--partition", "0/2",
     "--partition: expected I/N with 1 <= I <= N <= 1024 (like 2/4), got '0/2'"},
    {"--partition", "3/2",
     "--partition: expected I/N with 1 <= I <= N <= 1024 (like 2/4), got '3/2'"},
    {"--partition", "1/1025",
     "--partition: expected I/N with 1 <= I <= N <= 1024 (like 2/4), got '1/1025'"},
    {"--partition", "1/2x",
     "--partition: expected I/N with 1 <= I <= N <= 1024 (like 2/4), got '1/2x'"},
    {"--partition", "200/200",
     "--partition 200/200: --clients 100 leaves this partition no users (at most 100 "
     "partitions)"},
    {"--clock-probe", "65", "--clock-probe: expected a count from 0 (off) to 64, got '65'"},
    {"--server", "http://a:1,https://b:2",
     "--server: expected an http:// or https:// URL such as http://127.0.0.1:8080, or "
     "several separated by commas, all http:// or all https://, got "
     "'http://a:1,https://b:2'"},
    {"--server", "http://a:1,",
     "--server: expected an http:// or https:// URL such as http://127.0.0.1:8080, or "
     "several separated by commas, all http:// or all https://, got 'http://a:1,'"},
    {"--server", "ftp://x",
     "--server: expected an http:// or https:// URL such as http://127.0.0.1:8080, or "
     "several separated by commas, all http:// or all https://, got 'ftp://x'"},
    {"--approach", "websocket",
     "--approach: expected short, long, sse or ws, got 'websocket'"},
    {"--ws-backoff", "0",
     "--ws-backoff: expected a duration from 1ms to 10m (like 1s), got '0'"},
    {"--clients", "0",
     "--clients: expected a count from 1 to 200k (like 100 or 10k), got '0'"},
    {"--clients", "1.5",
     "--clients: expected a count from 1 to 200k (like 100 or 10k), got "
     "'1.5'"},
    {"--duration", "30x",
     "--duration: expected a duration from 1ms to 24h (like 30s or 5m), "
     "got '30x'"},
    {"--warmup", "-1s", "--warmup: expected a duration from 0s to 1h (like 2s), got '-1s'"},
    {"--drain", "soon",
     "--drain: expected auto or a duration from 0s to 10m (like 2s), got "
     "'soon'"},
    {"--interval", "0",
     "--interval: expected a duration from 1ms to 1h (like 1s or 250ms), "
     "got '0'"},
    {"--poll", "all", "--poll: expected state or events, got 'all'"},
    {"--longpoll-timeout", "1500ms",
     "--longpoll-timeout: expected whole seconds from 1s to "
     "120s (like 30s), got '1500ms'"},
    {"--longpoll-timeout", "121s",
     "--longpoll-timeout: expected whole seconds from 1s to "
     "120s (like 30s), got '121s'"},
    {"--connect-timeout", "",
     "--connect-timeout: expected a duration from 1ms to 10m (like "
     "5s), got ''"},
    {"--response-timeout", "0",
     "--response-timeout: expected a duration from 1ms to 10m (like 10s), got '0'"},
    {"--open-timeout", "never",
     "--open-timeout: expected off or a duration from 1ms to 1h (like 10s), got 'never'"},
    {"--max-body", "1000",
     "--max-body: expected a size from 1KiB to 1GiB (like 4MiB or 500k), got '1000'"},
    {"--max-body", "2GiB",
     "--max-body: expected a size from 1KiB to 1GiB (like 4MiB or 500k), got '2GiB'"},
    {"--max-body", "4mb",
     "--max-body: expected a size from 1KiB to 1GiB (like 4MiB or 500k), got '4mb'"},
    {"--max-body", "99999999999999999999KiB",
     "--max-body: expected a size from 1KiB to 1GiB (like 4MiB or 500k), got "
     "'99999999999999999999KiB'"},
    {"--max-clock-skew", "2h",
     "--max-clock-skew: expected a duration from 0s to 1h (like 1s), got '2h'"},
    {"--headers", "",
     "--headers: expected minimal, browser or a file of header lines, got ''"},
    {"--cookie-bytes", "3",
     "--cookie-bytes: expected 0 or a byte count from 5 to 4096 (like "
     "400), got '3'"},
    {"--seed", "-4", "--seed: expected a whole number (like 1), got '-4'"},
    {"--protocol", "h3", "--protocol: expected http1, https1, h2c or h2, got 'h3'"},
    {"--protocol", "HTTP1", "--protocol: expected http1, https1, h2c or h2, got 'HTTP1'"},
    {"--cacert", "", "--cacert: expected a PEM certificate file, got ''"},
    {"--users-per-connection", "0",
     "--users-per-connection: expected a count from 1 to 64, got '0'"},
    {"--users-per-connection", "65",
     "--users-per-connection: expected a count from 1 to 64, got '65'"},
    {"--label", "a,b",
     "--label: expected text without control characters, quotes, "
     "backslashes or commas, got 'a,b'"},
};

static void test_bad_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct client_config cfg;
        char err[256] = "";
        char *argv[] = {"pushpull-client", (char *)bad_cases[i].flag,
                        (char *)bad_cases[i].value, NULL};
        assert_int_equal(parse(3, argv, &cfg, err), CLI_ERROR);
        assert_string_equal(err, bad_cases[i].want);
        cli_config_free(&cfg);
    }
}

static void test_bad_usage(void **state)
{
    (void)state;
    struct client_config cfg;
    char err[256] = "";
    char **a1 = ARGV("--frobnicate");
    assert_int_equal(parse(ARGC(((char *[]){"x", "--frobnicate", NULL})), a1, &cfg, err),
                     CLI_ERROR);
    assert_string_equal(err, "unknown option '--frobnicate' (see --help)");
    cli_config_free(&cfg);

    char **a2 = ARGV("-Z");
    assert_int_equal(parse(2, a2, &cfg, err), CLI_ERROR);
    assert_string_equal(err, "unknown option '-Z' (see --help)");
    cli_config_free(&cfg);

    char **a3 = ARGV("--clients");
    assert_int_equal(parse(2, a3, &cfg, err), CLI_ERROR);
    assert_string_equal(err, "option '--clients' needs a value (see --help)");
    cli_config_free(&cfg);

    char **a4 = ARGV("stray");
    assert_int_equal(parse(2, a4, &cfg, err), CLI_ERROR);
    assert_string_equal(err, "unexpected argument 'stray' (all settings are --flags)");
    cli_config_free(&cfg);

    /* several instances: each user moves alone, so not with shared connections */
    char **a5 = ARGV("--server", "http://a:1,http://b:2", "--users-per-connection", "4");
    assert_int_equal(parse(5, a5, &cfg, err), CLI_ERROR);
    assert_string_equal(err, "--server with several URLs moves each user on its own "
                             "(failover): not with --users-per-connection 4, whose users "
                             "share one connection");
    cli_config_free(&cfg);
    char **a6 = ARGV("--server", "http://a:1,http://b:2", "--url", "/sub");
    assert_int_equal(parse(5, a6, &cfg, err), CLI_ERROR);
    assert_string_equal(err, "--url: a foreign server takes one --server URL, got "
                             "'http://a:1,http://b:2'");
    cli_config_free(&cfg);
    /* one partition of a population: the last of 3 of 7 users has 2 (users 2 and 5) */
    char **a7 =
        ARGV("--clients", "7", "--partition", "3/3", "--server", "http://a:1,http://b:2");
    assert_int_equal(parse(7, a7, &cfg, err), CLI_RUN);
    assert_int_equal(cfg.clients, 2);
    assert_int_equal(cfg.clients_total, 7);
    cli_config_free(&cfg);
}

/* The usage text names every flag with its default: it is printed from the table. */
static void test_usage_mirrors_table(void **state)
{
    (void)state;
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    assert_non_null(f);
    cli_usage(f);
    fclose(f);
    const char *want[] = {"--server URL",
                          "(default http://127.0.0.1:8080)",
                          "--approach KIND",
                          "--clients N",
                          "--duration DUR",
                          "(default 30s)",
                          "--warmup DUR",
                          "--drain DUR",
                          "--interval DUR",
                          "--poll MODE",
                          "--longpoll-timeout DUR",
                          "--connect-timeout DUR",
                          "--response-timeout DUR",
                          "(default 10s)",
                          "--open-timeout DUR",
                          "(default off)",
                          "--ws-backoff DUR",
                          "--send-rate HZ",
                          "(default 0)",
                          "--send-bytes SIZE",
                          "--send-mode MODE",
                          "(default poisson)",
                          "--max-body SIZE",
                          "(default 4MiB)",
                          "--max-clock-skew DUR",
                          "--headers PROFILE",
                          "--cookie-bytes N",
                          "--seed N",
                          "--out DIR",
                          "--label TEXT",
                          "--version",
                          "--help"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(buf, want[i]))
            fail_msg("usage lacks '%s'", want[i]);
}

static void test_every_approach(void **state)
{
    (void)state;
    const char *names[] = {"short", "long", "sse", "ws"};
    const enum approach want[] = {APPROACH_SHORT, APPROACH_LONG, APPROACH_SSE, APPROACH_WS};
    for (int i = 0; i < 4; i++) {
        struct client_config cfg;
        char err[256] = "";
        char **argv = ARGV("--approach", (char *)names[i]);
        assert_int_equal(parse(3, argv, &cfg, err), CLI_RUN);
        assert_int_equal(cfg.approach, want[i]);
        assert_string_equal(cli_approach_name(cfg.approach), names[i]);
        assert_int_equal(cli_drain_ns(&cfg), i == 0 ? 2 * NS_PER_S : NS_PER_S);
        cli_config_free(&cfg);
    }
}

static void test_help_exits_ok(void **state)
{
    (void)state;
    struct client_config cfg;
    char err[256] = "";
    char **argv = ARGV("--version");
    assert_int_equal(parse(2, argv, &cfg, err), CLI_EXIT_OK);
    cli_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_flag),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_usage_mirrors_table),
        cmocka_unit_test(test_every_approach),
        cmocka_unit_test(test_help_exits_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
