# radio.gp: what a phone's cellular radio spends on each approach, per user-hour, against
# the period of its traffic (poll interval, long-poll timeout, heartbeat; log axis), from
# the radio model (lab/radio.h) fed each approach's estimated traffic with this scenario's
# update rate (radio.csv, written at the merge), each in its own dash (curves that
# coincide are drawn over each other). The runs' own figures are the points, labelled
# with their period on the full clock.
# The dashed line is the radio's tail: a period shorter than it keeps the radio out of
# idle all the time; longer, it sleeps between wake-ups.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/radio.'.fmt
curve = dir.'/radio.csv'
set title sprintf("%s: phone radio energy against the traffic's period", name) font ',18'
set xlabel 'period: poll interval, long-poll timeout or heartbeat (s, full clock, log)'
set ylabel 'radio energy above idle (J per user-hour)'
set logscale x
set format x '%g'
set yrange [0:*]
set key outside bottom center horizontal font ',12'
set bmargin 8
tail_ = 0
stats summary using (column('radio_tail_s') == column('radio_tail_s') ? tail_ = column('radio_tail_s') : 0, 0) nooutput
rows_ = 0
stats curve using (rows_ = rows_ + 1, 0) nooutput
if (rows_ == 0) {
    set label 1 nothing('no approach with a period to sweep') at graph 0.5, graph 0.5 center font ',14' tc rgb c_grey
    plot [1:600] [0:1] NaN notitle
} else {
    if (tail_ > 0) {
        set arrow 1 from tail_, graph 0 to tail_, graph 1 nohead dt 2 lw 1.5 lc rgb c_grey
        set label 2 sprintf('radio tail %.3g s', tail_) at tail_, graph 0.95 offset char 0.5, 0 font ',11' tc rgb c_grey
    }
    plot for [i=1:n_series] curve using (strcol('series') eq S_id(i) ? column('period_s') : NaN):(column('radio_j_per_user_h')) \
             with lines lw 2.5 dt i lc rgb S_color(i) title S_title(i) noenhanced, \
         for [k=1:n_runs] summary using (strcol('run_id') eq R_id[k] && column('radio_period_s') > 0 ? column('radio_period_s') : NaN):(column('radio_j_per_user_h')) \
             with points pt R_pt[k] ps R_ps[k] lc rgb R_color[k] notitle, \
         for [k=1:n_runs] summary using (strcol('run_id') eq R_id[k] && column('radio_period_s') > 0 ? column('radio_period_s') : NaN):(column('radio_j_per_user_h')):(sprintf('%.3g s', column('radio_period_s'))) \
             with labels offset char 0, 1.2 font ',11' tc rgb R_color[k] notitle noenhanced
}
