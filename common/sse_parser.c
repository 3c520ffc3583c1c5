/* sse_parser.c: incremental text/event-stream parser (see sse_parser.h for the contract).
 *
 * Wire rules, after WHATWG HTML section 9.2.6 "Interpreting an event stream":
 *
 *  1. One UTF-8 byte order mark (EF BB BF) is skipped if it is the very first thing in the
 *     stream, even when it arrives split across feeds. Anywhere else, or when the first
 *     bytes only start like one, those bytes are ordinary line content.
 *  2. A line ends at CRLF, LF or CR. A CR that ends one feed and an LF that starts the
 *     next are one line end, not two.
 *  3. An empty line dispatches the event (rule 9).
 *  4. A line starting with ':' is a comment: on_comment gets the text after the colon.
 *  5. A line with a colon: the field name is everything before the first colon, the value
 *     everything after it, minus one leading space if there is one (only one).
 *  6. A line without a colon: the whole line is the field name and the value is empty
 *     (so "data" alone adds an empty line to the data).
 *  7. Fields, compared byte for byte (case matters):
 *       "event"  sets the event type buffer to the value;
 *       "data"   appends the value and one LF to the data buffer;
 *       "id"     sets the last event ID buffer to the value, unless the value holds a
 *                NUL byte, in which case the field is ignored ("id" alone clears it);
 *       "retry"  if the value is one or more ASCII digits, calls on_retry with it in ms;
 *                otherwise (empty, sign, space, other bytes, or beyond UINT64_MAX) ignored;
 *       anything else is ignored.
 *  8. At every empty line, the last event ID buffer becomes the "last event ID string"
 *     (what a reconnect sends back as Last-Event-ID), whether or not an event follows.
 *  9. Dispatch: if the data buffer is empty, the data and type buffers are cleared and
 *     nothing is dispatched. Otherwise one trailing LF is removed from the data, the type
 *     is "message" if the type buffer is empty, on_event is called with the last event ID
 *     buffer as the id ("" if none), and the data and type buffers are cleared. The last
 *     event ID buffer is kept.
 * 10. End of stream (sse_parser_reset): a partial line and an undispatched event are
 *     discarded. An "id" field of that discarded event is forgotten too: the last event
 *     ID goes back to the last event ID string of rule 8, as browsers do. The next stream
 *     may start with a BOM again.
 *
 * Simplification: the spec decodes the stream as UTF-8 (invalid sequences become U+FFFD)
 * before all of the above. We work on bytes and hand them through undecoded; since every
 * byte the rules look at is ASCII, the results are the same for valid UTF-8.
 *
 * Memory: a line that arrives whole inside one feed is parsed in place; only the tail of
 * a feed that has no line end yet is copied into the line buffer. At every point the
 * current line (without its line end) plus the data buffer plus the type buffer must fit
 * in max_event_bytes, otherwise the feed fails with SSE_ERR_TOO_BIG. The check is the same
 * for in-place and buffered lines, so the verdict does not depend on how the stream was
 * split. The parser is then dead until sse_parser_reset (a new connection). A failed
 * allocation is reported the same way, since the header has no separate code for it.
 * Buffers that grew past SSE_KEEP_BYTES are released after use, so one huge event does not
 * pin memory on each of thousands of idle streams.
 *
 * Speed: line ends are found with memchr, once for CR and once for LF, and each search
 * result is reused until the scan passes it, so a feed costs two memchr passes no matter
 * how many lines it holds. There is no per-byte function call.
 *
 * Byte accounting: each byte is counted once, in data_bytes, comment_bytes or
 * framing_bytes, when the line holding it is complete (or at reset, or at failure):
 *   - a comment line, its ':' and its line end: comment_bytes;
 *   - the value of a "data" field: data_bytes (not its name, colon, the one stripped space
 *     or the line end, which are framing_bytes);
 *   - everything else is framing_bytes: the BOM, blank lines, other field names, colons,
 *     stripped spaces, line ends, and whole event/id/retry/unknown lines;
 *   - the LF of a CRLF split across feeds goes where its CR went;
 *   - a partial line discarded by reset (including a held partial BOM) was never
 *     interpreted, so it is framing_bytes;
 *   - after SSE_ERR_TOO_BIG, the failing line, the rest of that feed and every byte of
 *     later feeds until reset are framing_bytes (read and thrown away).
 * So after sse_parser_reset, and while failed, data + comment + framing equals the bytes
 * fed; between feeds it falls short by the partial line still held. After SSE_STOPPED the
 * bytes the parser did not read are not counted, and since no partial line is held at a
 * dispatch, data + comment + framing is then exactly the number of bytes read, which tells
 * a caller that wants to go on where to resume.
 */
#include "sse_parser.h"

#include "dynbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Buffers larger than this are freed, not just emptied, once their contents are used. */
#define SSE_KEEP_BYTES ((size_t)64 * 1024)

static const unsigned char sse_bom[3] = {0xEF, 0xBB, 0xBF};

struct sse_parser {
    struct sse_callbacks cb; /* copy of the caller's callbacks */
    size_t max;              /* cap on line + data + type, in bytes */
    struct dynbuf line;      /* partial line carried over from earlier feeds */
    struct dynbuf data;      /* data buffer: values joined, each followed by LF */
    struct dynbuf type;      /* event type buffer */
    struct dynbuf id;        /* last event ID buffer */
    struct dynbuf id_string; /* last event ID string: id as of the last empty line */
    bool id_dirty;           /* id changed since it was last copied to id_string */
    unsigned bom_held;       /* leading bytes matching the BOM so far (0..2) */
    bool bom_done;           /* past the place where a BOM may be */
    bool after_cr;           /* the last feed ended with a CR: an LF now completes it */
    bool cr_in_comment;      /* that CR ended a comment line */
    bool failed;             /* SSE_ERR_TOO_BIG was returned; waiting for reset */
    struct sse_counts counts;
};

struct sse_parser *sse_parser_new(size_t max_event_bytes, const struct sse_callbacks *cb)
{
    struct sse_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (cb)
        p->cb = *cb;
    p->max = max_event_bytes ? max_event_bytes : SSE_DEFAULT_MAX_EVENT_BYTES;
    dynbuf_init(&p->line, p->max);
    dynbuf_init(&p->data, p->max);
    dynbuf_init(&p->type, p->max);
    dynbuf_init(&p->id, p->max);
    dynbuf_init(&p->id_string, p->max);
    return p;
}

void sse_parser_free(struct sse_parser *p)
{
    if (!p)
        return;
    dynbuf_free(&p->line);
    dynbuf_free(&p->data);
    dynbuf_free(&p->type);
    dynbuf_free(&p->id);
    dynbuf_free(&p->id_string);
    free(p);
}

/* Empty a buffer, giving its memory back if it grew large. */
static void buf_clear(struct dynbuf *b)
{
    if (b->cap > SSE_KEEP_BYTES)
        dynbuf_free(b);
    else
        dynbuf_reset(b);
}

/* Replace the contents of b with len bytes at s. 0, or -1 when malloc refuses. */
static int buf_set(struct dynbuf *b, const char *s, size_t len)
{
    buf_clear(b);
    return dynbuf_add(b, s, len);
}

static bool field_is(const char *name, size_t len, const char *want)
{
    size_t n = strlen(want);
    return len == n && memcmp(name, want, n) == 0;
}

/* Rule 7, "retry": report the value if it is all digits and fits in 64 bits. */
static void field_retry(struct sse_parser *p, const char *v, size_t len)
{
    if (len == 0 || !p->cb.on_retry)
        return;
    uint64_t ms = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return;
        unsigned d = (unsigned)(v[i] - '0');
        if (ms > (UINT64_MAX - d) / 10)
            return;
        ms = ms * 10 + d;
    }
    p->cb.on_retry(p->cb.ctx, ms);
}

/* Rules 8 and 9: an empty line. Returns SSE_STOPPED if on_event asked to stop. */
static enum sse_status dispatch(struct sse_parser *p)
{
    if (p->id_dirty) {
        /* Same size as the id buffer, which is within the cap, so only malloc can fail;
         * then id_string is left empty, which only weakens a later reset. */
        (void)buf_set(&p->id_string, p->id.mem ? p->id.mem : "", p->id.len);
        p->id_dirty = false;
    }
    if (p->data.len == 0) {
        buf_clear(&p->type);
        return SSE_OK;
    }
    p->data.len--; /* the data buffer always ends in LF here */
    p->data.mem[p->data.len] = '\0';
    struct sse_event ev = {
        .type = p->type.len ? p->type.mem : "message",
        .type_len = p->type.len ? p->type.len : strlen("message"),
        .data = p->data.mem,
        .data_len = p->data.len,
        .id = p->id.mem ? p->id.mem : "",
        .id_len = p->id.len,
    };
    p->counts.events++;
    int stop = p->cb.on_event ? p->cb.on_event(p->cb.ctx, &ev) : 0;
    buf_clear(&p->data);
    buf_clear(&p->type);
    return stop ? SSE_STOPPED : SSE_OK;
}

/* Rules 3 to 7 for one complete line (without its line end, which was eol_len bytes).
 * Counts the line and its line end. Returns SSE_OK, SSE_STOPPED, or SSE_ERR_TOO_BIG if
 * an allocation failed. */
static enum sse_status process_line(struct sse_parser *p, const char *s, size_t len,
                                    size_t eol_len)
{
    if (len == 0) {
        p->counts.framing_bytes += eol_len;
        return dispatch(p);
    }
    if (s[0] == ':') {
        p->counts.comment_bytes += len + eol_len;
        p->counts.comments++;
        if (p->cb.on_comment)
            p->cb.on_comment(p->cb.ctx, s + 1, len - 1);
        return SSE_OK;
    }

    const char *colon = memchr(s, ':', len);
    size_t name_len = colon ? (size_t)(colon - s) : len;
    const char *value = s + len;
    if (colon) {
        value = colon + 1;
        if (value < s + len && *value == ' ')
            value++;
    }
    size_t value_len = (size_t)(s + len - value);
    p->counts.framing_bytes += (len - value_len) + eol_len;

    if (field_is(s, name_len, "data")) {
        p->counts.data_bytes += value_len;
        /* Fits: value + LF is shorter than the line, which passed the cap check. */
        if (dynbuf_add(&p->data, value, value_len) != 0 ||
            dynbuf_add(&p->data, "\n", 1) != 0)
            return SSE_ERR_TOO_BIG;
        return SSE_OK;
    }
    p->counts.framing_bytes += value_len;
    if (field_is(s, name_len, "event")) {
        if (buf_set(&p->type, value, value_len) != 0)
            return SSE_ERR_TOO_BIG;
    } else if (field_is(s, name_len, "id")) {
        if (!memchr(value, '\0', value_len)) {
            p->id_dirty = true;
            if (buf_set(&p->id, value, value_len) != 0)
                return SSE_ERR_TOO_BIG;
        }
    } else if (field_is(s, name_len, "retry")) {
        field_retry(p, value, value_len);
    }
    return SSE_OK;
}

/* Would a line of line_len bytes break the cap, given the event buffered so far? */
static bool too_big(const struct sse_parser *p, size_t line_len)
{
    size_t used = p->data.len + p->type.len; /* never above p->max */
    return line_len > p->max - used;
}

/* Enter the failed state: everything not yet counted, up to the end of this feed, is
 * framing. The event buffers are released; the last event ID is kept. */
static enum sse_status fail(struct sse_parser *p, size_t unread)
{
    p->counts.framing_bytes += p->line.len + unread;
    dynbuf_free(&p->line);
    dynbuf_free(&p->data);
    dynbuf_free(&p->type);
    p->failed = true;
    return SSE_ERR_TOO_BIG;
}

/* Rule 1: consume what can be part of a leading BOM and return the first byte after it.
 * When the start turns out not to be a BOM, bom_done is set with bom_held still telling
 * how many BOM bytes were taken; the caller turns them into line content. */
static const char *skip_bom(struct sse_parser *p, const char *s, const char *end)
{
    while (s < end && !p->bom_done) {
        if ((unsigned char)*s != sse_bom[p->bom_held]) {
            p->bom_done = true;
            break;
        }
        s++;
        if (++p->bom_held == sizeof(sse_bom)) {
            p->counts.framing_bytes += sizeof(sse_bom);
            p->bom_held = 0;
            p->bom_done = true;
        }
    }
    return s;
}

enum sse_status sse_parser_feed(struct sse_parser *p, const char *buf, size_t len)
{
    if (p->failed) {
        p->counts.framing_bytes += len;
        return SSE_ERR_TOO_BIG;
    }
    if (len == 0)
        return SSE_OK;

    const char *s = buf;
    const char *end = buf + len;
    if (!p->bom_done) {
        s = skip_bom(p, s, end);
        if (p->bom_done && p->bom_held) { /* "EF" or "EF BB" and then something else */
            size_t held = p->bom_held;
            p->bom_held = 0;
            if (too_big(p, held) || dynbuf_add(&p->line, sse_bom, held) != 0)
                return fail(p, held + (size_t)(end - s));
        }
    }
    if (p->after_cr && s < end) {
        p->after_cr = false;
        if (*s == '\n') {
            if (p->cr_in_comment)
                p->counts.comment_bytes++;
            else
                p->counts.framing_bytes++;
            s++;
        }
    }

    const char *cr = memchr(s, '\r', (size_t)(end - s));
    const char *lf = memchr(s, '\n', (size_t)(end - s));
    if (!cr)
        cr = end;
    if (!lf)
        lf = end;
    while (s < end) {
        if (cr < s) {
            cr = memchr(s, '\r', (size_t)(end - s));
            if (!cr)
                cr = end;
        }
        if (lf < s) {
            lf = memchr(s, '\n', (size_t)(end - s));
            if (!lf)
                lf = end;
        }
        const char *eol = cr < lf ? cr : lf;
        size_t chunk = (size_t)(eol - s);
        if (too_big(p, p->line.len + chunk))
            return fail(p, (size_t)(end - s));
        if (eol == end) { /* no line end yet: keep the tail for the next feed */
            if (dynbuf_add(&p->line, s, chunk) != 0)
                return fail(p, (size_t)(end - s));
            break;
        }

        size_t eol_len = 1;
        if (*eol == '\r') {
            if (eol + 1 < end && eol[1] == '\n')
                eol_len = 2;
            else if (eol + 1 == end)
                p->after_cr = true;
        }
        const char *line = s;
        size_t line_len = chunk;
        if (p->line.len) {
            if (dynbuf_add(&p->line, s, chunk) != 0)
                return fail(p, (size_t)(end - s));
            line = p->line.mem;
            line_len = p->line.len;
        }
        p->cr_in_comment = line_len > 0 && line[0] == ':';
        s = eol + eol_len;

        enum sse_status st = process_line(p, line, line_len, eol_len);
        if (p->line.len)
            buf_clear(&p->line);
        if (st == SSE_ERR_TOO_BIG)
            return fail(p, (size_t)(end - s));
        if (st == SSE_STOPPED)
            return SSE_STOPPED;
    }
    return SSE_OK;
}

void sse_parser_reset(struct sse_parser *p)
{
    p->counts.framing_bytes += p->line.len;
    if (!p->bom_done)
        p->counts.framing_bytes += p->bom_held;
    buf_clear(&p->line);
    buf_clear(&p->data);
    buf_clear(&p->type);
    if (p->id_dirty) { /* rule 10: back to the id as of the last empty line */
        const char *committed = p->id_string.mem ? p->id_string.mem : "";
        /* Only malloc can fail here, and dynbuf then leaves the id empty. */
        (void)buf_set(&p->id, committed, p->id_string.len);
        p->id_dirty = false;
    }
    p->bom_held = 0;
    p->bom_done = false;
    p->after_cr = false;
    p->cr_in_comment = false;
    p->failed = false;
}

int sse_parser_set_last_id(struct sse_parser *p, const char *id, size_t len)
{
    if (memchr(id, '\0', len) || buf_set(&p->id, id, len) != 0 ||
        buf_set(&p->id_string, id, len) != 0)
        return -1;
    p->id_dirty = false;
    return 0;
}

const char *sse_parser_last_id(const struct sse_parser *p)
{
    return p->id.mem ? p->id.mem : "";
}

const struct sse_counts *sse_parser_counts(const struct sse_parser *p)
{
    return &p->counts;
}
