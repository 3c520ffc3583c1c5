# style.gp: what every pushpull plot shares: the terminal, fonts, and one colour per
# approach, so a reader learns "orange is short polling" once.
#
# Each plot script is called as
#   gnuplot -e "dir='RESULTS_DIR'; fmt='png'; name='SCENARIO'" plots/NAME.gp
# reads RESULTS_DIR/summary.csv (one row per run, a header of unit-named columns) or the
# per-run files under RESULTS_DIR/runs/, and writes RESULTS_DIR/plots/NAME.png (or .svg).

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

# One colour per approach (colour-blind safe: Okabe-Ito).
c_short  = '#E69F00'
c_events = '#D55E00'
c_long   = '#0072B2'
c_sse    = '#009E73'
c_grey   = '#777777'

summary = dir.'/summary.csv'
is(a) = strcol('approach') eq a
isshort(m) = strcol('approach') eq 'short' && strcol('poll_mode') eq m

# How many rows match each series, so absent series get no key entry (title '').
n_state = 0; n_events = 0; n_long = 0; n_sse = 0
stats summary using (isshort('state') ? n_state = n_state + 1 : 0, \
                     isshort('events') ? n_events = n_events + 1 : 0, \
                     is('long') ? n_long = n_long + 1 : 0, \
                     is('sse') ? n_sse = n_sse + 1 : 0) nooutput
t(n, s) = n > 0 ? s : ''

# A run's name on a category axis: "short 250 ms", "short+cursor 1 s", "long", "SSE".
runlabel = '(is("short") ? sprintf("short%s\n%g ms", strcol("poll_mode") eq "events" ? "+cursor" : "", column("interval_ms")) : is("long") ? "long poll" : "SSE")'
per_client_min(col) = column(col) / (column('clients') * column('duration_s') / 60.0)

# Colour and dash of a run from its id ("short-state-interval_ms=1000-...", "long-...",
# "sse-..."): the approach picks the colour.
runcolour(r) = r[1:11] eq 'short-event' ? c_events : r[1:5] eq 'short' ? c_short : r[1:4] eq 'long' ? c_long : c_sse
