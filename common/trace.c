/* trace.c: the trace parser (see trace.h for the format).
 *
 * A line is one of: blank (skipped), the header "t_s" (first line only), or an offset.
 * An offset is read by units_parse_number, which takes the whole string (digits first,
 * no sign, no unit, no hex, no inf or nan), then held against TRACE_MAX_S and the
 * previous offset, and kept in nanoseconds, rounded. The first problem ends the parse:
 * the line's number and first bytes, and what was expected, for the caller to word.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "units.h"

static int problem_at(struct trace_problem *p, size_t line, const char *text, size_t n,
                      const char *why)
{
    p->line = line;
    p->why = why;
    size_t k = strnlen(text, n);
    if (k > sizeof(p->text) - 1)
        k = sizeof(p->text) - 1;
    memcpy(p->text, text, k);
    p->text[k] = '\0';
    return -1;
}

int trace_parse(const char *text, size_t len, int64_t **offsets_ns, size_t *n,
                struct trace_problem *problem)
{
    int64_t *v = NULL;
    size_t count = 0, cap = 0, line = 0;
    double prev = 0;
    const char *p = text, *end = text + len;
    *offsets_ns = NULL;
    *n = 0;
    memset(problem, 0, sizeof(*problem));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t k = (size_t)(stop - p);
        if (k && p[k - 1] == '\r')
            k--;
        line++;
        char word[TRACE_LINE_MAX + 1];
        double s;
        if (memchr(p, '\0', k)) {
            problem_at(problem, line, p, k, "text without NUL bytes");
            goto fail;
        }
        if (k > TRACE_LINE_MAX) {
            problem_at(problem, line, p, k, "a line of at most 64 bytes");
            goto fail;
        }
        memcpy(word, p, k);
        word[k] = '\0';
        if (k == 0 || (line == 1 && strcmp(word, "t_s") == 0)) {
            /* a blank line, or the header */
        } else if (units_parse_number(word, &s) != 0) {
            problem_at(problem, line, p, k, "a number of seconds");
            goto fail;
        } else if (s > TRACE_MAX_S) {
            problem_at(problem, line, p, k, "at most 1e9 seconds");
            goto fail;
        } else if (s < prev) {
            problem_at(problem, line, p, k, "no fewer seconds than the line before");
            goto fail;
        } else {
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                int64_t *nv = realloc(v, ncap * sizeof(*nv));
                if (!nv) {
                    problem->why = NULL; /* out of memory */
                    goto fail;
                }
                v = nv;
                cap = ncap;
            }
            v[count++] = (int64_t)llround(s * 1e9);
            prev = s;
        }
        p = nl ? nl + 1 : end;
    }
    if (count == 0) {
        problem->why = "at least one publish time";
        goto fail;
    }
    *offsets_ns = v;
    *n = count;
    return 0;
fail:
    free(v);
    return -1;
}

/* The whole regular file at path into *out (NUL-terminated; the caller frees). */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    int rc = -1;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO cannot hang us */
    struct stat st;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "fstat %s: %s", path, strerror(errno));
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto end;
    }
    if ((uint64_t)st.st_size > TRACE_MAX_BYTES) {
        snprintf(err, errlen, "%s: %lld bytes, more than the %zu a trace may have", path,
                 (long long)st.st_size, TRACE_MAX_BYTES);
        goto end;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto end;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "read %s: %s", path, strerror(errno));
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

int trace_load(const char *path, int64_t **offsets_ns, size_t *n,
               struct trace_problem *problem, char *err, size_t errlen)
{
    struct trace_problem mine;
    struct trace_problem *p = problem ? problem : &mine;
    char *text = NULL;
    size_t len = 0;
    memset(p, 0, sizeof(*p));
    *offsets_ns = NULL;
    *n = 0;
    if (read_file(path, &text, &len, err, errlen) != 0)
        return -1;
    int rc = trace_parse(text, len, offsets_ns, n, p);
    free(text);
    if (rc == 0)
        return 0;
    if (!p->why)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (p->line > 0)
        snprintf(err, errlen, "%s:%zu: expected %s, got \"%s\"", path, p->line, p->why,
                 p->text);
    else
        snprintf(err, errlen, "%s: expected %s", path, p->why);
    return -1;
}
