/* plot.h: a results directory's plots, drawn by gnuplot from plots/NAME.gp into
 * DIR/plots/NAME.png and NAME.svg.
 *
 * Each script is run as `gnuplot -e "dir='DIR'; fmt='png'; name='SCENARIO';
 * plots='PLOTS_DIR'" PLOTS_DIR/NAME.gp` and reads DIR/summary.csv (one row per run) and
 * the runs' own files under DIR/runs/. How each run is drawn is in its row: the lab
 * writes each run's style (from its approach's row of the table) into the plot columns
 * below, and the scripts iterate over whatever series and runs the rows hold, naming no
 * approach. A script that fails, or draws nothing, fails the step with its log kept as
 * DIR/plots/NAME.log.
 */
#ifndef PUSHPULL_LAB_PLOT_H
#define PUSHPULL_LAB_PLOT_H

#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The columns every run gets for the plots, in summary.csv's order (after the client's,
 * the server's and the link's): series, series_title, color, point_type, point_size,
 * lines (1 or 0), axis_label, axis_detail, point_label (struct lab_style's, with every
 * swept field's value), run_label (the label and its detail on one line, for keys), the
 * approach's title (approach_title; its name is the client's "approach" column), dash (2
 * for a run whose feed survived a restart, else 1), staleness_pick (1 for the run that
 * stands for its approach), restarted (1 or 0), plot_payload_bytes and
 * plot_framing_bytes (the approach's split of its bytes), and latency_rows,
 * timeline_rows and activity_rows (the data rows of the run's own files, so a script
 * draws no empty file). No value holds a comma. */
extern const char *const plot_column_names[];
extern const size_t plot_column_count;
/* Give every run of summary.json's runs its "plot" object (those columns, by name), from
 * its run.json, its approach's row and its files under dir/runs/. 0, or -1 with err (an
 * approach the table lacks). */
int plot_columns_add(cJSON *runs, const char *dir, char *err, size_t errlen);

/* Draw every plot of dir (the restart plot only when some run had a restart). 0, or -1
 * with one line in err. Gives up when *stop becomes non-zero. */
int plot_all(const char *dir, const char *plots_dir, const volatile sig_atomic_t *stop,
             char *err, size_t errlen);
/* The plots besides the trade-off, for people: "requests, bytes, cdf, staleness, server".
 */
const char *plot_others(void);

#endif
