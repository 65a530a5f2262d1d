#!/usr/bin/env bash
# Builds the browser client into dist/: compiles client/ (the editor) and worker/ (the tools
# worker's module: jobs and file conversions, loaded only when someone runs a job or opens a
# file) to wasm32 with the wasm-release profile, generates the JavaScript glue of each with
# wasm-bindgen (--target web), shrinks each wasm with wasm-opt -Oz, copies the hand-written
# files from public/, names the wasm files, their glue and the styles after their content
# (NAME.HASH.EXT), and writes a Brotli and a gzip copy beside each file. The relay serves dist/ with --static-dir dist: hashed files cached for good, the
# rest revalidated (relay/src/http/client_files.rs).
#
# Installs Debian's brotli when the brotli command is missing (needs root, or sudo).
#
#   CLIENT_PROFILE=dev scripts/build-client.sh   a fast unoptimised build for iterating (no
#                                                wasm-opt; several MB; never shipped or measured)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-wasm-tools.sh
# The Brotli copies (below) need the brotli command.
if ! command -v brotli >/dev/null; then
    echo "==> installing brotli (Debian package)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "build-client: need root (or sudo) to install brotli" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y brotli
fi

# A target directory of its own, so this build never waits on (or invalidates) native builds.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/wasm"
out="${CLIENT_OUT:-dist}" # CLIENT_OUT=DIR builds elsewhere (tests read it with CLIENT_DIST=DIR)

profile="${CLIENT_PROFILE:-wasm-release}"
profile_dir="$profile"
[ "$profile" = dev ] && profile_dir=debug

echo "==> cargo build (wasm32-unknown-unknown, $profile)"
CARGO_TARGET_DIR="$target_dir" cargo build --locked -p client -p worker \
    --target wasm32-unknown-unknown --profile "$profile"

echo "==> wasm-bindgen"
rm -rf "$out"
mkdir -p "$out"
# The editor's module is client_bg.wasm (glue client.js); the tools worker's is
# scene_tools_bg.wasm (glue scene_tools.js, imported by public/worker.js).
tools/bin/wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name client \
    "$target_dir/wasm32-unknown-unknown/$profile_dir/client.wasm"
tools/bin/wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name scene_tools \
    "$target_dir/wasm32-unknown-unknown/$profile_dir/worker.wasm"

if [ "$profile" = wasm-release ]; then
    echo "==> wasm-opt -Oz"
    # wasm-bindgen's output uses these post-MVP features; telling wasm-opt keeps it from refusing
    # or lowering them.
    for module in client_bg scene_tools_bg; do
        tools/bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
            --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
            "$out/$module.wasm" -o "$out/$module.wasm.opt"
        mv "$out/$module.wasm.opt" "$out/$module.wasm"
    done
fi

cp -R public/. "$out/"

# Content-hashed names for what the page loads, so browsers may keep them for good: a deploy
# changes the names, and the page (index.html, always revalidated) names the new ones. HASH is
# 16 hex digits of the SHA-256, the form the relay recognises. The glue's own default wasm
# URL is rewritten before the glue is hashed, so its hash covers what it refers to.
hash16() { sha256sum "$1" | cut -c1-16; }
wasm="client_bg.$(hash16 "$out/client_bg.wasm").wasm"
mv "$out/client_bg.wasm" "$out/$wasm"
sed -i "s|'client_bg\.wasm'|'$wasm'|g" "$out/client.js"
js="client.$(hash16 "$out/client.js").js"
mv "$out/client.js" "$out/$js"
tools_wasm="scene_tools_bg.$(hash16 "$out/scene_tools_bg.wasm").wasm"
mv "$out/scene_tools_bg.wasm" "$out/$tools_wasm"
sed -i "s|'scene_tools_bg\.wasm'|'$tools_wasm'|g" "$out/scene_tools.js"
tools_js="scene_tools.$(hash16 "$out/scene_tools.js").js"
mv "$out/scene_tools.js" "$out/$tools_js"
css="style.$(hash16 "$out/style.css").css"
mv "$out/style.css" "$out/$css"
# The page and the tools worker (whose own name client/src/tools_worker.rs fixes) refer to them.
sed -i -e "s|\./client\.js'|./$js'|g" -e "s|\./client\.js\"|./$js\"|g" \
    -e "s|\./client_bg\.wasm'|./$wasm'|g" -e "s|\./client_bg\.wasm\"|./$wasm\"|g" \
    -e "s|\./scene_tools\.js'|./$tools_js'|g" -e "s|\./scene_tools_bg\.wasm'|./$tools_wasm'|g" \
    -e "s|\./style\.css\"|./$css\"|g" "$out/index.html" "$out/worker.js"
for name in client.js client_bg.wasm scene_tools.js scene_tools_bg.wasm style.css; do
    if grep -qF "./$name" "$out/index.html" "$out/worker.js"; then
        echo "build-client: $name is still named in index.html or worker.js" >&2
        exit 1
    fi
done

# The service worker caches the app shell: every file of dist/, under a version that changes
# with their content (so a deploy replaces the cache).
shell=$(cd "$out" && find . -type f ! -name sw.js | sort | sed "s|^\./\(.*\)|'./\1'|" | paste -sd, -)
version=$(cd "$out" && find . -type f ! -name sw.js | sort | xargs cat | sha256sum | cut -c1-16)
sed -i -e "s|^const VERSION = .*|const VERSION = '$version';|" \
    -e "s|^const SHELL = .*|const SHELL = ['./', $shell];|" "$out/sw.js"

# A Brotli (highest quality) and a gzip copy beside each file the browser loads, which the
# relay serves to browsers that accept them (after the service worker's list above, which
# names the originals only).
find "$out" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.html' -o -name '*.css' -o -name '*.svg' -o -name '*.json' \) \
    -exec gzip -9 -k -f {} \; -exec brotli -q 11 -k -f {} \;

size() { printf '%d KiB' $(( ($(wc -c < "$1") + 1023) / 1024 )); }
for module in "$wasm" "$tools_wasm"; do
    printf '==> %s/%s: %s, %s gzipped, %s Brotli\n' "$out" "$module" \
        "$(size "$out/$module")" "$(size "$out/$module.gz")" "$(size "$out/$module.br")"
done
