/* update_json.c: cJSON parse-validate-extract for the server's two reply shapes. */
#include "update_json.h"

#include <math.h>

#include <cjson/cJSON.h>

/* A whole, non-negative JSON number that fits a uint64 exactly enough. */
static int get_u64(const cJSON *obj, const char *name, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1.8e19 ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int extract_update(const cJSON *obj, struct update *out)
{
    uint64_t seq = 0, ts = 0;
    if (!cJSON_IsObject(obj) || get_u64(obj, "seq", &seq) != 0)
        return -1;
    if (seq == 0) { /* before the first update: {"seq":0} */
        out->seq = 0;
        out->ts_ns = 0;
        return 0;
    }
    if (get_u64(obj, "ts_ns", &ts) != 0 || ts == 0 || ts > (uint64_t)INT64_MAX)
        return -1;
    out->seq = seq;
    out->ts_ns = (int64_t)ts;
    return 0;
}

int update_json_parse_one(const char *text, size_t len, struct update *out)
{
    int rc = -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root)
        goto end;
    rc = extract_update(root, out);
end:
    cJSON_Delete(root);
    return rc;
}

int update_json_parse_events(const char *text, size_t len, uint64_t *next, bool *reset,
                             update_fn fn, void *ctx)
{
    int rc = -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root))
        goto end;
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "reset");
    uint64_t n = 0;
    if (!cJSON_IsArray(events) || get_u64(root, "next", &n) != 0)
        goto end;
    if (r && !cJSON_IsBool(r))
        goto end;
    const cJSON *item;
    cJSON_ArrayForEach(item, events)
    {
        struct update u;
        if (extract_update(item, &u) != 0 || u.seq == 0)
            goto end;
        if (fn)
            fn(ctx, &u);
    }
    *next = n;
    *reset = cJSON_IsTrue(r);
    rc = 0;
end:
    cJSON_Delete(root);
    return rc;
}
