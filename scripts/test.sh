#!/usr/bin/env bash
# Runs every test of the project on a fresh machine. Each step installs what it needs:
# the check that no two files import each other in a circle (python3), the Rust tests
# (including the fuzz-corpus replay and the crash tests with the real binary), the wasm
# client build (wasm32 target, pinned wasm-bindgen-cli, npm binaryen) and
# its wasm-bindgen tests in headless Chromium,
# the interop tests against stock Yjs clients from npm and pycrdt from PyPI, the browser tests
# in headless Chromium (Debian chromium + chromium-driver), the operations files with promtool
# and systemd-analyze (Debian prometheus + systemd), the scale-out, reverse-proxy and
# monitoring tests (Debian redis-server + nginx + caddy + prometheus), a short bounded fuzz of
# the protocol decoder (cargo-fuzz), the benchmark smoke and a two-minute soak (loadgen).
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot build gains nothing from incremental compilation and its caches doubled the
# size of the target directory.
export CARGO_INCREMENTAL=0

step() {
    printf '\n==> [%s] %s (disk free: %s)\n' "$(date +%T)" "$*" \
        "$(df -h --output=avail . 2>/dev/null | tail -1 | tr -d ' ')"
}

step "No circular imports among the files of relay/src, client/src and worker/src"
if ! command -v python3 >/dev/null; then
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y python3 || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y python3; }
fi
python3 scripts/check-cycles.py relay/src client/src worker/src

step "Rust unit and integration tests (shared, relay, tests, loadgen)"
cargo test --locked

step "Operations files: alerting rules and their tests (promtool), systemd units, the backup unit"
scripts/ops-check.sh

step "Soak, started in the background: two minutes of editing with the relay's timers shortened, silent observers included (checked at the end)"
# It runs beside the client's wasm build and tests (their own target directory), which
# load both cores: a harsher soak than on a quiet machine, and ~2 minutes off the run.
soak_log="$(mktemp)"
setsid scripts/soak.sh > "$soak_log" 2>&1 &
soak_pid=$!
trap 'kill -- "-$soak_pid" 2>/dev/null || true; rm -f "$soak_log"' EXIT

step "Browser client (wasm32 build)"
scripts/build-client.sh

step "Client logic in headless Chromium (wasm-bindgen-test)"
scripts/wasm-test.sh

step "Interop with stock Yjs clients (yjs + y-websocket from npm)"
scripts/interop.sh

step "Browser tests (headless Chromium)"
scripts/browser-test.sh

step "Scale-out through Redis, hosting behind nginx and Caddy, live metrics through promtool"
scripts/cluster-test.sh

step "Short bounded fuzz of the protocol decoder"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}" frame_decoding

step "Benchmark smoke: every loadgen workload for a few seconds against the relay"
scripts/bench-smoke.sh

step "Soak: its result"
if wait "$soak_pid"; then
    cat "$soak_log"
else
    cat "$soak_log"
    echo "the soak failed" >&2
    exit 1
fi

step "All tests passed"
