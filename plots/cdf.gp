# cdf.gp: the whole latency distribution of every run: for each delivery latency (x, log),
# the share of updates delivered at least that fast (y). A vertical wall is a technique
# with one latency (push: one transit); a slope spanning a decade is polling's uniform
# wait across its interval. Reads runs/<id>/latency.csv (the client's histogram
# spectrum) of every run that received something; each run in its approach's colour.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/cdf.'.fmt
set title sprintf("%s: delivery latency distribution", name) font ',18'
set xlabel 'delivery latency, publish to receipt (ms, log)'
set ylabel 'updates delivered at least this fast (%)'
set logscale x
set format x '%g'
set yrange [0:100]
set key outside right top vertical Left reverse font ',12'
set rmargin 44
# the runs with latencies to draw (latency_count and latency_rows > 0): P_run[j] is the j-th of them; and
# the range they span
array P_run[N_]
n_p = 0
k_ = 0
lo_ = 1e300
hi_ = -1
has(x) = column('latency_count') > 0 && column('latency_rows') > 0
stats summary using (k_ = k_ + 1, \
    has(0) ? (n_p = n_p + 1, P_run[n_p] = k_) : 0, \
    has(0) && column('latency_p50_ms') > 0 && column('latency_p50_ms') / 20 < lo_ ? lo_ = column('latency_p50_ms') / 20 : 0, \
    has(0) && column('latency_max_ms') * 2 > hi_ ? hi_ = column('latency_max_ms') * 2 : 0, 0) nooutput
if (n_p == 0) {
    set xrange [1:10]
    set label 1 nothing('no run received an update') at graph 0.5, graph 0.5 center \
        font ',14' tc rgb c_grey
    plot NaN notitle
} else {
    if (hi_ > 0 && lo_ < hi_) { set xrange [lo_ : hi_] }
    plot for [j=1:n_p] dir.'/runs/'.R_id[P_run[j]].'/latency.csv' \
         using (column('latency_ms') > 0 ? column('latency_ms') : 1/0):'percentile' with steps lw 2.5 \
         dt j lc rgb R_color[P_run[j]] title R_id[P_run[j]] noenhanced
}
