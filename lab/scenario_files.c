/* scenario_files.c: the files a scenario names: the scenario file itself, a trace of
 * publish times, a file of request headers. Each is read whole (bounded) when the
 * scenario loads, so a missing or malformed one fails before anything runs, with the
 * field that named it.
 */
#include "scenario_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace.h"

#define MAX_PROFILE_BYTES ((size_t)64 << 10) /* the client's own limit */

/* Read a regular file of at most max bytes into a NUL-terminated buffer (*out, the
 * caller frees). On failure returns -1 with why[] saying what went wrong (the failed call
 * and strerror(errno); the caller names the file). Opens with O_NONBLOCK so a FIFO cannot
 * hang the loader. */
int scenario_read_file(const char *path, size_t max, char **out, size_t *len, char *why,
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

/* A path travels as one argv word (never through a shell), so any byte will do but the
 * control characters, which would break the one-line messages and logs that quote it. */
static bool path_is_printable(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Resolve a path field against the base directory and check its spelling; the resolved
 * path goes to *out (the caller frees). */
int scenario_resolve_path(struct fields_ctx *c, const char *path, const char *value,
                          char **out)
{
    char got[FIELDS_GOT + 32] = "\"";
    *out = NULL;
    if (value[0] == '\0')
        return fields_fail_got(c, path, "a path, not an empty string", "\"\"");
    char *full = resolve_path(c->base_dir, value);
    if (!full) {
        snprintf(c->err, c->errlen, "%s: %s: strdup: out of memory", c->file, path);
        return -1;
    }
    if (!path_is_printable(full)) {
        fields_append_escaped(got, sizeof(got) - 1, full, 80);
        fields_append_text(got, sizeof(got), "\"");
        free(full);
        return fields_fail_got(c, path, "a path without control characters", got);
    }
    *out = full;
    return 0;
}

/* The trace must be one the server accepts: it is parsed by the server's own parser
 * (common/trace.c). */
int scenario_check_trace(struct fields_ctx *c, const char *path, const char *value,
                         const char *full)
{
    static const char expect[] =
        "a CSV of publish offsets in seconds (optional header t_s, then one number from 0 "
        "to 1e9 per line, never decreasing; blank lines allowed)";
    char why[FIELDS_PATH + 64], got[FIELDS_GOT + FIELDS_PATH + 160] = "\"";
    char *text = NULL;
    size_t len = 0;
    if (scenario_read_file(full, TRACE_MAX_BYTES, &text, &len, why, sizeof(why)) != 0) {
        fields_append_escaped(got, sizeof(got) - 1, value, 80);
        size_t gl = strlen(got);
        snprintf(got + gl, sizeof(got) - gl, "\" (%s: %s)", full, why);
        return fields_fail_got(c, path, "a readable CSV of publish times", got);
    }
    int64_t *offsets = NULL;
    size_t n = 0;
    struct trace_problem p;
    int rc = trace_parse(text, len, &offsets, &n, &p);
    free(text);
    free(offsets);
    if (rc == 0)
        return 0;
    if (!p.why)
        return fields_fail_memory(c, full);
    if (p.line == 0) {
        snprintf(got, sizeof(got), "no publish times in %s", full);
    } else {
        fields_append_escaped(got, sizeof(got) - 1, p.text, 40);
        size_t gl = strlen(got);
        snprintf(got + gl, sizeof(got) - gl, "\" on line %zu of %s (expected %s there)",
                 p.line, full, p.why);
    }
    return fields_fail_got(c, path, expect, got);
}

int scenario_check_profile(struct fields_ctx *c, const char *path, const char *value,
                           const char *full)
{
    char why[FIELDS_PATH + 64], got[FIELDS_GOT + FIELDS_PATH + 96] = "\"";
    char *text = NULL;
    size_t len = 0;
    if (scenario_read_file(full, MAX_PROFILE_BYTES, &text, &len, why, sizeof(why)) == 0) {
        free(text);
        return 0;
    }
    fields_append_escaped(got, sizeof(got) - 1, value, 80);
    size_t gl = strlen(got);
    snprintf(got + gl, sizeof(got) - gl, "\" (%s: %s)", full, why);
    return fields_fail_got(
        c, path, "\"minimal\", \"browser\" or a readable file of header lines", got);
}
