/* lab.h: what pushpull-lab does with a finished results directory: merge the runs into
 * one table, write the report, print the summary table.
 *
 * A results directory (written by ./run.sh run) holds scenario.json, plan.tsv (one line per
 * run: id, server arguments, client arguments) and runs/<id>/ with the client's
 * summary.json, latency.csv and timeline.csv and the server's server_stats.json. Every
 * function returns 0, or -1 with one line in err naming the file and what was wrong.
 */
#ifndef PUSHPULL_LAB_H
#define PUSHPULL_LAB_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Write dir/summary.csv (one row per run, plan order: run_id, the client's columns, the
 * server's) and dir/summary.json ({"scenario":..., "runs":[{run_id, results, meta,
 * server}]}). */
int lab_merge(const char *dir, char *err, size_t errlen);
/* Write dir/report.md from dir/summary.json: measured values beside the models. */
int lab_report(const char *dir, char *err, size_t errlen);
/* Print an aligned table of dir/summary.json's runs to out. */
int lab_table(const char *dir, FILE *out, char *err, size_t errlen);

/* Write len bytes of text to path (replacing it). 0, or -1 with a message in err. */
int lab_write_file(const char *path, const char *text, size_t len, char *err,
                   size_t errlen);
/* Read and parse a JSON file; NULL with a message in err (file, and line/column of a
 * syntax error). The caller deletes the result. */
cJSON *lab_read_json(const char *path, char *err, size_t errlen);
/* A number at key in obj, or NAN when absent or not a number. */
double lab_num(const cJSON *obj, const char *key);
/* A string at key in obj, or "" when absent. */
const char *lab_str(const cJSON *obj, const char *key);

#endif
