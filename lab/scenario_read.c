/* scenario_read.c: read and validate a scenario file (see scenario.h,
 * scenarios/README.md).
 *
 * In cJSON's parse-validate-extract style: the text is parsed whole, then every object is
 * walked in schema order. Each object's keys are first checked against the fields it may
 * have (an unknown or repeated key is an error, never ignored), then each field is
 * type-checked and range-checked before its value is copied out (lab/fields.c). The
 * scenario's own numeric fields are described once, in `scenario_specs`; an entry of
 * "approaches" is checked against its row of the approach table (lab/approach.h), which
 * lists the settings that kind may have and describes each the same way. The first
 * problem found ends the load with one line naming the file, the field path and what was
 * expected. What is read is then expanded into runs by scenario_expand.c.
 */
#include "scenario_impl.h"

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

#define MAX_SCENARIO_BYTES ((size_t)1 << 20)
#define MAX_NAME_CHARS     64
#define MAX_DESCRIPTION    16384
#define N_OF(a)            (sizeof(a) / sizeof((a)[0]))

/* ---- the scenario's fields --------------------------------------------------------- */

const struct field_spec scenario_specs[F_COUNT] = {
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
    /* not a number either: indices into scenario_protocol_names */
    [F_PROTOCOL] = {"protocol", 0, SCENARIO_N_PROTOCOLS - 1, false, false, true, true,
                    false, 0, "\"http1\", \"http1-front\", \"https1\", \"h2c\" or \"h2\""},
    /* a shard of the client's event loop is the most one connection may be shared by */
    [F_UPC] = {"users_per_connection", 1, 64, false, false, true, true, false, 1,
               "a whole number from 1 to 64"},
    /* the client's own limits (--send-rate, --send-bytes) */
    [F_SEND_RATE] = {"send_rate_hz", 0, 1000, false, false, false, true, false, 0,
                     "a number of messages per second from 0 (none) to 1000"},
    [F_SEND_BYTES] = {"send_bytes", 64, 65000, false, false, true, true, false, 100,
                      "a whole number of bytes from 64 to 65000"},
};

const enum field scenario_network_ids[N_NETWORK] = {F_DELAY, F_JITTER, F_RATE_KBIT,
                                                    F_DROP,  F_IDLE,   F_BUFFER};
const enum field scenario_restart_ids[N_RESTART] = {F_AT, F_DOWN, F_FEED};
const char *const scenario_feed_names[2] = {"memory", "file"};
const char *const scenario_protocol_names[SCENARIO_N_PROTOCOLS] = {"http1", "http1-front",
                                                                   "https1", "h2c", "h2"};
const enum field scenario_message_ids[N_MESSAGES] = {F_SEND_RATE, F_SEND_BYTES};
const char *const scenario_send_modes[2] = {"poisson", "periodic"};

const char *scenario_client_protocol(enum scenario_protocol p)
{
    return p == SCENARIO_HTTP1_FRONT ? "http1" : scenario_protocol_names[p];
}

static const char *const process_names[] = {"periodic", "poisson", "burst", "trace"};
static const char *const root_fields[] = {"name",
                                          "description",
                                          "duration_s",
                                          "warmup_s",
                                          "seed",
                                          "clients",
                                          "updates",
                                          "messages",
                                          "headers",
                                          "approaches",
                                          "network",
                                          "restart",
                                          "target",
                                          "radio",
                                          "quick",
                                          "protocol",
                                          "users_per_connection",
                                          "feed",
                                          "instances",
                                          "partitions",
                                          "balancer",
                                          "hosts",
                                          "instance_crash"};
static const char *const updates_fields[] = {"process", "rate_hz", "burst_size",
                                             "payload_bytes", "trace"};
static const char *const headers_fields[] = {"profile", "cookie_bytes"};
/* the numeric ones are scenario_network_ids; "handshake" is a boolean */
static const char *const network_fields[] = {
    "delay_ms",       "jitter_ms",    "rate_kbit", "drop_every_s",
    "idle_timeout_s", "buffer_bytes", "handshake"};
static const char *const restart_fields[] = {"at_s", "down_s", "feed"};
static const char *const messages_fields[] = {"send_rate_hz", "send_bytes", "send_mode"};
_Static_assert(N_OF(root_fields) <= FIELDS_MAX_KEYS, "fields_check_keys counts 32 keys");

/* ---- the sections ---------------------------------------------------------------- */

static int parse_name_description(struct fields_ctx *c, const cJSON *root,
                                  struct scenario *s)
{
    static const char name_expect[] = "a name of 1 to 64 characters from a-z, 0-9 and -";
    static const char desc_expect[] = "a non-empty string of at most 16384 bytes";
    const char *name, *desc;
    if (fields_get_string(c, root, "", "name", true, name_expect, &name) < 0)
        return -1;
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME_CHARS ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
        return fields_fail_expected(c, "name", name_expect,
                                    cJSON_GetObjectItemCaseSensitive(root, "name"));
    if (fields_get_string(c, root, "", "description", true, desc_expect, &desc) < 0)
        return -1;
    if (desc[0] == '\0' || strlen(desc) > MAX_DESCRIPTION)
        return fields_fail_expected(c, "description", desc_expect,
                                    cJSON_GetObjectItemCaseSensitive(root, "description"));
    s->name = strdup(name);
    s->description = strdup(desc);
    if (!s->name || !s->description) {
        snprintf(c->err, c->errlen, "%s: strdup: out of memory", c->file);
        return -1;
    }
    return 0;
}

static int parse_updates(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char obj_expect[] = "an object with process and rate_hz";
    static const char proc_expect[] = "\"periodic\", \"poisson\", \"burst\" or \"trace\"";
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "updates");
    if (!u)
        return fields_fail_missing(c, "updates", obj_expect);
    if (!cJSON_IsObject(u))
        return fields_fail_expected(c, "updates", obj_expect, u);
    if (fields_check_keys(c, u, "updates", updates_fields, N_OF(updates_fields), "") != 0)
        return -1;
    int proc;
    if (fields_get_enum(c, u, "updates", "process", true, process_names,
                        N_OF(process_names), proc_expect, 0, &proc) != 0)
        return -1;
    s->process = (enum scenario_process)proc;

    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(u, "rate_hz");
    const cJSON *burst = cJSON_GetObjectItemCaseSensitive(u, "burst_size");
    const cJSON *trace = cJSON_GetObjectItemCaseSensitive(u, "trace");
    if (s->process == SCENARIO_TRACE) {
        if (rate)
            return fields_fail_expected(
                c, "updates.rate_hz",
                "no value with process \"trace\" (the trace sets the times)", rate);
    } else {
        if (fields_get_sweep(c, u, "updates", &scenario_specs[F_RATE], &s->rate_hz) < 0)
            return -1;
        if (trace)
            return fields_fail_expected(c, "updates.trace",
                                        "no value unless process is \"trace\"", trace);
    }
    if (burst && s->process != SCENARIO_BURST)
        return fields_fail_expected(c, "updates.burst_size",
                                    "no value unless process is \"burst\"", burst);
    double v;
    if (fields_get_scalar(c, u, "updates", &scenario_specs[F_BURST], &v) < 0)
        return -1;
    s->burst_size = s->process == SCENARIO_BURST ? (uint32_t)v : 0;
    if (fields_get_scalar(c, u, "updates", &scenario_specs[F_PAYLOAD], &v) < 0)
        return -1;
    s->payload_bytes = (uint64_t)v;

    if (s->process == SCENARIO_TRACE) {
        const char *path;
        int r = fields_get_string(c, u, "updates", "trace", false,
                                  "the path of a CSV of publish times", &path);
        if (r < 0)
            return -1;
        if (r == 0)
            return fields_fail_missing(
                c, "updates.trace",
                "the path of a CSV of publish times, which process \"trace\" "
                "needs");
        if (scenario_resolve_path(c, "updates.trace", path, &s->trace) != 0)
            return -1;
        if (!(c->flags & SCENARIO_NO_FILES) &&
            scenario_check_trace(c, "updates.trace", path, s->trace) != 0)
            return -1;
    }
    return 0;
}

/* "messages": what each user sends up (client --send-rate, --send-bytes, --send-mode).
 * Absent, the users only read. */
static int parse_messages(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char mode_expect[] = "\"poisson\" or \"periodic\"";
    const cJSON *m;
    if (fields_get_object(c, root, "messages",
                          "an object with send_rate_hz, send_bytes and send_mode", &m) != 0)
        return -1;
    for (size_t i = 0; i < N_MESSAGES; i++) {
        const struct field_spec *sp = &scenario_specs[scenario_message_ids[i]];
        memset(&s->messages[i], 0, sizeof(s->messages[i]));
        s->messages[i].v[0] = sp->def;
        s->messages[i].n = 1;
    }
    s->send_mode = 0;
    if (!m)
        return 0;
    if (fields_check_keys(c, m, "messages", messages_fields, N_OF(messages_fields), "") !=
        0)
        return -1;
    for (size_t i = 0; i < N_MESSAGES; i++)
        if (fields_get_sweep(c, m, "messages", &scenario_specs[scenario_message_ids[i]],
                             &s->messages[i]) < 0)
            return -1;
    int mode;
    if (fields_get_enum(c, m, "messages", "send_mode", false, scenario_send_modes,
                        N_OF(scenario_send_modes), mode_expect, 0, &mode) != 0)
        return -1;
    s->send_mode = (unsigned)mode;
    return 0;
}

static int parse_headers(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char prof_expect[] =
        "\"minimal\", \"browser\" or the path of a file of header lines";
    const cJSON *h;
    const char *prof = "minimal";
    double v = 0;
    if (fields_get_object(c, root, "headers", "an object with profile and cookie_bytes",
                          &h) != 0)
        return -1;
    if (h) {
        if (fields_check_keys(c, h, "headers", headers_fields, N_OF(headers_fields), "") !=
            0)
            return -1;
        const char *got;
        int r = fields_get_string(c, h, "headers", "profile", false, prof_expect, &got);
        if (r < 0)
            return -1;
        if (r > 0)
            prof = got;
        if (fields_get_scalar(c, h, "headers", &scenario_specs[F_COOKIE], &v) < 0)
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
    if (scenario_resolve_path(c, "headers.profile", prof, &s->headers) != 0)
        return -1;
    if (!(c->flags & SCENARIO_NO_FILES) &&
        scenario_check_profile(c, "headers.profile", prof, s->headers) != 0)
        return -1;
    return 0;
}

static int parse_network(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    const cJSON *n;
    if (fields_get_object(c, root, "network", "an object of link settings", &n) != 0)
        return -1;
    for (size_t i = 0; i < N_NETWORK; i++) {
        memset(&s->network[i], 0, sizeof(s->network[i]));
        s->network[i].n = 1; /* every default is 0: no link */
    }
    if (!n)
        return 0;
    if (fields_check_keys(c, n, "network", network_fields, N_OF(network_fields), "") != 0)
        return -1;
    for (size_t i = 0; i < N_NETWORK; i++)
        if (fields_get_sweep(c, n, "network", &scenario_specs[scenario_network_ids[i]],
                             &s->network[i]) < 0)
            return -1;
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(n, "handshake");
    if (hs && !cJSON_IsBool(hs))
        return fields_fail_expected(c, "network.handshake", "true or false", hs);
    s->handshake = cJSON_IsTrue(hs);
    return 0;
}

/* The index of a JSON value in names[n], or n if it names none of them. */
static size_t name_index(const cJSON *it, const char *const *names, size_t n)
{
    if (!cJSON_IsString(it))
        return n;
    return fields_find_name(names, n, it->valuestring);
}

/* A word field (restart.feed, protocol): one of names[n], or a list of distinct ones (a
 * sweep, like the numeric lists). The values stored are indices into names; absent, the
 * first name. */
static int parse_words(struct fields_ctx *c, const cJSON *obj, const char *path,
                       enum field f, const char *const *names, size_t n_names,
                       struct sweep *out)
{
    const struct field_spec *sp = &scenario_specs[f];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, sp->name);
    char expect[96];
    snprintf(expect, sizeof(expect), "%s (or a list of them)", sp->expect);
    memset(out, 0, sizeof(*out));
    out->n = 1; /* v[0] == 0: the first name ("memory", "http1") */
    if (!it)
        return 0;
    if (!cJSON_IsArray(it)) {
        size_t k = name_index(it, names, n_names);
        if (k == n_names)
            return fields_fail_expected(c, path, expect, it);
        out->v[0] = (double)k;
        return 0;
    }
    if (!it->child)
        return fields_fail_expected(c, path, expect, it); /* says "an empty list" */
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        char p[FIELDS_PATH];
        fields_path_index(p, sizeof(p), path, i);
        size_t k = name_index(e, names, n_names);
        if (k == n_names)
            return fields_fail_expected(c, p, sp->expect, e);
        /* with n_names <= FIELDS_MAX_SWEEP, an element past them is always a repeat:
         * v[] never overflows */
        for (size_t j = 0; j < i; j++)
            if (out->v[j] == (double)k)
                return fields_fail_expected(c, p, "a value not already in the list", e);
        out->v[i] = (double)k;
    }
    out->n = i;
    out->listed = true;
    return 0;
}

static int parse_restart(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    const cJSON *r;
    if (fields_get_object(c, root, "restart", "an object with at_s, down_s and feed", &r) !=
        0)
        return -1;
    for (size_t i = 0; i < N_RESTART; i++) {
        memset(&s->restart[i], 0, sizeof(s->restart[i]));
        s->restart[i].v[0] = scenario_specs[scenario_restart_ids[i]].def;
        s->restart[i].n = 1; /* one run per approach when there is no restart */
    }
    if (!r)
        return 0;
    s->restart_on = true;
    if (fields_check_keys(c, r, "restart", restart_fields, N_OF(restart_fields), "") != 0)
        return -1;
    if (fields_get_sweep(c, r, "restart", &scenario_specs[F_AT], &s->restart[0]) < 0 ||
        fields_get_sweep(c, r, "restart", &scenario_specs[F_DOWN], &s->restart[1]) < 0 ||
        parse_words(c, r, "restart.feed", F_FEED, scenario_feed_names,
                    N_OF(scenario_feed_names), &s->restart[2]) != 0)
        return -1;
    return 0;
}

/* "protocol" (a word, or a list of them) and "users_per_connection". */
static int parse_protocol(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    _Static_assert(SCENARIO_N_PROTOCOLS <= FIELDS_MAX_SWEEP, "parse_words' list");
    if (parse_words(c, root, "protocol", F_PROTOCOL, scenario_protocol_names,
                    SCENARIO_N_PROTOCOLS, &s->protocol) != 0 ||
        fields_get_sweep(c, root, "", &scenario_specs[F_UPC], &s->upc) < 0)
        return -1;
    return 0;
}
static int parse_root(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    if (!cJSON_IsObject(root)) {
        char got[FIELDS_GOT];
        fields_describe(root, got, sizeof(got));
        snprintf(c->err, c->errlen, "%s: expected an object at the top level, got %s",
                 c->file, got);
        return -1;
    }
    if (fields_check_keys(c, root, "", root_fields, N_OF(root_fields), "") != 0)
        return -1;
    if (parse_name_description(c, root, s) != 0)
        return -1;
    double seed;
    if (fields_get_scalar(c, root, "", &scenario_specs[F_DURATION], &s->duration_s) < 0)
        return -1;
    int warmup = fields_get_scalar(c, root, "", &scenario_specs[F_WARMUP], &s->warmup_s);
    if (warmup < 0 || fields_get_scalar(c, root, "", &scenario_specs[F_SEED], &seed) < 0 ||
        fields_get_sweep(c, root, "", &scenario_specs[F_CLIENTS], &s->clients) < 0)
        return -1;
    s->seed = (uint64_t)seed;
    s->warmup_given = warmup > 0;
    if (parse_updates(c, root, s) != 0 || parse_messages(c, root, s) != 0 ||
        parse_headers(c, root, s) != 0 || scenario_parse_approaches(c, root, s) != 0 ||
        parse_network(c, root, s) != 0 || parse_restart(c, root, s) != 0 ||
        parse_protocol(c, root, s) != 0 || scenario_parse_feed(c, root, s) != 0 ||
        scenario_parse_scale(c, root, s) != 0 || scenario_parse_target(c, root, s) != 0 ||
        scenario_parse_radio(c, root, s) != 0 || scenario_parse_quick(c, root, s) != 0)
        return -1;
    s->full_duration_s = s->duration_s;
    s->full_rate_hz = s->rate_hz.n ? s->rate_hz.v[0] : 0;
    return 0;
}

/* ---- syntax errors --------------------------------------------------------------- */

/* "FILE: line L, column C: expected valid JSON, got ..." for cJSON's error position (or
 * a NUL byte's); columns count bytes from 1. */
static void syntax_error(struct fields_ctx *c, const char *text, size_t len, const char *at)
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
    char got[FIELDS_GOT] = "\"";
    if (off >= len) {
        snprintf(got, sizeof(got), "the end of the file");
    } else if (text[off] == '\0') {
        snprintf(got, sizeof(got), "a NUL byte");
    } else {
        char near[24];
        size_t k = len - off < sizeof(near) - 1 ? len - off : sizeof(near) - 1;
        memcpy(near, text + off, k);
        near[k] = '\0';
        fields_append_escaped(got, sizeof(got) - 1, near, 16);
        fields_append_text(got, sizeof(got), "\"");
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
    struct fields_ctx c = {name, base_dir ? base_dir : "", flags, err, errlen};
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
    if (fields_check_strings(&c, copy, len) != 0)
        goto end;
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "%s: calloc: %s", name, strerror(errno));
        goto end;
    }
    if (parse_root(&c, root, s) != 0 || scenario_expand(&c, s) != 0 ||
        scenario_check_fit(&c, s) != 0)
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
    char why[FIELDS_PATH + 64];
    *out = NULL;
    if (scenario_read_file(path, MAX_SCENARIO_BYTES, &text, &len, why, sizeof(why)) != 0) {
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

bool scenario_quick(const struct scenario *s)
{
    return s->quick;
}

double scenario_time_compression(const struct scenario *s)
{
    if (!s->quick || s->process == SCENARIO_TRACE || s->rate_hz.n == 0 ||
        !(s->full_rate_hz > 0))
        return 1;
    return s->rate_hz.v[0] / s->full_rate_hz;
}

double scenario_full_duration_s(const struct scenario *s)
{
    return s->full_duration_s;
}

const char *scenario_warning(const struct scenario *s)
{
    return s->warning;
}
