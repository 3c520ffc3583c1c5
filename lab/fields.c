/* fields.c: the scenario loader's reading of one JSON member (see fields.h).
 *
 * In cJSON's parse-validate-extract style: a member is looked up by its exact key,
 * type-checked, then range-checked, and only then copied out. The first problem ends the
 * load with one line; the value quoted in it is escaped (quotes, backslashes and every
 * byte outside printable ASCII), so a file full of control bytes still gives one
 * printable line.
 */
#include "fields.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Append s (at most max source bytes) to dst[cap], escaping quotes, backslashes and every
 * byte outside printable ASCII as \xNN, so the result is one printable line. */
void fields_append_escaped(char *dst, size_t cap, const char *s, size_t max)
{
    size_t len = strlen(dst);
    for (size_t i = 0; s[i] && i < max && len + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            len += (size_t)snprintf(dst + len, cap - len, "\\%c", ch);
        else if (ch < 0x20 || ch > 0x7e)
            len += (size_t)snprintf(dst + len, cap - len, "\\x%02x", ch);
        else
            dst[len++] = (char)ch;
        dst[len] = '\0';
    }
    if (strlen(s) > max && len + 4 < cap)
        snprintf(dst + len, cap - len, "...");
}

/* Append plain text to dst[cap], truncating. */
void fields_append_text(char *dst, size_t cap, const char *s)
{
    size_t len = strlen(dst);
    if (len < cap)
        snprintf(dst + len, cap - len, "%s", s);
}

/* A JSON value as a message quotes it: "text", 42, true, null, a list, an object. */
void fields_describe(const cJSON *item, char *out, size_t cap)
{
    out[0] = '\0';
    if (cJSON_IsString(item)) {
        snprintf(out, cap, "\"");
        fields_append_escaped(out, cap - 1, item->valuestring, 40);
        fields_append_text(out, cap, "\"");
    } else if (cJSON_IsNumber(item)) {
        if (isfinite(item->valuedouble))
            snprintf(out, cap, "%.15g", item->valuedouble);
        else
            snprintf(out, cap, "a number out of range");
    } else if (cJSON_IsTrue(item)) {
        snprintf(out, cap, "true");
    } else if (cJSON_IsFalse(item)) {
        snprintf(out, cap, "false");
    } else if (cJSON_IsNull(item)) {
        snprintf(out, cap, "null");
    } else if (cJSON_IsArray(item)) {
        snprintf(out, cap, "%s", item->child ? "a list" : "an empty list");
    } else if (cJSON_IsObject(item)) {
        snprintf(out, cap, "an object");
    } else {
        snprintf(out, cap, "a value");
    }
}

int fields_fail_got(struct fields_ctx *c, const char *path, const char *expected,
                    const char *got)
{
    snprintf(c->err, c->errlen, "%s: %s: expected %s, got %s", c->file, path, expected,
             got);
    return -1;
}

int fields_fail_expected(struct fields_ctx *c, const char *path, const char *expected,
                         const cJSON *item)
{
    char got[FIELDS_GOT];
    fields_describe(item, got, sizeof(got));
    return fields_fail_got(c, path, expected, got);
}

int fields_fail_missing(struct fields_ctx *c, const char *path, const char *expected)
{
    snprintf(c->err, c->errlen, "%s: %s: missing required field (expected %s)", c->file,
             path, expected);
    return -1;
}

/* "parent.key" or "key", the key escaped (it may come from the file). */
void fields_path_key(char *out, size_t cap, const char *parent, const char *key)
{
    snprintf(out, cap, "%s%s", parent, parent[0] ? "." : "");
    fields_append_escaped(out, cap, key, 64);
}

void fields_path_index(char *out, size_t cap, const char *parent, size_t i)
{
    snprintf(out, cap, "%s[%zu]", parent, i);
}

/* ---- object shape ---------------------------------------------------------------- */

size_t fields_find_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return n;
}

/* Every key of obj must be one of known[], at most once. `what` follows "unknown field"
 * (" for kind \"long\"" or ""). */
int fields_check_keys(struct fields_ctx *c, const cJSON *obj, const char *path,
                      const char *const *known, size_t n_known, const char *what)
{
    unsigned seen[FIELDS_MAX_KEYS] = {0};
    for (const cJSON *it = obj->child; it; it = it->next) {
        char p[FIELDS_PATH];
        fields_path_key(p, sizeof(p), path, it->string ? it->string : "");
        size_t k = fields_find_name(known, n_known, it->string ? it->string : "");
        if (k == n_known) {
            char list[256] = "";
            for (size_t i = 0; i < n_known; i++) {
                size_t len = strlen(list);
                snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", known[i]);
            }
            snprintf(c->err, c->errlen, "%s: %s: unknown field%s (known: %s)", c->file, p,
                     what, list);
            return -1;
        }
        if (seen[k]++) {
            snprintf(c->err, c->errlen,
                     "%s: %s: duplicate field (each field may appear once)", c->file, p);
            return -1;
        }
    }
    return 0;
}

/* An optional object member: the object, or NULL when absent; -1 if not an object. */
int fields_get_object(struct fields_ctx *c, const cJSON *parent, const char *key,
                      const char *expect, const cJSON **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = NULL;
    if (!it)
        return 0;
    if (!cJSON_IsObject(it))
        return fields_fail_expected(c, key, expect, it);
    *out = it;
    return 0;
}

/* A string member: 1 with *out set, 0 when absent (an error if required), -1 on error. */
int fields_get_string(struct fields_ctx *c, const cJSON *obj, const char *parent,
                      const char *key, bool required, const char *expect, const char **out)
{
    char p[FIELDS_PATH];
    fields_path_key(p, sizeof(p), parent, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it)
        return required ? fields_fail_missing(c, p, expect) : 0;
    if (!cJSON_IsString(it))
        return fields_fail_expected(c, p, expect, it);
    *out = it->valuestring;
    return 1;
}

/* One of names[] (written as "a", "b" or "c" in expect): its index, or -1. */
int fields_get_enum(struct fields_ctx *c, const cJSON *obj, const char *parent,
                    const char *key, bool required, const char *const *names, size_t n,
                    const char *expect, int def, int *out)
{
    const char *s;
    int r = fields_get_string(c, obj, parent, key, required, expect, &s);
    if (r < 0)
        return -1;
    if (r == 0) {
        *out = def;
        return 0;
    }
    size_t i = fields_find_name(names, n, s);
    if (i == n) {
        char p[FIELDS_PATH];
        fields_path_key(p, sizeof(p), parent, key);
        return fields_fail_expected(c, p, expect,
                                    cJSON_GetObjectItemCaseSensitive(obj, key));
    }
    *out = (int)i;
    return 0;
}

/* ---- numbers and sweeps ---------------------------------------------------------- */

static bool in_range(const struct field_spec *sp, double v)
{
    if (!isfinite(v))
        return false;
    if (sp->whole && v != floor(v))
        return false;
    if (sp->zero_ok && v == 0)
        return true;
    if (sp->lo_open ? !(v > sp->lo) : !(v >= sp->lo))
        return false;
    return v <= sp->hi;
}

static int parse_number(struct fields_ctx *c, const cJSON *it, const char *path,
                        const struct field_spec *sp, bool element, double *out)
{
    if (!cJSON_IsNumber(it) || !in_range(sp, it->valuedouble)) {
        char expect[160];
        snprintf(expect, sizeof(expect), "%s%s", sp->expect,
                 sp->sweep && !element ? " (or a list of them)" : "");
        return fields_fail_expected(c, path, expect, it);
    }
    *out = it->valuedouble;
    return 0;
}

/* A value or, for a sweepable field, a non-empty list of distinct values. */
int fields_parse_sweep(struct fields_ctx *c, const cJSON *it, const char *path,
                       const struct field_spec *sp, struct sweep *out)
{
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsArray(it) || !sp->sweep) {
        out->n = 1;
        return parse_number(c, it, path, sp, false, &out->v[0]);
    }
    size_t n = 0;
    for (const cJSON *e = it->child; e; e = e->next)
        n++;
    if (n == 0)
        return parse_number(c, it, path, sp, false, &out->v[0]); /* says "an empty list" */
    if (n > FIELDS_MAX_SWEEP) {
        char expect[64], got[64];
        snprintf(expect, sizeof(expect), "a list of at most %d values", FIELDS_MAX_SWEEP);
        snprintf(got, sizeof(got), "a list of %zu", n);
        return fields_fail_got(c, path, expect, got);
    }
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        char p[FIELDS_PATH];
        fields_path_index(p, sizeof(p), path, i);
        if (parse_number(c, e, p, sp, true, &out->v[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (out->v[j] == out->v[i])
                return fields_fail_expected(c, p, "a value not already in the list", e);
    }
    out->n = n;
    out->listed = true;
    return 0;
}

/* A numeric member by its spec: 1 when present, 0 when absent (default filled in; an
 * error if required), -1 on error. */
int fields_get_sweep(struct fields_ctx *c, const cJSON *obj, const char *parent,
                     const struct field_spec *sp, struct sweep *out)
{
    char p[FIELDS_PATH];
    fields_path_key(p, sizeof(p), parent, sp->name);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, sp->name);
    if (!it) {
        memset(out, 0, sizeof(*out));
        if (sp->required) {
            char expect[160];
            snprintf(expect, sizeof(expect), "%s%s", sp->expect,
                     sp->sweep ? ", or a list of them" : "");
            return fields_fail_missing(c, p, expect);
        }
        out->v[0] = sp->def;
        out->n = 1;
        return 0;
    }
    return fields_parse_sweep(c, it, p, sp, out) == 0 ? 1 : -1;
}

/* A scalar numeric member. */
int fields_get_scalar(struct fields_ctx *c, const cJSON *obj, const char *parent,
                      const struct field_spec *sp, double *out)
{
    struct sweep sw;
    int r = fields_get_sweep(c, obj, parent, sp, &sw);
    if (r >= 0)
        *out = sw.v[0];
    return r;
}

int fields_fail_memory(struct fields_ctx *c, const char *what)
{
    snprintf(c->err, c->errlen, "%s: out of memory (%s)", c->file, what);
    return -1;
}

void fields_fmt_num(char *out, size_t cap, double v)
{
    snprintf(out, cap, "%.15g", v);
}
