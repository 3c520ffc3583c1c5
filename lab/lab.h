/* lab.h: what pushpull-lab does with a results directory once its runs are made: merge
 * them into one table, write the report, print the closing table; and the small file
 * helpers every part of the lab uses (results.c).
 *
 * A results directory (written by the conductor, lab/conductor.h) holds scenario.json,
 * plan.json (the run ids in plan order) and runs/<id>/ with run.json (the run's
 * parameters and outcome, lab/run_record.h), the client's summary.json, latency.csv,
 * timeline.csv and activity.csv, and the server's server_stats.json. Every function
 * returns 0, or -1 with one line in err naming the file and what was wrong.
 */
#ifndef PUSHPULL_LAB_H
#define PUSHPULL_LAB_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Write dir/summary.csv (one row per run, plan order: run_id, the client's columns, the
 * server's) and dir/summary.json ({"scenario":..., "runs":[{run_id, run, results, meta,
 * server, ...}]}). */
int lab_merge(const char *dir, char *err, size_t errlen);
/* Write dir/report.md from dir/summary.json: measured values beside the models. */
int lab_report(const char *dir, char *err, size_t errlen);
/* Print an aligned table of dir/summary.json's runs to out. */
int lab_table(const char *dir, FILE *out, char *err, size_t errlen);

/* Write len bytes of text to path, whole: to path.tmp, then renamed over path. */
int lab_write_file(const char *path, const char *text, size_t len, char *err,
                   size_t errlen);
/* The same for a JSON document, printed with a final newline. */
int lab_write_json(const char *path, const cJSON *doc, char *err, size_t errlen);
/* Read and parse a JSON file; NULL with a message in err (file, and line/column of a
 * syntax error). The caller deletes the result. */
cJSON *lab_read_json(const char *path, char *err, size_t errlen);
/* Copy a file (at most 64 MiB) whole. */
int lab_copy_file(const char *from, const char *to, char *err, size_t errlen);
/* mkdir -p. */
int lab_mkdirs(const char *path, char *err, size_t errlen);
/* rm -r, symbolic links not followed; a path that does not exist is fine. */
int lab_remove_tree(const char *path, char *err, size_t errlen);
/* A number at key in obj, or NAN when absent or not a number. */
double lab_num(const cJSON *obj, const char *key);
/* A string at key in obj, or "" when absent. */
const char *lab_str(const cJSON *obj, const char *key);

#endif
