/* partition.h: one process's slice of a population of users (--partition I/N).
 *
 * k6's execution segments, in their simplest form: a population of --clients users,
 * numbered 0..clients-1 (the global id), is dealt out round-robin over N processes, and
 * process I (1-based) runs the users u with u % N == I - 1. Everything a user does that
 * could differ between one process and N is drawn from its global id and the shared
 * --seed alone: its poll or stream phase, its message schedule and their tags, which
 * server instance it talks to, whether it is the sample user of timeline.csv (global id
 * 0, so in partition 1). So N processes with the same command line but --partition run
 * exactly the users, at exactly the times, that one process without it would; their
 * results merge exactly (merge.h). Round-robin rather than contiguous ranges keeps each
 * slice a fair sample of every per-id choice (instance u % M above all).
 *
 * Inside the process the users are numbered 0..n-1 (the local id, the run's index); the
 * global id of local id k is (I - 1) + k * N.
 */
#ifndef PUSHPULL_PARTITION_H
#define PUSHPULL_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#define PARTITION_MAX 1024 /* the most processes one population is dealt over */

/* Parse "I/N" (1 <= I <= N <= PARTITION_MAX) into *index and *count. 0, or -1 with one
 * line in err naming the flag, what it expects and what it got. */
int partition_parse(const char *v, uint32_t *index, uint32_t *count, char *err,
                    size_t errlen);
/* The users of partition index/count out of total: how many u < total have
 * u % count == index - 1 (0 when total < index). */
uint32_t partition_users(uint32_t total, uint32_t index, uint32_t count);
/* The global id of local user k of partition index/count. */
uint32_t partition_global_id(uint32_t index, uint32_t count, uint32_t local);
/* The seed of everything random about global user gid (its phase, its messages' gaps),
 * from the run's --seed: the same in every process, different for every user. */
uint64_t partition_user_seed(uint64_t seed, uint32_t gid);

#endif
