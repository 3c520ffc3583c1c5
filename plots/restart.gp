# restart.gp: a server crash and restart, seen from the users. Three panels give the
# requests the users of each approach sent per second (100 ms bins): long polling's
# regular spikes are its users re-asking after each publish; after the crash, users who
# retry on the same clock (SSE's retry delay, long polling's backoff) come back in one
# burst, short polling's random phases never bunch. The fourth panel is how far one user
# of each run fell behind (its staleness). Drawn only for runs whose server was crashed
# and restarted (a scenario's "restart"); in-memory feeds solid, durable ones dashed.
# A panel with no run of its approach says so (gnuplot runs a "plot for" over an empty
# list once, with an empty word, so each is guarded). Durable runs are told by
# "feed=file" in their ids, there when the scenario lists the feeds it compares.
# Reads runs/<id>/activity.csv and runs/<id>/timeline.csv.
# Needs: runs = 'id1 id2 ...' (the runner passes the restarted runs).
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
if (!exists("runs")) runs = ''
dashes(r) = strstrt(r, 'feed=file') > 0 ? 2 : 1

# The runs of each approach (ids start with the approach's kind).
short_runs = ''; long_runs = ''; sse_runs = ''
do for [i=1:words(runs)] {
    w = word(runs, i)
    if (strstrt(w, 'short') == 1) { short_runs = short_runs.' '.w }
    if (strstrt(w, 'long') == 1) { long_runs = long_runs.' '.w }
    if (strstrt(w, 'sse') == 1) { sse_runs = sse_runs.' '.w }
}

set output dir.'/plots/restart.'.fmt
set multiplot layout 2,2 title sprintf("%s: a server crash and restart", name) font ',18'
set key top right font ',10' samplen 3
set xrange [0:*]
set yrange [0:*]
set xlabel 'time into the measurement window (s)' font ',12'
set ylabel 'requests sent per second' font ',12'

set title 'short polling' font ',14'
if (words(short_runs) > 0) {
    plot for [i=1:words(short_runs)] dir.'/runs/'.word(short_runs, i).'/activity.csv' \
         using 'time_s':(column('requests') * 10) with steps lw 2 \
         dt dashes(word(short_runs, i)) lc rgb runcolour(word(short_runs, i)) \
         title word(short_runs, i) noenhanced
} else {
    plot [0:1] [0:1] NaN title 'no run of this approach'
}
set title 'long polling' font ',14'
if (words(long_runs) > 0) {
    plot for [i=1:words(long_runs)] dir.'/runs/'.word(long_runs, i).'/activity.csv' \
         using 'time_s':(column('requests') * 10) with steps lw 2 \
         dt dashes(word(long_runs, i)) lc rgb runcolour(word(long_runs, i)) \
         title word(long_runs, i) noenhanced
} else {
    plot [0:1] [0:1] NaN title 'no run of this approach'
}
set title 'Server-Sent Events (a request is a stream opened)' font ',14'
if (words(sse_runs) > 0) {
    plot for [i=1:words(sse_runs)] dir.'/runs/'.word(sse_runs, i).'/activity.csv' \
         using 'time_s':(column('requests') * 10) with steps lw 2 \
         dt dashes(word(sse_runs, i)) lc rgb runcolour(word(sse_runs, i)) \
         title word(sse_runs, i) noenhanced
} else {
    plot [0:1] [0:1] NaN title 'no run of this approach'
}
set title 'one user of each run: staleness' font ',14'
set ylabel 'ms behind the newest update' font ',12'
plot for [i=1:words(runs)] dir.'/runs/'.word(runs, i).'/timeline.csv' \
     using 'time_s':'staleness_ms' with lines lw 2 \
     dt dashes(word(runs, i)) lc rgb runcolour(word(runs, i)) \
     title word(runs, i) noenhanced
unset multiplot
