/* test_proc.c: common/proc.c, with /bin/sh playing the programs: the first line from a
 * pipe and from a file, a program that exits first or stays silent (reported by name,
 * within the bound), SIGTERM then SIGKILL for one that ignores SIGTERM, exit statuses and
 * signals in words, a program that cannot be executed, the cancel flag, and the child's
 * own process group. Every program is reaped before its test ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "proc.h"

static char tmpdir[] = "/tmp/pushpull-proc-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Start `sh -c script` with its stdout and stderr as given. */
static void start_sh(struct proc *p, const char *script, enum proc_io out,
                     const char *out_path, enum proc_io err, const char *err_path)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "the script",
                             .out = out,
                             .out_path = out_path,
                             .err = err,
                             .err_path = err_path};
    char why[512];
    if (proc_start(p, &spec, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    assert_true(p->pid > 0);
    assert_true(p->running);
}

static void the_first_line_comes_from_a_pipe(void **state)
{
    (void)state;
    struct proc p;
    start_sh(&p, "echo listening on 127.0.0.1:4242; echo more; exec sleep 10", PROC_PIPE,
             NULL, PROC_INHERIT, NULL);
    char line[64], err[256];
    assert_int_equal(proc_first_line(&p, 5000, line, sizeof(line), err, sizeof(err)), 0);
    assert_string_equal(line, "listening on 127.0.0.1:4242");
    /* not a byte past the newline was taken */
    char rest[5] = "";
    assert_int_equal(read(p.out, rest, 4), 4);
    assert_memory_equal(rest, "more", 4);
    assert_int_equal(getpgid(p.pid), p.pid); /* a process group of its own */
    assert_int_equal(proc_stop(&p, 5000), -1);
    char how[96];
    proc_describe(&p, how, sizeof(how));
    assert_non_null(strstr(how, "killed by signal 15"));
    assert_false(p.running);
    assert_true(p.ended_unix_ns >= p.started_unix_ns);
    proc_close(&p);
}

static void the_first_line_comes_from_a_file(void **state)
{
    (void)state;
    char out[512];
    snprintf(out, sizeof(out), "%s/first.out", tmpdir);
    struct proc p;
    start_sh(&p, "sleep 0.2; printf 'listening on http://x:1\\nsecond\\n'; exec sleep 10",
             PROC_FILE, out, PROC_DEVNULL, NULL);
    char line[64], err[256];
    assert_int_equal(proc_first_line(&p, 5000, line, sizeof(line), err, sizeof(err)), 0);
    assert_string_equal(line, "listening on http://x:1");
    assert_int_equal(proc_stop(&p, 5000), -1);
}

static void a_program_that_exits_first_is_named_with_its_status(void **state)
{
    (void)state;
    char errf[512];
    snprintf(errf, sizeof(errf), "%s/exits.err", tmpdir);
    struct proc p;
    start_sh(&p, "echo 'pushpull-x: --rate: expected a number' >&2; exit 3", PROC_PIPE,
             NULL, PROC_FILE, errf);
    char line[64], err[256];
    assert_int_equal(proc_first_line(&p, 5000, line, sizeof(line), err, sizeof(err)), -1);
    assert_string_equal(err, "the script exited with status 3 before printing its first "
                             "line: pushpull-x: --rate: expected a number");
    assert_false(p.running);
    assert_int_equal(proc_exit_code(&p), 3);
    assert_int_equal(proc_stop(&p, 1000), 3); /* already reaped: its status, no signal */
    proc_close(&p);
}

static void a_silent_program_is_reported_within_the_bound(void **state)
{
    (void)state;
    struct proc p;
    start_sh(&p, "exec sleep 10", PROC_PIPE, NULL, PROC_INHERIT, NULL);
    char line[64], err[256];
    int64_t t0 = clock_mono_ns();
    assert_int_equal(proc_first_line(&p, 300, line, sizeof(line), err, sizeof(err)), -1);
    int64_t took_ms = (clock_mono_ns() - t0) / NS_PER_MS;
    assert_true(took_ms >= 300 && took_ms < 5000);
    assert_non_null(strstr(err, "the script printed no first line within 0.3 s"));
    assert_true(p.running);
    assert_int_equal(proc_stop(&p, 5000), -1);
    proc_close(&p);
}

static void sigterm_ignored_means_sigkill_after_the_grace(void **state)
{
    (void)state;
    struct proc p;
    /* an ignored signal stays ignored across exec */
    start_sh(&p, "trap '' TERM; echo ready; exec sleep 10", PROC_PIPE, NULL, PROC_INHERIT,
             NULL);
    char line[64], err[256];
    assert_int_equal(proc_first_line(&p, 5000, line, sizeof(line), err, sizeof(err)), 0);
    int64_t t0 = clock_mono_ns();
    assert_int_equal(proc_stop(&p, 200), -1);
    int64_t took_ms = (clock_mono_ns() - t0) / NS_PER_MS;
    assert_true(took_ms >= 200 && took_ms < 5000);
    char how[96];
    proc_describe(&p, how, sizeof(how));
    assert_string_equal(how, "was killed by signal 9 (Killed)");
    assert_int_equal(kill(p.pid, 0), -1); /* gone, and reaped */
    proc_close(&p);
}

static void exit_statuses_and_exec_failures(void **state)
{
    (void)state;
    struct proc p;
    start_sh(&p, "exit 7", PROC_DEVNULL, NULL, PROC_DEVNULL, NULL);
    assert_int_equal(proc_wait(&p, 5000), 1);
    assert_int_equal(proc_exit_code(&p), 7);
    char how[96];
    proc_describe(&p, how, sizeof(how));
    assert_string_equal(how, "exited with status 7");

    char errf[512], why[256];
    snprintf(errf, sizeof(errf), "%s/exec.err", tmpdir);
    const char *argv[] = {"/nonexistent/pushpull-nothing", NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "nothing",
                             .out = PROC_PIPE,
                             .err = PROC_FILE,
                             .err_path = errf};
    assert_int_equal(proc_start(&p, &spec, why, sizeof(why)), 0);
    char line[64];
    assert_int_equal(proc_first_line(&p, 5000, line, sizeof(line), why, sizeof(why)), -1);
    assert_non_null(strstr(why, "nothing exited with status 127 before printing its first "
                                "line: execv /nonexistent/pushpull-nothing: No such file"));
    proc_close(&p);

    /* a stream that cannot be opened is the caller's error, and nothing starts */
    spec.err_path = "/nonexistent/dir/x.err";
    assert_int_equal(proc_start(&p, &spec, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "cannot start nothing"));
    assert_non_null(strstr(why, "open /nonexistent/dir/x.err: No such file or directory"));
    assert_int_equal(p.pid, 0);
}

static volatile sig_atomic_t stop_now;

static void the_cancel_flag_ends_the_waits_not_the_stop(void **state)
{
    (void)state;
    struct proc p;
    start_sh(&p, "exec sleep 10", PROC_PIPE, NULL, PROC_INHERIT, NULL);
    proc_cancel_on(&stop_now);
    stop_now = 1;
    int64_t t0 = clock_mono_ns();
    assert_int_equal(proc_wait(&p, 5000), 0);
    char line[64], err[256];
    assert_int_equal(proc_first_line(&p, 5000, line, sizeof(line), err, sizeof(err)), -1);
    assert_string_equal(err, "interrupted while waiting for the script to start");
    assert_true((clock_mono_ns() - t0) / NS_PER_MS < 1000);
    assert_int_equal(proc_stop(&p, 5000), -1); /* the stop still happens */
    assert_false(p.running);
    proc_cancel_on(NULL);
    stop_now = 0;
    proc_close(&p);
}

/* proc_usage reads a running program's CPU and peak memory from /proc, and refuses once
 * it is reaped. The script spends CPU before it says so, then sleeps. */
static void usage_is_read_while_it_runs(void **state)
{
    (void)state;
    struct proc p;
    start_sh(
        &p,
        "i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; echo spent; exec sleep 10",
        PROC_PIPE, NULL, PROC_INHERIT, NULL);
    char line[64], err[256];
    assert_int_equal(proc_first_line(&p, 30000, line, sizeof(line), err, sizeof(err)), 0);
    assert_string_equal(line, "spent");
    double cpu = -1;
    long rss = -2;
    assert_int_equal(proc_usage(&p, &cpu, &rss), 0);
    assert_true(cpu > 0); /* 100,000 turns of the shell's loop: tens of clock ticks */
    assert_true(rss > 0);
    proc_stop(&p, 5000);
    assert_int_equal(proc_usage(&p, &cpu, &rss), -1);
    proc_close(&p);
}

static void a_bare_pid_can_be_adopted(void **state)
{
    (void)state;
    struct proc p, q;
    start_sh(&p, "exit 4", PROC_DEVNULL, NULL, PROC_DEVNULL, NULL);
    proc_adopt(&q, p.pid, "the adopted");
    assert_int_equal(proc_wait(&q, 5000), 1);
    assert_int_equal(proc_exit_code(&q), 4);
    assert_int_equal(proc_signal(&q, SIGTERM), -1); /* not running any more */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_line_comes_from_a_pipe),
        cmocka_unit_test(the_first_line_comes_from_a_file),
        cmocka_unit_test(a_program_that_exits_first_is_named_with_its_status),
        cmocka_unit_test(a_silent_program_is_reported_within_the_bound),
        cmocka_unit_test(sigterm_ignored_means_sigkill_after_the_grace),
        cmocka_unit_test(exit_statuses_and_exec_failures),
        cmocka_unit_test(the_cancel_flag_ends_the_waits_not_the_stop),
        cmocka_unit_test(a_bare_pid_can_be_adopted),
        cmocka_unit_test(usage_is_read_while_it_runs),
    };
    return cmocka_run_group_tests_name("proc", tests, setup, teardown);
}
