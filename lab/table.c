/* table.c: the closing table of a results directory: one aligned line per run, the
 * figures a reader compares first (bytes per client per minute, mean and p99 latency,
 * missed updates, requests per client per minute), the same for every approach.
 */
#include "lab.h"

#include <stdio.h>

int lab_table(const char *dir, FILE *out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    cJSON *doc = lab_read_json(path, err, errlen);
    if (!doc)
        return -1;
    const cJSON *scenario = cJSON_GetObjectItemCaseSensitive(doc, "scenario");
    fprintf(out, "%s\n  %-44s %14s %12s %12s %8s %10s\n", lab_str(scenario, "name"), "run",
            "bytes/cl/min", "lat mean ms", "lat p99 ms", "missed", "req/cl/min");
    const cJSON *run;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
        fprintf(out, "  %-44.44s %14.0f %12.3g %12.3g %7.1f%% %10.3g\n",
                lab_str(run, "run_id"), lab_num(res, "bytes_per_client_min"),
                lab_num(res, "latency_mean_ms"), lab_num(res, "latency_p99_ms"),
                100 * lab_num(res, "missed_share"),
                lab_num(res, "requests_per_client_min"));
    }
    cJSON_Delete(doc);
    return 0;
}
