/* wrk.h: running wrk (Debian's `wrk`, 4.1) against a poll URL and reading its summary.
 *
 * wrk is the polling workload's load: closed-loop, keep-alive, as many requests as the
 * server answers. Its human summary is the only output it has without a Lua script; the
 * parser reads the lines the bench needs and says which one was missing. Units follow
 * wrk's own printing: latencies in us, ms, s or m.
 */
#ifndef PUSHPULL_BENCH_WRK_H
#define PUSHPULL_BENCH_WRK_H

#include <stddef.h>
#include <stdint.h>

struct wrk_result {
    double requests_per_s;  /* "Requests/sec:" */
    uint64_t requests;      /* "N requests in T" */
    double latency_p50_ms;  /* from --latency's distribution; -1 when absent */
    double latency_p99_ms;  /* likewise */
    uint64_t non_2xx_3xx;   /* "Non-2xx or 3xx responses:" (0 when absent) */
    uint64_t socket_errors; /* connect + read + write + timeout of "Socket errors:" */
};

/* Parse wrk's summary text. 0, or -1 with the missing line named in err. */
int wrk_parse(const char *text, struct wrk_result *out, char *err, size_t errlen);

#endif
