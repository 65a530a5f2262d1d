#!/usr/bin/env bash
# CI smoke of the benchmark suite: every loadgen workload of issue 8 runs for a couple of
# seconds against our relay (and one against the ceiling binary), with no npm and no peers.
# Fails if a workload fails, reports an error, loses a delivery or a connection, or
# measures nothing. Figures from here are not benchmarks (see scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# A smoke checks that every workload runs without errors or losses, not how fast: the dev
# profile reuses what `cargo test` already compiled (a release build would add minutes to
# CI). BENCH_SMOKE_PROFILE=release for the real thing.
PROFILE="${BENCH_SMOKE_PROFILE:-debug}"
if [[ $PROFILE == release ]]; then
    cargo build --release --locked -p relay -p loadgen
else
    cargo build --locked -p relay -p loadgen
fi
BIN="target/$PROFILE"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
FAILED=0

# smoke NAME ARGS... : runs loadgen and checks its JSON report.
smoke() {
    local name=$1; shift
    local json="$OUT/$name.json"
    local began=$SECONDS
    if ! timeout 60 "$BIN/loadgen" --relay-bin "$BIN/relay" --json "$json" "$@" > "$OUT/$name.txt" 2> "$OUT/$name.err"; then
        echo "FAIL $name: loadgen failed"; cat "$OUT/$name.err"; FAILED=1; return
    fi
    # figures are "name":{"unit":"…","value":N}; every error or loss must be 0
    local bad
    bad=$(grep -oE '"[^"]*(errors|lost)[^"]*":\{"unit":"[^"]*","value":[^}]*\}' "$json" | grep -vE '"value":0(\.0)?\}' || true)
    if [[ -n "$bad" ]]; then
        echo "FAIL $name: $bad"; cat "$OUT/$name.err"; FAILED=1; return
    fi
    if grep -qE '"latency samples":\{"unit":"","value":0(\.0)?\}' "$json"; then
        echo "FAIL $name: no latency was measured"; FAILED=1; return
    fi
    echo "ok   $name ($((SECONDS - began)) s)"
}

smoke fan-out fan-out --observers 20 --rate 20 --duration-secs 2 --warmup-secs 1
smoke fan-out-ceiling fan-out --target ceiling --ceiling-bin "$BIN/ceiling" --observers 20 --rate 20 --duration-secs 2 --warmup-secs 1
smoke many-writers many-writers --writers 10 --rate 5 --duration-secs 2 --warmup-secs 1
smoke presence presence --clients 20 --rate 2 --duration-secs 2 --warmup-secs 1
smoke idle idle --connections 100 --rooms 20 --hold-secs 1
smoke sustained shape --shape sustained --rooms 2 --writers 2 --observers 3 --duration-secs 2 --warmup-secs 1
smoke stress shape --shape stress --rooms 2 --writers 2 --observers 3 --step-secs 1 --max-steps 2 --warmup-secs 1
smoke spike shape --shape spike --rooms 2 --writers 2 --observers 3 --duration-secs 1 --spike-secs 1 --warmup-secs 1
smoke endurance shape --shape endurance --rooms 2 --writers 2 --observers 3 --duration-secs 2 --sample-secs 1 --warmup-secs 1
# Rooms over a real Redis Cluster (3 masters, no replicas) on 2 relays, ~10 s; needs
# redis-server and redis-cli (scripts/cluster-test.sh, which runs before this, installs them).
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    smoke cluster-scale cluster-scale --redis-server "$(command -v redis-server)" --rooms 3 --writers 1 --observers 2 \
        --relays 2 --replicas 0 --duration-secs 2 --settle-secs 1 --idle-secs 1 --drain-secs 5
else
    echo "skip cluster-scale: no redis-server (scripts/cluster-test.sh installs it)"
fi

if [[ $FAILED != 0 ]]; then
    echo "bench smoke FAILED"
    exit 1
fi
echo "bench smoke passed"
