/* report.c: the human summary, summary.csv, summary.json, latency.csv, timeline.csv,
 * activity.csv.
 *
 * Window figures (what the summary and CSV show) follow the window rule in counters.h and
 * freshness.h. The kernel check compares whole-run totals, because the kernel's counts are
 * per socket and sockets outlive the window: bytes the application handed to libcurl's
 * sockets (request heads and bodies) against the kernel's bytes sent, and bytes libcurl
 * read (response heads, bodies, chunk framing) against the kernel's bytes received. The
 * observer's connection is in neither side.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "clock.h"
#include "hist.h"
#include "transport.h"

/* ---- derived figures ---------------------------------------------------------------- */

static uint64_t app_sent(const struct counters *c)
{
    return c->run[CTR_REQ_HEADER_BYTES] + c->run[CTR_REQ_BODY_BYTES];
}

static uint64_t app_received(const struct counters *c)
{
    return c->run[CTR_RESP_HEADER_BYTES] + c->run[CTR_RESP_BODY_BYTES] +
           c->run[CTR_CHUNK_FRAMING_BYTES];
}

int report_bytes_match(const struct run_results *res)
{
    const struct counters *c = &res->users;
    return app_sent(c) == c->run[CTR_KERNEL_BYTES_SENT] &&
           app_received(c) == c->run[CTR_KERNEL_BYTES_RECEIVED] &&
           c->run[CTR_KERNEL_READ_ERRORS] == 0;
}

static uint64_t window_bytes(const struct counters *c)
{
    return c->win[CTR_REQ_HEADER_BYTES] + c->win[CTR_REQ_BODY_BYTES] +
           c->win[CTR_RESP_HEADER_BYTES] + c->win[CTR_RESP_BODY_BYTES] +
           c->win[CTR_CHUNK_FRAMING_BYTES];
}

static double per_client_min(const struct run_results *res, double v)
{
    double minutes = res->window_s / 60.0;
    return (minutes > 0 && res->cfg->clients) ? v / res->cfg->clients / minutes : 0;
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

/* The mean length of the window's outages, open ones up to the run's end. */
static double outage_mean_ms(const struct counters *c)
{
    uint64_t n = c->win[CTR_OUTAGES];
    return n ? (double)c->win[CTR_OUTAGE_NS] / (double)n / NS_PER_MS : 0;
}

/* ---- the field list ----------------------------------------------------------------- */

static void add_num(struct report_fields *o, const char *name, double v, int decimals)
{
    if (o->n < REPORT_MAX_FIELDS)
        o->f[o->n++] = (struct report_field){name, NULL, v, decimals};
}

static void add_str(struct report_fields *o, const char *name, const char *s)
{
    if (o->n < REPORT_MAX_FIELDS)
        o->f[o->n++] = (struct report_field){name, s, 0, 0};
}

void report_fields(const struct run_results *res, struct report_fields *o)
{
    const struct client_config *cfg = res->cfg;
    const struct counters *c = &res->users;
    const struct hist *h = res->fr->latency;
    const struct freshness_summary *fs = &res->fresh;
    bool is_short = cfg->approach == APPROACH_SHORT;
    o->n = 0;

    /* settings */
    add_str(o, "label", cfg->label ? cfg->label : "");
    add_str(o, "approach", cli_approach_name(cfg->approach));
    add_str(o, "poll_mode", is_short ? cli_poll_name(cfg->poll) : "");
    add_num(o, "clients", cfg->clients, 0);
    add_num(o, "duration_s", (double)cfg->duration_ns / NS_PER_S, 3);
    add_num(o, "warmup_s", (double)cfg->warmup_ns / NS_PER_S, 3);
    add_num(o, "drain_s", (double)cli_drain_ns(cfg) / NS_PER_S, 3);
    add_num(o, "interval_ms", is_short ? (double)cfg->interval_ns / NS_PER_MS : 0, 3);
    add_num(o, "longpoll_timeout_s",
            cfg->approach == APPROACH_LONG ? (double)cfg->longpoll_timeout_ns / NS_PER_S
                                           : 0,
            0);
    add_num(o, "error_backoff_ms",
            cfg->approach == APPROACH_LONG ? (double)LONG_POLL_ERROR_BACKOFF_NS / NS_PER_MS
                                           : 0,
            0);
    add_str(o, "headers", res->profile->name);
    add_num(o, "req_head_profile_bytes", (double)res->req_head_bytes, 0);
    add_num(o, "cookie_bytes", (double)cfg->cookie_bytes, 0);
    add_num(o, "seed", (double)cfg->seed, 0);

    /* window counts: every counter but the kernel's (those are whole-run, below) */
    for (int k = 0; k < CTR_KERNEL_BYTES_SENT; k++)
        add_num(o, counters_name((enum counter)k), (double)c->win[k], 0);
    uint64_t responses =
        c->win[CTR_RESP_NEWS] + c->win[CTR_RESP_EMPTY] + c->win[CTR_RESP_304];
    uint64_t total = window_bytes(c);
    add_num(o, "total_bytes", (double)total, 0);
    add_num(o, "bytes_per_client_min", per_client_min(res, (double)total), 1);
    add_num(o, "requests_per_client_min", per_client_min(res, (double)c->win[CTR_REQUESTS]),
            3);
    add_num(o, "empty_share",
            responses ? (double)(c->win[CTR_RESP_EMPTY] + c->win[CTR_RESP_304]) / responses
                      : 0,
            4);

    /* freshness */
    add_num(o, "updates_published", (double)fs->published, 0);
    add_num(o, "updates_expected", (double)fs->expected, 0);
    add_num(o, "updates_received", (double)fs->received, 0);
    add_num(o, "missed", (double)fs->missed, 0);
    add_num(o, "missed_share", fs->expected ? (double)fs->missed / fs->expected : 0, 4);
    add_num(o, "duplicates", (double)fs->duplicates, 0);
    add_num(o, "latency_count", (double)hist_count(h), 0);
    add_num(o, "latency_mean_ms", hist_mean(h) / 1000.0, 3);
    add_num(o, "latency_p50_ms", ms(hist_value_at_percentile(h, 50)), 3);
    add_num(o, "latency_p90_ms", ms(hist_value_at_percentile(h, 90)), 3);
    add_num(o, "latency_p95_ms", ms(hist_value_at_percentile(h, 95)), 3);
    add_num(o, "latency_p99_ms", ms(hist_value_at_percentile(h, 99)), 3);
    add_num(o, "latency_p999_ms", ms(hist_value_at_percentile(h, 99.9)), 3);
    add_num(o, "latency_max_ms", ms(hist_max(h)), 3);
    add_num(o, "staleness_mean_ms", fs->staleness_mean_ms, 3);
    add_num(o, "staleness_max_client_ms", fs->staleness_max_ms, 3);
    add_num(o, "staleness_unknown_stamps", (double)fs->unknown_stamps, 0);
    add_num(o, "feed_restarts", (double)fs->feed_restarts, 0);
    add_num(o, "feed_stamps_inconsistent", (double)fs->inconsistent, 0);
    add_num(o, "users_stopped", res->users_stopped, 0);
    add_num(o, "users_never_connected", res->users_never_connected, 0);

    /* recovery: outages begun in the window (user.h) */
    add_num(o, "outages", (double)c->win[CTR_OUTAGES], 0);
    add_num(o, "outage_mean_ms", outage_mean_ms(c), 3);
    add_num(o, "outage_max_ms", (double)c->outage_max_win_ns / NS_PER_MS, 3);
    add_num(o, "outages_open", (double)c->win[CTR_OUTAGES_OPEN], 0);

    /* kernel check, whole run */
    add_num(o, "app_bytes_sent_run", (double)app_sent(c), 0);
    add_num(o, "kernel_bytes_sent_run", (double)c->run[CTR_KERNEL_BYTES_SENT], 0);
    add_num(o, "app_bytes_received_run", (double)app_received(c), 0);
    add_num(o, "kernel_bytes_received_run", (double)c->run[CTR_KERNEL_BYTES_RECEIVED], 0);
    add_num(o, "kernel_segs_out_run", (double)c->run[CTR_KERNEL_SEGS_OUT], 0);
    add_num(o, "kernel_segs_in_run", (double)c->run[CTR_KERNEL_SEGS_IN], 0);
    add_num(o, "connections_opened_run", (double)c->run[CTR_CONNECTIONS], 0);
    add_num(o, "requests_run", (double)c->run[CTR_REQUESTS], 0);
    add_str(o, "bytes_check", report_bytes_match(res) ? "ok" : "MISMATCH");

    /* the instrument itself */
    add_num(o, "client_cpu_s", res->cpu_window_s, 3);
    add_num(o, "client_cpu_pct",
            res->window_s > 0 ? 100.0 * res->cpu_window_s / res->window_s : 0, 1);
    add_num(o, "client_cpu_total_s", res->cpu_total_s, 3);
    add_num(o, "client_peak_rss_kb", (double)res->peak_rss_kb, 0);
}

/* ---- human summary ------------------------------------------------------------------ */

void report_print_summary(FILE *out, const struct run_results *res)
{
    const struct client_config *cfg = res->cfg;
    const struct counters *c = &res->users;
    const uint64_t *w = c->win;
    const struct hist *h = res->fr->latency;
    const struct freshness_summary *fs = &res->fresh;
    uint64_t total = window_bytes(c);
    char mode[64] = "";
    if (cfg->approach == APPROACH_SHORT)
        snprintf(mode, sizeof(mode), " every %.0f ms (%s)",
                 (double)cfg->interval_ns / NS_PER_MS, cli_poll_name(cfg->poll));
    else if (cfg->approach == APPROACH_LONG)
        snprintf(mode, sizeof(mode), " (hold %.0f s)",
                 (double)cfg->longpoll_timeout_ns / NS_PER_S);

    fprintf(out, "pushpull-client %s: %s%s, %u users, %.1f s window after %.1f s warmup\n",
            PUSHPULL_CLIENT_VERSION, cli_approach_name(cfg->approach), mode, cfg->clients,
            res->window_s, (double)cfg->warmup_ns / NS_PER_S);
    fprintf(out,
            "  %-13s %s (%s), headers %s (%zu B request head), cookie %" PRIu64 " B%s%s\n",
            "server", cfg->server, res->address, res->profile->name, res->req_head_bytes,
            cfg->cookie_bytes, cfg->label && cfg->label[0] ? ", label " : "",
            cfg->label ? cfg->label : "");
    fprintf(out,
            "  %-13s %" PRIu64 " (%.2f per user per minute)  news %" PRIu64
            "  empty %" PRIu64 "  304 %" PRIu64 "\n",
            "requests", w[CTR_REQUESTS], per_client_min(res, (double)w[CTR_REQUESTS]),
            w[CTR_RESP_NEWS], w[CTR_RESP_EMPTY], w[CTR_RESP_304]);
    fprintf(out,
            "  %-13s connect %" PRIu64 "  timeout %" PRIu64 "  status %" PRIu64
            "  parse %" PRIu64 "  io %" PRIu64 "  (stopped users %u)\n",
            "errors", w[CTR_ERR_CONNECT], w[CTR_ERR_TIMEOUT], w[CTR_ERR_STATUS],
            w[CTR_ERR_PARSE], w[CTR_ERR_IO], res->users_stopped);
    fprintf(out,
            "  %-13s %" PRIu64 " opened in window (%" PRIu64 " in run), %" PRIu64
            " reconnects, %" PRIu64 " resets\n",
            "connections", w[CTR_CONNECTIONS], c->run[CTR_CONNECTIONS], w[CTR_RECONNECTS],
            w[CTR_RESETS]);
    fprintf(out,
            "  %-13s request head %" PRIu64 "  response head %" PRIu64 "  body %" PRIu64
            "  framing %" PRIu64 "\n",
            "bytes", w[CTR_REQ_HEADER_BYTES], w[CTR_RESP_HEADER_BYTES],
            w[CTR_RESP_BODY_BYTES], w[CTR_CHUNK_FRAMING_BYTES]);
    fprintf(out, "  %-13s %.0f B per user per minute (%" PRIu64 " B in all)\n", "",
            per_client_min(res, (double)total), total);
    if (cfg->approach == APPROACH_SSE)
        fprintf(out,
                "  %-13s data %" PRIu64 "  fields %" PRIu64 "  comments %" PRIu64
                " (%" PRIu64 " heartbeats)  events %" PRIu64 "\n",
                "sse body", w[CTR_SSE_DATA_BYTES], w[CTR_SSE_FRAMING_BYTES],
                w[CTR_SSE_COMMENT_BYTES], w[CTR_SSE_COMMENTS], w[CTR_SSE_EVENTS]);
    fprintf(out,
            "  %-13s %" PRIu64 " published, %" PRIu64 " received of %" PRIu64 ", %" PRIu64
            " missed, %" PRIu64 " duplicates\n",
            "updates", fs->published, fs->received, fs->expected, fs->missed,
            fs->duplicates);
    fprintf(out,
            "  %-13s %" PRIu64 " begun in window, mean %.1f ms, max %.1f ms, %" PRIu64
            " open at the end; feed restarts %" PRIu64 "\n",
            "outages", w[CTR_OUTAGES], outage_mean_ms(c),
            (double)c->outage_max_win_ns / NS_PER_MS, w[CTR_OUTAGES_OPEN],
            fs->feed_restarts);
    if (fs->inconsistent > 0)
        fprintf(out,
                "  %-13s %" PRIu64 " publish stamps fit no feed epoch or disagree "
                "(freshness.h): the update figures are suspect\n",
                "warning", fs->inconsistent);
    fprintf(out,
            "  %-13s mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
            "latency", hist_mean(h) / 1000.0, ms(hist_value_at_percentile(h, 50)),
            ms(hist_value_at_percentile(h, 90)), ms(hist_value_at_percentile(h, 99)),
            ms(hist_value_at_percentile(h, 99.9)), ms(hist_max(h)));
    fprintf(out, "  %-13s mean %.3f ms per user (worst user %.3f ms)\n", "staleness",
            fs->staleness_mean_ms, fs->staleness_max_ms);
    fprintf(out,
            "  %-13s sent %" PRIu64 " app = %" PRIu64 " kernel, received %" PRIu64
            " app = %" PRIu64 " kernel: %s\n",
            "kernel check", app_sent(c), c->run[CTR_KERNEL_BYTES_SENT], app_received(c),
            c->run[CTR_KERNEL_BYTES_RECEIVED], report_bytes_match(res) ? "ok" : "MISMATCH");
    fprintf(out,
            "  %-13s cpu %.2f s in the window (%.1f%%), %.2f s in all, peak rss %ld kB\n",
            "client", res->cpu_window_s,
            res->window_s > 0 ? 100.0 * res->cpu_window_s / res->window_s : 0,
            res->cpu_total_s, res->peak_rss_kb);
}

/* ---- files -------------------------------------------------------------------------- */

int report_write_csv(FILE *out, const struct report_fields *fl)
{
    for (size_t i = 0; i < fl->n; i++)
        if (fprintf(out, "%s%s", i ? "," : "", fl->f[i].name) < 0)
            return -1;
    if (fputc('\n', out) == EOF)
        return -1;
    for (size_t i = 0; i < fl->n; i++) {
        const struct report_field *f = &fl->f[i];
        int rc = f->str ? fprintf(out, "%s%s", i ? "," : "", f->str)
                        : fprintf(out, "%s%.*f", i ? "," : "", f->decimals, f->num);
        if (rc < 0)
            return -1;
    }
    return fputc('\n', out) == EOF ? -1 : 0;
}

/* Run argv (no shell) and capture the first line of its stdout into out ("" on failure). */
static void capture_line(char *const argv[], char *out, size_t outlen)
{
    out[0] = '\0';
    int fds[2];
    if (pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(fds[1], STDOUT_FILENO);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        close(fds[0]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < outlen && (n = read(fds[0], out + got, outlen - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fds[0]);
    waitpid(pid, NULL, 0);
    out[strcspn(out, "\n")] = '\0';
}

/* The repository commit of this executable, with "-dirty" for local changes. */
static void git_commit(char *out, size_t outlen)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    out[0] = '\0';
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    char *rev[] = {"git", "-C", exe, "rev-parse", "HEAD", NULL};
    capture_line(rev, out, outlen);
    char dirty[256];
    char *st[] = {"git", "-C", exe, "status", "--porcelain", "--untracked-files=no", NULL};
    capture_line(st, dirty, sizeof(dirty));
    size_t len = strlen(out);
    if (len > 0 && dirty[0])
        snprintf(out + len, outlen - len, "-dirty");
}

static void cpu_model(char *out, size_t outlen)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                snprintf(out, outlen, "%s", colon + 2);
                out[strcspn(out, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

static cJSON *meta_json(const struct run_results *res, const char *cmdline)
{
    cJSON *m = cJSON_CreateObject();
    char buf[512];
    struct utsname un;
    cJSON_AddStringToObject(m, "tool", "pushpull-client");
    cJSON_AddStringToObject(m, "version", PUSHPULL_CLIENT_VERSION);
    git_commit(buf, sizeof(buf));
    cJSON_AddStringToObject(m, "commit", buf);
    cJSON_AddStringToObject(m, "command_line", cmdline ? cmdline : "");
    time_t t = (time_t)(res->start_real_ns / NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(m, "started_utc", buf);
    /* the window's start on the stamps' clock, so other records (a restart's) can be
     * placed on the window's time axis */
    cJSON_AddNumberToObject(m, "window_start_unix_ns",
                            (double)(res->start_real_ns + res->cfg->warmup_ns));
    if (uname(&un) == 0) {
        cJSON_AddStringToObject(m, "hostname", un.nodename);
        snprintf(buf, sizeof(buf), "%s %s %s", un.sysname, un.release, un.machine);
        cJSON_AddStringToObject(m, "kernel", buf);
    }
    cJSON_AddNumberToObject(m, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cpu_model(buf, sizeof(buf));
    cJSON_AddStringToObject(m, "cpu_model", buf);
    cJSON_AddStringToObject(m, "libcurl", curl_version());
    cJSON_AddNumberToObject(m, "seed", (double)res->cfg->seed);
    cJSON_AddStringToObject(m, "server", res->cfg->server);
    cJSON_AddStringToObject(m, "server_address", res->address);
    cJSON_AddStringToObject(m, "host_header", res->host_line);
    cJSON_AddStringToObject(
        m, "window_rule",
        "counts belong to the window when they happen in it: a request when sent, response "
        "bytes when read, a response when complete; updates count when published in the "
        "window, their receipts may come in the drain; kernel figures are whole-run");
    return m;
}

static int write_json(const char *path, const struct run_results *res,
                      const struct report_fields *fl, const char *cmdline)
{
    int rc = -1;
    char *text = NULL;
    FILE *f = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        goto end;
    cJSON_AddItemToObject(root, "meta", meta_json(res, cmdline));
    cJSON *r = cJSON_AddObjectToObject(root, "results");
    for (size_t i = 0; i < fl->n; i++) {
        if (fl->f[i].str)
            cJSON_AddStringToObject(r, fl->f[i].name, fl->f[i].str);
        else
            cJSON_AddNumberToObject(r, fl->f[i].name, fl->f[i].num);
    }
    cJSON *run = cJSON_AddObjectToObject(root, "run_totals");
    cJSON *obs = cJSON_AddObjectToObject(root, "observer_totals");
    for (int k = 0; k < CTR__COUNT; k++) {
        cJSON_AddNumberToObject(run, counters_name((enum counter)k),
                                (double)res->users.run[k]);
        cJSON_AddNumberToObject(obs, counters_name((enum counter)k),
                                (double)res->observer.run[k]);
    }
    text = cJSON_Print(root);
    if (!text)
        goto end;
    f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF || fputc('\n', f) == EOF)
        goto end;
    rc = 0;
end:
    if (f && fclose(f) != 0)
        rc = -1;
    free(text);
    cJSON_Delete(root);
    return rc;
}

/* mkdir -p */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int report_write_files(const char *dir, const struct run_results *res, const char *cmdline,
                       char *err, size_t errlen)
{
    char path[4200];
    struct report_fields *fl = malloc(sizeof(*fl));
    if (!fl) {
        snprintf(err, errlen, "malloc: out of memory");
        return -1;
    }
    report_fields(res, fl);
    int rc = make_dirs(dir, err, errlen);
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/summary.json", dir);
        if (write_json(path, res, fl, cmdline) != 0) {
            snprintf(err, errlen, "write %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    const char *names[] = {"summary.csv", "latency.csv", "timeline.csv", "activity.csv"};
    for (int i = 0; i < 4 && rc == 0; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        if (!f) {
            snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        int wrc;
        if (i == 0)
            wrc = report_write_csv(f, fl);
        else if (i == 1)
            wrc = hist_write_csv(res->fr->latency, f);
        else if (i == 2)
            wrc = freshness_write_timeline(res->fr, f,
                                           res->cfg->duration_ns / 10000 > 10 * NS_PER_MS
                                               ? res->cfg->duration_ns / 10000
                                               : 10 * NS_PER_MS);
        else
            wrc = activity_write_csv(res->activity, f);
        if (fclose(f) != 0 || wrc != 0) {
            snprintf(err, errlen, "write %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    free(fl);
    return rc;
}
