/* sse_parser.h: an incremental, transport-free parser for the text/event-stream format.
 *
 * Feed it bytes as they arrive, in any split; it calls back once per dispatched event,
 * comment and valid retry field. It follows the WHATWG HTML "event stream interpretation"
 * rules (section 9.2.6); sse_parser.c lists them one by one. It never reads a socket and
 * never allocates more than max_event_bytes for one event, so a hostile stream costs
 * bounded memory and ends in a clear SSE_ERR_TOO_BIG.
 */
#ifndef PUSHPULL_SSE_PARSER_H
#define PUSHPULL_SSE_PARSER_H

#include <stddef.h>
#include <stdint.h>

#define SSE_DEFAULT_MAX_EVENT_BYTES ((size_t)16 * 1024 * 1024)

/* One dispatched event. Pointers are valid only during the callback. */
struct sse_event {
    const char *type; /* event type; "message" when the stream gave none (NUL-terminated) */
    size_t type_len;  /* bytes in type */
    const char *data; /* data lines joined with LF, final LF removed (NUL-terminated) */
    size_t data_len;  /* bytes in data */
    const char
        *id;       /* the last event ID in force at dispatch; "" if none (NUL-terminated) */
    size_t id_len; /* bytes in id */
};

struct sse_callbacks {
    /* An event was dispatched. Return 0 to go on, non-zero to stop sse_parser_feed at once
     * (it then returns SSE_STOPPED). */
    int (*on_event)(void *ctx, const struct sse_event *ev);
    /* A comment line; text excludes the leading ':' and the line end. May be NULL. */
    void (*on_comment)(void *ctx, const char *text, size_t len);
    /* A retry field whose value was all ASCII digits, in milliseconds. May be NULL. */
    void (*on_retry)(void *ctx, uint64_t ms);
    void *ctx; /* passed to every callback */
};

enum sse_status {
    SSE_OK = 0,      /* all bytes consumed */
    SSE_STOPPED = 1, /* on_event asked to stop; the rest of the buffer was not read */
    SSE_ERR_TOO_BIG =
        -1 /* one event (or line) grew past max_event_bytes; parser unusable */
};

/* Byte accounting, split so the transport can report where the stream's bytes went.
 * Every byte fed is counted in exactly one of the three. */
struct sse_counts {
    uint64_t data_bytes; /* bytes of data field values (after "data:" and its one space) */
    uint64_t comment_bytes; /* bytes of comment lines, colon and line end included */
    uint64_t framing_bytes; /* everything else: field names, colons, spaces, line ends, BOM,
                               id/event/retry lines, blank lines */
    uint64_t events;        /* events dispatched */
    uint64_t comments;      /* comment lines seen */
};

struct sse_parser; /* opaque */

/* Allocate a parser. max_event_bytes caps one event's buffered data plus its current
 * line (0 means SSE_DEFAULT_MAX_EVENT_BYTES). The callbacks struct is copied. Returns NULL
 * when out of memory. The caller frees it with sse_parser_free. */
struct sse_parser *sse_parser_new(size_t max_event_bytes, const struct sse_callbacks *cb);
/* Release the parser and everything it holds. NULL is fine. */
void sse_parser_free(struct sse_parser *p);
/* Parse len more bytes of the stream. */
enum sse_status sse_parser_feed(struct sse_parser *p, const char *buf, size_t len);
/* The connection ended: a partial event (and a partial line) is discarded, as the spec
 * says. The parser is ready for a new connection: it expects a BOM again, but keeps the
 * last event ID (EventSource sends it back as Last-Event-ID on reconnect). */
void sse_parser_reset(struct sse_parser *p);
/* Set the last event ID (and the last event ID string) as if an earlier stream had ended
 * with it: for a client told where to resume before it ever connected. Counts nothing.
 * 0; -1 when the len bytes hold a NUL (nothing changes), or pass max_event_bytes or
 * memory runs out (the id is then empty). */
int sse_parser_set_last_id(struct sse_parser *p, const char *id, size_t len);
/* The last event ID buffer ("" if none); valid until the next feed or free. */
const char *sse_parser_last_id(const struct sse_parser *p);
/* Byte and event counts since the parser was created (they survive reset). */
const struct sse_counts *sse_parser_counts(const struct sse_parser *p);

#endif
