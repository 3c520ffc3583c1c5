#!/usr/bin/env bash
# tests/run.sh: run every test binary given (each line says how long it took), count TAP
# results, print "N passed, N failed". [--beside BIN]... first: BIN runs alongside.
#
# Each binary is a cmocka group run with CMOCKA_MESSAGE_OUTPUT=TAP. A binary that dies
# (sanitizer report, signal, time limit) before reporting all its planned tests has the
# missing ones counted as failed, and one more failure if it exited non-zero with no
# "not ok" line of its own, so a crash can never read as a pass.
set -u
cd "$(dirname "$0")/.." || exit 2

export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export PUSHPULL_SERVER=${PUSHPULL_SERVER:-build/asan/bin/pushpull-server}
export PUSHPULL_CLIENT=${PUSHPULL_CLIENT:-build/asan/bin/pushpull-client}
export PUSHPULL_LINK=${PUSHPULL_LINK:-build/asan/bin/pushpull-link}
limit=${TEST_TIME_LIMIT:-300}

passed=0
failed=0

# Count one binary's TAP lines and say how it went. Arguments: name, exit status,
# seconds, log file (removed).
report() {
    local name=$1 rc=$2 took=$3 log=$4 plan ok bad missing=0 extra=0
    plan=$(grep -m1 -E '^1\.\.[0-9]+' "$log" | cut -d. -f3)
    ok=$(grep -cE '^ok [0-9]+' "$log")
    bad=$(grep -cE '^not ok [0-9]+' "$log")
    [ -n "$plan" ] && [ $((ok + bad)) -lt "$plan" ] && missing=$((plan - ok - bad))
    [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && extra=1
    passed=$((passed + ok))
    failed=$((failed + bad + missing + extra))
    if [ $((bad + missing + extra)) -gt 0 ]; then
        echo "FAIL $name (exit $rc, ${took} s)"
        sed 's/^/    /' "$log"
    else
        echo "ok   $name ($ok tests, ${took} s)"
    fi
    rm -f "$log"
}

# --beside BIN starts BIN at once and lets it run on the other core while the rest run
# one after another; it is reported after them. For the fuzzers: each is one busy
# thread that needs no port, file or process of another test's.
beside=()
while [ "${1:-}" = --beside ]; do
    beside+=("$2")
    shift 2
done
bg_pids=()
bg_logs=()
bg_rcs=()
for bin in "${beside[@]}"; do
    log=$(mktemp)
    rcfile=$(mktemp)
    (
        s=$SECONDS
        timeout --kill-after=5 "$limit" "$bin" >"$log" 2>&1
        echo "$? $((SECONDS - s))" >"$rcfile"
    ) &
    bg_pids+=($!)
    bg_logs+=("$log")
    bg_rcs+=("$rcfile")
done

for bin in "$@"; do
    log=$(mktemp)
    start=$SECONDS
    timeout --kill-after=5 "$limit" "$bin" >"$log" 2>&1
    rc=$?
    report "$(basename "$bin")" "$rc" $((SECONDS - start)) "$log"
done
for i in "${!beside[@]}"; do
    wait "${bg_pids[$i]}"
    read -r rc took <"${bg_rcs[$i]}" || { rc=1; took=0; }
    rm -f "${bg_rcs[$i]}"
    report "$(basename "${beside[$i]}") (beside the others)" "${rc:-1}" "${took:-0}" \
        "${bg_logs[$i]}"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
