/* test_sse_testservice.c: pushpull-sse-testservice, driven as the SSE contract suite
 * (launchdarkly/sse-contract-tests) drives it.
 *
 * The ASan build of the service runs on port 0 ($PUSHPULL_SSE_TESTSERVICE). Each test
 * starts two tiny servers on 127.0.0.1:0, each one thread: a callback listener that
 * records every POST callbackUrl/N (path and JSON body) and answers 202, and a scripted
 * SSE stream server that answers its Nth connection with the Nth step of a script (raw
 * response bytes, then hold the connection open for a while, optionally sending a chunk
 * every 100 ms) and records each request head and when it came and went. The tests then
 * check what the suite checks: capabilities, 201 + Location, 400 naming the field,
 * numbered ordered callbacks for events, comments and ids, Last-Event-ID after a restart
 * and after the server closes, retry honoured, 204 stops, a wrong Content-Type is one
 * error with no reconnect loop, a connection closed before any response or refused is
 * an error that reconnects (never "status 0"), redirects, a 3 MB event, DELETE stops
 * callbacks, 404 for unknown streams, the optional request settings, the read timeout,
 * and exit 0 at SIGTERM with ASan watching. Every wait is bounded; the service is stopped
 * by pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "dynbuf.h"
#include "harness.h"

#define MAX_CONNS 8
#define MAX_CBS   64
#define MAX_STEPS 4

static struct harness_server svc; /* the service under test */

/* ---- small sockets helpers ---------------------------------------------- */

/* A listening socket on 127.0.0.1:*port (0: any free port); its port in *port. -1 on
 * failure. */
static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

/* Accept within timeout_ms, or -1. */
static int accept_within(int lfd, int timeout_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* Read one request (head and a Content-Length body) into req within 5 s. 0 or -1. */
static int read_request(int fd, struct dynbuf *req, size_t *head_len)
{
    if (harness_read_until(fd, req, "\r\n\r\n", 5000) != 1)
        return -1;
    *head_len = (size_t)(strstr(req->mem, "\r\n\r\n") - req->mem) + 4;
    const char *cl = strcasestr(req->mem, "\r\ncontent-length:");
    size_t want = cl && cl < req->mem + *head_len ? strtoul(cl + 17, NULL, 10) : 0;
    int64_t end = harness_now_ms() + 5000;
    while (req->len < *head_len + want && harness_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) != 1)
            continue;
        char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n <= 0 || dynbuf_add(req, tmp, (size_t)n) != 0)
            return -1;
    }
    return req->len >= *head_len + want ? 0 : -1;
}

/* ---- the callback listener ----------------------------------------------- */

struct cbl {
    int lfd;
    unsigned port;
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop;
    int n;               /* callbacks received */
    char *path[MAX_CBS]; /* request targets, in arrival order (owned) */
    char *body[MAX_CBS]; /* their bodies (owned) */
};

static void *cbl_main(void *arg)
{
    struct cbl *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            return NULL;
        int fd = accept_within(c->lfd, 50);
        if (fd < 0)
            continue;
        struct dynbuf req;
        dynbuf_init(&req, (size_t)64 << 20);
        size_t head_len = 0;
        if (read_request(fd, &req, &head_len) == 0) {
            const char *sp = strchr(req.mem, ' ');
            const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
            pthread_mutex_lock(&c->mu);
            if (sp2 && c->n < MAX_CBS) {
                c->path[c->n] = strndup(sp + 1, (size_t)(sp2 - sp - 1));
                c->body[c->n] = strndup(req.mem + head_len, req.len - head_len);
                c->n++;
            }
            pthread_mutex_unlock(&c->mu);
            static const char ok[] =
                "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            harness_send(fd, ok, sizeof(ok) - 1);
        }
        dynbuf_free(&req);
        close(fd);
    }
}

static void cbl_start(struct cbl *c)
{
    memset(c, 0, sizeof(*c)); /* port 0: any free one */
    pthread_mutex_init(&c->mu, NULL);
    c->lfd = listen_loopback(&c->port);
    assert_true(c->lfd >= 0);
    assert_int_equal(pthread_create(&c->thread, NULL, cbl_main, c), 0);
}

static void cbl_stop(struct cbl *c)
{
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    close(c->lfd);
    for (int i = 0; i < c->n; i++) {
        free(c->path[i]);
        free(c->body[i]);
    }
    pthread_mutex_destroy(&c->mu);
}

static int cbl_count(struct cbl *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Wait (at most timeout_ms) for the nth callback (from 1); check it went to /cb/n and
 * return its parsed body (caller deletes), or NULL. */
static cJSON *cbl_wait(struct cbl *c, int nth, int timeout_ms)
{
    int64_t end = harness_now_ms() + timeout_ms;
    while (cbl_count(c) < nth && harness_now_ms() < end)
        harness_sleep_ms(5);
    if (cbl_count(c) < nth)
        return NULL;
    char want[32];
    snprintf(want, sizeof(want), "/cb/%d", nth);
    pthread_mutex_lock(&c->mu);
    bool path_ok = strcmp(c->path[nth - 1], want) == 0;
    cJSON *j = cJSON_Parse(c->body[nth - 1]);
    if (!path_ok)
        fprintf(stderr, "callback %d went to %s\n", nth, c->path[nth - 1]);
    pthread_mutex_unlock(&c->mu);
    if (!path_ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static const char *jstr(const cJSON *j, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The nth callback must be an event with this data and id (type "message"). */
static void expect_event(struct cbl *c, int nth, const char *type, const char *data,
                         const char *id)
{
    cJSON *j = cbl_wait(c, nth, 5000);
    assert_non_null(j);
    assert_string_equal(jstr(j, "kind", NULL), "event");
    assert_string_equal(jstr(j, "event", "type"), type);
    assert_string_equal(jstr(j, "event", "data"), data);
    assert_string_equal(jstr(j, "event", "id"), id);
    cJSON_Delete(j);
}

static void expect_kind(struct cbl *c, int nth, const char *kind, const char *field,
                        const char *value)
{
    cJSON *j = cbl_wait(c, nth, 5000);
    assert_non_null(j);
    assert_string_equal(jstr(j, "kind", NULL), kind);
    if (value)
        assert_string_equal(jstr(j, field, NULL), value);
    else
        assert_non_null(jstr(j, field, NULL));
    cJSON_Delete(j);
}

/* ---- the scripted stream server ----------------------------------------- */

struct step {
    const char *resp; /* raw response bytes, head and (start of the) body */
    size_t len;       /* 0: strlen(resp) */
    int hold_ms;      /* keep the connection open this long (peer EOF or a new
                         connection end it sooner) */
    const char *drip; /* sent every 100 ms while holding, or NULL */
};

struct fake {
    int lfd;
    unsigned port;
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop;
    struct step script[MAX_STEPS]; /* connection i gets script[i]; later ones are closed */
    int served;                    /* connections accepted */
    char *head[MAX_CONNS];         /* their request heads and bodies (owned) */
    int64_t at_ms[MAX_CONNS];      /* when each came */
    int64_t closed_ms[MAX_CONNS];  /* when each ended */
    bool peer_closed[MAX_CONNS];   /* the client closed it while held */
};

static bool fake_stopping(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    bool stop = f->stop;
    pthread_mutex_unlock(&f->mu);
    return stop;
}

/* Hold fd per the step; returns true if the peer closed. */
static bool fake_hold(struct fake *f, int fd, const struct step *st)
{
    int64_t end = harness_now_ms() + st->hold_ms;
    int64_t next_drip = harness_now_ms() + 100;
    while (harness_now_ms() < end && !fake_stopping(f)) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                              {.fd = f->lfd, .events = POLLIN}};
        if (poll(p, 2, 10) > 0) {
            if (p[0].revents) {
                char tmp[4096];
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n <= 0)
                    return true;
            }
            if (p[1].revents)
                return false; /* a new connection: this one is over for the test */
        }
        if (st->drip && harness_now_ms() >= next_drip) {
            next_drip += 100;
            if (harness_send(fd, st->drip, strlen(st->drip)) != 0)
                return true;
        }
    }
    return false;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!fake_stopping(f)) {
        int fd = accept_within(f->lfd, 50);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&f->mu);
        int i = f->served < MAX_CONNS ? f->served++ : -1;
        if (i >= 0)
            f->at_ms[i] = harness_now_ms();
        pthread_mutex_unlock(&f->mu);
        struct dynbuf req;
        dynbuf_init(&req, 1 << 20);
        size_t head_len = 0;
        if (i >= 0 && read_request(fd, &req, &head_len) == 0) {
            pthread_mutex_lock(&f->mu);
            f->head[i] = strndup(req.mem, req.len);
            pthread_mutex_unlock(&f->mu);
            if (i < MAX_STEPS && f->script[i].resp) {
                const struct step *st = &f->script[i];
                size_t len = st->len ? st->len : strlen(st->resp);
                if (harness_send(fd, st->resp, len) == 0) {
                    bool gone = fake_hold(f, fd, st);
                    pthread_mutex_lock(&f->mu);
                    f->peer_closed[i] = gone;
                    pthread_mutex_unlock(&f->mu);
                }
            }
        }
        dynbuf_free(&req);
        close(fd);
        if (i >= 0) {
            pthread_mutex_lock(&f->mu);
            f->closed_ms[i] = harness_now_ms();
            pthread_mutex_unlock(&f->mu);
        }
    }
    return NULL;
}

/* Listen on port (0: any free one) first, so a script can name the port; then fake_run. */
static void fake_listen_on(struct fake *f, unsigned port)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->port = port;
    f->lfd = listen_loopback(&f->port);
    assert_true(f->lfd >= 0);
}

static void fake_listen(struct fake *f)
{
    fake_listen_on(f, 0);
}

static void fake_run(struct fake *f)
{
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    close(f->lfd);
    for (int i = 0; i < MAX_CONNS; i++)
        free(f->head[i]);
    pthread_mutex_destroy(&f->mu);
}

static int fake_served(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->served;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Wait at most timeout_ms for connection i's head; a copy (caller frees) or NULL. */
static char *fake_head(struct fake *f, int i, int timeout_ms)
{
    int64_t end = harness_now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        char *h = f->head[i] ? strdup(f->head[i]) : NULL;
        pthread_mutex_unlock(&f->mu);
        if (h || harness_now_ms() >= end)
            return h;
        harness_sleep_ms(5);
    }
}

#define SSE_200                                                                            \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: "                \
    "no-cache\r\n\r\n"

/* ---- talking to the service --------------------------------------------- */

/* POST / with streamUrl (path on the fake), callbackUrl /cb and extra JSON members
 * (",\"a\":1" or ""). Returns the stream number from Location, or 0. */
static unsigned create_stream(const struct fake *f, const struct cbl *c, const char *path,
                              const char *extra)
{
    struct dynbuf body;
    dynbuf_init(&body, 1 << 16);
    dynbuf_addf(&body,
                "{\"streamUrl\":\"http://127.0.0.1:%u%s\",\"callbackUrl\":\"http://"
                "127.0.0.1:%u/cb\",\"tag\":\"t\"%s}",
                f->port, path, c->port, extra);
    struct harness_response r;
    unsigned id = 0;
    if (harness_http(svc.port, "POST", "/", "Content-Type: application/json\r\n", body.mem,
                     body.len, &r) == 0) {
        char loc[128];
        if (r.status == 201 && harness_header(&r, "Location", loc, sizeof(loc)) == 0 &&
            strncmp(loc, "/streams/", 9) == 0)
            id = (unsigned)strtoul(loc + 9, NULL, 10);
        harness_response_free(&r);
    }
    dynbuf_free(&body);
    return id;
}

static int stream_request(const char *method, unsigned id, const char *body)
{
    char target[64];
    snprintf(target, sizeof(target), "/streams/%u", id);
    struct harness_response r;
    if (harness_http(svc.port, method, target, NULL, body, body ? strlen(body) : 0, &r) !=
        0)
        return -1;
    int status = r.status;
    harness_response_free(&r);
    return status;
}

/* ---- tests -------------------------------------------------------------- */

static void capabilities_are_listed(void **state)
{
    (void)state;
    struct harness_response r;
    assert_int_equal(harness_http(svc.port, "GET", "/", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(j);
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(j, "capabilities");
    assert_true(cJSON_IsArray(caps));
    const char *want[] = {"comments",     "restart",
                          "headers",      "last-event-id",
                          "read-timeout", "server-directed-shutdown-request"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool found = false;
        const cJSON *v;
        cJSON_ArrayForEach(v, caps) found |=
            cJSON_IsString(v) && !strcmp(v->valuestring, want[i]);
        assert_true(found);
    }
    cJSON_Delete(j);
    harness_response_free(&r);
}

/* POST / with body; the status, and whether the answer's body contains `needle`. */
static void expect_400(const char *body, const char *needle)
{
    struct harness_response r;
    assert_int_equal(harness_http(svc.port, "POST", "/", NULL, body, strlen(body), &r), 0);
    assert_int_equal(r.status, 400);
    char *text = strndup(r.body, r.body_len);
    if (!strstr(text, needle))
        fprintf(stderr, "400 body %s lacks %s\n", text, needle);
    assert_non_null(strstr(text, needle));
    free(text);
    harness_response_free(&r);
}

static void bad_requests_are_refused(void **state)
{
    (void)state;
    expect_400("{\"callbackUrl\":\"http://127.0.0.1:9/cb\"}", "streamUrl");
    expect_400("{\"streamUrl\":\"http://127.0.0.1:9/s\"}", "callbackUrl");
    expect_400("{\"streamUrl\":", "body");
    expect_400("{\"streamUrl\":\"http://127.0.0.1:9/s\",\"callbackUrl\":\"http://"
               "127.0.0.1:9/cb\",\"initialDelayMs\":\"soon\"}",
               "initialDelayMs");
    assert_int_equal(stream_request("POST", 999, "{\"command\":\"restart\"}"), 404);
    assert_int_equal(stream_request("DELETE", 999, NULL), 404);
    struct harness_response r;
    assert_int_equal(harness_http(svc.port, "GET", "/nowhere", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 404);
    harness_response_free(&r);
}

static void events_comments_and_ids_arrive_in_order(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] =
        (struct step){SSE_200 ":hello\nid: 1\ndata: one\n\nevent: put\ndata: two\n"
                              "data: lines\n\n:c2\r\ndata: three\rid: 3\r\r"
                              "data: four\n\n",
                      0, 5000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", "");
    assert_true(id > 0);

    expect_kind(&c, 1, "comment", "comment", "hello");
    expect_event(&c, 2, "message", "one", "1");
    expect_event(&c, 3, "put", "two\nlines", "1");
    expect_kind(&c, 4, "comment", "comment", "c2");
    expect_event(&c, 5, "message", "three", "3");
    expect_event(&c, 6, "message", "four", "3");

    char *h = fake_head(&f, 0, 1000);
    assert_non_null(h);
    assert_true(strncmp(h, "GET /s HTTP/1.1\r\n", 17) == 0);
    assert_non_null(strcasestr(h, "\r\nAccept: text/event-stream\r\n"));
    assert_non_null(strcasestr(h, "\r\nCache-Control: no-cache\r\n"));
    assert_null(strcasestr(h, "Last-Event-ID"));
    free(h);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void restart_reconnects_with_last_event_id(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){SSE_200 "id: abc\ndata: Hello\n\n", 0, 10000, NULL};
    f.script[1] = (struct step){SSE_200 "data: Thanks\n\n", 0, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":0");
    assert_true(id > 0);
    expect_event(&c, 1, "message", "Hello", "abc");
    assert_int_equal(stream_request("POST", id, "{\"command\":\"restart\"}"), 204);
    char *h = fake_head(&f, 1, 5000);
    assert_non_null(h);
    assert_non_null(strcasestr(h, "\r\nLast-Event-ID: abc\r\n"));
    free(h);
    /* no error callback for a restart: the next message is the new stream's event */
    expect_event(&c, 2, "message", "Thanks", "abc");
    assert_int_equal(stream_request("POST", id, "{\"command\":\"jump\"}"), 400);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void server_close_reconnects_after_retry_with_id(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    /* the retry field (300 ms) must win over initialDelayMs (5 s) */
    f.script[0] =
        (struct step){SSE_200 "retry: 300\nid: 5\ndata: a\n\nid: 6\ndata: cut", 0, 0, NULL};
    f.script[1] = (struct step){SSE_200 "data: b\n\n", 0, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":5000");
    assert_true(id > 0);
    expect_event(&c, 1, "message", "a", "5");
    expect_kind(&c, 2, "error", "error", NULL);
    char *h = fake_head(&f, 1, 5000);
    assert_non_null(h);
    /* the unfinished event's id 6 was dropped with it */
    assert_non_null(strcasestr(h, "\r\nLast-Event-ID: 5\r\n"));
    free(h);
    pthread_mutex_lock(&f.mu);
    int64_t gap = f.at_ms[1] - f.closed_ms[0];
    pthread_mutex_unlock(&f.mu);
    assert_in_range(gap, 250, 2500);
    expect_event(&c, 3, "message", "b", "5");
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void no_content_stops_the_client(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){"HTTP/1.1 204 No Content\r\n\r\n", 0, 0, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":0");
    assert_true(id > 0);
    char *h = fake_head(&f, 0, 5000);
    assert_non_null(h);
    free(h);
    harness_sleep_ms(700);
    assert_int_equal(fake_served(&f), 1);
    assert_int_equal(cbl_count(&c), 0);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void wrong_content_type_is_one_error(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                "data: no\n\n",
                                0, 0, NULL};
    f.script[1] = (struct step){SSE_200 "data: should not come\n\n", 0, 0, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":0");
    assert_true(id > 0);
    expect_kind(&c, 1, "error", "error", NULL);
    harness_sleep_ms(700);
    assert_int_equal(fake_served(&f), 1);
    assert_int_equal(cbl_count(&c), 1);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void redirects_are_followed(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    char moved[256];
    snprintf(moved, sizeof(moved),
             "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%u/next\r\n"
             "Content-Length: 0\r\n\r\n",
             f.port);
    f.script[0] = (struct step){moved, 0, 0, NULL};
    f.script[1] = (struct step){SSE_200 "data: moved\n\n", 0, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":0");
    assert_true(id > 0);
    expect_event(&c, 1, "message", "moved", "");
    char *h = fake_head(&f, 1, 1000);
    assert_non_null(h);
    assert_true(strncmp(h, "GET /next ", 10) == 0);
    assert_non_null(strcasestr(h, "\r\nAccept: text/event-stream\r\n"));
    free(h);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void redirect_without_location_is_an_error(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){
        "HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\n\r\n", 0, 0, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":0");
    assert_true(id > 0);
    expect_kind(&c, 1, "error", "error", "HTTP status 301 from the stream");
    harness_sleep_ms(500);
    assert_int_equal(fake_served(&f), 1);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void a_3mb_event_passes(void **state)
{
    (void)state;
    const size_t big = (size_t)3 << 20;
    struct dynbuf resp;
    dynbuf_init(&resp, (size_t)8 << 20);
    assert_int_equal(dynbuf_adds(&resp, SSE_200 "id: big\ndata: "), 0);
    char *payload = malloc(big);
    assert_non_null(payload);
    for (size_t i = 0; i < big; i++)
        payload[i] = (char)('a' + i % 26);
    assert_int_equal(dynbuf_add(&resp, payload, big), 0);
    assert_int_equal(dynbuf_adds(&resp, "\n\ndata: after\n\n"), 0);

    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){resp.mem, resp.len, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", "");
    assert_true(id > 0);
    cJSON *j = cbl_wait(&c, 1, 10000);
    assert_non_null(j);
    const char *data = jstr(j, "event", "data");
    assert_non_null(data);
    assert_int_equal(strlen(data), big);
    assert_memory_equal(data, payload, big);
    cJSON_Delete(j);
    expect_event(&c, 2, "message", "after", "big");
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
    free(payload);
    dynbuf_free(&resp);
}

static void a_leading_bom_is_skipped(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){SSE_200 "\xEF\xBB\xBF"
                                        "data: bom\n\n",
                                0, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", "");
    assert_true(id > 0);
    expect_event(&c, 1, "message", "bom", "");
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void delete_stops_callbacks(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){SSE_200, 0, 10000, "data: tick\n\n"};
    f.script[1] = (struct step){SSE_200, 0, 10000, "data: tick\n\n"};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":0");
    assert_true(id > 0);
    expect_event(&c, 2, "message", "tick", "");
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    int64_t end = harness_now_ms() + 3000;
    bool closed = false;
    while (!closed && harness_now_ms() < end) {
        pthread_mutex_lock(&f.mu);
        closed = f.closed_ms[0] != 0;
        pthread_mutex_unlock(&f.mu);
        harness_sleep_ms(10);
    }
    assert_true(closed);
    harness_sleep_ms(100); /* a callback already on the wire may still land */
    int n = cbl_count(&c);
    harness_sleep_ms(500);
    assert_int_equal(cbl_count(&c), n);
    assert_int_equal(fake_served(&f), 1);
    assert_int_equal(stream_request("DELETE", id, NULL), 404);
    assert_int_equal(stream_request("POST", id, "{\"command\":\"restart\"}"), 404);
    fake_stop(&f);
    cbl_stop(&c);
}

static void request_options_are_sent(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){SSE_200 "data: x\n\n", 0, 0, NULL};
    f.script[1] = (struct step){SSE_200, 0, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(
        &f, &c, "/s",
        ",\"initialDelayMs\":0,\"lastEventId\":\"x1\",\"method\":\"REPORT\",\"body\":"
        "\"{\\\"hello\\\": \\\"world\\\"}\",\"headers\":{\"header-name-1\":\"value-1\","
        "\"content-type\":\"application/json; charset=utf-8\"}");
    assert_true(id > 0);
    /* the preset id is in force for events that carry none */
    expect_event(&c, 1, "message", "x", "x1");
    for (int i = 0; i < 2; i++) { /* the reconnection sends the same */
        char *h = fake_head(&f, i, 5000);
        assert_non_null(h);
        assert_true(strncmp(h, "REPORT /s HTTP/1.1\r\n", 20) == 0);
        assert_non_null(strcasestr(h, "\r\nLast-Event-ID: x1\r\n"));
        assert_non_null(strcasestr(h, "\r\nheader-name-1: value-1\r\n"));
        assert_non_null(
            strcasestr(h, "\r\ncontent-type: application/json; charset=utf-8\r\n"));
        assert_non_null(strstr(h, "\r\n\r\n{\"hello\": \"world\"}"));
        free(h);
    }
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void read_timeout_drops_a_silent_stream(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    f.script[0] = (struct step){SSE_200 "data: Hello\n\n", 0, 5000, NULL};
    f.script[1] = (struct step){SSE_200, 0, 5000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id =
        create_stream(&f, &c, "/s", ",\"initialDelayMs\":0,\"readTimeoutMs\":300");
    assert_true(id > 0);
    expect_event(&c, 1, "message", "Hello", "");
    expect_kind(&c, 2, "error", "error", NULL);
    char *h = fake_head(&f, 1, 3000);
    assert_non_null(h);
    free(h);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

static void service_exits_cleanly_at_sigterm(void **state)
{
    (void)state;
    assert_int_equal(harness_server_stop(&svc), 0);
}

/* A connection closed before any response is a network error, like a dropped stream: one
 * error callback (never "HTTP status 0"), then a reconnect after the retry delay. */
static void closed_before_a_response_reconnects(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    fake_listen(&f);
    /* script[0] stays empty: the first connection is closed with no answer */
    f.script[1] = (struct step){SSE_200 "data: back\n\n", 0, 10000, NULL};
    fake_run(&f);
    cbl_start(&c);
    unsigned id = create_stream(&f, &c, "/s", ",\"initialDelayMs\":100");
    assert_true(id > 0);
    cJSON *j = cbl_wait(&c, 1, 5000);
    assert_non_null(j);
    assert_string_equal(jstr(j, "kind", NULL), "error");
    const char *text = jstr(j, "error", NULL);
    assert_non_null(text);
    if (strstr(text, "status 0"))
        fail_msg("reported as a status: %s", text);
    cJSON_Delete(j);
    expect_event(&c, 2, "message", "back", "");
    assert_int_equal(fake_served(&f), 2);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

/* A refused connection too: the client keeps trying until the server is there. */
static void refused_connection_reconnects(void **state)
{
    (void)state;
    struct fake f;
    struct cbl c;
    unsigned port = 0;
    int probe = listen_loopback(&port); /* a free port, closed again at once */
    assert_true(probe >= 0);
    close(probe);
    cbl_start(&c);
    struct fake stub = {.port = port};
    unsigned id = create_stream(&stub, &c, "/s", ",\"initialDelayMs\":100");
    assert_true(id > 0);
    cJSON *j = cbl_wait(&c, 1, 5000);
    assert_non_null(j);
    assert_string_equal(jstr(j, "kind", NULL), "error");
    if (strstr(jstr(j, "error", NULL), "status 0"))
        fail_msg("reported as a status: %s", jstr(j, "error", NULL));
    cJSON_Delete(j);
    fake_listen_on(&f, port); /* now the server is up */
    f.script[0] = (struct step){SSE_200 "data: up\n\n", 0, 10000, NULL};
    fake_run(&f);
    /* more refusals may come (one per 100 ms) before the listener is there */
    bool got = false;
    for (int n = 2; n < MAX_CBS && !got; n++) {
        cJSON *m = cbl_wait(&c, n, 5000);
        assert_non_null(m);
        got = strcmp(jstr(m, "kind", NULL), "event") == 0;
        if (got)
            assert_string_equal(jstr(m, "event", "data"), "up");
        cJSON_Delete(m);
    }
    assert_true(got);
    assert_int_equal(stream_request("DELETE", id, NULL), 204);
    fake_stop(&f);
    cbl_stop(&c);
}

/* ---- the group ---------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    const char *bin = getenv("PUSHPULL_SSE_TESTSERVICE");
    if (!bin)
        bin = "build/asan/bin/pushpull-sse-testservice";
    /* the harness starts $PUSHPULL_SERVER; this process needs no other server */
    if (setenv("PUSHPULL_SERVER", bin, 1) != 0)
        return -1;
    return harness_server_start(&svc, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    if (svc.pid > 0)
        harness_server_stop(&svc);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capabilities_are_listed),
        cmocka_unit_test(bad_requests_are_refused),
        cmocka_unit_test(events_comments_and_ids_arrive_in_order),
        cmocka_unit_test(restart_reconnects_with_last_event_id),
        cmocka_unit_test(server_close_reconnects_after_retry_with_id),
        cmocka_unit_test(no_content_stops_the_client),
        cmocka_unit_test(closed_before_a_response_reconnects),
        cmocka_unit_test(refused_connection_reconnects),
        cmocka_unit_test(wrong_content_type_is_one_error),
        cmocka_unit_test(redirects_are_followed),
        cmocka_unit_test(redirect_without_location_is_an_error),
        cmocka_unit_test(a_3mb_event_passes),
        cmocka_unit_test(a_leading_bom_is_skipped),
        cmocka_unit_test(delete_stops_callbacks),
        cmocka_unit_test(request_options_are_sent),
        cmocka_unit_test(read_timeout_drops_a_silent_stream),
        cmocka_unit_test(service_exits_cleanly_at_sigterm),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
