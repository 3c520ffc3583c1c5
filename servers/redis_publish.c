/* redis_publish.c: one update into the feed's Redis stream, exactly once (see
 * redis_publish.h).
 *
 * The script is loaded (SCRIPT LOAD) on every new connection and run by its SHA1
 * (EVALSHA), so a publish sends the data and a 40-byte name, not the script. A NOSCRIPT
 * answer (the script cache was flushed) means it did not run: it is loaded again and
 * the publish sent again, which is safe.
 *
 * The script reads the counter and appends before it counts, so an XADD that Redis
 * refuses (an id not above the stream's newest: someone else wrote to the stream) leaves
 * nothing changed. Stamps never go back along the seqs: two instances stamp their
 * publishes, then race to Redis, and the later stamp may win the earlier seq; the script
 * then gives the loser the winner's stamp (compared as decimal text: a Lua number, a
 * double, cannot hold nanoseconds since 1970 exactly). Clients rely on this to tell a
 * feed that started over (a later stamp on a lower seq) from one that goes on. MAXLEN ~
 * lets Redis trim in whole nodes of its radix tree, which costs almost nothing; the stream
 * then holds at least maxlen entries and a node's worth more (stream-node-max-entries, 100
 * by default).
 */
#include "redis_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"

const char redis_publish_script[] =
    "local last = redis.call('HGET', KEYS[5], ARGV[1])\n"
    "if last then\n"
    "  local p, seq = string.match(last, '^(%d+):(%d+)$')\n"
    "  if p == ARGV[2] then return tonumber(seq) end\n"
    "end\n"
    "local seq = tonumber(redis.call('GET', KEYS[2]) or '0') + 1\n"
    "local ts = ARGV[3]\n"
    "local prev = redis.call('GET', KEYS[3])\n"
    "if prev and (#prev > #ts or (#prev == #ts and prev > ts)) then ts = prev end\n"
    "redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], string.format('%d-0', seq),\n"
    "           'ts', ts, 'data', ARGV[4])\n"
    "redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[3], ts)\n"
    "if redis.call('EXISTS', KEYS[4]) == 0 then\n"
    "  local t = redis.call('TIME')\n"
    "  redis.call('SET', KEYS[4], t[1] .. '.' .. t[2])\n"
    "end\n"
    "redis.call('HSET', KEYS[5], ARGV[1], ARGV[2] .. ':' .. seq)\n"
    "return seq\n";

/* Connecting, and each reply, may take this long before Redis is taken for gone. */
#define PUBLISH_CONNECT_MS 500
#define PUBLISH_REPLY_MS   2000

/* The script's keys: the stream's name K, and K:seq, K:ts, K:epoch, K:pubs beside it. */
#define NKEYS          5
#define KEY_SUFFIX_MAX 8

struct redis_publisher {
    struct redis_addr addr;
    char *keys[NKEYS]; /* K, K:seq, K:ts, K:epoch, K:pubs (owned) */
    char maxlen[24];   /* the MAXLEN bound, as text */
    char id[17];       /* this instance's id in K:pubs: 16 hex digits */
    char sha[41];      /* the script's SHA1 on the current connection */
    uint64_t number;   /* the last publish number used */
    redisContext *c;   /* the connection, or NULL */
};

struct redis_publisher *redis_publisher_new(const struct redis_addr *a, const char *key,
                                            size_t maxlen)
{
    struct redis_publisher *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->addr = *a;
    static const char *const suffix[NKEYS] = {"", ":seq", ":ts", ":epoch", ":pubs"};
    size_t klen = strlen(key);
    for (int i = 0; i < NKEYS; i++) {
        p->keys[i] = malloc(klen + KEY_SUFFIX_MAX);
        if (!p->keys[i]) {
            redis_publisher_free(p);
            return NULL;
        }
        snprintf(p->keys[i], klen + KEY_SUFFIX_MAX, "%s%s", key, suffix[i]);
    }
    snprintf(p->maxlen, sizeof(p->maxlen), "%zu", maxlen);
    /* An id no other instance has: 64 random bits (a clock-based fallback if the
     * kernel's generator is unavailable, which on Linux it is not). */
    uint64_t r;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint64_t)clock_real_ns() ^ ((uint64_t)clock_mono_ns() << 17);
    snprintf(p->id, sizeof(p->id), "%016llx", (unsigned long long)r);
    return p;
}

void redis_publisher_free(struct redis_publisher *p)
{
    if (!p)
        return;
    redis_publisher_disconnect(p);
    for (int i = 0; i < NKEYS; i++)
        free(p->keys[i]);
    free(p);
}

void redis_publisher_disconnect(struct redis_publisher *p)
{
    if (p->c)
        redisFree(p->c);
    p->c = NULL;
}

const char *redis_publisher_id(const struct redis_publisher *p)
{
    return p->id;
}

/* Load the script on the connection. 0, or -1 with err set (the connection is then
 * closed when it failed). */
static int load_script(struct redis_publisher *p, char *err, size_t errlen)
{
    const char *argv[] = {"SCRIPT", "LOAD", redis_publish_script};
    redisReply *r = redis_conn_command(p->c, 3, argv, NULL, err, errlen);
    int rc = -1;
    if (!r)
        redis_publisher_disconnect(p);
    else if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(p->sha, r->str, 40);
        p->sha[40] = '\0';
        rc = 0;
    } else if (r->type != REDIS_REPLY_ERROR)
        snprintf(err, errlen, "SCRIPT LOAD: expected a SHA1");
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Open the connection if there is none. 0 or -1 with err set. */
static int ensure_connected(struct redis_publisher *p, char *err, size_t errlen)
{
    if (p->c)
        return 0;
    p->c = redis_conn_open(&p->addr, PUBLISH_CONNECT_MS, PUBLISH_REPLY_MS, err, errlen);
    if (!p->c)
        return -1;
    if (load_script(p, err, errlen) != 0) {
        redis_publisher_disconnect(p);
        return -1;
    }
    return 0;
}

/* One EVALSHA of the script. The reply, or NULL when the connection failed (closed). */
static redisReply *run_script(struct redis_publisher *p, const char *number, const char *ts,
                              const char *data, size_t len, char *err, size_t errlen)
{
    const char *argv[] = {"EVALSHA",  p->sha,     "5",        p->keys[0], p->keys[1],
                          p->keys[2], p->keys[3], p->keys[4], p->id,      number,
                          ts,         data,       p->maxlen};
    size_t lens[13];
    for (int i = 0; i < 13; i++)
        lens[i] = i == 11 ? len : strlen(argv[i]);
    redisReply *r = redis_conn_command(p->c, 13, argv, lens, err, errlen);
    if (!r)
        redis_publisher_disconnect(p);
    return r;
}

enum redis_publish_result redis_publish(struct redis_publisher *p, int64_t ts_ns,
                                        const char *data, size_t len, uint64_t *seq,
                                        bool *retried, int64_t *rtt_ns, char *err,
                                        size_t errlen)
{
    char number[24], ts[24];
    snprintf(number, sizeof(number), "%llu", (unsigned long long)++p->number);
    snprintf(ts, sizeof(ts), "%lld", (long long)ts_ns);
    *retried = false;
    bool sent = false; /* a try's command may have reached Redis */
    int reloads = 0;   /* NOSCRIPT answers: the script did not run */
    for (int tries = 0; tries < 2;) {
        if (ensure_connected(p, err, errlen) != 0)
            return sent ? REDIS_PUBLISH_UNKNOWN : REDIS_PUBLISH_NOT_SENT;
        int64_t t0 = clock_mono_ns();
        redisReply *r = run_script(p, number, ts, data, len, err, errlen);
        if (!r) {
            /* the reply is lost: the script ran or it did not; the same number again */
            sent = true;
            *retried = tries == 0;
            tries++;
            continue;
        }
        enum redis_publish_result res = REDIS_PUBLISH_REFUSED;
        if (r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
            *seq = (uint64_t)r->integer;
            *rtt_ns = clock_mono_ns() - t0;
            res = REDIS_PUBLISH_OK;
        } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
                   reloads++ == 0) {
            freeReplyObject(r);
            if (load_script(p, err, errlen) != 0)
                return sent ? REDIS_PUBLISH_UNKNOWN : REDIS_PUBLISH_NOT_SENT;
            continue;
        } else if (r->type != REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "EVALSHA: expected the new seq, got a reply of type %d",
                     r->type);
        }
        freeReplyObject(r);
        return res;
    }
    return REDIS_PUBLISH_UNKNOWN;
}
