#!/usr/bin/env bash
# Fuzzes the wire protocol and the room with libFuzzer (cargo-fuzz).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default: 60 seconds each of frame_decoding
#   scripts/fuzz.sh 3600 frame_decoding room_frames   the long run recorded in RELIABILITY.md
#
# Targets: frame_decoding (fuzz/protocol: decoding and validation of any frame) and
# room_frames (fuzz/relay: frame sequences through a real room). Inputs that find new
# coverage go to fuzz/*/corpus-new/ (merge the useful ones into corpus/ with
# `cargo fuzz cmin`); crashes land in fuzz/*/artifacts/. cargo-fuzz
# needs nightly features: RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(frame_decoding)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2
fi

export RUSTC_BOOTSTRAP=1
# try_reserve failures must behave as in production (an error, not an abort); memory that
# is actually touched is limited by -rss_limit_mb.
export ASAN_OPTIONS="allocator_may_return_null=1"

for target in "${targets[@]}"; do
    case "$target" in
        frame_decoding) dir=fuzz/protocol ;;
        room_frames) dir=fuzz/relay ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
    echo "==> fuzzing $target for ${seconds}s"
    log="$(mktemp)"
    # New inputs go to corpus-new/ (not committed); the committed corpus is only read.
    mkdir -p "$dir/corpus-new/$target"
    if ! cargo fuzz run -O --fuzz-dir "$dir" "$target" "$dir/corpus-new/$target" "$dir/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=32768 -timeout=10 >"$log" 2>&1; then
        grep -v '^ *at ' "$log" | tail -60 >&2
        echo "fuzzing $target failed; inputs that crash are in $dir/artifacts/$target" >&2
        exit 1
    fi
    grep -E '^Done [0-9]+ runs' "$log" | tail -1
    rm -f "$log"
done
