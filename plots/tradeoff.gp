# tradeoff.gp: the lab's signature picture: what each approach pays (bytes per client per
# minute, x) for how fresh it keeps the client (delivery latency, y). Both axes are
# logarithmic: polling moves along a straight line as its interval changes (half the
# interval is half the latency and twice the bytes), and push sits in the corner no
# interval reaches. Solid marks are the mean, hollow ones the 95th percentile.
load 'plots/style.gp'
set output dir.'/plots/tradeoff.'.fmt
set title sprintf("%s: what freshness costs", name) font ',18'
set xlabel 'bytes per client per minute (requests + responses, headers included; log)'
set ylabel 'delivery latency, publish to receipt (ms, log)'
set logscale xy
set format x '%.0s %cB'
set format y '%g'
set key outside right top vertical Left reverse width 1
set rmargin 38
set offsets graph 0.08, graph 0.08, graph 0.15, graph 0.15
set label 1 'cheaper and fresher' at graph 0.07, graph 0.03 font ',13' tc rgb c_grey
set arrow 1 from graph 0.18, graph 0.14 to graph 0.05, graph 0.05 lw 1.5 lc rgb c_grey

label_ms(s) = sprintf('%g ms', real(s))

plot \
  summary using (isshort('state') ? column('bytes_per_client_min') : 1/0):'latency_mean_ms' \
      with linespoints pt 7 ps 1.6 lw 2.5 lc rgb c_short title t(n_state, 'short polling: mean'), \
  '' using (isshort('state') ? column('bytes_per_client_min') : 1/0):'latency_p95_ms' \
      with linespoints pt 6 ps 1.6 lw 1.5 dt 2 lc rgb c_short title t(n_state, 'short polling: p95'), \
  '' using (isshort('state') ? column('bytes_per_client_min') : 1/0):'latency_mean_ms':(label_ms(strcol('interval_ms'))) \
      with labels offset char 0,-1.2 font ',12' tc rgb c_short notitle, \
  '' using (isshort('events') ? column('bytes_per_client_min') : 1/0):'latency_mean_ms':(label_ms(strcol('interval_ms'))) \
      with labels offset char 0,1.2 font ',12' tc rgb c_events notitle, \
  '' using (isshort('events') ? column('bytes_per_client_min') : 1/0):'latency_mean_ms' \
      with linespoints pt 5 ps 1.4 lw 2.5 lc rgb c_events title t(n_events, 'short polling, cursor: mean'), \
  '' using (isshort('events') ? column('bytes_per_client_min') : 1/0):'latency_p95_ms' \
      with linespoints pt 4 ps 1.4 lw 1.5 dt 2 lc rgb c_events title t(n_events, 'short polling, cursor: p95'), \
  '' using (is('long') ? column('bytes_per_client_min') : 1/0):'latency_mean_ms' \
      with points pt 9 ps 2.4 lc rgb c_long title t(n_long, 'long polling: mean'), \
  '' using (is('long') ? column('bytes_per_client_min') : 1/0):'latency_p95_ms' \
      with points pt 8 ps 2.4 lc rgb c_long title t(n_long, 'long polling: p95'), \
  '' using (is('sse') ? column('bytes_per_client_min') : 1/0):'latency_mean_ms' \
      with points pt 13 ps 2.6 lc rgb c_sse title t(n_sse, 'Server-Sent Events: mean'), \
  '' using (is('sse') ? column('bytes_per_client_min') : 1/0):'latency_p95_ms' \
      with points pt 12 ps 2.6 lc rgb c_sse title t(n_sse, 'Server-Sent Events: p95')
