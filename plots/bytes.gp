# bytes.gp: where each client's bytes go, per minute: request headers, response headers,
# the payload itself, and framing (HTTP chunking, and an approach's own fields and
# heartbeats). The header layers are the "header tax" polling pays on every ask. How an
# approach's bytes split into payload and framing is its own (plot_payload_bytes and
# plot_framing_bytes, written by the lab from its approach table). The bars are what the
# client decoded; a black mark on each is what crossed the wire (the kernel's count).
# Under plain HTTP/1.1 the two agree and the mark sits on the bar's top; under HTTP/2
# (HPACK) and TLS (records, handshakes) they part, and the mark says what was paid.
if (!exists("plots")) plots = 'plots'
load plots.'/style.gp'
set output dir.'/plots/bytes.'.fmt
set title sprintf("%s: where the bytes go (per client per minute)", name) font ',18'
set ylabel 'bytes per client per minute'
set format y '%.0s %cB'
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border rgb 'white'
set boxwidth 0.7
set key outside top center horizontal
set xtics font ',12'
set yrange [0:*]
top_ = 0
stats summary using (column('bytes_per_client_min') > top_ ? top_ = column('bytes_per_client_min') : 0, 0) nooutput
if (top_ <= 0) {
    set yrange [0:1]
    set label 1 nothing('no run counted a byte in its window') at graph 0.5, graph 0.6 \
        center font ',12' tc rgb c_grey
}
clientmin(x) = column('clients') * column('duration_s') / 60.0
plot summary using (column('req_header_bytes') / clientmin(0)):xtic(runlabel(0)) lc rgb c_pink title 'request headers', \
     '' using (column('resp_header_bytes') / clientmin(0)) lc rgb c_sky title 'response headers', \
     '' using (column('plot_payload_bytes') / clientmin(0)) lc rgb c_green title 'payload (update JSON)', \
     '' using (column('plot_framing_bytes') / clientmin(0)) lc rgb c_grey title 'framing: chunks, fields, heartbeats', \
     '' using 0:(column('bytes_per_client_min')) with points pt 9 ps 2 lc rgb 'black' \
        title "on the wire (the kernel's count)"
