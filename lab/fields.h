/* fields.h: how the scenario loader reads a JSON member: typed, range-checked, and
 * reported in one line naming the file, the field's path and what was expected.
 *
 * A numeric field is described once, by a struct field_spec (its key, range, whether it
 * must be whole, whether it may be a list, its default and the words of the message), and
 * read by fields_get_sweep, so the scenario's own fields, each approach's settings
 * (lab/approach_*.c) and their quick overrides are all checked by the same code and say
 * the same thing. Every value quoted in a message is escaped, so a message stays one
 * printable line whatever the file holds. Functions that can fail return -1 after writing
 * the message into the context's buffer.
 */
#ifndef PUSHPULL_LAB_FIELDS_H
#define PUSHPULL_LAB_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define FIELDS_MAX_SWEEP 32  /* values in one list */
#define FIELDS_PATH      256 /* a field path such as approaches[3].interval_ms[12] */
#define FIELDS_GOT       96  /* the quoted value in a message */
#define FIELDS_MAX_KEYS  32  /* keys one object may have (fields_check_keys) */

/* One numeric field of the schema. */
struct field_spec {
    const char *name;   /* the JSON key, with its unit ("interval_ms") */
    double lo, hi;      /* the range, both ends included */
    bool lo_open;       /* lo itself excluded (a rate must be > 0) */
    bool zero_ok;       /* 0 allowed although lo > 0 (0 = off) */
    bool whole;         /* whole numbers only */
    bool sweep;         /* may be a list */
    bool required;      /* no default */
    double def;         /* the default when not required */
    const char *expect; /* the message's "expected ..." for one value */
};

/* The values of one field: one, or a list (a sweep). */
struct sweep {
    double v[FIELDS_MAX_SWEEP]; /* the values, in file order */
    size_t n;                   /* how many; 0 = not given (quick overrides only) */
    bool listed;                /* written as a list: run ids name it */
};

/* Where a message goes, and what it starts with. */
struct fields_ctx {
    const char *file;     /* display name, first word of every message */
    const char *base_dir; /* relative paths in the file resolve against this ("" = cwd) */
    unsigned flags;       /* enum scenario_flags */
    char *err;            /* the caller's message buffer */
    size_t errlen;        /* its size */
};

/* ---- messages ---- */

/* Append s (at most max source bytes) to dst[cap], escaping quotes, backslashes and every
 * byte outside printable ASCII as \xNN, so the result is one printable line. */
void fields_append_escaped(char *dst, size_t cap, const char *s, size_t max);
/* Append plain text to dst[cap], truncating. */
void fields_append_text(char *dst, size_t cap, const char *s);
/* A JSON value as a message quotes it: "text", 42, true, null, a list, an object. */
void fields_describe(const cJSON *item, char *out, size_t cap);
/* "FILE: PATH: expected EXPECTED, got GOT". Returns -1. */
int fields_fail_got(struct fields_ctx *c, const char *path, const char *expected,
                    const char *got);
/* The same, GOT describing item. Returns -1. */
int fields_fail_expected(struct fields_ctx *c, const char *path, const char *expected,
                         const cJSON *item);
/* "FILE: PATH: missing required field (expected EXPECTED)". Returns -1. */
int fields_fail_missing(struct fields_ctx *c, const char *path, const char *expected);
/* "FILE: out of memory (WHAT)". Returns -1. */
int fields_fail_memory(struct fields_ctx *c, const char *what);
/* "parent.key" (or "key" at the top), the key escaped: it may come from the file. */
void fields_path_key(char *out, size_t cap, const char *parent, const char *key);
/* "parent[i]". */
void fields_path_index(char *out, size_t cap, const char *parent, size_t i);
/* A number as ids, flags and messages write it: "%.15g" (1000, 0.066667). */
void fields_fmt_num(char *out, size_t cap, double v);

/* ---- object shape ---- */

/* The index of s in names[n], or n. */
size_t fields_find_name(const char *const *names, size_t n, const char *s);
/* Every key of obj must be one of known[n_known] (n_known <= FIELDS_MAX_KEYS), at most
 * once. `what` follows "unknown field" (" for kind \"long\"" or ""). 0 or -1. */
int fields_check_keys(struct fields_ctx *c, const cJSON *obj, const char *path,
                      const char *const *known, size_t n_known, const char *what);
/* An optional object member of the top level: 0 with *out the object or NULL when absent,
 * -1 when it is not an object. */
int fields_get_object(struct fields_ctx *c, const cJSON *parent, const char *key,
                      const char *expect, const cJSON **out);
/* A string member: 1 with *out set (the string lives as long as obj), 0 when absent (an
 * error if required), -1 on error. */
int fields_get_string(struct fields_ctx *c, const cJSON *obj, const char *parent,
                      const char *key, bool required, const char *expect, const char **out);
/* One of names[n] (spelled out in expect): 0 with its index in *out (def when absent and
 * not required), or -1. */
int fields_get_enum(struct fields_ctx *c, const cJSON *obj, const char *parent,
                    const char *key, bool required, const char *const *names, size_t n,
                    const char *expect, int def, int *out);

/* ---- strings ---- */

/* Every string of the JSON text (keys and values, anywhere) must be valid UTF-8 and hold
 * no NUL character (a "\u0000" escape, which cJSON would silently cut the string at).
 * The text must already have parsed. 0; or -1 with the message naming the field's path
 * ("FILE: description: expected a string of valid UTF-8, got \"caf\xe9\""). */
int fields_check_strings(struct fields_ctx *c, const char *text, size_t len);

/* ---- numbers and sweeps ---- */

/* A value or, for a sweepable field, a non-empty list of distinct values, at path. */
int fields_parse_sweep(struct fields_ctx *c, const cJSON *it, const char *path,
                       const struct field_spec *sp, struct sweep *out);
/* The member sp->name of obj: 1 when present, 0 when absent (the default filled in; an
 * error if required), -1 on error. */
int fields_get_sweep(struct fields_ctx *c, const cJSON *obj, const char *parent,
                     const struct field_spec *sp, struct sweep *out);
/* The same for a field that is never a list. */
int fields_get_scalar(struct fields_ctx *c, const cJSON *obj, const char *parent,
                      const struct field_spec *sp, double *out);

#endif
