#!/usr/bin/env bash
# The editor's benchmark (issue 3): a 5,000-node scene in headless Chromium — time from
# navigation to the first render showing the whole synced scene, frame times while another
# client edits a node 30 times a second — and the gzipped size of what the browser loads
# (wasm + JS). Uses a release relay. Prints the figures; BENCHMARKS.md quotes a run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Release relay and the browser client"
cargo build --release --locked -p relay
scripts/build-client.sh

step "Gzipped size of what the browser downloads"
for file in dist/client_bg.wasm dist/client.js; do
    printf '%-24s %8d bytes, %8d gzipped (-9)\n' "$file" "$(wc -c <"$file")" "$(gzip -9 -c "$file" | wc -c)"
done

step "5,000 nodes in headless Chromium"
BROWSER_TEST_LIMIT_SECS=600 RELAY_BIN="$PWD/target/release/relay" scripts/browser-test.sh bench_editor_5000_nodes --ignored --nocapture
