/* redis_stream.c: the feed's stream entries, read out of hiredis replies (see
 * redis_stream.h).
 *
 * The rules checked, in order: an entry is an array of two, a string id and an array of
 * field/value strings (an even number of them); the id is decimal digits without a
 * leading zero, then "-0", and the digits are a seq from 1 to 2^63; "ts" is decimal
 * digits that fit in int64; "data" is UTF-8 without NUL bytes (what POST /publish
 * accepts). Other fields are ignored, so a later version may add some.
 */
#include "redis_stream.h"

#include <stdio.h>
#include <string.h>

#include "jsonw.h"

/* Decimal digits (no sign, no leading zero unless "0") of len bytes, at most max. 0 or
 * -1. */
static int read_decimal(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

uint64_t redis_stream_id_seq(const char *s, size_t len)
{
    uint64_t seq = 0;
    if (len < 3 || s[len - 2] != '-' || s[len - 1] != '0' ||
        read_decimal(s, len - 2, INT64_MAX, &seq) != 0)
        return 0;
    return seq;
}

static bool is_string(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

int redis_stream_entry(const redisReply *r, struct feed_entry *e, char *err, size_t errlen)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        !is_string(r->element[0]) || !r->element[1] ||
        r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements % 2 != 0) {
        snprintf(err, errlen, "expected an entry [id, [field, value, ...]]");
        return -1;
    }
    const redisReply *id = r->element[0], *fields = r->element[1];
    e->seq = redis_stream_id_seq(id->str, id->len);
    if (e->seq == 0) {
        snprintf(err, errlen, "entry %.40s: expected the id <seq>-0", id->str);
        return -1;
    }
    bool has_ts = false, has_data = false;
    for (size_t i = 0; i < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (!is_string(k) || !is_string(v)) {
            snprintf(err, errlen, "entry %.40s: expected string fields", id->str);
            return -1;
        }
        uint64_t ts;
        if (k->len == 2 && memcmp(k->str, "ts", 2) == 0) {
            if (read_decimal(v->str, v->len, INT64_MAX, &ts) != 0) {
                snprintf(err, errlen,
                         "entry %.40s: ts: expected nanoseconds, got \"%.40s\"", id->str,
                         v->str);
                return -1;
            }
            e->ts_ns = (int64_t)ts;
            has_ts = true;
        } else if (k->len == 4 && memcmp(k->str, "data", 4) == 0) {
            if (!jsonw_valid_utf8(v->str, v->len)) {
                snprintf(err, errlen, "entry %.40s: data: expected UTF-8 without NUL",
                         id->str);
                return -1;
            }
            e->data = v->str;
            e->len = v->len;
            has_data = true;
        }
    }
    if (!has_ts || !has_data) {
        snprintf(err, errlen, "entry %.40s: expected the fields ts and data", id->str);
        return -1;
    }
    return 0;
}

int redis_stream_entries(const redisReply *r, bool xread, const redisReply **entries,
                         size_t *n, char *err, size_t errlen)
{
    *entries = NULL;
    *n = 0;
    if (xread) {
        if (r && r->type == REDIS_REPLY_NIL)
            return 0; /* BLOCK ran out with nothing new */
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1 || !r->element[0] ||
            r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2) {
            snprintf(err, errlen, "XREAD: expected nil or [[key, [entries]]]");
            return -1;
        }
        r = r->element[0]->element[1];
    }
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "expected an array of entries");
        return -1;
    }
    *entries = r;
    *n = r->elements;
    return 0;
}
