/* sse_ts_stream.c: one SSE client of the test service (sse_ts_stream.h).
 *
 * The protocol is the lab's: clients/eventsource.c judges each response, reads the
 * stream through common/sse_parser, keeps the last event ID and the retry delay, and
 * says when to reconnect and what went wrong. This file does the I/O around it: a GET
 * (or the configured method and body) with Accept: text/event-stream, Cache-Control:
 * no-cache (unless the caller set them), Last-Event-ID when the machine has one, and the
 * caller's headers; redirects followed (loopback only, sse_ts_net.h).
 *
 * A response is judged once: at its first body byte, or at the end of a transfer that
 * completed without one (a 204, a 500 with no body, a redirect without Location). A
 * transfer that failed before any body byte (refused, reset, closed before or just after
 * the headers) is a network error, so the client reports it and reconnects, as the
 * event-stream rules say; it is never judged as "status 0". Every event and comment goes
 * to the callbacks; so does the machine's error line, once per failed connection (none
 * for a 204, a restart or a stream still open).
 */
#include "sse_ts_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "dynbuf.h"
#include "clients/eventsource.h"
#include "sse_ts_net.h"
#include "sse_ts_outbox.h"

struct ts_stream {
    CURLM *multi;                /* the worker's (borrowed) */
    unsigned id;                 /* the number in /streams/K */
    struct sse_ts_config *cfg;   /* what to connect to (owned) */
    struct eventsource *es;      /* the protocol (owned) */
    struct ts_outbox *out;       /* the callbacks (owned) */
    CURL *easy;                  /* the stream request while one is open (owned) */
    struct curl_slist *req_hdrs; /* its headers (owned) */
    char errbuf[CURL_ERROR_SIZE];
    bool judged;           /* this response went to the machine */
    bool reading;          /* and it opened the stream: read the body */
    bool too_big;          /* the parser refused an event */
    bool stopped;          /* the machine is closed: no more connections */
    int64_t connect_at_ns; /* when to connect next, while not connected; 0: now */
    int64_t last_read_ns;  /* last bytes from the stream (read timeout) */
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

static int on_event(void *ctx, const struct sse_event *ev)
{
    struct ts_stream *s = ctx;
    ts_outbox_event(s->out, ev);
    return 0;
}

static void on_comment(void *ctx, const char *text, size_t len)
{
    struct ts_stream *s = ctx;
    ts_outbox_comment(s->out, text, len);
}

struct ts_stream *ts_stream_new(CURLM *multi, unsigned id, struct sse_ts_config *cfg)
{
    struct ts_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        sse_ts_config_free(cfg);
        return NULL;
    }
    s->multi = multi;
    s->id = id;
    s->cfg = cfg;
    struct es_config ec = {.retry_ms = cfg->initial_delay_ms >= 0
                                           ? (uint64_t)cfg->initial_delay_ms
                                           : ES_DEFAULT_RETRY_MS,
                           .max_event_bytes = 0,
                           .last_event_id = cfg->last_event_id};
    struct es_callbacks cb = {.on_event = on_event, .on_comment = on_comment, .ctx = s};
    s->es = eventsource_new(&ec, &cb);
    s->out = ts_outbox_new(multi, id, cfg->callback_url, s);
    if (!s->es || !s->out) {
        ts_stream_free(s);
        return NULL;
    }
    return s;
}

/* Close the stream request, if one is open. */
static void disconnect(struct ts_stream *s)
{
    if (s->easy) {
        curl_multi_remove_handle(s->multi, s->easy);
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    curl_slist_free_all(s->req_hdrs);
    s->req_hdrs = NULL;
}

void ts_stream_free(struct ts_stream *s)
{
    if (!s)
        return;
    disconnect(s);
    ts_outbox_free(s->out);
    eventsource_free(s->es);
    sse_ts_config_free(s->cfg);
    free(s);
}

unsigned ts_stream_id(const struct ts_stream *s)
{
    return s->id;
}

/* The connection is over: tell the machine, report its error line, schedule or stop. */
static void ended(struct ts_stream *s, enum es_end how, const char *detail)
{
    disconnect(s);
    int64_t at = eventsource_ended(s->es, how, detail, clock_mono_ns());
    const char *err = eventsource_error(s->es);
    if (err[0])
        ts_outbox_error(s->out, err);
    if (at == ES_NEVER)
        s->stopped = true;
    else
        s->connect_at_ns = at;
}

/* ---- the stream request ------------------------------------------------------------- */

/* Hand the final response's status and type to the machine, once, if one arrived. */
static void judge(struct ts_stream *s)
{
    long status = 0;
    char *ct = NULL;
    if (s->judged)
        return;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 0)
        return; /* no response (yet) */
    curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
    s->judged = true;
    s->reading = eventsource_response(s->es, status, ct) == ES_VERDICT_OPEN;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct ts_stream *s = ud;
    size_t len = size * n;
    s->last_read_ns = clock_mono_ns();
    judge(s);
    if (!s->reading)
        return 0; /* abort: the body of a refused response is not read */
    if (eventsource_feed(s->es, p, len) == SSE_ERR_TOO_BIG) {
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

/* Append line to *h. 0, or -1 when out of memory (*h is kept for the caller to free). */
static int append(struct curl_slist **h, const char *line)
{
    struct curl_slist *t = curl_slist_append(*h, line);
    if (!t)
        return -1;
    *h = t;
    return 0;
}

/* This connection's header list. NULL when out of memory. */
static struct curl_slist *request_headers(const struct ts_stream *s)
{
    struct curl_slist *h = NULL;
    const struct sse_ts_config *c = s->cfg;
    const char *id = eventsource_last_id(s->es);
    struct dynbuf line;
    dynbuf_init(&line, 64 * 1024);
    int rc = 0;
    if (!has_header(c->headers, "Accept"))
        rc |= append(&h, "Accept: text/event-stream");
    if (!has_header(c->headers, "Cache-Control"))
        rc |= append(&h, "Cache-Control: no-cache");
    if (c->body && !has_header(c->headers, "Content-Type"))
        rc |= append(&h, "Content-Type: text/plain");
    if (id[0])
        rc |= dynbuf_addf(&line, "Last-Event-ID: %s", id) != 0 ? -1 : append(&h, line.mem);
    for (const struct curl_slist *x = c->headers; x && rc == 0; x = x->next)
        rc |= append(&h, x->data);
    dynbuf_free(&line);
    if (rc != 0) {
        curl_slist_free_all(h);
        return NULL;
    }
    return h;
}

/* Open the stream request. On failure the stream reports an error and tries again after
 * its retry delay. */
static void connect_now(struct ts_stream *s)
{
    const struct sse_ts_config *c = s->cfg;
    s->judged = s->reading = s->too_big = false;
    s->errbuf[0] = '\0';
    s->connect_at_ns = 0;
    s->req_hdrs = request_headers(s);
    s->easy = s->req_hdrs ? curl_easy_init() : NULL;
    if (!s->easy) {
        ended(s, ES_END_NETWORK, "cannot start the stream request: out of memory");
        return;
    }
    CURL *e = s->easy;
    ts_net_easy_common(e, c->stream_url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->req_hdrs);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
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
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
        ended(s, ES_END_NETWORK, "curl_multi_add_handle failed");
}

void ts_stream_finished(struct ts_stream *s, CURL *easy, CURLcode res)
{
    if (ts_outbox_finished(s->out, easy, res) || easy != s->easy)
        return;
    if (res == CURLE_OK)
        judge(s); /* a whole response without a body byte: a 204, a 500, a 3xx */
    if (s->too_big)
        ended(s, ES_END_TOO_BIG, NULL);
    else if (res != CURLE_OK)
        ended(s, ES_END_NETWORK, s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
    else
        ended(s, ES_END_EOF, NULL);
}

int64_t ts_stream_tick(struct ts_stream *s, int64_t now)
{
    if (s->stopped)
        return INT64_MAX;
    if (!s->easy && now >= s->connect_at_ns)
        connect_now(s);
    if (s->easy && s->cfg->read_timeout_ms > 0) {
        int64_t due = s->last_read_ns + s->cfg->read_timeout_ms * NS_PER_MS;
        if (now < due)
            return due;
        ended(s, ES_END_TIMEOUT, NULL);
    }
    return s->easy || s->stopped ? INT64_MAX : s->connect_at_ns;
}

void ts_stream_restart(struct ts_stream *s)
{
    if (!s->stopped)
        ended(s, ES_END_RESTART, NULL);
}

void ts_stream_pump(struct ts_stream *s)
{
    ts_outbox_pump(s->out);
}
