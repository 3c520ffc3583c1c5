# style.gp: what every pushpull plot shares: the terminal and fonts, and the runs and
# series of a results directory with the style of each, read from summary.csv.
#
# Each plot script is called as
#   gnuplot -e "dir='RESULTS_DIR'; fmt='png'; name='SCENARIO'; plots='PLOTS_DIR'" \
#       PLOTS_DIR/NAME.gp
# reads RESULTS_DIR/summary.csv (one row per run, a header of unit-named columns) or the
# per-run files under RESULTS_DIR/runs/, and writes RESULTS_DIR/plots/NAME.png (or .svg).
#
# How a run is drawn is in its own row: the lab writes, from the run's approach's row of
# its approach table (lab/approach.h), the columns series, series_title, color,
# point_type (a filled point; its hollow twin is one less), point_size, lines (1: a sweep
# of it is a line), axis_label and axis_detail (a category axis' two lines), point_label
# (beside a point: every swept value), run_label (a key's one line),
# approach_title (the client's own column "approach" names it), dash, staleness_pick (1:
# the run that stands for its approach), restarted, and the data rows of each run's own
# files (latency_rows, timeline_rows, activity_rows: a script draws no empty file). The scripts iterate over whatever runs and series the rows
# hold; none names an approach, so a new approach needs no change here.

if (!exists("fmt")) fmt = 'png'
if (!exists("dir")) dir = '.'
if (!exists("name")) name = 'pushpull'
if (fmt eq 'svg') {
    set terminal svg size 1000,640 dynamic enhanced font 'Helvetica,15' background rgb 'white'
} else {
    set terminal pngcairo size 1400,900 enhanced font 'DejaVu Sans,15' background rgb 'white'
}
set datafile separator ','
set datafile missing ''
set datafile columnheaders

set border 3 lw 1.2 lc rgb '#444444'
set tics nomirror textcolor rgb '#333333'
set grid lc rgb '#e4e4e4' lw 1
set bmargin 5
set key noautotitle top left box opaque samplen 2 spacing 1.3

# Colours for what is not an approach (Okabe-Ito, colour-blind safe).
c_green = '#009E73'
c_blue  = '#0072B2'
c_red   = '#D55E00'
c_pink  = '#CC79A7'
c_sky   = '#56B4E9'
c_grey  = '#777777'

summary = dir.'/summary.csv'

# The runs, in plan order: R_*[k] is run k's column of the same name.
n_runs = 0
stats summary using (n_runs = n_runs + 1, 0) nooutput
N_ = n_runs > 0 ? n_runs : 1
array R_id[N_]
array R_series[N_]
array R_title[N_]
array R_color[N_]
array R_pt[N_]
array R_ps[N_]
array R_lines[N_]
array R_approach[N_]
array R_approach_title[N_]
array R_dash[N_]
array R_stale[N_]
array R_restarted[N_]
array R_latency_rows[N_]
array R_timeline_rows[N_]
array R_activity_rows[N_]
array R_label[N_]
k_ = 0
stats summary using (k_ = k_ + 1, R_id[k_] = strcol('run_id'), \
    R_series[k_] = strcol('series'), R_title[k_] = strcol('series_title'), \
    R_color[k_] = strcol('color'), R_pt[k_] = column('point_type'), \
    R_ps[k_] = column('point_size'), R_lines[k_] = column('lines'), \
    R_approach[k_] = strcol('approach'), R_approach_title[k_] = strcol('approach_title'), \
    R_dash[k_] = column('dash'), R_stale[k_] = column('staleness_pick'), \
    R_restarted[k_] = column('restarted'), R_latency_rows[k_] = column('latency_rows'), \
    R_timeline_rows[k_] = column('timeline_rows'), \
    R_activity_rows[k_] = column('activity_rows'), R_label[k_] = strcol('run_label'), \
    0) nooutput

# The series, in order of first appearance: S_first[i] is the first run of series i,
# whose style the series takes. S_id is its name as words (no blanks in a series name).
series_ids = ''
n_series = 0
array S_first[N_]
do for [k=1:n_runs] {
    if (strstrt(series_ids.' ', ' '.R_series[k].' ') == 0) {
        series_ids = series_ids.' '.R_series[k]
        n_series = n_series + 1
        S_first[n_series] = k
    }
}
S_id(i) = R_series[S_first[i]]
S_title(i) = R_title[S_first[i]]
S_color(i) = R_color[S_first[i]]
S_pt(i) = R_pt[S_first[i]]
S_ps(i) = R_ps[S_first[i]]
S_lines(i) = R_lines[S_first[i]]
in_series(i) = strcol('series') eq S_id(i)
lined(i) = S_lines(i) > 0

# A run's name on a category axis: its label, and its detail on a second line.
runlabel(x) = strcol('axis_label').(strcol('axis_detail') ne '' ? "\n".strcol('axis_detail') : '')
per_client_min(col) = column(col) / (column('clients') * column('duration_s') / 60.0)

# When a plot has nothing to draw, it says so on its canvas (one panel's worth).
nothing(why) = sprintf("nothing to draw: %s", why)
