#!/usr/bin/env bash
# Browser tests: real headless Chromium sessions, driven through chromedriver, load the built
# client from the real relay binary and edit scenes together (tests/tests/browser.rs).
#
#   scripts/browser-test.sh                 install what is missing, build the client, run them
#   scripts/browser-test.sh two_browsers    extra arguments go to the test binary (a filter, …)
#
# Installs Debian's chromium and chromium-driver when chromedriver is missing (needs root, or
# sudo), builds the client into dist/ unless dist/ is newer than everything it is built from,
# then runs `cargo test -p tests --features browser --test browser`. The tests start
# chromedriver and the relay themselves on free loopback ports and stop them when they end.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Browser tests (headless Chromium via chromedriver)"

if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ]; then
    step "Installing chromium and chromium-driver (Debian packages)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "browser-test: need root (or sudo) to install chromium" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y chromium chromium-driver
fi
/usr/bin/chromium --version
/usr/bin/chromedriver --version

# The client is built from client/, shared/ and public/ (plus the lock file and manifests).
if [ -f dist/index.html ] && compgen -G "dist/client_bg.*.wasm" >/dev/null &&
    [ -z "$(find client worker shared public Cargo.toml Cargo.lock scripts/build-client.sh \
        -newer dist/index.html -print -quit)" ]; then
    step "Browser client in dist/ is up to date"
else
    step "Building the browser client into dist/"
    scripts/build-client.sh
fi

if [ ! -d tests/interop/node_modules ]; then
    step "Installing stock Yjs clients from npm (tests/interop), for the stock-client browser test"
    (cd tests/interop && npm ci --no-audit --no-fund)
fi

# Screenshots of the editor (two users' cursors among them) land in target/editor-screenshots/.
export EDITOR_SCREENSHOTS="${EDITOR_SCREENSHOTS:-1}"

step "cargo test -p tests --features browser --test browser"
# Each test has its own limit (TEST_LIMIT); this bounds the whole run, build included, so
# a run that wedges anyway fails in minutes instead of holding CI until its own limit.
timeout --kill-after=30 "${BROWSER_TEST_LIMIT:-1200}" \
    cargo test --locked -p tests --features browser --test browser -- "$@"
