/* traffic_log.c: each user's bursts of bytes into traffic.csv (see traffic_log.h for the
 * format, the bursts and the bounds).
 *
 * A note costs a few comparisons on the hot path: it joins the user's open burst, or
 * turns it into a row of text in the thread's buffer. The buffer goes to the file with
 * one write() under the log's lock when it fills (a 64 KiB write every two thousand rows
 * or so), so threads never wait on each other between flushes. The row cap is checked
 * at the flush, under the same lock, so it is exact across threads.
 */
#include "traffic_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRAFFIC_HEADER  "user,t_ms,bytes_up,bytes_down\n"
#define TRAFFIC_ROW_MAX 96 /* the longest row: 10 + 21 + 20 + 20 digits and signs */

/* Write all of buf to fd. 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int traffic_log_open(struct traffic_log *log, const char *dir, uint64_t max_rows,
                     int64_t w0, int64_t w1, char *err, size_t errlen)
{
    memset(log, 0, sizeof(*log));
    log->fd = -1;
    log->max_rows = max_rows;
    log->w0 = w0;
    log->w1 = w1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, TRAFFIC_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (write_all(fd, TRAFFIC_HEADER, strlen(TRAFFIC_HEADER)) != 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    pthread_mutex_init(&log->lock, NULL);
    log->fd = fd;
    log->on = true;
    return 0;
}

int traffic_log_close(struct traffic_log *log, char *err, size_t errlen)
{
    if (!log->on)
        return 0;
    int rc = 0;
    if (close(log->fd) != 0 && log->write_errno == 0)
        log->write_errno = errno;
    if (log->write_errno != 0) {
        snprintf(err, errlen, "write %s: %s", TRAFFIC_FILE, strerror(log->write_errno));
        rc = -1;
    }
    pthread_mutex_destroy(&log->lock);
    log->fd = -1;
    log->on = false;
    return rc;
}

/* ---- a thread's writer -------------------------------------------------------------- */

int traffic_writer_init(struct traffic_writer *wr, struct traffic_log *log, uint32_t nslots,
                        char *err, size_t errlen)
{
    memset(wr, 0, sizeof(*wr));
    wr->log = log;
    wr->bursts = calloc(nslots ? nslots : 1, sizeof(*wr->bursts));
    wr->buf = malloc(TRAFFIC_BUF_BYTES);
    if (!wr->bursts || !wr->buf) {
        snprintf(err, errlen, "traffic.csv: out of memory for %u users' bursts", nslots);
        return -1;
    }
    wr->nslots = nslots;
    return 0;
}

void traffic_writer_free(struct traffic_writer *wr)
{
    free(wr->bursts);
    free(wr->buf);
    memset(wr, 0, sizeof(*wr));
}

/* The buffer's rows to the file, as many as the cap still allows; the rest are counted
 * as dropped. */
static void flush(struct traffic_writer *wr)
{
    struct traffic_log *log = wr->log;
    pthread_mutex_lock(&log->lock);
    uint64_t room = log->max_rows > log->rows ? log->max_rows - log->rows : 0;
    uint64_t keep = log->write_errno ? 0 : wr->buf_rows < room ? wr->buf_rows : room;
    size_t bytes = wr->len;
    if (keep < wr->buf_rows) { /* the cap falls inside this buffer: up to its row */
        const char *p = wr->buf;
        for (uint64_t i = 0; i < keep; i++)
            p = (const char *)memchr(p, '\n', (size_t)(wr->buf + wr->len - p)) + 1;
        bytes = (size_t)(p - wr->buf);
    }
    if (keep > 0 && write_all(log->fd, wr->buf, bytes) != 0) {
        log->write_errno = errno;
        keep = 0;
    }
    log->rows += keep;
    log->dropped += wr->buf_rows - keep + wr->lost;
    pthread_mutex_unlock(&log->lock);
    wr->len = 0;
    wr->buf_rows = 0;
    wr->lost = 0;
}

/* A burst's start as whole microseconds from the window's start, on the side of the
 * window's edges its bytes were counted on (traffic_log.h). */
static int64_t row_time_us(const struct traffic_log *log, const struct traffic_burst *b)
{
    int64_t rel = b->start_ns - log->w0;
    int64_t us = rel >= 0 ? rel / NS_PER_US : -((-rel + NS_PER_US - 1) / NS_PER_US);
    int64_t win = (log->w1 - log->w0) / NS_PER_US;
    if (b->in_window)
        return us < 0 ? 0 : us >= win ? win - 1 : us;
    if (us >= 0 && us < win)
        return us < win - us ? -1 : win;
    return us;
}

/* The burst becomes a row in the buffer. */
static void emit(struct traffic_writer *wr, struct traffic_burst *b)
{
    if (wr->len + TRAFFIC_ROW_MAX > TRAFFIC_BUF_BYTES)
        flush(wr);
    int64_t us = row_time_us(wr->log, b);
    uint64_t mag = us < 0 ? (uint64_t)(-us) : (uint64_t)us;
    int n = snprintf(wr->buf + wr->len, TRAFFIC_BUF_BYTES - wr->len,
                     "%" PRIu32 ",%s%" PRIu64 ".%03" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                     b->user, us < 0 ? "-" : "", mag / 1000, mag % 1000, b->up, b->down);
    if (n > 0 && (size_t)n < TRAFFIC_BUF_BYTES - wr->len) {
        wr->len += (size_t)n;
        wr->buf_rows++;
    } else {
        wr->lost++; /* cannot happen: TRAFFIC_ROW_MAX holds the longest row */
    }
    b->open = false;
}

void traffic_note(struct traffic_writer *wr, uint32_t slot, uint32_t user, int64_t t_ns,
                  uint64_t up, uint64_t down, bool in_window)
{
    if (up == 0 && down == 0)
        return;
    if (slot >= wr->nslots) {
        wr->lost++;
        return;
    }
    struct traffic_burst *b = &wr->bursts[slot];
    if (b->open && b->in_window == in_window && t_ns < b->start_ns + TRAFFIC_GAP_NS &&
        t_ns > b->start_ns - TRAFFIC_GAP_NS) {
        b->up += up;
        b->down += down;
        if (t_ns < b->start_ns)
            b->start_ns = t_ns; /* bytes noted late (libcurl's request): still its burst */
        return;
    }
    struct traffic_burst fresh = {t_ns, up, down, user, true, in_window};
    if (b->open && t_ns < b->start_ns) {
        emit(wr, &fresh); /* bytes noted late, before the open burst: a row of their own */
        return;
    }
    if (b->open)
        emit(wr, b);
    *b = fresh;
}

void traffic_writer_finish(struct traffic_writer *wr)
{
    if (!wr->log || !wr->buf)
        return;
    for (uint32_t i = 0; i < wr->nslots; i++)
        if (wr->bursts[i].open)
            emit(wr, &wr->bursts[i]);
    flush(wr);
}
