#!/usr/bin/env bash
# run.sh: the one entry point of pushpull. Every subcommand installs what it needs first,
# so each works as the first command on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")"

DEBS=(libmicrohttpd-dev libcjson-dev libcurl4-openssl-dev libcmocka-dev gnuplot-nox
      pkg-config build-essential curl clang libclang-rt-14-dev)
LAST_DIRS=()
# Where the programs are: bin/ (release), or build/asan/bin for the sanitizer build (the
# end-to-end test sets PUSHPULL_BIN so the whole pipeline runs under ASan and UBSan).
BIN=${PUSHPULL_BIN:-bin}

usage() {
    cat <<'USAGE'
usage: ./run.sh [COMMAND] [ARGS]

  (none)                 set up, build, run the default suite (every bundled scenario,
                         quick), draw the plots, print a summary and the reports' paths
  run SCENARIO.json... [--quick] [--out DIR]
                         run scenarios: results/<name>/<timestamp>/ (or DIR), with
                         summary.csv/.json, plots/*.png|svg and report.md
  plot RESULTS_DIR       redraw the plots of a finished run
  report RESULTS_DIR     rewrite its report.md
  demo [--rate HZ] [--port N]
                         the workshop demo: serve the live page, print its URL
  test                   set up, build with ASan+UBSan, run every test; "N passed, N failed"
  bench [FLAGS]          server fan-out benchmark (bin/pushpull-bench --help)
  server [FLAGS]         build and run the server in the foreground (--help for flags)
  setup                  install missing Debian packages (apt-get as root; else print it)
  build                  build every program into bin/
  clean                  remove build outputs (results/ is left alone)
  -h, --help             this text
USAGE
}

die() {
    echo "pushpull: $*" >&2
    exit 1
}

# Install missing Debian packages (DEBS, plus any named): apt-get when root, otherwise
# print the exact command and exit 2 (the caller decides whether to become root).
setup() {
    local missing=() p
    for p in "${DEBS[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "pushpull: missing Debian packages: ${missing[*]}" >&2
        echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 2
    fi
    echo "pushpull: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ---- one server per run, stopped by pid, also on Ctrl-C -------------------------------

SERVER_PID=
SERVER_URL=
SERVER_LOG=
LINK_PID=
LINK_URL=
CLIENT_PID=
cleanup() {
    if [ -n "$CLIENT_PID" ]; then
        kill -TERM "$CLIENT_PID" 2>/dev/null || true
        wait "$CLIENT_PID" 2>/dev/null || true
        CLIENT_PID=
    fi
    if [ -n "$LINK_PID" ]; then
        kill -TERM "$LINK_PID" 2>/dev/null || true
        wait "$LINK_PID" 2>/dev/null || true
        LINK_PID=
    fi
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap cleanup EXIT
trap 'cleanup; echo "pushpull: interrupted" >&2; exit 130' INT TERM

# first_line PID LOGPREFIX WHAT: wait (10 s at most) for the first line a program started
# in the background writes to LOGPREFIX.out ("listening on ..."), and print it; dies
# naming WHAT when the program exits first or stays silent. It looks every 10 ms, so a
# restarted server's "up" time (restart.json) is late by at most that.
first_line() {
    local pid=$1 log=$2 what=$3 first='' i
    for i in $(seq 1000); do
        first=$(head -n 1 "$log.out" 2>/dev/null || true)
        [ -n "$first" ] && break
        kill -0 "$pid" 2>/dev/null || die "$what did not start: $(cat "$log.err")"
        sleep 0.01
    done
    [ -n "$first" ] || die "$what did not say where it listens within 10 s ($log.err)"
    echo "$first"
}

# start_server LOGPREFIX ARGS...: start bin/pushpull-server on a free port (a --port
# among ARGS wins); sets SERVER_PID, SERVER_URL and SERVER_LOG.
start_server() {
    local log=$1 first
    shift
    "$BIN/pushpull-server" --port 0 "$@" >"$log.out" 2>"$log.err" &
    SERVER_PID=$!
    SERVER_LOG=$log
    first=$(first_line "$SERVER_PID" "$log" "the server") || { SERVER_PID=; exit 1; }
    SERVER_URL=${first#listening on }
}

# stop_server: SIGTERM the server start_server started, and check its exit.
stop_server() {
    local pid=$SERVER_PID
    SERVER_PID=
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || die "the server exited with an error (see $SERVER_LOG.err)"
}

# start_link LOGPREFIX UPSTREAM STATS_JSON ARGS...: start bin/pushpull-link on a free port
# in front of UPSTREAM (host:port), wait (10 s at most) for its "listening on ADDR" line;
# sets LINK_PID and LINK_URL. On SIGTERM it writes STATS_JSON.
start_link() {
    local log=$1 upstream=$2 stats=$3 first
    shift 3
    "$BIN/pushpull-link" --listen 127.0.0.1:0 --upstream "$upstream" --stats "$stats" "$@" \
        >"$log.out" 2>"$log.err" &
    LINK_PID=$!
    first=$(first_line "$LINK_PID" "$log" "the link emulator") || { LINK_PID=; exit 1; }
    LINK_URL=http://${first#listening on }
}

stop_link() {
    local pid=$LINK_PID
    LINK_PID=
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || die "the link emulator exited with an error (see $1.err)"
}

# ---- scenarios, plots, reports ------------------------------------------------------

# crash_and_restart RUNDIR AT DOWN SERVER_ARGS...: while the client runs, crash the
# server AT seconds after the client started (SIGUSR1: it prints its /stats document and
# dies without a goodbye, as kill -9 would leave its clients), keep it down DOWN seconds,
# then start it again with the same arguments on the same port. The crashed server's
# document goes to RUNDIR/server_stats.crashed.json (pushpull-lab merge adds it to the
# successor's), and the wall-clock times to RUNDIR/restart.json.
crash_and_restart() {
    local rd=$1 at=$2 down=$3 port t_crash t_up
    shift 3
    port=${SERVER_URL##*:}
    sleep "$at"
    t_crash=$(date +%s%N)
    kill -USR1 "$SERVER_PID" ||
        die "the server was gone before its crash was due (see $rd/server.err)"
    wait "$SERVER_PID" || die "the server did not crash cleanly (see $rd/server.err)"
    SERVER_PID=
    sed -n 2p "$rd/server.out" >"$rd/server_stats.crashed.json"
    [ -s "$rd/server_stats.crashed.json" ] ||
        die "the crashed server printed no /stats document (see $rd/server.out)"
    sleep "$down"
    start_server "$rd/server-restarted" "$@" --port "$port"
    t_up=$(date +%s%N)
    printf '{"crash_unix_ns":%s,"up_unix_ns":%s,"down_s":%s}\n' "$t_crash" "$t_up" \
        "$down" >"$rd/restart.json"
}

# run_scenario FILE QUICK(0|1) OUTDIR: every run of the plan, then merge, plot, report.
# A plan line with link arguments puts the link emulator between the client and the
# server; the server's /stats is still read from the server itself. A plan line with
# restart arguments (at=S down=S feed=memory|file) crashes the server mid-run and starts
# it again; with feed=file both servers keep the feed in RUNDIR/feed.log.
run_scenario() {
    local file=$1 quick=$2 dir=$3 plan n i=0 line id sargs cargs largs rargs rd url w
    local at down feed qflag=() fargs=()
    [ "$quick" = 1 ] && qflag=(--quick)
    plan=$("$BIN/pushpull-lab" plan "$file" "${qflag[@]}") || exit 2
    n=$(printf '%s\n' "$plan" | grep -c .)
    mkdir -p "$dir/runs"
    cp "$file" "$dir/scenario.json"
    printf '%s\n' "$plan" >"$dir/plan.tsv"
    echo "pushpull: $file: $n runs -> $dir"
    while IFS= read -r line; do
        # Five tab-separated fields, any of the last three may be empty: split on a
        # non-whitespace separator, since read would merge adjacent tabs.
        IFS=$'\x1f' read -r id sargs cargs largs rargs <<<"${line//$'\t'/$'\x1f'}"
        i=$((i + 1))
        rd=$dir/runs/$id
        # a fresh directory: files an earlier run with this id left (a crashed server's
        # /stats, the link's) would otherwise be merged into this one
        rm -rf "$rd"
        mkdir -p "$rd"
        at='' down='' feed='' fargs=()
        for w in $rargs; do
            case $w in
                at=*) at=${w#at=} ;;
                down=*) down=${w#down=} ;;
                feed=*) feed=${w#feed=} ;;
            esac
        done
        if [ "$feed" = file ]; then
            rm -f "$rd/feed.log"
            fargs=(--feed-file "$rd/feed.log")
        fi
        printf '  [%d/%d] %s%s%s\n' "$i" "$n" "$id" "${largs:+ (link: $largs)}" \
            "${rargs:+ (restart: $rargs)}"
        # shellcheck disable=SC2086 # the plan's arguments are words by construction
        start_server "$rd/server" $sargs "${fargs[@]}"
        url=$SERVER_URL
        if [ -n "$largs" ]; then
            # shellcheck disable=SC2086
            start_link "$rd/link" "${SERVER_URL#http://}" "$rd/link_stats.json" $largs
            url=$LINK_URL
        fi
        # shellcheck disable=SC2086
        "$BIN/pushpull-client" --server "$url" --out "$rd" --label "$id" $cargs \
            >"$rd/client.txt" &
        CLIENT_PID=$!
        if [ -n "$at" ]; then
            # shellcheck disable=SC2086
            crash_and_restart "$rd" "$at" "$down" $sargs "${fargs[@]}"
        fi
        wait "$CLIENT_PID" || {
            CLIENT_PID=
            cleanup
            die "the client failed on run $id (see $rd/client.txt)"
        }
        CLIENT_PID=
        if [ -n "$largs" ]; then
            stop_link "$rd/link"
        fi
        curl -sf "$SERVER_URL/stats" >"$rd/server_stats.json" ||
            die "could not read the server's /stats for run $id"
        stop_server
    done <<<"$plan"
    "$BIN/pushpull-lab" merge "$dir" || die "merging $dir failed"
    plot_results "$dir"
    "$BIN/pushpull-lab" report "$dir" || die "writing $dir/report.md failed"
}

# The run ids of a results directory, in plan order (summary.csv's first column).
run_ids() {
    tail -n +2 "$1/summary.csv" | cut -d, -f1 | tr '\n' ' '
}

# One run per approach for the staleness plot: short polling nearest 1 s, long, SSE.
staleness_runs() {
    local ids picked='' id
    ids=$(run_ids "$1")
    for id in $ids; do
        case $id in *interval_ms=1000*) picked=$id; break ;; esac
    done
    [ -n "$picked" ] || for id in $ids; do
        case $id in short*) picked=$id; break ;; esac
    done
    for id in $ids; do
        case $id in long*) picked="$picked $id"; break ;; esac
    done
    for id in $ids; do
        case $id in sse*) picked="$picked $id"; break ;; esac
    done
    echo "$picked"
}

plot_results() {
    local dir=$1 name runs stale gp fmt
    [ -f "$dir/summary.csv" ] || die "$dir: no summary.csv (is it a results directory?)"
    # The scenario's name ([a-z0-9-]+, checked by the loader) from its copy in the results.
    name=$(grep -o '"name"[[:space:]]*:[[:space:]]*"[a-z0-9-]*"' "$dir/scenario.json" |
        head -n 1 | sed 's/.*"\([a-z0-9-]*\)"$/\1/')
    runs=$(run_ids "$dir")
    stale=$(staleness_runs "$dir")
    mkdir -p "$dir/plots"
    for gp in tradeoff requests bytes cdf staleness server; do
        for fmt in png svg; do
            local r=$runs
            [ "$gp" = staleness ] && r=$stale
            gnuplot -e "dir='$dir'; fmt='$fmt'; name='$name'; runs='$r'" "plots/$gp.gp" \
                2>"$dir/plots/$gp.log" || die "plots/$gp.gp failed (see $dir/plots/$gp.log)"
            [ -s "$dir/plots/$gp.$fmt" ] || die "plots/$gp.gp drew nothing"
        done
        rm -f "$dir/plots/$gp.log"
    done
    # The crash-and-restart picture, for the runs that had one.
    local restarted='' id
    for id in $runs; do
        [ -f "$dir/runs/$id/restart.json" ] && restarted="$restarted $id"
    done
    [ -n "$restarted" ] || return 0
    for fmt in png svg; do
        gnuplot -e "dir='$dir'; fmt='$fmt'; name='$name'; runs='${restarted# }'" \
            plots/restart.gp 2>"$dir/plots/restart.log" ||
            die "plots/restart.gp failed (see $dir/plots/restart.log)"
        [ -s "$dir/plots/restart.$fmt" ] || die "plots/restart.gp drew nothing"
    done
    rm -f "$dir/plots/restart.log"
}

# run [--quick] [--out DIR] SCENARIO.json...: check every file first, then run each.
cmd_run() {
    local quick=0 out='' files=() f stamp
    while [ $# -gt 0 ]; do
        case $1 in
            --quick) quick=1 ;;
            --out) [ $# -ge 2 ] || die "--out: expected a directory"; out=$2; shift ;;
            -*) die "run: unknown option '$1' (expected --quick or --out DIR)" ;;
            *) files+=("$1") ;;
        esac
        shift
    done
    [ ${#files[@]} -gt 0 ] || die "run: expected one or more scenario files (scenarios/*.json)"
    "$BIN/pushpull-lab" check "${files[@]}" >/dev/null || exit 2
    stamp=$(date -u +%Y%m%d-%H%M%S)
    for f in "${files[@]}"; do
        local dir=$out
        if [ -z "$dir" ]; then
            dir=results/$(basename "$f" .json)/$stamp
        elif [ ${#files[@]} -gt 1 ]; then
            dir=$out/$(basename "$f" .json)
        fi
        run_scenario "$f" "$quick" "$dir"
        LAST_DIRS+=("$dir")
    done
}

# The workshop demo: the server with a live generator and the page at /.
cmd_demo() {
    local rate=2 port=8080
    while [ $# -gt 0 ]; do
        case $1 in
            --rate) [ $# -ge 2 ] || die "--rate: expected updates per second"; rate=$2; shift ;;
            --port) [ $# -ge 2 ] || die "--port: expected a TCP port"; port=$2; shift ;;
            *) die "demo: unknown option '$1' (expected --rate HZ or --port N)" ;;
        esac
        shift
    done
    echo "pushpull: open the URL on the next line in a browser (Ctrl-C stops)" >&2
    exec "$BIN/pushpull-server" --rate "$rate" --port "$port" --www servers/www \
        --retry-ms 1000 --heartbeat 5s
}

# The default suite: every bundled scenario, quick; a table and the reports' paths.
cmd_main() {
    local t0=$SECONDS d
    LAST_DIRS=()
    cmd_run --quick scenarios/*.json
    echo
    echo "pushpull: the default suite took $((SECONDS - t0)) s"
    for d in "${LAST_DIRS[@]}"; do
        "$BIN/pushpull-lab" table "$d"
        echo "  report: $d/report.md"
        echo "  plots:  $d/plots/tradeoff.png (and requests, bytes, cdf, staleness, server)"
        echo
    done
}

# What the real-client tests need: Debian's Chromium, Node 20 or later with npm, and the
# two npm packages pinned in tests/browser/package-lock.json.
setup_browser_tests() {
    command -v node >/dev/null && command -v npm >/dev/null || setup nodejs npm
    setup chromium
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -lt 20 ]; then
        echo "pushpull: the browser tests need Node.js 20 or later; this is $(node --version)" >&2
        exit 2
    fi
    if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
        [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
        echo "pushpull: installing the browser tests' npm packages" >&2
        npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null
    fi
}

build() {
    make -s -j"$(nproc)" all
    if [ "$BIN" != bin ]; then
        make -s -j"$(nproc)" "$BIN/pushpull-server" "$BIN/pushpull-client" "$BIN/pushpull-lab"
    fi
}

cmd=${1:-main}
[ $# -gt 0 ] && shift
case "$cmd" in
    -h|--help|help) usage ;;
    setup) setup ;;
    build) setup; build ;;
    test)  setup; setup_browser_tests; make -s -j"$(nproc)" test-build && make -s test ;;
    server) setup; build; exec bin/pushpull-server "$@" ;;
    bench) setup; build; exec bin/pushpull-bench "$@" ;;
    run) setup; build; cmd_run "$@" ;;
    demo) setup; build; cmd_demo "$@" ;;
    plot) setup; build; [ $# -eq 1 ] || die "plot: expected one results directory"
          plot_results "${1%/}"; echo "pushpull: plots in ${1%/}/plots/" ;;
    report) setup; build; [ $# -eq 1 ] || die "report: expected one results directory"
          "$BIN/pushpull-lab" report "${1%/}" && echo "pushpull: ${1%/}/report.md" ;;
    clean) make -s clean ;;
    main)  setup; build; cmd_main ;;
    *) echo "run.sh: unknown command '$cmd' (expected one of: run plot report demo test bench server setup build clean --help)" >&2
       exit 2 ;;
esac
