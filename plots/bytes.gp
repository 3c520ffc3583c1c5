# bytes.gp: where each client's bytes go, per minute: request headers, response headers,
# the payload itself, and framing (HTTP chunking, SSE field names and heartbeats). The
# header layers are the "header tax" polling pays on every ask.
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
payload(x) = is('sse') ? column('sse_data_bytes') : column('resp_body_bytes')
framing(x) = column('framing_bytes') + (is('sse') ? column('sse_framing_bytes') + column('sse_comment_bytes') : 0)
clientmin(x) = column('clients') * column('duration_s') / 60.0
plot summary using (column('req_header_bytes') / clientmin(0)):xtic(@runlabel) lc rgb '#CC79A7' title 'request headers', \
     '' using (column('resp_header_bytes') / clientmin(0)) lc rgb '#56B4E9' title 'response headers', \
     '' using (payload(0) / clientmin(0)) lc rgb c_sse title 'payload (update JSON)', \
     '' using (framing(0) / clientmin(0)) lc rgb c_grey title 'framing: chunks, SSE fields, heartbeats'
