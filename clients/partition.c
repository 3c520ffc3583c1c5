/* partition.c: --partition I/N, the global ids and per-user seeds (see partition.h).
 *
 * A user's seed mixes the run's seed and its global id through one splitmix64 step, so
 * neighbouring ids get unrelated streams, and user u's stream is the same whichever
 * process runs it and however many there are.
 */
#include "partition.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

/* A whole decimal number filling s up to end_char. 0 or -1. */
static int parse_u32(const char *s, char end_char, const char **rest, uint32_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long n = strtoul(s, &end, 10);
    if (errno != 0 || *end != end_char || n > UINT32_MAX)
        return -1;
    *out = (uint32_t)n;
    *rest = end;
    return 0;
}

int partition_parse(const char *v, uint32_t *index, uint32_t *count, char *err,
                    size_t errlen)
{
    const char *rest = v;
    uint32_t i, n;
    if (parse_u32(v, '/', &rest, &i) != 0 || parse_u32(rest + 1, '\0', &rest, &n) != 0 ||
        n < 1 || n > PARTITION_MAX || i < 1 || i > n) {
        snprintf(err, errlen,
                 "--partition: expected I/N with 1 <= I <= N <= %d (like 2/4), got '%s'",
                 PARTITION_MAX, v);
        return -1;
    }
    *index = i;
    *count = n;
    return 0;
}

uint32_t partition_users(uint32_t total, uint32_t index, uint32_t count)
{
    uint32_t first = index - 1;
    return total > first ? (total - first + count - 1) / count : 0;
}

uint32_t partition_global_id(uint32_t index, uint32_t count, uint32_t local)
{
    return (index - 1) + local * count;
}

uint64_t partition_user_seed(uint64_t seed, uint32_t gid)
{
    struct rng r;
    rng_seed(&r, seed ^ (UINT64_C(0xD1B54A32D192ED03) * ((uint64_t)gid + 1)));
    return rng_next(&r);
}
