/* stats.c: per-transport and per-tag counters and their JSON rendering (see stats.h). */
#include "stats.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"

static const char *const kind_names[STATS_KINDS] = {
    "poll", "longpoll", "events", "ws", "publish", "stats", "other", "rejected"};

/* The statuses counted one by one; the last slot takes any other. */
static const unsigned status_codes[STATS_STATUSES] = {101, 200, 201, 204, 304, 400, 403,
                                                      404, 405, 409, 413, 414, 426, 431,
                                                      500, 501, 503, 505, 0};

static const char *const field_names[SF_FIELDS] = {"requests",        "req_header_bytes",
                                                   "req_body_bytes",  "resp_header_bytes",
                                                   "resp_body_bytes", "framing_bytes"};

static const char *const ws_field_names[SW_FIELDS] = {"data_frames_out",
                                                      "frame_header_bytes_out",
                                                      "payload_bytes_out",
                                                      "control_bytes_out",
                                                      "data_frames_in",
                                                      "frame_header_bytes_in",
                                                      "mask_bytes_in",
                                                      "payload_bytes_in",
                                                      "control_bytes_in",
                                                      "pings_out",
                                                      "pongs_in",
                                                      "pings_in",
                                                      "pongs_out",
                                                      "closes_in",
                                                      "messages_in",
                                                      "resets",
                                                      "dead_peers",
                                                      "overflows",
                                                      "cuts",
                                                      "framing_contexts"};

/* The close codes counted one by one (RFC 6455 section 7.4.1); the last slot is a close
 * frame without a code, shown as "none". */
static const unsigned ws_close_codes[STATS_WS_CODES] = {1000, 1001, 1002, 1003, 1007,
                                                        1008, 1009, 1011, 1013, 0};

void stats_init(struct stats *s)
{
    memset(s, 0, sizeof(*s));
    s->started_mono_ns = clock_mono_ns();
    pthread_mutex_init(&s->tags_lock, NULL);
}

void stats_destroy(struct stats *s)
{
    pthread_mutex_destroy(&s->tags_lock);
}

int stats_tag_valid(const char *tag)
{
    size_t n = 0;
    for (; tag[n]; n++) {
        char c = tag[n];
        if (n == STATS_TAG_MAX || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return n > 0;
}

const struct stats_row *stats_tag_find(struct stats *s, const char *tag)
{
    size_t n = atomic_load(&s->ntags);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->tags[i].name, tag) == 0)
            return &s->tags[i].row;
    }
    return NULL;
}

struct stats_row *stats_tag_row(struct stats *s, const char *tag)
{
    if (!stats_tag_valid(tag))
        return NULL;
    struct stats_row *r = (struct stats_row *)stats_tag_find(s, tag);
    if (r)
        return r;
    pthread_mutex_lock(&s->tags_lock);
    r = (struct stats_row *)stats_tag_find(s, tag); /* added meanwhile? */
    size_t n = atomic_load(&s->ntags);
    if (!r && n < STATS_MAX_TAGS) {
        snprintf(s->tags[n].name, sizeof(s->tags[n].name), "%s", tag);
        r = &s->tags[n].row;
        atomic_store(&s->ntags, n + 1); /* readers see the name before the count */
    }
    pthread_mutex_unlock(&s->tags_lock);
    return r;
}

void stats_count_status(struct stats_row *r, unsigned status)
{
    size_t i = 0;
    while (i < STATS_STATUSES - 1 && status_codes[i] != status)
        i++;
    atomic_fetch_add(&r->status[i], 1);
}

void stats_count_ws_close(struct stats_row *r, unsigned code)
{
    size_t i = 0;
    while (i < STATS_WS_CODES - 1 && ws_close_codes[i] != code)
        i++;
    atomic_fetch_add(&r->ws_close[i], 1);
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

void stats_count_rejected(struct stats *s, unsigned status)
{
    stats_add(&s->row[STATS_REJECTED].c[SF_REQUESTS], 1);
    if (status != 0)
        stats_count_status(&s->row[STATS_REJECTED], status);
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

/* The counters of one row, as JSON members (no braces). */
static int render_counts(const struct stats_row *r, struct dynbuf *b)
{
    int rc = 0;
    for (int f = 0; rc == 0 && f < SF_FIELDS; f++)
        rc = dynbuf_addf(b, "\"%s\":%llu,", field_names[f],
                         (unsigned long long)(r ? atomic_load(&r->c[f]) : 0));
    rc = rc ? rc
            : dynbuf_addf(b, "\"open\":%lld,\"responses\":{",
                          (long long)(r ? atomic_load(&r->open) : 0));
    const char *sep = "";
    for (size_t i = 0; r && rc == 0 && i < STATS_STATUSES; i++) {
        unsigned long long n = atomic_load(&r->status[i]);
        if (n == 0)
            continue;
        if (status_codes[i])
            rc = dynbuf_addf(b, "%s\"%u\":%llu", sep, status_codes[i], n);
        else
            rc = dynbuf_addf(b, "%s\"other\":%llu", sep, n);
        sep = ",";
    }
    return rc ? rc : dynbuf_adds(b, "}");
}

/* A row's WebSocket counters, as the member ,"frames":{...,"closes_sent":{...}}. */
static int render_ws(const struct stats_row *r, struct dynbuf *b)
{
    int rc = dynbuf_adds(b, ",\"frames\":{");
    for (int f = 0; rc == 0 && f < SW_FIELDS; f++)
        rc = dynbuf_addf(b, "\"%s\":%llu,", ws_field_names[f],
                         (unsigned long long)(r ? atomic_load(&r->ws[f]) : 0));
    rc = rc ? rc : dynbuf_adds(b, "\"closes_sent\":{");
    const char *sep = "";
    for (size_t i = 0; r && rc == 0 && i < STATS_WS_CODES; i++) {
        unsigned long long n = atomic_load(&r->ws_close[i]);
        if (n == 0)
            continue;
        if (ws_close_codes[i])
            rc = dynbuf_addf(b, "%s\"%u\":%llu", sep, ws_close_codes[i], n);
        else
            rc = dynbuf_addf(b, "%s\"none\":%llu", sep, n);
        sep = ",";
    }
    return rc ? rc : dynbuf_adds(b, "}}");
}

static int render_row(const struct stats_row *r, const char *name, bool ws,
                      struct dynbuf *b)
{
    int rc = dynbuf_addf(b, "\"%s\":{", name);
    rc = rc ? rc : render_counts(r, b);
    if (rc == 0 && ws)
        rc = render_ws(r, b);
    return rc ? rc : dynbuf_adds(b, "}");
}

int stats_render_tag(const struct stats_row *r, const char *tag, struct dynbuf *b)
{
    int rc = dynbuf_addf(b, "{\"client\":\"%s\",", tag); /* tag is [A-Za-z0-9_-] */
    rc = rc ? rc : render_counts(r, b);
    rc = rc ? rc : render_ws(r, b);
    return rc ? rc : dynbuf_adds(b, "}");
}

int stats_render(struct stats *s, uint64_t published, uint64_t newest, uint64_t parked,
                 struct dynbuf *b)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    double uptime = (double)(clock_mono_ns() - s->started_mono_ns) / 1e9;
    int rc = dynbuf_addf(
        b,
        "{\"updates_published\":%llu,\"newest_seq\":%llu,\"uptime_s\":%.3f,"
        "\"cpu_s\":%.3f,"
        "\"rss_kib\":%ld,\"max_rss_kib\":%ld,\"connections_open\":%lld,"
        "\"connections_total\":%llu,\"connections_peak\":%lld,\"parked\":%llu,"
        "\"unaccounted_bytes\":%llu,\"undelivered_bytes\":%llu,\"timeouts\":%llu,"
        "\"last_event_id_unusable\":%llu,\"transports\":{",
        (unsigned long long)published, (unsigned long long)newest, uptime, cpu, rss_kib(),
        ru.ru_maxrss, (long long)atomic_load(&s->conns_open),
        (unsigned long long)atomic_load(&s->conns_total),
        (long long)atomic_load(&s->conns_peak), (unsigned long long)parked,
        (unsigned long long)atomic_load(&s->unaccounted_bytes),
        (unsigned long long)atomic_load(&s->undelivered_bytes),
        (unsigned long long)atomic_load(&s->timeouts),
        (unsigned long long)atomic_load(&s->last_event_id_unusable));
    for (int k = 0; rc == 0 && k < STATS_KINDS; k++) {
        if (k > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = render_row(&s->row[k], kind_names[k], k == STATS_WS, b);
    }
    return rc ? rc : dynbuf_adds(b, "}}");
}
