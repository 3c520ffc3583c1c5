/* feed_reader.h: one SSE client of the feed, as the tests need it: a raw socket to
 * GET /events (optionally with Last-Event-ID), the chunked body decoded, the events
 * parsed (common/sse_parser), and everything it received kept in order: each update's
 * seq and its JSON text, and how many resets came.
 *
 * It is how a test checks "every update exactly once": the seqs a reader holds must run
 * without gaps or repeats, and the text of a seq must be the same whichever instance sent
 * it.
 */
#ifndef PUSHPULL_FEED_READER_H
#define PUSHPULL_FEED_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"

struct sse_parser;

struct feed_reader {
    int fd;                 /* the connection, or -1 */
    struct dynbuf raw;      /* bytes read, not yet dechunked */
    bool head_done;         /* the response head was read (and checked: 200) */
    bool ended;             /* the last chunk came */
    struct sse_parser *sse; /* the event parser */
    uint64_t *seqs;         /* every update's seq, in the order received */
    char **json;            /* and its JSON text (owned) */
    size_t n, cap;          /* entries in seqs and json */
    int resets;             /* "event: reset" received */
    int ends;               /* "event: end" received */
};

/* Open GET /events on 127.0.0.1:port, with Last-Event-ID: last_event_id when it is not
 * NULL. 0, or -1. Free with feed_reader_close. */
int feed_reader_open(struct feed_reader *r, unsigned port, const char *last_event_id);
/* Read until an update with seq >= until has come, for at most timeout_ms. 1 when it
 * came, 0 on timeout, -1 when the stream ended or failed first. */
int feed_reader_until(struct feed_reader *r, uint64_t until, int timeout_ms);
/* Read whatever comes for ms milliseconds. 0 while the stream stays open, -1 when it
 * ended or failed. */
int feed_reader_pump(struct feed_reader *r, int ms);
/* The newest seq received (0 for none). */
uint64_t feed_reader_last(const struct feed_reader *r);
/* Close the connection (what was received stays readable). */
void feed_reader_hangup(struct feed_reader *r);
/* Close and free everything. */
void feed_reader_close(struct feed_reader *r);

#endif
