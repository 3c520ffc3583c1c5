/* scenario.c: read, validate and expand a scenario file (see scenario.h,
 * scenarios/README.md).
 *
 * In cJSON's parse-validate-extract style: the text is parsed whole, then every object is
 * walked in schema order. Each object's keys are first checked against the fields it may
 * have (an unknown or repeated key is an error, never ignored), then each field is
 * type-checked and range-checked before its value is copied out. Numeric fields are
 * described once, in the `specs` table (name, range, whole or not, sweepable, default,
 * and the words of the message), and read by one function, so a field, its quick
 * override and the README say the same thing. The first problem found ends the load with
 * one line naming the file, the field path and what was expected; every value quoted in
 * a message is escaped, so a message stays one printable line whatever the file holds.
 *
 * Expansion: for each entry of "approaches" in file order, the cartesian product of its
 * own settings (schema order), then the network's (schema order), then the restart's
 * (at_s, down_s, feed), then updates.rate_hz, then clients; the last varies fastest. A run
 * id is the kind, the poll mode for short polling, and name=value for every setting written
 * as a list (a one-value list names a setting without sweeping it). Ids must come out
 * unique; that is checked, not assumed.
 *
 * Simplification: the "quick" overrides are flat keys (each field name is unique across
 * the schema), applied after validation by replacing the field wholesale.
 *
 * The network: when any of its values is set (after the quick overrides), every run of the
 * scenario goes through bin/pushpull-link, a zero-delay run included, so the runs of one
 * scenario are measured through the same path and a sweep's 0 is a fair baseline.
 *
 * The restart: the runner does the crashing; this file only checks the times and says
 * when, for how long and with which feed (scenario_restart_args). restart.at_s must fall
 * inside the window of the runs actually planned, so it is checked after the quick
 * overrides, against the duration they may have shortened.
 */
#include "scenario.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "units.h"

#define MAX_APPROACHES         16
#define MAX_KIND_SETTINGS      2
#define MAX_SCENARIO_BYTES     ((size_t)1 << 20)
#define MAX_TRACE_BYTES        ((size_t)16 << 20)
#define MAX_PROFILE_BYTES      ((size_t)64 << 10) /* the client's own limit */
#define MAX_NAME_CHARS         64
#define MAX_DESCRIPTION        16384
#define PATH_TEXT              256 /* a field path such as approaches[3].interval_ms[12] */
#define GOT_TEXT               96  /* the quoted value in a message */
#define SERVER_DEFAULT_MAXCONN 20000

/* ---- numeric fields -------------------------------------------------------------- */

enum field {
    F_DURATION,
    F_WARMUP,
    F_SEED,
    F_CLIENTS,
    F_RATE,
    F_BURST,
    F_PAYLOAD,
    F_COOKIE,
    F_INTERVAL,
    F_TIMEOUT,
    F_HEARTBEAT,
    F_RETRY,
    F_DELAY,
    F_JITTER,
    F_RATE_KBIT,
    F_DROP,
    F_IDLE,
    F_BUFFER,
    F_AT,
    F_DOWN,
    F_FEED,
    F_COUNT
};

struct num_spec {
    const char *name;   /* the JSON key */
    double lo, hi;      /* the range, both ends included */
    bool lo_open;       /* lo itself excluded (a rate must be > 0) */
    bool zero_ok;       /* 0 allowed although lo > 0 (0 = off) */
    bool whole;         /* whole numbers only */
    bool sweep;         /* may be a list */
    bool required;      /* no default */
    double def;         /* the default when not required */
    const char *expect; /* the message's "expected ..." for one value */
};

static const struct num_spec specs[F_COUNT] = {
    [F_DURATION] = {"duration_s", 1, 86400, false, false, false, false, true, 0,
                    "a number of seconds from 1 to 86400"},
    [F_WARMUP] = {"warmup_s", 0, 3600, false, false, false, false, false, 2,
                  "a number of seconds from 0 to 3600"},
    [F_SEED] = {"seed", 0, 9007199254740991.0, false, false, true, false, false, 1,
                "a whole number from 0 to 9007199254740991"},
    [F_CLIENTS] = {"clients", 1, 200000, false, false, true, true, true, 0,
                   "a whole number from 1 to 200000"},
    [F_RATE] = {"rate_hz", 0.001, 100000, false, false, false, true, true, 0,
                "a number from 0.001 to 100000"},
    [F_BURST] = {"burst_size", 1, 100000, false, false, true, false, false, 10,
                 "a whole number from 1 to 100000"},
    [F_PAYLOAD] = {"payload_bytes", 0, 1048576, false, false, true, false, false, 64,
                   "a whole number from 0 to 1048576"},
    [F_COOKIE] = {"cookie_bytes", 5, 4096, false, true, true, false, false, 0,
                  "0 or a whole number from 5 to 4096"},
    [F_INTERVAL] = {"interval_ms", 1, 3600000, false, false, true, true, false, 1000,
                    "a whole number of milliseconds from 1 to 3600000"},
    [F_TIMEOUT] = {"timeout_s", 1, 120, false, false, true, true, false, 30,
                   "a whole number of seconds from 1 to 120"},
    [F_HEARTBEAT] = {"heartbeat_s", 0.01, 3600, false, true, false, true, false, 15,
                     "0 (off) or a number of seconds from 0.01 to 3600"},
    [F_RETRY] = {"retry_ms", 0, 3600000, false, false, true, true, false, 3000,
                 "a whole number of milliseconds from 0 to 3600000"},
    /* the link's own limits: delays up to 60 s, timers of at least 1 ms */
    [F_DELAY] = {"delay_ms", 0, 60000, false, false, false, true, false, 0,
                 "a number of milliseconds from 0 to 60000"},
    [F_JITTER] = {"jitter_ms", 0, 60000, false, false, false, true, false, 0,
                  "a number of milliseconds from 0 to 60000"},
    [F_RATE_KBIT] = {"rate_kbit", 0, 10000000, false, false, true, true, false, 0,
                     "a whole number of kbit/s from 0 (unlimited) to 10000000"},
    [F_DROP] = {"drop_every_s", 0.001, 86400, false, true, false, true, false, 0,
                "0 (never) or a number of seconds from 0.001 to 86400"},
    [F_IDLE] = {"idle_timeout_s", 0.001, 86400, false, true, false, true, false, 0,
                "0 (never) or a number of seconds from 0.001 to 86400"},
    [F_BUFFER] = {"buffer_bytes", 0, 1073741824, false, false, true, true, false, 0,
                  "a whole number from 0 (none) to 1073741824"},
    /* at_s < duration_s is checked once the quick overrides are in (check_restart_at) */
    [F_AT] = {"at_s", 0, 86400, true, false, false, true, true, 0,
              "a number of seconds above 0 and below duration_s"},
    [F_DOWN] = {"down_s", 0, 60, false, false, false, true, false, 1,
                "a number of seconds from 0 to 60"},
    /* not a number: parse_feed reads it, and its values are indices into feed_names; the
     * entry gives the name for run ids and the words of the message */
    [F_FEED] = {"feed", 0, 1, false, false, true, true, false, 0, "\"memory\" or \"file\""},
};

/* The values of one numeric field: one, or a list (a sweep). */
struct sweep {
    double v[SCENARIO_MAX_SWEEP]; /* the values, in file order */
    size_t n;                     /* how many; 0 = not given (quick overrides only) */
    bool listed;                  /* written as a list: run ids name it */
};

/* ---- approaches ------------------------------------------------------------------ */

static const char *const kind_names[] = {"short", "long", "sse"};
static const char *const poll_names[] = {"state", "events"};
static const char *const process_names[] = {"periodic", "poisson", "burst", "trace"};
/* restart.feed; "file" is the durable one (FEED_FILE) */
static const char *const feed_names[] = {"memory", "file"};

static const char *const short_fields[] = {"kind", "interval_ms", "poll"};
static const char *const long_fields[] = {"kind", "timeout_s"};
static const char *const sse_fields[] = {"kind", "heartbeat_s", "retry_ms"};
static const char *const any_approach_fields[] = {"kind",      "interval_ms", "poll",
                                                  "timeout_s", "heartbeat_s", "retry_ms"};

struct kind_desc {
    const char *const *fields;              /* keys its object may have, "kind" first */
    size_t n_fields;                        /* entries in fields */
    enum field settings[MAX_KIND_SETTINGS]; /* its numeric settings, in run-id order */
    size_t n_settings;                      /* entries in settings */
};

static const struct kind_desc kinds[] = {
    [SCENARIO_SHORT] = {short_fields, 3, {F_INTERVAL}, 1},
    [SCENARIO_LONG] = {long_fields, 2, {F_TIMEOUT}, 1},
    [SCENARIO_SSE] = {sse_fields, 3, {F_HEARTBEAT, F_RETRY}, 2},
};

struct approach {
    enum scenario_kind kind;             /* which technique */
    enum scenario_poll poll;             /* short polling only */
    struct sweep set[MAX_KIND_SETTINGS]; /* values of kinds[kind].settings */
};

/* ---- the scenario ---------------------------------------------------------------- */

static const char *const root_fields[] = {
    "name",    "description", "duration_s", "warmup_s", "seed",    "clients",
    "updates", "headers",     "approaches", "network",  "restart", "quick"};
static const char *const updates_fields[] = {"process", "rate_hz", "burst_size",
                                             "payload_bytes", "trace"};
static const char *const headers_fields[] = {"profile", "cookie_bytes"};
static const char *const network_fields[] = {
    "delay_ms",       "jitter_ms",    "rate_kbit", "drop_every_s",
    "idle_timeout_s", "buffer_bytes", "handshake"};
/* The numeric ones, in schema (and run-id) order; "handshake" is a boolean. */
static const enum field network_ids[] = {F_DELAY, F_JITTER, F_RATE_KBIT,
                                         F_DROP,  F_IDLE,   F_BUFFER};
static const char *const restart_fields[] = {"at_s", "down_s", "feed"};
/* The restart's dimensions, in schema (and run-id) order; feed is read by parse_feed. */
static const enum field restart_ids[] = {F_AT, F_DOWN, F_FEED};
static const enum field quick_ids[] = {
    F_DURATION,  F_WARMUP,  F_CLIENTS,   F_RATE,   F_BURST, F_PAYLOAD,
    F_INTERVAL,  F_TIMEOUT, F_HEARTBEAT, F_RETRY,  F_DELAY, F_JITTER,
    F_RATE_KBIT, F_DROP,    F_IDLE,      F_BUFFER, F_AT,    F_DOWN};
#define N_OF(a)          (sizeof(a) / sizeof((a)[0]))
#define N_NETWORK        6    /* entries in network_ids */
#define N_RESTART        3    /* entries in restart_ids */
#define FEED_FILE        1    /* feed_names index of the durable feed */
#define LINK_MAXCONN     8000 /* pushpull-link's default --max-connections */
#define MAX_KNOWN_FIELDS 32   /* keys one object may have (check_fields) */
#define MAX_DIMS         (MAX_KIND_SETTINGS + N_NETWORK + N_RESTART + 2) /* per approach */
_Static_assert(N_OF(quick_ids) <= MAX_KNOWN_FIELDS, "check_fields counts at most 32 keys");
_Static_assert(N_OF(root_fields) <= MAX_KNOWN_FIELDS,
               "check_fields counts at most 32 keys");

struct scenario {
    char *name;                    /* [a-z0-9-]+ (owned) */
    char *description;             /* (owned) */
    double duration_s;             /* measurement window */
    double warmup_s;               /* before the window */
    uint64_t seed;                 /* server generator and client */
    struct sweep clients;          /* users per run */
    enum scenario_process process; /* arrival process */
    struct sweep rate_hz;          /* n == 0 with the trace process */
    uint32_t burst_size;           /* 0 unless burst */
    uint64_t payload_bytes;        /* bytes per generated update */
    char *trace;                   /* resolved CSV path or NULL (owned) */
    char *headers;                 /* "minimal", "browser" or resolved path (owned) */
    uint32_t cookie_bytes;         /* Cookie value bytes */
    struct approach approaches[MAX_APPROACHES]; /* in file order */
    size_t n_approaches;                        /* entries used */
    struct sweep network[N_NETWORK];            /* values of network_ids, in order */
    bool handshake;                             /* network.handshake */
    bool restart_on;                            /* the file has a "restart" object */
    struct sweep restart[N_RESTART];            /* values of restart_ids, in order */
    struct sweep quick[F_COUNT];                /* "quick" overrides; n == 0 where none */
    struct scenario_run *runs;                  /* the expansion (owned) */
    size_t n_runs;                              /* entries in runs */
};

/* What every parsing function needs: where to write the message, and how to resolve. */
struct ctx {
    const char *file;     /* display name, first word of every message */
    const char *base_dir; /* relative paths resolve against this ("" = cwd) */
    unsigned flags;       /* enum scenario_flags */
    char *err;            /* the caller's message buffer */
    size_t errlen;        /* its size */
};

/* ---- messages -------------------------------------------------------------------- */

/* Append s (at most max source bytes) to dst[cap], escaping quotes, backslashes and every
 * byte outside printable ASCII as \xNN, so the result is one printable line. */
static void append_escaped(char *dst, size_t cap, const char *s, size_t max)
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
static void append_text(char *dst, size_t cap, const char *s)
{
    size_t len = strlen(dst);
    if (len < cap)
        snprintf(dst + len, cap - len, "%s", s);
}

/* A JSON value as a message quotes it: "text", 42, true, null, a list, an object. */
static void describe(const cJSON *item, char *out, size_t cap)
{
    out[0] = '\0';
    if (cJSON_IsString(item)) {
        snprintf(out, cap, "\"");
        append_escaped(out, cap - 1, item->valuestring, 40);
        append_text(out, cap, "\"");
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

static int fail_got(struct ctx *c, const char *path, const char *expected, const char *got)
{
    snprintf(c->err, c->errlen, "%s: %s: expected %s, got %s", c->file, path, expected,
             got);
    return -1;
}

static int fail_expected(struct ctx *c, const char *path, const char *expected,
                         const cJSON *item)
{
    char got[GOT_TEXT];
    describe(item, got, sizeof(got));
    return fail_got(c, path, expected, got);
}

static int fail_missing(struct ctx *c, const char *path, const char *expected)
{
    snprintf(c->err, c->errlen, "%s: %s: missing required field (expected %s)", c->file,
             path, expected);
    return -1;
}

/* "parent.key" or "key", the key escaped (it may come from the file). */
static void path_key(char *out, size_t cap, const char *parent, const char *key)
{
    snprintf(out, cap, "%s%s", parent, parent[0] ? "." : "");
    append_escaped(out, cap, key, 64);
}

static void path_index(char *out, size_t cap, const char *parent, size_t i)
{
    snprintf(out, cap, "%s[%zu]", parent, i);
}

/* ---- object shape ---------------------------------------------------------------- */

static size_t find_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return n;
}

/* Every key of obj must be one of known[], at most once. `what` follows "unknown field"
 * (" for kind \"long\"" or ""). */
static int check_fields(struct ctx *c, const cJSON *obj, const char *path,
                        const char *const *known, size_t n_known, const char *what)
{
    unsigned seen[MAX_KNOWN_FIELDS] = {0};
    for (const cJSON *it = obj->child; it; it = it->next) {
        char p[PATH_TEXT];
        path_key(p, sizeof(p), path, it->string ? it->string : "");
        size_t k = find_name(known, n_known, it->string ? it->string : "");
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
static int get_object(struct ctx *c, const cJSON *parent, const char *key,
                      const char *expect, const cJSON **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = NULL;
    if (!it)
        return 0;
    if (!cJSON_IsObject(it))
        return fail_expected(c, key, expect, it);
    *out = it;
    return 0;
}

/* A string member: 1 with *out set, 0 when absent (an error if required), -1 on error. */
static int get_string(struct ctx *c, const cJSON *obj, const char *parent, const char *key,
                      bool required, const char *expect, const char **out)
{
    char p[PATH_TEXT];
    path_key(p, sizeof(p), parent, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it)
        return required ? fail_missing(c, p, expect) : 0;
    if (!cJSON_IsString(it))
        return fail_expected(c, p, expect, it);
    *out = it->valuestring;
    return 1;
}

/* One of names[] (written as "a", "b" or "c" in expect): its index, or -1. */
static int get_enum(struct ctx *c, const cJSON *obj, const char *parent, const char *key,
                    bool required, const char *const *names, size_t n, const char *expect,
                    int def, int *out)
{
    const char *s;
    int r = get_string(c, obj, parent, key, required, expect, &s);
    if (r < 0)
        return -1;
    if (r == 0) {
        *out = def;
        return 0;
    }
    size_t i = find_name(names, n, s);
    if (i == n) {
        char p[PATH_TEXT];
        path_key(p, sizeof(p), parent, key);
        return fail_expected(c, p, expect, cJSON_GetObjectItemCaseSensitive(obj, key));
    }
    *out = (int)i;
    return 0;
}

/* ---- numbers and sweeps ---------------------------------------------------------- */

static bool in_range(const struct num_spec *sp, double v)
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

static int parse_number(struct ctx *c, const cJSON *it, const char *path,
                        const struct num_spec *sp, bool element, double *out)
{
    if (!cJSON_IsNumber(it) || !in_range(sp, it->valuedouble)) {
        char expect[160];
        snprintf(expect, sizeof(expect), "%s%s", sp->expect,
                 sp->sweep && !element ? " (or a list of them)" : "");
        return fail_expected(c, path, expect, it);
    }
    *out = it->valuedouble;
    return 0;
}

/* A value or, for a sweepable field, a non-empty list of distinct values. */
static int parse_sweep(struct ctx *c, const cJSON *it, const char *path,
                       const struct num_spec *sp, struct sweep *out)
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
    if (n > SCENARIO_MAX_SWEEP) {
        char expect[64], got[64];
        snprintf(expect, sizeof(expect), "a list of at most %d values", SCENARIO_MAX_SWEEP);
        snprintf(got, sizeof(got), "a list of %zu", n);
        return fail_got(c, path, expect, got);
    }
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        char p[PATH_TEXT];
        path_index(p, sizeof(p), path, i);
        if (parse_number(c, e, p, sp, true, &out->v[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (out->v[j] == out->v[i])
                return fail_expected(c, p, "a value not already in the list", e);
    }
    out->n = n;
    out->listed = true;
    return 0;
}

/* A numeric member by its spec: 1 when present, 0 when absent (default filled in; an
 * error if required), -1 on error. */
static int get_field(struct ctx *c, const cJSON *obj, const char *parent, enum field f,
                     struct sweep *out)
{
    const struct num_spec *sp = &specs[f];
    char p[PATH_TEXT];
    path_key(p, sizeof(p), parent, sp->name);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, sp->name);
    if (!it) {
        memset(out, 0, sizeof(*out));
        if (sp->required) {
            char expect[160];
            snprintf(expect, sizeof(expect), "%s%s", sp->expect,
                     sp->sweep ? ", or a list of them" : "");
            return fail_missing(c, p, expect);
        }
        out->v[0] = sp->def;
        out->n = 1;
        return 0;
    }
    return parse_sweep(c, it, p, sp, out) == 0 ? 1 : -1;
}

/* A scalar numeric member. */
static int get_scalar(struct ctx *c, const cJSON *obj, const char *parent, enum field f,
                      double *out)
{
    struct sweep sw;
    int r = get_field(c, obj, parent, f, &sw);
    if (r >= 0)
        *out = sw.v[0];
    return r;
}

/* ---- files ----------------------------------------------------------------------- */

/* Read a regular file of at most max bytes into a NUL-terminated buffer (*out, the
 * caller frees). On failure returns -1 with why[] saying what went wrong (the failed call
 * and strerror(errno); the caller names the file). Opens with O_NONBLOCK so a FIFO cannot
 * hang the loader. */
static int read_small_file(const char *path, size_t max, char **out, size_t *len, char *why,
                           size_t whylen)
{
    int rc = -1;
    char *buf = NULL;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "fstat: %s", strerror(errno));
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s, not a regular file",
                 S_ISDIR(st.st_mode) ? "a directory" : "a special file");
        goto end;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(why, whylen, "%lld bytes, more than the %zu allowed",
                 (long long)st.st_size, max);
        goto end;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(why, whylen, "malloc: %s", strerror(errno));
        goto end;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, whylen, "read: %s", strerror(errno));
            goto end;
        }
        if (r == 0)
            break; /* the file shrank: take what is there */
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
    rc = 0;
end:
    free(buf);
    close(fd);
    return rc;
}

/* base_dir/rel, or rel itself when absolute or base_dir is empty. Caller frees. */
static char *resolve_path(const char *base_dir, const char *rel)
{
    if (rel[0] == '/' || base_dir[0] == '\0')
        return strdup(rel);
    size_t bl = strlen(base_dir);
    const char *sep = base_dir[bl - 1] == '/' ? "" : "/";
    size_t n = bl + strlen(sep) + strlen(rel) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", base_dir, sep, rel);
    return p;
}

/* The plan is split on blanks by a shell: a path must be one plain word. */
static bool path_is_plain_word(const char *p)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789._/+,=@%:~-";
    if (p[0] == '\0' || p[0] == '-')
        return false;
    for (; *p; p++)
        if (!strchr(ok, *p))
            return false;
    return true;
}

/* Resolve a path field against the base directory and check its spelling; the resolved
 * path goes to *out (the caller frees). */
static int resolve_field_path(struct ctx *c, const char *path, const char *value,
                              char **out)
{
    char got[GOT_TEXT + 32] = "\"";
    *out = NULL;
    if (value[0] == '\0')
        return fail_got(c, path, "a path, not an empty string", "\"\"");
    char *full = resolve_path(c->base_dir, value);
    if (!full) {
        snprintf(c->err, c->errlen, "%s: %s: strdup: out of memory", c->file, path);
        return -1;
    }
    if (!path_is_plain_word(full)) {
        append_escaped(got, sizeof(got) - 1, full, 80);
        append_text(got, sizeof(got), "\"");
        free(full);
        return fail_got(c, path,
                        "a path of letters, digits and ._/+,=@%:~- only, not starting "
                        "with - (the plan is split on spaces)",
                        got);
    }
    *out = full;
    return 0;
}

/* A trace: an optional header line "t_s", then one publish offset in seconds per line,
 * each >= 0 and none smaller than the one before; blank lines and CRLF are allowed. On
 * failure *bad_line is the 1-based line and bad[] its text (0 and "" for no times). */
static int check_trace_text(const char *t, size_t len, size_t *bad_line, char *bad,
                            size_t badcap)
{
    size_t line = 0, count = 0;
    double prev = 0;
    const char *p = t, *end = t + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);
        if (n && p[n - 1] == '\r')
            n--;
        line++;
        char word[64];
        bool fits = n < sizeof(word) && memchr(p, '\0', n) == NULL;
        if (fits) {
            memcpy(word, p, n);
            word[n] = '\0';
        }
        double v;
        if (fits && n == 0) {
            /* a blank line */
        } else if (fits && count == 0 && line == 1 && strcmp(word, "t_s") == 0) {
            /* the header */
        } else if (fits && units_parse_number(word, &v) == 0 && v >= prev) {
            prev = v;
            count++;
        } else {
            *bad_line = line;
            bad[0] = '\0';
            char raw[64];
            size_t k = n < sizeof(raw) - 1 ? n : sizeof(raw) - 1;
            memcpy(raw, p, k);
            raw[k] = '\0';
            append_escaped(bad, badcap, raw, 40);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    if (count == 0) {
        *bad_line = 0;
        bad[0] = '\0';
        return -1;
    }
    return 0;
}

static int check_trace_file(struct ctx *c, const char *path, const char *value,
                            const char *full)
{
    static const char expect[] = "a CSV of publish offsets in seconds (optional header "
                                 "t_s, then one number >= 0 per line, never decreasing)";
    char why[PATH_TEXT + 64], got[GOT_TEXT + PATH_TEXT + 96] = "\"";
    char *text = NULL;
    size_t len = 0;
    if (read_small_file(full, MAX_TRACE_BYTES, &text, &len, why, sizeof(why)) != 0) {
        append_escaped(got, sizeof(got) - 1, value, 80);
        size_t gl = strlen(got);
        snprintf(got + gl, sizeof(got) - gl, "\" (%s: %s)", full, why);
        return fail_got(c, path, "a readable CSV of publish times", got);
    }
    size_t line;
    char bad[GOT_TEXT];
    int rc = check_trace_text(text, len, &line, bad, sizeof(bad));
    free(text);
    if (rc == 0)
        return 0;
    if (line == 0)
        snprintf(got, sizeof(got), "no publish times in %s", full);
    else
        snprintf(got, sizeof(got), "\"%s\" on line %zu of %s", bad, line, full);
    return fail_got(c, path, expect, got);
}

static int check_profile_file(struct ctx *c, const char *path, const char *value,
                              const char *full)
{
    char why[PATH_TEXT + 64], got[GOT_TEXT + PATH_TEXT + 96] = "\"";
    char *text = NULL;
    size_t len = 0;
    if (read_small_file(full, MAX_PROFILE_BYTES, &text, &len, why, sizeof(why)) == 0) {
        free(text);
        return 0;
    }
    append_escaped(got, sizeof(got) - 1, value, 80);
    size_t gl = strlen(got);
    snprintf(got + gl, sizeof(got) - gl, "\" (%s: %s)", full, why);
    return fail_got(c, path, "\"minimal\", \"browser\" or a readable file of header lines",
                    got);
}

/* ---- the sections ---------------------------------------------------------------- */

static int parse_name_description(struct ctx *c, const cJSON *root, struct scenario *s)
{
    static const char name_expect[] = "a name of 1 to 64 characters from a-z, 0-9 and -";
    static const char desc_expect[] = "a non-empty string of at most 16384 bytes";
    const char *name, *desc;
    if (get_string(c, root, "", "name", true, name_expect, &name) < 0)
        return -1;
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME_CHARS ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
        return fail_expected(c, "name", name_expect,
                             cJSON_GetObjectItemCaseSensitive(root, "name"));
    if (get_string(c, root, "", "description", true, desc_expect, &desc) < 0)
        return -1;
    if (desc[0] == '\0' || strlen(desc) > MAX_DESCRIPTION)
        return fail_expected(c, "description", desc_expect,
                             cJSON_GetObjectItemCaseSensitive(root, "description"));
    s->name = strdup(name);
    s->description = strdup(desc);
    if (!s->name || !s->description) {
        snprintf(c->err, c->errlen, "%s: strdup: out of memory", c->file);
        return -1;
    }
    return 0;
}

static int parse_updates(struct ctx *c, const cJSON *root, struct scenario *s)
{
    static const char obj_expect[] = "an object with process and rate_hz";
    static const char proc_expect[] = "\"periodic\", \"poisson\", \"burst\" or \"trace\"";
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "updates");
    if (!u)
        return fail_missing(c, "updates", obj_expect);
    if (!cJSON_IsObject(u))
        return fail_expected(c, "updates", obj_expect, u);
    if (check_fields(c, u, "updates", updates_fields, N_OF(updates_fields), "") != 0)
        return -1;
    int proc;
    if (get_enum(c, u, "updates", "process", true, process_names, N_OF(process_names),
                 proc_expect, 0, &proc) != 0)
        return -1;
    s->process = (enum scenario_process)proc;

    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(u, "rate_hz");
    const cJSON *burst = cJSON_GetObjectItemCaseSensitive(u, "burst_size");
    const cJSON *trace = cJSON_GetObjectItemCaseSensitive(u, "trace");
    if (s->process == SCENARIO_TRACE) {
        if (rate)
            return fail_expected(
                c, "updates.rate_hz",
                "no value with process \"trace\" (the trace sets the times)", rate);
    } else {
        if (get_field(c, u, "updates", F_RATE, &s->rate_hz) < 0)
            return -1;
        if (trace)
            return fail_expected(c, "updates.trace", "no value unless process is \"trace\"",
                                 trace);
    }
    if (burst && s->process != SCENARIO_BURST)
        return fail_expected(c, "updates.burst_size",
                             "no value unless process is \"burst\"", burst);
    double v;
    if (get_scalar(c, u, "updates", F_BURST, &v) < 0)
        return -1;
    s->burst_size = s->process == SCENARIO_BURST ? (uint32_t)v : 0;
    if (get_scalar(c, u, "updates", F_PAYLOAD, &v) < 0)
        return -1;
    s->payload_bytes = (uint64_t)v;

    if (s->process == SCENARIO_TRACE) {
        const char *path;
        int r = get_string(c, u, "updates", "trace", false,
                           "the path of a CSV of publish times", &path);
        if (r < 0)
            return -1;
        if (r == 0)
            return fail_missing(
                c, "updates.trace",
                "the path of a CSV of publish times, which process \"trace\" "
                "needs");
        if (resolve_field_path(c, "updates.trace", path, &s->trace) != 0)
            return -1;
        if (!(c->flags & SCENARIO_NO_FILES) &&
            check_trace_file(c, "updates.trace", path, s->trace) != 0)
            return -1;
    }
    return 0;
}

static int parse_headers(struct ctx *c, const cJSON *root, struct scenario *s)
{
    static const char prof_expect[] =
        "\"minimal\", \"browser\" or the path of a file of header lines";
    const cJSON *h;
    const char *prof = "minimal";
    double v = 0;
    if (get_object(c, root, "headers", "an object with profile and cookie_bytes", &h) != 0)
        return -1;
    if (h) {
        if (check_fields(c, h, "headers", headers_fields, N_OF(headers_fields), "") != 0)
            return -1;
        const char *got;
        int r = get_string(c, h, "headers", "profile", false, prof_expect, &got);
        if (r < 0)
            return -1;
        if (r > 0)
            prof = got;
        if (get_scalar(c, h, "headers", F_COOKIE, &v) < 0)
            return -1;
    }
    s->cookie_bytes = (uint32_t)v;
    if (strcmp(prof, "minimal") == 0 || strcmp(prof, "browser") == 0) {
        s->headers = strdup(prof);
        if (!s->headers) {
            snprintf(c->err, c->errlen, "%s: strdup: out of memory", c->file);
            return -1;
        }
        return 0;
    }
    if (resolve_field_path(c, "headers.profile", prof, &s->headers) != 0)
        return -1;
    if (!(c->flags & SCENARIO_NO_FILES) &&
        check_profile_file(c, "headers.profile", prof, s->headers) != 0)
        return -1;
    return 0;
}

static int parse_approach(struct ctx *c, const cJSON *it, const char *path,
                          struct approach *a)
{
    static const char kind_expect[] = "\"short\", \"long\" or \"sse\"";
    if (!cJSON_IsObject(it))
        return fail_expected(c, path, "an object with a kind", it);
    if (check_fields(c, it, path, any_approach_fields, N_OF(any_approach_fields), "") != 0)
        return -1;
    int kind;
    if (get_enum(c, it, path, "kind", true, kind_names, N_OF(kind_names), kind_expect, 0,
                 &kind) != 0)
        return -1;
    a->kind = (enum scenario_kind)kind;
    const struct kind_desc *kd = &kinds[a->kind];
    char what[32];
    snprintf(what, sizeof(what), " for kind \"%s\"", kind_names[kind]);
    if (check_fields(c, it, path, kd->fields, kd->n_fields, what) != 0)
        return -1;
    int poll = SCENARIO_POLL_STATE;
    if (a->kind == SCENARIO_SHORT &&
        get_enum(c, it, path, "poll", false, poll_names, N_OF(poll_names),
                 "\"state\" or \"events\"", SCENARIO_POLL_STATE, &poll) != 0)
        return -1;
    a->poll = (enum scenario_poll)poll;
    for (size_t k = 0; k < kd->n_settings; k++)
        if (get_field(c, it, path, kd->settings[k], &a->set[k]) < 0)
            return -1;
    return 0;
}

static int parse_approaches(struct ctx *c, const cJSON *root, struct scenario *s)
{
    static const char expect[] = "a non-empty list of at most 16 approach objects";
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "approaches");
    if (!list)
        return fail_missing(c, "approaches", expect);
    if (!cJSON_IsArray(list) || !list->child)
        return fail_expected(c, "approaches", expect, list);
    size_t i = 0;
    for (const cJSON *it = list->child; it; it = it->next, i++) {
        if (i == MAX_APPROACHES) {
            size_t n = i;
            for (const cJSON *e = it; e; e = e->next)
                n++;
            char got[32];
            snprintf(got, sizeof(got), "a list of %zu", n);
            return fail_got(c, "approaches", expect, got);
        }
        char p[PATH_TEXT];
        path_index(p, sizeof(p), "approaches", i);
        if (parse_approach(c, it, p, &s->approaches[i]) != 0)
            return -1;
    }
    s->n_approaches = i;
    return 0;
}

static int parse_network(struct ctx *c, const cJSON *root, struct scenario *s)
{
    const cJSON *n;
    if (get_object(c, root, "network", "an object of link settings", &n) != 0)
        return -1;
    for (size_t i = 0; i < N_NETWORK; i++) {
        memset(&s->network[i], 0, sizeof(s->network[i]));
        s->network[i].n = 1; /* every default is 0: no link */
    }
    if (!n)
        return 0;
    if (check_fields(c, n, "network", network_fields, N_OF(network_fields), "") != 0)
        return -1;
    for (size_t i = 0; i < N_NETWORK; i++)
        if (get_field(c, n, "network", network_ids[i], &s->network[i]) < 0)
            return -1;
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(n, "handshake");
    if (hs && !cJSON_IsBool(hs))
        return fail_expected(c, "network.handshake", "true or false", hs);
    s->handshake = cJSON_IsTrue(hs);
    return 0;
}

/* The feed_names index of a JSON value, or N_OF(feed_names) if it names no feed. */
static size_t feed_index(const cJSON *it)
{
    if (!cJSON_IsString(it))
        return N_OF(feed_names);
    return find_name(feed_names, N_OF(feed_names), it->valuestring);
}

/* restart.feed: "memory" or "file", or a list of distinct ones (a sweep, like the numeric
 * lists). The values stored are indices into feed_names; absent, "memory". */
static int parse_feed(struct ctx *c, const cJSON *obj, struct sweep *out)
{
    static const char path[] = "restart.feed";
    const struct num_spec *sp = &specs[F_FEED];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, sp->name);
    char expect[96];
    snprintf(expect, sizeof(expect), "%s (or a list of them)", sp->expect);
    memset(out, 0, sizeof(*out));
    out->n = 1; /* v[0] == 0: "memory" */
    if (!it)
        return 0;
    if (!cJSON_IsArray(it)) {
        size_t k = feed_index(it);
        if (k == N_OF(feed_names))
            return fail_expected(c, path, expect, it);
        out->v[0] = (double)k;
        return 0;
    }
    if (!it->child)
        return fail_expected(c, path, expect, it); /* says "an empty list" */
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        char p[PATH_TEXT];
        path_index(p, sizeof(p), path, i);
        size_t k = feed_index(e);
        if (k == N_OF(feed_names))
            return fail_expected(c, p, sp->expect, e);
        /* with two names, a third element is always a repeat: v[] never overflows */
        for (size_t j = 0; j < i; j++)
            if (out->v[j] == (double)k)
                return fail_expected(c, p, "a value not already in the list", e);
        out->v[i] = (double)k;
    }
    out->n = i;
    out->listed = true;
    return 0;
}

static int parse_restart(struct ctx *c, const cJSON *root, struct scenario *s)
{
    const cJSON *r;
    if (get_object(c, root, "restart", "an object with at_s, down_s and feed", &r) != 0)
        return -1;
    for (size_t i = 0; i < N_RESTART; i++) {
        memset(&s->restart[i], 0, sizeof(s->restart[i]));
        s->restart[i].v[0] = specs[restart_ids[i]].def;
        s->restart[i].n = 1; /* one run per approach when there is no restart */
    }
    if (!r)
        return 0;
    s->restart_on = true;
    if (check_fields(c, r, "restart", restart_fields, N_OF(restart_fields), "") != 0)
        return -1;
    if (get_field(c, r, "restart", F_AT, &s->restart[0]) < 0 ||
        get_field(c, r, "restart", F_DOWN, &s->restart[1]) < 0 ||
        parse_feed(c, r, &s->restart[2]) != 0)
        return -1;
    return 0;
}

static bool has_kind(const struct scenario *s, enum scenario_kind k)
{
    for (size_t i = 0; i < s->n_approaches; i++)
        if (s->approaches[i].kind == k)
            return true;
    return false;
}

/* The approach kind whose setting f is, or -1 for a scenario-level field. */
static int kind_of_setting(enum field f)
{
    for (size_t k = 0; k < N_OF(kinds); k++)
        for (size_t j = 0; j < kinds[k].n_settings; j++)
            if (kinds[k].settings[j] == f)
                return (int)k;
    return -1;
}

static int parse_quick(struct ctx *c, const cJSON *root, struct scenario *s)
{
    const cJSON *q;
    if (get_object(c, root, "quick", "an object of overrides", &q) != 0)
        return -1;
    if (!q)
        return 0;
    const char *names[N_OF(quick_ids)];
    for (size_t i = 0; i < N_OF(quick_ids); i++)
        names[i] = specs[quick_ids[i]].name;
    if (check_fields(c, q, "quick", names, N_OF(names), "") != 0)
        return -1;
    for (size_t i = 0; i < N_OF(quick_ids); i++) {
        enum field f = quick_ids[i];
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(q, specs[f].name);
        if (!it)
            continue;
        char p[PATH_TEXT];
        path_key(p, sizeof(p), "quick", specs[f].name);
        int kind = kind_of_setting(f);
        if (f == F_RATE && s->process == SCENARIO_TRACE)
            return fail_expected(
                c, p, "no value with process \"trace\" (the trace sets the times)", it);
        if (f == F_BURST && s->process != SCENARIO_BURST)
            return fail_expected(c, p, "no value unless process is \"burst\"", it);
        if ((f == F_AT || f == F_DOWN) && !s->restart_on)
            return fail_expected(c, p, "no value when the scenario has no restart", it);
        if (kind >= 0 && !has_kind(s, (enum scenario_kind)kind)) {
            char expect[96];
            snprintf(expect, sizeof(expect), "no value when no approach has kind \"%s\"",
                     kind_names[kind]);
            return fail_expected(c, p, expect, it);
        }
        if (parse_sweep(c, it, p, &specs[f], &s->quick[f]) != 0)
            return -1;
    }
    return 0;
}

static int parse_root(struct ctx *c, const cJSON *root, struct scenario *s)
{
    if (!cJSON_IsObject(root)) {
        char got[GOT_TEXT];
        describe(root, got, sizeof(got));
        snprintf(c->err, c->errlen, "%s: expected an object at the top level, got %s",
                 c->file, got);
        return -1;
    }
    if (check_fields(c, root, "", root_fields, N_OF(root_fields), "") != 0)
        return -1;
    if (parse_name_description(c, root, s) != 0)
        return -1;
    double seed;
    if (get_scalar(c, root, "", F_DURATION, &s->duration_s) < 0 ||
        get_scalar(c, root, "", F_WARMUP, &s->warmup_s) < 0 ||
        get_scalar(c, root, "", F_SEED, &seed) < 0 ||
        get_field(c, root, "", F_CLIENTS, &s->clients) < 0)
        return -1;
    s->seed = (uint64_t)seed;
    if (parse_updates(c, root, s) != 0 || parse_headers(c, root, s) != 0 ||
        parse_approaches(c, root, s) != 0 || parse_network(c, root, s) != 0 ||
        parse_restart(c, root, s) != 0 || parse_quick(c, root, s) != 0)
        return -1;
    return 0;
}

/* ---- quick overrides and expansion ----------------------------------------------- */

static void apply_quick(struct scenario *s)
{
    const struct sweep *q = s->quick;
    if (q[F_DURATION].n)
        s->duration_s = q[F_DURATION].v[0];
    if (q[F_WARMUP].n)
        s->warmup_s = q[F_WARMUP].v[0];
    if (q[F_CLIENTS].n)
        s->clients = q[F_CLIENTS];
    if (q[F_RATE].n)
        s->rate_hz = q[F_RATE];
    if (q[F_BURST].n)
        s->burst_size = (uint32_t)q[F_BURST].v[0];
    if (q[F_PAYLOAD].n)
        s->payload_bytes = (uint64_t)q[F_PAYLOAD].v[0];
    for (size_t i = 0; i < N_NETWORK; i++)
        if (q[network_ids[i]].n)
            s->network[i] = q[network_ids[i]];
    for (size_t i = 0; i < N_RESTART; i++) /* feed has no quick key: its n stays 0 */
        if (q[restart_ids[i]].n)
            s->restart[i] = q[restart_ids[i]];
    for (size_t i = 0; i < s->n_approaches; i++) {
        struct approach *a = &s->approaches[i];
        const struct kind_desc *kd = &kinds[a->kind];
        for (size_t k = 0; k < kd->n_settings; k++)
            if (q[kd->settings[k]].n)
                a->set[k] = q[kd->settings[k]];
    }
}

/* "%.15g": 1000 -> "1000", 0.066667 -> "0.066667"; only [0-9.e+-] in ids and flags. */
static void fmt_num(char *out, size_t cap, double v)
{
    snprintf(out, cap, "%.15g", v);
}

/* A dimension's value as a run id names it: the number, or the feed's name. */
static void fmt_value(char *out, size_t cap, enum field f, double v)
{
    if (f == F_FEED)
        snprintf(out, cap, "%s", feed_names[v == FEED_FILE ? FEED_FILE : 0]);
    else
        fmt_num(out, cap, v);
}

/* The crash must fall inside the window: every restart.at_s (quick.at_s with --quick)
 * below the duration_s the runs have, which a quick override may have shortened; and the
 * server must be back before the window ends (every at_s + down_s below it). */
static int check_restart_at(struct ctx *c, const struct scenario *s)
{
    bool quick = (c->flags & SCENARIO_QUICK) != 0;
    const struct sweep *at = &s->restart[0];
    if (!s->restart_on)
        return 0;
    for (size_t k = 0; k < at->n; k++) {
        if (at->v[k] < s->duration_s)
            continue;
        char p[PATH_TEXT], dur[32], expect[160], got[32];
        const char *where = quick && s->quick[F_AT].n ? "quick.at_s" : "restart.at_s";
        if (at->listed)
            path_index(p, sizeof(p), where, k);
        else
            snprintf(p, sizeof(p), "%s", where);
        fmt_num(dur, sizeof(dur), s->duration_s);
        snprintf(expect, sizeof(expect), "%s (%s%s)", specs[F_AT].expect, dur,
                 quick && s->quick[F_DURATION].n ? " with --quick" : "");
        fmt_num(got, sizeof(got), at->v[k]);
        return fail_got(c, p, expect, got);
    }
    /* and the server back before it ends, or there is no recovery to measure */
    const struct sweep *down = &s->restart[1];
    for (size_t j = 0; j < down->n; j++)
        for (size_t k = 0; k < at->n; k++) {
            if (at->v[k] + down->v[j] < s->duration_s)
                continue;
            char p[PATH_TEXT], expect[200], a[32], dur[32], got[32];
            const char *where =
                quick && s->quick[F_DOWN].n ? "quick.down_s" : "restart.down_s";
            if (down->listed)
                path_index(p, sizeof(p), where, j);
            else
                snprintf(p, sizeof(p), "%s", where);
            fmt_num(a, sizeof(a), at->v[k]);
            fmt_num(dur, sizeof(dur), s->duration_s);
            snprintf(expect, sizeof(expect),
                     "a down time that ends inside the window (at_s %s + down_s below "
                     "duration_s %s%s)",
                     a, dur, quick && s->quick[F_DURATION].n ? " with --quick" : "");
            fmt_num(got, sizeof(got), down->v[j]);
            return fail_got(c, p, expect, got);
        }
    return 0;
}

static void run_set(struct scenario_run *r, enum field f, double v)
{
    switch (f) {
    case F_CLIENTS:
        r->clients = (uint32_t)v;
        break;
    case F_RATE:
        r->rate_hz = v;
        break;
    case F_INTERVAL:
        r->interval_ms = (uint32_t)v;
        break;
    case F_TIMEOUT:
        r->timeout_s = (uint32_t)v;
        break;
    case F_HEARTBEAT:
        r->heartbeat_s = v;
        break;
    case F_RETRY:
        r->retry_ms = (uint32_t)v;
        break;
    case F_DELAY:
        r->network.delay_ms = v;
        break;
    case F_JITTER:
        r->network.jitter_ms = v;
        break;
    case F_RATE_KBIT:
        r->network.rate_kbit = (uint64_t)v;
        break;
    case F_DROP:
        r->network.drop_every_s = v;
        break;
    case F_IDLE:
        r->network.idle_timeout_s = v;
        break;
    case F_BUFFER:
        r->network.buffer_bytes = (uint64_t)v;
        break;
    case F_AT:
        r->restart.at_s = v;
        break;
    case F_DOWN:
        r->restart.down_s = v;
        break;
    case F_FEED:
        r->restart.durable = v == FEED_FILE;
        break;
    default:
        break;
    }
}

/* Whether the scenario needs the link: some network value is set in some run. */
static bool network_in_use(const struct scenario *s)
{
    for (size_t i = 0; i < N_NETWORK; i++)
        for (size_t k = 0; k < s->network[i].n; k++)
            if (s->network[i].v[k] != 0)
                return true;
    return s->handshake;
}

/* The runs of approach a, appended to s->runs (room for them is already there). */
static void expand_approach(const struct scenario *s, size_t ai, struct scenario_run *runs,
                            size_t *n_runs)
{
    const struct approach *a = &s->approaches[ai];
    const struct kind_desc *kd = &kinds[a->kind];
    const struct sweep *dim[MAX_DIMS];
    enum field dim_field[MAX_DIMS];
    size_t nd = 0, total = 1;
    bool link = network_in_use(s);
    for (size_t k = 0; k < kd->n_settings; k++) {
        dim[nd] = &a->set[k];
        dim_field[nd++] = kd->settings[k];
    }
    for (size_t k = 0; k < N_NETWORK; k++) {
        dim[nd] = &s->network[k];
        dim_field[nd++] = network_ids[k];
    }
    for (size_t k = 0; k < N_RESTART; k++) {
        dim[nd] = &s->restart[k];
        dim_field[nd++] = restart_ids[k];
    }
    if (s->process != SCENARIO_TRACE) {
        dim[nd] = &s->rate_hz;
        dim_field[nd++] = F_RATE;
    }
    dim[nd] = &s->clients;
    dim_field[nd++] = F_CLIENTS;
    for (size_t d = 0; d < nd; d++)
        total *= dim[d]->n;

    for (size_t r = 0; r < total; r++) {
        struct scenario_run *run = &runs[(*n_runs)++];
        memset(run, 0, sizeof(*run));
        run->approach = ai;
        run->kind = a->kind;
        run->poll = a->kind == SCENARIO_SHORT ? a->poll : SCENARIO_POLL_STATE;
        run->duration_s = s->duration_s;
        run->warmup_s = s->warmup_s;
        run->seed = s->seed;
        run->process = s->process;
        run->burst_size = s->burst_size;
        run->payload_bytes = s->payload_bytes;
        run->trace = s->trace;
        run->headers = s->headers;
        run->cookie_bytes = s->cookie_bytes;
        run->network.link = link;
        run->network.handshake = s->handshake;
        run->restart.on = s->restart_on;
        size_t len = (size_t)snprintf(run->id, sizeof(run->id), "%s", kind_names[a->kind]);
        if (a->kind == SCENARIO_SHORT)
            len += (size_t)snprintf(run->id + len, sizeof(run->id) - len, "-%s",
                                    poll_names[run->poll]);
        /* mixed radix, the last dimension fastest */
        size_t idx[MAX_DIMS], rest = r;
        for (size_t d = nd; d-- > 0;) {
            idx[d] = rest % dim[d]->n;
            rest /= dim[d]->n;
        }
        for (size_t d = 0; d < nd; d++) {
            double v = dim[d]->v[idx[d]];
            run_set(run, dim_field[d], v);
            if (dim[d]->listed && len < sizeof(run->id)) {
                char num[32];
                fmt_value(num, sizeof(num), dim_field[d], v);
                len += (size_t)snprintf(run->id + len, sizeof(run->id) - len, "-%s=%s",
                                        specs[dim_field[d]].name, num);
            }
        }
    }
}

static int expand_runs(struct ctx *c, struct scenario *s)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n_approaches; i++) {
        const struct approach *a = &s->approaches[i];
        size_t n = s->clients.n * (s->process == SCENARIO_TRACE ? 1 : s->rate_hz.n);
        for (size_t k = 0; k < kinds[a->kind].n_settings; k++)
            n *= a->set[k].n;
        for (size_t k = 0; k < N_NETWORK; k++)
            n *= s->network[k].n;
        for (size_t k = 0; k < N_RESTART; k++)
            n *= s->restart[k].n;
        total += n;
        if (total > SCENARIO_MAX_RUNS) {
            char p[PATH_TEXT], expect[64], got[64];
            path_index(p, sizeof(p), "approaches", i);
            snprintf(expect, sizeof(expect), "at most %d runs in all", SCENARIO_MAX_RUNS);
            snprintf(got, sizeof(got), "%zu by this entry (the lists multiply)", total);
            return fail_got(c, p, expect, got);
        }
    }
    s->runs = calloc(total, sizeof(*s->runs));
    if (!s->runs) {
        snprintf(c->err, c->errlen, "%s: calloc: %s", c->file, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < s->n_approaches; i++)
        expand_approach(s, i, s->runs, &s->n_runs);
    for (size_t i = 1; i < s->n_runs; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->runs[i].id, s->runs[j].id) != 0)
                continue;
            char p[PATH_TEXT], got[SCENARIO_ID_MAX + 128];
            path_index(p, sizeof(p), "approaches", s->runs[i].approach);
            snprintf(got, sizeof(got),
                     "\"%s\" twice (put a setting that differs in a "
                     "list, like [500], to name it in the id)",
                     s->runs[i].id);
            return fail_got(c, p, "every run id to be unique", got);
        }
    }
    return 0;
}

/* ---- syntax errors --------------------------------------------------------------- */

/* "FILE: line L, column C: expected valid JSON, got ..." for cJSON's error position (or
 * a NUL byte's); columns count bytes from 1. */
static void syntax_error(struct ctx *c, const char *text, size_t len, const char *at)
{
    size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : len;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char got[GOT_TEXT] = "\"";
    if (off >= len) {
        snprintf(got, sizeof(got), "the end of the file");
    } else if (text[off] == '\0') {
        snprintf(got, sizeof(got), "a NUL byte");
    } else {
        char near[24];
        size_t k = len - off < sizeof(near) - 1 ? len - off : sizeof(near) - 1;
        memcpy(near, text + off, k);
        near[k] = '\0';
        append_escaped(got, sizeof(got) - 1, near, 16);
        append_text(got, sizeof(got), "\"");
    }
    snprintf(c->err, c->errlen, "%s: line %zu, column %zu: expected valid JSON, got %s",
             c->file, line, col, got);
}

/* ---- the API --------------------------------------------------------------------- */

int scenario_parse(const char *text, size_t len, const char *name, const char *base_dir,
                   unsigned flags, struct scenario **out, char *err, size_t errlen)
{
    int rc = -1;
    char *copy = NULL;
    cJSON *root = NULL;
    struct scenario *s = NULL;
    struct ctx c = {name, base_dir ? base_dir : "", flags, err, errlen};
    *out = NULL;
    if (errlen)
        err[0] = '\0';

    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul) {
        syntax_error(&c, text, len, nul);
        goto end;
    }
    copy = malloc(len + 1);
    if (!copy) {
        snprintf(err, errlen, "%s: malloc: %s", name, strerror(errno));
        goto end;
    }
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    const char *at = NULL;
    /* len + 1 takes in the NUL, which require_null_terminated wants to see */
    root = cJSON_ParseWithLengthOpts(copy, len + 1, &at, 1);
    if (!root) {
        syntax_error(&c, copy, len, at);
        goto end;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "%s: calloc: %s", name, strerror(errno));
        goto end;
    }
    if (parse_root(&c, root, s) != 0)
        goto end;
    if (flags & SCENARIO_QUICK)
        apply_quick(s);
    if (check_restart_at(&c, s) != 0 || expand_runs(&c, s) != 0)
        goto end;
    *out = s;
    s = NULL;
    rc = 0;
end:
    scenario_free(s);
    cJSON_Delete(root);
    free(copy);
    return rc;
}

int scenario_load(const char *path, unsigned flags, struct scenario **out, char *err,
                  size_t errlen)
{
    char *text = NULL, *dir = NULL;
    size_t len = 0;
    char why[PATH_TEXT + 64];
    *out = NULL;
    if (read_small_file(path, MAX_SCENARIO_BYTES, &text, &len, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
    dir = malloc(dl + 1);
    if (!dir) {
        snprintf(err, errlen, "%s: malloc: %s", path, strerror(errno));
        free(text);
        return -1;
    }
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    int rc = scenario_parse(text, len, path, dir, flags, out, err, errlen);
    free(dir);
    free(text);
    return rc;
}

void scenario_free(struct scenario *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->description);
    free(s->trace);
    free(s->headers);
    free(s->runs);
    free(s);
}

const char *scenario_name(const struct scenario *s)
{
    return s->name;
}

const char *scenario_description(const struct scenario *s)
{
    return s->description;
}

size_t scenario_run_count(const struct scenario *s)
{
    return s->n_runs;
}

const struct scenario_run *scenario_run_at(const struct scenario *s, size_t i)
{
    return i < s->n_runs ? &s->runs[i] : NULL;
}

/* ---- argument lists -------------------------------------------------------------- */

int scenario_server_args(const struct scenario_run *r, struct dynbuf *out)
{
    char num[32];
    int rc = dynbuf_addf(out, "--process %s", process_names[r->process]);
    if (rc == 0 && r->process != SCENARIO_TRACE) {
        fmt_num(num, sizeof(num), r->rate_hz);
        rc = dynbuf_addf(out, " --rate %s", num);
    }
    if (rc == 0 && r->process == SCENARIO_BURST)
        rc = dynbuf_addf(out, " --burst-size %u", r->burst_size);
    if (rc == 0 && r->process == SCENARIO_TRACE)
        rc = dynbuf_addf(out, " --trace %s", r->trace);
    if (rc == 0)
        rc = dynbuf_addf(out, " --payload-bytes %llu --seed %llu",
                         (unsigned long long)r->payload_bytes, (unsigned long long)r->seed);
    if (rc == 0 && r->kind == SCENARIO_LONG)
        rc = dynbuf_addf(out, " --longpoll-timeout %us", r->timeout_s);
    if (rc == 0 && r->kind == SCENARIO_SSE) {
        fmt_num(num, sizeof(num), r->heartbeat_s);
        rc = dynbuf_addf(out, " --heartbeat %ss --retry-ms %ums", num, r->retry_ms);
    }
    /* every simulated user holds a connection; leave room for the runner's own */
    if (rc == 0 && r->clients + 1000u > SERVER_DEFAULT_MAXCONN)
        rc = dynbuf_addf(out, " --max-connections %u", r->clients + 1000u);
    return rc;
}

int scenario_client_args(const struct scenario_run *r, struct dynbuf *out)
{
    char dur[32], warm[32];
    int rc = dynbuf_addf(out, "--approach %s", kind_names[r->kind]);
    if (rc == 0 && r->kind == SCENARIO_SHORT)
        rc = dynbuf_addf(out, " --poll %s --interval %ums", poll_names[r->poll],
                         r->interval_ms);
    if (rc == 0 && r->kind == SCENARIO_LONG)
        rc = dynbuf_addf(out, " --longpoll-timeout %us", r->timeout_s);
    fmt_num(dur, sizeof(dur), r->duration_s);
    fmt_num(warm, sizeof(warm), r->warmup_s);
    if (rc == 0)
        rc = dynbuf_addf(out, " --clients %u --duration %ss --warmup %ss", r->clients, dur,
                         warm);
    if (rc == 0)
        rc = dynbuf_addf(out, " --headers %s --cookie-bytes %u --seed %llu", r->headers,
                         r->cookie_bytes, (unsigned long long)r->seed);
    return rc;
}

int scenario_link_args(const struct scenario_run *r, struct dynbuf *out)
{
    const struct scenario_network *n = &r->network;
    char num[32];
    if (!n->link)
        return 0;
    /* the delay always, so a run at 0 in a sweep still names the link it went through */
    fmt_num(num, sizeof(num), n->delay_ms);
    int rc = dynbuf_addf(out, "--delay %sms", num);
    if (rc == 0 && n->jitter_ms > 0) {
        fmt_num(num, sizeof(num), n->jitter_ms);
        rc = dynbuf_addf(out, " --jitter %sms --seed %llu", num,
                         (unsigned long long)r->seed);
    }
    if (rc == 0 && n->rate_kbit > 0)
        rc = dynbuf_addf(out, " --rate %llukbit", (unsigned long long)n->rate_kbit);
    if (rc == 0 && n->drop_every_s > 0) {
        fmt_num(num, sizeof(num), n->drop_every_s);
        rc = dynbuf_addf(out, " --drop-every %ss", num);
    }
    if (rc == 0 && n->idle_timeout_s > 0) {
        fmt_num(num, sizeof(num), n->idle_timeout_s);
        rc = dynbuf_addf(out, " --idle-timeout %ss", num);
    }
    if (rc == 0 && n->buffer_bytes > 0)
        rc = dynbuf_addf(out, " --buffer %llu", (unsigned long long)n->buffer_bytes);
    if (rc == 0 && n->handshake)
        rc = dynbuf_adds(out, " --handshake");
    /* every simulated user holds a connection through it, and so does the observer */
    if (rc == 0 && r->clients + 1000u > LINK_MAXCONN)
        rc = dynbuf_addf(out, " --max-connections %u", r->clients + 1000u);
    return rc;
}

int scenario_restart_args(const struct scenario_run *r, struct dynbuf *out)
{
    const struct scenario_restart *rs = &r->restart;
    char at[32], down[32];
    if (!rs->on)
        return 0;
    /* the runner counts from the client's start, which is warmup_s before the window */
    fmt_num(at, sizeof(at), r->warmup_s + rs->at_s);
    fmt_num(down, sizeof(down), rs->down_s);
    return dynbuf_addf(out, "at=%s down=%s feed=%s", at, down,
                       feed_names[rs->durable ? FEED_FILE : 0]);
}

int scenario_plan_line(const struct scenario_run *r, struct dynbuf *out)
{
    if (dynbuf_addf(out, "%s\t", r->id) != 0 || scenario_server_args(r, out) != 0 ||
        dynbuf_adds(out, "\t") != 0 || scenario_client_args(r, out) != 0 ||
        dynbuf_adds(out, "\t") != 0 || scenario_link_args(r, out) != 0 ||
        dynbuf_adds(out, "\t") != 0 || scenario_restart_args(r, out) != 0)
        return -1;
    return 0;
}

double scenario_run_estimate_s(const struct scenario_run *r)
{
    double drain = r->kind == SCENARIO_SHORT ? r->interval_ms / 1000.0 + 1.0 : 1.0;
    double restart = r->restart.on ? r->restart.down_s + 1.0 : 0; /* the second start */
    return r->warmup_s + r->duration_s + drain + 1.0 + restart;
}
