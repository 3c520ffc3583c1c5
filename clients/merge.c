/* merge.c: pushpull-client merge (see merge.h for what adds, what is weighted, what is
 * refused).
 *
 * Each input directory is read whole before anything is written: summary.json (its
 * meta.argv re-parsed by cli_parse, the same parser the run used, so the settings are the
 * run's own; its "partition" and "merge_inputs"), the three bucket files, activity.csv,
 * and partition 1's timeline.csv. The sum becomes a run_results like a run's, and
 * report_write_files writes it: the merged files cannot drift from a run's files, since
 * one piece of code writes both. Then the human summary goes to stdout, as after a run.
 */
#include "merge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "dynbuf.h"
#include "hist.h"
#include "merge_state.h"
#include "merge_traffic.h"
#include "partition.h"
#include "report.h"
#include "report_files.h"

#define MERGE_MAX_FILE (64u << 20) /* summary.json, activity.csv, timeline.csv */

/* One input directory as read. */
struct input {
    const char *dir;          /* as given (borrowed from argv) */
    cJSON *summary;           /* summary.json (owned) */
    char **argv;              /* meta.argv, NULL-terminated (owned) */
    int argc;                 /* entries in argv */
    struct client_config cfg; /* its settings, from argv (owned strings) */
    struct merge_state st;    /* its raw figures */
    double window_start_ns;   /* meta.window_start_unix_ns */
    const char *command_line; /* meta.command_line (in summary) */
};

/* The whole of dir/name as a string (owned by the caller), or NULL with err. */
static char *read_text(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct dynbuf b;
    dynbuf_init(&b, MERGE_MAX_FILE);
    if (dynbuf_read_file(&b, path, err, errlen) != 0)
        return NULL;
    char *text = dynbuf_take(&b);
    if (!text && !(text = calloc(1, 1))) /* an empty file is an empty string */
        snprintf(err, errlen, "%.900s: out of memory", path);
    return text;
}

/* Read one histogram's bucket file into h (adding to it). 0 or -1 with err. */
static int read_buckets(const char *dir, const char *name, struct hist *h, char *err,
                        size_t errlen)
{
    char path[4200], why[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
        return -1;
    }
    int rc = hist_read_buckets(h, f, why, sizeof(why));
    fclose(f);
    if (rc != 0)
        snprintf(err, errlen, "%.700s: %.200s", path, why);
    return rc;
}

/* meta.argv into in->argv, and the settings it gives into in->cfg. */
static int read_settings(struct input *in, char *err, size_t errlen)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(in->summary, "meta");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(meta, "argv");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(meta, "window_start_unix_ns");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(meta, "command_line");
    if (!cJSON_IsArray(args) || cJSON_GetArraySize(args) < 1 || !cJSON_IsNumber(ws) ||
        !cJSON_IsString(cl)) {
        snprintf(err, errlen,
                 "%s/summary.json: meta.argv, meta.window_start_unix_ns or "
                 "meta.command_line missing (not a pushpull-client result of this version)",
                 in->dir);
        return -1;
    }
    in->window_start_ns = ws->valuedouble;
    in->command_line = cl->valuestring;
    in->argc = cJSON_GetArraySize(args);
    in->argv = calloc((size_t)in->argc + 1, sizeof(*in->argv));
    if (!in->argv) {
        snprintf(err, errlen, "calloc: out of memory");
        return -1;
    }
    for (int i = 0; i < in->argc; i++) {
        const cJSON *a = cJSON_GetArrayItem(args, i);
        if (!cJSON_IsString(a) || !(in->argv[i] = strdup(a->valuestring))) {
            snprintf(err, errlen, "%s/summary.json: meta.argv[%d]: expected a string",
                     in->dir, i);
            return -1;
        }
    }
    char why[512];
    if (cli_parse(in->argc, in->argv, &in->cfg, why, sizeof(why)) != CLI_RUN) {
        snprintf(err, errlen, "%s/summary.json: meta.argv: %s", in->dir, why);
        return -1;
    }
    return 0;
}

static int read_input(struct input *in, char *err, size_t errlen)
{
    char *text = read_text(in->dir, "summary.json", err, errlen);
    if (!text)
        return -1;
    in->summary = cJSON_Parse(text);
    free(text);
    if (!in->summary) {
        snprintf(err, errlen, "%s/summary.json: not JSON", in->dir);
        return -1;
    }
    if (read_settings(in, err, errlen) != 0)
        return -1;
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(in->summary, "partition");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "merged"))) {
        snprintf(err, errlen,
                 "%s: already a merge of partitions; merge the partitions' own "
                 "results",
                 in->dir);
        return -1;
    }
    char why[300];
    if (merge_state_read(cJSON_GetObjectItemCaseSensitive(in->summary, "merge_inputs"),
                         &in->st, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s/summary.json: %s", in->dir, why);
        return -1;
    }
    return 0;
}

/* The first setting in which b's run differs from a's, or NULL when none does. Only
 * --partition, --out and --threads may differ between the parts of one run. */
static const char *setting_differs(const struct client_config *a,
                                   const struct client_config *b)
{
#define SAME(field, name)                                                                  \
    if (a->field != b->field)                                                              \
        return name;
#define SAME_STR(field, name)                                                              \
    if (strcmp(a->field ? a->field : "", b->field ? b->field : "") != 0)                   \
        return name;
    SAME_STR(server, "--server")
    SAME(approach, "--approach")
    SAME(protocol, "--protocol")
    SAME_STR(cacert, "--cacert")
    SAME(users_per_connection, "--users-per-connection")
    SAME(poll, "--poll")
    SAME(clients_total, "--clients")
    SAME(partition_count, "--partition's N")
    SAME(duration_ns, "--duration")
    SAME(warmup_ns, "--warmup")
    SAME(drain_ns, "--drain")
    SAME(interval_ns, "--interval")
    SAME(longpoll_timeout_ns, "--longpoll-timeout")
    SAME(connect_timeout_ns, "--connect-timeout")
    SAME(response_timeout_ns, "--response-timeout")
    SAME(open_timeout_ns, "--open-timeout")
    SAME(ws_backoff_ns, "--ws-backoff")
    SAME(max_body_bytes, "--max-body")
    SAME(send_rate_hz, "--send-rate")
    SAME(send_bytes, "--send-bytes")
    SAME(send_mode, "--send-mode")
    SAME(max_clock_skew_ns, "--max-clock-skew")
    SAME_STR(headers, "--headers")
    SAME(cookie_bytes, "--cookie-bytes")
    SAME(seed, "--seed")
    SAME_STR(label, "--label")
    SAME_STR(foreign_url, "--url")
    SAME_STR(observer_url, "--observer-url")
    SAME(http_driver, "--http-driver")
#undef SAME
#undef SAME_STR
    return NULL;
}

/* The inputs are the N parts of one run, each once. 0, or -1 with one line in err. */
static int check_parts(struct input *in, int n, char *err, size_t errlen)
{
    uint32_t count = in[0].cfg.partition_count;
    for (int i = 1; i < n; i++) {
        const char *what = setting_differs(&in[0].cfg, &in[i].cfg);
        if (what) {
            snprintf(err, errlen, "%s and %s are different runs: their %s differs",
                     in[0].dir, in[i].dir, what);
            return -1;
        }
        double gap = in[i].window_start_ns - in[0].window_start_ns;
        if (gap < 0)
            gap = -gap;
        if (gap >= (double)in[0].cfg.duration_ns) {
            snprintf(err, errlen,
                     "%s and %s are different runs: their windows start %.1f s apart, more "
                     "than the %.1f s window",
                     in[0].dir, in[i].dir, gap / 1e9, (double)in[0].cfg.duration_ns / 1e9);
            return -1;
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (in[i].cfg.partition_index == in[j].cfg.partition_index) {
                snprintf(err, errlen, "%s and %s both hold partition %u/%u", in[j].dir,
                         in[i].dir, in[i].cfg.partition_index, count);
                return -1;
            }
    if ((uint32_t)n != count) {
        for (uint32_t p = 1; p <= count; p++) {
            bool found = false;
            for (int i = 0; i < n; i++)
                found = found || in[i].cfg.partition_index == p;
            if (!found) {
                snprintf(err, errlen, "partition %u/%u is missing (%d of %u given)", p,
                         count, n, count);
                return -1;
            }
        }
    }
    return 0;
}

/* Add dir/activity.csv to *a, bin by bin, its rows moved shift bins later (onto the
 * merged clock; a grows to the longest input). */
static int add_activity(const char *dir, size_t shift, struct activity *a, char *err,
                        size_t errlen)
{
    char *text = read_text(dir, "activity.csv", err, errlen);
    if (!text)
        return -1;
    int rc = -1;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (!line || strcmp(line, "time_s,requests,connections,errors,deliveries") != 0) {
        snprintf(err, errlen,
                 "%s/activity.csv: line 1: expected the header "
                 "time_s,requests,connections,errors,deliveries",
                 dir);
        goto end;
    }
    size_t row = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        size_t at = row + shift; /* the bin on the merged clock */
        double t;
        uint64_t v[ACT__COUNT];
        int used = 0;
        if (sscanf(line, "%lf,%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%" SCNu64 "%n", &t, &v[0],
                   &v[1], &v[2], &v[3], &used) != 5 ||
            line[used] != '\0' || at >= ACTIVITY_MAX_BINS) {
            snprintf(err, errlen, "%s/activity.csv: line %zu: expected time_s and 4 counts",
                     dir, row + 2);
            goto end;
        }
        if (at >= a->nbins) {
            size_t grow = a->nbins ? 2 * a->nbins : 64;
            while (grow <= at)
                grow *= 2;
            void *p = realloc(a->bins, grow * sizeof(*a->bins));
            if (!p) {
                snprintf(err, errlen, "realloc: out of memory");
                goto end;
            }
            a->bins = p;
            memset(a->bins + a->nbins, 0, (grow - a->nbins) * sizeof(*a->bins));
            a->nbins = grow;
        }
        for (int k = 0; k < ACT__COUNT; k++)
            a->bins[at][k] += v[k];
        row++;
    }
    rc = 0;
end:
    free(text);
    return rc;
}

/* How many activity bins input i's window opened after the earliest input's: its rows
 * move by that many, so a merged bin adds the same moment of every partition. */
static size_t activity_shift(const struct input *in, int n, int i)
{
    double first = in[0].window_start_ns;
    for (int k = 1; k < n; k++)
        if (in[k].window_start_ns < first)
            first = in[k].window_start_ns;
    return (size_t)((in[i].window_start_ns - first) / (double)ACTIVITY_BIN_NS + 0.5);
}

/* Everything that adds, weighs or takes the larger, of in into the merged res. */
static void add_state(struct run_results *res, const struct input *in, bool first)
{
    const struct merge_state *st = &in->st;
    struct freshness_summary *fs = &res->fresh;
    const struct freshness_summary *f = &st->fresh;
    counters_merge(&res->users, &st->users);
    counters_merge(&res->upstream, &st->upstream);
    counters_merge(&res->observer, &st->observer);
    res->users_stopped += st->users_stopped;
    res->users_never_connected += st->users_never_connected;
    res->users_served += st->users_served;
    if (f->published > fs->published)
        fs->published = f->published;
    if (f->first_seq && (!fs->first_seq || f->first_seq < fs->first_seq))
        fs->first_seq = f->first_seq;
    if (f->last_seq > fs->last_seq)
        fs->last_seq = f->last_seq;
    if (f->unseen > fs->unseen)
        fs->unseen = f->unseen;
    fs->expected += f->expected;
    fs->received += f->received;
    fs->missed += f->missed;
    fs->duplicates += f->duplicates;
    /* a mean over users: weighted by this partition's users (the sum is divided at the
     * end) */
    fs->staleness_mean_ms += f->staleness_mean_ms * in->cfg.clients;
    if (f->staleness_max_ms > fs->staleness_max_ms)
        fs->staleness_max_ms = f->staleness_max_ms;
    fs->unknown_stamps += f->unknown_stamps;
    if (f->feed_restarts > fs->feed_restarts)
        fs->feed_restarts = f->feed_restarts;
    fs->inconsistent += f->inconsistent;
    res->cpu_window_s += st->cpu_window_s;
    res->cpu_total_s += st->cpu_total_s;
    res->peak_rss_kb += st->peak_rss_kb;
    res->threads += st->threads;
    res->loop_turns += st->loop_turns;
    res->loop_full_turns += st->loop_full_turns;
    if (st->loop_busy_max > res->loop_busy_max)
        res->loop_busy_max = st->loop_busy_max;
    if (first || st->start_real_ns < res->start_real_ns)
        res->start_real_ns = st->start_real_ns;
    /* each partition corrected its own latencies by its own estimate: the merged ones are
     * as uncertain as the least certain of them, which is the one shown (probes add) */
    uint32_t asked = res->clock.probes + st->clock.probes;
    uint32_t answered = res->clock.answered + st->clock.answered;
    if (first || st->clock.rtt_ns > res->clock.rtt_ns)
        res->clock = st->clock;
    res->clock.probes = asked;
    res->clock.answered = answered;
}

/* traffic.csv into out_dir from the inputs' (merge_traffic.h), every row moved onto the
 * merged window's clock (res->start_real_ns is already the earliest start); res's traffic
 * figures set. 0, or -1 with err. */
static int merge_traffic_of(const char *out_dir, const struct input *in, int n,
                            struct run_results *res, char *err, size_t errlen)
{
    struct merge_traffic_part *parts = calloc((size_t)n, sizeof(*parts));
    if (!parts) {
        snprintf(err, errlen, "calloc: out of memory");
        return -1;
    }
    double w0 = (double)(res->start_real_ns + res->cfg->warmup_ns);
    for (int i = 0; i < n; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(in[i].summary, "results");
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(r, "traffic_rows");
        const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(r, "traffic_rows_dropped");
        parts[i].dir = in[i].dir;
        parts[i].written = cJSON_IsNumber(rows) && rows->valuedouble >= 0;
        parts[i].rows = parts[i].written ? (uint64_t)rows->valuedouble : 0;
        parts[i].dropped = parts[i].written && cJSON_IsNumber(dropped)
                               ? (uint64_t)dropped->valuedouble
                               : 0;
        parts[i].shift_ms = (in[i].window_start_ns - w0) / 1e6;
    }
    struct merge_traffic_total total;
    int rc = report_make_dirs(out_dir, err, errlen) != 0
                 ? -1
                 : merge_traffic(out_dir, parts, n, &total, err, errlen);
    free(parts);
    if (rc == 0) {
        res->traffic_on = total.written;
        res->traffic_rows = total.rows;
        res->traffic_rows_dropped = total.dropped;
    }
    return rc;
}

static void inputs_free(struct input *in, int n)
{
    for (int i = 0; in && i < n; i++) {
        cJSON_Delete(in[i].summary);
        for (int k = 0; in[i].argv && k < in[i].argc; k++)
            free(in[i].argv[k]);
        free(in[i].argv);
        cli_config_free(&in[i].cfg);
    }
    free(in);
}

/* Merge the n inputs into out_dir. 0, or -1 with one line in err. */
static int merge_dirs(const char *out_dir, char **dirs, int n, char *err, size_t errlen)
{
    int rc = -1;
    struct input *in = calloc((size_t)n, sizeof(*in));
    struct hist *lat = hist_new(), *rtt = hist_new(), *lag = hist_new();
    struct activity act = {0};
    char *timeline = NULL;
    struct header_profile profile = {0};
    struct freshness fr = {0};
    struct run_results res = {0};
    if (!in || !lat || !rtt || !lag) {
        snprintf(err, errlen, "calloc: out of memory");
        goto end;
    }
    for (int i = 0; i < n; i++) {
        in[i].dir = dirs[i];
        if (read_input(&in[i], err, errlen) != 0)
            goto end;
    }
    if (check_parts(in, n, err, errlen) != 0)
        goto end;
    for (int i = 0; i < n; i++) {
        if (read_buckets(in[i].dir, "latency_buckets.csv", lat, err, errlen) != 0 ||
            read_buckets(in[i].dir, "msg_rtt_buckets.csv", rtt, err, errlen) != 0 ||
            read_buckets(in[i].dir, "loop_lag_buckets.csv", lag, err, errlen) != 0 ||
            add_activity(in[i].dir, activity_shift(in, n, i), &act, err, errlen) != 0)
            goto end;
        if (in[i].cfg.partition_index == 1 &&
            !(timeline = read_text(in[i].dir, "timeline.csv", err, errlen)))
            goto end;
        add_state(&res, &in[i], i == 0);
    }
    /* the one process with all the users: partition 1's settings, the whole population */
    struct client_config *cfg = &in[0].cfg;
    for (int i = 0; i < n; i++)
        if (in[i].cfg.partition_index == 1)
            cfg = &in[i].cfg;
    cfg->clients = cfg->clients_total;
    cfg->partition_index = 1;
    if (cfg->clients > 0)
        res.fresh.staleness_mean_ms /= cfg->clients;
    free(cfg->out_dir);
    cfg->out_dir = NULL;
    const struct merge_state *st0 = &in[0].st;
    profile.name = (char *)st0->headers; /* read only: report.c shows the name */
    fr.latency = lat;
    res.cfg = cfg;
    res.profile = &profile;
    res.host_line = st0->host_line;
    res.req_head_bytes = st0->req_head_bytes;
    res.send_head_bytes = st0->send_head_bytes;
    res.msg_rtt = rtt;
    res.fr = &fr;
    res.activity = &act;
    res.loop_lag = lag;
    res.window_s = (double)cfg->duration_ns / 1e9;
    res.merged_parts = cfg->partition_count;
    res.timeline_text = timeline;
    snprintf(res.address, sizeof(res.address), "%s", st0->address);
    const struct input *p1 = &in[0];
    for (int i = 0; i < n; i++)
        if (in[i].cfg.partition_index == 1)
            p1 = &in[i];
    if (merge_traffic_of(out_dir, in, n, &res, err, errlen) != 0 ||
        report_write_files(out_dir, &res, p1->command_line, p1->argv, err, errlen) != 0)
        goto end;
    report_print_summary(stdout, &res);
    printf("  %-13s %d partitions of %u users merged into %s\n", "merged", n,
           cfg->clients_total, out_dir);
    rc = 0;
end:
    free(act.bins);
    free(timeline);
    hist_free(lat);
    hist_free(rtt);
    hist_free(lag);
    inputs_free(in, n);
    return rc;
}

static void merge_usage(FILE *out)
{
    fprintf(out, "usage: pushpull-client merge --out DIR IN_DIR...\n\n"
                 "Writes into DIR the result files one client process with all the users "
                 "would\nhave written, from the results of the N processes of one run "
                 "(--partition\n1/N .. N/N, each with --out IN_DIR): counters add, "
                 "histograms merge bucket by\nbucket, means are weighted. Exit status: "
                 "0 merged, 1 inputs refused or unreadable,\n2 bad command line.\n");
}

int merge_main(int argc, char **argv)
{
    const char *out = NULL;
    int first = 1;
    while (first < argc && argv[first][0] == '-') {
        const char *a = argv[first];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            merge_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (first + 1 >= argc || argv[first + 1][0] == '\0') {
                fprintf(stderr, "pushpull-client merge: --out needs a directory\n");
                return 2;
            }
            out = argv[first + 1];
            first += 2;
        } else if (strncmp(a, "--out=", 6) == 0 && a[6] != '\0') {
            out = a + 6;
            first++;
        } else {
            fprintf(stderr, "pushpull-client merge: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!out || first >= argc) {
        fprintf(stderr, "pushpull-client merge: expected --out DIR and at least one "
                        "input directory (see --help)\n");
        return 2;
    }
    if (argc - first > PARTITION_MAX) {
        fprintf(stderr, "pushpull-client merge: %d inputs: at most %d partitions\n",
                argc - first, PARTITION_MAX);
        return 2;
    }
    char err[1024];
    if (merge_dirs(out, argv + first, argc - first, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-client merge: %s\n", err);
        return 1;
    }
    return 0;
}
