/* test_ws_handshake.c: the WebSocket opening handshake's response parser and verdict
 * (clients/ws_handshake.c).
 *
 * Every case runs whole, byte by byte, and split in two at every point; the status, the
 * verdict and the number of head bytes consumed must be the same each way, and the bytes
 * after the head (a first frame sent with the 101) must be left unconsumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ws_handshake.h"
#include "dynbuf.h"

/* The RFC 6455 section 1.3 key and its answer. */
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define FRAME  "\x81\x05hello"

struct outcome {
    enum ws_hs_status st;
    size_t used;
    enum ws_hs_verdict v;
    int status;
};

/* Feed text in pieces that start at each offset in cuts (sorted, cuts[0] == 0). */
static struct outcome feed_pieces(const char *text, size_t len, const size_t *cuts,
                                  size_t ncuts)
{
    struct ws_handshake *h = malloc(sizeof(*h));
    assert_non_null(h);
    ws_handshake_init(h);
    struct outcome o = {WS_HS_MORE, 0, WS_HS_MALFORMED, 0};
    for (size_t i = 0; i < ncuts && o.st == WS_HS_MORE; i++) {
        size_t from = cuts[i], to = i + 1 < ncuts ? cuts[i + 1] : len;
        size_t used = 0;
        o.st = ws_handshake_feed(h, text + from, to - from, &used);
        o.used += used;
        if (o.st == WS_HS_MORE)
            assert_int_equal(used, to - from);
    }
    o.v = ws_handshake_verdict(h, ACCEPT);
    o.status = h->status;
    assert_int_equal(h->head_bytes, o.used);
    free(h);
    return o;
}

/* Whole, byte by byte, and at every split: all must agree with want. */
static void check_all(const char *text, struct outcome want)
{
    size_t len = strlen(text);
    size_t whole[] = {0};
    size_t *bytes = malloc((len + 1) * sizeof(*bytes));
    assert_non_null(bytes);
    for (size_t i = 0; i < len; i++)
        bytes[i] = i;
    struct outcome got[3];
    got[0] = feed_pieces(text, len, whole, 1);
    got[1] = feed_pieces(text, len, bytes, len ? len : 1);
    for (size_t cut = 0; cut <= len; cut++) {
        size_t two[] = {0, cut};
        got[2] = feed_pieces(text, len, two, 2);
        for (int k = 0; k < 3; k++) {
            if (got[k].st != want.st || got[k].used != want.used || got[k].v != want.v ||
                got[k].status != want.status)
                fail_msg("way %d (cut %zu): status %d used %zu verdict %s code %d; want %d "
                         "%zu %s %d",
                         k, cut, got[k].st, got[k].used,
                         ws_handshake_verdict_name(got[k].v), got[k].status, want.st,
                         want.used, ws_handshake_verdict_name(want.v), want.status);
        }
    }
    free(bytes);
}

static const char good_head[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: " ACCEPT "\r\n"
                                "\r\n";

static void good_answer_with_a_frame_behind_it(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof(text), "%s%s", good_head, FRAME);
    check_all(text, (struct outcome){WS_HS_DONE, strlen(good_head), WS_HS_OK, 101});
    check_all(good_head, (struct outcome){WS_HS_DONE, strlen(good_head), WS_HS_OK, 101});
}

static void lenient_forms_are_accepted(void **state)
{
    (void)state;
    /* bare LF, any case, lists, blanks, other headers, an empty extensions line */
    const char *text = "HTTP/1.1 101\n"
                       "date: Sun, 22 Nov 2026 00:27:09 GMT\n"
                       "UPGRADE:WebSocket  \n"
                       "connection: keep-alive, upgrade\n"
                       "sec-websocket-accept:\t" ACCEPT "\n"
                       "Sec-WebSocket-Extensions: \n"
                       "\n";
    check_all(text, (struct outcome){WS_HS_DONE, strlen(text), WS_HS_OK, 101});
    /* Connection given on two lines */
    text = "HTTP/1.0 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
    check_all(text, (struct outcome){WS_HS_DONE, strlen(text), WS_HS_OK, 101});
}

static void http_answers_are_status(void **state)
{
    (void)state;
    const char *head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                       "Content-Length: 25\r\n\r\n";
    char text[512];
    snprintf(text, sizeof(text), "%s{\"error\":\"since: bad\"}", head);
    check_all(text, (struct outcome){WS_HS_DONE, strlen(head), WS_HS_STATUS, 400});
    head = "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
    check_all(head, (struct outcome){WS_HS_DONE, strlen(head), WS_HS_STATUS, 200});
}

static void each_rule_fails_on_its_own(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        enum ws_hs_verdict v;
    } cases[] = {
        {"HTTP/1.1 101 S\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT
         "\r\n\r\n",
         WS_HS_NO_UPGRADE},
        {"HTTP/1.1 101 S\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         WS_HS_NO_UPGRADE},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         WS_HS_NO_CONNECTION},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgraded\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         WS_HS_NO_CONNECTION},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
         WS_HS_BAD_ACCEPT},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
         WS_HS_BAD_ACCEPT},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: S3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
         WS_HS_BAD_ACCEPT},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         WS_HS_BAD_ACCEPT},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\n"
         "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
         WS_HS_EXTENSION},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
         WS_HS_SUBPROTOCOL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_all(cases[i].head,
                  (struct outcome){WS_HS_DONE, strlen(cases[i].head), cases[i].v, 101});
}

/* A malformed head fails at the byte that shows it: used counts up to that line's end. */
static void malformed_heads(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t used; /* head bytes read when the fault shows */
        int status;
    } cases[] = {
        {"HTTP/2 101\r\n\r\n", 12, 0},
        {"HTTP/1.1 10x Switching\r\n\r\n", 24, 0},
        {"HTTP/1.1 101Switching\r\n\r\n", 23, 0},
        {"ICY 200 OK\r\n\r\n", 12, 0},
        {"HTTP/1.1 101 S\r\nUpgrade websocket\r\n\r\n", 35, 101},
        {"HTTP/1.1 101 S\r\nUpgrade : websocket\r\n\r\n", 37, 101},
        {"HTTP/1.1 101 S\r\nUpgrade: websocket\r\n folded\r\n\r\n", 45, 101},
        {"HTTP/1.1 101 S\r\nX: a\x01z\r\n\r\n", 24, 101},
        {"HTTP/1.1 101 S\r\nX: a\rz\r\n\r\n", 24, 101},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_all(cases[i].text, (struct outcome){WS_HS_ERROR, cases[i].used,
                                                  WS_HS_MALFORMED, cases[i].status});
}

static void long_lines_and_the_cap(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    /* a 5000-byte header nobody checks is skipped */
    assert_int_equal(dynbuf_adds(&b, "HTTP/1.1 101 S\r\nX-Long: "), 0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(dynbuf_adds(&b, "v"), 0);
    assert_int_equal(dynbuf_adds(&b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
                     0);
    size_t cuts[] = {0, 1000, 1030, 5020, 5030, 5031, 5032};
    struct outcome o = feed_pieces(b.mem, b.len, cuts, 7);
    assert_int_equal(o.st, WS_HS_DONE);
    assert_int_equal(o.used, b.len);
    assert_int_equal(o.v, WS_HS_OK);
    dynbuf_reset(&b);

    /* a checked header too long to check is refused */
    assert_int_equal(dynbuf_adds(&b, "HTTP/1.1 101 S\r\nSec-WebSocket-Accept: "), 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(dynbuf_adds(&b, "A"), 0);
    assert_int_equal(dynbuf_adds(&b, "\r\n\r\n"), 0);
    size_t one[] = {0};
    o = feed_pieces(b.mem, b.len, one, 1);
    assert_int_equal(o.st, WS_HS_ERROR);
    assert_int_equal(o.used, b.len - 2);
    dynbuf_reset(&b);

    /* the head is cut off at WS_HS_HEAD_MAX bytes */
    assert_int_equal(dynbuf_adds(&b, "HTTP/1.1 101 S\r\n"), 0);
    while (b.len < 2 * WS_HS_HEAD_MAX)
        assert_int_equal(dynbuf_adds(&b, "X-Filler: 0123456789\r\n"), 0);
    o = feed_pieces(b.mem, b.len, one, 1);
    assert_int_equal(o.st, WS_HS_ERROR);
    assert_int_equal(o.used, WS_HS_HEAD_MAX);
    dynbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_answer_with_a_frame_behind_it),
        cmocka_unit_test(lenient_forms_are_accepted),
        cmocka_unit_test(http_answers_are_status),
        cmocka_unit_test(each_rule_fails_on_its_own),
        cmocka_unit_test(malformed_heads),
        cmocka_unit_test(long_lines_and_the_cap),
    };
    return cmocka_run_group_tests_name("ws_handshake", tests, NULL, NULL);
}
