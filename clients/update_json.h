/* update_json.h: reading the server's JSON replies (issue 2, "The HTTP contract"), as
 * they arrive, in bounded memory.
 *
 * Two shapes: one update {"seq":42,"ts_ns":...,"data":"..."} (GET /poll, and the data of
 * each SSE event; {"seq":0} before the first update), and an events reply
 * {"next":M,"events":[update,...]} with "reset":true when a gap was signalled (GET
 * /poll?since=N and /longpoll).
 *
 * The reader is an incremental parser in the style of picohttpparser and the hiredis
 * reader: feed it the body in any split (a whole body, byte by byte, or what each read
 * brought), and it keeps only a few bytes of state plus the updates it has found, never
 * the text. A body that passes the reader's byte cap is refused as soon as it does
 * (UPDATE_READ_TOO_BIG), so a hostile 50 MB answer costs the client the cap's worth of
 * reading and no memory for the text; the work is linear in the bytes fed and spread over
 * the reads, so the event loop never stalls on one huge parse. Numbers are read as
 * integers, exactly (cJSON's doubles held ts_ns only to 256 ns).
 *
 * What is accepted (RFC 8259 JSON, with these rules for the contract's fields):
 *   - the top level is one object, followed by nothing but whitespace;
 *   - "seq", "ts_ns" and "next" are whole non-negative numbers written as digits (no sign,
 *     fraction or exponent) that fit 64 bits; ts_ns at most INT64_MAX;
 *   - "reset" is true or false; "events" is an array of update objects;
 *   - an update has "seq"; unless seq is 0 (only in the single-update shape) it has a
 *     "ts_ns" above 0; an event's seq is never 0;
 *   - an events reply has "next" and "events";
 *   - any other member ("data" included) may hold any JSON value, which is checked for
 *     syntax and skipped; one of the fields above given twice in one object is an error;
 *   - nesting deeper than UPDATE_JSON_MAX_DEPTH is an error.
 * Simplification: a member name written with an escape ("\u0073eq") is taken as an
 * unknown member, and strings are not checked for valid UTF-8 (the contract's fields are
 * all ASCII).
 *
 * The head of "data": when an update's "data" is a string, its first bytes are kept
 * (UPDATE_HEAD_MAX at most, as written, up to the first backslash: escapes are not
 * decoded), so a user can recognise its own messages coming back on the feed
 * (upstream.h) without the reader holding the text.
 */
#ifndef PUSHPULL_UPDATE_JSON_H
#define PUSHPULL_UPDATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPDATE_JSON_MAX_DEPTH 32
#define UPDATE_HEAD_MAX       63 /* bytes of "data" kept */

struct update {
    uint64_t seq;  /* 1, 2, 3, ...; 0 in the "no update yet" reply */
    int64_t ts_ns; /* the publish stamp, CLOCK_REALTIME ns; 0 with seq 0 */
    char data_head[UPDATE_HEAD_MAX + 1]; /* the head of a string "data" (above), NUL-
                                            terminated; "" when there is none */
};

enum update_shape {
    UPDATE_SHAPE_ONE,   /* one update (GET /poll, an SSE event's data) */
    UPDATE_SHAPE_EVENTS /* {"next":M,"events":[...]} */
};

enum update_read_status {
    UPDATE_READ_OK = 0,      /* every byte so far fits the shape; more may follow */
    UPDATE_READ_ERROR = -1,  /* the bytes are not the contract's JSON (sticky) */
    UPDATE_READ_TOO_BIG = -2 /* more bytes than the cap were fed (sticky; it wins over
                                an error already found, so a huge body of garbage is
                                refused as too big, at the cap) */
};

struct update_reader; /* opaque */

/* A reader that refuses replies longer than max_bytes. NULL when out of memory. The
 * caller frees it with update_reader_free. */
struct update_reader *update_reader_new(size_t max_bytes);
void update_reader_free(struct update_reader *r);
/* Start a new reply of this shape; the previous one is forgotten. */
void update_reader_begin(struct update_reader *r, enum update_shape shape);
/* Parse len more bytes. The status of the reply so far. */
enum update_read_status update_reader_feed(struct update_reader *r, const char *buf,
                                           size_t len);
/* The body has ended: UPDATE_READ_OK when it held one complete reply of the shape, else
 * the error (an incomplete reply is UPDATE_READ_ERROR). */
enum update_read_status update_reader_finish(struct update_reader *r);
/* After a successful finish: the updates, oldest first (for the single shape exactly one,
 * possibly seq 0); valid until the next begin or free. */
const struct update *update_reader_updates(const struct update_reader *r, size_t *n);
/* After a successful finish of an events reply: "next" and "reset". */
uint64_t update_reader_next(const struct update_reader *r);
bool update_reader_reset(const struct update_reader *r);

/* Called once per update of an events reply, oldest first. */
typedef void (*update_fn)(void *ctx, const struct update *u);

/* Whole-text conveniences over the reader (no cap beyond len). Parse one update object:
 * 0, or -1 when it is not the contract's shape (or out of memory). */
int update_json_parse_one(const char *text, size_t len, struct update *out);
/* Parse an events reply: 0 with fn called for each update and *next and *reset set, or
 * -1 (fn not called) when it is not the contract's shape. */
int update_json_parse_events(const char *text, size_t len, uint64_t *next, bool *reset,
                             update_fn fn, void *ctx);

#endif
