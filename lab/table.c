/* table.c: the closing table of a results directory: one aligned line per run, the
 * figures a reader compares first (bytes per client per minute, mean and p99 latency,
 * missed updates, requests per client per minute), the same for every approach, then
 * the updates each user was to receive in the window, which every figure rests on, and
 * "too few" when that is under the report's threshold for a finding. The quick version
 * says so above the table, with how much faster its clock ran: its per-minute figures
 * are on that clock. Numbers are plain digits (lab/numfmt.h), never exponents.
 */
#include "lab.h"

#include <stdio.h>
#include <string.h>

#include "interval.h"
#include "numfmt.h"

int lab_table(const char *dir, FILE *out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    cJSON *doc = lab_read_json(path, err, errlen);
    if (!doc)
        return -1;
    const cJSON *scenario = cJSON_GetObjectItemCaseSensitive(doc, "scenario");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    const cJSON *first =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 0), "run");
    fprintf(out, "%s", lab_str(scenario, "name"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "quick"))) {
        char c[NUMFMT_LEN];
        double comp = lab_num(first, "time_compression");
        fprintf(out, " (quick: %.15g s windows where the full scenario has %.15g s",
                lab_num(cJSON_GetObjectItemCaseSensitive(first, "settings"), "duration_s"),
                lab_num(first, "full_duration_s"));
        if (comp > 1)
            fprintf(out, ", its clock %s times faster", numfmt(c, sizeof(c), comp, 3));
        fprintf(out, ")");
    }
    fprintf(out, "\n  %-44s %14s %12s %12s %8s %10s %9s\n", "run", "bytes/cl/min",
            "lat mean ms", "lat p99 ms", "missed", "req/cl/min", "upd/user");
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
        double upd = lab_num(res, "updates_expected") / lab_num(res, "clients");
        char v[6][NUMFMT_LEN];
        fprintf(out, "  %-44.44s %14s %12s %12s %8s %10s %9s%s\n", lab_str(run, "run_id"),
                numfmt_int(v[0], sizeof(v[0]), lab_num(res, "bytes_per_client_min")),
                numfmt(v[1], sizeof(v[1]), lab_num(res, "latency_mean_ms"), 3),
                numfmt(v[2], sizeof(v[2]), lab_num(res, "latency_p99_ms"), 3),
                numfmt_pct(v[3], sizeof(v[3]), lab_num(res, "missed_share"), 2),
                numfmt(v[4], sizeof(v[4]), lab_num(res, "requests_per_client_min"), 4),
                numfmt(v[5], sizeof(v[5]), upd, 3),
                upd >= INTERVAL_MIN_UPDATES ? "" : "  too few");
    }
    cJSON_Delete(doc);
    return 0;
}
