/* summary_csv.h: summary.csv read back as a person with a spreadsheet would, for the
 * tests that check that every capacity figure of a results directory can be worked out
 * by hand from its own row (docs/MODELS.md, "At the target population"). */
#ifndef PUSHPULL_TESTS_SUMMARY_CSV_H
#define PUSHPULL_TESTS_SUMMARY_CSV_H

#include <stddef.h>

#define SUMMARY_CSV_MAX_COLS 512

struct summary_csv {
    char *text;                       /* the file, cut into cells in place */
    char *head[SUMMARY_CSV_MAX_COLS]; /* the column names */
    size_t ncols;                     /* how many */
    char **cells;                     /* rows x ncols cells */
    size_t nrows;                     /* the data rows */
};

/* Read dir/summary.csv (cells may be quoted, "" a quote). 0, or -1. Free with
 * summary_csv_free. */
int summary_csv_read(const char *dir, struct summary_csv *t);
void summary_csv_free(struct summary_csv *t);
/* Row r's number in column name (NAN when empty or absent). */
double summary_csv_num(const struct summary_csv *t, size_t r, const char *name);
/* Check every capacity column of every row against the arithmetic of docs/MODELS.md
 * applied to the row's own columns; the first mismatch is written to why. 0, or -1. */
int summary_csv_check_capacity(const struct summary_csv *t, char *why, size_t len);

#endif
