#!/usr/bin/env bash
# Interop tests: real stock Yjs clients (npm yjs + y-websocket, pinned in
# tests/interop/package-lock.json) and a raw `ws` client against the real relay binary.
#
#   scripts/interop.sh                      build the relay, install the npm deps, run every test
#   RELAY_BIN=path/to/relay scripts/interop.sh   test that binary instead (no cargo build)
#   INTEROP_VERBOSE=1 ...                   also print the relay's log
#   scripts/interop.sh --test-name-pattern=awareness   extra arguments go to `node --test`
#
# The tests start the relay themselves on a free loopback port with a temp data dir and
# kill it when they end. Exits non-zero if any test fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "interop: $tool is required (node >= 20)" >&2; exit 1; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
    echo "interop: node >= 20 is required (found $(node --version))" >&2
    exit 1
fi

if [ -n "${RELAY_BIN:-}" ]; then
    RELAY_BIN="$(cd "$(dirname "$RELAY_BIN")" && pwd)/$(basename "$RELAY_BIN")"
    step "Using relay binary $RELAY_BIN"
else
    step "Building the relay (cargo build -p relay)"
    cargo build --locked -p relay
    RELAY_BIN="$root/target/debug/relay"
fi
export RELAY_BIN

cd tests/interop
step "Installing stock Yjs clients from npm (tests/interop)"
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi

step "Running interop tests (node --test)"
# Spec output ends with "ℹ tests N / ℹ pass N / ℹ fail N". The per-test timeouts are
# inside the files; --test-timeout is a last bound per file.
node --test --test-reporter=spec --test-timeout=300000 "$@" ./*.test.js
