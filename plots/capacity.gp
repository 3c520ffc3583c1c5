# capacity.gp: what each run would cost as its users grow, on the full scenario's clock:
# egress a month (US dollars), server CPU cores, server memory, each against users (both
# axes logarithmic), one line per run, scaled linearly from what the run measured (its
# per-user cost, the server's memory before any user plus per connection), with the
# scenario's target population marked. Reads capacity.csv (the lab writes it at the
# merge: one row per run and population, lab/capacity.h); runs are told apart by their
# labels, which name every swept value.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/capacity.'.fmt
curve = dir.'/capacity.csv'
set multiplot layout 1, 3 title sprintf("%s: cost against users (scaled from each run)", name) font ',18'
set logscale xy
set format x '%.0s%c'
set format y '%.0s%c'
set xlabel 'users'
set key outside bottom center vertical maxrows 4 font ',11'
set bmargin 12
mine(k) = strcol('run_id') eq R_id[k]
do for [panel=1:3] {
    col = panel == 1 ? 'egress_usd_month' : panel == 2 ? 'server_cores' : 'server_memory_gib'
    if (panel == 1) {
        set title 'egress a month (US dollars)' font ',14'
        set ylabel 'USD / month'
    } else {
        if (panel == 2) {
            set title 'server CPU cores' font ',14'
            set ylabel 'cores'
        } else {
            set title 'server memory' font ',14'
            set ylabel 'GiB'
        }
    }
    hi_ = 0
    stats curve using (column(col) > hi_ ? hi_ = column(col) : 0, 0) nooutput
    if (hi_ <= 0) {
        unset logscale y
        set label 1 nothing('no figure to scale') at graph 0.5, graph 0.5 center font ',12' tc rgb c_grey
        plot [100:1e7] [0:1] NaN notitle
        unset label 1
        set logscale y
    } else {
        plot for [k=1:n_runs] curve using (mine(k) && column(col) > 0 ? column('users') : NaN):(column(col)) \
                 with lines lw 2 lc rgb R_color[k] title R_label[k] noenhanced, \
             for [k=1:n_runs] curve using (mine(k) && column('at_target') > 0 && column(col) > 0 ? column('users') : NaN):(column(col)) \
                 with points pt 7 ps 1.6 lc rgb R_color[k] notitle
    }
}
unset multiplot
