/* wrk.c: read wrk's summary (see wrk.h). Running it is the conductor's (bench_measure.c).
 */
#include "wrk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "228.00us", "3.36ms", "1.20s", "2.00m" in milliseconds; -1 when not such a value. */
static double duration_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (strncmp(end, "us", 2) == 0)
        return v / 1000.0;
    if (strncmp(end, "ms", 2) == 0)
        return v;
    if (end[0] == 's')
        return v * 1000.0;
    if (end[0] == 'm')
        return v * 60000.0;
    return -1;
}

/* The text after `key` on the line where it occurs, or NULL. */
static const char *after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? p + strlen(key) : NULL;
}

int wrk_parse(const char *text, struct wrk_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->latency_p50_ms = out->latency_p99_ms = -1;
    const char *p = after(text, "Requests/sec:");
    char *end = NULL;
    if (p)
        out->requests_per_s = strtod(p, &end);
    if (!p || end == p) {
        snprintf(err, errlen, "wrk printed no \"Requests/sec:\" line");
        return -1;
    }
    p = strstr(text, " requests in ");
    if (!p) {
        snprintf(err, errlen, "wrk printed no \"N requests in T\" line");
        return -1;
    }
    const char *q = p;
    while (q > text && q[-1] >= '0' && q[-1] <= '9')
        q--;
    out->requests = strtoull(q, NULL, 10);
    const char *dist = strstr(text, "Latency Distribution");
    if (dist) {
        const char *p50 = strstr(dist, "50%");
        const char *p99 = strstr(dist, "99%");
        if (p50)
            out->latency_p50_ms = duration_ms(p50 + 3 + strspn(p50 + 3, " "));
        if (p99)
            out->latency_p99_ms = duration_ms(p99 + 3 + strspn(p99 + 3, " "));
    }
    p = after(text, "Non-2xx or 3xx responses:");
    if (p)
        out->non_2xx_3xx = strtoull(p, NULL, 10);
    p = after(text, "Socket errors:");
    if (p) {
        unsigned long long c = 0, r = 0, w = 0, t = 0;
        if (sscanf(p, " connect %llu, read %llu, write %llu, timeout %llu", &c, &r, &w,
                   &t) == 4)
            out->socket_errors = c + r + w + t;
    }
    return 0;
}
