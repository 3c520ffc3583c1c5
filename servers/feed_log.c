/* feed_log.c: the durable feed's file (see feed_log.h).
 *
 * Format: one line per update, exactly the JSON the feed rendered at publish,
 *   {"seq":N,"ts_ns":T,"data":"..."}
 * so a line is both the record and the text served, and reloading re-renders nothing.
 * Lines must count up from 1 without gaps. A last line without its newline is the trace
 * of a write cut short by a crash: it is dropped (truncated away) and said so; anything
 * else malformed stops the server, since serving from a damaged log would break cursors.
 *
 * Each update is one writev() to a file opened O_APPEND, so a process restart loses
 * nothing; there is no fsync per update, so a machine crash can lose the last ones the
 * kernel had not written yet (a lab's feed is not a bank's ledger).
 */
#include "feed_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "dynbuf.h"

/* Read `"key":<digits>` at *p, advancing past it. 0 or -1. */
static int read_field(const char **p, const char *key, unsigned long long *out)
{
    size_t klen = strlen(key);
    if (strncmp(*p, key, klen) != 0)
        return -1;
    const char *q = *p + klen;
    if (*q < '0' || *q > '9')
        return -1;
    char *end;
    errno = 0;
    *out = strtoull(q, &end, 10);
    if (errno != 0)
        return -1;
    *p = end;
    return 0;
}

/* Check one line and hand it to the feed. 0 or -1 with err set. The line is served to
 * clients verbatim, so it must be exactly the shape the feed writes: valid JSON (cJSON
 * checks), the three members in order, a stamp that fits int64 and does not go back. */
static int load_line(struct feed *f, const char *path, size_t lineno, const char *line,
                     size_t len, int64_t *last_ts, char *err, size_t errlen)
{
    const char *p = line;
    unsigned long long seq, ts;
    cJSON *doc = cJSON_ParseWithLength(line, len);
    bool ok = doc && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "data")) &&
              cJSON_GetArraySize(doc) == 3 && read_field(&p, "{\"seq\":", &seq) == 0 &&
              read_field(&p, ",\"ts_ns\":", &ts) == 0 &&
              strncmp(p, ",\"data\":\"", 9) == 0 && ts <= INT64_MAX &&
              (int64_t)ts >= *last_ts;
    cJSON_Delete(doc);
    if (!ok) {
        snprintf(err, errlen,
                 "%s:%zu: expected {\"seq\":N,\"ts_ns\":T,\"data\":\"...\"} with T not "
                 "before the line above",
                 path, lineno);
        return -1;
    }
    *last_ts = (int64_t)ts;
    if (feed_restore(f, seq, (int64_t)ts, line, len) != 0) {
        snprintf(err, errlen, "%s:%zu: expected seq %zu, got %llu", path, lineno, lineno,
                 seq);
        return -1;
    }
    return 0;
}

int feed_log_open(struct feed *f, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "--feed-file: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    FILE *in = fdopen(dup(fd), "r");
    if (!in) {
        snprintf(err, errlen, "--feed-file: %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    off_t good = 0;      /* bytes of complete lines */
    int64_t last_ts = 0; /* the previous line's stamp */
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, in)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') {
            fprintf(stderr,
                    "pushpull-server: %s:%zu: dropping an incomplete last line "
                    "(a write cut short)\n",
                    path, lineno);
            break;
        }
        rc = load_line(f, path, lineno, line, (size_t)n - 1, &last_ts, err, errlen);
        good += n;
    }
    free(line);
    fclose(in);
    if (rc == 0 && ftruncate(fd, good) != 0) {
        snprintf(err, errlen, "--feed-file: truncating %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    feed_attach_log(f, fd);
    return fd;
}
