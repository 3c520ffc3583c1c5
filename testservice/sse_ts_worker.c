/* sse_ts_worker.c: the test service's SSE clients and their callback queues, all on one
 * thread and one libcurl multi handle (see sse_ts_worker.h).
 *
 * Each stream is an EventSource built on common/sse_parser: a GET (or the configured
 * method) with Accept: text/event-stream and Cache-Control: no-cache, Last-Event-ID once
 * an id is in force. A 200 with Content-Type text/event-stream feeds the parser; every
 * event, comment and error becomes one JSON message on the stream's callback queue. The
 * queue is sent strictly in order, one POST in flight per stream, to callback_url/N with
 * N counting from 1 without gaps; a callback that fails is reported on stderr and
 * skipped (its number is used up, as the harness would see a gap anyway).
 *
 * When the stream ends or fails (network error, end of body, read timeout, event over
 * the parser's cap) the client reports an error and reconnects after the retry delay
 * (initialDelayMs, then whatever retry: said). As in WHATWG HTML 9.2.3, 204 stops the
 * client quietly, and any other status, or a wrong Content-Type, "fails the connection":
 * one error callback, no reconnection. Redirects (301, 307, ...) are followed by libcurl;
 * one without Location ends as a 3xx status, which is such an error. A restart command
 * drops the connection without an error callback, as the contract suite expects.
 *
 * Loop: curl_multi_poll (at most 100 ms, or the nearest reconnection or read deadline),
 * with curl_multi_wakeup from the API thread; then commands, deadlines, perform, finished
 * transfers, and the callback queues. libcurl callbacks only parse and enqueue; handles
 * are added and removed between libcurl calls.
 *
 * Simplifications: tens of streams, so every turn walks them all; only loopback peers are
 * contacted (an opensocket check, which covers redirects too).
 */
#include "sse_ts_worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "clock.h"
#include "dynbuf.h"
#include "jsonw.h"
#include "sse_parser.h"

#define TS_DEFAULT_RETRY_MS  3000    /* Chromium's, until told otherwise */
#define TS_MAX_RETRY_MS      3600000 /* an hour: keeps ms * NS_PER_MS sane */
#define TS_MAX_MESSAGE_BYTES ((size_t)64 * 1024 * 1024) /* one callback body */
#define TS_POLL_MS           100                        /* longest sleep between turns */

/* One callback body waiting to be sent. */
struct ts_msg {
    struct dynbuf body;  /* the JSON text (owned) */
    struct ts_msg *next; /* queue order */
};

enum ts_cmd_kind { TS_CMD_CREATE, TS_CMD_RESTART, TS_CMD_DELETE };

/* A request from the API thread. */
struct ts_cmd {
    enum ts_cmd_kind kind;
    unsigned id;               /* the stream concerned */
    struct sse_ts_config *cfg; /* TS_CMD_CREATE: the config (owned until applied) */
    struct ts_cmd *next;
};

/* One SSE client. Only the worker thread touches it. */
struct ts_stream {
    struct sse_ts_worker *w;     /* owner */
    unsigned id;                 /* the number in /streams/K */
    struct sse_ts_config *cfg;   /* what to connect to (owned) */
    struct sse_parser *parser;   /* keeps the last event ID across connections (owned) */
    CURL *easy;                  /* the stream request while one is open (owned) */
    struct curl_slist *req_hdrs; /* its headers (owned) */
    char errbuf[CURL_ERROR_SIZE];
    bool checked;          /* status and Content-Type of this response looked at */
    bool bad_response;     /* non-200 (but 204) or wrong Content-Type: fail for good */
    bool too_big;          /* the parser refused an event */
    bool stopped;          /* no more connections */
    int64_t connect_at_ns; /* when to connect next, while not connected and not stopped */
    int64_t last_read_ns;  /* last bytes from the stream (read timeout) */
    uint64_t retry_ms;     /* reconnection delay in force */
    struct ts_msg *q_head; /* callbacks not yet sent (owned) */
    struct ts_msg *q_tail;
    struct ts_msg *inflight; /* the callback being POSTed (owned) */
    CURL *cb_easy;           /* its request (owned) */
    struct curl_slist *cb_hdrs;
    unsigned next_seq;      /* number of the next callback to send */
    struct ts_stream *next; /* the worker's list */
};

struct sse_ts_worker {
    pthread_t thread;
    CURLM *multi;
    struct ts_stream *streams; /* worker thread only */
    /* Shared with the API thread, under mu: */
    pthread_mutex_t mu;
    struct ts_cmd *cmd_head, *cmd_tail; /* commands not yet applied */
    bool quit;                          /* stop the thread */
    unsigned next_id;                   /* last stream number handed out */
    unsigned *live;                     /* numbers not deleted (owned) */
    size_t nlive, caplive;
};

void sse_ts_config_free(struct sse_ts_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->stream_url);
    free(cfg->callback_url);
    free(cfg->last_event_id);
    free(cfg->method);
    free(cfg->body);
    curl_slist_free_all(cfg->headers);
    free(cfg);
}

/* ---- callback queue ----------------------------------------------------- */

/* Queue b's contents as the next callback; b is emptied either way. A message that
 * cannot be built (out of memory) is reported and dropped. */
static void stream_enqueue(struct ts_stream *s, struct dynbuf *b, int build_rc)
{
    struct ts_msg *m = build_rc == 0 ? calloc(1, sizeof(*m)) : NULL;
    if (!m) {
        fprintf(stderr,
                "pushpull-sse-testservice: stream %u: callback dropped (out of "
                "memory or larger than %zu bytes)\n",
                s->id, TS_MAX_MESSAGE_BYTES);
        dynbuf_free(b);
        return;
    }
    m->body = *b; /* the message takes the memory */
    dynbuf_init(b, TS_MAX_MESSAGE_BYTES);
    if (s->q_tail)
        s->q_tail->next = m;
    else
        s->q_head = m;
    s->q_tail = m;
}

static void stream_report_error(struct ts_stream *s, const char *text)
{
    struct dynbuf b;
    dynbuf_init(&b, TS_MAX_MESSAGE_BYTES);
    int rc = dynbuf_adds(&b, "{\"kind\":\"error\",\"error\":");
    if (rc == 0)
        rc = jsonw_string(&b, text, strlen(text));
    if (rc == 0)
        rc = dynbuf_adds(&b, "}");
    stream_enqueue(s, &b, rc);
}

static size_t discard_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Only loopback peers (127.0.0.0/8, ::1): a test service must not reach out. */
static curl_socket_t open_loopback_socket(void *ud, curlsocktype purpose,
                                          struct curl_sockaddr *a)
{
    (void)ud;
    (void)purpose;
    bool ok = false;
    if (a->family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;
        ok = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (a->family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;
        ok = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    }
    if (!ok)
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

/* Options every request of ours shares. */
static void easy_common(CURL *e, const char *url)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_loopback_socket);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
}

/* Send the next queued callback if none is in flight. */
static void stream_pump_callbacks(struct ts_stream *s)
{
    if (s->cb_easy || !s->q_head)
        return;
    struct ts_msg *m = s->q_head;
    s->q_head = m->next;
    if (!s->q_head)
        s->q_tail = NULL;
    m->next = NULL;
    unsigned seq = s->next_seq++;

    struct dynbuf url;
    dynbuf_init(&url, 64 * 1024);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (!e || !h || dynbuf_addf(&url, "%s/%u", s->cfg->callback_url, seq) != 0)
        goto fail;
    easy_common(e, url.mem);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, m->body.mem ? m->body.mem : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->body.len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    if (curl_multi_add_handle(s->w->multi, e) != CURLM_OK)
        goto fail;
    dynbuf_free(&url); /* libcurl copied the URL */
    s->cb_easy = e;
    s->cb_hdrs = h;
    s->inflight = m;
    return;
fail:
    fprintf(stderr,
            "pushpull-sse-testservice: stream %u: callback %u not sent: out of "
            "memory\n",
            s->id, seq);
    dynbuf_free(&url);
    curl_slist_free_all(h);
    if (e)
        curl_easy_cleanup(e);
    dynbuf_free(&m->body);
    free(m);
}

static void stream_callback_done(struct ts_stream *s, CURLcode res)
{
    long status = 0;
    curl_easy_getinfo(s->cb_easy, CURLINFO_RESPONSE_CODE, &status);
    if (res != CURLE_OK || status < 200 || status > 299)
        fprintf(stderr,
                "pushpull-sse-testservice: stream %u: callback POST %s/%u: %s "
                "(status %ld)\n",
                s->id, s->cfg->callback_url, s->next_seq - 1, curl_easy_strerror(res),
                status);
    curl_multi_remove_handle(s->w->multi, s->cb_easy);
    curl_easy_cleanup(s->cb_easy);
    curl_slist_free_all(s->cb_hdrs);
    dynbuf_free(&s->inflight->body);
    free(s->inflight);
    s->cb_easy = NULL;
    s->cb_hdrs = NULL;
    s->inflight = NULL;
}

/* ---- parser callbacks --------------------------------------------------- */

static int stream_on_event(void *ctx, const struct sse_event *ev)
{
    struct ts_stream *s = ctx;
    struct dynbuf b;
    dynbuf_init(&b, TS_MAX_MESSAGE_BYTES);
    int rc = dynbuf_adds(&b, "{\"kind\":\"event\",\"event\":{\"type\":");
    if (rc == 0)
        rc = jsonw_string(&b, ev->type, ev->type_len);
    if (rc == 0)
        rc = dynbuf_adds(&b, ",\"data\":");
    if (rc == 0)
        rc = jsonw_string(&b, ev->data, ev->data_len);
    if (rc == 0)
        rc = dynbuf_adds(&b, ",\"id\":");
    if (rc == 0)
        rc = jsonw_string(&b, ev->id, ev->id_len);
    if (rc == 0)
        rc = dynbuf_adds(&b, "}}");
    stream_enqueue(s, &b, rc);
    return 0;
}

static void stream_on_comment(void *ctx, const char *text, size_t len)
{
    struct ts_stream *s = ctx;
    struct dynbuf b;
    dynbuf_init(&b, TS_MAX_MESSAGE_BYTES);
    int rc = dynbuf_adds(&b, "{\"kind\":\"comment\",\"comment\":");
    if (rc == 0)
        rc = jsonw_string(&b, text, len);
    if (rc == 0)
        rc = dynbuf_adds(&b, "}");
    stream_enqueue(s, &b, rc);
}

static void stream_on_retry(void *ctx, uint64_t ms)
{
    struct ts_stream *s = ctx;
    s->retry_ms = ms < TS_MAX_RETRY_MS ? ms : TS_MAX_RETRY_MS;
}

/* ---- the stream request ------------------------------------------------- */

/* "text/event-stream", any case, optionally followed by parameters. */
static bool is_event_stream(const char *ct)
{
    static const char want[] = "text/event-stream";
    size_t n = sizeof(want) - 1;
    if (!ct || strncasecmp(ct, want, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Look at the final response's status and type once, before its first body byte or at
 * its end. Sets bad_response for anything but 200 + text/event-stream and 204. */
static void stream_check_response(struct ts_stream *s)
{
    if (s->checked)
        return;
    s->checked = true;
    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (status == 204)
        return;
    if (status != 200 || !is_event_stream(ct))
        s->bad_response = true;
}

static size_t stream_on_body(char *p, size_t size, size_t n, void *ud)
{
    struct ts_stream *s = ud;
    size_t len = size * n;
    s->last_read_ns = clock_mono_ns();
    stream_check_response(s);
    if (s->bad_response)
        return 0; /* abort: the body of a wrong response is not read */
    if (sse_parser_feed(s->parser, p, len) == SSE_ERR_TOO_BIG) {
        s->too_big = true;
        return 0;
    }
    return len;
}

/* Is there a header named `name` (case-insensitive) among the config's extras? */
static bool has_header(const struct curl_slist *h, const char *name)
{
    size_t n = strlen(name);
    for (; h; h = h->next)
        if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
            return true;
    return false;
}

/* Build this connection's header list. NULL when out of memory. */
static struct curl_slist *stream_headers(const struct ts_stream *s)
{
    struct curl_slist *h = NULL, *t;
    const struct sse_ts_config *c = s->cfg;
    if (!has_header(c->headers, "Accept")) {
        if (!(t = curl_slist_append(h, "Accept: text/event-stream")))
            goto fail;
        h = t;
    }
    if (!has_header(c->headers, "Cache-Control")) {
        if (!(t = curl_slist_append(h, "Cache-Control: no-cache")))
            goto fail;
        h = t;
    }
    if (c->body && !has_header(c->headers, "Content-Type")) {
        if (!(t = curl_slist_append(h, "Content-Type: text/plain")))
            goto fail;
        h = t;
    }
    const char *id = sse_parser_last_id(s->parser);
    if (id[0]) {
        struct dynbuf line;
        dynbuf_init(&line, 64 * 1024);
        t = dynbuf_addf(&line, "Last-Event-ID: %s", id) == 0
                ? curl_slist_append(h, line.mem)
                : NULL;
        dynbuf_free(&line);
        if (!t)
            goto fail;
        h = t;
    }
    for (const struct curl_slist *x = c->headers; x; x = x->next) {
        if (!(t = curl_slist_append(h, x->data)))
            goto fail;
        h = t;
    }
    return h;
fail:
    curl_slist_free_all(h);
    return NULL;
}

/* Open the stream request. On failure the stream reports an error and tries again after
 * its retry delay. */
static void stream_connect(struct ts_stream *s)
{
    const struct sse_ts_config *c = s->cfg;
    s->checked = false;
    s->bad_response = false;
    s->too_big = false;
    s->errbuf[0] = '\0';
    s->req_hdrs = stream_headers(s);
    s->easy = curl_easy_init();
    if (!s->req_hdrs || !s->easy) {
        curl_slist_free_all(s->req_hdrs);
        if (s->easy)
            curl_easy_cleanup(s->easy);
        s->req_hdrs = NULL;
        s->easy = NULL;
        stream_report_error(s, "cannot start the stream request: out of memory");
        s->connect_at_ns = clock_mono_ns() + (int64_t)s->retry_ms * NS_PER_MS;
        return;
    }
    CURL *e = s->easy;
    easy_common(e, c->stream_url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->req_hdrs);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, stream_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    if (c->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->body));
    }
    if (c->method && strcmp(c->method, "GET") != 0) {
        if (strcmp(c->method, "POST") == 0 && !c->body)
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    } else if (c->body) {
        /* a body with GET: send it anyway, with the method the caller named */
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GET");
    }
    s->last_read_ns = clock_mono_ns();
    s->connect_at_ns = 0;
    if (curl_multi_add_handle(s->w->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(s->req_hdrs);
        s->easy = NULL;
        s->req_hdrs = NULL;
        stream_report_error(s, "curl_multi_add_handle failed");
        s->connect_at_ns = clock_mono_ns() + (int64_t)s->retry_ms * NS_PER_MS;
    }
}

/* Close the stream request (if open) and forget its partial event. */
static void stream_disconnect(struct ts_stream *s)
{
    if (s->easy) {
        curl_multi_remove_handle(s->w->multi, s->easy);
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    curl_slist_free_all(s->req_hdrs);
    s->req_hdrs = NULL;
    sse_parser_reset(s->parser); /* keeps the last event ID */
}

static void stream_schedule_reconnect(struct ts_stream *s)
{
    s->connect_at_ns = clock_mono_ns() + (int64_t)s->retry_ms * NS_PER_MS;
}

/* The stream request finished: decide between stop, error + stop, and error + retry. */
static void stream_request_done(struct ts_stream *s, CURLcode res)
{
    char text[CURL_ERROR_SIZE + 128];
    long status = 0;
    stream_check_response(s);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    char *ct = NULL;
    curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (s->bad_response) {
        if (status != 200)
            snprintf(text, sizeof(text), "HTTP status %ld from the stream", status);
        else
            snprintf(text, sizeof(text), "Content-Type \"%s\" is not text/event-stream",
                     ct ? ct : "");
    } else if (s->too_big) {
        snprintf(text, sizeof(text), "an event exceeded %zu bytes",
                 SSE_DEFAULT_MAX_EVENT_BYTES);
    } else if (res != CURLE_OK) {
        snprintf(text, sizeof(text), "%s",
                 s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
    } else {
        snprintf(text, sizeof(text), "the server closed the stream");
    }
    stream_disconnect(s);
    if (status == 204 && res == CURLE_OK && !s->bad_response) {
        s->stopped = true; /* the server says: do not reconnect */
        return;
    }
    stream_report_error(s, text);
    if (s->bad_response)
        s->stopped = true;
    else
        stream_schedule_reconnect(s);
}

/* ---- streams ------------------------------------------------------------ */

/* A new stream; takes cfg. NULL (cfg freed) when out of memory. Connects at once. */
static struct ts_stream *stream_new(struct sse_ts_worker *w, unsigned id,
                                    struct sse_ts_config *cfg)
{
    struct ts_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        sse_ts_config_free(cfg);
        return NULL;
    }
    s->w = w;
    s->id = id;
    s->cfg = cfg;
    s->next_seq = 1;
    s->retry_ms =
        cfg->initial_delay_ms >= 0 ? (uint64_t)cfg->initial_delay_ms : TS_DEFAULT_RETRY_MS;
    if (s->retry_ms > TS_MAX_RETRY_MS)
        s->retry_ms = TS_MAX_RETRY_MS;
    struct sse_callbacks cb = {.on_event = stream_on_event,
                               .on_comment = stream_on_comment,
                               .on_retry = stream_on_retry,
                               .ctx = s};
    s->parser = sse_parser_new(0, &cb);
    if (!s->parser) {
        sse_ts_config_free(cfg);
        free(s);
        return NULL;
    }
    if (cfg->last_event_id && cfg->last_event_id[0]) {
        /* As if the id had come in an earlier event: an id line and a blank line, which
         * dispatch nothing (the API refused ids holding CR, LF or NUL). */
        struct dynbuf line;
        dynbuf_init(&line, 64 * 1024);
        if (dynbuf_addf(&line, "id:%s\n\n", cfg->last_event_id) == 0)
            (void)sse_parser_feed(s->parser, line.mem, line.len);
        dynbuf_free(&line);
        sse_parser_reset(s->parser);
    }
    return s;
}

/* Drop everything: the request, the callback in flight, the queue. */
static void stream_free(struct ts_stream *s)
{
    stream_disconnect(s);
    if (s->cb_easy) {
        curl_multi_remove_handle(s->w->multi, s->cb_easy);
        curl_easy_cleanup(s->cb_easy);
        curl_slist_free_all(s->cb_hdrs);
        dynbuf_free(&s->inflight->body);
        free(s->inflight);
    }
    for (struct ts_msg *m = s->q_head, *next; m; m = next) {
        next = m->next;
        dynbuf_free(&m->body);
        free(m);
    }
    sse_parser_free(s->parser);
    sse_ts_config_free(s->cfg);
    free(s);
}

static struct ts_stream *stream_find(struct sse_ts_worker *w, unsigned id)
{
    for (struct ts_stream *s = w->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* ---- commands (API thread side) ---------------------------------------- */

/* Index of id in w->live, or -1. Caller holds mu. */
static long live_index_locked(const struct sse_ts_worker *w, unsigned id)
{
    for (size_t i = 0; i < w->nlive; i++)
        if (w->live[i] == id)
            return (long)i;
    return -1;
}

/* Queue a command and wake the worker. Caller holds mu. */
static void cmd_push_locked(struct sse_ts_worker *w, struct ts_cmd *c)
{
    if (w->cmd_tail)
        w->cmd_tail->next = c;
    else
        w->cmd_head = c;
    w->cmd_tail = c;
    curl_multi_wakeup(w->multi);
}

unsigned sse_ts_worker_create(struct sse_ts_worker *w, struct sse_ts_config *cfg)
{
    struct ts_cmd *c = calloc(1, sizeof(*c));
    unsigned id = 0;
    if (!c) {
        sse_ts_config_free(cfg);
        return 0;
    }
    pthread_mutex_lock(&w->mu);
    if (w->nlive == w->caplive) {
        size_t cap = w->caplive ? 2 * w->caplive : 16;
        unsigned *grown = realloc(w->live, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&w->mu);
            sse_ts_config_free(cfg);
            free(c);
            return 0;
        }
        w->live = grown;
        w->caplive = cap;
    }
    id = ++w->next_id;
    w->live[w->nlive++] = id;
    c->kind = TS_CMD_CREATE;
    c->id = id;
    c->cfg = cfg;
    cmd_push_locked(w, c);
    pthread_mutex_unlock(&w->mu);
    return id;
}

/* Queue a restart or delete for a live stream. 0, or -1 when unknown or out of memory. */
static int worker_command(struct sse_ts_worker *w, enum ts_cmd_kind kind, unsigned id)
{
    struct ts_cmd *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->kind = kind;
    c->id = id;
    pthread_mutex_lock(&w->mu);
    long i = live_index_locked(w, id);
    if (i < 0) {
        pthread_mutex_unlock(&w->mu);
        free(c);
        return -1;
    }
    if (kind == TS_CMD_DELETE)
        w->live[i] = w->live[--w->nlive];
    cmd_push_locked(w, c);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int sse_ts_worker_restart(struct sse_ts_worker *w, unsigned id)
{
    return worker_command(w, TS_CMD_RESTART, id);
}

int sse_ts_worker_delete(struct sse_ts_worker *w, unsigned id)
{
    return worker_command(w, TS_CMD_DELETE, id);
}

/* ---- the worker thread -------------------------------------------------- */

static void worker_apply(struct sse_ts_worker *w, struct ts_cmd *c)
{
    struct ts_stream *s = stream_find(w, c->id);
    switch (c->kind) {
    case TS_CMD_CREATE:
        s = stream_new(w, c->id, c->cfg);
        c->cfg = NULL;
        if (!s) {
            fprintf(stderr, "pushpull-sse-testservice: stream %u: out of memory\n", c->id);
            break;
        }
        s->next = w->streams;
        w->streams = s;
        stream_connect(s);
        break;
    case TS_CMD_RESTART:
        if (s && !s->stopped) {
            stream_disconnect(s);
            stream_schedule_reconnect(s);
        }
        break;
    case TS_CMD_DELETE:
        for (struct ts_stream **pp = &w->streams; *pp; pp = &(*pp)->next) {
            if (*pp == s) {
                *pp = s->next;
                stream_free(s);
                break;
            }
        }
        break;
    }
}

/* Apply queued commands. Returns true when the worker should quit. */
static bool worker_take_commands(struct sse_ts_worker *w)
{
    pthread_mutex_lock(&w->mu);
    struct ts_cmd *list = w->cmd_head;
    bool quit = w->quit;
    w->cmd_head = w->cmd_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    for (struct ts_cmd *c = list, *next; c; c = next) {
        next = c->next;
        if (!quit)
            worker_apply(w, c);
        sse_ts_config_free(c->cfg);
        free(c);
    }
    return quit;
}

/* Connect streams that are due, drop silent ones. Returns ms until the next deadline
 * (at most TS_POLL_MS). */
static int worker_deadlines(struct sse_ts_worker *w)
{
    int64_t now = clock_mono_ns();
    int64_t next = now + TS_POLL_MS * NS_PER_MS;
    for (struct ts_stream *s = w->streams; s; s = s->next) {
        if (s->stopped)
            continue;
        if (!s->easy && s->connect_at_ns && now >= s->connect_at_ns)
            stream_connect(s);
        if (s->easy && s->cfg->read_timeout_ms > 0) {
            int64_t due = s->last_read_ns + s->cfg->read_timeout_ms * NS_PER_MS;
            if (now >= due) {
                stream_disconnect(s);
                stream_report_error(s, "read timeout: no data from the stream");
                stream_schedule_reconnect(s);
            } else if (due < next) {
                next = due;
            }
        }
        if (!s->easy && s->connect_at_ns && s->connect_at_ns < next)
            next = s->connect_at_ns;
    }
    int64_t ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
    return ms < 0 ? 0 : (int)ms;
}

static void worker_finished(struct sse_ts_worker *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode res = msg->data.result;
        struct ts_stream *s = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
        if (!s)
            continue;
        if (e == s->cb_easy)
            stream_callback_done(s, res);
        else if (e == s->easy)
            stream_request_done(s, res);
    }
}

static void *worker_main(void *arg)
{
    struct sse_ts_worker *w = arg;
    for (;;) {
        if (worker_take_commands(w))
            break;
        int wait_ms = worker_deadlines(w);
        int running = 0;
        curl_multi_perform(w->multi, &running);
        worker_finished(w);
        for (struct ts_stream *s = w->streams; s; s = s->next)
            stream_pump_callbacks(s);
        /* New handles were added: let libcurl start them before sleeping. */
        curl_multi_perform(w->multi, &running);
        worker_finished(w);
        for (struct ts_stream *s = w->streams; s; s = s->next)
            stream_pump_callbacks(s);
        long curl_ms = -1;
        curl_multi_timeout(w->multi, &curl_ms);
        if (curl_ms >= 0 && curl_ms < wait_ms)
            wait_ms = (int)curl_ms;
        curl_multi_poll(w->multi, NULL, 0, wait_ms, NULL);
    }
    return NULL;
}

struct sse_ts_worker *sse_ts_worker_start(char *err, size_t errlen)
{
    struct sse_ts_worker *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "calloc: %s", strerror(errno));
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    w->multi = curl_multi_init();
    if (!w->multi) {
        snprintf(err, errlen, "curl_multi_init failed");
        goto fail;
    }
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    return w;
fail:
    if (w->multi)
        curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return NULL;
}

void sse_ts_worker_stop(struct sse_ts_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    curl_multi_wakeup(w->multi);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    (void)worker_take_commands(w); /* frees what came in after the last turn */
    while (w->streams) {
        struct ts_stream *s = w->streams;
        w->streams = s->next;
        stream_free(s);
    }
    curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->mu);
    free(w->live);
    free(w);
}
