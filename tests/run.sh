#!/usr/bin/env bash
# tests/run.sh: run every test binary given (each line says how long it took), count TAP
# results, print "N passed, N failed".
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
for bin in "$@"; do
    name=$(basename "$bin")
    log=$(mktemp)
    start=$SECONDS
    timeout --kill-after=5 "$limit" "$bin" >"$log" 2>&1
    rc=$?
    took=$((SECONDS - start))
    plan=$(grep -m1 -E '^1\.\.[0-9]+' "$log" | cut -d. -f3)
    ok=$(grep -cE '^ok [0-9]+' "$log")
    bad=$(grep -cE '^not ok [0-9]+' "$log")
    missing=0
    [ -n "$plan" ] && [ $((ok + bad)) -lt "$plan" ] && missing=$((plan - ok - bad))
    extra=0
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
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
