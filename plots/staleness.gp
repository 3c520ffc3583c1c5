# staleness.gp: how far behind one client's view is, moment by moment (Cho and
# Garcia-Molina's "age"): 0 while it holds the newest update, growing while an update it
# has not seen exists. Polling draws a sawtooth that resets at each poll; push stays on
# the floor. Reads runs/<id>/timeline.csv for a few runs (one per approach).
# Needs: runs = 'id1 id2 ...' (the runner picks one run per approach).
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
if (!exists("runs")) runs = ''

set output dir.'/plots/staleness.'.fmt
set title sprintf("%s: staleness of one client over time", name) font ',18'
set xlabel 'time into the measurement window (s)'
set ylabel 'staleness (ms behind the newest update)'
set xrange [0:*]
set yrange [0:*]
set key outside top center horizontal font ',12'
plot for [i=1:words(runs)] dir.'/runs/'.word(runs, i).'/timeline.csv' \
     using 'time_s':'staleness_ms' with lines lw 2 lc rgb runcolour(word(runs, i)) \
     title (word(runs, i)) noenhanced
