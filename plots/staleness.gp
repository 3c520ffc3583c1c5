# staleness.gp: how far behind one client's view is, moment by moment (Cho and
# Garcia-Molina's "age"): 0 while it holds the newest update, growing while an update it
# has not seen exists. Polling draws a sawtooth that resets at each poll; push stays on
# the floor. One run per approach (staleness_pick: the run its approach ranks best, such
# as short polling nearest 1 s), from runs/<id>/timeline.csv.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'

set output dir.'/plots/staleness.'.fmt
set title sprintf("%s: staleness of one client over time", name) font ',18'
set xlabel 'time into the measurement window (s)'
set ylabel 'staleness (ms behind the newest update)'
set xrange [0:*]
set yrange [0:*]
set key outside top center horizontal font ',12'
array P_run[N_]
n_p = 0
do for [k=1:n_runs] {
    if (R_stale[k] > 0 && R_timeline_rows[k] > 0) {
        n_p = n_p + 1
        P_run[n_p] = k
    }
}
if (n_p == 0) {
    set label 1 nothing("no run recorded a user's view over time") at graph 0.5, graph 0.5 \
        center font ',14' tc rgb c_grey
    plot [0:1] [0:1] NaN notitle
} else {
    plot for [j=1:n_p] dir.'/runs/'.R_id[P_run[j]].'/timeline.csv' \
         using 'time_s':'staleness_ms' with lines lw 2 lc rgb R_color[P_run[j]] \
         title R_id[P_run[j]] noenhanced
}
