/* harness.c: start and stop a real pushpull-server, and speak raw HTTP/1.1 to it (see
 * harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int64_t harness_now_ms(void)
{
    return clock_mono_ns() / NS_PER_MS;
}

void harness_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

unsigned harness_listening_port(struct proc *p, const char *prefix)
{
    char line[256], err[512];
    if (proc_first_line(p, 10000, line, sizeof(line), err, sizeof(err)) != 0) {
        fprintf(stderr, "harness: %s\n", err);
        return 0;
    }
    const char *colon = strrchr(line, ':');
    if (strncmp(line, prefix, strlen(prefix)) != 0 || !colon) {
        fprintf(stderr, "harness: %s's first line is \"%s\", not \"%s...\"\n", p->name,
                line, prefix);
        return 0;
    }
    return (unsigned)strtoul(colon + 1, NULL, 10);
}

int harness_server_start(struct harness_server *s, const char *const *args)
{
    const char *bin = getenv("PUSHPULL_SERVER");
    if (!bin)
        bin = "build/asan/bin/pushpull-server";
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (size_t i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = 0;
    s->out = -1;
    struct proc p;
    char err[512];
    struct proc_spec spec = {.argv = argv, .name = "the server", .out = PROC_PIPE};
    if (proc_start(&p, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "harness: %s\n", err);
        return -1;
    }
    s->pid = p.pid;
    s->out = p.out;
    s->port = harness_listening_port(&p, "listening on http://");
    if (s->port == 0) {
        harness_server_stop(s);
        return -1;
    }
    return 0;
}

int harness_server_stop(struct harness_server *s)
{
    if (s->pid <= 0)
        return -1;
    int rc = harness_stop_pid(s->pid);
    s->pid = 0;
    if (s->out >= 0)
        close(s->out);
    s->out = -1;
    return rc;
}

int harness_server_run(const char *const *args, struct dynbuf *err)
{
    const char *bin = getenv("PUSHPULL_SERVER");
    if (!bin)
        bin = "build/asan/bin/pushpull-server";
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct proc p;
    char why[512];
    struct proc_spec spec = {.argv = argv, .name = "the server", .err = PROC_PIPE};
    if (proc_start(&p, &spec, why, sizeof(why)) != 0) {
        fprintf(stderr, "harness: %s\n", why);
        return -1;
    }
    /* until EOF: the pipe closes when the child ends */
    harness_read_until(p.err, err, NULL, 10000);
    proc_close(&p);
    return harness_wait(p.pid, 10000);
}

pid_t harness_spawn(const char *const argv[], int piped, bool quiet, int *read_fd)
{
    struct proc p;
    char err[512];
    struct proc_spec spec = {.argv = argv,
                             .name = argv[0],
                             .out = piped == STDOUT_FILENO ? PROC_PIPE
                                    : quiet                ? PROC_DEVNULL
                                                           : PROC_INHERIT,
                             .err = piped == STDERR_FILENO ? PROC_PIPE : PROC_INHERIT};
    if (proc_start(&p, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "harness: %s\n", err);
        return -1;
    }
    *read_fd = piped == STDOUT_FILENO ? p.out : p.err;
    return p.pid;
}

int harness_wait(pid_t pid, int timeout_ms)
{
    struct proc p;
    proc_adopt(&p, pid, "the program");
    if (!proc_wait(&p, timeout_ms)) {
        proc_stop(&p, 0);
        return -1;
    }
    return proc_exit_code(&p);
}

int harness_stop_pid(pid_t pid)
{
    struct proc p;
    proc_adopt(&p, pid, "the program");
    return proc_stop(&p, 10000);
}

int harness_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int harness_send(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int harness_read_until(int fd, struct dynbuf *buf, const char *needle, int timeout_ms)
{
    int64_t end = harness_now_ms() + timeout_ms;
    for (;;) {
        if (needle && buf->mem && strstr(buf->mem, needle))
            return 1;
        int64_t left = end - harness_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return 0;
        char tmp[16384];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n == 0)
            return needle ? -1 : 1;
        if (n < 0)
            return -1;
        if (dynbuf_add(buf, tmp, (size_t)n) != 0)
            return -1;
    }
}

int harness_wait_eof(int fd, int timeout_ms)
{
    struct dynbuf sink;
    dynbuf_init(&sink, 1 << 24);
    int rc = harness_read_until(fd, &sink, NULL, timeout_ms);
    dynbuf_free(&sink);
    return rc == 1;
}

int harness_exchange(unsigned port, const char *data, size_t len, bool half_close,
                     int timeout_ms, struct dynbuf *out)
{
    int fd = harness_connect(port);
    if (fd < 0)
        return -1;
    if (harness_send(fd, data, len) == 0 && half_close)
        shutdown(fd, SHUT_WR);
    int rc = harness_read_until(fd, out, NULL, timeout_ms);
    close(fd);
    return rc != 0 ? 1 : 0; /* EOF, or a reset (read's error) */
}

double harness_stat_wait_at_most(unsigned port, const char *path, double most,
                                 int timeout_ms)
{
    int64_t end = harness_now_ms() + timeout_ms;
    double v;
    for (;;) {
        cJSON *st = harness_stats(port);
        v = st ? harness_stat(st, path) : -1;
        cJSON_Delete(st);
        if ((v >= 0 && v <= most) || harness_now_ms() >= end)
            return v;
        harness_sleep_ms(20);
    }
}

size_t harness_dechunk(const char *in, size_t len, struct dynbuf *out, int *ended)
{
    size_t pos = 0;
    *ended = 0;
    while (pos < len) {
        const char *crlf = memmem(in + pos, len - pos, "\r\n", 2);
        if (!crlf)
            break;
        size_t size = strtoul(in + pos, NULL, 16);
        size_t data = (size_t)(crlf - in) + 2;
        if (size == 0) {
            if (len - data < 2)
                break;
            *ended = 1;
            return data + 2;
        }
        if (len - data < size + 2)
            break;
        dynbuf_add(out, in + data, size);
        pos = data + size + 2;
    }
    return pos;
}

int harness_read_response(int fd, struct harness_response *r, int timeout_ms)
{
    memset(r, 0, sizeof(*r));
    dynbuf_init(&r->raw, 1 << 26);
    dynbuf_init(&r->dechunked, 1 << 26);
    if (harness_read_until(fd, &r->raw, "\r\n\r\n", timeout_ms) != 1)
        return -1;
    r->head_len = (size_t)(strstr(r->raw.mem, "\r\n\r\n") - r->raw.mem) + 4;
    if (sscanf(r->raw.mem, "HTTP/1.1 %d", &r->status) != 1)
        return -1;
    char value[64];
    int64_t end = harness_now_ms() + timeout_ms;
    if (harness_header(r, "Content-Length", value, sizeof(value)) == 0) {
        size_t want = strtoul(value, NULL, 10);
        while (r->raw.len - r->head_len < want) {
            int left = (int)(end - harness_now_ms());
            if (left <= 0 || harness_read_until(fd, &r->raw, "\x01\x02never", left) == -1)
                break;
        }
        if (r->raw.len - r->head_len != want)
            return -1;
        r->body = r->raw.mem + r->head_len;
        r->body_len = want;
    } else if (harness_header(r, "Transfer-Encoding", value, sizeof(value)) == 0) {
        int ended = 0;
        for (;;) {
            dynbuf_reset(&r->dechunked);
            harness_dechunk(r->raw.mem + r->head_len, r->raw.len - r->head_len,
                            &r->dechunked, &ended);
            int left = (int)(end - harness_now_ms());
            if (ended || left <= 0 ||
                harness_read_until(fd, &r->raw, "\x01\x02never", left) == -1)
                break;
        }
        r->body = r->dechunked.mem;
        r->body_len = r->dechunked.len;
    } else if (r->status == 304 || r->status == 204) {
        r->body = r->raw.mem + r->head_len;
        r->body_len = 0;
    } else {
        harness_read_until(fd, &r->raw, NULL, timeout_ms);
        r->body = r->raw.mem + r->head_len;
        r->body_len = r->raw.len - r->head_len;
    }
    return 0;
}

int harness_header(const struct harness_response *r, const char *name, char *out,
                   size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = strstr(r->raw.mem, "\r\n");
    while (p && (size_t)(p - r->raw.mem) + 2 < r->head_len) {
        p += 2;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)(e - v), v);
            return 0;
        }
        p = strstr(p, "\r\n");
    }
    return -1;
}

void harness_response_free(struct harness_response *r)
{
    dynbuf_free(&r->raw);
    dynbuf_free(&r->dechunked);
}

int harness_http(unsigned port, const char *method, const char *target, const char *headers,
                 const char *body, size_t body_len, struct harness_response *r)
{
    int fd = harness_connect(port);
    if (fd < 0)
        return -1;
    struct dynbuf req;
    dynbuf_init(&req, 1 << 26);
    dynbuf_addf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s", method, target, port,
                headers ? headers : "");
    if (body)
        dynbuf_addf(&req, "Content-Length: %zu\r\n", body_len);
    dynbuf_adds(&req, "\r\n");
    if (body)
        dynbuf_add(&req, body, body_len);
    int rc = harness_send(fd, req.mem, req.len);
    dynbuf_free(&req);
    if (rc == 0)
        rc = harness_read_response(fd, r, 10000);
    close(fd);
    return rc;
}

cJSON *harness_stats(unsigned port)
{
    struct harness_response r;
    cJSON *doc = NULL;
    if (harness_http(port, "GET", "/stats", NULL, NULL, 0, &r) == 0 && r.status == 200)
        doc = cJSON_ParseWithLength(r.body, r.body_len);
    harness_response_free(&r);
    return doc;
}

double harness_stat(const cJSON *stats, const char *path)
{
    char key[128];
    const cJSON *node = stats;
    while (node && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        snprintf(key, sizeof(key), "%.*s", (int)len, path);
        node = cJSON_GetObjectItemCaseSensitive(node, key);
        path += len + (dot ? 1 : 0);
    }
    return cJSON_IsNumber(node) ? node->valuedouble : -1;
}

uint64_t harness_publish(unsigned port, const char *text)
{
    struct harness_response r;
    uint64_t seq = 0;
    if (harness_http(port, "POST", "/publish", NULL, text, strlen(text), &r) == 0 &&
        r.status == 201) {
        const char *p = strstr(r.body, "\"seq\":");
        if (p)
            seq = strtoull(p + 6, NULL, 10);
    }
    harness_response_free(&r);
    return seq;
}
