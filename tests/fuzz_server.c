/* fuzz_server.c: libFuzzer harness for the server's request handling: the real daemon,
 * its routes and its admission checks, fed raw bytes over a socket.
 *
 * The server runs in this process (server_start on 127.0.0.1, port 0), with short
 * deadlines so held requests end quickly: long polls of 200 ms, a heartbeat (and so a
 * peer check) every 20 ms, a 2 s request timeout. Each input is one connection: its bytes
 * are sent as they are (any methods, paths, queries, header fields, bodies, pipelined
 * requests, garbage), then the write side is shut, as a client that has said everything.
 * The promises checked, abort() on any broken one:
 *
 *   - the server answers or closes: the connection ends within 5 s;
 *   - every answer starts with a status line "HTTP/1.1 NNN ";
 *   - every JSON body (Content-Type application/json with a Content-Length) is valid
 *     UTF-8 and parses as JSON.
 *
 * ASan and UBSan watch the server's threads meanwhile. Seeds: tests/fuzz/server/,
 * dictionary: tests/fuzz/server.dict.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "dynbuf.h"
#include "jsonw.h"
#include "server.h"

static struct server srv;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    signal(SIGPIPE, SIG_IGN);
    struct server_config cfg;
    server_config_defaults(&cfg);
    cfg.port = 0;
    cfg.rate_hz = 0;
    cfg.buffer = 16;
    cfg.longpoll_timeout_ns = 200 * NS_PER_MS;
    cfg.heartbeat_ns = 20 * NS_PER_MS;
    cfg.retry_ms = 100;
    cfg.max_connections = 64;
    cfg.request_timeout_ns = 2 * NS_PER_S;
    cfg.idle_timeout_ns = 2 * NS_PER_S;
    cfg.max_publish_bytes = 1024;
    char err[256];
    if (server_start(&srv, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_server: %s\n", err);
        abort();
    }
    return 0;
}

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        abort(); /* the listening socket must always accept */
    return fd;
}

/* Send everything, then read until the server closes; abort after 5 s. */
static void exchange(const uint8_t *data, size_t size, struct dynbuf *out)
{
    int fd = connect_server();
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the server closed early (a refusal): fine */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    int64_t give_up = clock_mono_ns() + 5 * NS_PER_S;
    for (;;) {
        int64_t left_ms = (give_up - clock_mono_ns()) / NS_PER_MS;
        if (left_ms <= 0) {
            fprintf(stderr, "fuzz_server: neither an answer nor a close in 5 s\n");
            abort();
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left_ms) <= 0)
            continue;
        char buf[16384];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break; /* EOF, or a reset: closed */
        if (out->len < (1u << 20))
            dynbuf_add(out, buf, (size_t)n);
    }
    close(fd);
}

/* The value of header `name` within the head [p, end), or NULL. */
static const char *header_in(const char *p, const char *end, const char *name)
{
    size_t len = strlen(name);
    for (const char *l = strstr(p, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, len) == 0 && l[2 + len] == ':')
            return l + 3 + len;
    }
    return NULL;
}

/* Walk the answers in out and check each (see the top). */
static void check_answers(const struct dynbuf *out)
{
    const char *p = out->mem;
    const char *stop = out->mem + out->len;
    while (p && p < stop) {
        if ((size_t)(stop - p) < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[9] < '1' ||
            p[9] > '5' || p[12] != ' ') {
            fprintf(stderr, "fuzz_server: no status line: %.40s\n", p);
            abort();
        }
        const char *end = memmem(p, (size_t)(stop - p), "\r\n\r\n", 4);
        if (!end)
            return; /* cut short by the close */
        const char *type = header_in(p, end, "Content-Type");
        const char *length = header_in(p, end, "Content-Length");
        const char *body = end + 4;
        if (!length)
            return; /* a stream or an HTTP/1.0-style answer: the rest is its body */
        size_t n = strtoul(length, NULL, 10);
        if ((size_t)(stop - body) >= 9 && memcmp(body, "HTTP/1.1 ", 9) == 0) {
            p = body; /* the answer to a HEAD: no body */
            continue;
        }
        if ((size_t)(stop - body) < n)
            return;
        if (type && strncmp(type, " application/json", 17) == 0) {
            cJSON *doc = jsonw_valid_utf8(body, n) ? cJSON_ParseWithLength(body, n) : NULL;
            if (!doc) {
                fprintf(stderr, "fuzz_server: a JSON body that is not: %.*s\n", (int)n,
                        body);
                abort();
            }
            cJSON_Delete(doc);
        }
        p = body + n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 21);
    exchange(data, size, &out);
    if (out.len > 0) {
        dynbuf_add(&out, "", 1); /* NUL-terminated for the string functions */
        out.len--;
        check_answers(&out);
    }
    dynbuf_free(&out);
    return 0;
}
