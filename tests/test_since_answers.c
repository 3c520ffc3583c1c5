/* test_since_answers.c: the shared cursor answers (servers/since_answers.c), without
 * HTTP: every answer handed out is byte for byte the body rendered afresh for its own
 * question from the feed as it stands, whatever was asked before; one question asked
 * twice of one feed state gets the very same response; an update, a reset or a limit
 * makes another answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dynbuf.h"
#include "servers/feed.h"
#include "servers/short_poll.h"
#include "servers/since_answers.h"

struct fixture {
    struct feed *f;
    struct since_answers a;
};

static int setup(void **state)
{
    static struct fixture fx;
    fx.f = feed_new(64);
    if (!fx.f)
        return -1;
    since_answers_init(&fx.a);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    since_answers_free(&fx->a);
    feed_free(fx->f);
    return 0;
}

static void publish(struct feed *f, const char *data)
{
    assert_true(feed_publish(f, data, strlen(data)) > 0);
}

/* Ask (since, limit) of the table, check the answer against a fresh render, and return
 * its response (only compared, never used: it may be gone once the lock is released). */
static const struct MHD_Response *ask(struct fixture *fx, uint64_t since, uint64_t limit)
{
    feed_lock(fx->f);
    struct dynbuf want;
    dynbuf_init(&want, 1 << 20);
    uint64_t count;
    assert_int_equal(poll_render_since_locked(fx->f, since, limit, &want, &count), 0);
    const struct since_answer *s = since_answers_find_locked(&fx->a, fx->f, since, limit);
    feed_unlock(fx->f);
    assert_non_null(s);
    assert_int_equal(s->since, since);
    assert_int_equal(s->limit, limit);
    assert_int_equal(s->len, want.len);
    assert_memory_equal(s->body, want.mem, want.len);
    const struct MHD_Response *r = s->r;
    since_answers_release(&fx->a);
    dynbuf_free(&want);
    return r;
}

/* The body of the answer to `since` now, into out (NUL-terminated). */
static void body_of(struct fixture *fx, uint64_t since, char *out, size_t cap)
{
    feed_lock(fx->f);
    const struct since_answer *s = since_answers_find_locked(&fx->a, fx->f, since, 0);
    feed_unlock(fx->f);
    assert_non_null(s);
    assert_true(s->len < cap);
    memcpy(out, s->body, s->len);
    out[s->len] = '\0';
    since_answers_release(&fx->a);
}

static void one_question_one_response(void **state)
{
    struct fixture *fx = *state;
    publish(fx->f, "a");
    publish(fx->f, "b");
    const struct MHD_Response *first = ask(fx, 1, 0);
    assert_int_equal(fx->a.builds, 1);
    assert_ptr_equal(ask(fx, 1, 0), first);
    assert_ptr_equal(ask(fx, 1, 0), first);
    assert_int_equal(fx->a.builds, 1); /* built once, shared twice */
    ask(fx, 0, 0);
    assert_int_equal(fx->a.builds, 2);
}

static void two_cursors_two_answers(void **state)
{
    struct fixture *fx = *state;
    publish(fx->f, "a");
    publish(fx->f, "b");
    publish(fx->f, "c");
    const struct MHD_Response *from0 = ask(fx, 0, 0);
    const struct MHD_Response *from2 = ask(fx, 2, 0);
    const struct MHD_Response *from3 = ask(fx, 3, 0);  /* nothing new: events [] */
    const struct MHD_Response *future = ask(fx, 9, 0); /* a reset */
    assert_ptr_not_equal(from0, from2);
    assert_ptr_not_equal(from2, from3);
    assert_ptr_not_equal(from3, future);
    char b0[256], b2[256];
    body_of(fx, 0, b0, sizeof(b0));
    body_of(fx, 2, b2, sizeof(b2));
    assert_string_not_equal(b0, b2);
    assert_non_null(strstr(b2, "{\"next\":3,\"events\":[{\"seq\":3,"));
    /* each asked again still gets its own, not built again */
    uint64_t builds = fx->a.builds;
    assert_ptr_equal(ask(fx, 0, 0), from0);
    assert_ptr_equal(ask(fx, 2, 0), from2);
    assert_int_equal(fx->a.builds, builds);
}

static void a_limit_is_part_of_the_question(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 5; i++)
        publish(fx->f, "x");
    const struct MHD_Response *all = ask(fx, 0, 0);
    const struct MHD_Response *two = ask(fx, 0, 2);
    assert_ptr_not_equal(all, two);
    assert_ptr_equal(ask(fx, 0, 2), two);
    assert_int_equal(fx->a.builds, 2);
}

static void an_update_retires_every_answer(void **state)
{
    struct fixture *fx = *state;
    publish(fx->f, "a");
    char before[256], after[256];
    body_of(fx, 0, before, sizeof(before));
    ask(fx, 1, 0);
    publish(fx->f, "b");
    body_of(fx, 0, after, sizeof(after));
    assert_string_not_equal(before, after);
    assert_non_null(strstr(after, "{\"next\":2,"));
    ask(fx, 0, 0);
    ask(fx, 1, 0); /* was {"next":1,"events":[]}, now carries seq 2 */
}

/* After a reset the same seqs name other updates: the newest and oldest seq are what
 * they were before, and only the reset generation tells the answers apart. */
static void a_reset_retires_every_answer(void **state)
{
    struct fixture *fx = *state;
    publish(fx->f, "old-1");
    publish(fx->f, "old-2");
    char before[256], after[256];
    body_of(fx, 1, before, sizeof(before));
    assert_non_null(strstr(before, "old-2"));
    feed_reset(fx->f);
    publish(fx->f, "new-1");
    publish(fx->f, "new-2");
    feed_lock(fx->f);
    assert_int_equal(feed_newest_locked(fx->f), 2);
    feed_unlock(fx->f);
    body_of(fx, 1, after, sizeof(after));
    assert_null(strstr(after, "old-2"));
    assert_non_null(strstr(after, "new-2"));
    ask(fx, 1, 0);
    ask(fx, 0, 0);
}

/* More questions than slots: each answer is still its own question's. */
static void more_questions_than_slots(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 3 * SINCE_ANSWERS_SLOTS; i++)
        publish(fx->f, "y");
    for (int round = 0; round < 2; round++)
        for (uint64_t since = 0; since < 3 * SINCE_ANSWERS_SLOTS; since++)
            ask(fx, since, 0);
    for (uint64_t since = 0; since < 3 * SINCE_ANSWERS_SLOTS; since += 3)
        ask(fx, 3 * SINCE_ANSWERS_SLOTS - since, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_question_one_response, setup, teardown),
        cmocka_unit_test_setup_teardown(two_cursors_two_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(a_limit_is_part_of_the_question, setup, teardown),
        cmocka_unit_test_setup_teardown(an_update_retires_every_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(a_reset_retires_every_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(more_questions_than_slots, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
