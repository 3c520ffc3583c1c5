#!/usr/bin/env bash
# node_tests.sh: the real-client tests as one TAP-speaking program, for tests/run.sh.
# Runs every tests/browser/*.test.mjs with Node's test runner from the repository root;
# PUSHPULL_SERVER (default build/asan/bin/pushpull-server) names the server to test.
set -eu
cd "$(dirname "$0")/../.."
exec node --test --test-reporter=tap tests/browser/
