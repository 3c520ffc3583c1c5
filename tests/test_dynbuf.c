/* test_dynbuf.c: the capped growable buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"

static void grows_and_stays_terminated(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    assert_null(b.mem);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(dynbuf_add(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3000);
    assert_int_equal(b.mem[b.len], '\0');
    assert_int_equal(dynbuf_addf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(b.mem + 3000, "42-x");
    dynbuf_consume(&b, 2999);
    assert_string_equal(b.mem, "c42-x");
    dynbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.mem, "");
    dynbuf_free(&b);
    assert_null(b.mem);
}

static void cap_refuses_and_frees(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 8);
    assert_int_equal(dynbuf_adds(&b, "12345678"), 0); /* exactly the cap */
    assert_int_equal(dynbuf_add(&b, "9", 1), -1);
    assert_null(b.mem); /* a failed append leaves nothing half-done */
    assert_int_equal(b.len, 0);
    assert_int_equal(dynbuf_addf(&b, "%s", "123456789"), -1);
    assert_int_equal(dynbuf_adds(&b, "ok"), 0);
    char *taken = dynbuf_take(&b);
    assert_string_equal(taken, "ok");
    assert_null(b.mem);
    free(taken);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_and_stays_terminated),
        cmocka_unit_test(cap_refuses_and_frees),
    };
    return cmocka_run_group_tests_name("dynbuf", tests, NULL, NULL);
}
