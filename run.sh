#!/usr/bin/env bash
# run.sh: the one entry point of pushpull: set-up (Debian packages), build, and dispatch.
# Every subcommand installs what it needs first, so each works as the first command on a
# fresh Debian 12 machine. The lab's work (running scenarios, plots, reports) is
# bin/pushpull-lab's; this script only gets it built and calls it.
set -euo pipefail
cd "$(dirname "$0")"

DEBS=(libmicrohttpd-dev libcjson-dev libcurl4-openssl-dev libcmocka-dev gnuplot-nox
      pkg-config build-essential clang libclang-rt-14-dev iproute2 libwslay-dev libssl-dev
      openssl nghttp2-proxy nghttp2-client tshark libhiredis-dev redis-server haproxy)
# Where the programs are: bin/ (release), or build/asan/bin for the sanitizer build (the
# end-to-end tests set PUSHPULL_BIN so the whole lab runs under ASan and UBSan).
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
  demo [--rate HZ] [--port N] [--delay DUR] [--bind ADDR]
                         the classroom demo: the server behind the link emulator
                         (--delay 150ms each way), the page's URL; --bind 0.0.0.0 lets
                         students open it (bin/pushpull-lab demo --help)
  test                   set up, build with ASan+UBSan, run every test; "N passed, N failed"
                         (the bench's test runs nginx + nchan and wrk: installed too)
  bench [--against nchan|none] [FLAGS]
                         the lab server beside nginx + nchan on the same loads, medians
                         of 3 runs: results/bench/<timestamp>/ (bin/pushpull-bench --help);
                         installs nginx, libnginx-mod-nchan and wrk when missing
  bench redis [USERS [RATE_HZ [SECONDS]]]
                         the broker's hop: the feed in memory against the feed through
                         Redis, one instance and two (tests/bench/redis_hop.sh)
  bench scale [--quick]  the load tier: scenarios/experiments/scale-out.json (100,000 SSE
                         users, 6 instances on Redis, 6 client processes, namespaces;
                         root), its latency, memory per connection and CPU per event per
                         tier (tests/bench/scale_out.sh; installs jq when missing)
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
# print the exact command and exit 2 (the caller decides whether to become root). A
# package that ships a daemon must not start it: while apt runs, a policy-rc.d that
# answers 101 ("action forbidden") stands in /usr/sbin, unless one is there already.
setup() {
    local missing=() p policy=/usr/sbin/policy-rc.d ours=0
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
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# pushpull: no service starts while its packages install\nexit 101\n' \
            >"$policy"
        chmod 755 "$policy"
        ours=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT # $policy: a local, gone by then
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    if [ "$ours" = 1 ]; then
        rm -f "$policy"
        trap - EXIT
    fi
}

# What the real-client tests need: Debian's Chromium, Node 20 or later with npm, and the
# npm packages pinned in tests/browser/package-lock.json (eventsource, ws, playwright-core).
setup_browser_tests() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        setup nodejs npm
    fi
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
        make -s -j"$(nproc)" "$BIN/pushpull-server" "$BIN/pushpull-client" \
            "$BIN/pushpull-link" "$BIN/pushpull-lab"
    fi
}

# The bench's extra packages: wrk for the polling loads, and nginx with nchan unless
# nchan is left out (--against none, or a --servers list without it). Installing them
# starts no nginx (setup's policy-rc.d), and the bench never uses the system's: it starts
# its own from a config in its results directory.
bench_debs() {
    local alone=0 prev=
    for a in "$@"; do
        case "$a" in --against=none) alone=1 ;; --servers=*) [[ $a == *nchan* ]] || alone=1 ;; esac
        case "$prev" in --against) [ "$a" = none ] && alone=1 ;; --servers) [[ $a == *nchan* ]] || alone=1 ;; esac
        prev=$a
    done
    echo wrk
    [ "$alone" = 1 ] || printf '%s\n' nginx libnginx-mod-nchan
}

cmd=${1:-main}
[ $# -gt 0 ] && shift
case "$cmd" in
    -h|--help|help) usage ;;
    setup) setup ;;
    build) setup; build ;;
    test)  mapfile -t debs < <(bench_debs); setup "${debs[@]}"; setup_browser_tests
           make -s -j"$(nproc)" test-build && make -s test ;;
    server) setup; build; exec "$BIN/pushpull-server" "$@" ;;
    bench) if [ "${1:-}" = redis ]; then setup; build; shift; exec tests/bench/redis_hop.sh "$@"; fi
           if [ "${1:-}" = scale ]; then setup jq; build; shift; exec tests/bench/scale_out.sh "$@"; fi
           mapfile -t debs < <(bench_debs "$@"); setup "${debs[@]}"; build
           exec bin/pushpull-bench "$@" ;;
    run) setup; build; exec "$BIN/pushpull-lab" run "$@" ;;
    demo) setup; build; exec "$BIN/pushpull-lab" demo "$@" ;;
    plot) setup; build; [ $# -eq 1 ] || die "plot: expected one results directory"
          exec "$BIN/pushpull-lab" plot "$@" ;;
    report) setup; build; [ $# -eq 1 ] || die "report: expected one results directory"
          exec "$BIN/pushpull-lab" report "$@" ;;
    clean) make -s clean ;;
    main)  setup; build; exec "$BIN/pushpull-lab" run --quick scenarios/*.json ;;
    *) echo "run.sh: unknown command '$cmd' (expected one of: run plot report demo test bench server setup build clean --help)" >&2
       exit 2 ;;
esac
