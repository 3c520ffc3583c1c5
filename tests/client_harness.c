/* client_harness.c: temporary directories, bounded client runs, summary.json access
 * (see client_harness.h). */
#include "client_harness.h"
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "proc.h"

int client_harness_tempdir(char *out, size_t outlen)
{
    if (snprintf(out, outlen, "/tmp/pushpull-client-XXXXXX") >= (int)outlen)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

void client_harness_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        int budget = 1000; /* bounded */
        while (budget-- > 0 && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

pid_t client_harness_start(const char *dir, const char *const *args)
{
    const char *bin = getenv("PUSHPULL_CLIENT");
    if (!bin)
        bin = "build/asan/bin/pushpull-client";
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char out_path[4096], err_path[4096], err[512];
    snprintf(out_path, sizeof(out_path), "%s/stdout.txt", dir);
    snprintf(err_path, sizeof(err_path), "%s/stderr.txt", dir);
    struct proc p;
    struct proc_spec spec = {.argv = argv,
                             .name = "the client",
                             .out = PROC_FILE,
                             .out_path = out_path,
                             .err = PROC_FILE,
                             .err_path = err_path};
    if (proc_start(&p, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "client_harness: %s\n", err);
        return -1;
    }
    return p.pid;
}

int client_harness_finish(pid_t pid, int timeout_s)
{
    if (pid <= 0)
        return -1;
    /* the client writes to files, not a pipe: only the bounded wait is shared */
    return harness_wait(pid, timeout_s * 1000);
}

int client_harness_run(const char *dir, const char *const *args, int timeout_s)
{
    return client_harness_finish(client_harness_start(dir, args), timeout_s);
}

char *client_harness_slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2 + 1) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

cJSON *client_harness_summary(const char *dir)
{
    char *text = client_harness_slurp(dir, "summary.json");
    if (!text)
        return NULL;
    cJSON *root = cJSON_Parse(text);
    free(text);
    return root;
}

static const cJSON *at_path(const cJSON *root, const char *path)
{
    char key[128];
    const cJSON *node = root;
    while (node && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, key);
        path += n;
        if (*path == '.')
            path++;
    }
    return node;
}

double client_harness_num(const cJSON *root, const char *path)
{
    const cJSON *v = at_path(root, path);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *client_harness_str(const cJSON *root, const char *path)
{
    const cJSON *v = at_path(root, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int client_harness_traffic(const char *dir, double window_ms, unsigned users,
                           struct client_harness_traffic *out, size_t *bad_line)
{
    memset(out, 0, sizeof(*out));
    *bad_line = 0;
    char *text = client_harness_slurp(dir, "traffic.csv");
    double *per_user = calloc(users ? users : 1, sizeof(*per_user));
    int rc = -1;
    const char *header = "user,t_ms,bytes_up,bytes_down\n";
    if (!text || !per_user || strncmp(text, header, strlen(header)) != 0) {
        *bad_line = 1;
        goto end;
    }
    size_t line = 1;
    for (char *p = text + strlen(header); *p;) {
        line++;
        char *end;
        unsigned long long user = strtoull(p, &end, 10);
        double v[3];
        bool ok = end != p && *end == ',';
        for (int k = 0; ok && k < 3; k++) {
            char *from = end + 1;
            v[k] = strtod(from, &end);
            ok = end != from && *end == (k < 2 ? ',' : '\n') && (k == 0 || v[k] >= 0);
        }
        if (!ok) {
            *bad_line = line;
            goto end;
        }
        out->rows++;
        out->up += v[1];
        out->down += v[2];
        if (v[0] >= 0 && v[0] < window_ms) {
            out->win_up += v[1];
            out->win_down += v[2];
            if (user < users)
                per_user[user]++;
        }
        if (user >= users)
            out->bad_user++;
        p = end + 1;
    }
    out->win_rows_min = users ? per_user[0] : 0;
    for (unsigned i = 0; i < users; i++) {
        if (per_user[i] < out->win_rows_min)
            out->win_rows_min = per_user[i];
        if (per_user[i] > out->win_rows_max)
            out->win_rows_max = per_user[i];
    }
    rc = 0;
end:
    free(per_user);
    free(text);
    return rc;
}
