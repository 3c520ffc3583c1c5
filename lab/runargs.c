/* runargs.c: a run's flags for each program (see runargs.h).
 *
 * Numbers are written with "%.15g" and a unit the program's parser knows ("15s", "250ms",
 * "1000kbit"), so what the scenario said reaches the program unrounded. The server and
 * the client get the flags every approach shares here, and their approach's own from its
 * row of the table; the link's are the scenario's network, when it has one.
 */
#include "runargs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "scenario.h"

#define SERVER_DEFAULT_MAXCONN 20000 /* pushpull-server's default --max-connections */
#define LINK_DEFAULT_MAXCONN   8000  /* pushpull-link's */

static const char *const process_names[] = {"periodic", "poisson", "burst", "trace"};

void runargs_init(struct runargs *a)
{
    memset(a, 0, sizeof(*a));
}

int runargs_add(struct runargs *a, const char *word)
{
    char *copy = a->n < RUNARGS_MAX ? strdup(word) : NULL;
    if (!copy) {
        a->failed = 1;
        return -1;
    }
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
    return 0;
}

int runargs_addf(struct runargs *a, const char *fmt, ...)
{
    char word[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(word, sizeof(word), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(word)) {
        a->failed = 1;
        return -1;
    }
    return runargs_add(a, word);
}

int runargs_add_all(struct runargs *a, const struct runargs *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (runargs_add(a, b->v[i]) != 0)
            return -1;
    return 0;
}

void runargs_free(struct runargs *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    runargs_init(a);
}

int runargs_join(const struct runargs *a, struct dynbuf *out)
{
    for (size_t i = 0; i < a->n; i++)
        if (dynbuf_addf(out, "%s%s", i ? " " : "", a->v[i]) != 0)
            return -1;
    return 0;
}

/* "%.15g" of v followed by unit, as one word. */
static int add_num(struct runargs *a, double v, const char *unit)
{
    char num[32];
    fields_fmt_num(num, sizeof(num), v);
    return runargs_addf(a, "%s%s", num, unit);
}

int runargs_server(const struct scenario_run *r, struct runargs *out)
{
    runargs_add(out, "--process");
    runargs_add(out, process_names[r->process]);
    if (r->process != SCENARIO_TRACE) {
        runargs_add(out, "--rate");
        add_num(out, r->rate_hz, "");
    }
    if (r->process == SCENARIO_BURST) {
        runargs_add(out, "--burst-size");
        runargs_addf(out, "%u", r->burst_size);
    }
    if (r->process == SCENARIO_TRACE) {
        runargs_add(out, "--trace");
        runargs_add(out, r->trace);
    }
    runargs_add(out, "--payload-bytes");
    runargs_addf(out, "%llu", (unsigned long long)r->payload_bytes);
    runargs_add(out, "--seed");
    runargs_addf(out, "%llu", (unsigned long long)r->seed);
    if (r->approach->server_args)
        r->approach->server_args(r, out);
    /* every simulated user holds a connection to its instance; leave room for the
     * conductor's own */
    uint32_t n = r->scale ? r->scale->instances : 1;
    uint32_t share = (r->clients + n - 1) / n;
    if (share + 1000u > SERVER_DEFAULT_MAXCONN) {
        runargs_add(out, "--max-connections");
        runargs_addf(out, "%u", share + 1000u);
    }
    return out->failed ? -1 : 0;
}

int runargs_client(const struct scenario_run *r, struct runargs *out)
{
    runargs_add(out, "--approach");
    runargs_add(out, r->approach->name);
    if (r->approach->client_args)
        r->approach->client_args(r, out);
    runargs_add(out, "--clients");
    runargs_addf(out, "%u", r->clients);
    runargs_add(out, "--duration");
    add_num(out, r->duration_s, "s");
    runargs_add(out, "--warmup");
    add_num(out, r->warmup_s, "s");
    runargs_add(out, "--headers");
    runargs_add(out, r->headers);
    runargs_add(out, "--cookie-bytes");
    runargs_addf(out, "%u", r->cookie_bytes);
    runargs_add(out, "--seed");
    runargs_addf(out, "%llu", (unsigned long long)r->seed);
    /* the client's defaults (plain HTTP/1.1, a connection per user) go unsaid */
    if (r->protocol != SCENARIO_HTTP1) {
        runargs_add(out, "--protocol");
        runargs_add(out, scenario_client_protocol(r->protocol));
    }
    if (r->users_per_connection > 1) {
        runargs_add(out, "--users-per-connection");
        runargs_addf(out, "%u", r->users_per_connection);
    }
    if (r->send_rate_hz > 0) { /* the users write too: POSTs, or frames on a WebSocket */
        runargs_add(out, "--send-rate");
        add_num(out, r->send_rate_hz, "");
        runargs_add(out, "--send-bytes");
        runargs_addf(out, "%u", r->send_bytes);
        runargs_add(out, "--send-mode");
        runargs_add(out, r->send_mode);
    }
    return out->failed ? -1 : 0;
}

int runargs_link(const struct scenario_run *r, struct runargs *out)
{
    const struct scenario_network *n = &r->network;
    if (!n->link)
        return 0;
    /* the delay always, so a run at 0 in a sweep still names the link it went through */
    runargs_add(out, "--delay");
    add_num(out, n->delay_ms, "ms");
    if (n->jitter_ms > 0) {
        runargs_add(out, "--jitter");
        add_num(out, n->jitter_ms, "ms");
        runargs_add(out, "--seed");
        runargs_addf(out, "%llu", (unsigned long long)r->seed);
    }
    if (n->rate_kbit > 0) {
        runargs_add(out, "--rate");
        runargs_addf(out, "%llukbit", (unsigned long long)n->rate_kbit);
    }
    if (n->drop_every_s > 0) {
        runargs_add(out, "--drop-every");
        add_num(out, n->drop_every_s, "s");
    }
    if (n->idle_timeout_s > 0) {
        runargs_add(out, "--idle-timeout");
        add_num(out, n->idle_timeout_s, "s");
    }
    if (n->buffer_bytes > 0) {
        runargs_add(out, "--buffer");
        runargs_addf(out, "%llu", (unsigned long long)n->buffer_bytes);
    }
    if (n->handshake)
        runargs_add(out, "--handshake");
    /* every simulated user holds a connection through it, and so does the observer */
    if (r->clients + 1000u > LINK_DEFAULT_MAXCONN) {
        runargs_add(out, "--max-connections");
        runargs_addf(out, "%u", r->clients + 1000u);
    }
    return out->failed ? -1 : 0;
}

int runargs_restart_words(const struct scenario_run *r, struct dynbuf *out)
{
    const struct scenario_restart *rs = &r->restart;
    char at[32], down[32];
    if (!rs->on)
        return 0;
    /* counted from the client's start, which is warmup_s before the window */
    fields_fmt_num(at, sizeof(at), r->warmup_s + rs->at_s);
    fields_fmt_num(down, sizeof(down), rs->down_s);
    return dynbuf_addf(out, "at=%s down=%s feed=%s", at, down,
                       rs->durable ? "file" : "memory");
}

int runargs_plan_line(const struct scenario_run *r, struct dynbuf *out)
{
    struct runargs server, client, link;
    runargs_init(&server);
    runargs_init(&client);
    runargs_init(&link);
    int rc = runargs_server(r, &server) != 0 || runargs_client(r, &client) != 0 ||
                     runargs_link(r, &link) != 0
                 ? -1
                 : 0;
    /* the port of the run's Redis is known once it runs (lab/broker.c) */
    if (rc == 0 && r->feed.redis &&
        (runargs_add(&server, "--redis") != 0 ||
         runargs_add(&server, "127.0.0.1:PORT") != 0))
        rc = -1;
    if (rc == 0)
        rc = dynbuf_addf(out, "%s\t", r->id) != 0 || runargs_join(&server, out) != 0 ||
                     dynbuf_adds(out, "\t") != 0 || runargs_join(&client, out) != 0 ||
                     dynbuf_adds(out, "\t") != 0 || runargs_join(&link, out) != 0 ||
                     dynbuf_adds(out, "\t") != 0 || runargs_restart_words(r, out) != 0
                 ? -1
                 : 0;
    runargs_free(&server);
    runargs_free(&client);
    runargs_free(&link);
    return rc;
}

double runargs_estimate_s(const struct scenario_run *r)
{
    double drain = r->approach->drain_s ? r->approach->drain_s(r) : 1.0;
    double restart = r->restart.on ? r->restart.down_s + 1.0 : 0; /* the second start */
    return r->warmup_s + r->duration_s + drain + 1.0 + restart;
}
