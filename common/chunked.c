/* chunked.c: incremental HTTP/1.1 chunked transfer decoding with byte accounting.
 *
 * The grammar (RFC 9112 section 7.1), byte by byte:
 *   chunked-body    = *chunk last-chunk trailer-section CRLF
 *   chunk           = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk      = 1*"0" [ chunk-ext ] CRLF
 *   trailer-section = *( field-line CRLF )
 * Rules kept here:
 *   - chunk-size is 1 to 16 hex digits (either case); more, or a value past 2^64, is an
 *     error, as is a size line that starts with anything but a hex digit.
 *   - chunk extensions (";name=value", with optional blanks before them) are skipped
 *     without interpretation, up to the line end.
 *   - a line ends in CRLF; a bare LF is accepted too (RFC 9112 section 2.2 lets a
 *     recipient do so); a CR not followed by LF is an error.
 *   - chunk-data must be followed by a line end.
 *   - trailer fields are skipped line by line; the empty line ends the body.
 * Every byte is counted once: chunk-data as payload, everything else as framing. The
 * decoder is a state machine over single bytes (except chunk-data, which is handed on in
 * runs), so any split of the input gives the same result.
 */
#include "chunked.h"

enum {
    ST_SIZE,       /* reading chunk-size hex digits */
    ST_EXT,        /* inside chunk extensions, up to the line end */
    ST_SIZE_LF,    /* after the CR of the size line */
    ST_DATA,       /* inside chunk-data */
    ST_DATA_CR,    /* chunk-data done, expecting its line end */
    ST_DATA_LF,    /* after the CR that follows chunk-data */
    ST_TRAILER,    /* at or inside a trailer line (line_len bytes so far) */
    ST_TRAILER_LF, /* after a CR in the trailer section */
    ST_DONE,       /* the body is complete */
    ST_ERROR       /* malformed; stays here */
};

void chunked_init(struct chunked *c)
{
    c->state = ST_SIZE;
    c->hex_digits = 0;
    c->remaining = 0;
    c->line_len = 0;
    c->payload_bytes = 0;
    c->framing_bytes = 0;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The size line has ended: a zero size starts the trailer section. */
static void end_size_line(struct chunked *c)
{
    c->state = c->remaining == 0 ? ST_TRAILER : ST_DATA;
    c->line_len = 0;
}

/* A trailer line has ended: the empty one ends the body. */
static void end_trailer_line(struct chunked *c)
{
    if (c->line_len == 0) {
        c->state = ST_DONE;
        return;
    }
    c->line_len = 0;
    c->state = ST_TRAILER;
}

/* One framing byte through the state machine. */
static void step_framing(struct chunked *c, char ch)
{
    int v;
    switch (c->state) {
    case ST_SIZE:
        v = hex_value(ch);
        if (v >= 0) {
            if (c->hex_digits == 16) {
                c->state = ST_ERROR;
                return;
            }
            c->remaining = (c->remaining << 4) | (uint64_t)v;
            c->hex_digits++;
        } else if (c->hex_digits == 0) {
            c->state = ST_ERROR;
        } else if (ch == ';' || ch == ' ' || ch == '\t') {
            c->state = ST_EXT;
        } else if (ch == '\r') {
            c->state = ST_SIZE_LF;
        } else if (ch == '\n') {
            end_size_line(c);
        } else {
            c->state = ST_ERROR;
        }
        break;
    case ST_EXT:
        if (ch == '\r')
            c->state = ST_SIZE_LF;
        else if (ch == '\n')
            end_size_line(c);
        break;
    case ST_SIZE_LF:
        if (ch == '\n')
            end_size_line(c);
        else
            c->state = ST_ERROR;
        break;
    case ST_DATA_CR:
        if (ch == '\r') {
            c->state = ST_DATA_LF;
        } else if (ch == '\n') {
            c->state = ST_SIZE;
            c->hex_digits = 0;
        } else {
            c->state = ST_ERROR;
        }
        break;
    case ST_DATA_LF:
        if (ch == '\n') {
            c->state = ST_SIZE;
            c->hex_digits = 0;
        } else {
            c->state = ST_ERROR;
        }
        break;
    case ST_TRAILER:
        if (ch == '\r')
            c->state = ST_TRAILER_LF;
        else if (ch == '\n')
            end_trailer_line(c);
        else
            c->line_len++;
        break;
    case ST_TRAILER_LF:
        if (ch == '\n')
            end_trailer_line(c);
        else
            c->state = ST_ERROR;
        break;
    default:
        break;
    }
}

enum chunked_status chunked_feed(struct chunked *c, const char *buf, size_t len,
                                 size_t *used, chunked_payload_fn fn, void *ctx)
{
    size_t i = 0;
    while (i < len && c->state != ST_DONE && c->state != ST_ERROR) {
        if (c->state == ST_DATA) {
            size_t avail = len - i;
            size_t take = c->remaining < avail ? (size_t)c->remaining : avail;
            if (fn)
                fn(ctx, buf + i, take);
            c->payload_bytes += take;
            c->remaining -= take;
            i += take;
            if (c->remaining == 0)
                c->state = ST_DATA_CR;
            continue;
        }
        step_framing(c, buf[i]);
        if (c->state == ST_ERROR)
            break;
        c->framing_bytes++;
        i++;
    }
    if (used)
        *used = i;
    if (c->state == ST_ERROR)
        return CHUNKED_ERROR;
    return c->state == ST_DONE ? CHUNKED_DONE : CHUNKED_MORE;
}
