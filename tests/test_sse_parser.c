/* test_sse_parser.c: unit tests for the text/event-stream parser (common/sse_parser.c).
 *
 * Most tests are table cases run by run_case, which feeds each case three ways: whole, byte
 * by byte, and split in two at every offset (with an empty feed at the split). Every way
 * must produce the same log of callbacks, the same counts, and counts that add up to the
 * bytes fed. A case is one or more streams; after each stream the parser is reset (EOF).
 *
 * The log is one entry per callback or outcome, separated by spaces:
 *   E[type][data][id]  an event          C[text]  a comment       R[ms]  a retry
 *   !STOP              feed returned SSE_STOPPED (the driver then resumes where it stopped)
 *   !BIG               feed returned SSE_ERR_TOO_BIG (logged once per stream)
 *   Z[id]              end of stream: reset, then the last event ID
 * Bytes outside printable ASCII and the characters [ ] \ are escaped: \n \r \0 or \xNN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "sse_parser.h"

#define MAX_STREAMS 4

struct bytes {
    const char *p; /* NULL ends the list of streams */
    size_t n;
};
#define B(lit)                                                                             \
    {                                                                                      \
        (lit), sizeof(lit) - 1                                                             \
    }

struct sse_case {
    const char *name;
    struct bytes streams[MAX_STREAMS]; /* each ends with an EOF (reset) */
    size_t max;                        /* max_event_bytes; 0 for the default */
    int stop_at;                     /* on_event stops at this event (1-based); -1 always */
    const char *want;                /* expected log */
    const struct sse_counts *counts; /* expected byte counts, or NULL */
};

/* The case's streams laid end to end. */
struct input {
    char *all;
    size_t len;
    size_t ends[MAX_STREAMS]; /* offset just past each stream */
    size_t nstreams;
};

struct recorder {
    struct dynbuf log;
    struct sse_parser *p;
    int events;
    int stop_at;
};

static void log_sep(struct recorder *r)
{
    if (r->log.len)
        assert_int_equal(dynbuf_add(&r->log, " ", 1), 0);
}

static void log_escaped(struct recorder *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (c == '\n')
            rc = dynbuf_adds(&r->log, "\\n");
        else if (c == '\r')
            rc = dynbuf_adds(&r->log, "\\r");
        else if (c == '\0')
            rc = dynbuf_adds(&r->log, "\\0");
        else if (c < 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
            rc = dynbuf_addf(&r->log, "\\x%02x", c);
        else
            rc = dynbuf_add(&r->log, &s[i], 1);
        assert_int_equal(rc, 0);
    }
}

static void log_field(struct recorder *r, const char *s, size_t n)
{
    assert_int_equal(dynbuf_add(&r->log, "[", 1), 0);
    log_escaped(r, s, n);
    assert_int_equal(dynbuf_add(&r->log, "]", 1), 0);
}

static int rec_event(void *ctx, const struct sse_event *ev)
{
    struct recorder *r = ctx;
    /* Every string is NUL-terminated at its length, and id is the parser's last id. */
    assert_int_equal(ev->type[ev->type_len], '\0');
    assert_int_equal(ev->data[ev->data_len], '\0');
    assert_int_equal(ev->id[ev->id_len], '\0');
    assert_string_equal(ev->id, sse_parser_last_id(r->p));
    assert_true(ev->type_len > 0);
    log_sep(r);
    assert_int_equal(dynbuf_add(&r->log, "E", 1), 0);
    log_field(r, ev->type, ev->type_len);
    log_field(r, ev->data, ev->data_len);
    log_field(r, ev->id, ev->id_len);
    r->events++;
    return r->stop_at < 0 || r->events == r->stop_at;
}

static void rec_comment(void *ctx, const char *text, size_t len)
{
    struct recorder *r = ctx;
    log_sep(r);
    assert_int_equal(dynbuf_add(&r->log, "C", 1), 0);
    log_field(r, text, len);
}

static void rec_retry(void *ctx, uint64_t ms)
{
    struct recorder *r = ctx;
    log_sep(r);
    assert_int_equal(dynbuf_addf(&r->log, "R[%" PRIu64 "]", ms), 0);
}

static void rec_mark(struct recorder *r, const char *mark)
{
    log_sep(r);
    assert_int_equal(dynbuf_adds(&r->log, mark), 0);
}

static uint64_t counted(const struct sse_counts *c)
{
    return c->data_bytes + c->comment_bytes + c->framing_bytes;
}

static void input_build(struct input *in, const struct sse_case *c)
{
    memset(in, 0, sizeof(*in));
    for (size_t i = 0; i < MAX_STREAMS && c->streams[i].p; i++)
        in->len += c->streams[i].n;
    in->all = malloc(in->len + 1);
    assert_non_null(in->all);
    size_t off = 0;
    for (size_t i = 0; i < MAX_STREAMS && c->streams[i].p; i++) {
        memcpy(in->all + off, c->streams[i].p, c->streams[i].n);
        off += c->streams[i].n;
        in->ends[in->nstreams++] = off;
    }
}

/* Feed the case once, cut at the given ascending offsets (and at each stream end, where
 * the parser is reset). On SSE_STOPPED it resumes at the byte the counts say it reached.
 * With empty_feeds, a zero-length feed follows every piece. */
static void run_once(const struct sse_case *c, const struct input *in, const size_t *cuts,
                     size_t ncuts, bool empty_feeds, const char *how,
                     struct sse_counts *counts_out)
{
    struct recorder r = {.stop_at = c->stop_at};
    dynbuf_init(&r.log, 1 << 20);
    struct sse_callbacks cb = {rec_event, rec_comment, rec_retry, &r};
    r.p = sse_parser_new(c->max, &cb);
    assert_non_null(r.p);

    size_t pos = 0;
    size_t ci = 0;
    for (size_t si = 0; si < in->nstreams; si++) {
        bool failed = false;
        while (pos < in->ends[si]) {
            size_t b = in->ends[si];
            while (ci < ncuts && cuts[ci] <= pos)
                ci++;
            if (ci < ncuts && cuts[ci] < b)
                b = cuts[ci];
            enum sse_status st = sse_parser_feed(r.p, in->all + pos, b - pos);
            if (st == SSE_STOPPED) {
                assert_false(failed);
                rec_mark(&r, "!STOP");
                uint64_t reached = counted(sse_parser_counts(r.p));
                if (reached <= pos || reached > b)
                    fail_msg("%s (%s): stopped at %" PRIu64 ", fed %zu..%zu", c->name, how,
                             reached, pos, b);
                pos = (size_t)reached;
                continue;
            }
            if (st == SSE_ERR_TOO_BIG) {
                if (!failed)
                    rec_mark(&r, "!BIG");
                failed = true;
            } else {
                assert_int_equal(st, SSE_OK);
                assert_false(failed); /* once failed, every feed fails until reset */
            }
            pos = b;
            if (empty_feeds) {
                st = sse_parser_feed(r.p, in->all + pos, 0);
                assert_int_equal(st, failed ? SSE_ERR_TOO_BIG : SSE_OK);
            }
        }
        sse_parser_reset(r.p);
        const char *id = sse_parser_last_id(r.p);
        log_sep(&r);
        assert_int_equal(dynbuf_add(&r.log, "Z", 1), 0);
        log_field(&r, id, strlen(id));
    }

    const char *got = r.log.mem ? r.log.mem : "";
    if (strcmp(got, c->want) != 0)
        fail_msg("%s (%s):\n   got: %s\n  want: %s", c->name, how, got, c->want);
    const struct sse_counts *k = sse_parser_counts(r.p);
    if (counted(k) != in->len)
        fail_msg("%s (%s): counted %" PRIu64 " bytes (data %" PRIu64 ", comment %" PRIu64
                 ", framing %" PRIu64 "), fed %zu",
                 c->name, how, counted(k), k->data_bytes, k->comment_bytes,
                 k->framing_bytes, in->len);
    *counts_out = *k;
    sse_parser_free(r.p);
    dynbuf_free(&r.log);
}

static void counts_match(const struct sse_case *c, const char *how,
                         const struct sse_counts *got, const struct sse_counts *want)
{
    if (got->data_bytes != want->data_bytes || got->comment_bytes != want->comment_bytes ||
        got->framing_bytes != want->framing_bytes || got->events != want->events ||
        got->comments != want->comments)
        fail_msg("%s (%s): counts data/comment/framing/events/comments %" PRIu64 "/%" PRIu64
                 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 ", want %" PRIu64 "/%" PRIu64
                 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64,
                 c->name, how, got->data_bytes, got->comment_bytes, got->framing_bytes,
                 got->events, got->comments, want->data_bytes, want->comment_bytes,
                 want->framing_bytes, want->events, want->comments);
}

/* Run one case whole, byte by byte, and split in two at every offset. */
static void run_case(const struct sse_case *c)
{
    struct input in;
    input_build(&in, c);
    struct sse_counts whole;
    struct sse_counts k;

    run_once(c, &in, NULL, 0, false, "whole", &whole);
    if (c->counts)
        counts_match(c, "whole", &whole, c->counts);

    size_t *cuts = malloc((in.len + 1) * sizeof(*cuts));
    assert_non_null(cuts);
    for (size_t i = 0; i + 1 < in.len; i++)
        cuts[i] = i + 1;
    run_once(c, &in, cuts, in.len ? in.len - 1 : 0, false, "byte by byte", &k);
    counts_match(c, "byte by byte", &k, &whole);

    for (size_t at = 0; at <= in.len; at++) {
        char how[64];
        snprintf(how, sizeof(how), "split at %zu", at);
        run_once(c, &in, &at, 1, true, how, &k);
        counts_match(c, how, &k, &whole);
    }
    free(cuts);
    free(in.all);
}

static void run_cases(const struct sse_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_case(&cases[i]);
}
#define RUN_CASES(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]))

/* ---- table cases, one test per rule ------------------------------------------------ */

static void test_simple_event(void **state)
{
    (void)state;
    static const struct sse_counts counts = {
        .data_bytes = 5, .framing_bytes = 8, .events = 1};
    const struct sse_case cases[] = {
        {"simple", {B("data: hello\n\n")}, 0, 0, "E[message][hello][] Z[]", &counts},
        {"two events",
         {B("data: a\n\ndata: b\n\n")},
         0,
         0,
         "E[message][a][] E[message][b][] Z[]",
         NULL},
        {"empty stream", {B("")}, 0, 0, "Z[]", NULL},
        {"value with colons",
         {B("data: a:b: c\n\n")},
         0,
         0,
         "E[message][a:b: c][] Z[]",
         NULL},
        {"bytes pass through",
         {B("data: \xc3\xa9\x01\x7f\n\n")},
         0,
         0,
         "E[message][\\xc3\\xa9\\x01\\x7f][] Z[]",
         NULL},
        {"NUL in data", {B("data: a\0b\n\n")}, 0, 0, "E[message][a\\0b][] Z[]", NULL},
    };
    RUN_CASES(cases);
}

static void test_bom(void **state)
{
    (void)state;
    static const struct sse_counts bom_counts = {
        .data_bytes = 1, .framing_bytes = 3 + 6 + 1 + 1, .events = 1};
    const struct sse_case cases[] = {
        {"BOM at start",
         {B("\xEF\xBB\xBF"
            "data: x\n\n")},
         0,
         0,
         "E[message][x][] Z[]",
         &bom_counts},
        {"BOM then comment", {B("\xEF\xBB\xBF:hi\n")}, 0, 0, "C[hi] Z[]", NULL},
        {"BOM only", {B("\xEF\xBB\xBF")}, 0, 0, "Z[]", NULL},
        {"second BOM is content",
         {B("\xEF\xBB\xBF\xEF\xBB\xBF"
            "data: x\n\n")},
         0,
         0,
         "Z[]",
         NULL},
        {"second BOM as a line of its own",
         {B("\xEF\xBB\xBF\xEF\xBB\xBF\ndata: x\n\n")},
         0,
         0,
         "E[message][x][] Z[]",
         NULL},
        {"BOM on a later line is part of the name",
         {B("data: a\n\n\xEF\xBB\xBF"
            "data: b\n\n")},
         0,
         0,
         "E[message][a][] Z[]",
         NULL},
        {"BOM in a value is data",
         {B("data: \xEF\xBB\xBFx\n\n")},
         0,
         0,
         "E[message][\\xef\\xbb\\xbfx][] Z[]",
         NULL},
        {"BOM in a comment",
         {B("\xEF\xBB\xBF:\xEF\xBB\xBF\n")},
         0,
         0,
         "C[\\xef\\xbb\\xbf] Z[]",
         NULL},
        {"half a BOM is content",
         {B("\xEF\xBB"
            "data: x\n\n")},
         0,
         0,
         "Z[]",
         NULL},
        {"one BOM byte is content",
         {B("\xEF:x\ndata: y\n\n")},
         0,
         0,
         "E[message][y][] Z[]",
         NULL},
        {"half a BOM then a line end",
         {B("\xEF\xBB\r\ndata: y\n\n")},
         0,
         0,
         "E[message][y][] Z[]",
         NULL},
        {"BOM bytes out of order",
         {B("\xBB\xEF\xBF\ndata: y\n\n")},
         0,
         0,
         "E[message][y][] Z[]",
         NULL},
        {"BOM again after reset",
         {B("data: a\n\n"), B("\xEF\xBB\xBF"
                              "data: b\n\n")},
         0,
         0,
         "E[message][a][] Z[] E[message][b][] Z[]",
         NULL},
        {"partial BOM dropped at reset",
         {B("\xEF\xBB"), B("\xBF"
                           "data: b\n\ndata: c\n\n")},
         0,
         0,
         "Z[] E[message][c][] Z[]",
         NULL},
        {"BOM before a CR",
         {B("\xEF\xBB\xBF\rdata: b\r\r")},
         0,
         0,
         "E[message][b][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_line_endings(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"LF", {B("data: a\ndata: b\n\n")}, 0, 0, "E[message][a\\nb][] Z[]", NULL},
        {"CR", {B("data: a\rdata: b\r\r")}, 0, 0, "E[message][a\\nb][] Z[]", NULL},
        {"CRLF", {B("data: a\r\ndata: b\r\n\r\n")}, 0, 0, "E[message][a\\nb][] Z[]", NULL},
        {"mixed",
         {B("data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\n\n")},
         0,
         0,
         "E[message][a\\nb\\nc][] E[message][d][] Z[]",
         NULL},
        {"LF CR is two line ends",
         {B("data: a\n\rdata: b\n\n")},
         0,
         0,
         "E[message][a][] E[message][b][] Z[]",
         NULL},
        {"CR CR LF",
         {B("data: a\r\r\ndata: b\r\n\r")},
         0,
         0,
         "E[message][a][] E[message][b][] Z[]",
         NULL},
        {"CR LF LF", {B("data: a\r\n\n")}, 0, 0, "E[message][a][] Z[]", NULL},
        {"blank lines only", {B("\n\r\n\r\r\n\n")}, 0, 0, "Z[]", NULL},
        {"CR in the last byte", {B("data: a\r")}, 0, 0, "Z[]", NULL},
        {"comment ended by CRLF",
         {B(":x\r\n:y\r\n")},
         0,
         0,
         "C[x] C[y] Z[]",
         &(const struct sse_counts){.comment_bytes = 8, .comments = 2}},
        {"no line end at EOF",
         {B("data: a\n\ndata: b")},
         0,
         0,
         "E[message][a][] Z[]",
         NULL},
        {"CR then reset: LF starts the next stream",
         {B("data: a\n\r"), B("\ndata: b\n\n")},
         0,
         0,
         "E[message][a][] Z[] E[message][b][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_comments(void **state)
{
    (void)state;
    static const struct sse_counts counts = {.data_bytes = 2,
                                             .comment_bytes = 4 + 2,
                                             .framing_bytes = 7 + 7 + 1,
                                             .events = 1,
                                             .comments = 2};
    const struct sse_case cases[] = {
        {"comment", {B(":hello\n")}, 0, 0, "C[hello] Z[]", NULL},
        {"space is kept", {B(": hello \n")}, 0, 0, "C[ hello ] Z[]", NULL},
        {"empty comment", {B(":\n")}, 0, 0, "C[] Z[]", NULL},
        {"colons", {B("::x:\n")}, 0, 0, "C[:x:] Z[]", NULL},
        {"inside an event",
         {B("data: a\n:c\r\n:\rdata: b\n\n")},
         0,
         0,
         "C[c] C[] E[message][a\\nb][] Z[]",
         &counts},
        {"comment does not dispatch", {B(":x\n\n")}, 0, 0, "C[x] Z[]", NULL},
        {"comment cut by EOF", {B(":keep\n:lost")}, 0, 0, "C[keep] Z[]", NULL},
    };
    RUN_CASES(cases);
}

static void test_field_without_colon(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"data alone", {B("data\n\n")}, 0, 0, "E[message][][] Z[]", NULL},
        {"data alone twice", {B("data\ndata\n\n")}, 0, 0, "E[message][\\n][] Z[]", NULL},
        {"data colon", {B("data:\n\n")}, 0, 0, "E[message][][] Z[]", NULL},
        {"data alone amid lines",
         {B("data: a\ndata\ndata: b\n\n")},
         0,
         0,
         "E[message][a\\n\\nb][] Z[]",
         NULL},
        {"event alone means message",
         {B("event\ndata: x\n\n")},
         0,
         0,
         "E[message][x][] Z[]",
         NULL},
        {"id alone clears the id",
         {B("id: 1\ndata: a\n\nid\ndata: b\n\n")},
         0,
         0,
         "E[message][a][1] E[message][b][] Z[]",
         NULL},
        {"retry alone is ignored", {B("retry\n")}, 0, 0, "Z[]", NULL},
    };
    RUN_CASES(cases);
}

static void test_space_stripping(void **state)
{
    (void)state;
    static const struct sse_counts one_space = {
        .data_bytes = 2, .framing_bytes = 6 + 1 + 1, .events = 1};
    const struct sse_case cases[] = {
        {"no space", {B("data:x\n\n")}, 0, 0, "E[message][x][] Z[]", NULL},
        {"one space", {B("data: x\n\n")}, 0, 0, "E[message][x][] Z[]", NULL},
        {"two spaces keep one",
         {B("data:  x\n\n")},
         0,
         0,
         "E[message][ x][] Z[]",
         &one_space},
        {"tab is kept", {B("data:\tx\n\n")}, 0, 0, "E[message][\\x09x][] Z[]", NULL},
        {"trailing space kept", {B("data: x \n\n")}, 0, 0, "E[message][x ][] Z[]", NULL},
        {"only a space", {B("data: \n\n")}, 0, 0, "E[message][][] Z[]", NULL},
        {"space before colon is in the name", {B("data : x\n\n")}, 0, 0, "Z[]", NULL},
        {"leading space in the name", {B(" data: x\n\n")}, 0, 0, "Z[]", NULL},
        {"event value one space",
         {B("event:  ping\ndata: x\n\n")},
         0,
         0,
         "E[ ping][x][] Z[]",
         NULL},
        {"id value one space",
         {B("id:  7\ndata: x\n\n")},
         0,
         0,
         "E[message][x][ 7] Z[ 7]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_multiline_data(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"three lines",
         {B("data: a\ndata: b\ndata: c\n\n")},
         0,
         0,
         "E[message][a\\nb\\nc][] Z[]",
         NULL},
        {"empty middle line",
         {B("data: a\ndata:\ndata: c\n\n")},
         0,
         0,
         "E[message][a\\n\\nc][] Z[]",
         NULL},
        {"trailing empty line keeps one LF",
         {B("data: a\ndata:\n\n")},
         0,
         0,
         "E[message][a\\n][] Z[]",
         NULL},
        {"fields between data lines",
         {B("data: a\nevent: t\nid: 1\nfoo\ndata: b\n\n")},
         0,
         0,
         "E[t][a\\nb][1] Z[1]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_event_type(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"typed", {B("event: ping\ndata: x\n\n")}, 0, 0, "E[ping][x][] Z[]", NULL},
        {"type is reset after dispatch",
         {B("event: ping\ndata: x\n\ndata: y\n\n")},
         0,
         0,
         "E[ping][x][] E[message][y][] Z[]",
         NULL},
        {"last event field wins",
         {B("event: a\nevent: b\ndata: x\n\n")},
         0,
         0,
         "E[b][x][] Z[]",
         NULL},
        {"empty type means message",
         {B("event:\ndata: x\n\n")},
         0,
         0,
         "E[message][x][] Z[]",
         NULL},
        {"event without data does not dispatch",
         {B("event: a\n\ndata: x\n\n")},
         0,
         0,
         "E[message][x][] Z[]",
         NULL},
        {"type after data still counts",
         {B("data: x\nevent: late\n\n")},
         0,
         0,
         "E[late][x][] Z[]",
         NULL},
        {"field names are case-sensitive",
         {B("Event: a\nDATA: b\ndata: x\n\n")},
         0,
         0,
         "E[message][x][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_id(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"id persists",
         {B("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n")},
         0,
         0,
         "E[message][a][1] E[message][b][1] E[message][c][2] Z[2]",
         NULL},
        {"id without data is kept",
         {B("id: 7\n\ndata: x\n\n")},
         0,
         0,
         "E[message][x][7] Z[7]",
         NULL},
        {"id after data in the same event",
         {B("data: x\nid: 3\n\n")},
         0,
         0,
         "E[message][x][3] Z[3]",
         NULL},
        {"id with NUL is ignored",
         {B("id: 1\n\nid: a\0b\ndata: x\n\n")},
         0,
         0,
         "E[message][x][1] Z[1]",
         NULL},
        {"id that is only NUL is ignored",
         {B("id: 1\nid:\0\ndata: x\n\n")},
         0,
         0,
         "E[message][x][1] Z[1]",
         NULL},
        {"empty id clears",
         {B("id: 1\ndata: a\n\nid:\ndata: b\n\n")},
         0,
         0,
         "E[message][a][1] E[message][b][] Z[]",
         NULL},
        {"id bytes pass through",
         {B("id: \xc3\xa9:x\ndata: a\n\n")},
         0,
         0,
         "E[message][a][\\xc3\\xa9:x] Z[\\xc3\\xa9:x]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_retry(void **state)
{
    (void)state;
    static const struct sse_counts counts = {.framing_bytes = 12};
    const struct sse_case cases[] = {
        {"retry", {B("retry: 1000\n")}, 0, 0, "R[1000] Z[]", &counts},
        {"retry zero", {B("retry:0\n")}, 0, 0, "R[0] Z[]", NULL},
        {"leading zeros", {B("retry: 007\n")}, 0, 0, "R[7] Z[]", NULL},
        {"digits then letter", {B("retry: 12a\n")}, 0, 0, "Z[]", NULL},
        {"empty", {B("retry:\nretry: \n")}, 0, 0, "Z[]", NULL},
        {"second space", {B("retry:  12\n")}, 0, 0, "Z[]", NULL},
        {"trailing space", {B("retry: 12 \n")}, 0, 0, "Z[]", NULL},
        {"sign", {B("retry: -1\nretry: +1\n")}, 0, 0, "Z[]", NULL},
        {"decimal", {B("retry: 1.5\n")}, 0, 0, "Z[]", NULL},
        {"UINT64_MAX",
         {B("retry: 18446744073709551615\n")},
         0,
         0,
         "R[18446744073709551615] Z[]",
         NULL},
        {"UINT64_MAX + 1", {B("retry: 18446744073709551616\n")}, 0, 0, "Z[]", NULL},
        {"far too long", {B("retry: 99999999999999999999999999\n")}, 0, 0, "Z[]", NULL},
        {"retry does not dispatch",
         {B("retry: 5\n\ndata: x\nretry: 6\n\n")},
         0,
         0,
         "R[5] R[6] E[message][x][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_no_dispatch(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"blank lines", {B("\n\n\n")}, 0, 0, "Z[]", NULL},
        {"event only", {B("event: x\n\n")}, 0, 0, "Z[]", NULL},
        {"unknown field", {B("foo: bar\n\n")}, 0, 0, "Z[]", NULL},
        {"event only, then data",
         {B("event: x\n\ndata: y\n\n")},
         0,
         0,
         "E[message][y][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_reset(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"partial event dropped",
         {B("data: a\n"), B("data: b\n\n")},
         0,
         0,
         "Z[] E[message][b][] Z[]",
         NULL},
        {"partial line dropped", {B("data: a"), B("\n\n")}, 0, 0, "Z[] Z[]", NULL},
        {"type dropped",
         {B("event: t\ndata: a\n"), B("data: b\n\n")},
         0,
         0,
         "Z[] E[message][b][] Z[]",
         NULL},
        {"last id kept",
         {B("id: 5\ndata: a\n\n"), B("data: z\n\n")},
         0,
         0,
         "E[message][a][5] Z[5] E[message][z][5] Z[5]",
         NULL},
        {"id-only event kept",
         {B("id: 5\n\n"), B("data: z\n\n")},
         0,
         0,
         "Z[5] E[message][z][5] Z[5]",
         NULL},
        {"id of a partial event forgotten",
         {B("id: 1\n\nid: 2\ndata: x\n"), B("data: y\n\n")},
         0,
         0,
         "Z[1] E[message][y][1] Z[1]",
         NULL},
        {"id of a partial event, then id-only event",
         {B("id: 1\ndata: a\n\nid: 2\n"), B("id: 3\n\n"), B("data: y\n\n")},
         0,
         0,
         "E[message][a][1] Z[1] Z[3] E[message][y][3] Z[3]",
         NULL},
        {"partial comment dropped",
         {B(":a"), B("b\n")},
         0,
         0,
         "Z[] Z[]",
         &(const struct sse_counts){.framing_bytes = 4}},
        {"empty streams",
         {B(""), B(""), B("data: x\n\n")},
         0,
         0,
         "Z[] Z[] E[message][x][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_stop(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"stop at first",
         {B("data: a\n\ndata: b\n\n")},
         0,
         1,
         "E[message][a][] !STOP E[message][b][] Z[]",
         NULL},
        {"stop at every",
         {B("data: a\r\n\r\n:c\rdata: b\r\r")},
         0,
         -1,
         "E[message][a][] !STOP C[c] E[message][b][] !STOP Z[]",
         NULL},
        {"stop at CR then LF",
         {B("data: a\r\rdata: b\n\n")},
         0,
         -1,
         "E[message][a][] !STOP E[message][b][] !STOP Z[]",
         NULL},
        {"stop then reset",
         {B("data: a\n\n"), B("data: b\n\n")},
         0,
         -1,
         "E[message][a][] !STOP Z[] E[message][b][] !STOP Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_too_big(void **state)
{
    (void)state;
    const struct sse_case cases[] = {
        {"long line without a line end",
         {B("data: 0123456789abcdef0123456789")},
         16,
         0,
         "!BIG Z[]",
         NULL},
        {"long line with a line end",
         {B("data: 0123456789abcdef0123456789\n\n")},
         16,
         0,
         "!BIG Z[]",
         &(const struct sse_counts){.framing_bytes = 34}},
        {"long comment", {B(":0123456789abcdef0123456789\n")}, 16, 0, "!BIG Z[]", NULL},
        {"exactly at the cap",
         {B("data: 0123456789\n\n")},
         16,
         0,
         "E[message][0123456789][] Z[]",
         NULL},
        {"one over the cap", {B("data: 0123456789a\n\n")}, 16, 0, "!BIG Z[]", NULL},
        {"many data lines",
         {B("data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\n")},
         32,
         0,
         "!BIG Z[]",
         NULL},
        {"data lines that fit",
         {B("data: 0123456789\ndata: 0123456789\n\n")},
         32,
         0,
         "E[message][0123456789\\n0123456789][] Z[]",
         NULL},
        {"type counts",
         {B("event: 0123456789\ndata: 0123456789\n\n")},
         20,
         0,
         "!BIG Z[]",
         NULL},
        {"events before the error are kept",
         {B("data: a\n\n:c\ndata: 0123456789abcdef\n\n")},
         16,
         0,
         "E[message][a][] C[c] !BIG Z[]",
         NULL},
        {"reset makes it usable again",
         {B("id: 1\n\ndata: 0123456789abcdefghij\n\n"), B("data: ok\n\n")},
         16,
         0,
         "!BIG Z[1] E[message][ok][1] Z[1]",
         NULL},
        {"half a BOM over a tiny cap", {B("\xEF\xBB\n")}, 1, 0, "!BIG Z[]", NULL},
        {"BOM does not count toward the cap",
         {B("\xEF\xBB\xBF"
            "data\n\n")},
         4,
         0,
         "E[message][][] Z[]",
         NULL},
    };
    RUN_CASES(cases);
}

static void test_counts(void **state)
{
    (void)state;
    /* Comment ":hi\r\n" (5), data values "ab" and "c" (3), everything else framing. */
    static const char in[] = "\xEF\xBB\xBF:hi\r\ndata: ab\ndata:c\nevent: e\nid: 1\n"
                             "retry: 5\nfoo\n\n";
    static const struct sse_counts counts = {.data_bytes = 3,
                                             .comment_bytes = 5,
                                             .framing_bytes = sizeof(in) - 1 - 8,
                                             .events = 1,
                                             .comments = 1};
    const struct sse_case cases[] = {
        {"everything",
         {{in, sizeof(in) - 1}},
         0,
         0,
         "C[hi] R[5] E[e][ab\\nc][1] Z[1]",
         &counts},
        {"data lines of a dropped event still count",
         {B("data: abc\n")},
         0,
         0,
         "Z[]",
         &(const struct sse_counts){.data_bytes = 3, .framing_bytes = 7}},
    };
    RUN_CASES(cases);
}

/* ---- direct tests of timing and the API ------------------------------------------- */

static struct sse_parser *new_recorder(struct recorder *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    dynbuf_init(&r->log, (size_t)4 << 20);
    struct sse_callbacks cb = {rec_event, rec_comment, rec_retry, r};
    r->p = sse_parser_new(max, &cb);
    assert_non_null(r->p);
    return r->p;
}

static void free_recorder(struct recorder *r)
{
    sse_parser_free(r->p);
    dynbuf_free(&r->log);
}

static const char *log_of(const struct recorder *r)
{
    return r->log.mem ? r->log.mem : "";
}

#define FEED(p, lit) sse_parser_feed((p), (lit), sizeof(lit) - 1)

/* A CR ending one feed and an LF starting the next are one line end, not a blank line. */
static void test_crlf_split_timing(void **state)
{
    (void)state;
    struct recorder r;
    struct sse_parser *p = new_recorder(&r, 0);
    assert_int_equal(FEED(p, "data: a\r"), SSE_OK);
    assert_int_equal(FEED(p, "\n"), SSE_OK);
    assert_string_equal(log_of(&r), "");
    assert_int_equal(FEED(p, "\n"), SSE_OK);
    assert_string_equal(log_of(&r), "E[message][a][]");
    /* A CR and then a CR: the second one is a blank line, dispatched at once. */
    assert_int_equal(FEED(p, "data: b\r"), SSE_OK);
    assert_int_equal(FEED(p, "\r"), SSE_OK);
    assert_string_equal(log_of(&r), "E[message][a][] E[message][b][]");
    /* The LF half of a comment's CRLF is a comment byte. */
    assert_int_equal(FEED(p, ":c\r"), SSE_OK);
    assert_int_equal(FEED(p, "\n"), SSE_OK);
    assert_int_equal(sse_parser_counts(p)->comment_bytes, 4);
    free_recorder(&r);
}

static void test_stop_leaves_rest_unread(void **state)
{
    (void)state;
    static const char in[] = "data: a\n\n:c\ndata: b\n\n";
    struct recorder r;
    struct sse_parser *p = new_recorder(&r, 0);
    r.stop_at = 1;
    assert_int_equal(FEED(p, in), SSE_STOPPED);
    assert_string_equal(log_of(&r), "E[message][a][]");
    assert_int_equal(counted(sse_parser_counts(p)), 9);
    assert_int_equal(sse_parser_feed(p, in + 9, sizeof(in) - 1 - 9), SSE_OK);
    assert_string_equal(log_of(&r), "E[message][a][] C[c] E[message][b][]");
    free_recorder(&r);
}

static void test_too_big_is_sticky(void **state)
{
    (void)state;
    struct recorder r;
    struct sse_parser *p = new_recorder(&r, 8);
    assert_int_equal(FEED(p, "data: 0123456789"), SSE_ERR_TOO_BIG);
    assert_int_equal(FEED(p, "\n\ndata: a\n\n"), SSE_ERR_TOO_BIG);
    assert_int_equal(FEED(p, ""), SSE_ERR_TOO_BIG);
    assert_string_equal(log_of(&r), "");
    sse_parser_reset(p);
    assert_int_equal(FEED(p, "data: a\n\n"), SSE_OK);
    assert_string_equal(log_of(&r), "E[message][a][]");
    assert_int_equal(counted(sse_parser_counts(p)), 16 + 11 + 9);
    free_recorder(&r);
}

static void test_last_id_api(void **state)
{
    (void)state;
    struct recorder r;
    struct sse_parser *p = new_recorder(&r, 0);
    assert_string_equal(sse_parser_last_id(p), "");
    assert_int_equal(FEED(p, "id: 1\n\nid: 2\n"), SSE_OK);
    assert_string_equal(sse_parser_last_id(p), "2"); /* the buffer, before dispatch */
    sse_parser_reset(p);
    assert_string_equal(sse_parser_last_id(p), "1"); /* what a reconnect should send */
    free_recorder(&r);
}

/* An id set before any stream: sent on reconnect, kept by a reset, replaced by the
 * stream's own; it counts no bytes; one holding a NUL is refused. */
static void test_set_last_id(void **state)
{
    (void)state;
    struct recorder r;
    struct sse_parser *p = new_recorder(&r, 0);
    assert_int_equal(sse_parser_set_last_id(p, "abc", 3), 0);
    assert_string_equal(sse_parser_last_id(p), "abc");
    assert_int_equal(sse_parser_set_last_id(p, "a\0c", 3), -1);
    assert_string_equal(sse_parser_last_id(p), "abc");
    assert_int_equal(FEED(p, "id: 9\ndata"), SSE_OK);
    sse_parser_reset(p); /* the unfinished event's id goes with it */
    assert_string_equal(sse_parser_last_id(p), "abc");
    const struct sse_counts *c = sse_parser_counts(p);
    assert_int_equal(c->data_bytes + c->framing_bytes + c->comment_bytes, 10);
    assert_int_equal(FEED(p, "id: 9\n\n"), SSE_OK);
    sse_parser_reset(p);
    assert_string_equal(sse_parser_last_id(p), "9");
    free_recorder(&r);
}

static void test_null_callbacks(void **state)
{
    (void)state;
    int events = 0;
    struct sse_callbacks cb = {.on_event = NULL, .ctx = &events};
    struct sse_parser *p = sse_parser_new(0, &cb);
    assert_non_null(p);
    assert_int_equal(FEED(p, ":c\nretry: 5\ndata: x\n\n"), SSE_OK);
    assert_int_equal(sse_parser_counts(p)->events, 1);
    assert_int_equal(sse_parser_counts(p)->comments, 1);
    sse_parser_free(p);
    sse_parser_free(NULL);
}

/* A 1 MiB event under the default cap, fed whole and in odd-sized pieces. */
static void test_large_event(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    char *in = malloc(n + 10);
    assert_non_null(in);
    memcpy(in, "data: ", 6);
    memset(in + 6, 'x', n);
    memcpy(in + 6 + n, "\n\n", 2);
    size_t len = n + 8;
    size_t steps[] = {len, 4093, 1};
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        struct recorder r;
        struct sse_parser *p = new_recorder(&r, 0);
        for (size_t off = 0; off < len; off += steps[s]) {
            size_t k = len - off < steps[s] ? len - off : steps[s];
            assert_int_equal(sse_parser_feed(p, in + off, k), SSE_OK);
        }
        assert_int_equal(sse_parser_counts(p)->events, 1);
        assert_int_equal(sse_parser_counts(p)->data_bytes, n);
        assert_int_equal(r.log.len, strlen("E[message][][]") + n);
        free_recorder(&r);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_event),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_field_without_colon),
        cmocka_unit_test(test_space_stripping),
        cmocka_unit_test(test_multiline_data),
        cmocka_unit_test(test_event_type),
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_retry),
        cmocka_unit_test(test_no_dispatch),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_crlf_split_timing),
        cmocka_unit_test(test_stop_leaves_rest_unread),
        cmocka_unit_test(test_too_big_is_sticky),
        cmocka_unit_test(test_last_id_api),
        cmocka_unit_test(test_set_last_id),
        cmocka_unit_test(test_null_callbacks),
        cmocka_unit_test(test_large_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
