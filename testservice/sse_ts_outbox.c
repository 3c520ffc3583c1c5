/* sse_ts_outbox.c: the numbered callback queue of one stream (sse_ts_outbox.h).
 *
 * Messages are built with jsonw (strings escaped exactly, whatever bytes the stream
 * held) into capped buffers; a message that cannot be built (out of memory, or past
 * TS_MAX_MESSAGE_BYTES) is reported on stderr and dropped. POSTs go to loopback only
 * (sse_ts_net.h), with a 30 s limit each.
 */
#include "sse_ts_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "jsonw.h"
#include "sse_ts_net.h"

#define TS_MAX_MESSAGE_BYTES ((size_t)64 * 1024 * 1024) /* one callback body */

/* One callback body waiting to be sent. */
struct ts_msg {
    struct dynbuf body;  /* the JSON text (owned) */
    struct ts_msg *next; /* queue order */
};

struct ts_outbox {
    CURLM *multi;            /* the worker's (borrowed) */
    unsigned id;             /* the stream's number, for messages */
    const char *url;         /* callbackUrl without a trailing / (borrowed) */
    struct ts_msg *head;     /* callbacks not yet sent (owned) */
    struct ts_msg *tail;     /* the last of them */
    struct ts_msg *inflight; /* the callback being POSTed (owned) */
    CURL *easy;              /* its request (owned) */
    struct curl_slist *hdrs; /* its headers (owned) */
    unsigned next_seq;       /* number of the next callback to send */
    void *owner;             /* CURLOPT_PRIVATE of its requests */
};

struct ts_outbox *ts_outbox_new(CURLM *multi, unsigned id, const char *callback_url,
                                void *owner)
{
    struct ts_outbox *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->multi = multi;
    o->id = id;
    o->url = callback_url;
    o->owner = owner;
    o->next_seq = 1;
    return o;
}

static void msg_free(struct ts_msg *m)
{
    dynbuf_free(&m->body);
    free(m);
}

/* Forget the POST in flight. */
static void drop_inflight(struct ts_outbox *o)
{
    if (o->easy) {
        curl_multi_remove_handle(o->multi, o->easy);
        curl_easy_cleanup(o->easy);
    }
    curl_slist_free_all(o->hdrs);
    if (o->inflight)
        msg_free(o->inflight);
    o->easy = NULL;
    o->hdrs = NULL;
    o->inflight = NULL;
}

void ts_outbox_free(struct ts_outbox *o)
{
    if (!o)
        return;
    drop_inflight(o);
    for (struct ts_msg *m = o->head, *next; m; m = next) {
        next = m->next;
        msg_free(m);
    }
    free(o);
}

/* Queue b's contents as the next callback; b is emptied either way. build_rc is the
 * result of building it (0 = whole). */
static void enqueue(struct ts_outbox *o, struct dynbuf *b, int build_rc)
{
    struct ts_msg *m = build_rc == 0 ? calloc(1, sizeof(*m)) : NULL;
    if (!m) {
        fprintf(stderr,
                "pushpull-sse-testservice: stream %u: callback dropped (out of "
                "memory or larger than %zu bytes)\n",
                o->id, TS_MAX_MESSAGE_BYTES);
        dynbuf_free(b);
        return;
    }
    m->body = *b; /* the message takes the memory */
    dynbuf_init(b, TS_MAX_MESSAGE_BYTES);
    if (o->tail)
        o->tail->next = m;
    else
        o->head = m;
    o->tail = m;
}

void ts_outbox_event(struct ts_outbox *o, const struct sse_event *ev)
{
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
    enqueue(o, &b, rc);
}

void ts_outbox_comment(struct ts_outbox *o, const char *text, size_t len)
{
    struct dynbuf b;
    dynbuf_init(&b, TS_MAX_MESSAGE_BYTES);
    int rc = dynbuf_adds(&b, "{\"kind\":\"comment\",\"comment\":");
    if (rc == 0)
        rc = jsonw_string(&b, text, len);
    if (rc == 0)
        rc = dynbuf_adds(&b, "}");
    enqueue(o, &b, rc);
}

void ts_outbox_error(struct ts_outbox *o, const char *text)
{
    struct dynbuf b;
    dynbuf_init(&b, TS_MAX_MESSAGE_BYTES);
    int rc = dynbuf_adds(&b, "{\"kind\":\"error\",\"error\":");
    if (rc == 0)
        rc = jsonw_string(&b, text, strlen(text));
    if (rc == 0)
        rc = dynbuf_adds(&b, "}");
    enqueue(o, &b, rc);
}

static size_t discard_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

void ts_outbox_pump(struct ts_outbox *o)
{
    if (o->easy || !o->head)
        return;
    struct ts_msg *m = o->head;
    o->head = m->next;
    if (!o->head)
        o->tail = NULL;
    m->next = NULL;
    unsigned seq = o->next_seq++;

    struct dynbuf url;
    dynbuf_init(&url, 64 * 1024);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (!e || !h || dynbuf_addf(&url, "%s/%u", o->url, seq) != 0)
        goto fail;
    ts_net_easy_common(e, url.mem);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, m->body.mem ? m->body.mem : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->body.len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, o->owner);
    if (curl_multi_add_handle(o->multi, e) != CURLM_OK)
        goto fail;
    dynbuf_free(&url); /* libcurl copied the URL */
    o->easy = e;
    o->hdrs = h;
    o->inflight = m;
    return;
fail:
    fprintf(stderr,
            "pushpull-sse-testservice: stream %u: callback %u not sent: out of "
            "memory\n",
            o->id, seq);
    dynbuf_free(&url);
    curl_slist_free_all(h);
    if (e)
        curl_easy_cleanup(e);
    msg_free(m);
}

bool ts_outbox_finished(struct ts_outbox *o, CURL *easy, CURLcode res)
{
    if (!o->easy || easy != o->easy)
        return false;
    long status = 0;
    curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &status);
    if (res != CURLE_OK || status < 200 || status > 299)
        fprintf(stderr,
                "pushpull-sse-testservice: stream %u: callback POST %s/%u: %s "
                "(status %ld)\n",
                o->id, o->url, o->next_seq - 1, curl_easy_strerror(res), status);
    drop_inflight(o);
    return true;
}
