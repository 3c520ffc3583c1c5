/* report_files.h: the run's result files (report.h has the numbers they hold).
 *
 *   summary.json   {"meta": ..., "results": the field list, "run_totals": every counter
 *                  over the whole run, "observer_totals": the observer's own,
 *                  "upstream_totals": the message senders' own (publish.c)}
 *   summary.csv    the field list: one header line, one row
 *   latency.csv    the latency histogram (hist.h)
 *   timeline.csv   the sample user's staleness over the window (freshness.h)
 *   activity.csv   requests, connections, errors, deliveries per 100 ms (counters.h)
 *   msg_rtt.csv    the messages' round trips (upstream.h), as latency.csv
 *   latency_buckets.csv, msg_rtt_buckets.csv, loop_lag_buckets.csv
 *                  the three histograms' raw buckets (hist_write_buckets), so separate
 *                  processes' results merge exactly (merge.h)
 * summary.json also holds "partition" (partition.h: which slice of the population, or
 * how many slices merged) and "merge_inputs" (merge_state.h: the raw figures behind
 * "results"), and meta.argv, the command line argument by argument.
 */
#ifndef PUSHPULL_REPORT_FILES_H
#define PUSHPULL_REPORT_FILES_H

#include <stdio.h>

#include "report.h"

/* summary.csv: header line and one row. 0 or -1 on a write error. */
int report_write_csv(FILE *out, const struct report_fields *fields);
/* Write every file above into dir (created if missing). cmdline and argv (NULL-terminated;
 * NULL for none) are recorded in the metadata. 0, or -1 with a message naming the file and
 * the failed call in err. */
int report_write_files(const char *dir, const struct run_results *res, const char *cmdline,
                       char *const *argv, char *err, size_t errlen);

#endif
