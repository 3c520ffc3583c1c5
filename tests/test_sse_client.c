/* test_sse_client.c: the client's SSE protocol handling, against a scripted fake server.
 *
 * A thread in this test listens on a free loopback port and answers each /events request
 * from a script (status, headers, body, then close), recording every request head and
 * when it came. The real pushpull-client binary runs one user against it. The client's
 * observer connection (recognised by its first request's "Last-Event-ID: 0") gets an open,
 * silent stream so it stays out of the script. Checked: reconnect after the stream's
 * retry delay with Last-Event-ID; event: reset counted; event: end stops the user; 204
 * stops it; a wrong Content-Type is an error and stops it with no reconnect loop; a stream
 * the server ended without event: end is one outage, over when the next stream opens; a
 * failure before any stream opened is none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_harness.h"
#include "clock.h"
#include "dynbuf.h"

#define MAX_CONNS 8

struct fake {
    int lfd; /* listening socket */
    unsigned port;
    const char *const *script;    /* responses for the user's connections, in order; %T is
                                     replaced by a fresh publish stamp */
    int served;                   /* user connections answered */
    char heads[MAX_CONNS][2048];  /* the user's request heads */
    int64_t at_ns[MAX_CONNS];     /* when each arrived (monotonic) */
    int64_t closed_ns[MAX_CONNS]; /* when we closed each */
    int observer_fds[4];          /* held open until the end */
    int nobserver;
    int64_t stop_ns; /* serve until then */
    pthread_t thread;
};

/* The response text with every %T replaced by the real-time clock in ns. */
static void expand(const char *tmpl, struct dynbuf *out)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '%' && p[1] == 'T') {
            dynbuf_addf(out, "%" PRId64, clock_real_ns());
            p++;
        } else {
            dynbuf_add(out, p, 1);
        }
    }
}

static int read_head(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 100 && !strstr(buf, "\r\n\r\n"); i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2000) != 1)
            return -1;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return 0;
}

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    while (clock_mono_ns() < f->stop_ns) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) != 1)
            continue;
        int c = accept(f->lfd, NULL, NULL);
        if (c < 0)
            continue;
        char head[2048];
        if (read_head(c, head, sizeof(head)) != 0) {
            close(c);
            continue;
        }
        if (strstr(head, "Last-Event-ID: 0\r\n") && f->nobserver < 4) {
            const char open[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                "Connection: close\r\n\r\n: observer\n\n";
            if (write(c, open, sizeof(open) - 1) < 0)
                perror("write");
            f->observer_fds[f->nobserver++] = c;
            continue;
        }
        int i = f->served;
        if (i < MAX_CONNS) {
            snprintf(f->heads[i], sizeof(f->heads[i]), "%s", head);
            f->at_ns[i] = clock_mono_ns();
        }
        const char *tmpl = (i < MAX_CONNS && f->script[i]) ? f->script[i]
                                                           : "HTTP/1.1 503 Busy\r\n"
                                                             "Content-Length: 0\r\n\r\n";
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        expand(tmpl, &out);
        if (out.mem && write(c, out.mem, out.len) < 0)
            perror("write");
        dynbuf_free(&out);
        close(c);
        if (i < MAX_CONNS)
            f->closed_ns[i] = clock_mono_ns();
        f->served++;
    }
    for (int i = 0; i < f->nobserver; i++)
        close(f->observer_fds[i]);
    return NULL;
}

static void fake_start(struct fake *f, const char *const *script, int64_t run_ns)
{
    memset(f, 0, sizeof(*f));
    f->script = script;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    int one = 1;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    f->stop_ns = clock_mono_ns() + run_ns;
    assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->thread, NULL);
    close(f->lfd);
}

/* One user for 1.5 s against the fake; the client must exit want_rc (3: its user received
 * nothing, said on one line of stderr). Returns the summary (caller deletes). */
static cJSON *run_one_user(struct fake *f, char *dir, size_t dirlen, int want_rc)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
    assert_int_equal(client_harness_tempdir(dir, dirlen), 0);
    const char *args[] = {"--server", url,        "--approach", "sse",        "--clients",
                          "1",        "--warmup", "0",          "--duration", "1500ms",
                          "--drain",  "200ms",    "--out",      dir,          NULL};
    int rc = client_harness_run(dir, args, 30);
    char *err = client_harness_slurp(dir, "stderr.txt");
    if (rc != want_rc)
        fail_msg("client exited %d, want %d: %s", rc, want_rc, err ? err : "");
    if (want_rc == 3 &&
        (!err || !strstr(err, "pushpull-client: no user received anything")))
        fail_msg("no verdict line on stderr: %s", err ? err : "");
    free(err);
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    return root;
}

static double res(const cJSON *root, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "results.%s", field);
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("no %s", path);
    return v;
}

#define STREAM_HEAD                                                                        \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
#define UPDATE(n) "id: " #n "\ndata: {\"seq\":" #n ",\"ts_ns\":%T,\"data\":\"x\"}\n\n"

static void test_reconnect_with_last_event_id(void **state)
{
    (void)state;
    static const char *const script[] = {
        STREAM_HEAD "retry: 150\n\n" UPDATE(1) UPDATE(2),
        STREAM_HEAD "event: reset\ndata: {}\n\n" UPDATE(5) "event: end\ndata: {}\n\n",
        NULL,
    };
    struct fake f;
    char dir[64];
    fake_start(&f, script, 3 * NS_PER_S);
    cJSON *root = run_one_user(&f, dir, sizeof(dir), 0);
    fake_stop(&f);
    assert_int_equal(f.served, 2); /* stopped after event: end: no third connection */
    assert_null(strstr(f.heads[0], "Last-Event-ID"));
    assert_non_null(strstr(f.heads[0], "GET /events HTTP/1.1\r\n"));
    assert_non_null(strstr(f.heads[1], "\r\nLast-Event-ID: 2\r\n"));
    double gap_ms = (double)(f.at_ns[1] - f.closed_ns[0]) / NS_PER_MS;
    if (gap_ms < 140 || gap_ms > 1000)
        fail_msg("reconnected %.0f ms after the close, retry was 150 ms", gap_ms);
    assert_true(res(root, "resets") == 1);
    assert_true(res(root, "users_stopped") == 1);
    assert_true(res(root, "reconnects") == 1);
    assert_true(res(root, "requests_run") == 2);
    assert_true(res(root, "sse_events") == 5); /* 1, 2, reset, 5, end */
    assert_true(res(root, "updates_received") == 3);
    assert_true(res(root, "errors_status") == 0);
    assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
    /* the first stream ended without goodbye: down until the second one opened, one retry
     * delay later; the second ended with event: end, which is no outage */
    assert_true(res(root, "outages") == 1);
    assert_true(res(root, "outages_open") == 0);
    double outage_ms = res(root, "outage_max_ms");
    if (outage_ms < 140 || outage_ms > 1000)
        fail_msg("outage of %.0f ms, retry was 150 ms", outage_ms);
    assert_true(res(root, "outage_mean_ms") == outage_ms);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_204_stops(void **state)
{
    (void)state;
    static const char *const script[] = {
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        NULL,
    };
    struct fake f;
    char dir[64];
    fake_start(&f, script, 3 * NS_PER_S);
    cJSON *root = run_one_user(&f, dir, sizeof(dir), 3);
    fake_stop(&f);
    assert_int_equal(f.served, 1);
    assert_true(res(root, "users_stopped") == 1);
    assert_true(res(root, "responses_empty") == 1);
    assert_true(res(root, "errors_status") == 0);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_wrong_type_is_an_error_without_retry(void **state)
{
    (void)state;
    static const char *const script[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
        "retry: 10\n\n" UPDATE(1),
        NULL,
    };
    struct fake f;
    char dir[64];
    fake_start(&f, script, 3 * NS_PER_S);
    cJSON *root = run_one_user(&f, dir, sizeof(dir), 3);
    fake_stop(&f);
    assert_int_equal(f.served, 1);
    assert_true(res(root, "errors_status") == 1);
    assert_true(res(root, "users_stopped") == 1);
    assert_true(res(root, "updates_received") == 0); /* the body was not read as events */
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_error_status_stops(void **state)
{
    (void)state;
    static const char *const script[] = {
        "HTTP/1.1 500 Oops\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\n{}",
        NULL,
    };
    struct fake f;
    char dir[64];
    fake_start(&f, script, 3 * NS_PER_S);
    cJSON *root = run_one_user(&f, dir, sizeof(dir), 3);
    fake_stop(&f);
    assert_int_equal(f.served, 1);
    assert_true(res(root, "errors_status") == 1);
    assert_true(res(root, "users_stopped") == 1);
    assert_true(res(root, "outages") == 0); /* it never had a stream to lose */
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconnect_with_last_event_id),
        cmocka_unit_test(test_204_stops),
        cmocka_unit_test(test_wrong_type_is_an_error_without_retry),
        cmocka_unit_test(test_error_status_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
