#!/usr/bin/env bash
# The operations files, checked with the real tools (a few seconds, no cargo test):
#   - promtool (Debian's prometheus package): deploy/prometheus/prometheus.yml and the alerting
#     rules it loads parse, and the rules' unit tests (alerts_test.yml) pass;
#   - deploy/relay.toml, the example configuration, read by the relay (--print-config);
#   - systemd-analyze verify (Debian's systemd package): deploy/relay.service,
#     relay-backup.service and relay-backup.timer, with the relay binary the units name
#     pointed at the one built here;
#   - the backup unit's own command line, run for real against a live relay's data
#     directory (with its paths pointed into a temp dir), and the archive restored.
# Installs prometheus and systemd when their tools are missing; builds the relay (debug).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [ "${#missing[@]}" -gt 0 ]; then
    step "Installing ${missing[*]} (Debian packages)"
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y "${missing[@]}" || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "${missing[@]}"; }
fi

step "promtool: the Prometheus config, the alerting rules and their unit tests"
promtool check config deploy/prometheus/prometheus.yml
promtool test rules deploy/prometheus/alerts_test.yml

step "Building the relay"
cargo build --locked -p relay
relay="$PWD/target/debug/relay"

tmp=$(mktemp -d)
relay_pid=""
cleanup() {
    [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

step "deploy/relay.toml reads as the relay's configuration"
"$relay" --config deploy/relay.toml --print-config

step "systemd-analyze verify: the relay and backup units"
mkdir -p "$tmp/units"
for unit in deploy/relay.service deploy/relay-backup.service deploy/relay-backup.timer; do
    sed "s|/usr/local/bin/relay|$relay|g" "$unit" > "$tmp/units/$(basename "$unit")"
done
# Any finding (an unknown key is only a warning) fails the check.
if ! findings=$(cd "$tmp/units" && systemd-analyze verify relay.service relay-backup.service relay-backup.timer 2>&1) || [ -n "$findings" ]; then
    printf '%s\n' "$findings" >&2
    echo "ops-check: systemd-analyze verify found problems" >&2
    exit 1
fi
echo "no findings"

step "The backup unit's command, run against a live relay"
mkdir -p "$tmp/data" "$tmp/backups"
"$relay" --listen 127.0.0.1:0 --data-dir "$tmp/data" > "$tmp/relay.out" 2> "$tmp/relay.err" &
relay_pid=$!
for _ in $(seq 100); do grep -q "http://" "$tmp/relay.out" 2>/dev/null && break; sleep 0.1; done
grep -q "http://" "$tmp/relay.out" || { cat "$tmp/relay.err" >&2; exit 1; }
# ExecStart= as systemd runs it: %% is %, $$ is $; the paths pointed into the temp dir.
command=$(sed -n 's/^ExecStart=//p' deploy/relay-backup.service | sed -e 's/%%/%/g' -e 's/\$\$/$/g' \
    -e "s|/usr/local/bin/relay|$relay|g" -e "s|/var/lib/scene-relay|$tmp/data|g" -e "s|/var/backups/scene-relay|$tmp/backups|g")
eval "$command"
archive=$(ls "$tmp"/backups/rooms-*.tar)
echo "wrote $archive"
"$relay" restore --from "$archive" --data-dir "$tmp/restored"
