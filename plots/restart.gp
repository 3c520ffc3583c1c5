# restart.gp: a server crash and restart, seen from the users. One panel per approach
# gives the requests its users sent per second (100 ms bins; a stream opened counts as
# one): regular spikes are users re-asking after each publish; after the crash, users
# who retry on the same clock (one retry delay, one backoff) come back in one burst,
# users polling at random phases never bunch. The last panel is how far one user of each
# run fell behind (its staleness). Drawn only for runs whose server was crashed and
# restarted (restarted = 1), with files to draw; a run whose feed survived the crash
# (dash = 2) is dashed.
# Reads runs/<id>/activity.csv and runs/<id>/timeline.csv.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'

# The restarted runs (P_run[j] is the j-th), and their approaches in order of first
# appearance (A_first[a] is the first restarted run of approach a).
array P_run[N_]
array A_first[N_]
n_p = 0
n_a = 0
approaches_ = ''
do for [k=1:n_runs] {
    if (R_restarted[k] > 0 && R_activity_rows[k] > 0 && R_timeline_rows[k] > 0) {
        n_p = n_p + 1
        P_run[n_p] = k
        if (strstrt(approaches_.' ', ' '.R_approach[k].' ') == 0) {
            approaches_ = approaches_.' '.R_approach[k]
            n_a = n_a + 1
            A_first[n_a] = k
        }
    }
}
in_panel(j, a) = R_approach[P_run[j]] eq R_approach[A_first[a]]

set output dir.'/plots/restart.'.fmt
panels = n_a + 1
cols_ = panels <= 2 ? panels : panels <= 4 ? 2 : 3
rows_ = (panels + cols_ - 1) / cols_
set multiplot layout rows_, cols_ title sprintf("%s: a server crash and restart", name) font ',18'
set key top right font ',10' samplen 3
set xrange [0:*]
set yrange [0:*]
set xlabel 'time into the measurement window (s)' font ',12'

set ylabel 'requests sent per second' font ',12'
array Q_run[N_]
do for [a=1:n_a] {
    set title R_approach_title[A_first[a]] font ',14'
    n_q = 0
    do for [j=1:n_p] {
        if (in_panel(j, a)) {
            n_q = n_q + 1
            Q_run[n_q] = P_run[j]
        }
    }
    plot for [q=1:n_q] dir.'/runs/'.R_id[Q_run[q]].'/activity.csv' \
         using 'time_s':(column('requests') * 10) with steps lw 2 \
         dt R_dash[Q_run[q]] lc rgb R_color[Q_run[q]] title R_id[Q_run[q]] noenhanced
}
set title 'one user of each run: staleness' font ',14'
set ylabel 'ms behind the newest update' font ',12'
if (n_p == 0) {
    set label 1 nothing('no run had a restart') at graph 0.5, graph 0.5 center font ',12' \
        tc rgb c_grey
    plot [0:1] [0:1] NaN notitle
} else {
    plot for [j=1:n_p] dir.'/runs/'.R_id[P_run[j]].'/timeline.csv' \
         using 'time_s':'staleness_ms' with lines lw 2 \
         dt R_dash[P_run[j]] lc rgb R_color[P_run[j]] title R_id[P_run[j]] noenhanced
}
unset multiplot
