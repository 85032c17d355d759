#!/usr/bin/env bash
# Compares the fuzz builds' speed: each build of one harness fuzzes from the same seeds for SECONDS, builds
# interleaved, ROUNDS rounds, under nice 19; prints executions per CPU-second (from /usr/bin/time, so a loaded
# machine changes how long a round takes, not the figure) and per wall-second, with the load average.
#
#   scripts/fuzz-speed.sh TARGET SECONDS ROUNDS [builds, default "debug release"]
#
# Build both first: FUZZ_BUILD=debug scripts/fuzz.sh TARGET 1 and scripts/fuzz.sh TARGET 1.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: scripts/fuzz-speed.sh TARGET SECONDS ROUNDS [builds]" >&2; exit 2; }
target=$1 seconds=$2 rounds=$3 builds=${4:-debug release}
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64:allocator_release_to_os_interval_ms=1000
log="$(mktemp)" times="$(mktemp)"
for round in $(seq "$rounds"); do
    for build in $builds; do
        corpus="$(mktemp -d)"
        /usr/bin/time -o "$times" -f "%U %S %e" nice -n 19 ".build-fuzz/$build/Fuzz$target" "$corpus" \
            "Fixtures/fuzz/$target" -seed="$round" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=512 \
            -timeout=30 -print_final_stats=1 > "$log" 2>&1 || true
        execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)"
        cov="$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -nE 's/.* cov: ([0-9]+).*/\1/p')"
        read -r user system wall < <(tail -1 "$times")
        cpu="$(echo "$user + $system" | bc)"
        echo "$target round $round $build: ${execs:-0} executions, ${cpu} CPU-s, ${wall} s," \
            "$(echo "${execs:-0} / ($cpu + 0.001)" | bc)/CPU-s, $(echo "${execs:-0} / $wall" | bc)/s," \
            "cov ${cov:-?}, load $(cut -d' ' -f1 /proc/loadavg)"
        rm -rf "$corpus"
    done
done
rm -f "$log" "$times"
