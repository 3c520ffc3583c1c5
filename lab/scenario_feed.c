/* scenario_feed.c: the scenario's "feed" section: where the run's feed lives (see
 * scenarios/README.md).
 *
 *     "feed": {"redis": true, "durable": false}
 *
 * Absent, or "redis": false, the feed lives in the server's memory, as it always has.
 * With "redis": true the conductor starts a redis-server of the run's own (lab/broker.c)
 * and the server keeps the feed in a Redis stream (pushpull-server --redis): every
 * update goes to Redis and back before a user gets it, which is what the run measures
 * against the same scenario without it. "durable": true turns Redis's append-only file
 * on (appendonly yes, fsync every second); it needs "redis": true, since the in-process
 * durable feed is the restart experiment's "feed": "file".
 *
 * Neither field sweeps: a run with Redis and one without are two scenarios, so that each
 * run id and each report row stays what it was. A restart with "redis" is allowed (the
 * restarted server reloads the feed from the stream), but not with restart.feed "file":
 * a feed kept in two places at once is refused by the server too.
 */
#include "scenario_impl.h"

#include <stdio.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A boolean member of "feed": 0 with *out set (false when absent), or -1. */
static int get_bool(struct fields_ctx *c, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = false;
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        char path[FIELDS_PATH];
        fields_path_key(path, sizeof(path), "feed", key);
        return fields_fail_expected(c, path, "true or false", v);
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

int scenario_parse_feed(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char *const keys[] = {"redis", "durable"};
    const cJSON *f;
    s->feed = (struct scenario_feed){0};
    if (fields_get_object(c, root, "feed", "an object with redis and durable", &f) != 0)
        return -1;
    if (!f)
        return 0;
    if (fields_check_keys(c, f, "feed", keys, N_OF(keys), "") != 0 ||
        get_bool(c, f, "redis", &s->feed.redis) != 0 ||
        get_bool(c, f, "durable", &s->feed.durable) != 0)
        return -1;
    if (s->feed.durable && !s->feed.redis)
        return fields_fail_got(
            c, "feed.durable",
            "false without \"redis\": true (the server's own durable feed "
            "is restart.feed \"file\")",
            "true");
    if (s->feed.redis && s->restart_on) {
        for (size_t i = 0; i < s->restart[2].n; i++)
            if ((int)s->restart[2].v[i] == FEED_FILE)
                return fields_fail_got(
                    c, "feed.redis",
                    "false with restart.feed \"file\" (the feed lives in "
                    "one place: Redis, or the server's log)",
                    "true");
    }
    return 0;
}
