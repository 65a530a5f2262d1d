#!/usr/bin/env bash
# The client's wasm-bindgen tests: client logic that needs a browser (animation frames, the
# canvas, web-sys) compiled for wasm32 and run in headless Chromium by wasm-bindgen-test-runner
# (installed with wasm-bindgen-cli by scripts/install-wasm-tools.sh), through chromedriver.
#
#   scripts/wasm-test.sh            install what is missing, build the tests, run them
#   scripts/wasm-test.sh live       extra arguments go to the test runner (a filter, …)
#
# Reuses the wasm target directory of scripts/build-client.sh, so only the client's own test
# build is new work after a client build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-wasm-tools.sh

if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ]; then
    echo "==> Installing chromium and chromium-driver (Debian packages)"
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y chromium chromium-driver
fi

# The runner looks for chromedriver on PATH and starts Chromium headless through it; as root
# Chromium needs --no-sandbox (webdriver.json next to the crate's manifest is read for args).
export CHROMEDRIVER=/usr/bin/chromedriver
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$PWD/tools/bin/wasm-bindgen-test-runner"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-60}"

# Bounded as a whole (build included): a wedged browser fails the run instead of holding CI.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/wasm" timeout --kill-after=30 "${WASM_TEST_LIMIT:-900}" \
    cargo test --locked -p client --target wasm32-unknown-unknown -- "$@"
