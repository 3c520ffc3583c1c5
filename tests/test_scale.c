/* test_scale.c: the load tier end to end (issue 16): pushpull-lab runs a scaled scenario
 * whose two server instances, Redis, HAProxy and two client partitions each sit in a
 * network namespace of the run's own, and one instance is crashed mid-window; every user
 * gets every update (the crashed instance's users resume on the other, through HAProxy,
 * or without a balancer by the client's failover to the next URL: nothing missed or
 * doubled), the merged result is the sum of the partitions', the
 * instances' /stats add up, run.json records every process, and every namespace is gone
 * at the end. Ctrl-C mid-run stops every process (by pid, checked) and removes the
 * namespaces. An ssh place is checked before anything starts: a host at another commit is
 * refused in one line (ssh is a stand-in script here, $PUSHPULL_SSH: nothing connects
 * anywhere), and `plan` shows the ssh command lines. The conductor and the programs are the
 * ASan/UBSan builds. Needs root (the namespaces), as test_netns does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "lab/lab.h"
#include "proc.h"

#define LAB "build/asan/bin/pushpull-lab"

static char tmp[] = "/tmp/pushpull-scale-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Start `pushpull-lab run FILE --out OUT`, its output in OUT.stdout and OUT.stderr. */
static void start_lab(struct proc *p, const char *file, const char *out)
{
    char o[4200], e[4200], why[512];
    snprintf(o, sizeof(o), "%s.stdout", out);
    snprintf(e, sizeof(e), "%s.stderr", out);
    const char *argv[] = {LAB, "run", file, "--out", out, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "pushpull-lab",
                             .out = PROC_FILE,
                             .out_path = o,
                             .err = PROC_FILE,
                             .err_path = e};
    if (proc_start(p, &spec, why, sizeof(why)) != 0)
        fail_msg("%s", why);
}

static cJSON *read_json(const char *dir, const char *name)
{
    char path[4400], err[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    cJSON *doc = lab_read_json(path, err, sizeof(err));
    if (!doc)
        fail_msg("%s", err);
    return doc;
}

/* Namespaces under /run/netns whose name starts "pp-PID-". */
static int namespaces_of(pid_t pid)
{
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "pp-%d-", (int)pid);
    DIR *d = opendir("/run/netns");
    int n = 0;
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static bool gone(double pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0;
}

/* A results field of a summary.json document. */
static double res(const cJSON *summary, const char *key)
{
    return lab_num(cJSON_GetObjectItemCaseSensitive(summary, "results"), key);
}

#define HOSTS_NO_LB                                                                        \
    "\"hosts\":{\"instances\":[\"netns:server-1\",\"netns:server-2\"],"                    \
    "\"redis\":\"netns:feed\",\"partitions\":[\"netns:load-1\",\"netns:load-2\"]}"
#define HOSTS                                                                              \
    "\"hosts\":{\"instances\":[\"netns:server-1\",\"netns:server-2\"],"                    \
    "\"redis\":\"netns:feed\",\"balancer\":\"netns:lb\","                                  \
    "\"partitions\":[\"netns:load-1\",\"netns:load-2\"]}"

/* 2000 SSE users (retry 100 ms) of two partitions, to two instances, through HAProxy or
 * each to instance (id mod 2); instance 2 crashed 1 s into a 6 s window. The warm-up is
 * 3 s: under ASan, on a busy machine, 2000 users take more than a second to connect, and
 * a user first connected after the window's first update has missed it (no cursor yet). */
static void run_scaled(bool haproxy)
{
    char file[4200], out[4200], dir[4300], text[2048];
    snprintf(file, sizeof(file), "%s/scale-%s.json", tmp, haproxy ? "haproxy" : "none");
    snprintf(text, sizeof(text),
             "{\"name\":\"scale\",\"description\":\"the load tier\","
             "\"duration_s\":6,\"warmup_s\":3,\"clients\":2000,"
             "\"updates\":{\"process\":\"periodic\",\"rate_hz\":5},"
             "\"approaches\":[{\"kind\":\"sse\",\"retry_ms\":100}],"
             "\"instances\":2,\"partitions\":2,\"balancer\":\"%s\","
             "\"instance_crash\":{\"instance\":2,\"at_s\":1},%s}",
             haproxy ? "haproxy" : "none", haproxy ? HOSTS : HOSTS_NO_LB);
    write_text(file, text);
    snprintf(out, sizeof(out), "%s/scale-%s", tmp, haproxy ? "haproxy" : "none");
    struct proc lab;
    start_lab(&lab, file, out);
    assert_int_equal(proc_wait(&lab, 90000), 1);
    if (proc_exit_code(&lab) != 0)
        fail_msg("the lab failed (see %s.stderr)", out);
    assert_int_equal(namespaces_of(lab.pid), 0);
    snprintf(dir, sizeof(dir), "%s/runs/sse-retry_ms=100", out);
    struct stat st;
    if (stat(dir, &st) != 0)
        snprintf(dir, sizeof(dir), "%s/runs/sse", out);

    /* every user got every update, none twice; users moved off the crashed instance */
    cJSON *sum = read_json(dir, "summary.json");
    double published = res(sum, "updates_published");
    if (res(sum, "updates_received") != res(sum, "updates_expected") || res(sum, "missed"))
        fail_msg("published %.0f, expected %.0f, received %.0f, missed %.0f, reconnects "
                 "%.0f, unseen %.0f (see %s)",
                 published, res(sum, "updates_expected"), res(sum, "updates_received"),
                 res(sum, "missed"), res(sum, "reconnects"), res(sum, "updates_unseen"),
                 dir);
    assert_true(published >= 25);
    assert_true(res(sum, "updates_expected") == 2000 * published);
    assert_true(res(sum, "updates_received") == res(sum, "updates_expected"));
    assert_true(res(sum, "missed") == 0);
    assert_true(res(sum, "duplicates") == 0);
    assert_true(res(sum, "reconnects") > 0);
    if (!haproxy) /* the client moved them: to the next URL, instance 1 */
        assert_true(res(sum, "failovers") == res(sum, "reconnects"));
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(sum, "partition");
    assert_true(lab_num(part, "count") == 2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "merged")));
    assert_true(lab_num(part, "users") == 2000);

    /* the merge is the partitions' sum */
    static const char *const adds[] = {"updates_received", "latency_count", "reconnects",
                                       "resp_body_bytes", "sse_events"};
    cJSON *p1 = read_json(dir, "partitions/1/summary.json");
    cJSON *p2 = read_json(dir, "partitions/2/summary.json");
    for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++)
        if (res(sum, adds[i]) != res(p1, adds[i]) + res(p2, adds[i]))
            fail_msg("%s: merged %.0f, partitions %.0f + %.0f", adds[i], res(sum, adds[i]),
                     res(p1, adds[i]), res(p2, adds[i]));
    assert_true(res(p1, "clients") + res(p2, "clients") == res(sum, "clients"));
    assert_true(lab_num(cJSON_GetObjectItemCaseSensitive(p1, "partition"), "users") ==
                1000);
    cJSON_Delete(p1);
    cJSON_Delete(p2);

    /* the instances' documents add up into the run's; both had users */
    cJSON *s1 = read_json(dir, "instances/1/server_stats.json");
    cJSON *s2 = read_json(dir, "instances/2/server_stats.json"); /* printed at its crash */
    cJSON *ss = read_json(dir, "server_stats.json");
    assert_true(lab_num(ss, "connections_total") ==
                lab_num(s1, "connections_total") + lab_num(s2, "connections_total"));
    assert_true(lab_num(ss, "cpu_s") > lab_num(s1, "cpu_s"));
    assert_true(lab_num(ss, "updates_published") == lab_num(s1, "updates_published"));
    assert_true(lab_num(s2, "updates_published") == 0); /* instance 1 publishes */
    assert_true(lab_num(ss, "newest_seq") == lab_num(s1, "newest_seq"));
    cJSON_Delete(s1);
    cJSON_Delete(s2);
    cJSON_Delete(ss);

    /* run.json: every process, its place, its end; the namespaces it made */
    cJSON *rec = read_json(dir, "run.json");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(rec, "scale");
    const cJSON *inst = cJSON_GetObjectItemCaseSensitive(sc, "instance");
    assert_int_equal(cJSON_GetArraySize(inst), 2);
    for (int k = 0; k < 2; k++) {
        const cJSON *m = cJSON_GetArrayItem(inst, k);
        assert_string_equal(lab_str(m, "place"), k ? "netns:server-2" : "netns:server-1");
        assert_string_equal(lab_str(m, "ended"), "exited with status 0");
        assert_true(gone(lab_num(m, "pid")));
        assert_true(lab_num(m, "connections_at_window") >= 900);
        const cJSON *argv = cJSON_GetObjectItemCaseSensitive(m, "argv");
        assert_string_equal(cJSON_GetArrayItem(argv, 1)->valuestring, "netns");
    }
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(sc, "partition");
    assert_int_equal(cJSON_GetArraySize(parts), 2);
    for (int i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetArrayItem(parts, i);
        assert_string_equal(lab_str(m, "ended"), "exited with status 0");
        assert_true(gone(lab_num(m, "pid")));
    }
    const cJSON *lb = cJSON_GetObjectItemCaseSensitive(sc, "balancer");
    if (haproxy) {
        assert_true(gone(lab_num(lb, "pid")));
        assert_true(lab_num(lb, "cpu_s") >= 0);
    } else {
        assert_true(cJSON_IsNull(lb));
    }
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sc, "namespaces")),
                     haproxy ? 6 : 5);
    assert_true(lab_num(cJSON_GetObjectItemCaseSensitive(sc, "instance_crash"),
                        "crash_unix_ns") > 0);
    const cJSON *redis = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(rec, "programs"), "redis");
    assert_true(gone(lab_num(redis, "pid")));
    assert_string_equal(lab_str(cJSON_GetObjectItemCaseSensitive(rec, "outcome"), "status"),
                        "ok");
    cJSON_Delete(rec);
    cJSON_Delete(sum);

    /* the report says how the users were spread */
    char path[4400];
    snprintf(path, sizeof(path), "%s/report.md", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, haproxy ? "2 server instances on one Redis feed, 2 client "
                                       "partitions merged, through HAProxy"
                                     : "2 server instances on one Redis feed, 2 client "
                                       "partitions merged, each user on instance (id mod "
                                       "instances)") != NULL &&
                strstr(line, "instance 2 (netns:server-2)") != NULL;
    fclose(f);
    assert_true(found);
}

static void two_instances_two_partitions_in_namespaces_through_haproxy(void **state)
{
    (void)state;
    run_scaled(true);
}

/* The same without a balancer: every partition gets both URLs, and the users of the
 * crashed instance fail over to the next URL themselves (the client's failovers). */
static void two_instances_two_partitions_in_namespaces_by_user_id(void **state)
{
    (void)state;
    run_scaled(false);
}

static void ctrl_c_stops_everything_and_removes_the_namespaces(void **state)
{
    (void)state;
    char file[4200], out[4200], path[4400], err[512];
    snprintf(file, sizeof(file), "%s/long.json", tmp);
    write_text(file,
               "{\"name\":\"long\",\"description\":\"to interrupt\","
               "\"duration_s\":60,\"warmup_s\":0.5,\"clients\":20,"
               "\"updates\":{\"process\":\"periodic\",\"rate_hz\":5},"
               "\"approaches\":[{\"kind\":\"sse\"}],"
               "\"instances\":2,\"partitions\":2,\"balancer\":\"haproxy\"," HOSTS "}");
    snprintf(out, sizeof(out), "%s/long", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    snprintf(path, sizeof(path), "%s/runs/sse/run.json", out);
    cJSON *rec = NULL;
    int64_t end = clock_mono_ns() + 60 * NS_PER_S;
    while (clock_mono_ns() < end) {
        rec = lab_read_json(path, err, sizeof(err));
        if (rec &&
            strcmp(lab_str(cJSON_GetObjectItemCaseSensitive(rec, "outcome"), "status"),
                   "running") == 0)
            break;
        cJSON_Delete(rec);
        rec = NULL;
        usleep(50 * 1000);
    }
    assert_non_null(rec);
    assert_int_equal(namespaces_of(lab.pid), 6);
    assert_int_equal(proc_signal(&lab, SIGINT), 0);
    assert_int_equal(proc_wait(&lab, 30000), 1);
    assert_int_equal(proc_exit_code(&lab), 130);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(rec, "scale");
    static const char *const roles[] = {"instance", "partition"};
    for (size_t r = 0; r < 2; r++) {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sc, roles[r]))
            assert_true(gone(lab_num(m, "pid")));
    }
    assert_true(gone(lab_num(cJSON_GetObjectItemCaseSensitive(sc, "balancer"), "pid")));
    assert_int_equal(namespaces_of(lab.pid), 0);
    cJSON_Delete(rec);
    cJSON *after = lab_read_json(path, err, sizeof(err));
    assert_non_null(after);
    assert_string_equal(
        lab_str(cJSON_GetObjectItemCaseSensitive(after, "outcome"), "status"),
        "interrupted");
    cJSON_Delete(after);
}

static void an_ssh_host_at_another_commit_is_refused_first(void **state)
{
    (void)state;
    char file[4200], out[4200], fake[4200], path[4400];
    /* the stand-in for ssh: answers the check with a commit that is not this one */
    snprintf(fake, sizeof(fake), "%s/fake-ssh", tmp);
    write_text(fake, "#!/bin/sh\necho 0123456789abcdef0123456789abcdef01234567\n");
    assert_int_equal(chmod(fake, 0755), 0);
    setenv("PUSHPULL_SSH", fake, 1);
    snprintf(file, sizeof(file), "%s/ssh.json", tmp);
    write_text(
        file,
        "{\"name\":\"ssh\",\"description\":\"a remote partition\","
        "\"duration_s\":2,\"warmup_s\":0.5,\"clients\":20,"
        "\"updates\":{\"process\":\"periodic\",\"rate_hz\":5},"
        "\"approaches\":[{\"kind\":\"sse\"}],\"partitions\":2,"
        "\"hosts\":{\"instances\":\"ssh:lab@load-2\",\"partitions\":\"ssh:lab@load-2\","
        "\"remote_dir\":\"/srv/pushpull\"}}");
    snprintf(out, sizeof(out), "%s/ssh", tmp);
    struct proc lab;
    start_lab(&lab, file, out);
    unsetenv("PUSHPULL_SSH");
    assert_int_equal(proc_wait(&lab, 30000), 1);
    assert_int_equal(proc_exit_code(&lab), 1);
    snprintf(path, sizeof(path), "%s.stderr", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "run sse: hosts: ssh:lab@load-2: expected pushpull at "
                                 "commit "));
    assert_non_null(strstr(line, " in /srv/pushpull, got "
                                 "0123456789abcdef0123456789abcdef01234567\n"));
    /* nothing was started: no partition ran */
    snprintf(path, sizeof(path), "%s/runs/sse/partitions/1/client.txt", out);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
}

/* `plan` shows each process of a scaled run where it will run: the ssh command lines
 * (every word quoted for the remote shell) and each host's check, without connecting. */
static void plan_shows_the_ssh_command_lines(void **state)
{
    (void)state;
    char file[4200], outf[4200], why[512];
    snprintf(file, sizeof(file), "%s/plan-ssh.json", tmp);
    write_text(file,
               "{\"name\":\"plan-ssh\",\"description\":\"d\",\"duration_s\":4,"
               "\"clients\":2000,\"updates\":{\"process\":\"periodic\",\"rate_hz\":5},"
               "\"approaches\":[{\"kind\":\"sse\"}],\"partitions\":2,"
               "\"hosts\":{\"instances\":\"ssh:lab@10.0.0.11\","
               "\"partitions\":[\"ssh:lab@load-1\",\"ssh:lab@load-2\"],"
               "\"remote_dir\":\"/srv/it's\"}}");
    snprintf(outf, sizeof(outf), "%s/plan-ssh.out", tmp);
    const char *argv[] = {LAB, "plan", file, NULL};
    struct proc p;
    struct proc_spec spec = {.argv = argv,
                             .name = "pushpull-lab plan",
                             .out = PROC_FILE,
                             .out_path = outf,
                             .err = PROC_DEVNULL};
    if (proc_start(&p, &spec, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    assert_int_equal(proc_wait(&p, 30000), 1);
    assert_int_equal(proc_exit_code(&p), 0);
    FILE *f = fopen(outf, "r");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(
        text, "\n  instance 1 at ssh:lab@10.0.0.11: /usr/bin/ssh -o BatchMode=yes -o "
              "ConnectTimeout=10 lab@10.0.0.11 -- cd '/srv/it'\\''s' && exec "
              "'/srv/it'\\''s/bin/pushpull-server' '--bind' '0.0.0.0' '--port' '0' "));
    assert_non_null(strstr(text, "\n  partition 2/2 at ssh:lab@load-2: /usr/bin/ssh -o "
                                 "BatchMode=yes -o ConnectTimeout=10 lab@load-2 -- cd "
                                 "'/srv/it'\\''s' && exec "
                                 "'/srv/it'\\''s/bin/pushpull-client' '--server' "
                                 "'INSTANCE_URLS' '--out' "
                                 "'/srv/it'\\''s/results/remote/sse/partition-2' '--label' "
                                 "'sse' '--partition' '2/2' "));
    assert_non_null(strstr(text, "\n  check at ssh:lab@load-1: /usr/bin/ssh -o "
                                 "BatchMode=yes -o ConnectTimeout=10 lab@load-1 -- git -C "
                                 "'/srv/it'\\''s' rev-parse HEAD && test -x "
                                 "'/srv/it'\\''s'/bin/pushpull-server\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_instances_two_partitions_in_namespaces_through_haproxy),
        cmocka_unit_test(two_instances_two_partitions_in_namespaces_by_user_id),
        cmocka_unit_test(ctrl_c_stops_everything_and_removes_the_namespaces),
        cmocka_unit_test(an_ssh_host_at_another_commit_is_refused_first),
        cmocka_unit_test(plan_shows_the_ssh_command_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
