/* user.c: one simulated user: the start/finish cycle every technique shares, the limits
 * on a transfer's wait, outages, the updates a user receives, and its set-up.
 *
 * Two HTTP drivers, chosen per run (--http-driver): the client's own HTTP/1.1
 * (http_conn.c, the default) and libcurl (user_curl.c). Both hand what they read to the
 * same seam (user_http.c), so a response's head lines, its body, the outcome and the next
 * request are judged in one place whichever driver read them; a transfer ends here, in
 * finish. With the raw driver the transfer's own limits (connect, whole transfer, answer)
 * are this file's too (user_arm_limits); libcurl keeps its connect and transfer limits
 * itself.
 *
 * Waiting: a transport may bound the wait for a response's headers (answer_timeout_ns,
 * for a stream, whose transfer has no end to time): the user's loop timer is set to that
 * deadline while the request is out, and a transfer still without headers then is
 * stopped and counted as a timeout.
 *
 * Techniques that run their own socket (the WebSocket) get no easy handle; user.c passes
 * them the user's timer and socket events, and they count through the same functions
 * (user_socket_opened, user_socket_close, user_count_*), so each count still has one
 * place.
 *
 * The three files share user_impl.h: the limits' timer from here, the libcurl driver's
 * set-up, start and end from user_curl.c.
 */
#include "user.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "by_order.h"
#include "clock.h"
#include "failover.h"
#include "foreign.h"
#include "headers.h"
#include "loop.h"
#include "user_impl.h"
#include "user_protocol.h"

#define URL_MAX_BYTES 8192

int user_server_addr(const struct user *u, struct sockaddr_storage *a, socklen_t *len)
{
    char bare[64];
    const struct server_target *t = user_target(u);
    const char *address = t->address;
    snprintf(bare, sizeof(bare), "%s", address[0] == '[' ? address + 1 : address);
    char *close_br = strchr(bare, ']');
    if (close_br)
        *close_br = '\0';
    memset(a, 0, sizeof(*a));
    struct sockaddr_in *a4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;
    if (inet_pton(AF_INET, bare, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)t->port);
        *len = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, bare, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)t->port);
        *len = sizeof(*a6);
        return 0;
    }
    return -1;
}

const struct transport_ops *transport_for(enum approach a)
{
    static const struct transport_ops *const table[] = {
        [APPROACH_SHORT] = &transport_short_poll,
        [APPROACH_LONG] = &transport_long_poll,
        [APPROACH_SSE] = &transport_sse,
        [APPROACH_WS] = &transport_ws,
    };
    return table[a];
}

/* ---- the request cycle -------------------------------------------------------------- */

static void start(struct user *u);

/* The user's timer while a transfer is out: the nearest of its limits (user.h), or none.
 * (libcurl keeps its transfer and connect limits itself: only answer_due is set then.) */
void user_arm_limits(struct user *u)
{
    int64_t due = 0;
    int64_t lim[3] = {u->answer_due, u->xfer_due, u->hc ? u->hc->connect_due : 0};
    for (int i = 0; i < 3; i++)
        if (lim[i] > 0 && (due == 0 || lim[i] < due))
            due = lim[i];
    if (due > 0)
        loop_timer_set(u->env->loop, u->slot, due);
    else
        loop_timer_clear(u->env->loop, u->slot);
}

/* The next request at next_due. One due already (a long poll asks again at once) starts
 * here, as the answer is handled, rather than from the timer at the end of the loop's
 * turn, behind every other socket of the turn's batch; but never from inside start (a
 * request that fails at once waits for the timer, so a failure cannot recurse). */
static void schedule(struct user *u, int64_t next_due, int64_t now)
{
    if (next_due == TRANSPORT_STOP) {
        u->stopped = true;
        loop_timer_clear(u->env->loop, u->slot);
        return;
    }
    if (next_due <= now && !u->starting && !u->shutting_down) {
        loop_timer_clear(u->env->loop, u->slot);
        start(u);
        return;
    }
    loop_timer_set(u->env->loop, u->slot, next_due);
}

/* A limit of ours passed: a timeout, or a connect error when no connection was made. */
static enum http_end timeout_end(struct user *u)
{
    if (u->easy)
        return user_curl_end(u, CURLE_OPERATION_TIMEDOUT);
    return u->hc->connected ? HTTP_END_TIMEOUT : HTTP_END_CONNECT;
}

static enum counter error_counter(enum http_end how)
{
    return how == HTTP_END_CONNECT   ? CTR_ERR_CONNECT
           : how == HTTP_END_TIMEOUT ? CTR_ERR_TIMEOUT
                                     : CTR_ERR_IO;
}

void user_count_aborted(struct user *u)
{
    counters_add(u->ctr, CTR_ABORTED, 1, u->ctr->measuring);
}

void user_count_request(struct user *u)
{
    if (u->env->order && !u->observer && !u->publisher)
        by_order_join(u); /* its first request: where its place in the order starts */
    u->sent_in_window = u->ctr->measuring;
    counters_add(u->ctr, CTR_REQUESTS, 1, u->sent_in_window);
}

void user_count_failure(struct user *u, enum counter k)
{
    counters_add(u->ctr, k, 1, u->ctr->measuring);
    failover_after_failure(u, k); /* a refused or cut connection: the next instance */
}

static enum counter outcome_counter(enum outcome o)
{
    switch (o) {
    case OUTCOME_NEWS:
        return CTR_RESP_NEWS;
    case OUTCOME_EMPTY:
        return CTR_RESP_EMPTY;
    case OUTCOME_NOT_MODIFIED:
        return CTR_RESP_304;
    case OUTCOME_ERR_STATUS:
        return CTR_ERR_STATUS;
    case OUTCOME_ERR_PARSE:
    case OUTCOME_ERR_TOO_BIG:
        break;
    }
    return CTR_ERR_PARSE;
}

void user_count_outcome(struct user *u, enum outcome o)
{
    bool win = u->ctr->measuring;
    counters_add(u->ctr, outcome_counter(o), 1, win);
    counters_add(u->ctr, CTR_ERR_PARSE_TOO_BIG, o == OUTCOME_ERR_TOO_BIG, win);
}

/* The one place a transfer ends: request bytes, outcome, next schedule. */
static void finish(struct user *u, enum http_end how)
{
    if (!u->busy)
        return;
    u->busy = false;
    u->abort_requested = false;
    u->answer_due = 0;
    u->xfer_due = 0;
    if (u->easy) {
        loop_remove(u->env->loop, u->slot, u->easy);
        user_curl_count_request(u);
    } else if (u->hc->busy) {
        http_conn_stop(u->hc); /* stopped mid-answer: the connection cannot go on */
    }

    int64_t now = clock_mono_ns();
    int64_t next = TRANSPORT_STOP;
    if (u->shutting_down) {
        user_count_aborted(u);
        return;
    }
    if (u->framing_error) {
        user_count_failure(u, CTR_ERR_PARSE);
        user_note_down(u, false);
        u->ops->on_error(u, now, &next);
    } else if (how != HTTP_END_OK && !u->refused) {
        user_count_failure(u, error_counter(how));
        user_note_down(u, false);
        u->ops->on_error(u, now, &next);
    } else if (!user_protocol_as_asked(u)) {
        user_count_failure(u, CTR_ERR_STATUS); /* never a silent fallback to HTTP/1.1 */
        user_note_down(u, true);
        u->ops->on_error(u, now, &next);
    } else {
        user_count_outcome(u, u->ops->on_done(u, u->status, now, &next));
    }
    schedule(u, next, now);
}

/* The raw driver: the request's bytes written once into the connection's buffer. 0 or
 * -1. */
static int start_raw(struct user *u, const struct request_spec *spec,
                     const char *const *extra, int64_t now)
{
    struct http_conn *c = u->hc;
    dynbuf_reset(&c->req);
    if (headers_write_request(u->env->headers, u->ops->kind, u->url.mem,
                              user_target(u)->host_line, extra,
                              spec->body ? spec->body_len : 0, &c->req) != 0)
        return -1;
    c->head_len = c->req.len;
    if (spec->body && dynbuf_add(&c->req, spec->body, spec->body_len) != 0)
        return -1;
    u->xfer_due = spec->timeout_ns > 0 ? now + spec->timeout_ns : 0;
    http_conn_send(c);
    return 0;
}

static void start(struct user *u)
{
    struct dynbuf target;
    dynbuf_init(&target, URL_MAX_BYTES);
    struct request_spec spec = {
        .target = &target, .timeout_ns = 0, .answer_timeout_ns = 0, .body = NULL};
    for (int i = 0; i < TRANSPORT_MAX_EXTRA; i++)
        spec.extra[i][0] = '\0';
    int64_t now = clock_mono_ns();

    /* the raw driver writes the target straight after the base path, into u->url */
    dynbuf_reset(&u->url);
    if (u->hc) {
        spec.target = &u->url;
        if (dynbuf_adds(&u->url, user_target(u)->base_path) != 0)
            spec.target = NULL;
    }
    if (!spec.target || u->ops->prepare(u, &spec, now) != 0 ||
        (u->hc && (u->url.len == strlen(user_target(u)->base_path)) &&
         dynbuf_adds(&u->url, "/") != 0)) {
        dynbuf_free(&target);
        u->stopped = true; /* out of memory: this user gives up, visibly (stopped) */
        return;
    }
    const char *extra[TRANSPORT_MAX_EXTRA + 1];
    int n = 0;
    for (int i = 0; i < TRANSPORT_MAX_EXTRA; i++)
        if (spec.extra[i][0])
            extra[n++] = spec.extra[i];
    extra[n] = NULL;

    u->post_len = spec.body ? spec.body_len : 0;
    u->request_begun = false;
    u->headers_done = false;
    u->chunked = false;
    u->refused = false;
    u->framing_error = false;
    u->abort_requested = false;
    u->status = 0;
    if (u->answer_validators)
        foreign_cursor_clear(u->answer_validators);
    u->resp_ctype[0] = '\0';
    u->answer_due = spec.answer_timeout_ns > 0 ? now + spec.answer_timeout_ns : 0;
    user_count_request(u);
    u->busy = true;
    u->starting = true;
    int rc = u->hc ? start_raw(u, &spec, extra, now) : user_curl_start(u, &spec, extra);
    dynbuf_free(&target);
    if (rc != 0)
        finish(u, HTTP_END_IO); /* out of memory: counted as an I/O error, rescheduled */
    else if (u->busy)
        user_arm_limits(u);
    u->starting = false;
}

void user_on_timer(struct user *u)
{
    if (u->ops->on_timer) {
        u->ops->on_timer(u);
        return;
    }
    if (u->busy) {
        int64_t now = clock_mono_ns();
        int64_t conn_due = u->hc ? u->hc->connect_due : 0;
        if (u->abort_requested)
            finish(u, HTTP_END_OK);
        else if (u->answer_due && !u->headers_done && now >= u->answer_due)
            finish(u, timeout_end(u)); /* no answer: a timeout, as libcurl's */
        else if ((u->xfer_due && now >= u->xfer_due) || (conn_due && now >= conn_due))
            finish(u, timeout_end(u));
        else
            user_arm_limits(u);
        return;
    }
    if (!u->stopped && !u->shutting_down)
        start(u);
}

void user_on_done(struct user *u, CURLcode result)
{
    finish(u, user_curl_end(u, result));
}

void user_http_end(struct user *u, enum http_end how)
{
    finish(u, how);
}

void user_on_io(struct user *u, uint32_t events)
{
    if (u->ops->on_io)
        u->ops->on_io(u, events);
    else if (u->hc)
        http_conn_io(u->hc, events);
}

void user_note_reset(struct user *u)
{
    counters_add(u->ctr, CTR_RESETS, 1, u->ctr->measuring);
    u->conn_seq_max = 0; /* what follows starts again from the server's oldest */
}

/* ---- outages (user.h) --------------------------------------------------------------- */

void user_note_down(struct user *u, bool answered)
{
    if (!u->been_up || u->down)
        return;
    u->down = true;
    u->down_answered = answered;
    u->down_since = clock_mono_ns();
    u->down_in_window = u->ctr->measuring;
    counters_add(u->ctr, CTR_OUTAGES, 1, u->down_in_window);
}

/* The one place an outage's length is counted. */
static void outage_end(struct user *u, int64_t now)
{
    u->down = false;
    counters_add_outage(u->ctr, now - u->down_since, u->down_in_window);
}

void user_note_up(struct user *u)
{
    u->been_up = true;
    if (u->down)
        outage_end(u, clock_mono_ns());
}

void user_abort_soon(struct user *u)
{
    u->abort_requested = true;
    loop_timer_set(u->env->loop, u->slot, 0); /* due at once: the next loop turn */
}

void user_shutdown(struct user *u)
{
    u->shutting_down = true;
    loop_timer_clear(u->env->loop, u->slot);
    if (u->ops->shutdown)
        u->ops->shutdown(u);
    else
        finish(u, HTTP_END_OK);
    if (u->hc)
        http_conn_stop(u->hc); /* the kept connection too: its kernel account now */
    if (u->down) {
        counters_add(u->ctr, CTR_OUTAGES_OPEN, 1, u->down_in_window);
        outage_end(u, clock_mono_ns());
    }
}

void user_note_read(struct user *u)
{
    u->rx_real_ns = clock_real_ns();
    u->rx_mono_ns = clock_mono_ns();
}

int user_deliver_update(struct user *u, const struct update *up)
{
    uint64_t seq = up->seq;
    int64_t ts_ns = up->ts_ns;
    if (u->rx_real_ns == 0)
        user_note_read(u); /* nothing read yet (cannot happen with a driver): now */
    int64_t now = u->rx_real_ns;
    bool w = u->ctr->measuring;
    if (ts_ns > now && ts_ns - now > u->env->cfg->max_clock_skew_ns) {
        counters_add(u->ctr, CTR_STAMPS_FUTURE, 1, w);
        return 0;
    }
    if (seq < u->conn_seq_max) {
        counters_add(u->ctr, CTR_SEQ_BACKWARDS, 1, w);
        return 0;
    }
    u->conn_seq_max = seq;
    pthread_mutex_t *lock = u->env->fresh_lock;
    if (lock)
        pthread_mutex_lock(lock);
    if (u->sends)
        upstream_recognise(&u->up, up->data_head, u->rx_mono_ns);
    int fresh = 1;
    if (u->observer)
        freshness_published(u->env->fresh, seq, ts_ns);
    else
        fresh = freshness_receive(u->env->fresh, &u->fresh, seq, ts_ns, now);
    if (lock)
        pthread_mutex_unlock(lock);
    if (u->observer)
        return 1;
    counters_add(u->ctr, CTR_DELIVERIES, (uint64_t)fresh, u->ctr->measuring);
    return fresh;
}

/* ---- setup and teardown ------------------------------------------------------------- */

int user_init(struct user *u, uint32_t id, bool observer, const struct user_env *env,
              const struct transport_ops *ops, struct counters *ctr, char *err,
              size_t errlen)
{
    memset(u, 0, sizeof(*u));
    u->id = id;
    u->slot = id; /* run.c renumbers it when the users are spread over loops */
    u->observer = observer;
    u->env = env;
    u->ops = ops;
    u->ctr = ctr;
    dynbuf_init(&u->url, URL_MAX_BYTES);
    freshness_user_init(&u->fresh, !observer && id == 0);
    /* The private host name decides which connection a transfer may use (libcurl keeps
     * one pool per multi handle, keyed by host): one name per user gives each user its
     * own connection, one name per group of --users-per-connection users lets a
     * group share, as a browser's tabs share one origin's connections. A group never
     * spans two shards of the loop (loop.h), whose multi handles pool apart. */
    uint32_t upc = env->cfg->users_per_connection ? env->cfg->users_per_connection : 1;
    u->conn_group = id;
    u->new_fd = -1;
    if (observer)
        snprintf(u->pin_host, sizeof(u->pin_host), "observer.pushpull.invalid");
    else if (upc == 1)
        snprintf(u->pin_host, sizeof(u->pin_host), "u%u.pushpull.invalid", id);
    else {
        u->conn_group = id - id % LOOP_USERS_PER_SHARD % upc;
        snprintf(u->pin_host, sizeof(u->pin_host), "s%ug%u.pushpull.invalid",
                 id / LOOP_USERS_PER_SHARD, id % LOOP_USERS_PER_SHARD / upc);
    }

    if (ops->init(u) != 0) {
        snprintf(err, errlen, "%s transport init: out of memory", ops->name);
        return -1;
    }
    if (ops->on_io)
        return 0; /* its own socket: no libcurl */
    if (cli_http_driver(env->cfg) == HTTP_DRIVER_RAW) {
        u->hc = malloc(sizeof(*u->hc));
        if (!u->hc || http_conn_init(u->hc, u) != 0) {
            snprintf(err, errlen, "%s",
                     u->hc ? "the server's address is not numeric"
                           : "malloc: out of memory");
            return -1;
        }
        return 0;
    }
    return user_curl_init(u, err, errlen);
}

void user_free(struct user *u)
{
    if (u->hc) {
        http_conn_free(u->hc);
        free(u->hc);
        u->hc = NULL;
    }
    if (u->easy)
        curl_easy_cleanup(u->easy);
    u->easy = NULL;
    if (u->tp && u->ops)
        u->ops->cleanup(u);
    curl_slist_free_all(u->resolve);
    curl_slist_free_all(u->req_headers);
    u->resolve = u->req_headers = NULL;
    dynbuf_free(&u->url);
    freshness_user_free(&u->fresh);
}
