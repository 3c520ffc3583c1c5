# server.gp: what each run cost the server: CPU seconds (bars) and the most connections
# it held at once (points, right axis). Push holds a connection per client for the whole
# run; polling holds few but works on every ask.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/server.'.fmt
set title sprintf("%s: server cost per run", name) font ',18'
set ylabel 'server CPU seconds'
set y2label 'connections held at once (peak)'
set y2tics
set ytics nomirror
set style fill solid 0.85 border rgb 'white'
set boxwidth 0.6
set key outside top center horizontal
set xtics font ',12'
# one slot per run, so a single run still has an axis
set xrange [-0.6 : n_runs - 0.4]
cpu_ = 0
conn_ = 0
stats summary using (column('server_cpu_s') > cpu_ ? cpu_ = column('server_cpu_s') : 0, \
                     column('server_connections_peak') > conn_ ? conn_ = column('server_connections_peak') : 0, 0) nooutput
set yrange [0 : cpu_ > 0 ? cpu_ * 1.1 : 1]
set y2range [0 : conn_ > 0 ? conn_ * 1.1 : 1]
plot summary using 0:(column('server_cpu_s')):xtic(runlabel(0)) with boxes lc rgb c_blue title 'server CPU s', \
     '' using 0:(column('server_connections_peak')) axes x1y2 with points pt 7 ps 2 lc rgb c_red title 'peak connections'
