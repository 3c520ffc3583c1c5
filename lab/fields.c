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
            char list[512] = "";
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

/* ---- strings ---------------------------------------------------------------------- */

#define SCAN_DEPTH 64 /* containers whose place the string check follows */

/* Where the string check is: one open object or array. */
struct scan_frame {
    bool object;     /* an object (else an array) */
    bool want_key;   /* an object whose next string is a key */
    size_t index;    /* an array's current element */
    const char *key; /* an object's current key, as written (between its quotes) */
    size_t key_len;  /* its length */
};

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4;
    else
        return 0;
    if (b == 0xe0)
        lo = 0xa0;
    else if (b == 0xed)
        hi = 0x9f;
    else if (b == 0xf0)
        lo = 0x90;
    else if (b == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* What is wrong with the string token [s, s + n) (its quotes excluded): NULL, or what
 * it should be. */
static const char *string_problem(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == '\\') {
            if (i + 6 <= n && s[i + 1] == 'u' && strncmp(s + i + 2, "0000", 4) == 0)
                return "without NUL characters";
            i += s[i + 1] == 'u' ? 6 : 2;
            continue;
        }
        size_t k = utf8_length((const unsigned char *)s + i, n - i);
        if (k == 0)
            return "of valid UTF-8";
        i += k;
    }
    return NULL;
}

/* The message for a bad string at the frames' path. */
static int string_fail(struct fields_ctx *c, const struct scan_frame *f, size_t depth,
                       bool is_key, const char *s, size_t n, const char *why)
{
    char path[FIELDS_PATH] = "", expect[96], got[FIELDS_GOT] = "\"";
    for (size_t d = 0; d < depth && d < SCAN_DEPTH; d++) {
        size_t len = strlen(path);
        if (!f[d].object)
            snprintf(path + len, sizeof(path) - len, "[%zu]", f[d].index);
        else if (f[d].key && !(is_key && d + 1 == depth)) {
            char key[72];
            size_t k = f[d].key_len < 64 ? f[d].key_len : 64;
            memcpy(key, f[d].key, k);
            key[k] = '\0';
            fields_append_text(path, sizeof(path), len ? "." : "");
            fields_append_escaped(path, sizeof(path), key, 64);
        }
    }
    /* the string as the file writes it, its escapes kept, other bytes shown as \xNN */
    size_t g = 1;
    for (size_t i = 0; i < n && i < 40 && g + 5 < sizeof(got); i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e)
            g += (size_t)snprintf(got + g, sizeof(got) - g, "\\x%02x", ch);
        else
            got[g++] = (char)ch;
    }
    snprintf(got + g, sizeof(got) - g, "%s\"", n > 40 ? "..." : "");
    snprintf(expect, sizeof(expect), "%s %s", is_key ? "a key" : "a string", why);
    if (!path[0])
        snprintf(path, sizeof(path), "(the top level)");
    return fields_fail_got(c, path, expect, got);
}

int fields_check_strings(struct fields_ctx *c, const char *text, size_t len)
{
    struct scan_frame f[SCAN_DEPTH];
    size_t depth = 0;
    for (size_t i = 0; i < len; i++) {
        struct scan_frame *top = depth && depth <= SCAN_DEPTH ? &f[depth - 1] : NULL;
        switch (text[i]) {
        case '{':
        case '[':
            if (depth < SCAN_DEPTH)
                f[depth] = (struct scan_frame){text[i] == '{', text[i] == '{', 0, NULL, 0};
            depth++;
            break;
        case '}':
        case ']':
            depth -= depth > 0;
            break;
        case ',':
            if (top && top->object)
                top->want_key = true;
            else if (top)
                top->index++;
            break;
        case '"': {
            size_t start = ++i;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            size_t n = (i < len ? i : len) - start;
            bool is_key = top && top->object && top->want_key;
            const char *why = string_problem(text + start, n);
            if (why)
                return string_fail(c, f, depth, is_key, text + start, n, why);
            if (is_key) {
                top->key = text + start;
                top->key_len = n;
                top->want_key = false;
            }
            break;
        }
        default:
            break;
        }
    }
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
