/* test_trace.c: common/trace.c, the trace parser the scenario check and the server share:
 * every rule of the format on its own, the line numbers and texts of the problems, and
 * then the agreement itself: for each sample file, pushpull-lab's scenario loader accepts
 * it exactly when the real server (the ASan build) starts with it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lab/scenario.h"
#include "trace.h"

static char tmpdir[] = "/tmp/pushpull-trace-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Parse text (len bytes); its offsets compared with want[n_want] on success. */
static void expect_times(const char *text, size_t len, const int64_t *want, size_t n_want)
{
    int64_t *v = NULL;
    size_t n = 0;
    struct trace_problem p;
    if (trace_parse(text, len, &v, &n, &p) != 0)
        fail_msg("refused: line %zu \"%s\": %s", p.line, p.text, p.why ? p.why : "memory");
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], want[i]);
    free(v);
}

static void expect_problem(const char *text, size_t len, size_t line, const char *bad,
                           const char *why)
{
    int64_t *v = (int64_t *)&v; /* not NULL: the parser must clear it */
    size_t n = 7;
    struct trace_problem p;
    assert_int_equal(trace_parse(text, len, &v, &n, &p), -1);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_int_equal(p.line, line);
    assert_string_equal(p.text, bad);
    assert_string_equal(p.why, why);
}

#define S(lit) lit, sizeof(lit) - 1

static void accepted_forms(void **state)
{
    (void)state;
    static const int64_t a[] = {0, 500000000, 500000000, 2250000000};
    expect_times(S("t_s\n0\n0.5\n0.5\n2.25\n"), a, 4);
    expect_times(S("0\r\n0.5\r\n\r\n0.5\r\n2.25"), a, 4); /* CRLF, blank, no last newline */
    expect_times(S("\n\n0\n\n0.5\n0.5\n\n2.25\n\n"), a, 4); /* blank lines anywhere */
    static const int64_t b[] = {2000000, 1000000000000000000};
    expect_times(S("2e-3\n1e9\n"), b, 2); /* the largest offset */
}

static void refused_forms(void **state)
{
    (void)state;
    expect_problem(S("t_s\n1\nabc\n"), 3, "abc", "a number of seconds");
    expect_problem(S("2\n1\n"), 2, "1", "no fewer seconds than the line before");
    expect_problem(S("1\n1.5s\n"), 2, "1.5s", "a number of seconds"); /* no units */
    expect_problem(S("-1\n"), 1, "-1", "a number of seconds");
    expect_problem(S("inf\n"), 1, "inf", "a number of seconds");
    expect_problem(S("0x10\n"), 1, "0x10", "a number of seconds");
    expect_problem(S(" 1\n"), 1, " 1", "a number of seconds");
    expect_problem(S("1\n9.3e9\n"), 2, "9.3e9", "at most 1e9 seconds");
    expect_problem(S("0\n1e300\n"), 2, "1e300", "at most 1e9 seconds");
    expect_problem(S("0\nt_s\n"), 2, "t_s",
                   "a number of seconds"); /* header: line 1 only */
    expect_problem(S("1\n2\0003\n"), 2, "2", "text without NUL bytes");
    char long_line[100];
    memset(long_line, '1', 65);
    long_line[65] = '\n';
    expect_problem(long_line, 66, 1, "11111111111111111111111111111111111111111111111",
                   "a line of at most 64 bytes");
    int64_t *v;
    size_t n;
    struct trace_problem p;
    assert_int_equal(trace_parse(S("t_s\n\n\n"), &v, &n, &p), -1);
    assert_int_equal(p.line, 0);
    assert_string_equal(p.why, "at least one publish time");
    assert_int_equal(trace_parse("", 0, &v, &n, &p), -1);
    assert_int_equal(p.line, 0);
}

static void loading_names_the_file_and_the_line(void **state)
{
    (void)state;
    char path[256], err[512];
    int64_t *v;
    size_t n;
    snprintf(path, sizeof(path), "%s/down.csv", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("t_s\n5\n4\n", f);
    fclose(f);
    assert_int_equal(trace_load(path, &v, &n, NULL, err, sizeof(err)), -1);
    char want[512];
    snprintf(want, sizeof(want),
             "%s:3: expected no fewer seconds than the line before, got \"4\"", path);
    assert_string_equal(err, want);
    assert_int_equal(trace_load(tmpdir, &v, &n, NULL, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
    assert_string_equal(err, want);
}

/* Whether the scenario check accepts the trace at path. */
static bool check_accepts(const char *path)
{
    char text[1024], err[1024];
    snprintf(text, sizeof(text),
             "{\"name\":\"t\",\"description\":\"d\",\"duration_s\":5,\"clients\":1,"
             "\"updates\":{\"process\":\"trace\",\"trace\":\"%s\"},"
             "\"approaches\":[{\"kind\":\"sse\"}]}",
             path);
    struct scenario *s = NULL;
    int rc = scenario_parse(text, strlen(text), "t.json", "", 0, &s, err, sizeof(err));
    scenario_free(s);
    return rc == 0;
}

/* Whether the real server starts with --trace path. */
static bool server_accepts(const char *path)
{
    const char *args[] = {"--process", "trace", "--trace", path, NULL};
    struct harness_server s;
    if (harness_server_start(&s, args) != 0)
        return false;
    assert_int_equal(harness_server_stop(&s), 0);
    return true;
}

static void the_check_and_the_server_agree(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        bool good;
    } samples[] = {
        {"plain", "t_s\n0\n0.5\n1\n", true},
        {"blank-lines", "t_s\n\n0.5\n\n1\n\n", true}, /* documented, once refused mid-run */
        {"crlf", "0.5\r\n1\r\n", true},
        {"largest", "0\n1e9\n", true},
        {"far", "0\n9.3e9\n", false}, /* above int64 nanoseconds: once passed the check */
        {"units", "0\n1s\n", false},
        {"down", "2\n1\n", false},
        {"empty", "t_s\n", false},
    };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s.csv", tmpdir, samples[i].name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(samples[i].text, f);
        fclose(f);
        bool check = check_accepts(path), server = server_accepts(path);
        if (check != samples[i].good || server != samples[i].good)
            fail_msg("%s: the check %s it, the server %s it (want both to %s)",
                     samples[i].name, check ? "accepts" : "refuses",
                     server ? "accepts" : "refuses", samples[i].good ? "accept" : "refuse");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_forms),
        cmocka_unit_test(refused_forms),
        cmocka_unit_test(loading_names_the_file_and_the_line),
        cmocka_unit_test(the_check_and_the_server_agree),
    };
    return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
