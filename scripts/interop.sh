#!/usr/bin/env bash
# Interop tests: real stock Yjs clients (npm yjs + y-websocket, pinned in
# tests/interop/package-lock.json), a raw `ws` client and a Python pycrdt client (PyPI
# pycrdt + websockets, pinned in tests/interop/python/requirements.txt) against the real relay
# binary, and room tokens minted by JWT libraries nobody here wrote (npm jose; Python PyJWT,
# pinned in tests/interop/requirements.txt). Both Python sets go into the venv
# tests/interop/.venv.
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

step "Installing pycrdt and PyJWT from PyPI (tests/interop/.venv)"
command -v python3 >/dev/null || { echo "interop: python3 is required (>= 3.9)" >&2; exit 1; }
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import pycrdt, websockets, jwt' 2>/dev/null; then
    rm -rf .venv
    if ! python3 -m venv .venv 2>/dev/null; then
        # Debian keeps venv (ensurepip) in a package of its own.
        rm -rf .venv
        sudo=()
        [ "$(id -u)" -ne 0 ] && sudo=(sudo)
        py="$(python3 -c 'import sys; print(f"python{sys.version_info.major}.{sys.version_info.minor}")')"
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get install -y "$py-venv" || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "$py-venv"; }
        python3 -m venv .venv
    fi
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r python/requirements.txt -r requirements.txt
PYCRDT_PYTHON="$PWD/.venv/bin/python"
INTEROP_PYTHON="$PWD/.venv/bin/python"
export PYCRDT_PYTHON INTEROP_PYTHON

step "Running interop tests (node --test)"
# Spec output ends with "ℹ tests N / ℹ pass N / ℹ fail N". The per-test timeouts are
# inside the files; --test-timeout is a last bound per file.
node --test --test-reporter=spec --test-timeout=300000 "$@" ./*.test.js
