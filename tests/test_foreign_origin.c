/* test_foreign_origin.c: the real client against a foreign server this test scripts
 * (tests/fake_origin.h), for what nginx + nchan (test_foreign.c) never sends.
 *
 * Validators (clients/foreign.h): a poll server whose ETag is 100 bytes (a strong ETag of
 * a hash is about that long) gets it back whole as If-None-Match, and its 304s follow;
 * one whose ETag is 300 bytes, past the 255 the client keeps, sees polls without
 * If-None-Match, but with its 100-byte Last-Modified whole as If-Modified-Since, and the
 * client counts every such answer (validators_too_long) and names it once on stderr.
 * The same for SSE ids: a 200-byte one comes back whole as Last-Event-ID, a 300-byte one
 * is counted, and the reconnections go without.
 *
 * Updates without the lab's stamp (clients/by_order.h): the client publishes
 * (--publish-url) to a feed server that wraps each posted body in an envelope of its own
 * (so ts_ns is gone) or rewrites it to plain text. SSE and long-polling users get every
 * update timed by the publisher's send time, matched by order: every delivery is counted
 * in deliveries_by_order, none is missed or unmatched, and the latencies are there and
 * sane (under a second on loopback, a bound no working run comes near). The same server
 * passing the body through is timed by its ts_ns (deliveries_by_order 0). Interval
 * polling cannot match by order: each rewritten answer is counted in updates_unmatched,
 * never delivered. No timing is asserted beyond generous bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_harness.h"
#include "clock.h"
#include "fake_origin.h"

/* What the scripted poll server does and saw (under the origin's mutex). */
struct poll_script {
    size_t etag_len;    /* bytes of the ETag it sends, quotes included */
    size_t lastmod_len; /* bytes of its Last-Modified; 0: none */
    int64_t t0_ns;      /* its start (monotonic): the update changes every 300 ms */
    unsigned polls;     /* requests answered */
    unsigned inm_whole; /* with If-None-Match equal to an ETag it sent */
    unsigned inm_other; /* with another If-None-Match */
    unsigned ims_whole; /* with If-Modified-Since equal to the Last-Modified it sent */
    unsigned ims_other; /* with another If-Modified-Since */
    unsigned answered_304;
};

/* A validator of len bytes for update seq: c repeated around the number. */
static void validator(char *out, size_t len, char c, uint64_t seq, bool quoted)
{
    memset(out, c, len);
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, seq);
    memcpy(out + 1, num, (size_t)n);
    if (quoted) {
        out[0] = '"';
        out[len - 1] = '"';
    }
    out[len] = '\0';
}

static int serve_poll(struct fake_origin *o, int fd, const char *head)
{
    struct poll_script *s = o->ctx;
    char etag[512], lastmod[512], inm[600], ims[600], ans[2048];
    uint64_t seq = 1 + (uint64_t)((clock_mono_ns() - s->t0_ns) / (300 * NS_PER_MS));
    validator(etag, s->etag_len, 'e', seq, true);
    if (s->lastmod_len)
        validator(lastmod, s->lastmod_len, 'm', seq, false);
    long inm_len = fake_origin_header(head, "If-None-Match", inm, sizeof(inm));
    long ims_len = fake_origin_header(head, "If-Modified-Since", ims, sizeof(ims));
    /* an earlier update's validator, sent back whole, is as good as the current one's */
    bool inm_ok = inm_len == (long)s->etag_len && inm[0] == '"' && inm[1] != 'e';
    bool ims_ok = s->lastmod_len && ims_len == (long)s->lastmod_len && ims[1] != 'm';
    bool fresh = (inm_len >= 0 && strcmp(inm, etag) == 0) ||
                 (ims_len >= 0 && s->lastmod_len && strcmp(ims, lastmod) == 0);
    pthread_mutex_lock(&o->mu);
    s->polls++;
    s->inm_whole += inm_len >= 0 && inm_ok;
    s->inm_other += inm_len >= 0 && !inm_ok;
    s->ims_whole += ims_len >= 0 && ims_ok;
    s->ims_other += ims_len >= 0 && !ims_ok;
    s->answered_304 += fresh;
    pthread_mutex_unlock(&o->mu);
    char body[128];
    snprintf(body, sizeof(body), "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRId64 "}", seq,
             clock_real_ns());
    char lm_line[560] = "";
    if (s->lastmod_len)
        snprintf(lm_line, sizeof(lm_line), "Last-Modified: %s\r\n", lastmod);
    if (fresh)
        snprintf(ans, sizeof(ans), "HTTP/1.1 304 Not Modified\r\nETag: %s\r\n%s\r\n", etag,
                 lm_line);
    else
        snprintf(ans, sizeof(ans),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: %s\r\n%s"
                 "Content-Length: %zu\r\n\r\n%s",
                 etag, lm_line, strlen(body), body);
    return fake_origin_send(o, fd, ans, strlen(ans)) != 0;
}

struct outcome {
    int rc;        /* exit status */
    char *stderr_; /* its stderr (owned) */
    cJSON *root;   /* summary.json (owned) */
    char dir[64];
};

/* One interval-polling user on o's /poll for 1.5 s. */
static void run_poller(const struct fake_origin *o, struct outcome *out)
{
    char server[64];
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", o->port);
    assert_int_equal(client_harness_tempdir(out->dir, sizeof(out->dir)), 0);
    const char *args[] = {"--server", server,      "--url",      "/poll",      "--approach",
                          "short",    "--clients", "1",          "--interval", "100ms",
                          "--warmup", "0",         "--duration", "1500ms",     "--drain",
                          "300ms",    "--out",     out->dir,     NULL};
    out->rc = client_harness_run(out->dir, args, 60);
    out->stderr_ = client_harness_slurp(out->dir, "stderr.txt");
    out->root = client_harness_summary(out->dir);
    if (!out->root)
        fail_msg("no summary.json (exit %d): %s", out->rc,
                 out->stderr_ ? out->stderr_ : "");
}

static void outcome_free(struct outcome *o)
{
    cJSON_Delete(o->root);
    free(o->stderr_);
    client_harness_rmdir(o->dir);
}

static double res(const struct outcome *o, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "results.%s", field);
    double v = client_harness_num(o->root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

/* How many times needle occurs in hay. */
static unsigned occurrences(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_long_etag_comes_back_whole(void **state)
{
    (void)state;
    struct poll_script s = {.etag_len = 100, .t0_ns = clock_mono_ns()};
    struct fake_origin o;
    struct outcome out;
    assert_int_equal(fake_origin_start(&o, serve_poll, &s), 0);
    run_poller(&o, &out);
    fake_origin_stop(&o);
    if (out.rc != 0)
        fail_msg("exit %d: %s", out.rc, out.stderr_ ? out.stderr_ : "");
    /* every poll after the first sends the 100-byte ETag back, whole */
    if (s.inm_other != 0 || s.inm_whole + 1 < s.polls || s.polls < 5)
        fail_msg("%u polls: %u with the ETag whole, %u with another If-None-Match", s.polls,
                 s.inm_whole, s.inm_other);
    if (s.answered_304 == 0 || res(&out, "responses_304") == 0)
        fail_msg("no 304 (%u answered): the validator did not work", s.answered_304);
    assert_true(res(&out, "validators_too_long") == 0);
    assert_true(res(&out, "errors_parse") == 0);
    outcome_free(&out);
}

static void test_etag_past_the_limit_is_counted(void **state)
{
    (void)state;
    struct poll_script s = {.etag_len = 300, .lastmod_len = 100, .t0_ns = clock_mono_ns()};
    struct fake_origin o;
    struct outcome out;
    assert_int_equal(fake_origin_start(&o, serve_poll, &s), 0);
    run_poller(&o, &out);
    fake_origin_stop(&o);
    if (out.rc != 0)
        fail_msg("exit %d: %s", out.rc, out.stderr_ ? out.stderr_ : "");
    /* no ETag goes back (none cut short), the Last-Modified does, whole */
    if (s.inm_whole + s.inm_other != 0 || s.ims_other != 0 || s.ims_whole + 1 < s.polls ||
        s.polls < 5)
        fail_msg("%u polls: If-None-Match %u whole %u other; If-Modified-Since %u whole "
                 "%u other",
                 s.polls, s.inm_whole, s.inm_other, s.ims_whole, s.ims_other);
    /* every answer in the window (200 and 304 both carry the ETag) is counted; a poll
     * answered across the window's edge may fall on either side of it */
    double answers = res(&out, "responses_news") + res(&out, "responses_empty") +
                     res(&out, "responses_304");
    double counted = res(&out, "validators_too_long");
    if (!(counted >= 1 && fabs(counted - answers) <= 1))
        fail_msg("validators_too_long %.0f for %.0f answers", counted, answers);
    /* named once, with the header, its length and the limit */
    if (occurrences(out.stderr_, "validators_too_long") != 1 ||
        !strstr(out.stderr_, "ETag of 300 bytes, past the 255"))
        fail_msg("stderr should name the ETag once: %s", out.stderr_ ? out.stderr_ : "");
    outcome_free(&out);
}

/* ---- SSE ids ------------------------------------------------------------------------ */

/* An SSE server whose every stream brings one event with an id of id_len bytes and ends
 * (retry 50 ms), so the client comes back with Last-Event-ID. */
struct id_script {
    size_t id_len;      /* bytes of each id */
    unsigned requests;  /* streams asked for (the observer's too) */
    unsigned lei_whole; /* with Last-Event-ID as long as an id it sent */
    unsigned lei_other; /* with another Last-Event-ID */
};

static int serve_ids(struct fake_origin *o, int fd, const char *req)
{
    struct id_script *s = o->ctx;
    char lei[600], id[512], ans[1024];
    long len = fake_origin_header(req, "Last-Event-ID", lei, sizeof(lei));
    pthread_mutex_lock(&o->mu);
    unsigned n = ++s->requests;
    s->lei_whole += len == (long)s->id_len && lei[0] == 'i' && lei[1] != 'i';
    s->lei_other += len >= 0 && !(len == (long)s->id_len && lei[0] == 'i' && lei[1] != 'i');
    pthread_mutex_unlock(&o->mu);
    validator(id, s->id_len, 'i', n, false);
    snprintf(ans, sizeof(ans),
             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
             "\r\nretry: 50\nid: %s\ndata: {\"seq\":%u,\"ts_ns\":%" PRId64 "}\n\n",
             id, n, clock_real_ns());
    fake_origin_send(o, fd, ans, strlen(ans));
    return 1;
}

/* One SSE user (and the observer) on the id server for 1.5 s. */
static void run_ids(struct id_script *s, struct outcome *out)
{
    struct fake_origin o;
    char server[64];
    assert_int_equal(fake_origin_start(&o, serve_ids, s), 0);
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", o.port);
    assert_int_equal(client_harness_tempdir(out->dir, sizeof(out->dir)), 0);
    const char *args[] = {"--server",   server,      "--url",   "/ids",     "--approach",
                          "sse",        "--clients", "1",       "--warmup", "0",
                          "--duration", "1500ms",    "--drain", "300ms",    "--out",
                          out->dir,     NULL};
    out->rc = client_harness_run(out->dir, args, 60);
    fake_origin_stop(&o);
    out->stderr_ = client_harness_slurp(out->dir, "stderr.txt");
    out->root = client_harness_summary(out->dir);
    if (!out->root)
        fail_msg("no summary.json (exit %d): %s", out->rc,
                 out->stderr_ ? out->stderr_ : "");
}

static void test_long_sse_id_comes_back_whole(void **state)
{
    (void)state;
    struct id_script s = {.id_len = 200};
    struct outcome out;
    run_ids(&s, &out);
    /* every reconnection (all but each stream's first request) sends the id whole */
    if (s.lei_other != 0 || s.lei_whole + 2 < s.requests || s.requests < 6)
        fail_msg("%u streams: %u with the id whole, %u with another", s.requests,
                 s.lei_whole, s.lei_other);
    assert_true(res(&out, "validators_too_long") == 0);
    outcome_free(&out);
}

static void test_sse_id_past_the_limit_is_counted(void **state)
{
    (void)state;
    struct id_script s = {.id_len = 300};
    struct outcome out;
    run_ids(&s, &out);
    if (s.lei_whole + s.lei_other != 0 || s.requests < 6)
        fail_msg("%u streams: %u with the id whole, %u with another (want none)",
                 s.requests, s.lei_whole, s.lei_other);
    if (res(&out, "validators_too_long") < 1 ||
        occurrences(out.stderr_, "validators_too_long") != 1 ||
        !strstr(out.stderr_, "SSE id of 300 bytes, past the 255"))
        fail_msg("validators_too_long %.0f; stderr: %s", res(&out, "validators_too_long"),
                 out.stderr_ ? out.stderr_ : "");
    outcome_free(&out);
}

/* ---- updates without the lab's stamp ------------------------------------------------ */

#define MAX_PUBLISHES 400

enum feed_mode {
    FEED_PASS,   /* the posted body as it came */
    FEED_WRAP,   /* {"wrapped":"<the body, its quotes made '>"}: valid JSON, no stamp */
    FEED_REWRITE /* "update N": not JSON at all */
};

/* The feed server: POST /pub takes a publish; GET /sub is an SSE stream of the publishes
 * after it opened; GET /lp a long poll (ETag "pN": the next publish after N, held until
 * there is one; without If-None-Match, the next one from now); GET /poll the latest. */
struct feed_script {
    enum feed_mode mode;
    unsigned published;              /* publishes taken (under the origin's mutex) */
    char bodies[MAX_PUBLISHES][160]; /* each as posted */
};

/* Publish i (0-based) as the server delivers it, into out. */
static void render(const struct feed_script *s, unsigned i, char *out, size_t len)
{
    if (s->mode == FEED_PASS) {
        snprintf(out, len, "%s", s->bodies[i]);
    } else if (s->mode == FEED_WRAP) {
        char inner[160];
        snprintf(inner, sizeof(inner), "%s", s->bodies[i]);
        for (char *c = inner; *c; c++)
            *c = *c == '"' ? '\'' : *c;
        snprintf(out, len, "{\"wrapped\":\"%s\",\"channel\":\"c\"}", inner);
    } else {
        snprintf(out, len, "update %u", i + 1);
    }
}

static unsigned published(struct fake_origin *o)
{
    struct feed_script *s = o->ctx;
    pthread_mutex_lock(&o->mu);
    unsigned n = s->published;
    pthread_mutex_unlock(&o->mu);
    return n;
}

/* Wait until more than n are published: 0, or -1 when the test ends or the peer left. */
static int wait_past(struct fake_origin *o, int fd, unsigned n)
{
    while (published(o) <= n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char tmp[256];
        if (fake_origin_stopping(o) ||
            (poll(&p, 1, 5) > 0 && read(fd, tmp, sizeof(tmp)) <= 0))
            return -1;
    }
    return 0;
}

static int send_answer(struct fake_origin *o, int fd, const char *status, const char *etag,
                       const char *body)
{
    char ans[600];
    snprintf(ans, sizeof(ans),
             "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nETag: %s\r\nContent-Length: "
             "%zu\r\n\r\n%s",
             status, etag, strlen(body), body);
    return fake_origin_send(o, fd, ans, strlen(ans)) != 0;
}

static int serve_feed(struct fake_origin *o, int fd, const char *req)
{
    struct feed_script *s = o->ctx;
    char one[400], etag[32], inm[64];
    if (strncmp(req, "POST /pub ", 10) == 0) {
        const char *body = strstr(req, "\r\n\r\n") + 4;
        pthread_mutex_lock(&o->mu);
        if (s->published < MAX_PUBLISHES)
            snprintf(s->bodies[s->published++], sizeof(s->bodies[0]), "%s", body);
        pthread_mutex_unlock(&o->mu);
        static const char created[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        return fake_origin_send(o, fd, created, strlen(created)) != 0;
    }
    if (strncmp(req, "GET /sub ", 9) == 0) {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                   "Connection: close\r\n\r\n";
        unsigned sent = published(o);
        if (fake_origin_send(o, fd, head, strlen(head)) != 0)
            return 1;
        while (wait_past(o, fd, sent) == 0) {
            pthread_mutex_lock(&o->mu);
            render(s, sent++, one, sizeof(one));
            pthread_mutex_unlock(&o->mu);
            char ev[440];
            snprintf(ev, sizeof(ev), "data: %s\n\n", one);
            if (fake_origin_send(o, fd, ev, strlen(ev)) != 0)
                return 1;
        }
        return 1;
    }
    unsigned n = published(o);
    if (strncmp(req, "GET /lp ", 8) == 0) {
        if (fake_origin_header(req, "If-None-Match", inm, sizeof(inm)) > 0)
            n = (unsigned)strtoul(inm + 2, NULL, 10); /* "pN" */
        if (wait_past(o, fd, n) != 0)
            return 1;
    } else if (n == 0) {
        return send_answer(o, fd, "304 Not Modified", "\"p0\"", ""); /* nothing yet */
    } else {
        n--; /* GET /poll: the latest */
        snprintf(etag, sizeof(etag), "\"p%u\"", n + 1);
        if (fake_origin_header(req, "If-None-Match", inm, sizeof(inm)) > 0 &&
            strcmp(inm, etag) == 0)
            return send_answer(o, fd, "304 Not Modified", etag, "");
    }
    pthread_mutex_lock(&o->mu);
    render(s, n, one, sizeof(one));
    pthread_mutex_unlock(&o->mu);
    snprintf(etag, sizeof(etag), "\"p%u\"", n + 1);
    return send_answer(o, fd, "200 OK", etag, one);
}

/* Three users of approach on the feed's url while the client publishes 20 a second. */
static void run_feed(struct feed_script *s, const char *approach, const char *url,
                     struct outcome *out)
{
    struct fake_origin o;
    char server[64];
    assert_int_equal(fake_origin_start(&o, serve_feed, s), 0);
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", o.port);
    assert_int_equal(client_harness_tempdir(out->dir, sizeof(out->dir)), 0);
    const char *args[] = {
        "--server",      server,  "--url",          url,      "--approach", approach,
        "--publish-url", "/pub",  "--publish-rate", "20",     "--clients",  "3",
        "--interval",    "100ms", "--warmup",       "1s",     "--duration", "2s",
        "--drain",       "500ms", "--out",          out->dir, NULL};
    out->rc = client_harness_run(out->dir, args, 60);
    fake_origin_stop(&o);
    out->stderr_ = client_harness_slurp(out->dir, "stderr.txt");
    out->root = client_harness_summary(out->dir);
    if (!out->root || out->rc != 0)
        fail_msg("exit %d: %s", out->rc, out->stderr_ ? out->stderr_ : "");
}

/* The whole run's count of a counter (summary.json's run_totals). */
static double total(const struct outcome *o, const char *counter)
{
    char path[128];
    snprintf(path, sizeof(path), "run_totals.%s", counter);
    double v = client_harness_num(o->root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

/* Every update reached every user, each timed by order (by_order) or by its stamp. */
static void expect_all_timed(const struct outcome *out, bool by_order)
{
    double published = res(out, "updates_published");
    if (published < 10 || res(out, "up_requests") < 10 || res(out, "up_errors") != 0)
        fail_msg("publishes: %.0f published, %.0f requests, %.0f errors", published,
                 res(out, "up_requests"), res(out, "up_errors"));
    if (res(out, "missed") != 0 || res(out, "updates_received") != 3 * published ||
        res(out, "duplicates") != 0)
        fail_msg("%.0f published, %.0f received, %.0f missed, %.0f duplicates", published,
                 res(out, "updates_received"), res(out, "missed"), res(out, "duplicates"));
    /* every delivery of the run (none before the window: publishing starts there) */
    double deliveries = total(out, "deliveries");
    double expect_by_order = by_order ? deliveries : 0;
    if (deliveries < 3 * published ||
        total(out, "deliveries_by_order") != expect_by_order ||
        total(out, "updates_unmatched") != 0 ||
        (by_order && res(out, "deliveries_by_order") < 3))
        fail_msg("deliveries %.0f, by order %.0f (want %.0f; %.0f in the window), "
                 "unmatched %.0f",
                 deliveries, total(out, "deliveries_by_order"), expect_by_order,
                 res(out, "deliveries_by_order"), total(out, "updates_unmatched"));
    double count = res(out, "latency_count"), max = res(out, "latency_max_ms");
    if (count != res(out, "updates_received") || !(res(out, "latency_p50_ms") >= 0) ||
        !(max < 1000))
        fail_msg("latency: %.0f samples, p50 %.3f ms, max %.3f ms", count,
                 res(out, "latency_p50_ms"), max);
    if (res(out, "errors_parse") + res(out, "sse_events_invalid") != 0)
        fail_msg("parse errors %.0f, invalid events %.0f", res(out, "errors_parse"),
                 res(out, "sse_events_invalid"));
}

static void test_sse_wrapped_bodies_are_timed_by_order(void **state)
{
    (void)state;
    static struct feed_script s = {.mode = FEED_WRAP};
    struct outcome out;
    run_feed(&s, "sse", "/sub", &out);
    expect_all_timed(&out, true);
    outcome_free(&out);
}

static void test_sse_stamped_bodies_use_their_stamp(void **state)
{
    (void)state;
    static struct feed_script s = {.mode = FEED_PASS};
    struct outcome out;
    run_feed(&s, "sse", "/sub", &out);
    expect_all_timed(&out, false);
    outcome_free(&out);
}

static void test_long_poll_rewritten_bodies_are_timed_by_order(void **state)
{
    (void)state;
    static struct feed_script s = {.mode = FEED_REWRITE};
    struct outcome out;
    run_feed(&s, "long", "/lp", &out);
    expect_all_timed(&out, true);
    outcome_free(&out);
}

static void test_interval_poll_cannot_match_by_order(void **state)
{
    (void)state;
    static struct feed_script s = {.mode = FEED_REWRITE};
    struct outcome out;
    run_feed(&s, "short", "/poll", &out);
    /* every 200 brought an unstamped update that polling cannot place: counted, not
     * delivered, not a parse error */
    double unmatched = res(&out, "updates_unmatched");
    if (unmatched < 1 || unmatched != res(&out, "responses_empty") ||
        total(&out, "deliveries") != 0 || total(&out, "deliveries_by_order") != 0 ||
        res(&out, "errors_parse") != 0 || res(&out, "latency_count") != 0)
        fail_msg("unmatched %.0f, empty answers %.0f, deliveries %.0f, by order %.0f, "
                 "parse errors %.0f",
                 unmatched, res(&out, "responses_empty"), total(&out, "deliveries"),
                 total(&out, "deliveries_by_order"), res(&out, "errors_parse"));
    if (res(&out, "updates_published") < 10)
        fail_msg("published %.0f", res(&out, "updates_published"));
    outcome_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_etag_comes_back_whole),
        cmocka_unit_test(test_etag_past_the_limit_is_counted),
        cmocka_unit_test(test_long_sse_id_comes_back_whole),
        cmocka_unit_test(test_sse_id_past_the_limit_is_counted),
        cmocka_unit_test(test_sse_wrapped_bodies_are_timed_by_order),
        cmocka_unit_test(test_sse_stamped_bodies_use_their_stamp),
        cmocka_unit_test(test_long_poll_rewritten_bodies_are_timed_by_order),
        cmocka_unit_test(test_interval_poll_cannot_match_by_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
