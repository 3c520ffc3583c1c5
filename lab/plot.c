/* plot.c: run gnuplot over the plots/ scripts for a results directory (see plot.h).
 *
 * gnuplot is found on PATH and started through common/proc.h like every other program,
 * so an interrupt stops it too. Values reach it as gnuplot string literals in -e, each
 * single quote doubled.
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dynbuf.h"
#include "lab.h"
#include "proc.h"

#define PLOT_TIMEOUT_MS 120000

static const char *const plots[] = {"tradeoff",  "requests", "bytes",    "cdf",
                                    "staleness", "server",   "capacity", "radio"};

const char *plot_others(void)
{
    return "requests, bytes, cdf, staleness, server, capacity, radio";
}

/* The first executable `name` on PATH, into out. 0 or -1. */
static int find_program(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !path[0])
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, cap, "%.*s/%s", (int)len, path, name);
        if (len > 0 && access(out, X_OK) == 0)
            return 0;
        path += len + (path[len] == ':');
    }
    return -1;
}

/* name='value' with value's single quotes doubled, appended to b. */
static int add_var(struct dynbuf *b, const char *name, const char *value)
{
    int rc = dynbuf_addf(b, "%s%s='", b->len ? "; " : "", name);
    for (const char *p = value; rc == 0 && *p; p++)
        rc = *p == '\'' ? dynbuf_adds(b, "''") : dynbuf_add(b, p, 1);
    return rc ? rc : dynbuf_adds(b, "'");
}

/* One script in one format. 0, or -1 with err. */
static int draw(const char *gnuplot, const char *vars, const char *script, const char *log,
                const char *output, char *err, size_t errlen)
{
    const char *argv[] = {gnuplot, "-e", vars, script, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "gnuplot",
                             .out = PROC_DEVNULL,
                             .err = PROC_FILE,
                             .err_path = log};
    struct proc p;
    if (proc_start(&p, &spec, err, errlen) != 0)
        return -1;
    if (!proc_wait(&p, PLOT_TIMEOUT_MS)) {
        proc_stop(&p, 1000);
        snprintf(err, errlen, "%s did not finish (see %s)", script, log);
        return -1;
    }
    struct stat sb;
    if (proc_exit_code(&p) != 0) {
        snprintf(err, errlen, "%s failed (see %s)", script, log);
        return -1;
    }
    if (stat(output, &sb) != 0 || sb.st_size == 0) {
        snprintf(err, errlen, "%s drew nothing (see %s)", script, log);
        return -1;
    }
    return 0;
}

/* Whether some run's server was crashed and restarted. */
static bool any_restart(const cJSON *runs)
{
    const cJSON *run;
    cJSON_ArrayForEach(run, runs) if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
                                          run, "restart"))) return true;
    return false;
}

int plot_all(const char *dir, const char *plots_dir, const volatile sig_atomic_t *stop,
             char *err, size_t errlen)
{
    char path[4200], gnuplot[4096];
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    cJSON *doc = lab_read_json(path, err, errlen);
    if (!doc)
        return -1;
    int rc = -1;
    struct dynbuf vars;
    dynbuf_init(&vars, 1 << 16);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    const char *name = lab_str(cJSON_GetObjectItemCaseSensitive(doc, "scenario"), "name");
    snprintf(path, sizeof(path), "%s/plots", dir);
    if (find_program("gnuplot", gnuplot, sizeof(gnuplot)) != 0) {
        snprintf(err, errlen, "gnuplot is not on PATH (./run.sh setup installs it)");
        goto end;
    }
    if (lab_mkdirs(path, err, errlen) != 0)
        goto end;
    size_t n_plots = sizeof(plots) / sizeof(plots[0]) + any_restart(runs);
    for (size_t i = 0; i < n_plots; i++) {
        const char *plot = i < sizeof(plots) / sizeof(plots[0]) ? plots[i] : "restart";
        char script[4200], logf[4200], output[4200];
        snprintf(script, sizeof(script), "%s/%s.gp", plots_dir, plot);
        snprintf(logf, sizeof(logf), "%s/plots/%s.log", dir, plot);
        for (int f = 0; f < 2; f++) {
            const char *fmt = f == 0 ? "png" : "svg";
            snprintf(output, sizeof(output), "%s/plots/%s.%s", dir, plot, fmt);
            dynbuf_reset(&vars);
            if (add_var(&vars, "dir", dir) != 0 || add_var(&vars, "fmt", fmt) != 0 ||
                add_var(&vars, "name", name) != 0 ||
                add_var(&vars, "plots", plots_dir) != 0) {
                snprintf(err, errlen, "%s: out of memory", dir);
                goto end;
            }
            if (*stop) {
                snprintf(err, errlen, "interrupted while drawing %s", script);
                goto end;
            }
            unlink(output);
            if (draw(gnuplot, vars.mem, script, logf, output, err, errlen) != 0)
                goto end;
        }
        unlink(logf);
    }
    rc = 0;
end:
    cJSON_Delete(doc);
    dynbuf_free(&vars);
    return rc;
}
