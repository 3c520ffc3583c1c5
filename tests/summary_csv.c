/* summary_csv.c: summary.csv read back, and its capacity columns worked out again from
 * the row's inputs (see summary_csv.h). */
#include "summary_csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cut the cell at *p (quoted or not) in place, leave *p after its comma or line end;
 * the cell's text. end_of_line says whether the line ended. */
static char *cut_cell(char **p, int *end_of_line)
{
    char *s = *p, *out = s, *start = s;
    if (*s == '"') {
        start = out = ++s;
        while (*s && !(*s == '"' && s[1] != '"')) {
            if (*s == '"')
                s++;
            *out++ = *s++;
        }
        if (*s == '"')
            s++;
    } else {
        while (*s && *s != ',' && *s != '\n')
            out = ++s;
    }
    *end_of_line = *s != ',';
    char *next = *s ? s + 1 : s;
    *out = '\0';
    *p = next;
    return start;
}

int summary_csv_read(const char *dir, struct summary_csv *t)
{
    char path[4096];
    memset(t, 0, sizeof(*t));
    snprintf(path, sizeof(path), "%s/summary.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    t->text = calloc(1, (size_t)size + 1);
    if (!t->text || fread(t->text, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return -1;
    }
    fclose(f);
    char *p = t->text;
    int eol = 0;
    while (*p && !eol && t->ncols < SUMMARY_CSV_MAX_COLS)
        t->head[t->ncols++] = cut_cell(&p, &eol);
    size_t cap = 0;
    while (*p) {
        if (t->nrows == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(t->cells, cap * t->ncols * sizeof(char *));
            if (!grown)
                return -1;
            t->cells = grown;
        }
        for (size_t c = 0; c < t->ncols; c++)
            t->cells[t->nrows * t->ncols + c] = *p ? cut_cell(&p, &eol) : "";
        t->nrows++;
    }
    return 0;
}

void summary_csv_free(struct summary_csv *t)
{
    free(t->text);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

double summary_csv_num(const struct summary_csv *t, size_t r, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++) {
        if (strcmp(t->head[c], name) != 0)
            continue;
        const char *v = t->cells[r * t->ncols + c];
        char *end;
        double d = strtod(v, &end);
        return end == v ? NAN : d;
    }
    return NAN;
}

/* want and got equal to a millionth (both unknown counts as equal). */
static int same(double want, double got)
{
    if (isnan(want) && isnan(got))
        return 1;
    return fabs(want - got) <= 1e-6 * fmax(1, fabs(want));
}

int summary_csv_check_capacity(const struct summary_csv *t, char *why, size_t len)
{
    for (size_t r = 0; r < t->nrows; r++) {
#define N(col) summary_csv_num(t, r, col)
        double n = N("clients"), w = N("duration_s"), c = N("time_compression");
        double u = N("target_users"), us = n * w * c;
        double down =
            (N("resp_header_bytes") + N("resp_body_bytes") + N("framing_bytes")) / us;
        double up = (N("req_header_bytes") + N("req_body_bytes")) / us;
        double per_user =
            (N("server_connections_window") - N("server_connections_idle") - 1) / n;
        double cpu_uh = N("server_cpu_window_s") / (n * N("server_window_s") / 3600) / c;
        double kib = (N("server_rss_window_kib") - N("server_rss_idle_kib")) /
                     (N("server_connections_window") - N("server_connections_idle"));
        struct {
            const char *col;
            double want;
        } checks[] = {
            {"down_bytes_per_user_s", down},
            {"up_bytes_per_user_s", up},
            {"down_gb_month_target", down * 2592000 * u / 1e9},
            {"up_gb_month_target", up * 2592000 * u / 1e9},
            {"egress_usd_month_target", down * 2592000 * u / 1e9 * N("egress_usd_per_gb")},
            {"requests_per_s_target", N("requests") / us * u},
            {"connections_per_user", per_user},
            {"connections_target", per_user * u},
            {"server_cpu_s_per_user_hour", cpu_uh},
            {"server_cores_target", cpu_uh * u / 3600},
            {"server_kib_per_connection", kib},
            {"server_memory_gib_target",
             (N("server_rss_idle_kib") + kib * per_user * u) / (1024.0 * 1024.0)},
            {"radio_battery_pct_per_day",
             N("radio_j_per_user_h") * 24 / (15 * 3600) * 100}, /* the 15 Wh default */
        };
#undef N
        for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
            double got = summary_csv_num(t, r, checks[k].col);
            if (isnan(checks[k].want) || !same(checks[k].want, got)) {
                snprintf(why, len, "row %zu: %s is %.10g, its inputs give %.10g", r + 1,
                         checks[k].col, got, checks[k].want);
                return -1;
            }
        }
    }
    return 0;
}
