/* traffic_log.h: traffic.csv, each user's timeline of bytes sent and received, which the
 * lab's radio model reads (lab/radio.h; docs/MODELS.md, "Each user's traffic").
 *
 * Format: a header "user,t_ms,bytes_up,bytes_down", then one row per burst of one user's
 * traffic: the user's id in the whole population (partition.h), the burst's first byte in
 * milliseconds from the measurement window's start on the client's own clock (negative in
 * the warm-up; a quick run's lab multiplies by its compression, the client never does), and
 * the bytes the user's socket wrote and read in it. Rows are in no order (each thread
 * appends its own).
 *
 * What is noted: exactly the bytes the byte counters count (counters.h: the request and
 * response heads and bodies, chunk framing, a WebSocket's handshake and frames, the
 * messages' POSTs, which go to the user who sent them), at the same places, with the
 * same window rule; the observer's traffic is nobody's. So the rows add up to the
 * summary's byte counts, to the byte: in the window (0 <= t_ms < the window), to its
 * window counts each way; over the run, to app_bytes_sent_run / app_bytes_received_run
 * (which the kernel's counts check). Times follow the window rule too: a row's bytes
 * were counted in the window exactly when 0 <= t_ms < the window's length. Where the two
 * disagree by a hair (a request sent just before the window opened and written just
 * after it, once its connection was up; a read in the loop turn that spans an edge), the
 * row's time is moved to the edge's side its bytes were counted on: by the microseconds
 * of a loop turn, or a connect's time.
 *
 * Bursts: bytes within TRAFFIC_GAP_NS of a burst's first byte join it (one row per
 * exchange: its request and its answer on a fast network; per event; per heartbeat).
 * Why in the client and why that gap, with lab/radio.c in mind: the radio cannot tell
 * such bytes apart (a byte that comes while it promotes or transfers waits; one in its
 * tail rides it), so joining them only starts the tail after a burst up to the gap
 * early, at most 100 ms of high time per wake-up against LTE's 11.6 s tail (under 1%);
 * and it makes the file a row per exchange instead of a row per socket call (2 to 4 for
 * a poll). The gap runs from the burst's first byte, not from its last: a chained gap
 * would fold an SSE stream of 20 events a second into one row for the whole run and
 * hide what it costs the radio, where this leaves a row at least every 100 ms. Bytes
 * further apart (an answer 300 ms after its request behind a slow link) are rows of
 * their own, and the lab's radio keeps the phone awake between them, as a phone waiting
 * for an answer is. A burst never mixes bytes counted in the window with bytes that
 * were not.
 *
 * Memory: each thread (run_workers.c) has a writer: the open burst of each of its users
 * and a 64 KiB buffer of rows, written to the one file (under the log's lock) whenever
 * it fills and at the end. The file holds at most max_rows rows (--traffic-log); rows past
 * that, and rows a failed write lost, are dropped and counted (summary.json's
 * traffic_rows_dropped, and a line on stderr), never silently; the lab then does not
 * use the file (lab/capacity.c).
 */
#ifndef PUSHPULL_TRAFFIC_LOG_H
#define PUSHPULL_TRAFFIC_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define TRAFFIC_GAP_NS           (100 * NS_PER_MS)
#define TRAFFIC_BUF_BYTES        (64 * 1024)
#define TRAFFIC_LOG_ROWS_DEFAULT 4000000 /* --traffic-log on: about 120 MB of rows */
#define TRAFFIC_FILE             "traffic.csv"

/* The run's file. */
struct traffic_log {
    bool on;              /* the file is open (traffic_log_open succeeded) */
    int fd;               /* traffic.csv when on */
    pthread_mutex_t lock; /* around fd and the counts below, for the writers' flushes */
    uint64_t max_rows;    /* rows written at most */
    uint64_t rows;        /* rows written */
    uint64_t dropped;     /* rows dropped: past max_rows, or lost to a failed write */
    int write_errno;      /* the first failed write's errno; 0: none */
    int64_t w0, w1;       /* the measurement window (monotonic) */
};

/* One user's bytes not yet a row. */
struct traffic_burst {
    int64_t start_ns;  /* its first byte (monotonic) */
    uint64_t up, down; /* bytes written and read */
    uint32_t user;     /* the user's id */
    bool open;         /* it holds bytes */
    bool in_window;    /* they were counted in the window */
};

/* One thread's share: its users' open bursts and its rows not yet written. */
struct traffic_writer {
    struct traffic_log *log;      /* the run's file (borrowed) */
    struct traffic_burst *bursts; /* one per loop slot of the thread (owned) */
    uint32_t nslots;              /* bursts allocated */
    char *buf;                    /* rows not yet written (owned), TRAFFIC_BUF_BYTES */
    size_t len;                   /* bytes of buf in use */
    uint64_t buf_rows;            /* rows in buf */
    uint64_t lost;                /* notes for a slot past nslots (never expected) */
};

/* Create dir/traffic.csv (dir must exist) with its header, for rows timed from the window
 * [w0, w1) and at most max_rows of them. 0, or -1 with err naming the file and the failed
 * call (log->on stays false). */
int traffic_log_open(struct traffic_log *log, const char *dir, uint64_t max_rows,
                     int64_t w0, int64_t w1, char *err, size_t errlen);
/* Close the file (after every writer finished). 0, or -1 when a write failed, with err
 * naming the file and the error. Safe on a log that is not on. */
int traffic_log_close(struct traffic_log *log, char *err, size_t errlen);

/* A writer for a thread with nslots loop slots, appending to log. 0, or -1 with err (out
 * of memory); free with traffic_writer_free, also after a failure. */
int traffic_writer_init(struct traffic_writer *wr, struct traffic_log *log, uint32_t nslots,
                        char *err, size_t errlen);
/* Bytes of user `user` (loop slot `slot`) crossed its socket at t_ns: up written, down
 * read, counted in the window or not (in_window). Joins the user's open burst, or closes
 * it (a row) and opens another. Nothing for zero bytes. */
void traffic_note(struct traffic_writer *wr, uint32_t slot, uint32_t user, int64_t t_ns,
                  uint64_t up, uint64_t down, bool in_window);
/* Every open burst becomes a row, and the buffer goes to the file. */
void traffic_writer_finish(struct traffic_writer *wr);
void traffic_writer_free(struct traffic_writer *wr);

#endif
