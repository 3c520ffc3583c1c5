/* test_timer_heap.c: unit tests for the indexed deadline heap (common/timer_heap.c).
 *
 * Besides a few hand cases, a long random sequence of set / clear / pop is checked step
 * by step against a plain array that is searched linearly (the obviously right model).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rng.h"
#include "timer_heap.h"

static void test_order_and_move(void **state)
{
    (void)state;
    struct timer_heap *h = timer_heap_new(4);
    assert_non_null(h);
    uint32_t id;
    int64_t due;
    assert_int_equal(timer_heap_peek(h, &id, &due), 0);
    timer_heap_set(h, 0, 30);
    timer_heap_set(h, 1, 10);
    timer_heap_set(h, 2, 20);
    timer_heap_set(h, 9, 1); /* past capacity: ignored */
    assert_int_equal(timer_heap_size(h), 3);
    assert_int_equal(timer_heap_peek(h, &id, &due), 1);
    assert_int_equal(id, 1);
    assert_int_equal(due, 10);
    timer_heap_set(h, 1, 40); /* moves, does not duplicate */
    assert_int_equal(timer_heap_size(h), 3);
    assert_int_equal(timer_heap_pop_due(h, 19, &id, &due), 0);
    assert_int_equal(timer_heap_pop_due(h, 20, &id, &due), 1);
    assert_int_equal(id, 2);
    timer_heap_clear(h, 0);
    timer_heap_clear(h, 0); /* twice is fine */
    assert_int_equal(timer_heap_pop_due(h, 100, &id, &due), 1);
    assert_int_equal(id, 1);
    assert_int_equal(due, 40);
    assert_int_equal(timer_heap_size(h), 0);
    timer_heap_free(h);
}

static void test_against_model(void **state)
{
    (void)state;
    enum { N = 64, STEPS = 20000, NONE = -1 };
    int64_t model[N];
    for (int i = 0; i < N; i++)
        model[i] = NONE;
    struct timer_heap *h = timer_heap_new(N);
    assert_non_null(h);
    struct rng r;
    rng_seed(&r, 42);
    for (int step = 0; step < STEPS; step++) {
        uint32_t id = (uint32_t)(rng_next(&r) % N);
        int op = (int)(rng_next(&r) % 4);
        if (op <= 1) {
            int64_t due = (int64_t)(rng_next(&r) % 1000);
            timer_heap_set(h, id, due);
            model[id] = due;
        } else if (op == 2) {
            timer_heap_clear(h, id);
            model[id] = NONE;
        } else {
            int64_t now = (int64_t)(rng_next(&r) % 1000);
            int64_t best = NONE;
            size_t n = 0;
            for (int i = 0; i < N; i++) {
                if (model[i] != NONE) {
                    n++;
                    if (best == NONE || model[i] < best)
                        best = model[i];
                }
            }
            assert_int_equal(timer_heap_size(h), n);
            uint32_t got;
            int64_t due;
            int popped = timer_heap_pop_due(h, now, &got, &due);
            assert_int_equal(popped, best != NONE && best <= now);
            if (popped) {
                assert_int_equal(due, best);
                assert_int_equal(model[got], best);
                model[got] = NONE;
            }
        }
    }
    timer_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_move),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
