#!/usr/bin/env bash
# The editor's first download (issue 20): the bytes that go over the wire for each file a
# first visit loads, as the relay sends them to `Accept-Encoding: br`, to `gzip` and to
# Chromium's `gzip, deflate, br, zstd`, measured with curl against a relay serving the built
# client. Then, when Chromium is installed, a real first and second visit in headless Chromium
# (page, service worker and its install), counted from the relay's access log. BENCHMARKS.md,
# "First download (issue 20)", quotes a run.
#
#   scripts/bench-download.sh                   the client in dist/, target/release/relay
#   DIST=/tmp/dist-other scripts/bench-download.sh   another build (e.g. an older commit's)
#   RELAY_BIN=path/to/relay                     another relay binary
#
# Builds nothing: run scripts/build-client.sh and `cargo build --release -p relay` first.
set -euo pipefail
cd "$(dirname "$0")/.."

dist="${DIST:-dist}"
relay="${RELAY_BIN:-target/release/relay}"
port="${PORT:-18090}"
[ -f "$dist/index.html" ] || { echo "bench-download: no built client in $dist" >&2; exit 1; }
[ -x "$relay" ] || { echo "bench-download: no relay binary at $relay" >&2; exit 1; }

log=$(mktemp)
"$relay" --listen "127.0.0.1:$port" --static-dir "$dist" --store memory --log-format json 2>"$log" &
relay_pid=$!
trap 'kill "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done

# What a first visit loads: the page ("/", index.html), what it names, the service worker,
# and what the service worker's install caches (its SHELL list, which the build fills in).
files=$( { echo /; grep -o "'\./[^']*'" "$dist/sw.js" | tr -d "'" | sed 's|^\./|/|'; echo /sw.js; } |
    grep -vx -e / -e /index.html | sort -u)
files="/ $files"

bytes() { curl -s ${1:+-H "Accept-Encoding: $1"} -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port$2"; }
printf '%-44s %10s %10s %10s %10s\n' file identity gzip br chromium
total_id=0 total_gz=0 total_br=0 total_chromium=0
for file in $files; do
    id=$(bytes "" "$file") gz=$(bytes gzip "$file") br=$(bytes br "$file")
    chromium=$(bytes 'gzip, deflate, br, zstd' "$file")
    printf '%-44s %10d %10d %10d %10d\n' "$file" "$id" "$gz" "$br" "$chromium"
    total_id=$((total_id + id)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
    total_chromium=$((total_chromium + chromium))
done
printf '%-44s %10d %10d %10d %10d\n' total "$total_id" "$total_gz" "$total_br" "$total_chromium"
# What the editor needs before it shows anything: the page, the styles, the editor's glue and
# its wasm. The tools worker's module (scene_tools*) and worker.js are fetched on the first
# job or file, or by the service worker's install in the background once the editor runs.
start_br=0
for file in $files; do
    case "$file" in
    / | /style.*.css | /client.*.js | /client_bg.*.wasm) start_br=$((start_br + $(bytes br "$file"))) ;;
    esac
done
printf '%-44s %10s %10s %10d\n' 'to start the editor (/, styles, glue, wasm)' '' '' "$start_br"

if [ -x /usr/bin/chromium ]; then
    # The access log: one JSON line per request, its path in the span, its bytes in the event.
    summarise='
import json, sys
total = 0
for line in sys.stdin:
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    fields = entry.get("fields", {})
    if fields.get("message") != "request":
        continue
    span = entry.get("span", {})
    size = fields.get("bytes", "-")
    method, path, status = span.get("method", "?"), span.get("path", "?"), fields.get("status")
    print(f"  {method:4} {path:44} {status} {size:>10}")
    if size != "-":
        total += int(size)
print(f"  total response bytes (bodies): {total}")
'
    profile=$(mktemp -d)
    for visit in first second; do
        echo
        echo "==> the $visit visit in headless Chromium (one profile), bytes from the relay's access log"
        start=$(wc -l <"$log")
        timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" \
            --virtual-time-budget=15000 --dump-dom "http://127.0.0.1:$port/?room=bench-download" >/dev/null 2>&1 || true
        tail -n +"$((start + 1))" "$log" | python3 -c "$summarise"
    done
    rm -rf "$profile"
fi
