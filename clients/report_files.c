/* report_files.c: the run's files: summary.json, summary.csv, latency.csv, timeline.csv,
 * activity.csv, msg_rtt.csv (the messages' round trips, as latency.csv).
 *
 * summary.csv and the "results" object of summary.json are both written from the one
 * field list of report.c, so they cannot disagree. summary.json adds the metadata a
 * reader needs to trust and repeat the run (the command line, the commit, the machine,
 * libcurl's version, the window's start on the stamps' clock) and every counter's
 * whole-run total, the observer's and the message senders' apart.
 */
#include "report_files.h"

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
#include "merge_state.h"

/* ---- summary.csv -------------------------------------------------------------------- */

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

static cJSON *meta_json(const struct run_results *res, const char *cmdline,
                        char *const *argv)
{
    cJSON *m = cJSON_CreateObject();
    char buf[512];
    struct utsname un;
    cJSON_AddStringToObject(m, "tool", "pushpull-client");
    cJSON_AddStringToObject(m, "version", PUSHPULL_CLIENT_VERSION);
    git_commit(buf, sizeof(buf));
    cJSON_AddStringToObject(m, "commit", buf);
    cJSON_AddStringToObject(m, "command_line", cmdline ? cmdline : "");
    /* the arguments one by one, so a merge re-reads the settings with the same parser */
    cJSON *args = cJSON_AddArrayToObject(m, "argv");
    for (size_t i = 0; argv && argv[i]; i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
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

/* Which slice of the population these results are (partition.h), or, merged, of how
 * many slices they are the sum. */
static cJSON *partition_json(const struct run_results *res)
{
    const struct client_config *cfg = res->cfg;
    cJSON *p = cJSON_CreateObject();
    if (res->merged_parts > 0) {
        cJSON_AddNumberToObject(p, "count", res->merged_parts);
        cJSON_AddBoolToObject(p, "merged", true);
    } else {
        cJSON_AddNumberToObject(p, "index", cfg->partition_index);
        cJSON_AddNumberToObject(p, "count", cfg->partition_count);
        cJSON_AddBoolToObject(p, "merged", false);
    }
    cJSON_AddNumberToObject(p, "users", cfg->clients);
    cJSON_AddNumberToObject(p, "users_total", cfg->clients_total);
    return p;
}

/* The server's clock against the client's (clock_offset.h). */
static cJSON *clock_json(const struct clock_estimate *ck)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "offset_ms", (double)ck->offset_ns / NS_PER_MS);
    cJSON_AddNumberToObject(c, "uncertainty_ms", (double)ck->rtt_ns / 2 / NS_PER_MS);
    cJSON_AddNumberToObject(c, "rtt_ms", (double)ck->rtt_ns / NS_PER_MS);
    cJSON_AddNumberToObject(c, "probes", ck->answered);
    cJSON_AddNumberToObject(c, "probes_asked", ck->probes);
    cJSON_AddStringToObject(c, "source_url", ck->source_url);
    cJSON_AddBoolToObject(c, "applied", ck->applied);
    return c;
}

static int write_json(const char *path, const struct run_results *res,
                      const struct report_fields *fl, const char *cmdline,
                      char *const *argv)
{
    int rc = -1;
    char *text = NULL;
    FILE *f = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        goto end;
    cJSON_AddItemToObject(root, "meta", meta_json(res, cmdline, argv));
    cJSON_AddItemToObject(root, "partition", partition_json(res));
    cJSON_AddItemToObject(root, "clock", clock_json(&res->clock));
    cJSON *r = cJSON_AddObjectToObject(root, "results");
    for (size_t i = 0; i < fl->n; i++) {
        if (fl->f[i].str)
            cJSON_AddStringToObject(r, fl->f[i].name, fl->f[i].str);
        else
            cJSON_AddNumberToObject(r, fl->f[i].name, fl->f[i].num);
    }
    cJSON *run = cJSON_AddObjectToObject(root, "run_totals");
    cJSON *obs = cJSON_AddObjectToObject(root, "observer_totals");
    cJSON *ups = cJSON_AddObjectToObject(root, "upstream_totals");
    for (int k = 0; k < CTR__COUNT; k++) {
        cJSON_AddNumberToObject(run, counters_name((enum counter)k),
                                (double)res->users.run[k]);
        cJSON_AddNumberToObject(obs, counters_name((enum counter)k),
                                (double)res->observer.run[k]);
        cJSON_AddNumberToObject(ups, counters_name((enum counter)k),
                                (double)res->upstream.run[k]);
    }
    cJSON_AddItemToObject(root, "merge_inputs", merge_state_json(res));
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

/* timeline.csv: the sample user's, or the text a merge carries over. */
static int write_timeline(const struct run_results *res, FILE *f)
{
    if (res->timeline_text)
        return fputs(res->timeline_text, f) == EOF ? -1 : 0;
    int64_t step = res->cfg->duration_ns / 10000;
    return freshness_write_timeline(res->fr, f,
                                    step > 10 * NS_PER_MS ? step : 10 * NS_PER_MS);
}

int report_write_files(const char *dir, const struct run_results *res, const char *cmdline,
                       char *const *argv, char *err, size_t errlen)
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
        if (write_json(path, res, fl, cmdline, argv) != 0) {
            snprintf(err, errlen, "write %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    const char *names[] = {"summary.csv",         "latency.csv",
                           "timeline.csv",        "activity.csv",
                           "msg_rtt.csv",         "latency_buckets.csv",
                           "msg_rtt_buckets.csv", "loop_lag_buckets.csv"};
    struct hist *no_lag = res->loop_lag ? NULL : hist_new();
    for (int i = 0; i < 8 && rc == 0; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        if (!f) {
            snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        int wrc = -1;
        if (i == 0)
            wrc = report_write_csv(f, fl);
        else if (i == 1)
            wrc = hist_write_csv(res->fr->latency, f);
        else if (i == 2)
            wrc = write_timeline(res, f);
        else if (i == 3)
            wrc = activity_write_csv(res->activity, f);
        else if (i == 4)
            wrc = hist_write_csv(res->msg_rtt, f);
        else if (i == 5)
            wrc = hist_write_buckets(res->fr->latency, f);
        else if (i == 6)
            wrc = hist_write_buckets(res->msg_rtt, f);
        else if (res->loop_lag || no_lag)
            wrc = hist_write_buckets(res->loop_lag ? res->loop_lag : no_lag, f);
        if (fclose(f) != 0 || wrc != 0) {
            snprintf(err, errlen, "write %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    hist_free(no_lag);
    free(fl);
    return rc;
}
