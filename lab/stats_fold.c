/* stats_fold.c: two servers' /stats documents made one (see stats_fold.h).
 *
 * A /stats document is a tree of objects whose leaves are numbers (and a few strings,
 * which stay into's). The walk goes by from's keys, so what only into has stays as it is,
 * and what only from has is copied whole; the caller's rule says, key by key, whether a
 * number both hold is a counter, a peak or a level. The crash's rule and the scaled run's
 * differ only there.
 */
#include "stats_fold.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

void stats_fold(cJSON *into, const cJSON *from, enum fold_rule (*rule)(const char *key))
{
    const cJSON *b;
    cJSON_ArrayForEach(b, from)
    {
        if (strcmp(b->string, "config") == 0)
            continue;
        cJSON *a = cJSON_GetObjectItemCaseSensitive(into, b->string);
        if (cJSON_IsObject(b)) {
            if (!a)
                cJSON_AddItemToObject(into, b->string, cJSON_Duplicate(b, true));
            else if (cJSON_IsObject(a))
                stats_fold(a, b, rule);
        } else if (cJSON_IsNumber(b)) {
            if (!a) {
                cJSON_AddNumberToObject(into, b->string, b->valuedouble);
                continue;
            }
            if (!cJSON_IsNumber(a))
                continue;
            switch (rule(b->string)) {
            case FOLD_ADD:
                cJSON_SetNumberValue(a, a->valuedouble + b->valuedouble);
                break;
            case FOLD_MAX:
                cJSON_SetNumberValue(a, fmax(a->valuedouble, b->valuedouble));
                break;
            case FOLD_KEEP:
                break;
            }
        }
    }
}
