#!/usr/bin/env bash
# Builds the browser client into dist/: compiles client/ to wasm32 with the wasm-release
# profile, generates the JavaScript glue with wasm-bindgen (--target web), shrinks the wasm
# with wasm-opt -Oz, and copies the hand-written files from public/. The relay serves dist/
# with --static-dir dist.
#
#   CLIENT_PROFILE=dev scripts/build-client.sh   a fast unoptimised build for iterating (no
#                                                wasm-opt; several MB; never shipped or measured)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-wasm-tools.sh

# A target directory of its own, so this build never waits on (or invalidates) native builds.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/wasm"
out="${CLIENT_OUT:-dist}" # CLIENT_OUT=DIR builds elsewhere (tests read it with CLIENT_DIST=DIR)

profile="${CLIENT_PROFILE:-wasm-release}"
profile_dir="$profile"
[ "$profile" = dev ] && profile_dir=debug

echo "==> cargo build (wasm32-unknown-unknown, $profile)"
CARGO_TARGET_DIR="$target_dir" cargo build --locked -p client \
    --target wasm32-unknown-unknown --profile "$profile"

echo "==> wasm-bindgen"
rm -rf "$out"
mkdir -p "$out"
tools/bin/wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name client \
    "$target_dir/wasm32-unknown-unknown/$profile_dir/client.wasm"

if [ "$profile" = wasm-release ]; then
    echo "==> wasm-opt -Oz"
    # wasm-bindgen's output uses these post-MVP features; telling wasm-opt keeps it from refusing
    # or lowering them.
    tools/bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
        --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$out/client_bg.wasm" -o "$out/client_bg.wasm.opt"
    mv "$out/client_bg.wasm.opt" "$out/client_bg.wasm"
fi

cp -R public/. "$out/"

# The service worker caches the app shell: every file of dist/, under a version that changes
# with their content (so a deploy replaces the cache).
shell=$(cd "$out" && find . -type f ! -name sw.js | sort | sed "s|^\./\(.*\)|'./\1'|" | paste -sd, -)
version=$(cd "$out" && find . -type f ! -name sw.js | sort | xargs cat | sha256sum | cut -c1-16)
sed -i -e "s|^const VERSION = .*|const VERSION = '$version';|" \
    -e "s|^const SHELL = .*|const SHELL = ['./', $shell];|" "$out/sw.js"

# A gzip copy beside each file the browser loads, which the relay serves to browsers that
# accept gzip (after the service worker's list above, which names the originals only).
find "$out" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.html' -o -name '*.css' -o -name '*.svg' -o -name '*.json' \) \
    -exec gzip -9 -k -f {} \;

raw=$(wc -c < "$out/client_bg.wasm")
gz=$(gzip -9 -c "$out/client_bg.wasm" | wc -c)
printf '==> %s/client_bg.wasm: %d KiB, %d KiB gzipped\n' "$out" $(( (raw + 1023) / 1024 )) $(( (gz + 1023) / 1024 ))
