/* merge.h: pushpull-client merge --out DIR IN_DIR...: the results of N client processes
 * (--partition 1/N .. N/N) as the one process with all the users would have written them.
 *
 * Counters add; the latency, message round-trip and loop-lag histograms merge bucket by
 * bucket from their bucket files (so every percentile is the one a single histogram of
 * all the samples gives); staleness's mean is weighted by each partition's users and its
 * worst user is the worst of all; activity.csv adds bin by bin, each partition's rows moved
 * onto the earliest window's clock (to the nearest 100 ms bin); timeline.csv is the sample
 * user's (global user 0, in partition 1); the instrument's CPU, memory, threads and loop
 * turns add (the instrument is the N processes together), its busiest loop is the busiest
 * of all. traffic.csv's rows are concatenated, each partition's times moved onto the
 * merged window's clock (merge_traffic.h). The update counts: each partition's observer
 * follows the whole feed, so "published" is the most any partition saw in its window (their
 * windows open within moments of each other; the counts differ by an update at most at the
 * edges), while expected, received and missed add, each partition's against its own window.
 *
 * Refused, with one line: inputs of different runs (any setting but --partition, --out
 * and --threads differs, or windows that do not overlap), a partition given twice, one
 * missing, a result that is itself a merge, or an unreadable file.
 */
#ifndef PUSHPULL_MERGE_H
#define PUSHPULL_MERGE_H

/* argv[0] is "merge". Returns the exit status: 0 merged, 1 the inputs were refused or a
 * file could not be read or written, 2 a bad command line. */
int merge_main(int argc, char **argv);

#endif
