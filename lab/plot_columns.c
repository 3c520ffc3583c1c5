/* plot_columns.c: how each run is drawn, written into the merged data (see plot.h). The
 * approach's row gives its style; the lab adds what sets a run apart from its neighbours
 * (the swept fields that are not the approach's own), which run stands for each approach
 * where a plot has room for one, and what the restart changed.
 */
#include "plot.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "approach.h"
#include "lab.h"

const char *const plot_column_names[] = {
    "series",
    "series_title",
    "color",
    "point_type",
    "point_size",
    "lines",
    "axis_label",
    "axis_detail",
    "point_label",
    "run_label",
    "approach_title",
    "dash",
    "staleness_pick",
    "restarted",
    "plot_payload_bytes",
    "plot_framing_bytes",
};
const size_t plot_column_count = sizeof(plot_column_names) / sizeof(plot_column_names[0]);

/* Whether key is one of approach a's settings or its choice. */
static bool is_own_field(const struct lab_approach *a, const char *key)
{
    if (a->choice && strcmp(a->choice->key, key) == 0)
        return true;
    for (size_t k = 0; k < a->n_settings; k++)
        if (strcmp(a->settings[k].name, key) == 0)
            return true;
    return false;
}

/* "key=value" appended to text[cap] ("; " after what is there). */
static void append_swept(char *text, size_t cap, const cJSON *v)
{
    size_t len = strlen(text);
    if (cJSON_IsString(v) && strcmp(v->string, "protocol") == 0) /* "h2c" says it all */
        snprintf(text + len, cap - len, "%s%s", len ? "; " : "", v->valuestring);
    else if (cJSON_IsString(v))
        snprintf(text + len, cap - len, "%s%s=%s", len ? "; " : "", v->string,
                 v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(text + len, cap - len, "%s%s=%g", len ? "; " : "", v->string,
                 v->valuedouble);
}

/* The swept fields that are not a's own, appended to label_detail ("rate_hz=50") and to
 * point_label, so every point and bar of a sweep, of any field, names its value. An
 * approach's own swept settings are in its point label already, or are added here. */
static void add_other_sweeps(const struct lab_approach *a, const cJSON *swept,
                             struct lab_style *s)
{
    bool own_labelled = s->point_label[0] != '\0';
    const cJSON *v;
    cJSON_ArrayForEach(v, swept)
    {
        bool own = is_own_field(a, v->string);
        if (!own)
            append_swept(s->label_detail, sizeof(s->label_detail), v);
        if (!own || !own_labelled)
            append_swept(s->point_label, sizeof(s->point_label), v);
    }
}

/* The data rows of runs/<id>/<name> (its lines but the header); 0 when it is missing. */
static double data_rows(const char *dir, const char *id, const char *name)
{
    char path[4096], line[512];
    snprintf(path, sizeof(path), "%s/runs/%s/%s", dir, id, name);
    FILE *f = fopen(path, "r");
    double rows = 0;
    bool start = true; /* at the start of a line (a long one takes several reads) */
    while (f && fgets(line, sizeof(line), f)) {
        rows += start;
        start = strchr(line, '\n') != NULL;
    }
    if (f)
        fclose(f);
    return rows > 0 ? rows - 1 : 0;
}

/* A run's plot object, all but staleness_pick. */
static cJSON *plot_object(const struct lab_approach *a, const cJSON *run, const char *dir)
{
    const cJSON *record = cJSON_GetObjectItemCaseSensitive(run, "run");
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(record, "settings");
    const cJSON *swept = cJSON_GetObjectItemCaseSensitive(record, "swept");
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(run, "results");
    const cJSON *restart = cJSON_GetObjectItemCaseSensitive(record, "restart");
    struct lab_style s;
    memset(&s, 0, sizeof(s));
    a->style(settings, swept, &s);
    add_other_sweeps(a, swept, &s);
    double payload = NAN, framing = NAN;
    if (a->bytes_split)
        a->bytes_split(results, &payload, &framing);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "series", s.series);
    cJSON_AddStringToObject(p, "series_title", s.series_title);
    cJSON_AddStringToObject(p, "color", s.color);
    cJSON_AddNumberToObject(p, "point_type", s.point_type);
    cJSON_AddNumberToObject(p, "point_size", s.point_size);
    cJSON_AddNumberToObject(p, "lines", s.lines);
    cJSON_AddStringToObject(p, "axis_label", s.label);
    cJSON_AddStringToObject(p, "axis_detail", s.label_detail);
    cJSON_AddStringToObject(p, "point_label", s.point_label);
    char run_label[sizeof(s.label) + sizeof(s.label_detail) + 2];
    snprintf(run_label, sizeof(run_label), "%s%s%s", s.label, s.label_detail[0] ? " " : "",
             s.label_detail);
    cJSON_AddStringToObject(p, "run_label", run_label);
    cJSON_AddStringToObject(p, "approach_title", a->title);
    cJSON_AddNumberToObject(p, "dash",
                            strcmp(lab_str(restart, "feed"), "file") == 0 ? 2 : 1);
    cJSON_AddNumberToObject(p, "staleness_pick", 0);
    cJSON_AddNumberToObject(
        p, "restarted", cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(run, "restart")));
    if (!isnan(payload))
        cJSON_AddNumberToObject(p, "plot_payload_bytes", payload);
    if (!isnan(framing))
        cJSON_AddNumberToObject(p, "plot_framing_bytes", framing);
    /* how much each per-run file holds, so a script skips an empty one */
    const char *id = lab_str(run, "run_id");
    cJSON_AddNumberToObject(p, "latency_rows", data_rows(dir, id, "latency.csv"));
    cJSON_AddNumberToObject(p, "timeline_rows", data_rows(dir, id, "timeline.csv"));
    cJSON_AddNumberToObject(p, "activity_rows", data_rows(dir, id, "activity.csv"));
    return p;
}

int plot_columns_add(cJSON *runs, const char *dir, char *err, size_t errlen)
{
    cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const cJSON *record = cJSON_GetObjectItemCaseSensitive(run, "run");
        const struct lab_approach *a = lab_approach_find(lab_str(record, "approach"));
        if (!a) {
            snprintf(err, errlen, "run %s: approach \"%s\" is not one this lab knows",
                     lab_str(run, "run_id"), lab_str(record, "approach"));
            return -1;
        }
        cJSON_AddItemToObject(run, "plot", plot_object(a, run, dir));
    }
    /* one run per approach for the staleness plot: the one its row ranks best */
    for (size_t k = 0; k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        cJSON *best = NULL;
        double best_rank = INFINITY;
        cJSON_ArrayForEach(run, runs)
        {
            const cJSON *record = cJSON_GetObjectItemCaseSensitive(run, "run");
            if (strcmp(lab_str(record, "approach"), a->name) != 0)
                continue;
            const cJSON *settings = cJSON_GetObjectItemCaseSensitive(record, "settings");
            double rank = a->plot_rank ? a->plot_rank(settings) : 0;
            if (!best || rank < best_rank) {
                best = run;
                best_rank = rank;
            }
        }
        if (best)
            cJSON_SetNumberValue(
                cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(best, "plot"), "staleness_pick"),
                1);
    }
    return 0;
}
