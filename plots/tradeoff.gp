# tradeoff.gp: the lab's signature picture: what each approach pays (bytes per client per
# minute, x) for how fresh it keeps the client (y), both axes logarithmic.
#
# Left, delivery latency: publish to receipt of each update received (solid marks the
# mean, hollow the 95th percentile). Right, staleness: how far behind the client's view
# was, averaged over time. They differ where it matters: polling the latest state misses
# most updates of a fast feed, so the few it receives arrive "fresh" while its view lags
# by about half an interval; staleness shows that lag, latency cannot. A series whose
# style says "lines" (polling, over its interval sweep) is joined by a line: half the
# interval, twice the bytes; push sits in the corner no interval reaches.
#
# The axes' ranges are computed from the runs drawn (a factor of two each side), so one
# run, or runs that all cost the same, still make a picture; a panel with no run to draw
# (no update received, no byte counted) says so.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/tradeoff.'.fmt
# Latency and staleness can be 0 on loopback: draw them at the axis floor, not nowhere.
floor_ms = 0.01
pos(v) = v > floor_ms ? v : floor_ms
bytes(x) = column('bytes_per_client_min')

# The range of the positive values of a column (and a second one), over every run.
lo_ = 1e300
hi_ = -1
track(v) = (v > 0 && v < lo_ ? lo_ = v : 0, v > hi_ ? hi_ = v : 0, 0)
stats summary using (track(bytes(0)), 0) nooutput
x_lo = lo_
x_hi = hi_

# One panel: column c (and c2, or '' for none) against bytes, for every series.
set multiplot layout 1, 2 title sprintf("%s: what freshness costs", name) font ',20'
set logscale xy
set format x '%.0s %cB'
set format y '%g'
set xlabel 'bytes per client per minute (headers included; log)'
set key outside bottom center horizontal maxcols 3 font ',12'
set bmargin 10

do for [panel=1:2] {
    c1 = panel == 1 ? 'latency_mean_ms' : 'staleness_mean_ms'
    c2 = panel == 1 ? 'latency_p95_ms' : ''
    # latency exists only for runs that received something
    drawn(x) = bytes(0) > 0 && column(c1) == column(c1) && (c2 eq '' || column('latency_count') > 0)
    lo_ = 1e300
    hi_ = -1
    stats summary using (drawn(0) ? track(pos(column(c1))) : 0, \
        c2 ne '' && drawn(0) && column(c2) == column(c2) ? track(pos(column(c2))) : 0, \
        0) nooutput
    if (panel == 1) {
        set title 'delivery latency of the updates received' font ',15'
        set ylabel 'publish to receipt (ms, log)'
    } else {
        set title "staleness: how far behind the client's view was" font ',15'
        set ylabel 'time-averaged staleness (ms, log)'
    }
    unset label
    unset arrow
    if (x_hi <= 0 || hi_ <= 0) {
        set label 2 nothing(panel == 1 ? 'no run received an update' : 'no run counted a byte') \
            at graph 0.5, graph 0.5 center font ',14' tc rgb c_grey
        plot [1:10] [1:10] NaN notitle
    } else {
        set xrange [x_lo / 2 : x_hi * 2]
        set yrange [lo_ / 2 : hi_ * 2]
        set label 1 'cheaper and fresher' at graph 0.07, graph 0.03 font ',12' tc rgb c_grey
        set arrow 1 from graph 0.2, graph 0.14 to graph 0.05, graph 0.05 lw 1.5 lc rgb c_grey
        if (c2 ne '') {
            plot \
              for [i=1:n_series] summary using (in_series(i) && lined(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c1))) \
                  with lines lw 2.5 lc rgb S_color(i) notitle, \
              for [i=1:n_series] summary using (in_series(i) && lined(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c2))) \
                  with lines lw 1.5 dt 2 lc rgb S_color(i) notitle, \
              for [i=1:n_series] summary using (in_series(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c1))) \
                  with points pt S_pt(i) ps S_ps(i) lc rgb S_color(i) title S_title(i).': mean' noenhanced, \
              for [i=1:n_series] summary using (in_series(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c2))) \
                  with points pt S_pt(i) - 1 ps S_ps(i) lc rgb S_color(i) title S_title(i).': p95' noenhanced, \
              for [i=1:n_series] summary using (in_series(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c1))):(strcol('point_label')) \
                  with labels offset char 0, (i % 2 ? -1.2 : 1.2) font ',11' tc rgb S_color(i) notitle noenhanced
        } else {
            plot \
              for [i=1:n_series] summary using (in_series(i) && lined(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c1))) \
                  with lines lw 2.5 lc rgb S_color(i) notitle, \
              for [i=1:n_series] summary using (in_series(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c1))) \
                  with points pt S_pt(i) ps S_ps(i) lc rgb S_color(i) title S_title(i) noenhanced, \
              for [i=1:n_series] summary using (in_series(i) && drawn(0) ? bytes(0) : NaN):(pos(column(c1))):(strcol('point_label')) \
                  with labels offset char 0, (i % 2 ? -1.2 : 1.2) font ',11' tc rgb S_color(i) notitle noenhanced
        }
    }
}
unset multiplot
