/* test_nginx_conf.c: the nginx + nchan configuration the bench writes
 * (bench/nginx_conf.c): every file nginx writes lands under the prefix, it listens on
 * loopback only, each subscriber type has its own location, unsafe paths are refused,
 * and (when nginx and the nchan module are installed) `nginx -t` accepts it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/nginx_conf.h"
#include "dynbuf.h"

static struct nginx_conf sample(const char *dir)
{
    struct nginx_conf c = {.dir = dir,
                           .module = NGINX_NCHAN_MODULE,
                           .port = 18123,
                           .workers = 2,
                           .connections = 20000,
                           .buffer = 16,
                           .user = NULL,
                           .access_log = 0};
    return c;
}

static void test_everything_under_the_prefix(void **state)
{
    (void)state;
    struct nginx_conf c = sample("/tmp/bench-x");
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    assert_int_equal(nginx_conf_write(&b, &c), 0);
    const char *t = b.mem;
    assert_non_null(strstr(t, "load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n"));
    assert_non_null(strstr(t, "daemon off;\n"));
    assert_non_null(strstr(t, "pid /tmp/bench-x/nginx.pid;\n"));
    assert_non_null(strstr(t, "error_log /tmp/bench-x/error.log warn;\n"));
    assert_non_null(strstr(t, "client_body_temp_path /tmp/bench-x/temp/client_body;\n"));
    assert_non_null(strstr(t, "access_log off;\n"));
    assert_non_null(strstr(t, "listen 127.0.0.1:18123 backlog=4096;\n"));
    assert_non_null(strstr(t, "worker_connections 20000;\n"));
    assert_non_null(strstr(t, "worker_rlimit_nofile 20000;\n"));
    assert_null(strstr(t, "user "));
    /* no path outside the prefix but the module; no other listen */
    assert_null(strstr(t, "/etc/"));
    assert_null(strstr(t, "/var/"));
    assert_null(strstr(t, "/run/"));
    const char *p = strstr(t, "listen");
    assert_null(strstr(p + 1, "listen"));
    /* one location per subscriber type, and the publisher and status */
    assert_non_null(strstr(t, "location = /sub/events {\n            nchan_subscriber "
                              "eventsource;\n            nchan_subscriber_first_message "
                              "newest;"));
    assert_non_null(
        strstr(t, "location = /sub/ws {\n            nchan_subscriber websocket;"));
    assert_non_null(
        strstr(t, "location = /sub/poll {\n            nchan_subscriber intervalpoll;"));
    assert_non_null(
        strstr(t, "location = /sub/longpoll {\n            nchan_subscriber longpoll;"));
    assert_non_null(strstr(t, "location = /pub {\n            nchan_publisher;"));
    assert_non_null(
        strstr(t, "location = /nchan_status {\n            nchan_stub_status;"));
    /* braces balance */
    int depth = 0;
    for (const char *q = t; *q; q++) {
        depth += *q == '{';
        depth -= *q == '}';
        assert_true(depth >= 0);
    }
    assert_int_equal(depth, 0);
    dynbuf_free(&b);

    c.user = "nobody nogroup";
    c.access_log = 1;
    dynbuf_init(&b, 1 << 16);
    assert_int_equal(nginx_conf_write(&b, &c), 0);
    assert_non_null(strstr(b.mem, "\nuser nobody nogroup;\n"));
    assert_non_null(strstr(b.mem, "access_log /tmp/bench-x/access.log;\n"));
    dynbuf_free(&b);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *bad_dirs[] = {"relative/dir",
                              "/tmp/with space",
                              "/tmp/semi;colon",
                              "/tmp/brace{",
                              "/tmp/$var",
                              "/tmp/quote\"",
                              "",
                              "/tmp/new\nline"};
    struct dynbuf b;
    for (size_t i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
        struct nginx_conf c = sample(bad_dirs[i]);
        dynbuf_init(&b, 1 << 16);
        if (nginx_conf_write(&b, &c) != -1)
            fail_msg("accepted dir \"%s\"", bad_dirs[i]);
        dynbuf_free(&b);
    }
    struct nginx_conf c = sample("/tmp/ok");
    c.user = "a b c"; /* user and group only */
    dynbuf_init(&b, 1 << 16);
    assert_int_equal(nginx_conf_write(&b, &c), -1);
    c = sample("/tmp/ok");
    c.port = 0;
    assert_int_equal(nginx_conf_write(&b, &c), -1);
    c = sample("/tmp/ok");
    c.workers = 0;
    assert_int_equal(nginx_conf_write(&b, &c), -1);
    /* a buffer too small for the config: -1 and nothing half-written */
    c = sample("/tmp/ok");
    dynbuf_free(&b);
    dynbuf_init(&b, 100);
    assert_int_equal(nginx_conf_write(&b, &c), -1);
    assert_int_equal(b.len, 0);
    dynbuf_free(&b);
}

/* The real nginx accepts what we write (skipped where nginx or nchan is missing). */
static void test_nginx_accepts_it(void **state)
{
    (void)state;
    if (access("/usr/sbin/nginx", X_OK) != 0 || access(NGINX_NCHAN_MODULE, R_OK) != 0)
        skip();
    char dir[] = "/tmp/pushpull-nginx-conf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct nginx_conf c = sample(dir);
    c.user = geteuid() == 0 ? "nobody nogroup" : NULL;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    assert_int_equal(nginx_conf_write(&b, &c), 0);
    char path[256], cmd[1024];
    snprintf(path, sizeof(path), "%s/temp", dir); /* the bench makes it, as here */
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/nginx.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(b.mem, 1, b.len, f);
    fclose(f);
    dynbuf_free(&b);
    snprintf(cmd, sizeof(cmd),
             "/usr/sbin/nginx -t -q -p %s -c %s/nginx.conf -e %s/error.log >%s/t.out 2>&1",
             dir, dir, dir, dir);
    int st = system(cmd);
    if (st != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/t.out", dir);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(st, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything_under_the_prefix),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_nginx_accepts_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
