/* link_report.h: what the link emulator carried, as an aligned summary for people and
 * as JSON for tools (--stats FILE), so its figures can be held against the clients'.
 *
 * Byte counts are payload only (no TCP/IP headers), per direction: what the link read
 * from the sender (bytes_in_up, bytes_in_down), what it wrote to the receiver (bytes_up,
 * bytes_down), and what it read but never wrote because the connection ended first
 * (bytes_discarded_up, bytes_discarded_down; bytes_discarded is their sum). In every
 * document, in = written + discarded for each direction: bytes still queued when the link
 * stopped count as discarded (link.h says what the counters mean and how they meet the
 * clients' kernel counts). Field names carry their units.
 */
#ifndef PUSHPULL_LINK_REPORT_H
#define PUSHPULL_LINK_REPORT_H

#include <stdio.h>

#include "link/link.h"

/* The run as a whole, beside the counters. */
struct link_report_run {
    double elapsed_s; /* wall time from listening to stop */
    double cpu_s;     /* user + system CPU of the link process */
};

/* Print the fixed, aligned summary block to f. */
void link_report_print(FILE *f, const struct link_counters *c,
                       const struct link_report_run *run);
/* Write the settings, counters and run figures as one JSON object to path (written to
 * path.tmp, then renamed, so a reader never sees half a file). 0, or -1 with a message
 * naming the failed call in err. */
int link_report_write_json(const char *path, const struct link_config *cfg,
                           const struct link_counters *c, const struct link_report_run *run,
                           char *err, size_t errlen);

#endif
