#!/usr/bin/env bash
# Scale-out, reverse-proxy and monitoring tests: relays sharing rooms through a real
# redis-server, and through a real Redis Cluster (six redis-server processes formed with
# redis-cli --cluster create: three masters, one replica each); a real nginx (running
# deploy/nginx.conf and deploy/nginx-cluster.conf) and a real Caddy (deploy/Caddyfile) in front of two relays under /collab/; promtool (Debian's prometheus package) checking a
# live relay's /metrics and the dashboard's queries.
#
#   scripts/cluster-test.sh            install what is missing, run them
#   CLUSTER_BROWSER=0 scripts/...      skip the browser-through-the-proxies tests
#
# Installs Debian's redis-server, nginx, caddy and prometheus when missing (apt-get update
# only if the install fails without it), the npm packages of tests/interop (the stock Yjs
# client), then runs `cargo test -p tests --features cluster` (tests/cluster.rs,
# cluster_failures.rs, redis_cluster.rs, proxy.rs, prometheus.rs). When chromedriver and a
# built client (dist/) are there (scripts/browser-test.sh provides both), it also runs tests/proxy_browser.rs. The
# tests start redis-server, nginx, caddy and the relays themselves on free loopback ports with
# temp dirs, and stop them however they end.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

missing=()
[ -x /usr/bin/redis-server ] && command -v redis-cli >/dev/null || missing+=(redis-server redis-tools)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/caddy ] || missing+=(caddy)
[ -x /usr/bin/promtool ] || missing+=(prometheus)
if [ "${#missing[@]}" -gt 0 ]; then
    step "Installing ${missing[*]} (Debian packages)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "cluster-test: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y "${missing[@]}"; then
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "${missing[@]}"
    fi
fi
/usr/bin/redis-server --version
/usr/sbin/nginx -v
/usr/bin/caddy version
/usr/bin/promtool --version | head -1

if [ ! -d tests/interop/node_modules/y-websocket ]; then
    step "Installing stock Yjs clients from npm (tests/interop)"
    (cd tests/interop && npm ci --no-audit --no-fund)
fi

step "cargo test -p tests --features cluster (redis-server, a Redis Cluster, nginx, caddy, promtool)"
cargo test --locked -p tests --features cluster --test cluster --test cluster_failures --test redis_cluster --test proxy --test sticky_rooms --test prometheus

if [ "${CLUSTER_BROWSER:-1}" != 0 ] && [ -x /usr/bin/chromedriver ] && [ -f dist/index.html ]; then
    step "The browser client through nginx and Caddy (headless Chromium)"
    cargo test --locked -p tests --features cluster,browser --test proxy_browser
else
    step "Skipping the browser-through-the-proxies tests (no chromedriver or no dist/; scripts/browser-test.sh provides them)"
fi
