#!/usr/bin/env bash
# fuzz_check.sh: TAP tests for tests/run.sh: every libFuzzer harness (tests/fuzz_NAME.c,
# built by `make fuzz` into build/fuzz/) runs for FUZZ_SECONDS seconds (default 25; the
# harnesses after the first two, a fifth of it) from
# its seeds (tests/fuzz/NAME/) with its dictionary (tests/fuzz/NAME.dict), into a scratch
# corpus that is removed afterwards, so the repository's seeds never change. A crash, a
# sanitizer report, a timeout or a broken promise (the harness calls abort) fails that
# harness's test, with the fuzzer's last lines and the input that did it, in hex.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${FUZZ_SECONDS:-25}
harnesses=(tests/fuzz_*.c)
echo "1..${#harnesses[@]}"
n=0
failed=0
for src in "${harnesses[@]}"; do
    n=$((n + 1))
    name=$(basename "$src" .c)
    name=${name#fuzz_}
    bin=build/fuzz/fuzz_$name
    if [ ! -x "$bin" ]; then
        echo "not ok $n - fuzz_$name: $bin is not built (make fuzz)"
        failed=1
        continue
    fi
    work=$(mktemp -d)
    mkdir "$work/corpus"
    # the two parsers issue 10 named get their 25 s; the later harnesses 5 s each, so
    # that seven fuzzers keep ./run.sh test well under its 15 minutes
    t=$secs
    case $name in sse_parser | scenario) ;; *) t=$(((secs + 4) / 5)) ;; esac
    args=(-max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
    # The server's harness runs the daemon's threads in-process: libFuzzer's per-input
    # leak check would see their allocations in flight, so it is off (ASan stays on).
    [ "$name" = server ] && args+=(-detect_leaks=0 -max_len=4096)
    seeds=()
    [ -d "tests/fuzz/$name" ] && seeds=("tests/fuzz/$name")
    if "$bin" "${args[@]}" "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs' "$work/log" | tail -n 1)
        echo "ok $n - fuzz_$name: ${runs:-done} in ${t} s, nothing broke"
    else
        echo "not ok $n - fuzz_$name failed:"
        tail -n 30 "$work/log" | sed 's/^/#   /'
        for a in "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-*; do
            [ -f "$a" ] || continue
            echo "#   input $(basename "$a") (hex):"
            od -An -tx1 -v "$a" | head -n 40 | sed 's/^/#  /'
        done
        failed=1
    fi
    rm -rf "$work"
done
exit "$failed"
