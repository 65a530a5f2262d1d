#!/usr/bin/env bash
# Runs every test of the project on a fresh machine. Each step installs what it needs:
# the check that no two files import each other in a circle (python3), the Rust tests
# (including the fuzz-corpus replay and the crash tests with the real binary), the wasm
# client build (wasm32 target, pinned wasm-bindgen-cli, npm binaryen) and
# its wasm-bindgen tests in headless Chromium,
# the interop tests against stock Yjs clients from npm, the browser tests in headless
# Chromium (Debian chromium + chromium-driver), the scale-out and reverse-proxy tests (Debian
# redis-server + nginx), and a short bounded fuzz of the protocol decoder (cargo-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot build gains nothing from incremental compilation and its caches doubled the
# size of the target directory.
export CARGO_INCREMENTAL=0

step() {
    printf '\n==> [%s] %s (disk free: %s)\n' "$(date +%T)" "$*" \
        "$(df -h --output=avail . 2>/dev/null | tail -1 | tr -d ' ')"
}

step "No circular imports among the files of relay/src and client/src"
if ! command -v python3 >/dev/null; then
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y python3 || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y python3; }
fi
python3 scripts/check-cycles.py relay/src client/src

step "Rust unit and integration tests (shared, relay, tests, loadgen)"
cargo test --locked

step "Browser client (wasm32 build)"
scripts/build-client.sh

step "Client logic in headless Chromium (wasm-bindgen-test)"
scripts/wasm-test.sh

step "Interop with stock Yjs clients (yjs + y-websocket from npm)"
scripts/interop.sh

step "Browser tests (headless Chromium)"
scripts/browser-test.sh

step "Scale-out through Redis, hosting behind nginx (redis-server + nginx)"
scripts/cluster-test.sh

step "Short bounded fuzz of the protocol decoder"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}" frame_decoding

step "Benchmark smoke: every loadgen workload for a few seconds against the relay"
scripts/bench-smoke.sh

step "All tests passed"
