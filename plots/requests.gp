# requests.gp: requests each client sends per minute, split into those that brought news
# and those that brought nothing (an empty cursor answer, the same state again, or 304).
# Polling pays per question asked; push pays per connection. One bar per run, named by
# its axis label.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/requests.'.fmt
set title sprintf("%s: requests per client per minute, and how many brought nothing", name) font ',18'
set ylabel 'requests per client per minute'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border rgb 'white'
set boxwidth 0.7
set key outside top center horizontal
set xtics rotate by 0 font ',12'
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
# with no request at all (push only), the axis still needs a height
top_ = 0
stats summary using (column('requests_per_client_min') > top_ ? top_ = column('requests_per_client_min') : 0, 0) nooutput
if (top_ <= 0) {
    set yrange [0:1]
    set label 1 'no run sent a request in its window (a stream opened before it counts for none)' \
        at graph 0.5, graph 0.6 center font ',12' tc rgb c_grey
}
plot summary using (column('requests_per_client_min') * (1 - column('empty_share'))):xtic(runlabel(0)) \
        lc rgb c_green title 'brought news', \
     '' using (column('requests_per_client_min') * column('empty_share')) lc rgb c_grey \
        title 'brought nothing (empty, unchanged or 304)', \
     '' using ($0):(column('requests_per_client_min')):(sprintf('%.3g', column('requests_per_client_min'))) \
        with labels offset char 0,0.8 font ',12' notitle
