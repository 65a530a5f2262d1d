#!/usr/bin/env bash
# CI soak: two minutes of steady editing against the relay with its timers shortened, so
# that what a day of running would meet happens many times over: pings every 2 s (a
# connection that answers none for two intervals is closed; 1 s cut off an observer of a
# debug build starved of CPU for 2 s on a busy machine), the room sweep every 500 ms,
# compaction whenever a room's oldest log entry is 5 s old, and journal segments of 64 KiB,
# so a segment is sealed and cleaned (live records copied forward) every ~15 s instead of
# every ~40 min (all under load, with the durable store). 4 rooms, each with 3 writers (5 updates/s each) and 10 silent observers: they
# never send after their handshake, only answer pings, as pycrdt listeners, dashboards and
# bots do (issue 21). Fails on any error (loadgen lists each with when, which client and
# the close code and reason) or any lost delivery, or if nothing was measured.
#
#   scripts/soak.sh                    debug build (what `cargo test` compiled), ~2 min
#   SOAK_SECS=600 scripts/soak.sh      longer
#   SOAK_PROFILE=release scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE="${SOAK_PROFILE:-debug}"
SECS="${SOAK_SECS:-120}"
if [[ $PROFILE == release ]]; then
    cargo build --release --locked -p relay -p loadgen
else
    cargo build --locked -p relay -p loadgen
fi
BIN="target/$PROFILE"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
json="$OUT/soak.json"

began=$SECONDS
# Bounded: the run, plus joining and draining, plus a minute of slack.
if ! timeout $((SECS + 90)) "$BIN/loadgen" --relay-bin "$BIN/relay" --json "$json" \
    shape --shape endurance --rooms 4 --writers 3 --observers 10 --rate 5 \
    --duration-secs "$SECS" --sample-secs 10 --warmup-secs 2 \
    --relay-arg=--ping-interval-secs=2 --relay-arg=--room-idle-secs=2 --relay-arg=--compact-log-age-secs=5 \
    --relay-arg=--journal-segment-bytes=65536 \
    > "$OUT/soak.txt" 2> "$OUT/soak.err"; then
    echo "soak FAILED: loadgen failed"
    cat "$OUT/soak.txt" "$OUT/soak.err"
    exit 1
fi
cat "$OUT/soak.txt" | sed -n '/^endurance/,/^{/p' | sed '$d'

# figures are "name":{"unit":"…","value":N}; every error or loss must be 0
bad=$(grep -oE '"[^"]*(errors|lost)[^"]*":\{"unit":"[^"]*","value":[^}]*\}' "$json" | grep -vE '"value":0(\.0)?\}' || true)
if [[ -n "$bad" ]]; then
    echo "soak FAILED: $bad"
    cat "$OUT/soak.err"
    exit 1
fi
if ! grep -qE '"latency samples":\{"unit":"","value":[1-9]' "$json"; then
    echo "soak FAILED: no latency was measured"
    exit 1
fi
echo "soak passed ($((SECONDS - began)) s)"
