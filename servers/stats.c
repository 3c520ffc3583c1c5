/* stats.c: per-transport counters, their JSON rendering, and the GET /stats route. */
#include "stats.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "server.h"

static const char *const kind_names[STATS_KINDS] = {"poll",    "longpoll", "events",
                                                    "publish", "stats",    "other"};

/* The statuses counted one by one; the last slot takes any other. */
static const unsigned status_codes[STATS_STATUSES] = {200, 201, 204, 304, 400, 403,
                                                      404, 405, 413, 500, 503, 0};

void stats_init(struct stats *s)
{
    memset(s, 0, sizeof(*s));
    s->started_mono_ns = clock_mono_ns();
}

const char *stats_kind_name(enum stats_kind k)
{
    return kind_names[k];
}

void stats_count_status(struct stats *s, enum stats_kind k, unsigned status)
{
    size_t i = 0;
    while (i < STATS_STATUSES - 1 && status_codes[i] != status)
        i++;
    atomic_fetch_add(&s->row[k].status[i], 1);
}

void stats_count_connection(struct stats *s, int delta)
{
    int_least64_t now = atomic_fetch_add(&s->conns_open, delta) + delta;
    if (delta <= 0)
        return;
    atomic_fetch_add(&s->conns_total, 1);
    int_least64_t peak = atomic_load(&s->conns_peak);
    while (now > peak && !atomic_compare_exchange_weak(&s->conns_peak, &peak, now))
        ;
}

void stats_add(atomic_uint_least64_t *counter, uint64_t n)
{
    atomic_fetch_add(counter, n);
}

/* Resident set size now, in KiB, from /proc/self/statm (0 if unreadable). */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int render_row(const struct stats_row *r, const char *name, struct dynbuf *b)
{
    int rc = dynbuf_addf(b,
                         "\"%s\":{\"requests\":%llu,\"req_header_bytes\":%llu,"
                         "\"req_body_bytes\":%llu,\"resp_header_bytes\":%llu,"
                         "\"resp_body_bytes\":%llu,\"framing_bytes\":%llu,\"open\":%lld,"
                         "\"responses\":{",
                         name, (unsigned long long)atomic_load(&r->requests),
                         (unsigned long long)atomic_load(&r->req_header_bytes),
                         (unsigned long long)atomic_load(&r->req_body_bytes),
                         (unsigned long long)atomic_load(&r->resp_header_bytes),
                         (unsigned long long)atomic_load(&r->resp_body_bytes),
                         (unsigned long long)atomic_load(&r->framing_bytes),
                         (long long)atomic_load(&r->open));
    const char *sep = "";
    for (size_t i = 0; rc == 0 && i < STATS_STATUSES; i++) {
        unsigned long long n = atomic_load(&r->status[i]);
        if (n == 0)
            continue;
        if (status_codes[i])
            rc = dynbuf_addf(b, "%s\"%u\":%llu", sep, status_codes[i], n);
        else
            rc = dynbuf_addf(b, "%s\"other\":%llu", sep, n);
        sep = ",";
    }
    return rc ? rc : dynbuf_adds(b, "}}");
}

int stats_render(struct stats *s, uint64_t published, uint64_t parked, struct dynbuf *b)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    double uptime = (double)(clock_mono_ns() - s->started_mono_ns) / 1e9;
    int rc = dynbuf_addf(b,
                         "{\"updates_published\":%llu,\"uptime_s\":%.3f,\"cpu_s\":%.3f,"
                         "\"rss_kib\":%ld,\"max_rss_kib\":%ld,\"connections_open\":%lld,"
                         "\"connections_total\":%llu,\"connections_peak\":%lld,\"parked\":%llu,"
                         "\"unaccounted_bytes\":%llu,\"transports\":{",
                         (unsigned long long)published, uptime, cpu, rss_kib(),
                         ru.ru_maxrss, (long long)atomic_load(&s->conns_open),
                         (unsigned long long)atomic_load(&s->conns_total),
                         (long long)atomic_load(&s->conns_peak), (unsigned long long)parked,
                         (unsigned long long)atomic_load(&s->unaccounted_bytes));
    for (int k = 0; rc == 0 && k < STATS_KINDS; k++) {
        if (k > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = render_row(&s->row[k], kind_names[k], b);
    }
    return rc ? rc : dynbuf_adds(b, "}}");
}

/* ---- GET /stats --------------------------------------------------------- */

static enum MHD_Result stats_handle(struct request *req)
{
    struct server *srv = req->srv;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    if (stats_render(&srv->stats, feed_published(srv->feed), feed_parked(srv->feed), &b) !=
        0)
        return MHD_NO;
    /* The settings the numbers were produced under, so a result file explains itself. */
    static const char *const process_names[] = {"periodic", "poisson", "burst", "trace"};
    const struct server_config *c = &srv->cfg;
    b.len--; /* reopen the object: drop its closing brace */
    if (dynbuf_addf(&b,
                    ",\"config\":{\"rate_hz\":%g,\"process\":\"%s\",\"burst_size\":%u,"
                    "\"payload_bytes\":%zu,\"buffer\":%zu,\"longpoll_timeout_s\":%g,"
                    "\"heartbeat_s\":%g,\"retry_ms\":%u,\"threads\":%u,"
                    "\"max_connections\":%u}}",
                    c->process == GEN_TRACE ? 0 : c->rate_hz, process_names[c->process],
                    c->burst_size, c->payload_bytes, c->buffer,
                    (double)c->longpoll_timeout_ns / 1e9, (double)c->heartbeat_ns / 1e9,
                    c->retry_ms, c->threads, c->max_connections) != 0)
        return MHD_NO;
    enum MHD_Result rc = reply_json(req, 200, b.mem, b.len, NULL);
    dynbuf_free(&b);
    return rc;
}

const struct route stats_route = {
    .path = "/stats",
    .method = "GET",
    .kind = STATS_STATS,
    .handle = stats_handle,
    .done = NULL,
};
