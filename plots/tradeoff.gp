# tradeoff.gp: the lab's signature picture: what each approach pays (bytes per client per
# minute, x) for how fresh it keeps the client (y), both axes logarithmic.
#
# Left, delivery latency: publish to receipt of each update received (solid marks the
# mean, hollow the 95th percentile). Right, staleness: how far behind the client's view
# was, averaged over time. They differ where it matters: polling the latest state misses
# most updates of a fast feed, so the few it receives arrive "fresh" while its view lags
# by about half an interval; staleness shows that lag, latency cannot. Polling moves along
# a line as its interval changes (half the interval, twice the bytes); push sits in the
# corner no interval reaches.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/tradeoff.'.fmt
label_ms(s) = sprintf('%g ms', real(s))
# Latency and staleness can be 0 on loopback: draw them at the axis floor, not nowhere.
floor_ms = 0.01
pos(v) = v > floor_ms ? v : floor_ms
bytes(x) = column('bytes_per_client_min')

set multiplot layout 1, 2 title sprintf("%s: what freshness costs", name) font ',20'
set logscale xy
set format x '%.0s %cB'
set format y '%g'
set xlabel 'bytes per client per minute (headers included; log)'
set offsets graph 0.08, graph 0.08, graph 0.15, graph 0.15
set key outside bottom center horizontal maxcols 3 font ',12'
set bmargin 10
set label 1 'cheaper and fresher' at graph 0.07, graph 0.03 font ',12' tc rgb c_grey
set arrow 1 from graph 0.2, graph 0.14 to graph 0.05, graph 0.05 lw 1.5 lc rgb c_grey

set title 'delivery latency of the updates received' font ',15'
set ylabel 'publish to receipt (ms, log)'
plot \
  summary using (isshort('state') ? bytes(0) : 1/0):(pos(column('latency_mean_ms'))) \
      with linespoints pt 7 ps 1.5 lw 2.5 lc rgb c_short title t(n_state, 'short polling: mean'), \
  '' using (isshort('state') ? bytes(0) : 1/0):(pos(column('latency_p95_ms'))) \
      with linespoints pt 6 ps 1.5 lw 1.5 dt 2 lc rgb c_short title t(n_state, 'short polling: p95'), \
  '' using (isshort('state') ? bytes(0) : 1/0):(pos(column('latency_mean_ms'))):(label_ms(strcol('interval_ms'))) \
      with labels offset char 0,-1.2 font ',11' tc rgb c_short notitle, \
  '' using (isshort('events') ? bytes(0) : 1/0):(pos(column('latency_mean_ms'))) \
      with linespoints pt 5 ps 1.4 lw 2.5 lc rgb c_events title t(n_events, 'short polling, cursor: mean'), \
  '' using (isshort('events') ? bytes(0) : 1/0):(pos(column('latency_p95_ms'))) \
      with linespoints pt 4 ps 1.4 lw 1.5 dt 2 lc rgb c_events title t(n_events, 'short polling, cursor: p95'), \
  '' using (isshort('events') ? bytes(0) : 1/0):(pos(column('latency_mean_ms'))):(label_ms(strcol('interval_ms'))) \
      with labels offset char 0,1.2 font ',11' tc rgb c_events notitle, \
  '' using (is('long') ? bytes(0) : 1/0):(pos(column('latency_mean_ms'))) \
      with points pt 9 ps 2.2 lc rgb c_long title t(n_long, 'long polling: mean'), \
  '' using (is('long') ? bytes(0) : 1/0):(pos(column('latency_p95_ms'))) \
      with points pt 8 ps 2.2 lc rgb c_long title t(n_long, 'long polling: p95'), \
  '' using (is('sse') ? bytes(0) : 1/0):(pos(column('latency_mean_ms'))) \
      with points pt 13 ps 2.4 lc rgb c_sse title t(n_sse, 'SSE: mean'), \
  '' using (is('sse') ? bytes(0) : 1/0):(pos(column('latency_p95_ms'))) \
      with points pt 12 ps 2.4 lc rgb c_sse title t(n_sse, 'SSE: p95')

set title "staleness: how far behind the client's view was" font ',15'
set ylabel 'time-averaged staleness (ms, log)'
plot \
  summary using (isshort('state') ? bytes(0) : 1/0):(pos(column('staleness_mean_ms'))) \
      with linespoints pt 7 ps 1.5 lw 2.5 lc rgb c_short title t(n_state, 'short polling'), \
  '' using (isshort('state') ? bytes(0) : 1/0):(pos(column('staleness_mean_ms'))):(label_ms(strcol('interval_ms'))) \
      with labels offset char 0,-1.2 font ',11' tc rgb c_short notitle, \
  '' using (isshort('events') ? bytes(0) : 1/0):(pos(column('staleness_mean_ms'))) \
      with linespoints pt 5 ps 1.4 lw 2.5 lc rgb c_events title t(n_events, 'short polling, cursor'), \
  '' using (isshort('events') ? bytes(0) : 1/0):(pos(column('staleness_mean_ms'))):(label_ms(strcol('interval_ms'))) \
      with labels offset char 0,1.2 font ',11' tc rgb c_events notitle, \
  '' using (is('long') ? bytes(0) : 1/0):(pos(column('staleness_mean_ms'))) \
      with points pt 9 ps 2.2 lc rgb c_long title t(n_long, 'long polling'), \
  '' using (is('sse') ? bytes(0) : 1/0):(pos(column('staleness_mean_ms'))) \
      with points pt 13 ps 2.4 lc rgb c_sse title t(n_sse, 'SSE')
unset multiplot
