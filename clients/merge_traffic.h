/* merge_traffic.h: pushpull-client merge's part for traffic.csv (traffic_log.h): the
 * partitions' rows concatenated onto the merged window's clock.
 */
#ifndef PUSHPULL_MERGE_TRAFFIC_H
#define PUSHPULL_MERGE_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One partition's traffic.csv as its summary.json describes it. */
struct merge_traffic_part {
    const char *dir;  /* the partition's result directory (borrowed) */
    bool written;     /* it wrote a traffic.csv (traffic_rows >= 0) */
    uint64_t rows;    /* the rows it reports: its file must hold exactly these */
    uint64_t dropped; /* rows it reported dropped past its cap */
    double shift_ms; /* its window start less the merged one's, in ms: added to each t_ms */
};

struct merge_traffic_total {
    bool written;     /* out_dir/traffic.csv was written */
    uint64_t rows;    /* rows in it */
    uint64_t dropped; /* the partitions' dropped rows, added */
};

/* Write out_dir/traffic.csv from the n parts, when every one wrote a file (else write
 * none and return 0 with total->written false). 0, or -1 with err naming the file and
 * line at fault. */
int merge_traffic(const char *out_dir, const struct merge_traffic_part *parts, int n,
                  struct merge_traffic_total *total, char *err, size_t errlen);

#endif
