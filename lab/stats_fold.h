/* stats_fold.h: two servers' /stats documents made one: a crashed server's and its
 * successor's (merge.c), or the instances of a scaled run (scale_stats.c).
 */
#ifndef PUSHPULL_LAB_FOLD_ADD_H
#define PUSHPULL_LAB_FOLD_ADD_H

#include <cjson/cJSON.h>

/* What becomes of a number both documents hold, by its key. */
enum fold_rule {
    FOLD_ADD,  /* a counter: the sum */
    FOLD_MAX,  /* a peak or a high-water mark: the larger */
    FOLD_KEEP, /* a level of now: into's own */
};

/* Fold `from` into `into`, recursively through its objects, "config" aside (into's is
 * kept). A number or object only `from` has is copied; one both have follows rule(key). */
void stats_fold(cJSON *into, const cJSON *from, enum fold_rule (*rule)(const char *key));

#endif
