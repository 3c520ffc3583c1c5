/* scale_stats.c: a scaled run's instances seen as one server: their /stats documents
 * added into the run's server_stats*.json, and each instance's share of the users.
 *
 * The instances run at once, so everything they count adds up: requests, bytes, CPU,
 * resident memory, open connections, and the peaks too (the sum of the peaks is an upper
 * bound of the peak of the sum: they may not have peaked at the same instant). Two
 * numbers are not counts: newest_seq (every instance holds the same stream: the largest)
 * and uptime_s (the longest). "config" is instance 1's (the one that generates the
 * updates); the "redis" section's counters add like any other. What merge.c and the
 * report then read is one server's document, as for a run with one instance; each
 * instance's own stays in RUN_DIR/instances/K/.
 */
#include "scale.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "stats_fold.h"

/* The instances' documents added (stats_fold.h): the newest seq and the uptime are the
 * larger, every other number (levels too: each instance holds its own) the sum. */
static enum fold_rule instances_rule(const char *key)
{
    return strcmp(key, "newest_seq") == 0 || strcmp(key, "uptime_s") == 0 ? FOLD_MAX
                                                                          : FOLD_ADD;
}

/* Read dir/instances/K/name for K = 1..n, add them up, write dir/name. */
int scale_stats_sum(const char *dir, unsigned n, const char *name, char *err, size_t errlen)
{
    char path[4400];
    cJSON *sum = NULL;
    for (unsigned k = 1; k <= n; k++) {
        snprintf(path, sizeof(path), "%s/instances/%u/%s", dir, k, name);
        cJSON *doc = lab_read_json(path, err, errlen);
        if (!doc) {
            cJSON_Delete(sum);
            return -1;
        }
        if (!sum) {
            sum = doc;
            continue;
        }
        stats_fold(sum, doc, instances_rule);
        cJSON_Delete(doc);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int rc = lab_write_json(path, sum, err, errlen);
    cJSON_Delete(sum);
    return rc;
}

double scale_stats_users(const cJSON *doc)
{
    const cJSON *open = cJSON_GetObjectItemCaseSensitive(doc, "connections_open");
    /* the /stats request that read the document is one of them */
    return cJSON_IsNumber(open) && open->valuedouble >= 1 ? open->valuedouble - 1 : 0;
}
