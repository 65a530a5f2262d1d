#!/usr/bin/env bash
# Installs what building the browser client needs, and does nothing for what is already there:
#   - the wasm32-unknown-unknown Rust target;
#   - wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock (the two
#     must match, or the generated JavaScript does not fit the wasm);
#   - wasm-opt from the npm package binaryen@132.0.0, into tools/node_modules (never the
#     distribution's binaryen, whose version varies from machine to machine).
# Afterwards tools/bin/wasm-bindgen, tools/bin/wasm-bindgen-test-runner and tools/bin/wasm-opt
# point at the right programs.
set -euo pipefail
cd "$(dirname "$0")/.."

BINARYEN_VERSION=132.0.0
TOOLS="$PWD/tools"
mkdir -p "$TOOLS/bin"

say() { printf '[wasm-tools] %s\n' "$*"; }

# 1. The Rust target.
if command -v rustup >/dev/null 2>&1; then
    targets=$(rustup target list --installed)
    if ! grep -qx wasm32-unknown-unknown <<<"$targets"; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
    say "error: no rustup, and this Rust toolchain has no wasm32-unknown-unknown target" >&2
    exit 1
fi

# 2. wasm-bindgen-cli, at the version Cargo.lock pins for the wasm-bindgen crate.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$want" ]; then
    say "error: no wasm-bindgen package in Cargo.lock" >&2
    exit 1
fi
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
version_of() { "$1" --version 2>/dev/null | awk '{ print $2 }'; }
found=""
for candidate in "$cargo_bin/wasm-bindgen" "$(command -v wasm-bindgen || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(version_of "$candidate")" = "$want" ]; then
        found="$candidate"
        break
    fi
done
if [ -z "$found" ]; then
    say "installing wasm-bindgen-cli $want (a few minutes on a fresh machine)"
    cargo install wasm-bindgen-cli --version "$want"
    found="$cargo_bin/wasm-bindgen"
    if [ "$(version_of "$found")" != "$want" ]; then
        say "error: $found is not version $want after installing" >&2
        exit 1
    fi
fi
ln -sfn "$found" "$TOOLS/bin/wasm-bindgen"
# Installed with it, at the same version: runs the client's wasm-bindgen tests (scripts/wasm-test.sh).
ln -sfn "$(dirname "$found")/wasm-bindgen-test-runner" "$TOOLS/bin/wasm-bindgen-test-runner"

# 3. wasm-opt from npm's binaryen.
installed=""
if [ -f "$TOOLS/node_modules/binaryen/package.json" ]; then
    installed=$(node -p "require('$TOOLS/node_modules/binaryen/package.json').version")
fi
if [ "$installed" != "$BINARYEN_VERSION" ]; then
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into tools/"
    npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact "binaryen@$BINARYEN_VERSION"
fi
ln -sfn "$TOOLS/node_modules/.bin/wasm-opt" "$TOOLS/bin/wasm-opt"

say "wasm-bindgen $("$TOOLS/bin/wasm-bindgen" --version | awk '{ print $2 }'), wasm-opt $("$TOOLS/bin/wasm-opt" --version | awk '{ print $3 }')"
