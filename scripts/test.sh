#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests need, then
# runs the Rust unit and integration tests, builds the wasm client, and runs the interop
# tests against stock Yjs clients from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Rust unit and integration tests (shared, relay, tests)"
cargo test --locked

step "Browser client (wasm32 build)"
scripts/build-client.sh

step "Interop with stock Yjs clients (yjs + y-websocket from npm)"
scripts/interop.sh
scripts/browser-test.sh

step "All tests passed"
