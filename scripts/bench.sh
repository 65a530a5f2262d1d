#!/usr/bin/env bash
# The benchmark suite, side by side, in one run: the same workloads (fan-out, many writers,
# presence storm, idle capacity, stress) against our relay, the bare tokio broadcast ceiling,
# the reference y-websocket server (@y/websocket-server) and @hocuspocus/server, all on
# loopback. The peers are installed at the versions pinned in bench/package.json (npm ci,
# into bench/node_modules) and each run gets a fresh server process. JSON reports go to
# target/bench/RUN/; the tables, with the machine and the date, replace the generated
# section of BENCHMARKS.md (between the bench.sh markers).
#
#   scripts/bench.sh                 # everything (about 15 minutes)
#   BENCH_SECS=5 scripts/bench.sh    # shorter measured stretches
#   BENCH_TARGETS="ours ceiling" scripts/bench.sh   # a subset of servers (no npm needed)
#   BENCH_WORKLOADS="fanout-10 idle-1000" scripts/bench.sh   # a subset of the runs below
#   BENCH_NO_WRITE=1 scripts/bench.sh              # leave BENCHMARKS.md alone
#   BENCH_ONE_CORE=1 scripts/bench.sh              # one core: CPU per delivery (below)
#
# One-core mode (BENCH_ONE_CORE=1): what an operator running the relay in a one-CPU
# container pays. Every server is pinned to CPU $BENCH_SERVER_CPU (0) with taskset from its
# start (so its runtime sizes itself for one core), the load generator to $BENCH_LOAD_CPUS
# (1); one writer and 10, 100 and 1,000 observers in one room; servers: ours (durable, the
# SQLite store), ours-memory (--store memory, like the peers), the ceiling, y-websocket and
# Hocuspocus. The whole set runs $BENCH_ROUNDS times (3), one round after the other, so that
# every server is measured early and late; the table is server CPU per delivered update
# (median and spread over rounds) and each one's ratio to the ceiling, taken within each
# round; it replaces the one-core section of BENCHMARKS.md (its own markers).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${BENCH_SECS:-10}
ONE_CORE=${BENCH_ONE_CORE:-}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPUS=${BENCH_LOAD_CPUS:-1}
ROUNDS=${BENCH_ROUNDS:-3}
if [[ -n "$ONE_CORE" ]]; then
    TARGETS=${BENCH_TARGETS:-"ours ours-memory ceiling y-websocket hocuspocus"}
    PIN_SERVER=(taskset -c "$SERVER_CPU")
    PIN_LOAD=(taskset -c "$LOAD_CPUS")
    PIN_ARGS=(--server-cpus "$SERVER_CPU")
else
    TARGETS=${BENCH_TARGETS:-"ours ceiling y-websocket hocuspocus"}
    PIN_SERVER=()
    PIN_LOAD=()
    PIN_ARGS=()
fi
RUN=target/bench/$(date -u +%Y%m%d-%H%M%S)
# Where each report goes: the run's directory, or one round's within it (one-core mode).
OUT=$RUN
mkdir -p "$RUN"
LOG="$RUN/commands.txt"

step() { printf '\n==> %s\n' "$*"; }

step "Building (release)"
cargo build --release --locked -p relay -p loadgen

if [[ "$TARGETS" == *y-websocket* || "$TARGETS" == *hocuspocus* ]]; then
    step "Installing the peer servers at their pinned versions (bench/node_modules)"
    (cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi

PEER_PID=""
stop_peer() {
    if [[ -n "$PEER_PID" ]]; then
        kill "$PEER_PID" 2>/dev/null || true
        wait "$PEER_PID" 2>/dev/null || true
        PEER_PID=""
    fi
}
trap stop_peer EXIT

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null \
        || python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Starts a fresh peer server; sets TARGET_ARGS for loadgen.
start_target() {
    local target=$1
    stop_peer
    case "$target" in
        ours) TARGET_ARGS=(--target ours "${PIN_ARGS[@]}") ;;
        ours-memory) TARGET_ARGS=(--target ours --relay-store memory --label ours-memory "${PIN_ARGS[@]}") ;;
        ceiling) TARGET_ARGS=(--target ceiling "${PIN_ARGS[@]}") ;;
        y-websocket | hocuspocus)
            local port script framing
            port=$(free_port)
            if [[ $target == y-websocket ]]; then script=y-websocket-server.mjs; framing=yws; else script=hocuspocus-server.mjs; framing=hocuspocus; fi
            (cd bench && PORT=$port exec "${PIN_SERVER[@]}" node "$script") > "$RUN/$target-server.log" 2>&1 &
            PEER_PID=$!
            for _ in $(seq 1 100); do
                if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
                sleep 0.1
            done
            TARGET_ARGS=(--target external --url "ws://127.0.0.1:$port/" --framing "$framing" --pid "$PEER_PID" --label "$target")
            ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
}

FAILED=0
# bench NAME WORKLOAD ARGS... : runs one workload against every target.
bench() {
    local name=$1; shift
    if [[ -n "${BENCH_WORKLOADS:-}" && " $BENCH_WORKLOADS " != *" $name "* ]]; then return; fi
    for target in $TARGETS; do
        start_target "$target"
        local cmd=("${PIN_LOAD[@]}" target/release/loadgen --json "$OUT/$name-$target.json" "$@" "${TARGET_ARGS[@]}")
        step "$name on $target"
        echo "${cmd[*]}" | sed "s/--pid [0-9]*/--pid PID/; s/127.0.0.1:[0-9]*/127.0.0.1:PORT/; s#$RUN/round-[0-9]*/#$RUN/round-N/#" >> "$LOG"
        if ! timeout 900 "${cmd[@]}" > "$OUT/$name-$target.txt" 2> "$OUT/$name-$target.err"; then
            echo "FAILED: $name on $target (see $OUT/$name-$target.err)"
            FAILED=1
        fi
        grep -v '^{' "$OUT/$name-$target.txt" || true
        stop_peer
    done
}

# The lines each generated section starts with: what made it, on what machine and load, and
# the peers' versions. $1: the command, $2: the load average after the runs.
provenance() {
    echo "Generated by \`$1\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)."
    echo "Machine: $(nproc) vCPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr); load average $LOAD_BEFORE before, $2 after."
    echo "Peers: $(cd bench && node -e 'const p=require("./package.json");console.log(Object.entries(p.dependencies).map(([k,v])=>k+"@"+v).join(", "))' 2>/dev/null || echo 'see bench/package.json'), node $(node --version 2>/dev/null || echo n/a)."
}

# The commands that were run, each once, as a shell block.
commands_block() {
    echo '```sh'
    awk '!seen[$0]++' "$LOG"
    echo '```'
}

# The one-core table, into its own section of BENCHMARKS.md.
one_core_tables() {
    local load_after tables
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    step "Tables (one core)"
    tables="$RUN/tables.md"
    {
        provenance "BENCH_ONE_CORE=1 scripts/bench.sh" "$load_after"
        echo "Each server pinned to CPU $SERVER_CPU from its start, the load generator to CPU $LOAD_CPUS; measured stretches of ${SECS} s; $ROUNDS rounds of every server and size, one after the other."
        echo "Server CPU is each thread's scheduler run time (/proc/PID/task/*/sched), not the 10 ms ticks of /proc/PID/stat."
        echo
        commands_block
        target/release/bench_table --one-core "$RUN"
    } > "$tables"
    cat "$tables"
    write_section '<!-- bench.sh one-core:begin -->' '<!-- bench.sh one-core:end -->' "$tables" '## One core, side by side (issue 20, generated)'
}

# write_section BEGIN END FILE HEADING: FILE replaces what BENCHMARKS.md holds between the
# markers (added at the end, under HEADING, the first time).
write_section() {
    local begin=$1 end=$2 file=$3 heading=$4
    if [[ -n "${BENCH_NO_WRITE:-}" ]]; then return; fi
    if ! grep -qF "$begin" BENCHMARKS.md; then
        printf '\n%s\n\n%s\n%s\n' "$heading" "$begin" "$end" >> BENCHMARKS.md
    fi
    awk -v begin="$begin" -v end="$end" -v file="$file" '
        $0 == begin { print; while ((getline line < file) > 0) print line; skip = 1; next }
        $0 == end { skip = 0 }
        !skip { print }
    ' BENCHMARKS.md > "$RUN/BENCHMARKS.md" && cp "$RUN/BENCHMARKS.md" BENCHMARKS.md
    echo "BENCHMARKS.md updated ($begin)."
}

fanouts() {
    bench fanout-10 fan-out --observers 10 --rate 100 --duration-secs "$SECS"
    bench fanout-100 fan-out --observers 100 --rate 50 --duration-secs "$SECS"
    bench fanout-1000 fan-out --observers 1000 --rate 10 --duration-secs "$SECS"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -n "$ONE_CORE" ]]; then
    for round in $(seq 1 "$ROUNDS"); do
        OUT=$RUN/round-$round
        mkdir -p "$OUT"
        step "Round $round of $ROUNDS"
        fanouts
    done
    one_core_tables
    exit "$FAILED"
fi
fanouts
bench writers-50 many-writers --writers 50 --rate 2 --duration-secs "$SECS"
bench writers-200 many-writers --writers 200 --rate 1 --duration-secs "$SECS"
bench presence-500 presence --clients 500 --rate 1 --duration-secs "$SECS"
bench idle-1000 idle --connections 1000 --rooms 1000 --hold-secs 5
bench idle-5000 idle --connections 5000 --rooms 1000 --hold-secs 5
bench stress shape --shape stress --rooms 4 --writers 5 --observers 20 --rate 5 --step-secs 3 --max-steps 12
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

step "Tables"
TABLES="$RUN/tables.md"
{
    provenance "scripts/bench.sh" "$LOAD_AFTER"
    echo "Shared and noisy: other engineers compile on it at the same time. Servers and clients share the 2 vCPUs; measured stretches of ${SECS} s."
    echo "Ratios are ours ÷ theirs: below 1× on a cost (latency, CPU, memory) or above 1× on a rate means ours is better."
    echo
    echo "Commands (PID and PORT are the peer's, filled in by the script):"
    echo
    commands_block
    target/release/bench_table "$RUN"
} > "$TABLES"
cat "$TABLES"

write_section '<!-- bench.sh:begin -->' '<!-- bench.sh:end -->' "$TABLES" '## Side by side (issue 8, generated)'
exit "$FAILED"
