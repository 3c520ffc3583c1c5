/* ws_test_server.c: the in-test WebSocket feed server (ws_test_server.h).
 *
 * Written without the client's code on purpose (no ws_accept.c, no ws_meter.c, no wslay):
 * the handshake answer is SHA-1 and base64 straight from libcrypto, frames are built and
 * parsed here by hand, so a mistake in the client's WebSocket code cannot hide behind the
 * same mistake on this side.
 */
#include "ws_test_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "dynbuf.h"

#define MAX_CONNS   4096 /* at once */
#define HEAD_MAX    16384
#define WS_GUID_STR "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct update_rec {
    uint64_t seq;
    char *json; /* {"seq":N,"ts_ns":T,"data":"..."} (owned) */
};

struct wts {
    struct wts_config cfg;
    int lfd;
    unsigned port;
    pthread_t accepter, generator;
    bool gen_started;
    pthread_mutex_t mu;
    pthread_cond_t cond;    /* a publish, a cut, a close, the stop */
    bool stop;              /* under mu */
    struct update_rec *ups; /* every update published, seq i+1 at i (under mu) */
    size_t n, cap;
    uint64_t keep_from;  /* the oldest seq still kept (under mu) */
    unsigned cut_gen;    /* bumped by wts_cut_all (under mu) */
    unsigned close_gen;  /* bumped by wts_close_all (under mu) */
    unsigned close_code; /* its code */
    struct wts_stats st; /* under mu */
    int active; /* connection threads running (detached; under mu, signalled on cond) */
};

struct conn {
    struct wts *w;
    int fd;
};

static bool stopping(struct wts *w)
{
    pthread_mutex_lock(&w->mu);
    bool s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

static int send_all(struct wts *w, int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && !stopping(w))
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the feed ----------------------------------------------------------------------- */

uint64_t wts_publish(struct wts *w, const char *data)
{
    struct dynbuf j;
    dynbuf_init(&j, 1 << 20);
    pthread_mutex_lock(&w->mu);
    uint64_t seq = w->n + 1;
    int rc = dynbuf_addf(&j, "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64 ",\"data\":\"", seq,
                         clock_real_ns());
    for (const char *c = data; rc == 0 && *c; c++)
        rc = (*c == '"' || *c == '\\') ? dynbuf_addf(&j, "\\%c", *c) : dynbuf_add(&j, c, 1);
    if (rc == 0)
        rc = dynbuf_adds(&j, "\"}");
    if (rc == 0 && w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        struct update_rec *p = realloc(w->ups, cap * sizeof(*p));
        if (p) {
            w->ups = p;
            w->cap = cap;
        } else {
            rc = -1;
        }
    }
    if (rc == 0) {
        w->ups[w->n].seq = seq;
        w->ups[w->n].json = dynbuf_take(&j);
        w->n++;
        pthread_cond_broadcast(&w->cond);
    } else {
        seq = 0;
    }
    pthread_mutex_unlock(&w->mu);
    dynbuf_free(&j);
    return seq;
}

uint64_t wts_forget_all(struct wts *w)
{
    pthread_mutex_lock(&w->mu);
    w->keep_from = w->n + 1;
    uint64_t newest = w->n;
    pthread_mutex_unlock(&w->mu);
    return newest;
}

void wts_cut_all(struct wts *w)
{
    pthread_mutex_lock(&w->mu);
    w->cut_gen++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void wts_close_all(struct wts *w, unsigned code)
{
    pthread_mutex_lock(&w->mu);
    w->close_code = code;
    w->close_gen++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void wts_stats(struct wts *w, struct wts_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    pthread_mutex_unlock(&w->mu);
}

/* Copies of the update texts from seq `from` on, while the test runs (caller frees each
 * and the array). */
static char **updates_from(struct wts *w, uint64_t from, size_t *count)
{
    *count = 0;
    if (from == 0 || from > w->n)
        return NULL;
    size_t k = w->n - (from - 1);
    char **out = calloc(k, sizeof(*out));
    for (size_t i = 0; out && i < k; i++)
        out[i] = strdup(w->ups[from - 1 + i].json);
    *count = out ? k : 0;
    return out;
}

static void free_texts(char **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i]);
    free(t);
}

static void *generator_main(void *arg)
{
    struct wts *w = arg;
    for (unsigned k = 1; !stopping(w); k++) {
        char data[1024];
        int n = snprintf(data, sizeof(data), "tick %u ", k);
        while (n < w->cfg.payload_bytes && n < (int)sizeof(data) - 1)
            data[n++] = 'p';
        data[n] = '\0';
        wts_publish(w, data);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)w->cfg.publish_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- frames ------------------------------------------------------------------------- */

/* An unmasked server frame, in one send (two would meet Nagle and a delayed ACK). */
static int send_frame(struct wts *w, int fd, unsigned opcode, const void *payload,
                      size_t len)
{
    uint8_t h[10];
    size_t n = 0;
    int rc;
    h[n++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        h[n++] = (uint8_t)len;
    } else if (len < 65536) {
        h[n++] = 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t *frame = malloc(n + len);
    if (!frame)
        return -1;
    memcpy(frame, h, n);
    if (len)
        memcpy(frame + n, payload, len);
    rc = send_all(w, fd, frame, n + len);
    free(frame);
    return rc;
}

/* The configured bad frame, once the first update is out, on the first sockets. */
static int send_bad(struct wts *w, int fd)
{
    pthread_mutex_lock(&w->mu);
    bool go = w->cfg.bad_frame != WTS_GOOD && w->st.bad_sent < w->cfg.bad_budget;
    w->st.bad_sent += go;
    pthread_mutex_unlock(&w->mu);
    if (!go)
        return 0;
    if (w->cfg.bad_frame == WTS_BAD_UTF8)
        return send_frame(w, fd, 0x1, "caf\xc3\x28", 5);
    if (w->cfg.bad_frame == WTS_MASKED) {
        const uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
        return send_all(w, fd, masked, sizeof(masked));
    }
    char big[4096];
    memset(big, 'z', sizeof(big));
    return send_frame(w, fd, 0x1, big, sizeof(big));
}

static int send_close(struct wts *w, int fd, unsigned code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    return send_frame(w, fd, 0x8, p, 2);
}

/* Parse the complete client frames at the front of in; act on each. Returns 1 when the
 * connection is to close (a close frame came: answered, unless `closing` says ours went
 * first and this is the answer), -1 on a send failure, else 0. */
static int client_frames(struct wts *w, int fd, struct dynbuf *in, bool closing)
{
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && in->len - off >= 2) {
        const uint8_t *b = (const uint8_t *)in->mem + off;
        size_t avail = in->len - off, h = 2;
        unsigned opcode = b[0] & 0x0F;
        bool masked = b[1] & 0x80;
        uint64_t len = b[1] & 0x7F;
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)b[2] << 8) | b[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | b[2 + i];
            h = 10;
        }
        size_t mh = masked ? 4 : 0;
        if (avail < h + mh + len)
            break;
        uint8_t *payload = malloc(len + 1);
        if (!payload)
            return -1;
        for (uint64_t i = 0; i < len; i++)
            payload[i] = masked ? (uint8_t)(b[h + mh + i] ^ b[h + (i % 4)]) : b[h + mh + i];
        payload[len] = 0;
        off += h + mh + len;
        pthread_mutex_lock(&w->mu);
        w->st.unmasked_frames += !masked;
        if (opcode == 0xA)
            w->st.pongs_received++;
        if (opcode == 0x1) {
            w->st.texts_received++;
            w->st.text_bytes_received += len;
        }
        if (opcode == 0x8) {
            w->st.closes_received++;
            w->st.last_close_code = len >= 2 ? ((unsigned)payload[0] << 8) | payload[1] : 0;
        }
        pthread_mutex_unlock(&w->mu);
        if (opcode == 0x1)
            wts_publish(w, (const char *)payload);
        else if (opcode == 0x9)
            rc = send_frame(w, fd, 0xA, payload, len);
        else if (opcode == 0x8 && closing)
            rc = 1;
        else if (opcode == 0x8)
            rc = send_frame(w, fd, 0x8, payload, len < 2 ? len : 2) == 0 ? 1 : -1;
        free(payload);
    }
    dynbuf_consume(in, off);
    return rc;
}

/* ---- routes ------------------------------------------------------------------------- */

/* The value of header `name` in head, trimmed, into out; 0 or -1. */
static int header(const char *head, const char *name, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\r\n%s:", name);
    const char *p = strcasestr(head, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r");
    if (n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static void accept_value(const char *key, char out[32])
{
    char joined[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID_STR);
    EVP_Digest(joined, strlen(joined), md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

static void serve_ws(struct wts *w, int fd, const char *head, size_t head_len)
{
    char key[64], upgrade[64], connection[128], version[16], answer[512];
    int64_t since = -1;
    const char *q = strstr(head, "?since=");
    if (q && q < strstr(head, " HTTP/1.1"))
        since = strtoll(q + 7, NULL, 10);
    bool ok = header(head, "Sec-WebSocket-Key", key, sizeof(key)) == 0 &&
              strlen(key) == 24 && header(head, "Upgrade", upgrade, sizeof(upgrade)) == 0 &&
              strcasecmp(upgrade, "websocket") == 0 &&
              header(head, "Connection", connection, sizeof(connection)) == 0 &&
              strcasestr(connection, "upgrade") &&
              header(head, "Sec-WebSocket-Version", version, sizeof(version)) == 0 &&
              strcmp(version, "13") == 0;
    int status = !ok ? 400 : w->cfg.refuse_status;
    int n;
    if (status) {
        const char *body = "{\"error\":\"refused\"}";
        n = snprintf(answer, sizeof(answer),
                     "HTTP/1.1 %d Refused\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, strlen(body), body);
    } else {
        char acc[32];
        accept_value(key, acc);
        if (w->cfg.bad_accept)
            acc[0] = acc[0] == 'A' ? 'B' : 'A';
        n = snprintf(answer, sizeof(answer),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
    }
    pthread_mutex_lock(&w->mu);
    if (w->st.handshakes < WTS_MAX_HANDSHAKES)
        w->st.since[w->st.handshakes] = since;
    w->st.handshakes++;
    w->st.req_bytes += head_len;
    w->st.resp_bytes += (uint64_t)n;
    uint64_t next = since >= 0 ? (uint64_t)since + 1 : w->n + 1;
    bool reset = since >= 0 && next < w->keep_from;
    uint64_t first = w->keep_from;
    if (reset) {
        next = w->keep_from;
        w->st.resets_sent++;
    }
    unsigned cut_gen = w->cut_gen, close_gen = w->close_gen;
    pthread_mutex_unlock(&w->mu);
    if (send_all(w, fd, answer, (size_t)n) != 0 || status)
        return;
    if (reset) {
        char r[128];
        int rl = snprintf(r, sizeof(r),
                          "{\"reset\":true,\"since\":%" PRId64 ",\"first\":%" PRIu64 "}",
                          since, first);
        if (send_frame(w, fd, 0x1, r, (size_t)rl) != 0)
            return;
    }
    struct dynbuf in;
    dynbuf_init(&in, 1 << 22);
    int64_t last_ping = clock_mono_ns();
    bool closing = false, bad_done = false;
    int64_t closing_since = 0;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t k = 0;
        char **texts = closing ? NULL : updates_from(w, next, &k);
        bool stop = w->stop, cut = w->cut_gen != cut_gen,
             close_now = w->close_gen != close_gen;
        unsigned code = w->close_code;
        if (!texts && !stop && !cut && !close_now) {
            struct timespec until = clock_ts_from_ns(clock_real_ns() + 10 * NS_PER_MS);
            pthread_cond_timedwait(&w->cond, &w->mu, &until);
        }
        if (k)
            w->st.updates_sent += k;
        pthread_mutex_unlock(&w->mu);
        int rc = 0;
        for (size_t i = 0; i < k && rc == 0; i++)
            rc = send_frame(w, fd, 0x1, texts[i], strlen(texts[i]));
        next += k;
        free_texts(texts, k);
        if (rc == 0 && k > 0 && !bad_done) {
            bad_done = true;
            rc = send_bad(w, fd);
        }
        if (rc != 0 || stop)
            break;
        if (cut) {
            pthread_mutex_lock(&w->mu);
            w->st.last_sent_at_cut = next - 1;
            pthread_mutex_unlock(&w->mu);
            shutdown(fd, SHUT_RDWR);
            break;
        }
        if (close_now && !closing) {
            close_gen = w->close_gen;
            if (send_close(w, fd, code) != 0)
                break;
            closing = true;
            closing_since = clock_mono_ns();
        }
        if (closing && clock_mono_ns() - closing_since > 2 * NS_PER_S)
            break;
        int64_t now = clock_mono_ns();
        if (!closing && w->cfg.ping_ms > 0 &&
            now - last_ping >= w->cfg.ping_ms * NS_PER_MS) {
            last_ping = now;
            pthread_mutex_lock(&w->mu);
            w->st.pings_sent++;
            pthread_mutex_unlock(&w->mu);
            if (send_frame(w, fd, 0x9, "hb", 2) != 0)
                break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            char buf[4096];
            ssize_t got = recv(fd, buf, sizeof(buf), 0);
            if (got <= 0 || dynbuf_add(&in, buf, (size_t)got) != 0)
                break;
            int fr = client_frames(w, fd, &in, closing);
            if (fr !=
                0) /* a close answered (or sent first and now answered), or an error */
                break;
        }
    }
    dynbuf_free(&in);
}

static void serve_sse(struct wts *w, int fd, const char *head)
{
    char id[32];
    const char *start = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
    pthread_mutex_lock(&w->mu);
    uint64_t next = w->n + 1;
    if (header(head, "Last-Event-ID", id, sizeof(id)) == 0)
        next = strtoull(id, NULL, 10) + 1;
    pthread_mutex_unlock(&w->mu);
    if (send_all(w, fd, start, strlen(start)) != 0)
        return;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t k = 0;
        char **texts = updates_from(w, next, &k);
        bool stop = w->stop;
        if (!texts && !stop) {
            struct timespec until = clock_ts_from_ns(clock_real_ns() + 20 * NS_PER_MS);
            pthread_cond_timedwait(&w->cond, &w->mu, &until);
        }
        pthread_mutex_unlock(&w->mu);
        int rc = 0;
        for (size_t i = 0; i < k && rc == 0; i++) {
            struct dynbuf ev;
            dynbuf_init(&ev, 1 << 20);
            rc = dynbuf_addf(&ev, "id: %" PRIu64 "\ndata: %s\n\n", next + i, texts[i]) ||
                 send_all(w, fd, ev.mem, ev.len);
            dynbuf_free(&ev);
        }
        next += k;
        free_texts(texts, k);
        if (rc != 0 || stop)
            return;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            char buf[512];
            if (recv(fd, buf, sizeof(buf), 0) <= 0)
                return;
        }
    }
}

/* Read one request head (up to and including the blank line) into buf; its length, or 0. */
static size_t read_head(struct wts *w, int fd, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    int64_t give_up = clock_mono_ns() + 5 * NS_PER_S;
    while (!strstr(buf, "\r\n\r\n")) {
        if (stopping(w) || len + 1 >= cap || clock_mono_ns() > give_up)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return len;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct wts *w = c->w;
    int fd = c->fd;
    free(c);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    pthread_mutex_lock(&w->mu);
    bool fin_reset = w->st.fin_resets < w->cfg.fin_reset_budget;
    w->st.fin_resets += fin_reset;
    pthread_mutex_unlock(&w->mu);
    if (fin_reset)
        shutdown(fd, SHUT_WR); /* a FIN before the request */
    char *head = malloc(HEAD_MAX);
    size_t len = head ? read_head(w, fd, head, HEAD_MAX) : 0;
    if (fin_reset) {
        /* a WebSocket request that got no answer counts as a handshake; anything else
         * (the observer's stream) gives its turn back */
        bool ws = len > 0 && strncmp(head, "GET /ws", 7) == 0;
        pthread_mutex_lock(&w->mu);
        if (ws && w->st.handshakes < WTS_MAX_HANDSHAKES)
            w->st.since[w->st.handshakes] = -2;
        w->st.handshakes += ws;
        w->st.req_bytes += ws ? len : 0;
        w->st.fin_resets -= !ws;
        pthread_mutex_unlock(&w->mu);
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)); /* close() resets */
    } else if (len > 0 && strncmp(head, "GET /ws", 7) == 0) {
        serve_ws(w, fd, head, len);
    } else if (len > 0 && strncmp(head, "GET /events", 11) == 0) {
        serve_sse(w, fd, head);
    } else if (len > 0) {
        const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        send_all(w, fd, nf, strlen(nf));
    }
    free(head);
    close(fd);
    pthread_mutex_lock(&w->mu);
    w->active--;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct wts *w = arg;
    while (!stopping(w)) {
        struct pollfd p = {.fd = w->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) != 1)
            continue;
        int fd = accept(w->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct conn *c = malloc(sizeof(*c));
        pthread_mutex_lock(&w->mu);
        bool started = false;
        if (c && w->active < MAX_CONNS) {
            c->w = w;
            c->fd = fd;
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            started = pthread_create(&t, &attr, conn_main, c) == 0;
            pthread_attr_destroy(&attr);
            w->active += started;
        }
        pthread_mutex_unlock(&w->mu);
        if (!started) {
            free(c);
            close(fd);
        }
    }
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------- */

struct wts *wts_start(const struct wts_config *cfg)
{
    struct wts *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->cfg = *cfg;
    w->keep_from = 1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(w->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    if (w->lfd < 0 || bind(w->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(w->lfd, 128) != 0 ||
        getsockname(w->lfd, (struct sockaddr *)&a, &alen) != 0) {
        if (w->lfd >= 0)
            close(w->lfd);
        free(w);
        return NULL;
    }
    w->port = ntohs(a.sin_port);
    pthread_create(&w->accepter, NULL, accept_main, w);
    if (cfg->publish_ms > 0)
        w->gen_started = pthread_create(&w->generator, NULL, generator_main, w) == 0;
    return w;
}

unsigned wts_port(const struct wts *w)
{
    return w->port;
}

void wts_stop(struct wts *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->accepter, NULL);
    if (w->gen_started)
        pthread_join(w->generator, NULL);
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < 1000 && w->active > 0; i++) { /* at most 10 s */
        struct timespec until = clock_ts_from_ns(clock_real_ns() + 10 * NS_PER_MS);
        pthread_cond_timedwait(&w->cond, &w->mu, &until);
    }
    int left = w->active;
    pthread_mutex_unlock(&w->mu);
    if (left > 0) /* a thread that will not stop: leave it its memory rather than crash */
        return;
    close(w->lfd);
    for (size_t i = 0; i < w->n; i++)
        free(w->ups[i].json);
    free(w->ups);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w);
}
