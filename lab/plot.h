/* plot.h: a results directory's plots, drawn by gnuplot from plots/NAME.gp into
 * DIR/plots/NAME.png and NAME.svg.
 *
 * Each script is run as `gnuplot -e "dir='DIR'; fmt='png'; name='SCENARIO';
 * plots='PLOTS_DIR'" PLOTS_DIR/NAME.gp` and reads DIR/summary.csv (one row per run) and
 * the runs' own files under DIR/runs/. A script that fails, or draws nothing, fails the
 * step with its log kept as DIR/plots/NAME.log.
 */
#ifndef PUSHPULL_LAB_PLOT_H
#define PUSHPULL_LAB_PLOT_H

#include <signal.h>
#include <stddef.h>

/* Draw every plot of dir (the restart plot only when some run had a restart). 0, or -1
 * with one line in err. Gives up when *stop becomes non-zero. */
int plot_all(const char *dir, const char *plots_dir, const volatile sig_atomic_t *stop,
             char *err, size_t errlen);
/* The plots besides the trade-off, for people: "requests, bytes, cdf, staleness, server".
 */
const char *plot_others(void);

#endif
