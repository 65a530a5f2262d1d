#!/usr/bin/env bash
# The editor's benchmarks (issues 3, 14 and 20): navigation to the first render of a 1,000-node
# scene (fresh browsers and reloads), and a 5,000-node scene in headless Chromium — time from
# navigation to the first render showing the whole synced scene, frame times while another
# client edits a node 30 times a second; the adaptive resolution while a client edits a few
# times a second — and the compressed size of what the browser loads
# (wasm + JS: the Brotli and gzip copies the build writes, which the relay sends). Uses a release relay. Prints the figures; BENCHMARKS.md quotes a run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Release relay and the browser client"
cargo build --release --locked -p relay
scripts/build-client.sh

step "Compressed size of what the browser downloads"
for file in dist/client_bg.*.wasm dist/client.*.js; do
    printf '%-40s %8d bytes, %8d gzipped (-9), %8d Brotli (-q 11)\n' "$file" "$(wc -c <"$file")" \
        "$(wc -c <"$file.gz")" "$(wc -c <"$file.br")"
done

step "5,000 nodes in headless Chromium"
BROWSER_TEST_LIMIT_SECS=600 RELAY_BIN="$PWD/target/release/relay" scripts/browser-test.sh bench_editor_5000_nodes --ignored --nocapture

step "Navigation to the first render of 1,000 nodes (fresh browsers, then a reload each)"
BROWSER_TEST_LIMIT_SECS=600 RELAY_BIN="$PWD/target/release/relay" scripts/browser-test.sh bench_first_render_1000_nodes --ignored --nocapture

step "Adaptive resolution while another client edits a few times a second"
BROWSER_TEST_LIMIT_SECS=600 RELAY_BIN="$PWD/target/release/relay" scripts/browser-test.sh bench_render_scale_while_a_peer_edits --ignored --nocapture
