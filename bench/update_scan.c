/* update_scan.c: one pass over JSON text for the lab's updates (see update_scan.h).
 *
 * What it follows of RFC 8259:
 *  1. Strings start and end at an unescaped '"'; inside them a backslash escapes the next
 *     byte, and nothing else matters, so a "ts_ns" inside a data string (escaped as
 *     \"ts_ns\") is never taken for a member.
 *  2. Objects and arrays nest to at most 16 levels; every '{' and '[' must be closed by
 *     its own kind, and nothing may follow the outermost value but blanks.
 *  3. A member is a string followed by ':' inside an object. The members read are "seq",
 *     "ts_ns", "pub_ns" and, in the outermost object only, "next" and "reset"; their
 *     values are read when they are plain non-negative integers (digits only, at most
 *     19), or the literal true for "reset". A "ts_ns" that is not such an integer is
 *     ignored. A "data" member whose string value starts with "pub_ns=" and digits gives
 *     the publisher's stamp too (the string is still skipped as a string).
 *  4. When an object closes that held a "ts_ns", fn gets its seq, ts_ns and pub_ns.
 * It does not check what a validator would (commas, colons, numbers' grammar, literals
 * other than true, escapes): the bodies come from servers the bench trusts to speak
 * JSON, and the bench's own tests hold them against cJSON elsewhere.
 */
#include "update_scan.h"

#include <string.h>

#define MAX_DEPTH 16

struct level {
    char close;     /* '}' or ']' */
    int has_ts;     /* an object that had "ts_ns" */
    uint64_t seq;   /* its "seq" (0 if none) */
    int64_t ts_ns;  /* its "ts_ns" */
    int64_t pub_ns; /* its publisher's stamp (0 if none) */
};

enum member { M_NONE, M_SEQ, M_TS, M_PUB, M_DATA, M_NEXT, M_RESET };

#define PUB_PREFIX "\"pub_ns="

/* Read a run of digits at s[*i]; 1 with *out set when there were 1 to 19 of them. */
static int read_uint(const char *s, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *i;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 19)
        v = v * 10 + (uint64_t)(s[(*i)++] - '0');
    if (*i == start || (*i < len && s[*i] >= '0' && s[*i] <= '9'))
        return 0;
    *out = v;
    return 1;
}

static enum member member_of(const char *name, size_t n, int depth)
{
    if (n == 3 && memcmp(name, "seq", 3) == 0)
        return M_SEQ;
    if (n == 5 && memcmp(name, "ts_ns", 5) == 0)
        return M_TS;
    if (n == 6 && memcmp(name, "pub_ns", 6) == 0)
        return M_PUB;
    if (n == 4 && memcmp(name, "data", 4) == 0)
        return M_DATA;
    if (depth == 1 && n == 4 && memcmp(name, "next", 4) == 0)
        return M_NEXT;
    if (depth == 1 && n == 5 && memcmp(name, "reset", 5) == 0)
        return M_RESET;
    return M_NONE;
}

/* The value of member m starts at s[*i] (blanks skipped); store it if it is one we read. */
static void read_value(const char *s, size_t len, size_t *i, enum member m,
                       struct level *lv, struct update_scan_result *res)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
        (*i)++;
    uint64_t v;
    if (m == M_DATA) {
        /* peek into the string; the caller's loop then skips it as a string */
        size_t j = *i + strlen(PUB_PREFIX);
        if (len - *i > strlen(PUB_PREFIX) &&
            memcmp(s + *i, PUB_PREFIX, strlen(PUB_PREFIX)) == 0 &&
            read_uint(s, len, &j, &v) && v <= (uint64_t)INT64_MAX)
            lv->pub_ns = (int64_t)v;
        return;
    }
    if (m == M_RESET) {
        if (len - *i >= 4 && memcmp(s + *i, "true", 4) == 0) {
            res->reset = 1;
            *i += 4;
        }
        return;
    }
    if (!read_uint(s, len, i, &v))
        return;
    if (m == M_SEQ)
        lv->seq = v;
    else if (m == M_TS && v <= (uint64_t)INT64_MAX) {
        lv->ts_ns = (int64_t)v;
        lv->has_ts = 1;
    } else if (m == M_PUB && v <= (uint64_t)INT64_MAX) {
        lv->pub_ns = (int64_t)v;
    } else if (m == M_NEXT) {
        res->next = v;
        res->has_next = 1;
    }
}

int update_scan(const char *s, size_t len, update_scan_fn fn, void *ctx,
                struct update_scan_result *res)
{
    struct update_scan_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    struct level stack[MAX_DEPTH];
    int depth = 0, done = 0;
    size_t i = 0;
    while (i < len) {
        char ch = s[i++];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        if (done)
            return -1; /* rule 2: something after the outermost value */
        if (ch == '"') {
            size_t start = i;
            while (i < len && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= len)
                return -1;
            size_t n = i - start;
            i++;
            size_t j = i;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
                j++;
            if (depth > 0 && stack[depth - 1].close == '}' && j < len && s[j] == ':') {
                enum member m = member_of(s + start, n, depth);
                i = j + 1;
                if (m != M_NONE)
                    read_value(s, len, &i, m, &stack[depth - 1], res);
            } else if (depth == 0) {
                done = 1;
            }
        } else if (ch == '{' || ch == '[') {
            if (depth == MAX_DEPTH)
                return -1;
            struct level lv = {.close = ch == '{' ? '}' : ']'};
            stack[depth++] = lv;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0 || stack[depth - 1].close != ch)
                return -1;
            struct level *lv = &stack[--depth];
            if (lv->has_ts) {
                struct update_found u = {lv->seq, lv->ts_ns, lv->pub_ns};
                res->updates++;
                if (fn)
                    fn(ctx, &u);
            }
            done = depth == 0;
        } else if (depth == 0) {
            /* a bare scalar at the top: skip it whole */
            while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                i++;
            done = 1;
        }
    }
    return depth == 0 ? 0 : -1;
}
