/* test_jsonw.c: JSON string escaping and UTF-8 validation, checked against cJSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "jsonw.h"

static void escapes_round_trip_through_cjson(void **state)
{
    (void)state;
    const char *cases[] = {"",
                           "plain",
                           "quote\"back\\slash",
                           "nl\ncr\rtab\t",
                           "\x01\x1f ctrl",
                           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dynbuf b;
        dynbuf_init(&b, 4096);
        assert_int_equal(jsonw_string(&b, cases[i], strlen(cases[i])), 0);
        cJSON *v = cJSON_Parse(b.mem);
        assert_non_null(v);
        assert_true(cJSON_IsString(v));
        assert_string_equal(v->valuestring, cases[i]);
        assert_null(memchr(b.mem, '\n', b.len)); /* safe inside one SSE data line */
        cJSON_Delete(v);
        dynbuf_free(&b);
    }
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_true(jsonw_valid_utf8("", 0));
    assert_true(jsonw_valid_utf8("abc", 3));
    assert_true(jsonw_valid_utf8("\xc3\xa9", 2));
    assert_true(jsonw_valid_utf8("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    assert_false(jsonw_valid_utf8("a\0b", 3));
    assert_false(jsonw_valid_utf8("\xff", 1));
    assert_false(jsonw_valid_utf8("\xc3", 1));             /* truncated */
    assert_false(jsonw_valid_utf8("\xc0\xaf", 2));         /* overlong */
    assert_false(jsonw_valid_utf8("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(jsonw_valid_utf8("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(jsonw_valid_utf8("\xe2\x28\xa1", 3));     /* bad continuation */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_round_trip_through_cjson),
        cmocka_unit_test(utf8_validation),
    };
    return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
