#!/usr/bin/env bash
# Builds the browser client and the relay, then serves the editor on
# http://127.0.0.1:8080 with rooms stored under ./data. Extra arguments go to the relay
# (see `relay --help`), e.g. scripts/run.sh --listen 127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-client.sh
cargo build --release --locked -p relay
# Defaults through the environment, so any flag given here still wins.
export RELAY_STATIC_DIR="${RELAY_STATIC_DIR:-dist}"
export RELAY_DATA_DIR="${RELAY_DATA_DIR:-./data}"
exec target/release/relay "$@"
