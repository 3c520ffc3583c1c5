/* clock.h: the two clocks pushpull reads, in nanoseconds.
 *
 * Durations (timeouts, heartbeats, run length, wall time) use CLOCK_MONOTONIC, which no
 * one can step. Only the publish stamp that travels from the server to the clients uses
 * CLOCK_REALTIME, because both processes must read the same clock; on one machine they
 * do, across machines the lab's latencies are only as good as their NTP sync.
 */
#ifndef PUSHPULL_CLOCK_H
#define PUSHPULL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S  INT64_C(1000000000)

/* Monotonic time in ns: for every duration and deadline. */
static inline int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Added to every clock_real_ns reading of this process; 0 unless set before the
 * process's threads start, by two writers only: pushpull-server --clock-offset-ms, a test
 * aid that makes one process on one machine act as a host whose clock is off by a known
 * amount, and the client's clock-offset estimate (clients/clock_offset.h), which puts the
 * client's readings on the server's clock. */
extern int64_t clock_real_offset_ns;

/* Wall-clock time in ns since the epoch: only for publish stamps and their receipt. */
static inline int64_t clock_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec + clock_real_offset_ns;
}

/* The same instant as a struct timespec, for pthread_cond_timedwait and clock_nanosleep. */
static inline struct timespec clock_ts_from_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
    return ts;
}

#endif
