/* test_headers.c: unit tests for the request header profiles (clients/headers.c).
 *
 * The wire tests send a real request through libcurl, built exactly as a simulated user
 * builds it (headers_build, the pinning host name, CURLOPT_RESOLVE, no proxy; a POST with
 * its body as CURLOPT_POSTFIELDS), to a raw listener thread that records every byte up to
 * the blank line (and a POST's body after it); the head must equal the expected text,
 * headers_write_request's bytes and headers_wire_bytes, and libcurl's
 * CURLINFO_REQUEST_SIZE must be the head plus the body. That is what "the profile
 * controls exactly what goes on the wire" means. The WebSocket handshake is written by
 * hand, so for it headers_write_request's bytes are checked against the expected text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clients/headers.h"
#include "dynbuf.h"

struct listener {
    int fd;            /* listening socket */
    unsigned port;     /* its port */
    size_t body_len;   /* body bytes expected after the head */
    struct dynbuf got; /* the request head (and body) received */
    pthread_t thread;
};

/* Has the listener got the whole request: the head and body_len bytes after it? */
static bool got_all(const struct listener *l)
{
    const char *end = l->got.mem ? strstr(l->got.mem, "\r\n\r\n") : NULL;
    return end && l->got.len >= (size_t)(end + 4 - l->got.mem) + l->body_len;
}

/* Accept one connection, read the request head, answer 204, close. Bounded: 5 s. */
static void *serve_one(void *arg)
{
    struct listener *l = arg;
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        return NULL;
    int c = accept(l->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    for (int i = 0; i < 100 && !got_all(l); i++) {
        struct pollfd q = {.fd = c, .events = POLLIN};
        if (poll(&q, 1, 5000) != 1)
            break;
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0 || dynbuf_add(&l->got, buf, (size_t)n) != 0)
            break;
    }
    const char reply[] = "HTTP/1.1 204 No Content\r\n\r\n";
    if (write(c, reply, sizeof(reply) - 1) < 0)
        perror("write");
    close(c);
    return NULL;
}

static void listener_start(struct listener *l, size_t body_len)
{
    dynbuf_init(&l->got, 1 << 20);
    l->body_len = body_len;
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l->fd, 4), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &len), 0);
    l->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&l->thread, NULL, serve_one, l), 0);
}

/* Send a request for target with the profile's list for kind (a POST of body_len bytes
 * for REQUEST_SEND, else a GET); check the head on the wire == want. */
static void check_wire_body(const struct header_profile *p, enum request_kind kind,
                            const char *target, const char *const *extra,
                            const char *want_lines, size_t body_len)
{
    struct listener l;
    listener_start(&l, body_len);
    char host_line[64], url[128], resolve[128], want[8192], clen[48] = "";
    snprintf(host_line, sizeof(host_line), "Host: 127.0.0.1:%u", l.port);
    snprintf(url, sizeof(url), "http://u0.pushpull.invalid:%u%s", l.port, target);
    snprintf(resolve, sizeof(resolve), "u0.pushpull.invalid:%u:127.0.0.1", l.port);
    if (kind == REQUEST_SEND)
        snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", body_len);
    snprintf(want, sizeof(want), "%s %s HTTP/1.1\r\n%s\r\n%s%s\r\n",
             kind == REQUEST_SEND ? "POST" : "GET", target, host_line, want_lines, clen);
    char *body = malloc(body_len + 1);
    assert_non_null(body);
    memset(body, 'b', body_len);

    struct curl_slist *list = headers_build(p, kind, host_line, extra);
    struct curl_slist *res = curl_slist_append(NULL, resolve);
    CURL *e = curl_easy_init();
    assert_non_null(list);
    assert_non_null(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(e, CURLOPT_RESOLVE, res);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    if (kind == REQUEST_SEND) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    CURLcode rc = curl_easy_perform(e);
    long req_size = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
    curl_easy_cleanup(e);
    curl_slist_free_all(list);
    curl_slist_free_all(res);
    pthread_join(l.thread, NULL);
    close(l.fd);
    assert_int_equal(rc, CURLE_OK);
    assert_non_null(l.got.mem);
    assert_true(l.got.len >= body_len);
    size_t head = l.got.len - body_len;
    if (head != strlen(want) || memcmp(l.got.mem, want, head) != 0)
        fail_msg("wire:\n%.*s\nwant:\n%s", (int)head, l.got.mem, want);
    assert_memory_equal(l.got.mem + head, body, body_len);
    struct dynbuf mine;
    dynbuf_init(&mine, 1 << 20);
    assert_int_equal(
        headers_write_request(p, kind, target, host_line, extra, body_len, &mine), 0);
    assert_string_equal(mine.mem, want);
    dynbuf_free(&mine);
    assert_int_equal(head, headers_wire_bytes(p, kind, target, host_line, extra, body_len));
    assert_int_equal((size_t)req_size, head + body_len);
    free(body);
    dynbuf_free(&l.got);
}

static void check_wire(const struct header_profile *p, enum request_kind kind,
                       const char *target, const char *const *extra, const char *want_lines)
{
    check_wire_body(p, kind, target, extra, want_lines, 0);
}

/* The handshake is written by hand: check headers_write_request's text. */
static void check_handshake(const struct header_profile *p, const char *want_lines)
{
    const char *extra[] = {HEADERS_WS_UPGRADE, HEADERS_WS_CONNECTION, HEADERS_WS_VERSION,
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", NULL};
    char want[8192];
    snprintf(want, sizeof(want),
             "GET /ws?since=7 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n%s"
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
             want_lines);
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    assert_int_equal(headers_write_request(p, REQUEST_WEBSOCKET, "/ws?since=7",
                                           "Host: 127.0.0.1:8080", extra, 0, &b),
                     0);
    assert_string_equal(b.mem, want);
    dynbuf_free(&b);
}

static void test_minimal_is_request_line_and_host(void **state)
{
    (void)state;
    struct header_profile p;
    char err[256];
    assert_int_equal(headers_profile_load(&p, "minimal", 0, 1, err, sizeof(err)), 0);
    check_wire(&p, REQUEST_FETCH, "/poll", NULL, "");
    const char *extra[] = {"If-None-Match: \"42\"", NULL};
    check_wire(&p, REQUEST_FETCH, "/poll", extra, "If-None-Match: \"42\"\r\n");
    const char *lei[] = {"Last-Event-ID: 7", NULL};
    check_wire(&p, REQUEST_EVENTSOURCE, "/events", lei, "Last-Event-ID: 7\r\n");
    check_wire_body(&p, REQUEST_SEND, "/publish", NULL, "", 100);
    check_handshake(&p, "");
    /* the sizes documented in headers.c: 155 B of handshake, 69 B of POST head */
    const char *ws[] = {HEADERS_WS_UPGRADE, HEADERS_WS_CONNECTION, HEADERS_WS_VERSION,
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", NULL};
    assert_int_equal(
        headers_wire_bytes(&p, REQUEST_WEBSOCKET, "/ws", "Host: 127.0.0.1:8080", ws, 0),
        155);
    assert_int_equal(
        headers_wire_bytes(&p, REQUEST_SEND, "/publish", "Host: 127.0.0.1:8080", NULL, 100),
        69);
    headers_profile_free(&p);
}

static void test_browser_profile_on_the_wire(void **state)
{
    (void)state;
    struct header_profile p;
    char err[256];
    assert_int_equal(headers_profile_load(&p, "browser", 0, 1, err, sizeof(err)), 0);
    const char *ua =
        "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n";
    const char *chua = "sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", "
                       "\"Not_A Brand\";v=\"24\"\r\n";
    char want[4096];
    snprintf(
        want, sizeof(want),
        "Connection: keep-alive\r\nsec-ch-ua-platform: \"Windows\"\r\n%s%s"
        "sec-ch-ua-mobile: ?0\r\nAccept: */*\r\nOrigin: https://app.example.com\r\n"
        "Sec-Fetch-Site: same-site\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\n"
        "Referer: https://app.example.com/\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
        "Accept-Language: en-US,en;q=0.9\r\n",
        ua, chua);
    check_wire(&p, REQUEST_FETCH, "/poll", NULL, want);
    snprintf(
        want, sizeof(want),
        "Connection: keep-alive\r\nsec-ch-ua-platform: \"Windows\"\r\nCache-Control: "
        "no-cache\r\n%sAccept: text/event-stream\r\n%s"
        "sec-ch-ua-mobile: ?0\r\nOrigin: https://app.example.com\r\n"
        "Sec-Fetch-Site: same-site\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\n"
        "Referer: https://app.example.com/\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
        "Accept-Language: en-US,en;q=0.9\r\n",
        ua, chua);
    check_wire(&p, REQUEST_EVENTSOURCE, "/events", NULL, want);
    snprintf(
        want, sizeof(want),
        "Connection: keep-alive\r\nsec-ch-ua-platform: \"Windows\"\r\n%s%s"
        "Content-Type: text/plain;charset=UTF-8\r\n"
        "sec-ch-ua-mobile: ?0\r\nAccept: */*\r\nOrigin: https://app.example.com\r\n"
        "Sec-Fetch-Site: same-site\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\n"
        "Referer: https://app.example.com/\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
        "Accept-Language: en-US,en;q=0.9\r\n",
        ua, chua);
    check_wire_body(&p, REQUEST_SEND, "/publish", NULL, want, 100);
    snprintf(
        want, sizeof(want),
        "Pragma: no-cache\r\nCache-Control: no-cache\r\n%s"
        "Origin: https://app.example.com\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
        "Accept-Language: en-US,en;q=0.9\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        ua);
    check_handshake(&p, want);
    /* the sizes documented in headers.c, for Host: 127.0.0.1:8080 */
    const char *host = "Host: 127.0.0.1:8080";
    assert_int_equal(headers_wire_bytes(&p, REQUEST_FETCH, "/poll", host, NULL, 0), 552);
    assert_int_equal(headers_wire_bytes(&p, REQUEST_EVENTSOURCE, "/events", host, NULL, 0),
                     593);
    const char *ws[] = {HEADERS_WS_UPGRADE, HEADERS_WS_CONNECTION, HEADERS_WS_VERSION,
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", NULL};
    assert_int_equal(headers_wire_bytes(&p, REQUEST_WEBSOCKET, "/ws", host, ws, 0), 501);
    assert_int_equal(headers_wire_bytes(&p, REQUEST_SEND, "/publish", host, NULL, 100),
                     617);
    headers_profile_free(&p);
}

static void test_cookie(void **state)
{
    (void)state;
    struct header_profile p;
    char err[256];
    assert_int_equal(headers_profile_load(&p, "minimal", 400, 7, err, sizeof(err)), 0);
    assert_int_equal(p.count[REQUEST_FETCH], 1);
    const char *c = p.lines[REQUEST_FETCH][0];
    assert_memory_equal(c, "Cookie: sid=", 12);
    assert_int_equal(strlen(c) - strlen("Cookie: "), 400);
    for (int k = 0; k < REQUEST_KINDS; k++)
        assert_string_equal(c, p.lines[k][0]);
    char want[600];
    snprintf(want, sizeof(want), "%s\r\n", c);
    check_wire(&p, REQUEST_FETCH, "/poll", NULL, want);
    headers_profile_free(&p);
}

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/pushpull-headers-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_file_profile(void **state)
{
    (void)state;
    struct header_profile p;
    char err[256];
    char *path = write_temp("# my client\r\nX-App: 1\r\n\nAccept: text/plain\n");
    assert_int_equal(headers_profile_load(&p, path, 0, 1, err, sizeof(err)), 0);
    check_wire(&p, REQUEST_FETCH, "/poll", NULL, "X-App: 1\r\nAccept: text/plain\r\n");
    check_wire(&p, REQUEST_EVENTSOURCE, "/events", NULL,
               "X-App: 1\r\nAccept: text/plain\r\n");
    headers_profile_free(&p);
    unlink(path);

    /* the handshake's own lines stay out of the WebSocket kind, and only there */
    path = write_temp("X-App: 1\nconnection: keep-alive\nUpgrade: h2c\n"
                      "Sec-WebSocket-Key: x\nsec-websocket-version: 8\n"
                      "Content-Type: text/plain\n");
    assert_int_equal(headers_profile_load(&p, path, 0, 1, err, sizeof(err)), 0);
    assert_int_equal(p.count[REQUEST_FETCH], 6);
    check_handshake(&p, "X-App: 1\r\nContent-Type: text/plain\r\n");
    check_wire_body(&p, REQUEST_SEND, "/publish", NULL,
                    "X-App: 1\r\nconnection: keep-alive\r\nUpgrade: h2c\r\n"
                    "Sec-WebSocket-Key: x\r\nsec-websocket-version: 8\r\n"
                    "Content-Type: text/plain\r\n",
                    5);
    headers_profile_free(&p);
    unlink(path);
}

static void test_file_errors(void **state)
{
    (void)state;
    struct header_profile p;
    char err[256], want[256];
    char *path = write_temp("X-Ok: 1\nno colon here\n");
    assert_int_equal(headers_profile_load(&p, path, 0, 1, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "--headers: %s line 2: expected 'Name: value'", path);
    assert_string_equal(err, want);
    headers_profile_free(&p);
    unlink(path);

    path = write_temp("host: example.com\n");
    assert_int_equal(headers_profile_load(&p, path, 0, 1, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "--headers: %s line 1: Host is set from --server, leave it out", path);
    assert_string_equal(err, want);
    headers_profile_free(&p);
    unlink(path);

    path = write_temp("content-length: 5\n");
    assert_int_equal(headers_profile_load(&p, path, 0, 1, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "--headers: %s line 1: the body's length is set by the client, leave it out",
             path);
    assert_string_equal(err, want);
    headers_profile_free(&p);
    unlink(path);

    assert_int_equal(
        headers_profile_load(&p, "/nonexistent/profile", 0, 1, err, sizeof(err)), -1);
    assert_string_equal(err,
                        "--headers: fopen /nonexistent/profile: No such file or directory");
    headers_profile_free(&p);
}

static int setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_is_request_line_and_host),
        cmocka_unit_test(test_browser_profile_on_the_wire),
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_file_profile),
        cmocka_unit_test(test_file_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
