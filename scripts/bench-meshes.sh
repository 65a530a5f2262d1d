#!/usr/bin/env bash
# The triangle-mesh benchmark (issue 15): a 102,400-triangle model made by Python's trimesh,
# imported natively (time, peak memory, its weight in the document, decoding, hierarchy, rays:
# loadgen's mesh_import) and in headless Chromium (import through the page, a second browser's
# join to the first frame drawing it, a native client's sync, 100 nodes sharing the mesh while
# orbiting). Uses the release client and relay. Prints two JSON lines; BENCHMARKS.md quotes a run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "The model (Python trimesh)"
python3 -c "import trimesh" 2>/dev/null || pip install --quiet trimesh==5.2.0 numpy==2.4.6
mkdir -p target/bench
(cd tests/fixtures/meshes && python3 make_fixtures.py big "$PWD/../../../target/bench/big_model.glb")

step "Native import (loadgen mesh_import, release)"
cargo build --release --locked -p loadgen --bin mesh_import
target/release/mesh_import target/bench/big_model.glb

step "In headless Chromium"
cargo build --release --locked -p relay
scripts/build-client.sh
BROWSER_TEST_LIMIT_SECS=600 MESH_BENCH_MODEL="$PWD/target/bench/big_model.glb" RELAY_BIN="$PWD/target/release/relay" \
    scripts/browser-test.sh bench_meshes_100k_triangles --ignored --nocapture
