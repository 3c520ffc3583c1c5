#!/usr/bin/env bash
# redis_hop.sh: what the broker's hop costs: publish to receipt through Redis against the
# single-process feed, at the same load, with Redis's CPU and memory.
#
# Three setups, one after the other, each measured by bin/pushpull-client (SSE users, the
# latency being each update's receipt minus its publish stamp):
#   single   one pushpull-server publishing and serving (the feed in its memory)
#   redis-1  one pushpull-server --redis: its publishes go to Redis and come back through
#            its follower (XREAD) before its users get them
#   redis-2  two instances on one Redis: the first publishes and serves nobody, the users
#            are on the second, so every update crosses instance -> Redis -> instance
# For each: the client's latency percentiles and updates received, the server processes'
# CPU over the client's run, Redis's CPU over the same time, its used_memory and RSS at
# the end, and the stream's length; then the instances' own view of the hop (/stats).
#
# Redis is started here, on a free loopback port, with a config written into a temporary
# directory (no persistence, never the system's), and stopped by pid at the end, also
# after a failure or Ctrl-C, with every server instance. Needs bash, awk, sed and
# redis-cli (Debian's redis-tools, which redis-server depends on).
#
#   tests/bench/redis_hop.sh [USERS [RATE_HZ [SECONDS]]]     (default 2000 10 20)
#   KEEP=1 tests/bench/redis_hop.sh ...   keeps the directory (every program's output)
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS=${1:-2000}
RATE=${2:-10}
SECS=${3:-20}
BIN=${PUSHPULL_BIN:-bin}
REDIS_SERVER=${PUSHPULL_REDIS_SERVER:-/usr/bin/redis-server}

DIR=$(mktemp -d /tmp/pushpull-redis-hop-XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port nobody answers on now (redis-server must be told its port). Another
# program may take it first: then redis-server exits, and the wait below says so.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "redis_hop.sh: no free loopback port found" >&2
    exit 1
}

# GET /stats of the server on port $1 (bash's /dev/tcp: no curl needed)
stats() {
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET /stats HTTP/1.0\r\nHost: x\r\n\r\n' >&3
    cat <&3
    exec 3<&-
}

# utime + stime of a process, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)

REDIS_PORT=$(free_port)
cat >"$DIR/redis.conf" <<EOF
# written by tests/bench/redis_hop.sh for one measurement; removed after it
bind 127.0.0.1
port $REDIS_PORT
daemonize no
save ""
appendonly no
dir $DIR
logfile $DIR/redis.log
EOF
"$REDIS_SERVER" "$DIR/redis.conf" &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    kill -0 "$REDIS_PID" 2>/dev/null || { echo "redis_hop.sh: redis-server exited (see $DIR/redis.log)" >&2; exit 1; }
    sleep 0.1
done

# start_server NAME ARGS...: its port into PORT, its pid into SERVER_PID and PIDS
start_server() {
    local name=$1
    shift
    "$BIN/pushpull-server" --port 0 --max-connections "$((USERS + 100))" "$@" \
        >"$DIR/$name.out" 2>"$DIR/$name.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 100); do
        if grep -q '^listening on' "$DIR/$name.out" 2>/dev/null; then break; fi
        sleep 0.05
    done
    PORT=$(sed -n 's/^listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$DIR/$name.out" | head -1)
    if [ -z "$PORT" ]; then
        echo "redis_hop.sh: $name did not start:" >&2
        cat "$DIR/$name.err" >&2
        exit 1
    fi
}

# measure SETUP CLIENT_PORT SERVER_PIDS...: runs the client, prints one row
measure() {
    local setup=$1 port=$2
    shift 2
    local before=0 after=0 r0 r1
    for pid in "$@"; do before=$((before + $(cpu_ticks "$pid"))); done
    r0=$(cpu_ticks "$REDIS_PID")
    "$BIN/pushpull-client" -s "http://127.0.0.1:$port" -a sse -c "$USERS" -d "${SECS}s" \
        -w 3s --drain 3s -o "$DIR/$setup" >"$DIR/$setup.txt"
    for pid in "$@"; do after=$((after + $(cpu_ticks "$pid"))); done
    r1=$(cpu_ticks "$REDIS_PID")
    local used rss xlen
    used=$(redis-cli -p "$REDIS_PORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$REDIS_PID/status")
    xlen=$(redis-cli -p "$REDIS_PORT" xlen "$setup:feed")
    # the client's summary lines: "updates  N published, R received of E, ..." and
    # "latency  mean M  p50 A  p90 B  p99 C  p99.9 D  max E ms"
    awk -v setup="$setup" -v srv=$((after - before)) -v red=$((r1 - r0)) -v ticks="$TICKS" \
        -v used="$used" -v rss="$rss" -v xlen="$xlen" '
        $1 == "updates" { got = $4 "/" $7; sub(/,$/, "", got) }
        $1 == "latency" { for (i = 2; i < NF; i += 2) lat[$i] = $(i + 1) }
        END {
            printf "%-8s %8s %8s %8s %8s  %-19s %9.2f %10.2f %13.0f %12s %5s\n", setup,
                lat["p50"], lat["p90"], lat["p99"], lat["max"], got, srv / ticks,
                red / ticks, used / 1024, rss, xlen
        }' "$DIR/$setup.txt"
}

echo "users $USERS (SSE), $RATE updates/s, ${SECS} s window after a 3 s warm-up;" \
    "load $(cut -d' ' -f1 /proc/loadavg)"
echo "setup      p50_ms   p90_ms   p99_ms   max_ms  received/expected   srv_cpu_s" \
    "redis_cpu_s redis_used_kB redis_rss_kB  xlen"

start_server single --rate "$RATE"
measure single "$PORT" "$SERVER_PID"
kill "$SERVER_PID"

start_server redis1 --rate "$RATE" --redis "127.0.0.1:$REDIS_PORT" --redis-key redis-1:feed
measure redis-1 "$PORT" "$SERVER_PID"
kill "$SERVER_PID"

start_server pub --rate "$RATE" --redis "127.0.0.1:$REDIS_PORT" --redis-key redis-2:feed
pub_pid=$SERVER_PID
pub_port=$PORT
start_server serve --rate 0 --redis "127.0.0.1:$REDIS_PORT" --redis-key redis-2:feed
measure redis-2 "$PORT" "$pub_pid" "$SERVER_PID"
echo "publishing instance: $(stats "$pub_port" |
    grep -o '"publish_rtt_us_mean":[0-9.]*,"publish_rtt_us_max":[0-9.]*,"own_wait_us_mean":[0-9.]*')"
echo "serving instance:    $(stats "$PORT" |
    grep -o '"lag_ms_last":[0-9.]*,"lag_ms_mean":[0-9.]*,"lag_ms_max":[0-9.]*')"
