# cdf.gp: the whole latency distribution of every run: for each delivery latency (x, log),
# the share of updates delivered at least that fast (y). A vertical wall is a technique
# with one latency (push: one transit); a slope spanning a decade is polling's uniform
# wait across its interval. Reads runs/<id>/latency.csv (the client's histogram spectrum).
# Needs: runs = 'id1 id2 ...' (the runner passes the run ids).
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
if (!exists("runs")) runs = ''
set output dir.'/plots/cdf.'.fmt
set title sprintf("%s: delivery latency distribution", name) font ',18'
set xlabel 'delivery latency, publish to receipt (ms, log)'
set ylabel 'updates delivered at least this fast (%)'
set logscale x
set format x '%g'
set yrange [0:100]
set key outside right top vertical Left reverse font ',12'
set rmargin 44
plot for [i=1:words(runs)] dir.'/runs/'.word(runs, i).'/latency.csv' \
     using (column('latency_ms') > 0 ? column('latency_ms') : 1/0):'percentile' with steps lw 2.5 \
     dt i lc rgb runcolour(word(runs, i)) title (word(runs, i)) noenhanced
