/* test_bench_usage.c: the bench's readers of /proc (bench/usage.c): the parsers fed text
 * as the kernel writes it, then the readers on this process and a child of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/usage.h"
#include "proc.h"

static void test_parse_stat(void **state)
{
    (void)state;
    struct usage_stat st;
    /* a command name with blanks and parentheses, as a thread may be named */
    const char *text =
        "4242 (nginx: worker (x) y) S 4240 4240 4240 0 -1 4194560 1234 0 0 0 "
        "731 215 0 0 20 0 1 0 123456 12345678 2500 18446744073709551615\n";
    assert_int_equal(usage_parse_stat(text, &st), 0);
    assert_int_equal(st.ppid, 4240);
    assert_int_equal(st.utime, 731);
    assert_int_equal(st.stime, 215);
    assert_int_equal(usage_parse_stat("4242 (x) S 1 2 3", &st), -1);
    assert_int_equal(usage_parse_stat("no parenthesis", &st), -1);
}

static void test_parse_status(void **state)
{
    (void)state;
    const char *text = "Name:\tpushpull-server\nVmPeak:\t  250000 kB\nVmRSS:\t   40308 kB\n"
                       "RssAnon:\t   30000 kB\nThreads:\t4\n";
    uint64_t kib = 0;
    assert_int_equal(usage_parse_status_kib(text, "VmRSS", &kib), 0);
    assert_int_equal(kib, 40308);
    assert_int_equal(usage_parse_status_kib(text, "RssAnon", &kib), 0);
    assert_int_equal(kib, 30000);
    assert_int_equal(usage_parse_status_kib(text, "VmSwap", &kib), -1);
    assert_int_equal(usage_parse_status_kib(text, "Threads", &kib), -1); /* no kB */
    assert_int_equal(usage_parse_status_kib(text, "Vm", &kib), -1);      /* whole names */
}

static void test_parse_host(void **state)
{
    (void)state;
    struct host_sample a, b;
    assert_int_equal(host_parse_loadavg("0.42 0.30 0.11 2/123 4567\n", &a), 0);
    assert_true(fabs(a.load1 - 0.42) < 1e-9 && fabs(a.load15 - 0.11) < 1e-9);
    assert_int_equal(host_parse_loadavg("", &a), -1);
    assert_int_equal(
        host_parse_cpu_line("cpu  100 5 50 1000 10 1 2 8 30 0\ncpu0 1 2 3\n", &a), 0);
    assert_int_equal(a.total_ticks, 100 + 5 + 50 + 1000 + 10 + 1 + 2 + 8);
    assert_int_equal(a.busy_ticks, 155);
    assert_int_equal(a.steal_ticks, 8);
    assert_int_equal(host_parse_cpu_line("cpu  200 5 50 1080 10 1 2 18 30 0\n", &b), 0);
    assert_true(fabs(host_steal_pct(&a, &b) - 100.0 * 10 / 190) < 1e-9);
    assert_true(host_steal_pct(&b, &a) == 0);
    assert_int_equal(host_parse_cpu_line("cpu0 1 2 3 4 5 6 7 8\n", &a), -1);
    assert_int_equal(host_parse_cpu_line("cpu  1 2 3\n", &a), -1);
}

/* The readers on real processes: this one, and a child that sleeps. */
static void test_real_processes(void **state)
{
    (void)state;
    struct host_sample h;
    assert_int_equal(host_sample_read(&h), 0);
    assert_true(h.total_ticks > 0);
    struct usage u;
    assert_int_equal(usage_read(getpid(), 0, &u), 0);
    assert_true(u.rss_kib > 0);
    assert_int_equal(u.procs, 1);

    /* with a child, two processes are summed */
    struct proc c;
    char err[256];
    const char *argv[] = {"/bin/sleep", "30", NULL};
    struct proc_spec spec = {
        .argv = argv, .name = "sleep", .out = PROC_DEVNULL, .err = PROC_DEVNULL};
    proc_init(&c);
    assert_int_equal(proc_start(&c, &spec, err, sizeof(err)), 0);
    assert_int_equal(usage_read(getpid(), 1, &u), 0);
    assert_int_equal(u.procs, 2);
    assert_int_equal(usage_read(getpid(), 0, &u), 0);
    assert_int_equal(u.procs, 1);
    assert_int_equal(proc_stop(&c, 10000), -1);     /* died of SIGTERM */
    assert_int_equal(usage_read(c.pid, 0, &u), -1); /* gone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),
        cmocka_unit_test(test_parse_status),
        cmocka_unit_test(test_parse_host),
        cmocka_unit_test(test_real_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
