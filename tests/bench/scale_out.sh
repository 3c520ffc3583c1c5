#!/usr/bin/env bash
# scale_out.sh: the load tier measured: scenarios/experiments/scale-out.json run by the
# conductor (6 server instances on one Redis feed, 6 client partitions, each in a network
# namespace of its own, one update a second), then its figures per tier.
#
# Printed, from the run's own files (nothing is measured twice):
#   delivery  updates expected, received, missed (merged summary.json of the partitions)
#   latency   publish-to-receipt p50, p99 and max (the merged histogram)
#   memory    per connection: the instances' resident memory at the window's start less
#             before any user connected (server_stats.window.json - .idle.json, every
#             instance added) over the connections they held then; the clients' peak
#             resident memory over the users; Redis's used_memory in all
#   CPU       per event delivered in the window: the instances' CPU from the window's start
#             to the end (server_stats.json - .window.json: the drain is in it) and the
#             clients' CPU in the window, over the updates received; Redis's whole CPU and
#             its share of a core over its life (it carries each update once, not once per
#             user, and its idle cron is most of it)
#   instances each one's share of the users
#
#   tests/bench/scale_out.sh [--quick]     (results in results/bench-scale/<stamp>/)
# Needs root (the namespaces) and jq.
set -euo pipefail
cd "$(dirname "$0")/../.."

QUICK=()
if [ "${1:-}" = --quick ]; then QUICK=(--quick); fi
BIN=${PUSHPULL_BIN:-bin}
OUT=results/bench-scale/$(date -u +%Y%m%d-%H%M%S)
"$BIN/pushpull-lab" run scenarios/experiments/scale-out.json "${QUICK[@]}" --out "$OUT"
runs=("$OUT"/runs/*/)
RUN=${runs[0]%/}

r() { jq -r ".results.$1" "$RUN/summary.json"; }
s() { jq -r "$2" "$RUN/$1"; }
info() { sed -n "s/^$1:\([0-9.]*\).*/\1/p" "$RUN/redis_info.txt" | tr -d '\r'; }

users=$(r clients)
events=$(r updates_received)
published=$(r updates_published)
srv_cpu=$(awk -v a="$(s server_stats.json .cpu_s)" -v b="$(s server_stats.window.json .cpu_s)" \
    'BEGIN { print a - b }')
srv_mem=$(awk -v a="$(s server_stats.window.json .rss_kib)" \
    -v b="$(s server_stats.idle.json .rss_kib)" 'BEGIN { print a - b }')
cli_cpu=$(r client_cpu_s)
cli_mem=$(r client_peak_rss_kb)
redis_cpu=$(awk -v a="$(info used_cpu_user)" -v b="$(info used_cpu_sys)" 'BEGIN { print a + b }')
redis_mem=$(info used_memory)
redis_up=$(info uptime_in_seconds)

echo
echo "scale-out: $users SSE users, $(jq -r '.scale.instances' "$RUN/run.json") instances," \
    "$(jq -r '.scale.partitions' "$RUN/run.json") partitions ($RUN)"
printf '  delivery   expected %s, received %s, missed %s, duplicates %s\n' \
    "$(r updates_expected)" "$(r updates_received)" "$(r missed)" "$(r duplicates)"
printf '  latency    p50 %s ms, p99 %s ms, max %s ms\n' \
    "$(r latency_p50_ms)" "$(r latency_p99_ms)" "$(r latency_max_ms)"
conns=$(jq '[.scale.instance[].connections_at_window] | add' "$RUN/run.json")
awk -v u="$users" -v n="$conns" -v sm="$srv_mem" -v cm="$cli_mem" -v rm="$redis_mem" 'BEGIN {
    printf "  memory     server %.1f KiB per connection (%d connected at the window'"'"'s " \
        "start), client %.1f KiB per user; redis %.2f MB in all\n",
        sm / n, n, cm / u, rm / 1e6 }'
awk -v e="$events" -v p="$published" -v sc="$srv_cpu" -v cc="$cli_cpu" -v rc="$redis_cpu" \
    -v up="$redis_up" 'BEGIN {
    printf "  cpu        per event delivered: server %.1f us, client %.1f us (%d events, " \
        "%d updates); redis %.2f s in all, %.2f%% of a core\n",
        sc * 1e6 / e, cc * 1e6 / e, e, p, rc, (up > 0 ? 100 * rc / up : 0) }'
printf '  instances  '
jq -r '[.scale.instance[] | "\(.place) \(.connections_at_window)"] | join(", ")' "$RUN/run.json"
