/* test_redis_feed.c: the feed through Redis (--redis), against the real programs.
 *
 * Each test starts its own redis-server on a free loopback port, with a config written
 * into its own temporary directory (tests/redis_harness.c), and pushpull-server instances
 * (the ASan build) on it; the teardown stops every one of them by pid and removes the
 * directory, also when an assertion failed. Clients are raw sockets: SSE readers that keep
 * every update they receive (tests/feed_reader.c), and plain requests (tests/harness.c).
 * Every wait is bounded; nothing asserts how fast anything is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cut_proxy.h"
#include "feed_reader.h"
#include "harness.h"
#include "redis_harness.h"
#include "servers/redis_publish.h"

/* ---- what a test starts, and the teardown that stops it -------------------- */

#define MAX_INSTANCES 3

static struct redis_proc redis;
static struct instance inst[MAX_INSTANCES];
static struct cut_proxy *proxy;
static struct feed_reader readers[2];

static int setup(void **state)
{
    (void)state;
    memset(&redis, 0, sizeof(redis));
    memset(inst, 0, sizeof(inst));
    memset(readers, 0, sizeof(readers));
    for (int i = 0; i < 2; i++)
        readers[i].fd = -1;
    proxy = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        feed_reader_close(&readers[i]);
    for (int i = 0; i < MAX_INSTANCES; i++)
        instance_stop(&inst[i]);
    cut_proxy_stop(proxy);
    proxy = NULL;
    redis_harness_cleanup(&redis);
    return 0;
}

static void start_redis(bool aof)
{
    assert_int_equal(redis_harness_start(&redis, aof), 0);
}

/* Start instance i on `addr` (Redis, or the proxy) with the extra NULL-terminated args. */
static unsigned start_on(int i, const char *addr, const char *const *extra)
{
    const char *args[32] = {"--redis", addr};
    size_t n = 2;
    for (size_t k = 0; extra && extra[k] && n < 31; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    char name[16];
    snprintf(name, sizeof(name), "instance%d", i);
    assert_int_equal(instance_start(&inst[i], redis.dir, name, args), 0);
    return inst[i].port;
}

static unsigned start_instance(int i, const char *const *extra)
{
    return start_on(i, redis.addr, extra);
}

/* Stop instance i and expect a clean exit (a sanitizer report or a leak would not be). */
static void stop_instance(int i)
{
    assert_int_equal(instance_stop(&inst[i]), 0);
}

/* ---- small helpers -------------------------------------------------------- */

static struct harness_response get(unsigned port, const char *target)
{
    struct harness_response r;
    assert_int_equal(harness_http(port, "GET", target, NULL, NULL, 0, &r), 0);
    return r;
}

/* The string at redis.<field> in /stats, into out ("" when absent). */
static void redis_stat_str(unsigned port, const char *field, char *out, size_t cap)
{
    out[0] = '\0';
    cJSON *st = harness_stats(port);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(st, "redis"), field);
    if (cJSON_IsString(v))
        snprintf(out, cap, "%s", v->valuestring);
    cJSON_Delete(st);
}

static double stat_num(unsigned port, const char *path)
{
    cJSON *st = harness_stats(port);
    double v = st ? harness_stat(st, path) : -1;
    cJSON_Delete(st);
    return v;
}

/* Wait (at most timeout_ms) until /stats says redis.state is `want`. */
static void wait_state(unsigned port, const char *want, int timeout_ms)
{
    char state[16];
    int64_t end = harness_now_ms() + timeout_ms;
    do {
        redis_stat_str(port, "state", state, sizeof(state));
        if (strcmp(state, want) == 0)
            return;
        harness_sleep_ms(20);
    } while (harness_now_ms() < end);
    fail_msg("redis.state is \"%s\" after %d ms, expected \"%s\"", state, timeout_ms, want);
}

/* Wait (at most timeout_ms) until the number at path reaches at least `least`. */
static double wait_stat(unsigned port, const char *path, double least, int timeout_ms)
{
    int64_t end = harness_now_ms() + timeout_ms;
    double v;
    while ((v = stat_num(port, path)) < least && harness_now_ms() < end)
        harness_sleep_ms(20);
    return v;
}

/* The seqs a reader holds run from its first without a gap or a repeat. */
static void assert_contiguous(const struct feed_reader *r)
{
    assert_true(r->n > 0);
    for (size_t i = 1; i < r->n; i++) {
        if (r->seqs[i] != r->seqs[i - 1] + 1)
            fail_msg("update %zu is seq %llu, after %llu", i,
                     (unsigned long long)r->seqs[i], (unsigned long long)r->seqs[i - 1]);
    }
}

/* The stamp in an update's JSON text. */
static long long ts_of(const char *json)
{
    const char *p = strstr(json, "\"ts_ns\":");
    assert_non_null(p);
    return strtoll(p + 8, NULL, 10);
}

/* ---- many instances, one feed --------------------------------------------- */

/* Two instances publish in turn: the seqs come out gapless, in the order of the
 * publishes, each instance answers with its own update already in its ring, and both
 * serve every update as the same bytes, with stamps that never go back. */
static void instances_share_one_feed(void **state)
{
    (void)state;
    start_redis(false);
    const char *args[] = {"--rate", "0", NULL};
    unsigned a = start_instance(0, args), b = start_instance(1, args);
    for (unsigned i = 1; i <= 20; i++) {
        unsigned port = i % 2 ? a : b;
        char text[16], etag[16], got[16];
        snprintf(text, sizeof(text), "u%u", i);
        assert_int_equal(harness_publish(port, text), i);
        /* read your own write: the publishing instance has it already */
        struct harness_response r = get(port, "/poll");
        snprintf(etag, sizeof(etag), "\"%u\"", i);
        assert_int_equal(harness_header(&r, "ETag", got, sizeof(got)), 0);
        assert_string_equal(got, etag);
        harness_response_free(&r);
    }
    assert_true(wait_stat(b, "newest_seq", 20, 5000) == 20);
    assert_true(wait_stat(a, "newest_seq", 20, 5000) == 20);
    struct harness_response ra = get(a, "/poll?since=0"), rb = get(b, "/poll?since=0");
    assert_int_equal(ra.status, 200);
    assert_int_equal(ra.body_len, rb.body_len);
    assert_memory_equal(ra.body, rb.body, ra.body_len);
    assert_non_null(strstr(ra.body, "{\"next\":20,\"events\":[{\"seq\":1,\"ts_ns\":"));
    assert_non_null(strstr(ra.body, ",\"data\":\"u20\"}]}"));
    /* stamps along the seqs never go back */
    long long prev = 0;
    for (const char *p = ra.body; (p = strstr(p, "\"ts_ns\":")) != NULL; p++) {
        long long ts = ts_of(p);
        assert_true(ts >= prev);
        prev = ts;
    }
    harness_response_free(&ra);
    harness_response_free(&rb);
    for (int i = 0; i < 2; i++) {
        unsigned port = i == 0 ? a : b;
        char st[16];
        redis_stat_str(port, "state", st, sizeof(st));
        assert_string_equal(st, "up");
        assert_true(stat_num(port, "updates_published") == 10);
        assert_true(stat_num(port, "redis.updates_followed") == 20);
        assert_true(stat_num(port, "redis.publish_failures") == 0);
        assert_true(stat_num(port, "redis.own_wait_timeouts") == 0);
        assert_int_equal(instance_log_count(&inst[i], "redis 127.0.0.1:"), 1); /* "up" */
    }
    stop_instance(0);
    stop_instance(1);
}

/* A user reads a stream on one instance, is moved to the other and resumes with
 * Last-Event-ID: nothing lost, nothing doubled, no reset; the texts match, and a long
 * poll back on the first instance carries on from the second's cursor. */
static void a_user_moves_to_another_instance(void **state)
{
    (void)state;
    start_redis(false);
    const char *gen[] = {"--rate", "40", NULL}, *quiet[] = {"--rate", "0", NULL};
    unsigned a = start_instance(0, gen), b = start_instance(1, quiet);
    struct feed_reader *ra = &readers[0], *rb = &readers[1];
    assert_int_equal(feed_reader_open(ra, a, "0"), 0);
    assert_int_equal(feed_reader_until(ra, 10, 5000), 1);
    harness_publish(b, "from b"); /* both instances publish */
    uint64_t moved_at = feed_reader_last(ra);
    feed_reader_hangup(ra);
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)moved_at);
    assert_int_equal(feed_reader_open(rb, b, id), 0);
    harness_publish(b, "from b again");
    assert_int_equal(feed_reader_until(rb, moved_at + 30, 10000), 1);
    assert_contiguous(ra);
    assert_contiguous(rb);
    assert_int_equal(ra->seqs[0], 1);
    assert_int_equal(rb->seqs[0], moved_at + 1);
    assert_int_equal(ra->resets + rb->resets, 0);
    /* The same seq is the same text on the other instance. */
    for (size_t i = 0; i < rb->n; i += 7) {
        char target[64];
        snprintf(target, sizeof(target), "/poll?since=%llu&limit=1",
                 (unsigned long long)rb->seqs[i] - 1);
        struct harness_response r = get(a, target);
        char want[512];
        snprintf(want, sizeof(want), "{\"next\":%llu,\"events\":[%s]}",
                 (unsigned long long)rb->seqs[i], rb->json[i]);
        assert_int_equal(r.body_len, strlen(want));
        assert_memory_equal(r.body, want, r.body_len);
        harness_response_free(&r);
    }
    /* and a long poll on the first instance resumes from the second's cursor */
    char target[64];
    snprintf(target, sizeof(target), "/longpoll?since=%llu&timeout=5",
             (unsigned long long)feed_reader_last(rb));
    struct harness_response lp = get(a, target);
    char first[48];
    snprintf(first, sizeof(first), "\"events\":[{\"seq\":%llu,",
             (unsigned long long)feed_reader_last(rb) + 1);
    assert_non_null(strstr(lp.body, first));
    assert_null(strstr(lp.body, "reset"));
    harness_response_free(&lp);
    stop_instance(0);
    stop_instance(1);
}

/* An instance that starts late loads the stream's newest --buffer updates before it
 * answers anything; the stream is trimmed to about --redis-maxlen. */
static void a_new_instance_loads_the_newest_buffer(void **state)
{
    (void)state;
    start_redis(false);
    const char *first[] = {"--rate",         "0",        "--redis-key",
                           "t:feed",         "--buffer", "16",
                           "--redis-maxlen", "100",      NULL};
    unsigned a = start_instance(0, first);
    for (int i = 1; i <= 350; i++) {
        char text[16];
        snprintf(text, sizeof(text), "n%d", i);
        assert_int_equal(harness_publish(a, text), (uint64_t)i);
    }
    long long len = redis_harness_int(&redis, "XLEN t:feed");
    if (len < 100 || len > 250)
        fail_msg("XLEN t:feed is %lld after 350 publishes with MAXLEN ~ 100", len);
    const char *late[] = {"--rate", "0", "--redis-key", "t:feed", "--buffer", "16", NULL};
    unsigned b = start_instance(1, late);
    struct harness_response r = get(b, "/poll?since=0");
    assert_non_null(
        strstr(r.body, "{\"next\":350,\"reset\":true,\"events\":[{\"seq\":335,"));
    harness_response_free(&r);
    assert_true(stat_num(b, "redis.updates_loaded") == 16);
    assert_true(stat_num(b, "newest_seq") == 350);
    assert_int_equal(
        instance_log_count(&inst[1],
                           "following stream t:feed from seq 350 (16 updates loaded)"),
        1);
    stop_instance(0);
    stop_instance(1);
}

/* ---- nothing published twice ---------------------------------------------- */

/* The script itself, on a Redis of the test's own: a publish number seen before gives
 * the seq it gave then and appends nothing; stamps never go back along the seqs; a
 * refused append changes nothing. */
static void the_script_gives_each_publish_one_seq(void **state)
{
    (void)state;
    start_redis(false);
    redisContext *c = redis_harness_connect(&redis);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", redis_publish_script);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    char sha[41];
    snprintf(sha, sizeof(sha), "%s", r->str);
    freeReplyObject(r);
    struct {
        const char *id, *number, *ts, *data;
        long long want; /* the seq, or -1 for an error */
    } steps[] = {
        {"aaaa", "1", "1000", "a", 1},
        {"aaaa", "1", "1000", "a", 1}, /* its reply was lost: sent again */
        {"aaaa", "2", "900", "b", 2},  /* stamped before a's: gets a's stamp */
        {"bbbb", "1", "2000", "c", 3}, /* another instance's number 1 */
        {"bbbb", "1", "2000", "c", 3},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        r = redisCommand(c, "EVALSHA %s 5 k k:seq k:ts k:epoch k:pubs %s %s %s %s 100", sha,
                         steps[i].id, steps[i].number, steps[i].ts, steps[i].data);
        assert_non_null(r);
        if (r->type != REDIS_REPLY_INTEGER)
            fail_msg("step %zu: %s", i,
                     r->type == REDIS_REPLY_ERROR ? r->str : "not a number");
        assert_int_equal(r->integer, steps[i].want);
        freeReplyObject(r);
    }
    assert_int_equal(redis_harness_int(&redis, "XLEN k"), 3);
    r = redisCommand(c, "XRANGE k 2-0 2-0");
    assert_string_equal(r->element[0]->element[1]->element[1]->str, "1000");
    freeReplyObject(r);
    r = redisCommand(c, "GET k:epoch");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    /* someone else appends past the counter: the script's append is refused, and the
     * counter, the stamp and the stream stay as they were */
    freeReplyObject(redisCommand(c, "XADD k 100-0 ts 1 data x"));
    r = redisCommand(c, "EVALSHA %s 5 k k:seq k:ts k:epoch k:pubs aaaa 3 3000 d 100", sha);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = redisCommand(c, "GET k:seq");
    assert_string_equal(r->str, "3");
    freeReplyObject(r);
    assert_int_equal(redis_harness_int(&redis, "XLEN k"), 4);
    redisFree(c);
}

/* The connection dies with the publish sent and its answer lost (a proxy swallows it):
 * the instance sends it again with the same publish number, and the script answers the
 * seq it gave the first time. One entry in the stream, one 201, one retry counted. */
static void a_lost_reply_is_not_published_twice(void **state)
{
    (void)state;
    start_redis(false);
    proxy = cut_proxy_start(redis.port);
    assert_non_null(proxy);
    char via[32];
    snprintf(via, sizeof(via), "127.0.0.1:%u", cut_proxy_port(proxy));
    const char *args[] = {"--rate", "0", NULL};
    unsigned a = start_on(0, via, args);
    cut_proxy_arm(proxy, "EVALSHA");
    assert_int_equal(harness_publish(a, "only once"), 1);
    assert_int_equal(cut_proxy_cuts(proxy), 1);
    assert_int_equal(redis_harness_int(&redis, "XLEN pushpull:feed"), 1);
    assert_true(stat_num(a, "redis.publish_retries") == 1);
    assert_true(stat_num(a, "redis.publish_unknown") == 0);
    assert_true(stat_num(a, "updates_published") == 1);
    assert_int_equal(harness_publish(a, "then the next"), 2);
    assert_int_equal(redis_harness_int(&redis, "XLEN pushpull:feed"), 2);
    struct harness_response r = get(a, "/poll?since=0");
    assert_non_null(strstr(r.body, "\"data\":\"only once\"}"));
    assert_null(strstr(strstr(r.body, "only once") + 1, "only once"));
    harness_response_free(&r);
    stop_instance(0);
}

/* ---- Redis goes away ------------------------------------------------------ */

/* Redis (with AOF) is killed mid-stream and comes back: the instances say so, keep their
 * streams open and their polls answered, refuse publishes with 503, reconnect, and carry
 * on from the last id they held. Every reader gets every update exactly once. */
static void redis_killed_and_restarted_with_aof(void **state)
{
    (void)state;
    start_redis(true);
    const char *gen[] = {"--rate", "20", NULL}, *quiet[] = {"--rate", "0", NULL};
    unsigned a = start_instance(0, gen), b = start_instance(1, quiet);
    struct feed_reader *ra = &readers[0], *rb = &readers[1];
    assert_int_equal(feed_reader_open(ra, a, "0"), 0);
    assert_int_equal(feed_reader_open(rb, b, "0"), 0);
    assert_int_equal(feed_reader_until(ra, 10, 5000), 1);

    redis_harness_kill(&redis);
    wait_state(a, "down", 8000);
    wait_state(b, "down", 8000);
    struct harness_response r;
    assert_int_equal(harness_http(b, "POST", "/publish", NULL, "x", 1, &r), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "{\"error\":\"publish: Redis at 127.0.0.1:"));
    assert_non_null(strstr(r.body, "nothing was published"));
    harness_response_free(&r);
    r = get(b, "/poll?since=0"); /* served from what the ring holds */
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "{\"seq\":1,"));
    harness_response_free(&r);
    assert_int_equal(feed_reader_pump(ra, 400), 0); /* the streams stay open */
    assert_int_equal(feed_reader_pump(rb, 100), 0);
    assert_true(wait_stat(a, "redis.generator_failures", 1, 5000) >= 1);
    uint64_t held = (uint64_t)stat_num(a, "newest_seq");

    assert_int_equal(redis_harness_restart(&redis), 0);
    wait_state(a, "up", 8000);
    wait_state(b, "up", 8000);
    assert_int_equal(feed_reader_until(ra, held + 10, 8000), 1);
    /* stop publishing, then both readers must hold the newest */
    assert_int_equal(harness_http(a, "POST", "/control?rate=0", NULL, NULL, 0, &r), 0);
    harness_response_free(&r);
    harness_sleep_ms(100);
    uint64_t newest = (uint64_t)stat_num(a, "newest_seq");
    assert_int_equal(feed_reader_until(ra, newest, 5000), 1);
    assert_int_equal(feed_reader_until(rb, newest, 5000), 1);
    for (int i = 0; i < 2; i++) {
        struct feed_reader *rd = &readers[i];
        assert_contiguous(rd);
        assert_int_equal(rd->seqs[0], 1);
        assert_int_equal(rd->seqs[rd->n - 1], newest);
        assert_int_equal(rd->resets, 0);
        unsigned port = i == 0 ? a : b;
        assert_true(stat_num(port, "redis.reconnects") == 1);
        assert_true(stat_num(port, "redis.stream_resets") == 0);
        assert_true(stat_num(port, "redis.down_s_total") > 0);
        assert_int_equal(instance_log_count(&inst[i], ": down ("), 1);
        assert_int_equal(instance_log_count(&inst[i], ": up again after "), 1);
        assert_int_equal(instance_log_count(&inst[i], "the same stream"), 1);
    }
    /* nothing was published twice: every payload appears once */
    for (size_t i = 0; i < ra->n; i++) {
        const char *data = strstr(ra->json[i], "\"data\":");
        for (size_t k = i + 1; k < ra->n; k++)
            assert_string_not_equal(data, strstr(ra->json[k], "\"data\":"));
        assert_string_equal(ra->json[i], rb->json[i]);
    }
    stop_instance(0);
    stop_instance(1);
}

/* Redis hangs (SIGSTOP: its sockets accept, nothing is answered) with a publish on its
 * way. The publish gives up within its bounded waits and is answered 503, saying the
 * update may be in the feed once or not at all; the follower takes Redis for gone. Thawed,
 * Redis runs the publish it had queued, and the retry sent under the same publish number
 * appends nothing: the update is in the stream exactly once, and the reader gets every
 * seq once. */
static void a_hung_redis_is_taken_for_gone(void **state)
{
    (void)state;
    start_redis(false);
    const char *args[] = {"--rate", "0", NULL};
    unsigned a = start_instance(0, args);
    struct feed_reader *ra = &readers[0];
    assert_int_equal(feed_reader_open(ra, a, "0"), 0);
    assert_int_equal(harness_publish(a, "before"), 1);
    assert_int_equal(feed_reader_until(ra, 1, 5000), 1);

    redis_harness_freeze(&redis, true);
    struct harness_response r;
    assert_int_equal(harness_http(a, "POST", "/publish", NULL, "during", 6, &r), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "the update is in the feed once or not at all"));
    harness_response_free(&r);
    wait_state(a, "down", 15000);
    assert_true(stat_num(a, "redis.publish_unknown") == 1);
    assert_true(stat_num(a, "redis.publish_retries") == 1);
    r = get(a, "/poll?since=0"); /* still served from the ring */
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"data\":\"before\""));
    harness_response_free(&r);

    redis_harness_freeze(&redis, false);
    wait_state(a, "up", 15000);
    /* the queued publish ran once; the retry under the same number appended nothing */
    assert_int_equal(redis_harness_int(&redis, "XLEN pushpull:feed"), 2);
    assert_int_equal(harness_publish(a, "after"), 3);
    assert_int_equal(feed_reader_until(ra, 3, 5000), 1);
    assert_contiguous(ra);
    assert_int_equal(ra->n, 3);
    assert_int_equal(ra->resets, 0);
    assert_non_null(strstr(ra->json[1], "\"data\":\"during\""));
    assert_int_equal(instance_log_count(&inst[0], ": down ("), 1);
    stop_instance(0);
}

/* Redis without persistence is killed and comes back empty: the stream the instances
 * followed is gone. They say so, empty their rings, and every cursor gets a reset, as
 * after a server restarted with an in-memory feed; the feed starts again at seq 1. */
static void redis_restarted_empty_resets_the_feed(void **state)
{
    (void)state;
    start_redis(false);
    const char *args[] = {"--rate", "0", NULL};
    unsigned a = start_instance(0, args), b = start_instance(1, args);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(harness_publish(a, "before"), (uint64_t)i);
    struct feed_reader *rb = &readers[1];
    assert_int_equal(feed_reader_open(rb, b, "0"), 0);
    assert_int_equal(feed_reader_until(rb, 5, 5000), 1);
    int lp = harness_connect(a); /* a long poll held at 5 */
    assert_true(lp >= 0);
    const char *hold = "GET /longpoll?since=5&timeout=30 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_send(lp, hold, strlen(hold)), 0);

    redis_harness_kill(&redis);
    wait_state(a, "down", 8000);
    assert_int_equal(redis_harness_restart(&redis), 0);
    wait_state(a, "up", 8000);
    wait_state(b, "up", 8000);
    for (int i = 0; i < 2; i++) {
        unsigned port = i == 0 ? a : b;
        assert_true(stat_num(port, "redis.stream_resets") == 1);
        assert_true(stat_num(port, "newest_seq") == 0);
        assert_int_equal(instance_log_count(&inst[i], "the stream pushpull:feed was lost"),
                         1);
    }
    struct harness_response r;
    assert_int_equal(harness_read_response(lp, &r, 5000), 0);
    assert_string_equal(r.body, "{\"next\":0,\"reset\":true,\"events\":[]}");
    harness_response_free(&r);
    close(lp);
    assert_int_equal(harness_publish(b, "after"), 1); /* the feed starts over */
    assert_int_equal(feed_reader_pump(rb, 300), 0);
    assert_int_equal(rb->resets, 1);
    assert_int_equal(rb->n, 6);
    assert_int_equal(rb->seqs[5], 1);
    assert_non_null(strstr(rb->json[5], "\"data\":\"after\""));
    r = get(a, "/poll?since=5");
    assert_non_null(strstr(r.body, "\"reset\":true"));
    harness_response_free(&r);
    stop_instance(0);
    stop_instance(1);
}

/* One instance is cut off from Redis (a partition: the proxy between them closes every
 * connection) while another goes on publishing. Back, it catches up from the last id it
 * held: its reader gets every update once, with no reset. Cut off for longer than the
 * stream keeps (MAXLEN), it comes back to a gap, says so, and its reader gets a reset. */
static void an_instance_cut_off_catches_up(void **state)
{
    (void)state;
    start_redis(false);
    proxy = cut_proxy_start(redis.port);
    assert_non_null(proxy);
    char via[32];
    snprintf(via, sizeof(via), "127.0.0.1:%u", cut_proxy_port(proxy));
    const char *args[] = {"--rate", "0", "--buffer", "64", "--redis-maxlen", "100", NULL};
    unsigned a = start_instance(0, args), b = start_on(1, via, args);
    struct feed_reader *rb = &readers[1];
    assert_int_equal(feed_reader_open(rb, b, "0"), 0);
    for (int i = 1; i <= 10; i++)
        assert_int_equal(harness_publish(a, "on time"), (uint64_t)i);
    assert_int_equal(feed_reader_until(rb, 10, 5000), 1);

    cut_proxy_sever(proxy, 1);
    wait_state(b, "down", 8000);
    for (int i = 11; i <= 30; i++)
        assert_int_equal(harness_publish(a, "meanwhile"), (uint64_t)i);
    assert_int_equal(harness_publish(b, "refused"), 0); /* 503 */
    cut_proxy_sever(proxy, 0);
    wait_state(b, "up", 8000);
    assert_int_equal(feed_reader_until(rb, 30, 5000), 1);
    assert_contiguous(rb);
    assert_int_equal(rb->seqs[0], 1);
    assert_int_equal(rb->resets, 0);
    assert_int_equal(
        instance_log_count(&inst[1], "the same stream: following from seq 10, 20 published "
                                     "meanwhile"),
        1);
    assert_true(stat_num(b, "redis.publish_failures") == 1);

    /* longer than the stream keeps: 300 more, MAXLEN ~ 100 */
    cut_proxy_sever(proxy, 1);
    wait_state(b, "down", 8000);
    for (int i = 31; i <= 330; i++)
        assert_int_equal(harness_publish(a, "too many"), (uint64_t)i);
    cut_proxy_sever(proxy, 0);
    wait_state(b, "up", 8000);
    assert_int_equal(feed_reader_until(rb, 330, 5000), 1);
    assert_int_equal(rb->resets, 1);
    assert_true(stat_num(b, "redis.gaps") == 1);
    assert_true(stat_num(b, "redis.reconnects") == 2);
    assert_int_equal(instance_log_count(&inst[1], "updates 31 to "), 1);
    assert_int_equal(instance_log_count(&inst[1], "left the stream before this instance"),
                     1);
    stop_instance(0);
    stop_instance(1);
}

/* ---- flags ---------------------------------------------------------------- */

static void expect_refusal(const char *const *args, int status, const char *mention)
{
    struct dynbuf err;
    dynbuf_init(&err, 1 << 16);
    assert_int_equal(harness_server_run(args, &err), status);
    if (!err.mem || !strstr(err.mem, mention))
        fail_msg("expected \"%s\" on stderr, got: %s", mention, err.mem ? err.mem : "");
    dynbuf_free(&err);
}

/* A bad --redis flag is one line and status 2; a Redis that does not answer at start is
 * one line naming the address and status 1. */
static void bad_flags_and_an_unreachable_redis(void **state)
{
    (void)state;
    const char *no_port[] = {"--redis", "localhost", NULL};
    expect_refusal(no_port, 2, "--redis: expected HOST:PORT");
    const char *both[] = {"--redis", "127.0.0.1:6379", "--feed-file", "/tmp/x", NULL};
    expect_refusal(both, 2, "--redis and --feed-file: expected one of them");
    const char *key[] = {"--redis-key", "a b", NULL};
    expect_refusal(key, 2, "--redis-key");
    const char *small[] = {"--buffer", "64", "--redis-maxlen", "10", NULL};
    expect_refusal(small, 2, "--redis-maxlen: expected at least --buffer (64), got 10");
    /* a port bound but not listening: connections to it are refused */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    char addr[32], want[160];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
    snprintf(want, sizeof(want), "--redis %s: connecting to %s: Connection refused", addr,
             addr);
    const char *gone[] = {"--port", "0", "--redis", addr, NULL};
    expect_refusal(gone, 1, want);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(instances_share_one_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(a_user_moves_to_another_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_instance_loads_the_newest_buffer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_script_gives_each_publish_one_seq, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_lost_reply_is_not_published_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(redis_killed_and_restarted_with_aof, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_hung_redis_is_taken_for_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(redis_restarted_empty_resets_the_feed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_instance_cut_off_catches_up, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_flags_and_an_unreachable_redis, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("redis_feed", tests, NULL, NULL);
}
