/* test_dynbuf.c: the capped growable buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

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

/* A whole file appended; a file past the cap refused with its path; a missing one named. */
static void a_file_is_read_whole_or_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/pushpull-dynbuf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static char big[100000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
    close(fd);
    struct dynbuf b;
    char err[256];
    dynbuf_init(&b, sizeof(big) + 1);
    assert_int_equal(dynbuf_adds(&b, "<"), 0);
    assert_int_equal(dynbuf_read_file(&b, path, err, sizeof(err)), 0);
    assert_int_equal(b.len, sizeof(big) + 1); /* appended after "<", terminated */
    assert_true(b.mem[0] == '<' && b.mem[1] == 'x' && b.mem[b.len - 1] == 'x');
    assert_int_equal(b.mem[b.len], '\0');
    dynbuf_free(&b);
    dynbuf_init(&b, sizeof(big) - 1);
    assert_int_equal(dynbuf_read_file(&b, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "larger than 99999 bytes"));
    assert_null(b.mem);
    unlink(path);
    assert_int_equal(dynbuf_read_file(&b, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
    dynbuf_free(&b);
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
        cmocka_unit_test(a_file_is_read_whole_or_refused),
    };
    return cmocka_run_group_tests_name("dynbuf", tests, NULL, NULL);
}
