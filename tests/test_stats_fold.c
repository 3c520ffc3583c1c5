/* test_stats_fold.c: two /stats documents folded into one by each key's rule
 * (lab/stats_fold.h): counters add, peaks take the larger, levels stay into's, what only
 * one side holds is kept, and config is never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "lab/stats_fold.h"

static enum fold_rule rule(const char *key)
{
    if (strcmp(key, "peak") == 0)
        return FOLD_MAX;
    if (strcmp(key, "open") == 0)
        return FOLD_KEEP;
    return FOLD_ADD;
}

static double at(const cJSON *doc, const char *obj, const char *key)
{
    const cJSON *o = obj ? cJSON_GetObjectItemCaseSensitive(doc, obj) : doc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void each_key_follows_its_rule(void **state)
{
    (void)state;
    cJSON *into = cJSON_Parse("{\"config\":{\"port\":1},\"requests\":3,\"peak\":7,"
                              "\"open\":2,\"t\":{\"bytes\":10,\"peak\":1},\"mine\":5}");
    cJSON *from = cJSON_Parse("{\"config\":{\"port\":9},\"requests\":4,\"peak\":5,"
                              "\"open\":6,\"t\":{\"bytes\":1,\"peak\":4},\"theirs\":8,"
                              "\"u\":{\"bytes\":2}}");
    assert_true(into && from);
    stats_fold(into, from, rule);
    assert_true(at(into, NULL, "requests") == 7); /* added */
    assert_true(at(into, NULL, "peak") == 7);     /* the larger */
    assert_true(at(into, NULL, "open") == 2);     /* into's level */
    assert_true(at(into, "t", "bytes") == 11);    /* recursively */
    assert_true(at(into, "t", "peak") == 4);
    assert_true(at(into, NULL, "mine") == 5);   /* only into's: kept */
    assert_true(at(into, NULL, "theirs") == 8); /* only from's: copied */
    assert_true(at(into, "u", "bytes") == 2);
    assert_true(at(into, "config", "port") == 1); /* never folded */
    cJSON_Delete(into);
    cJSON_Delete(from);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_key_follows_its_rule),
    };
    return cmocka_run_group_tests_name("stats_fold", tests, NULL, NULL);
}
