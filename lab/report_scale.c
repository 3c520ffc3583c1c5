/* report_scale.c: the report's line for each scaled run (lab/scale.h): how many
 * instances on one Redis feed, where they ran, how many client partitions were merged,
 * the balancer, and each instance's share of the users.
 *
 * The share is what each instance's /stats counted as open connections at the window's
 * start, less the reader's own (run.json's scale.instance[k].connections_at_window): one
 * per user, plus whatever else was open then (through HAProxy, a few kept-alive
 * connections of its own, from the clients' clock probes). Users spread by id land
 * evenly; HAProxy's leastconn lands them near evenly too. An instance
 * crashed on purpose (instance_crash) is named, with when.
 */
#include "report.h"

#include <stdio.h>
#include <string.h>

#include "lab.h"

/* One run's line. 0, or non-zero when out of memory. */
static int scale_line(struct dynbuf *b, const struct lab_row *r, const cJSON *sc)
{
    const cJSON *inst = cJSON_GetObjectItemCaseSensitive(sc, "instance");
    const cJSON *lb = cJSON_GetObjectItemCaseSensitive(sc, "balancer");
    const cJSON *crash = cJSON_GetObjectItemCaseSensitive(sc, "instance_crash");
    double total = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, inst) total += lab_num(m, "connections_at_window");
    int rc =
        dynbuf_addf(b,
                    "- %s: %.15g server instances on one Redis feed, %.15g client "
                    "partitions merged, %s; each instance's share of the users (its open "
                    "connections at the window's start):",
                    r->id, lab_num(sc, "instances"), lab_num(sc, "partitions"),
                    cJSON_IsObject(lb) ? "through HAProxy"
                                       : "each user on instance (id mod instances)");
    int k = 0;
    cJSON_ArrayForEach(m, inst)
    {
        double u = lab_num(m, "connections_at_window");
        rc = rc ? rc
                : dynbuf_addf(b, "%s instance %d (%s) %.15g (%.1f%%)", k ? "," : "", k + 1,
                              lab_str(m, "place"), u, total > 0 ? 100.0 * u / total : 0.0);
        k++;
    }
    if (rc == 0 && cJSON_IsObject(crash))
        rc = dynbuf_addf(b, "; instance %.15g crashed %.15g s into the window",
                         lab_num(crash, "instance"), lab_num(crash, "at_s"));
    return rc ? rc : dynbuf_adds(b, ".\n");
}

int report_scale(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(rows[i].record, "scale");
        if (cJSON_IsObject(sc))
            rc = scale_line(b, &rows[i], sc);
    }
    return rc;
}
