#!/usr/bin/env bash
# format_check.sh: one TAP test for tests/run.sh: every C file is formatted as the
# repository's .clang-format says (`make format` fixes it). A drifted file fails the test
# run, and the files are named.
set -u
cd "$(dirname "$0")/.." || exit 2
echo "1..1"
bad=$(make -s format-list | xargs clang-format --dry-run -Werror 2>&1 | grep -o '^[^:]*\.[ch]' | sort -u)
if [ -z "$bad" ]; then
    echo "ok 1 - every C file matches .clang-format"
else
    echo "not ok 1 - files that differ from .clang-format (make format fixes them):"
    printf '#   %s\n' $bad
    exit 1
fi
