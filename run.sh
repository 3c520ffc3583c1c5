#!/usr/bin/env bash
# run.sh: the one entry point of pushpull. Every subcommand installs what it needs first,
# so each works as the first command on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")"

DEBS=(libmicrohttpd-dev libcjson-dev libcurl4-openssl-dev libcmocka-dev gnuplot-nox
      pkg-config build-essential)

usage() {
    cat <<'USAGE'
usage: ./run.sh [COMMAND] [ARGS]

  (none)           set up, build, and run the default suite (see README)
  setup            install missing Debian packages (apt-get as root; else print the command)
  build            build bin/pushpull-server and the clients
  test             set up, build with ASan+UBSan, run every test; ends "N passed, N failed"
  server [FLAGS]   build and run the server in the foreground (bin/pushpull-server --help)
  bench [FLAGS]    server fan-out benchmark: idle SSE streams and long polls, one publish
  clean            remove build outputs
  -h, --help       this text
USAGE
}

# Install missing Debian packages: apt-get when root, otherwise print the exact command
# and exit 2 (the caller decides whether to become root).
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

build() {
    make -s -j"$(nproc)" all
}

cmd=${1:-main}
[ $# -gt 0 ] && shift
case "$cmd" in
    -h|--help|help) usage ;;
    setup) setup ;;
    build) setup; build ;;
    test)  setup; make -s -j"$(nproc)" test-build && make -s test ;;
    server) setup; build; exec bin/pushpull-server "$@" ;;
    bench) setup; build; exec bin/pushpull-bench "$@" ;;
    clean) make -s clean ;;
    main)  setup; build
           echo "pushpull: the scenario suite is not built yet; try ./run.sh server --rate 2" >&2 ;;
    *) echo "run.sh: unknown command '$cmd' (expected one of: setup build test server bench clean --help)" >&2
       exit 2 ;;
esac
