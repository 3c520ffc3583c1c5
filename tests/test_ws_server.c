/* test_ws_server.c: GET /ws, the server's WebSocket, against a hostile peer played over
 * raw sockets by this test, against the real ASan binary.
 *
 * The peer here is written from RFC 6455 alone (section 5.2's frame layout, the example
 * key and mask of sections 1.3 and 5.7), not from the server's code or wslay: it builds
 * every frame by hand, masked or not, with any opcode and RSV bit, and parses what comes
 * back, insisting that the server's frames are unmasked and whole. It knows every byte it
 * sent and received, and holds /stats to them. Each case checks the answer on the wire
 * (a 101, a status, a frame, a close code, the end of the stream), what /stats says about
 * it, and that the server still stops cleanly: SIGTERM gives exit status 0, which the
 * ASan build turns non-zero on any sanitizer report or leak. Every wait is bounded; no
 * assertion is about speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "netns.h"

/* RFC 6455 section 1.3's example key and the answer it must get. */
#define KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/* Section 5.7's example masking key. */
static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A string literal as bytes and length (without its NUL). */
#define LIT(s) s, sizeof(s) - 1

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* ---- the server ----------------------------------------------------------------- */

/* The server a test started and has not stopped: the teardown stops it by pid when an
 * assertion left the test early. */
static pid_t running;

static struct harness_server start(const char *const *args)
{
    struct harness_server s;
    assert_int_equal(harness_server_start(&s, args), 0);
    running = s.pid;
    return s;
}

static void stop(struct harness_server *s)
{
    running = 0;
    assert_int_equal(harness_server_stop(s), 0);
}

static void answerer_stop(void);

static int teardown(void **state)
{
    (void)state;
    answerer_stop();
    if (running > 0)
        harness_stop_pid(running);
    running = 0;
    return 0;
}

/* A number of GET /stats, waited for (5 s at most) to equal `want`; the last value. */
static double stat_wait(unsigned port, const char *path, double want)
{
    int64_t end = harness_now_ms() + 5000;
    for (;;) {
        cJSON *st = harness_stats(port);
        double v = st ? harness_stat(st, path) : -1;
        cJSON_Delete(st);
        if (v == want || harness_now_ms() >= end)
            return v;
        harness_sleep_ms(20);
    }
}

static void expect_stat(unsigned port, const char *path, double want)
{
    double v = stat_wait(port, path, want);
    if (v != want)
        fail_msg("/stats %s is %g, expected %g", path, v, want);
}

/* GET /stats?client=TAG, parsed (the caller deletes it). */
static cJSON *tag_stats(unsigned port, const char *tag)
{
    char target[96];
    snprintf(target, sizeof(target), "/stats?client=%s", tag);
    struct harness_response r;
    assert_int_equal(harness_http(port, "GET", target, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
    harness_response_free(&r);
    assert_non_null(doc);
    return doc;
}

/* ---- the peer ----------------------------------------------------------------------- */

/* One WebSocket peer and everything it counted. */
struct peer {
    int fd;
    struct dynbuf in;      /* bytes received after the 101's head, not yet parsed */
    size_t in_off;         /* of them, parsed */
    size_t req_bytes;      /* the handshake request */
    size_t head_bytes;     /* the 101's head, as received */
    uint64_t sent;         /* bytes sent after the handshake */
    uint64_t got_hdr;      /* data frames received: header bytes */
    uint64_t got_payload;  /* ... payload bytes */
    uint64_t got_control;  /* control frames received, whole */
    uint64_t got_data;     /* data frames received */
    uint64_t got_pings;    /* pings received */
    uint64_t sent_hdr;     /* data frames sent: header bytes, mask excluded */
    uint64_t sent_mask;    /* ... masking keys */
    uint64_t sent_payload; /* ... payload bytes */
    uint64_t sent_control; /* control frames sent, whole */
    uint64_t pongs_sent;   /* pongs sent */
};

/* A frame from the server. */
struct frame {
    int fin, rsv, opcode;
    char *payload; /* NUL-terminated copy (the caller frees it) */
    size_t len;
};

/* Build one frame into out (room for len + 14): any FIN, RSV bits and opcode, masked
 * with section 5.7's key or not. Returns its length. */
static size_t frame_build(uint8_t *out, int fin, int rsv, int op, bool mask,
                          const void *payload, size_t len)
{
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | (rsv << 4) | op);
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[n++] = (uint8_t)(m | len);
    } else if (len < 65536) {
        out[n++] = m | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (mask) {
        memcpy(out + n, MASK, 4);
        n += 4;
    }
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        out[n + i] = mask ? p[i] ^ MASK[i % 4] : p[i];
    return n + len;
}

/* Send one frame, counting its parts as the server should. */
static void send_frame(struct peer *p, int fin, int rsv, int op, bool mask,
                       const void *payload, size_t len)
{
    uint8_t *buf = malloc(len + 14);
    assert_non_null(buf);
    size_t n = frame_build(buf, fin, rsv, op, mask, payload, len);
    assert_int_equal(harness_send(p->fd, (const char *)buf, n), 0);
    free(buf);
    p->sent += n;
    if (op >= 8) {
        p->sent_control += n;
        p->pongs_sent += op == OP_PONG;
    } else {
        p->sent_hdr += n - len - (mask ? 4 : 0);
        p->sent_mask += mask ? 4 : 0;
        p->sent_payload += len;
    }
}

static void send_text(struct peer *p, const char *text)
{
    send_frame(p, 1, 0, OP_TEXT, true, text, strlen(text));
}

/* Open GET target with the handshake (and any extra header lines), with `pipelined`
 * bytes sent right behind the request. Returns the status; on 101 the head is checked
 * (Sec-WebSocket-Accept right, no subprotocol, no extension) and the peer is ready.
 * Closes the socket for any other status. */
static int peer_open(unsigned port, const char *target, const char *extra,
                     const void *pipelined, size_t plen, struct peer *p)
{
    memset(p, 0, sizeof(*p));
    dynbuf_init(&p->in, 64 << 20);
    p->fd = harness_connect(port);
    assert_true(p->fd >= 0);
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s\r\n",
                     target, extra ? extra : "");
    p->req_bytes = (size_t)n;
    assert_int_equal(harness_send(p->fd, req, (size_t)n), 0);
    if (plen > 0) {
        assert_int_equal(harness_send(p->fd, pipelined, plen), 0);
        p->sent += plen;
    }
    struct dynbuf head;
    dynbuf_init(&head, 1 << 20);
    assert_int_equal(harness_read_until(p->fd, &head, "\r\n\r\n", 5000), 1);
    size_t hlen = (size_t)(strstr(head.mem, "\r\n\r\n") - head.mem) + 4;
    int status = atoi(head.mem + 9);
    if (status == 101) {
        p->head_bytes = hlen;
        assert_non_null(strcasestr(head.mem, "\r\nUpgrade: websocket\r\n"));
        assert_non_null(strcasestr(head.mem, "\r\nConnection: Upgrade\r\n"));
        assert_non_null(strstr(head.mem, "\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"));
        assert_null(strcasestr(head.mem, "Sec-WebSocket-Protocol"));
        assert_null(strcasestr(head.mem, "Sec-WebSocket-Extensions"));
        assert_null(strcasestr(head.mem, "Content-Length"));
        assert_null(strcasestr(head.mem, "Transfer-Encoding"));
        dynbuf_add(&p->in, head.mem + hlen, head.len - hlen);
    } else {
        close(p->fd);
        p->fd = -1;
        dynbuf_free(&p->in);
    }
    dynbuf_free(&head);
    return status;
}

static void peer_close(struct peer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    dynbuf_free(&p->in);
}

/* Read more bytes into p->in, waiting at most ms. 1, 0 on timeout, -1 at the end. */
static int peer_fill(struct peer *p, int ms)
{
    struct pollfd pf = {.fd = p->fd, .events = POLLIN};
    if (poll(&pf, 1, ms) <= 0)
        return 0;
    char tmp[65536];
    ssize_t n = read(p->fd, tmp, sizeof(tmp));
    if (n <= 0)
        return -1;
    assert_int_equal(dynbuf_add(&p->in, tmp, (size_t)n), 0);
    return 1;
}

/* The next frame from the server, within ms. 1 (f filled), 0 on timeout, -1 when the
 * stream ended first. A masked server frame fails the test (RFC 6455 section 5.1). */
static int read_frame(struct peer *p, struct frame *f, int ms)
{
    int64_t end = harness_now_ms() + ms;
    for (;;) {
        const uint8_t *b = (const uint8_t *)p->in.mem + p->in_off;
        size_t have = p->in.len - p->in_off;
        if (have >= 2) {
            assert_int_equal(b[1] & 0x80, 0); /* a server never masks */
            size_t len = b[1] & 0x7f, hdr = 2;
            if (len == 126 && have >= 4) {
                len = ((size_t)b[2] << 8) | b[3];
                hdr = 4;
            } else if (len == 127 && have >= 10) {
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = (len << 8) | b[2 + i];
                hdr = 10;
            }
            if ((b[1] & 0x7f) < 126 || hdr > 2) {
                if (have >= hdr + len) {
                    f->fin = b[0] >> 7;
                    f->rsv = (b[0] >> 4) & 7;
                    f->opcode = b[0] & 0xf;
                    f->len = len;
                    f->payload = malloc(len + 1);
                    assert_non_null(f->payload);
                    memcpy(f->payload, b + hdr, len);
                    f->payload[len] = '\0';
                    p->in_off += hdr + len;
                    if (f->opcode >= 8) {
                        p->got_control += hdr + len;
                        p->got_pings += f->opcode == OP_PING;
                    } else {
                        p->got_hdr += hdr;
                        p->got_payload += len;
                        p->got_data++;
                    }
                    return 1;
                }
            }
        }
        int64_t left = end - harness_now_ms();
        if (left <= 0)
            return 0;
        int rc = peer_fill(p, (int)left);
        if (rc < 0)
            return -1;
    }
}

/* The next data frame (pings on the way are answered with pongs unless `answer` is
 * false; pongs ignored): its text, which the caller frees. Fails the test without one
 * within 5 s. */
static char *next_text(struct peer *p, bool answer)
{
    struct frame f;
    for (;;) {
        int rc = read_frame(p, &f, 5000);
        if (rc != 1)
            fail_msg("no text frame within 5 s (%s)", rc == 0 ? "silence" : "the end");
        if (f.opcode == OP_TEXT) {
            assert_true(f.fin);
            assert_int_equal(f.rsv, 0);
            return f.payload;
        }
        if (f.opcode == OP_PING && answer)
            send_frame(p, 1, 0, OP_PONG, true, f.payload, f.len);
        else if (f.opcode != OP_PING && f.opcode != OP_PONG)
            fail_msg("expected a text frame, got opcode %d", f.opcode);
        free(f.payload);
    }
}

/* The seq of an update's JSON (0 when it is no update). */
static uint64_t seq_of(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(doc, "seq");
    uint64_t n = cJSON_IsNumber(seq) ? (uint64_t)seq->valuedouble : 0;
    cJSON_Delete(doc);
    return n;
}

/* 1 when the stream ends within ms with no byte more, 0 when bytes come, -1 when it does
 * not end. */
static int peer_ends(struct peer *p, int ms)
{
    size_t before = p->in.len;
    int64_t end = harness_now_ms() + ms;
    for (;;) {
        int64_t left = end - harness_now_ms();
        if (left <= 0)
            return -1;
        int rc = peer_fill(p, (int)left);
        if (rc < 0)
            return p->in.len == before && p->in_off == before ? 1 : 0;
    }
}

/* The server's close frame, skipping pings: its code (0 without one); then the server
 * must end the stream. */
static unsigned expect_close(struct peer *p, unsigned code)
{
    struct frame f;
    for (;;) {
        int rc = read_frame(p, &f, 5000);
        if (rc != 1)
            fail_msg("no close frame %u within 5 s (%s)", code,
                     rc == 0 ? "silence" : "the end");
        if (f.opcode == OP_CLOSE)
            break;
        if (f.opcode != OP_PING && f.opcode != OP_PONG)
            fail_msg("expected close %u, got a frame of opcode %d: %s", code, f.opcode,
                     f.payload);
        free(f.payload);
    }
    unsigned got =
        f.len >= 2 ? ((unsigned)(uint8_t)f.payload[0] << 8) | (uint8_t)f.payload[1] : 0;
    free(f.payload);
    if (got != code)
        fail_msg("close code %u, expected %u", got, code);
    int end = peer_ends(p, 5000);
    if (end != 1)
        fail_msg("after close %u the server %s", code,
                 end == 0 ? "sent more bytes" : "did not end the stream within 5 s");
    return got;
}

/* Open files of a process (its /proc/PID/fd entries). */
static int open_files(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- the handshake ------------------------------------------------------------------ */

static void expect_refusal(unsigned port, const char *method, const char *version,
                           const char *headers, int status, const char *mention,
                           const char *want_header)
{
    int fd = harness_connect(port);
    assert_true(fd >= 0);
    char req[2048];
    int n = snprintf(req, sizeof(req), "%s /ws HTTP/%s\r\nHost: x\r\n%s\r\n", method,
                     version, headers);
    assert_int_equal(harness_send(fd, req, (size_t)n), 0);
    struct harness_response r;
    if (strcmp(method, "HEAD") == 0) { /* a head, no body */
        memset(&r, 0, sizeof(r));
        dynbuf_init(&r.raw, 1 << 16);
        assert_int_equal(harness_read_until(fd, &r.raw, "\r\n\r\n", 5000), 1);
        r.status = atoi(r.raw.mem + 9);
        r.head_len = r.raw.len;
    } else {
        assert_int_equal(harness_read_response(fd, &r, 5000), 0);
    }
    close(fd);
    if (r.status != status)
        fail_msg("%s /ws with %s: status %d, expected %d", method, headers, r.status,
                 status);
    char v[256];
    assert_int_equal(harness_header(&r, "Content-Type", v, sizeof(v)), 0);
    assert_string_equal(v, "application/json");
    if (want_header) {
        const char *colon = strchr(want_header, ':');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(colon - want_header), want_header);
        assert_int_equal(harness_header(&r, name, v, sizeof(v)), 0);
        assert_string_equal(v, colon + 2);
    }
    if (strcmp(method, "HEAD") != 0) {
        cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
        assert_true(cJSON_IsString(e));
        if (!strstr(e->valuestring, mention))
            fail_msg("error \"%s\" does not mention \"%s\"", e->valuestring, mention);
        cJSON_Delete(doc);
    }
    harness_response_free(&r);
}

static void handshake_accepted_and_refused(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    /* The RFC's example key gets the RFC's answer; asked-for subprotocols and extensions
     * are not granted (peer_open checks the head). */
    assert_int_equal(peer_open(s.port, "/ws",
                               "Sec-WebSocket-Protocol: chat\r\n"
                               "Sec-WebSocket-Extensions: permessage-deflate\r\n",
                               NULL, 0, &p),
                     101);
    peer_close(&p);
    /* Firefox's Connection field, and the fields' names in any case */
    int fd = harness_connect(s.port);
    const char ff[] = "GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: WebSocket\r\n"
                      "connection: keep-alive, Upgrade\r\nsec-websocket-key: " KEY "\r\n"
                      "sec-websocket-version: 13\r\n\r\n";
    assert_int_equal(harness_send(fd, ff, sizeof(ff) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 16);
    assert_int_equal(harness_read_until(fd, &raw, "\r\n\r\n", 5000), 1);
    assert_memory_equal(raw.mem, "HTTP/1.1 101 ", 13);
    dynbuf_free(&raw);
    close(fd);

    const char *up = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    char h[1024];
    snprintf(h, sizeof(h), "%sSec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 8\r\n",
             up);
    expect_refusal(s.port, "GET", "1.1", h, 426, "Sec-WebSocket-Version",
                   "Sec-WebSocket-Version: 13");
    snprintf(h, sizeof(h), "%sSec-WebSocket-Key: " KEY "\r\n", up);
    expect_refusal(s.port, "GET", "1.1", h, 400, "Sec-WebSocket-Version", NULL);
    snprintf(h, sizeof(h), "%sSec-WebSocket-Version: 13\r\n", up);
    expect_refusal(s.port, "GET", "1.1", h, 400, "Sec-WebSocket-Key", NULL);
    snprintf(h, sizeof(h), "%sSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n",
             up);
    expect_refusal(s.port, "GET", "1.1", h, 400, "Sec-WebSocket-Key", NULL);
    snprintf(h, sizeof(h),
             "%sSec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Key: " KEY
             "\r\nSec-WebSocket-Version: 13\r\n",
             up);
    expect_refusal(s.port, "GET", "1.1", h, 400, "Sec-WebSocket-Key", NULL);
    expect_refusal(s.port, "GET", "1.1", "", 426, "Upgrade", "Upgrade: websocket");
    expect_refusal(s.port, "GET", "1.1",
                   "Upgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: " KEY
                   "\r\nSec-WebSocket-Version: 13\r\n",
                   400, "Connection", NULL);
    snprintf(h, sizeof(h), "%sSec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n",
             up);
    expect_refusal(s.port, "HEAD", "1.1", h, 400, "GET", NULL);
    expect_refusal(s.port, "GET", "1.0", h, 400, "HTTP/1.1", NULL);
    assert_int_equal(peer_open(s.port, "/ws?since=abc", NULL, NULL, 0, &p), 400);

    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.ws.requests"), 12);
    assert_int_equal(harness_stat(st, "transports.ws.responses.101"), 2);
    assert_int_equal(harness_stat(st, "transports.ws.responses.426"), 2);
    assert_int_equal(harness_stat(st, "transports.ws.responses.400"), 8);
    cJSON_Delete(st);
    expect_stat(s.port, "transports.ws.open", 0);
    expect_stat(s.port, "unaccounted_bytes", 0);
    stop(&s);
}

/* ---- the feed ------------------------------------------------------------------------ */

/* Each update is one text frame carrying exactly SSE's data: text. */
static void updates_arrive_as_text_frames(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    expect_stat(s.port, "transports.ws.open", 1);
    const char *texts[] = {"one", "two \"quoted\"\n", "tr\xc3\xa9s"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(harness_publish(s.port, texts[i]), (uint64_t)i + 1);
    char *got[3];
    for (int i = 0; i < 3; i++) {
        got[i] = next_text(&p, true);
        assert_int_equal(seq_of(got[i]), (uint64_t)i + 1);
    }
    /* the same text as SSE's data: lines, byte for byte */
    int fd = harness_connect(s.port);
    const char sreq[] = "GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n";
    assert_int_equal(harness_send(fd, sreq, sizeof(sreq) - 1), 0);
    struct dynbuf raw;
    dynbuf_init(&raw, 1 << 20);
    assert_int_equal(harness_read_until(fd, &raw, "id: 3\n", 5000), 1);
    harness_read_until(fd, &raw, "\n\n", 1000);
    for (int i = 0; i < 3; i++) {
        char line[512];
        snprintf(line, sizeof(line), "data: %s\n", got[i]);
        if (!strstr(raw.mem, line))
            fail_msg("SSE does not say \"%s\"", line);
        free(got[i]);
    }
    dynbuf_free(&raw);
    close(fd);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.ws.frames.data_frames_out"), 3);
    assert_int_equal(harness_stat(st, "transports.ws.frames.payload_bytes_out"),
                     p.got_payload);
    assert_int_equal(harness_stat(st, "transports.ws.frames.frame_header_bytes_out"),
                     p.got_hdr);
    cJSON_Delete(st);
    peer_close(&p);
    stop(&s);
}

/* ?since=N replays what followed N, after a reset notice when some of it is gone. */
static void since_replays_and_resets(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--buffer", "4", NULL};
    struct harness_server s = start(args);
    for (int i = 0; i < 10; i++)
        harness_publish(s.port, "x");
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws?since=2", NULL, NULL, 0, &p), 101);
    char *t = next_text(&p, true);
    assert_string_equal(t, "{\"reset\":true,\"since\":2,\"first\":7}");
    free(t);
    for (uint64_t seq = 7; seq <= 10; seq++) {
        t = next_text(&p, true);
        assert_int_equal(seq_of(t), seq);
        free(t);
    }
    peer_close(&p);

    assert_int_equal(peer_open(s.port, "/ws?since=8", NULL, NULL, 0, &p), 101);
    for (uint64_t seq = 9; seq <= 10; seq++) {
        t = next_text(&p, true);
        assert_int_equal(seq_of(t), seq); /* 8 is still kept: no reset */
        free(t);
    }
    peer_close(&p);

    assert_int_equal(peer_open(s.port, "/ws?since=99", NULL, NULL, 0, &p), 101);
    t = next_text(&p, true); /* a cursor from another run of the server */
    assert_string_equal(t, "{\"reset\":true,\"since\":99,\"first\":7}");
    free(t);
    peer_close(&p);

    /* without since: from the next update */
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    struct frame f;
    assert_int_equal(read_frame(&p, &f, 300), 0);
    harness_publish(s.port, "next");
    t = next_text(&p, true);
    assert_int_equal(seq_of(t), 11);
    free(t);
    peer_close(&p);
    expect_stat(s.port, "transports.ws.frames.resets", 2);
    stop(&s);
}

/* ---- control frames -------------------------------------------------------------------
 */

static void ping_is_answered_with_pong(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    send_frame(&p, 1, 0, OP_PING, true, LIT("are you there"));
    struct frame f;
    assert_int_equal(read_frame(&p, &f, 5000), 1);
    assert_int_equal(f.opcode, OP_PONG);
    assert_true(f.fin);
    assert_string_equal(f.payload, "are you there");
    free(f.payload);
    expect_stat(s.port, "transports.ws.frames.pings_in", 1);
    expect_stat(s.port, "transports.ws.frames.pongs_out", 1);
    peer_close(&p);
    stop(&s);
}

/* A peer that answers every ping, on a thread of its own, until told to stop (also by
 * the teardown, when a failed assertion left the test early). */
struct answerer {
    struct peer *p;
    atomic_bool stop;
    atomic_uint_least64_t pings; /* pings answered */
    pthread_t thread;
    bool running;
};
static struct answerer answerer;

static void answerer_stop(void)
{
    if (!answerer.running)
        return;
    atomic_store(&answerer.stop, true);
    pthread_join(answerer.thread, NULL);
    answerer.running = false;
}

static void *answer_pings(void *arg)
{
    struct answerer *a = arg;
    while (!atomic_load(&a->stop)) {
        struct frame f;
        if (read_frame(a->p, &f, 50) != 1)
            continue;
        if (f.opcode == OP_PING) {
            uint8_t pong[140];
            size_t n = frame_build(pong, 1, 0, OP_PONG, true, f.payload, f.len);
            if (harness_send(a->p->fd, (const char *)pong, n) == 0)
                atomic_fetch_add(&a->pings, 1);
        }
        free(f.payload);
    }
    return NULL;
}

/* A ping after --heartbeat of silence; a peer that answers none for two heartbeats is
 * cut (no close frame: it is not listening) and counted; one that answers stays. */
static void heartbeat_and_dead_peer(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--heartbeat", "200ms", NULL};
    struct harness_server s = start(args);
    struct peer alive, dead;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &alive), 101);
    struct answerer *a = &answerer;
    a->p = &alive;
    atomic_store(&a->stop, false);
    atomic_store(&a->pings, 0);
    assert_int_equal(pthread_create(&a->thread, NULL, answer_pings, a), 0);
    a->running = true;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &dead), 101);
    /* the dead one: pings come, nothing is answered, the stream ends without a close */
    struct frame f;
    int rc, pings = 0;
    int64_t end = harness_now_ms() + 10000;
    while ((rc = read_frame(&dead, &f, 1000)) == 1 && harness_now_ms() < end) {
        assert_int_equal(f.opcode, OP_PING);
        free(f.payload);
        pings++;
    }
    if (rc != -1)
        fail_msg("a peer that answers no ping was not cut within 10 s (%d pings)", pings);
    assert_true(pings >= 1);
    expect_stat(s.port, "transports.ws.frames.dead_peers", 1);
    expect_stat(s.port, "transports.ws.open", 1);
    /* the live one is still served once it has had pings to answer */
    end = harness_now_ms() + 10000;
    while (atomic_load(&a->pings) < 2 && harness_now_ms() < end)
        harness_sleep_ms(20);
    answerer_stop();
    assert_true(atomic_load(&a->pings) >= 2);
    harness_publish(s.port, "still here");
    char *text = next_text(&alive, true);
    assert_int_equal(seq_of(text), 1);
    free(text);
    expect_stat(s.port, "transports.ws.frames.dead_peers", 1);
    cJSON *st = harness_stats(s.port);
    assert_true(harness_stat(st, "transports.ws.frames.pongs_in") >= 2);
    assert_true(harness_stat(st, "transports.ws.frames.pings_out") >= 3);
    cJSON_Delete(st);
    peer_close(&dead);
    peer_close(&alive);
    stop(&s);
}

/* Nothing of conn.c's deadlines applies to an upgraded connection, nor libmicrohttpd's
 * own timeout (the backstop, idle + request + 10 s: 12 s here): it outlives them all,
 * silent (heartbeat off). */
static void no_http_deadline_cuts_a_websocket(void **state)
{
    (void)state;
    const char *args[] = {
        "--rate",         "0",  "--heartbeat", "0", "--request-timeout", "1s",
        "--idle-timeout", "1s", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    struct frame f;
    /* silence, past both deadlines and the backstop */
    assert_int_equal(read_frame(&p, &f, 13500), 0);
    harness_publish(s.port, "later");
    char *t = next_text(&p, true);
    assert_int_equal(seq_of(t), 1);
    free(t);
    expect_stat(s.port, "timeouts", 0);
    peer_close(&p);
    stop(&s);
}

/* A connection makes wslay's framing context only when bytes first come or go, lets it
 * go when quiescent (2 s after its last byte) and takes a new one when bytes come or go
 * again: nothing half done may be lost with it. A
 * fragmented message with long pauses between its fragments, a frame whose header comes
 * in two pieces far apart, updates and a bad frame after a quiet spell all work as on a
 * busy connection, and every byte is still accounted. */
static void a_quiet_connection_lets_its_framing_go(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--heartbeat", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws?client=quiet", NULL, NULL, 0, &p), 101);
    /* nothing sent or received yet: no context at all */
    expect_stat(s.port, "transports.ws.open", 1);
    expect_stat(s.port, "transports.ws.frames.framing_contexts", 0);
    harness_publish(s.port, "the first");
    char *t = next_text(&p, false);
    assert_int_equal(seq_of(t), 1);
    free(t);
    expect_stat(s.port, "transports.ws.frames.framing_contexts", 1);
    expect_stat(s.port, "transports.ws.frames.framing_contexts", 0); /* 2 s of quiet */
    harness_publish(s.port, "after the quiet");
    t = next_text(&p, false);
    assert_int_equal(seq_of(t), 2);
    free(t);

    /* a message in fragments 2.5 s apart, a ping between them */
    send_frame(&p, 0, 0, OP_TEXT, true, LIT("slow-"));
    harness_sleep_ms(2500);
    expect_stat(s.port, "transports.ws.frames.framing_contexts",
                1); /* kept: half a message */
    send_frame(&p, 1, 0, OP_PING, true, LIT("still"));
    struct frame f;
    assert_int_equal(read_frame(&p, &f, 5000), 1);
    assert_int_equal(f.opcode, OP_PONG);
    free(f.payload);
    harness_sleep_ms(2500);
    send_frame(&p, 1, 0, OP_CONT, true, LIT("ly"));
    t = next_text(&p, false);
    assert_non_null(strstr(t, "\"data\":\"slow-ly\""));
    free(t);

    /* a frame whose header comes in two pieces, 2.5 s apart */
    expect_stat(s.port, "transports.ws.frames.framing_contexts", 0);
    uint8_t buf[64];
    size_t n = frame_build(buf, 1, 0, OP_TEXT, true, "split", 5);
    assert_int_equal(harness_send(p.fd, (const char *)buf, 1), 0);
    harness_sleep_ms(2500);
    expect_stat(s.port, "transports.ws.frames.framing_contexts",
                1); /* kept: half a frame */
    assert_int_equal(harness_send(p.fd, (const char *)buf + 1, n - 1), 0);
    p.sent += n, p.sent_hdr += 2, p.sent_mask += 4, p.sent_payload += 5;
    t = next_text(&p, false);
    assert_non_null(strstr(t, "\"data\":\"split\""));
    free(t);

    /* after another quiet spell, a bad frame still gets its code */
    expect_stat(s.port, "transports.ws.frames.framing_contexts", 0);
    send_frame(&p, 1, 0, OP_TEXT, false, LIT("unmasked"));
    expect_close(&p, 1002);
    peer_close(&p);
    expect_stat(s.port, "transports.ws.open", 0);
    expect_stat(s.port, "transports.ws.frames.framing_contexts", 0);
    cJSON *tag = tag_stats(s.port, "quiet");
    assert_int_equal(harness_stat(tag, "req_body_bytes"), p.sent);
    assert_int_equal(harness_stat(tag, "resp_body_bytes"), p.got_payload);
    assert_int_equal(harness_stat(tag, "frames.messages_in"), 2);
    cJSON_Delete(tag);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);
    stop(&s);
}

/* A peer that floods pings and reads none of the pongs: the server reads it a bounded
 * amount per turn, so another peer's update still arrives while the flood's bytes wait,
 * and once more than 4096 pongs are queued for it the flooder is cut (no close frame: it
 * is not reading) and counted in `overflows`; the other peer is served on. */
static void a_ping_flood_is_cut_and_others_are_served(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--heartbeat", "0", NULL};
    struct harness_server s = start(args);
    struct peer reader;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &reader), 101);

    /* the flooder: a small receive buffer, so the server's pongs back up soon */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int small = 4096;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    const char hs[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(harness_send(fd, hs, sizeof(hs) - 1), 0);
    struct dynbuf head;
    dynbuf_init(&head, 1 << 20);
    assert_int_equal(harness_read_until(fd, &head, "\r\n\r\n", 5000), 1);
    assert_int_equal(strncmp(head.mem, "HTTP/1.1 101", 12), 0);
    dynbuf_free(&head);

    /* 64 pings of 125 bytes at a time */
    char payload[125];
    memset(payload, 'p', sizeof(payload));
    uint8_t burst[64 * 131];
    size_t blen = 0;
    for (int i = 0; i < 64; i++)
        blen += frame_build(burst + blen, 1, 0, OP_PING, true, payload, sizeof(payload));
    uint64_t sent = 0;
    bool published = false, cut = false;
    int64_t end = harness_now_ms() + 30000;
    while (!cut && harness_now_ms() < end) {
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t n = send(fd, burst, blen, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0 || (pf.revents & (POLLERR | POLLHUP))) {
            cut = true; /* reset: the server let it go */
            break;
        }
        sent += (uint64_t)n;
        if (!published && sent > 256 * 1024) {
            /* mid-flood: the other peer still gets its update */
            published = true;
            harness_publish(s.port, "while flooded");
            int64_t t0 = harness_now_ms();
            char *t = next_text(&reader, false);
            assert_int_equal(seq_of(t), 1);
            free(t);
            if (harness_now_ms() - t0 > 2000)
                fail_msg("the update took %lld ms to reach a quiet peer beside a flood",
                         (long long)(harness_now_ms() - t0));
        }
        cJSON *st = harness_stats(s.port);
        cut = harness_stat(st, "transports.ws.frames.overflows") >= 1;
        cJSON_Delete(st);
    }
    close(fd);
    if (!cut)
        fail_msg("a flood of %llu bytes of pings was not cut within 30 s",
                 (unsigned long long)sent);
    assert_true(published);
    expect_stat(s.port, "transports.ws.frames.overflows", 1);
    expect_stat(s.port, "transports.ws.open", 1);
    harness_publish(s.port, "after the flood");
    char *t = next_text(&reader, false);
    assert_int_equal(seq_of(t), 2);
    free(t);
    peer_close(&reader);
    stop(&s);
}

/* A peer that stops reading on a busy feed: once its socket is full nothing more leaves,
 * so after a heartbeat of that silence a ping is queued that can never go out, and two
 * heartbeats later the peer is cut as dead, its slot freed; a reading peer beside it is
 * not. */
static void a_peer_that_stops_reading_is_cut_as_dead(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--heartbeat", "300ms", "--buffer", "64", NULL};
    struct harness_server s = start(args);
    struct peer stuck, alive;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &stuck), 101);
    int rcvbuf = 16 * 1024;
    setsockopt(stuck.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &alive), 101);
    char *big = malloc(30001);
    assert_non_null(big);
    memset(big, 'd', 30000);
    big[30000] = '\0';
    /* fill the stuck peer's socket both ways; the live one reads as it goes */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(harness_publish(s.port, big), (uint64_t)i + 1);
        char *t = next_text(&alive, true);
        assert_int_equal(seq_of(t), (uint64_t)i + 1);
        free(t);
    }
    free(big);
    /* nothing leaves for it now: dead within a few heartbeats (5 s is many) */
    expect_stat(s.port, "transports.ws.frames.dead_peers", 1);
    expect_stat(s.port, "transports.ws.open", 1);
    harness_publish(s.port, "you are still here");
    char *t = next_text(&alive, true);
    assert_int_equal(seq_of(t), 201);
    free(t);
    peer_close(&stuck);
    peer_close(&alive);
    stop(&s);
}

/* ---- bad frames --------------------------------------------------------------------- */

/* Open a connection, send one bad frame (or two, for the continuation cases), expect the
 * close code and the end of the stream. */
static void bad_frame(unsigned port, int fin, int rsv, int op, bool mask,
                      const void *payload, size_t len, unsigned code)
{
    struct peer p;
    assert_int_equal(peer_open(port, "/ws", NULL, NULL, 0, &p), 101);
    send_frame(&p, fin, rsv, op, mask, payload, len);
    expect_close(&p, code);
    peer_close(&p);
}

static void bad_frames_get_their_close_codes(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-publish-bytes", "100", NULL};
    struct harness_server s = start(args);
    bad_frame(s.port, 1, 0, OP_TEXT, false, LIT("unmasked"), 1002);
    bad_frame(s.port, 1, 4, OP_TEXT, true, LIT("rsv1"), 1002);
    bad_frame(s.port, 1, 1, OP_TEXT, true, LIT("rsv3"), 1002);
    bad_frame(s.port, 1, 0, 3, true, LIT("reserved"), 1002);
    bad_frame(s.port, 1, 0, 0xB, true, LIT("reserved control"), 1002);
    bad_frame(s.port, 1, 0, OP_CONT, true, LIT("no first fragment"), 1002);
    bad_frame(s.port, 1, 0, OP_TEXT, true, LIT("bad \xc3\x28 utf-8"), 1007);
    bad_frame(s.port, 1, 0, OP_TEXT, true, LIT("\xed\xa0\x80 surrogate"), 1007);
    const char close_reason[] = {0x03, (char)0xe8, 'o', 'k', (char)0xff};
    bad_frame(s.port, 1, 0, OP_CLOSE, true, close_reason, sizeof(close_reason), 1007);
    /* past the limit: wslay's at the header (its limit is 125 at least, for control
     * frames), the server's own below that */
    char big[300];
    memset(big, 'a', sizeof(big));
    bad_frame(s.port, 1, 0, OP_TEXT, true, big, sizeof(big), 1009);
    bad_frame(s.port, 1, 0, OP_TEXT, true, big, 120, 1009);
    bad_frame(s.port, 1, 0, OP_BINARY, true, LIT("\x01\x02"), 1003);
    bad_frame(s.port, 1, 0, OP_TEXT, true, LIT("nul\0inside"), 1008);

    /* a ping of 125 bytes (the most a control frame holds) passes a 100-byte limit */
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    send_frame(&p, 1, 0, OP_PING, true, big, 125);
    struct frame f;
    assert_int_equal(read_frame(&p, &f, 5000), 1);
    assert_int_equal(f.opcode, OP_PONG);
    assert_int_equal(f.len, 125);
    free(f.payload);
    peer_close(&p);
    /* a fragmented text whose second part breaks UTF-8 in the middle of a character */
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    send_frame(&p, 0, 0, OP_TEXT, true, LIT("ok \xe2\x82"));
    send_frame(&p, 1, 0, OP_CONT, true, LIT("("));
    expect_close(&p, 1007);
    peer_close(&p);
    /* a text frame where a continuation belongs */
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    send_frame(&p, 0, 0, OP_TEXT, true, LIT("first"));
    send_frame(&p, 1, 0, OP_TEXT, true, LIT("again"));
    expect_close(&p, 1002);
    peer_close(&p);

    /* the server is still up, counted each, and holds nothing of them */
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "GET", "/poll", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    expect_stat(s.port, "transports.ws.open", 0);
    expect_stat(s.port, "connections_open", 1);
    cJSON *st = harness_stats(s.port);
    assert_int_equal(harness_stat(st, "transports.ws.frames.closes_sent.1002"), 7);
    assert_int_equal(harness_stat(st, "transports.ws.frames.closes_sent.1007"), 4);
    assert_int_equal(harness_stat(st, "transports.ws.frames.closes_sent.1009"), 2);
    assert_int_equal(harness_stat(st, "transports.ws.frames.closes_sent.1003"), 1);
    assert_int_equal(harness_stat(st, "transports.ws.frames.closes_sent.1008"), 1);
    assert_int_equal(harness_stat(st, "transports.ws.frames.messages_in"), 0);
    assert_int_equal(harness_stat(st, "updates_published"), 0);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    cJSON_Delete(st);
    stop(&s);
}

/* ---- messages upstream -----------------------------------------------------------------
 */

/* A fragmented message interleaved with pings is one message, published whole; each ping
 * gets its pong at once. */
static void fragments_with_pings_between(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    send_frame(&p, 0, 0, OP_TEXT, true, LIT("frag-"));
    send_frame(&p, 1, 0, OP_PING, true, LIT("p1"));
    send_frame(&p, 0, 0, OP_CONT, true, LIT("ment-"));
    send_frame(&p, 1, 0, OP_PING, true, LIT("p2"));
    send_frame(&p, 0, 0, OP_CONT, true, LIT(""));
    send_frame(&p, 1, 0, OP_CONT, true, LIT("ed \xe2\x9c\x93"));
    struct frame f;
    const char *pongs[] = {"p1", "p2"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(read_frame(&p, &f, 5000), 1);
        assert_int_equal(f.opcode, OP_PONG);
        assert_string_equal(f.payload, pongs[i]);
        free(f.payload);
    }
    char *t = next_text(&p, true);
    assert_non_null(strstr(t, "\"data\":\"frag-ment-ed \xe2\x9c\x93\"}"));
    assert_int_equal(seq_of(t), 1);
    free(t);
    expect_stat(s.port, "transports.ws.frames.messages_in", 1);
    expect_stat(s.port, "updates_published", 1);
    peer_close(&p);
    stop(&s);
}

/* A loopback peer publishes with a text frame, also one sent right behind the handshake
 * (libmicrohttpd read it with the request and hands it over), and sees it come back. */
static void loopback_peers_publish(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    uint8_t early[64];
    size_t n = frame_build(early, 1, 0, OP_TEXT, true, "early bird", 10);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, early, n, &p), 101);
    char *t = next_text(&p, true);
    assert_non_null(strstr(t, "\"data\":\"early bird\"}"));
    free(t);
    send_text(&p, "hello from upstream");
    t = next_text(&p, true);
    assert_int_equal(seq_of(t), 2);
    assert_non_null(strstr(t, "\"data\":\"hello from upstream\"}"));
    free(t);
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "GET", "/poll", NULL, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "hello from upstream"));
    harness_response_free(&r);
    expect_stat(s.port, "transports.ws.frames.messages_in", 2);
    peer_close(&p);
    stop(&s);
}

/* What the peer in a namespace does: the handshake from off loopback, one text frame,
 * and tell by its exit status what came back: 0 its own update, 8 close 1008, 1 else. */
struct remote_args {
    struct in_addr server; /* this host's end of the veth */
    unsigned port;
};

static int remote_publish(void *arg)
{
    const struct remote_args *a = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port), .sin_addr = a->server};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return 1;
    const char req[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n";
    uint8_t frame[64];
    size_t n = frame_build(frame, 1, 0, OP_TEXT, true, "from afar", 9);
    if (harness_send(fd, req, sizeof(req) - 1) != 0 ||
        harness_send(fd, (const char *)frame, n) != 0)
        return 1;
    struct dynbuf in;
    dynbuf_init(&in, 1 << 20);
    int rc = 1;
    if (harness_read_until(fd, &in, "from afar", 5000) == 1)
        rc = 0;
    else if (memmem(in.mem ? in.mem : "", in.len, "\x88", 1) &&
             memmem(in.mem, in.len, "\x03\xf0", 2))
        rc = 8;
    dynbuf_free(&in);
    close(fd);
    return rc;
}

/* Off loopback, a text frame is published only when the server runs with
 * --open-publish, which opens POST /publish too; without it the frame gets close 1008
 * and POST /publish a 403. The peer is another host: a network namespace of the test's
 * own (common/netns.h). */
static void off_loopback_publishing_needs_open_publish(void **state)
{
    (void)state;
    struct netns ns;
    char err[512];
    if (netns_create(&ns, "ws-remote", err, sizeof(err)) != 0)
        fail_msg("%s", err);
    char bind[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ns.host_addr, bind, sizeof(bind));
    for (int open = 0; open < 2; open++) {
        const char *args[] = {"--rate", "0", "--bind", bind, open ? "--open-publish" : NULL,
                              NULL};
        struct harness_server s = start(args);
        struct remote_args ra = {ns.host_addr, s.port};
        pid_t pid = netns_fork(&ns, remote_publish, &ra, err, sizeof(err));
        if (pid < 0)
            fail_msg("%s", err);
        int rc = harness_wait(pid, 15000);
        assert_int_equal(rc, open ? 0 : 8);
        struct harness_server *sp = &s;
        cJSON *st = NULL;
        for (int i = 0; i < 100; i++) { /* the server's counts, from this host */
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sin = {.sin_family = AF_INET,
                                      .sin_port = htons((uint16_t)sp->port),
                                      .sin_addr = ns.host_addr};
            assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
            const char q[] = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
            assert_int_equal(harness_send(fd, q, sizeof(q) - 1), 0);
            struct harness_response r;
            assert_int_equal(harness_read_response(fd, &r, 5000), 0);
            close(fd);
            cJSON_Delete(st);
            st = cJSON_ParseWithLength(r.body, r.body_len);
            harness_response_free(&r);
            if (harness_stat(st, "transports.ws.open") == 0)
                break;
            harness_sleep_ms(20);
        }
        assert_int_equal(harness_stat(st, "transports.ws.frames.messages_in"),
                         open ? 1 : 0);
        assert_int_equal(harness_stat(st, "transports.ws.frames.closes_sent.1008"),
                         open ? -1 : 1);
        cJSON_Delete(st);
        stop(&s);
    }
    assert_int_equal(netns_remove(&ns, err, sizeof(err)), 0);
}

/* ---- ends --------------------------------------------------------------------------- */

/* SIGTERM: every WebSocket gets close 1001, and the server waits for the answer. */
static void shutdown_sends_1001(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct peer a, b;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &a), 101);
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &b), 101);
    expect_stat(s.port, "transports.ws.open", 2);
    kill(s.pid, SIGTERM);
    struct frame f;
    assert_int_equal(read_frame(&a, &f, 5000), 1);
    assert_int_equal(f.opcode, OP_CLOSE);
    assert_int_equal(f.len, 2);
    assert_memory_equal(f.payload, "\x03\xe9", 2);          /* 1001 */
    send_frame(&a, 1, 0, OP_CLOSE, true, f.payload, f.len); /* answered: a clean end */
    free(f.payload);
    assert_int_equal(peer_ends(&a, 5000), 1);
    expect_close(&b, 1001); /* unanswered: the server ends it all the same */
    peer_close(&a);
    peer_close(&b);
    stop(&s);
}

/* POST /drop cuts every WebSocket without a close frame; a client resumes with since
 * and misses nothing. */
static void drop_cuts_without_a_close_frame(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    harness_publish(s.port, "before");
    char *t = next_text(&p, true);
    uint64_t last = seq_of(t);
    free(t);
    struct harness_response r;
    assert_int_equal(harness_http(s.port, "POST", "/drop", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"dropped\":1}");
    harness_response_free(&r);
    assert_int_equal(peer_ends(&p, 5000), 1); /* no close frame, no byte: the end */
    peer_close(&p);
    harness_publish(s.port, "while away");
    char target[64];
    snprintf(target, sizeof(target), "/ws?since=%llu", (unsigned long long)last);
    assert_int_equal(peer_open(s.port, target, NULL, NULL, 0, &p), 101);
    t = next_text(&p, true);
    assert_int_equal(seq_of(t), last + 1);
    free(t);
    expect_stat(s.port, "transports.ws.frames.cuts", 1);
    peer_close(&p);
    stop(&s);
}

/* WebSockets count against --max-connections like any connection. */
static void websockets_count_against_the_connection_limit(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--max-connections", "3", NULL};
    struct harness_server s = start(args);
    struct peer p[3];
    for (int i = 0; i < 3; i++) {
        int status = peer_open(s.port, "/ws", NULL, NULL, 0, &p[i]);
        if (status != 101)
            fail_msg("WebSocket %d of 3: status %d", i + 1, status);
    }
    struct peer more;
    int status = peer_open(s.port, "/ws", NULL, NULL, 0, &more);
    if (status != 503)
        fail_msg("a fourth connection: status %d, expected 503", status);
    peer_close(&p[0]);
    expect_stat(s.port, "transports.ws.open", 2);
    /* its slot is free again (a 503 still while the server closes the /stats request's
     * connection just made, which also counts) */
    int64_t end = harness_now_ms() + 5000;
    while ((status = peer_open(s.port, "/ws", NULL, NULL, 0, &more)) == 503 &&
           harness_now_ms() < end)
        harness_sleep_ms(20);
    if (status != 101)
        fail_msg("a WebSocket once one left: status %d", status);
    peer_close(&more);
    peer_close(&p[1]);
    peer_close(&p[2]);
    stop(&s);
}

/* ---- bytes -----------------------------------------------------------------------------
 */

/* Compare one counter of the ws row and of the tag's row with what the peer counted. */
static void expect_both(const cJSON *row_doc, const cJSON *tag_doc, const char *field,
                        uint64_t want)
{
    char path[128];
    snprintf(path, sizeof(path), "transports.ws.%s", field);
    double row = harness_stat(row_doc, path);
    double tag = harness_stat(tag_doc, field);
    if (row != (double)want || tag != (double)want)
        fail_msg("%s: /stats says %g (tag: %g), the peer counted %llu", field, row, tag,
                 (unsigned long long)want);
}

/* What /stats says a WebSocket moved equals, byte for byte, what the peer sent and
 * received, split the same way: while it is open, and after a closing handshake. */
static void byte_accounting_matches_the_wire(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--heartbeat", "1s", NULL};
    struct harness_server s = start(args);
    struct peer p;
    uint8_t early[64];
    size_t n = frame_build(early, 1, 0, OP_TEXT, true, "first", 5);
    assert_int_equal(
        peer_open(s.port, "/ws?client=acct", "User-Agent: exact-count\r\n", early, n, &p),
        101);
    p.sent_hdr += 2, p.sent_mask += 4, p.sent_payload += 5;
    free(next_text(&p, true));
    for (int i = 0; i < 5; i++)
        harness_publish(s.port, i % 2 ? "short" : "a longer update, to vary the sizes");
    char big[3000];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    harness_publish(s.port, big); /* a 16-bit length */
    for (int i = 0; i < 6; i++)
        free(next_text(&p, true));
    send_frame(&p, 1, 0, OP_PING, true, LIT("ping"));
    send_text(&p, "upstream");
    free(next_text(&p, true));
    /* a heartbeat ping, answered */
    struct frame f;
    for (;;) {
        assert_int_equal(read_frame(&p, &f, 5000), 1);
        int op = f.opcode;
        if (op == OP_PING)
            send_frame(&p, 1, 0, OP_PONG, true, f.payload, f.len);
        free(f.payload);
        if (op == OP_PING)
            break;
    }
    /* live: what the peer has read is counted already (the next ping is a second of
     * silence away) */
    expect_stat(s.port, "transports.ws.frames.pongs_in", (double)p.pongs_sent);
    cJSON *st = harness_stats(s.port);
    cJSON *tag = tag_stats(s.port, "acct");
    expect_both(st, tag, "resp_body_bytes", p.got_payload);
    expect_both(st, tag, "framing_bytes", p.got_hdr + p.got_control);
    expect_both(st, tag, "req_body_bytes", p.sent);
    expect_both(st, tag, "req_header_bytes", p.req_bytes);
    expect_both(st, tag, "resp_header_bytes", p.head_bytes);
    cJSON_Delete(st);
    cJSON_Delete(tag);
    /* the closing handshake, then the whole connection */
    send_frame(&p, 1, 0, OP_CLOSE, true,
               "\x03\xe8"
               "bye",
               5);
    expect_close(&p, 1000);
    peer_close(&p);
    expect_stat(s.port, "transports.ws.open", 0);
    st = harness_stats(s.port);
    tag = tag_stats(s.port, "acct");
    expect_both(st, tag, "requests", 1);
    expect_both(st, tag, "req_header_bytes", p.req_bytes);
    expect_both(st, tag, "resp_header_bytes", p.head_bytes);
    expect_both(st, tag, "resp_body_bytes", p.got_payload);
    expect_both(st, tag, "framing_bytes", p.got_hdr + p.got_control);
    expect_both(st, tag, "req_body_bytes", p.sent);
    expect_both(st, tag, "frames.data_frames_out", p.got_data);
    expect_both(st, tag, "frames.frame_header_bytes_out", p.got_hdr);
    expect_both(st, tag, "frames.payload_bytes_out", p.got_payload);
    expect_both(st, tag, "frames.control_bytes_out", p.got_control);
    expect_both(st, tag, "frames.frame_header_bytes_in", p.sent_hdr);
    expect_both(st, tag, "frames.mask_bytes_in", p.sent_mask);
    expect_both(st, tag, "frames.payload_bytes_in", p.sent_payload);
    expect_both(st, tag, "frames.control_bytes_in", p.sent_control);
    expect_both(st, tag, "frames.data_frames_in", 2);
    expect_both(st, tag, "frames.pings_out", p.got_pings);
    expect_both(st, tag, "frames.pings_in", 1);
    expect_both(st, tag, "frames.pongs_out", 1);
    expect_both(st, tag, "frames.pongs_in", p.pongs_sent);
    expect_both(st, tag, "frames.closes_in", 1);
    expect_both(st, tag, "frames.messages_in", 2);
    expect_both(st, tag, "frames.closes_sent.1000", 1);
    assert_int_equal(harness_stat(st, "unaccounted_bytes"), 0);
    assert_int_equal(harness_stat(st, "undelivered_bytes"), 0);
    cJSON_Delete(st);
    cJSON_Delete(tag);
    stop(&s);
}

/* A reader that stops reading: the server queues only so much, the rest waits in the
 * ring; once the ring has moved past it, it gets the reset notice and the oldest update
 * kept, and ends at the newest with nothing out of order. */
static void a_slow_reader_is_reset_not_buffered(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "0", "--buffer", "16", "--heartbeat", "0", NULL};
    struct harness_server s = start(args);
    struct peer p;
    assert_int_equal(peer_open(s.port, "/ws", NULL, NULL, 0, &p), 101);
    /* a receive buffer that stays small while the peer does not read (it would grow to
     * tcp_rmem's maximum otherwise), and lets it read fast once it does */
    int rcvbuf = 64 * 1024;
    setsockopt(p.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    char *big = malloc(60001);
    assert_non_null(big);
    memset(big, 'z', 60000);
    big[60000] = '\0';
    enum { N = 300 };
    for (int i = 0; i < N; i++)
        assert_int_equal(harness_publish(s.port, big), (uint64_t)i + 1);
    free(big);
    /* now read everything: seqs rise, a reset notice comes, and the last is N */
    uint64_t last = 0, resets = 0;
    while (last < N) {
        char *t = next_text(&p, true);
        if (strncmp(t, "{\"reset\":true", 13) == 0) {
            resets++;
        } else {
            uint64_t seq = seq_of(t);
            assert_true(seq > last);
            if (seq != last + 1)
                assert_true(resets > 0); /* a gap only after a reset notice */
            last = seq;
        }
        free(t);
    }
    assert_true(resets >= 1);
    expect_stat(s.port, "transports.ws.frames.resets", (double)resets);
    peer_close(&p);
    stop(&s);
}

/* ---- many
 * -------------------------------------------------------------------------------- */

/* Thousands of WebSockets opened and ended every way a peer ends one: the open
 * connections and the server's files come back to where they were, and no byte is
 * unaccounted for. */
static void thousands_of_connects_leave_nothing_behind(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "20", "--heartbeat", "1s", NULL};
    struct harness_server s = start(args);
    expect_stat(s.port, "connections_open", 1);
    /* the server's files at rest: the fewest seen for a moment (the /stats request just
     * made may still be closing) */
    int files = open_files(s.pid);
    for (int i = 0; i < 25; i++) {
        harness_sleep_ms(20);
        int n = open_files(s.pid);
        files = n < files ? n : files;
    }
    assert_true(files > 0);
    enum { N = 3000, AT_ONCE = 50 };
    struct peer p[AT_ONCE];
    uint8_t close_frame[16], text_frame[32];
    size_t nclose = frame_build(close_frame, 1, 0, OP_CLOSE, true, "\x03\xe8", 2);
    size_t ntext = frame_build(text_frame, 1, 0, OP_TEXT, true, "soak", 4);
    for (int i = 0; i < N; i += AT_ONCE) {
        for (int j = 0; j < AT_ONCE; j++) {
            /* some send a frame right behind the handshake */
            const void *pipe = j % 7 == 0 ? (const void *)text_frame : NULL;
            assert_int_equal(peer_open(s.port, j % 3 ? "/ws" : "/ws?since=0", NULL, pipe,
                                       pipe ? ntext : 0, &p[j]),
                             101);
        }
        for (int j = 0; j < AT_ONCE; j++) {
            switch ((i / AT_ONCE + j) % 4) {
            case 0: /* a closing handshake */
                assert_int_equal(harness_send(p[j].fd, (const char *)close_frame, nclose),
                                 0);
                break;
            case 1: /* gone at once */
                break;
            case 2: /* a half-close: no more from this side */
                shutdown(p[j].fd, SHUT_WR);
                break;
            case 3: /* a bad frame, and gone before the answer */
                assert_int_equal(harness_send(p[j].fd, "\x81\x01x", 3), 0);
                break;
            }
        }
        for (int j = 0; j < AT_ONCE; j++) {
            if ((i / AT_ONCE + j) % 4 == 0 || (i / AT_ONCE + j) % 4 == 2)
                peer_ends(&p[j], 5000);
            peer_close(&p[j]);
        }
    }
    expect_stat(s.port, "transports.ws.open", 0);
    expect_stat(s.port, "connections_open", 1);
    expect_stat(s.port, "transports.ws.responses.101", N);
    int64_t end = harness_now_ms() + 5000;
    while (open_files(s.pid) > files && harness_now_ms() < end)
        harness_sleep_ms(20);
    int after = open_files(s.pid);
    if (after > files)
        fail_msg("the server holds %d files after the soak, %d before", after, files);
    expect_stat(s.port, "unaccounted_bytes", 0);
    stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(handshake_accepted_and_refused, teardown),
        cmocka_unit_test_teardown(updates_arrive_as_text_frames, teardown),
        cmocka_unit_test_teardown(since_replays_and_resets, teardown),
        cmocka_unit_test_teardown(ping_is_answered_with_pong, teardown),
        cmocka_unit_test_teardown(heartbeat_and_dead_peer, teardown),
        cmocka_unit_test_teardown(no_http_deadline_cuts_a_websocket, teardown),
        cmocka_unit_test_teardown(a_quiet_connection_lets_its_framing_go, teardown),
        cmocka_unit_test_teardown(a_ping_flood_is_cut_and_others_are_served, teardown),
        cmocka_unit_test_teardown(a_peer_that_stops_reading_is_cut_as_dead, teardown),
        cmocka_unit_test_teardown(bad_frames_get_their_close_codes, teardown),
        cmocka_unit_test_teardown(fragments_with_pings_between, teardown),
        cmocka_unit_test_teardown(loopback_peers_publish, teardown),
        cmocka_unit_test_teardown(off_loopback_publishing_needs_open_publish, teardown),
        cmocka_unit_test_teardown(shutdown_sends_1001, teardown),
        cmocka_unit_test_teardown(drop_cuts_without_a_close_frame, teardown),
        cmocka_unit_test_teardown(websockets_count_against_the_connection_limit, teardown),
        cmocka_unit_test_teardown(byte_accounting_matches_the_wire, teardown),
        cmocka_unit_test_teardown(a_slow_reader_is_reset_not_buffered, teardown),
        cmocka_unit_test_teardown(thousands_of_connects_leave_nothing_behind, teardown),
    };
    return cmocka_run_group_tests_name("ws_server", tests, NULL, NULL);
}
