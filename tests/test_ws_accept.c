/* test_ws_accept.c: the WebSocket handshake's key and accept value (common/ws_accept.c),
 * against the RFC's own example and a second one worked out with the openssl command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ws_accept.h"

static void accept_matches_rfc_example(void **state)
{
    (void)state;
    char out[WS_ACCEPT_LEN + 1];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ=="; /* RFC 6455 section 1.3 */
    assert_int_equal(ws_accept_for(key, strlen(key), out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /* printf 'AAAAAAAAAAAAAAAAAAAAAA==258EAFA5-E914-47DA-95CA-C5AB0DC85B11' |
     * openssl sha1 -binary | base64 */
    key = "AAAAAAAAAAAAAAAAAAAAAA==";
    assert_int_equal(ws_accept_for(key, strlen(key), out), 0);
    assert_string_equal(out, "ICX+Yqv66kxgM0FcWaLWlFLwTAI=");
    /* the key is hashed as sent: one character more is another answer */
    assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ== ", 25, out), 0);
    assert_string_not_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void accept_refuses_absurd_keys(void **state)
{
    (void)state;
    char out[WS_ACCEPT_LEN + 1];
    static char big[2048];
    memset(big, 'A', sizeof(big));
    assert_int_equal(ws_accept_for(big, sizeof(big), out), -1);
}

static void new_keys_are_valid_and_fresh(void **state)
{
    (void)state;
    char a[WS_KEY_LEN + 1], b[WS_KEY_LEN + 1];
    assert_int_equal(ws_key_new(a), 0);
    assert_int_equal(ws_key_new(b), 0);
    assert_int_equal(strlen(a), WS_KEY_LEN);
    assert_true(ws_key_valid(a, strlen(a)));
    assert_true(ws_key_valid(b, strlen(b)));
    assert_string_not_equal(a, b);
}

static void key_validation(void **state)
{
    (void)state;
    assert_true(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==", 24));
    assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23));   /* short */
    assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ===", 25)); /* long */
    assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZ===", 24));  /* 15 bytes */
    assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZR==", 24));  /* stray bits */
    assert_false(ws_key_valid("dGhlIHNhbXBs*SBub25jZQ==", 24));  /* not base64 */
    assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZQAA", 24));  /* 18 bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_matches_rfc_example),
        cmocka_unit_test(accept_refuses_absurd_keys),
        cmocka_unit_test(new_keys_are_valid_and_fresh),
        cmocka_unit_test(key_validation),
    };
    return cmocka_run_group_tests_name("ws_accept", tests, NULL, NULL);
}
