# server.gp: what the server spent per user: CPU seconds per user-hour over the window
# and the drain (bars, left), and the memory each held connection took (points, right),
# both from its /stats read at the window's start and after the client ended
# (lab/capacity.h). Every bar is named by its run's label and swept values. Push holds a
# connection per user for the whole run; polling works on every ask, and with keep-alive
# holds its connection between asks too.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/server.'.fmt
set title sprintf("%s: server cost per user", name) font ',18'
set ylabel 'server CPU seconds per user-hour (full clock)'
set y2label 'server memory per connection held (KiB)'
set y2tics
set ytics nomirror
set style fill solid 0.85 border rgb 'white'
set boxwidth 0.6
set key outside top center horizontal
set xtics font ',12'
# one slot per run, so a single run still has an axis
set xrange [-0.6 : n_runs - 0.4]
cpu_ = 0
mem_ = 0
ok(c) = column(c) == column(c)
stats summary using (ok('server_cpu_s_per_user_hour') && column('server_cpu_s_per_user_hour') > cpu_ ? cpu_ = column('server_cpu_s_per_user_hour') : 0, \
                     ok('server_kib_per_connection') && column('server_kib_per_connection') > mem_ ? mem_ = column('server_kib_per_connection') : 0, 0) nooutput
set yrange [0 : cpu_ > 0 ? cpu_ * 1.15 : 1]
set y2range [0 : mem_ > 0 ? mem_ * 1.15 : 1]
if (cpu_ <= 0 && mem_ <= 0) {
    set label 1 nothing('no run has the server readings of its window') at graph 0.5, graph 0.6 \
        center font ',12' tc rgb c_grey
}
plot summary using 0:(ok('server_cpu_s_per_user_hour') ? column('server_cpu_s_per_user_hour') : 0):xtic(runlabel(0)) \
        with boxes lc rgb c_blue title 'server CPU s per user-hour', \
     '' using 0:(ok('server_kib_per_connection') ? column('server_kib_per_connection') : NaN) axes x1y2 \
        with points pt 7 ps 2 lc rgb c_red title 'KiB per connection held', \
     '' using 0:(ok('server_cpu_s_per_user_hour') ? column('server_cpu_s_per_user_hour') : 0):(sprintf('%.3g', column('server_cpu_s_per_user_hour'))) \
        with labels offset char 0,0.8 font ',11' notitle
