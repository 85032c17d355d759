#!/usr/bin/env bash
# The bare queue: no-op invocations claimed, run and acknowledged per second by the real runtime and journal
# (`picpipe bench-queue`, hidden), SQLite and PostgreSQL, 1 and 4 workers, interleaved rounds, medians. Not in CI.
#
# Usage: PICPIPE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres scripts/bench-queue.sh [COUNT]
#   COUNT  invocations per run (default 4000)
# Environment: PICPIPE_BENCH_ROUNDS (default 3), PICPIPE_BENCH_SCRATCH (release build folder, default .build-rel),
# PICPIPE_BENCH_BINARY (a picpipe binary instead of building one), PICPIPE_BENCH_DATABASE_URL (a server's maintenance database; a fresh database is made per run; use fsync on:
# `scripts/test-postgres.sh start --durable`).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-4000}
ROUNDS=${PICPIPE_BENCH_ROUNDS:-3}
SCRATCH=${PICPIPE_BENCH_SCRATCH:-.build-rel}
SERVER=${PICPIPE_BENCH_DATABASE_URL:?set PICPIPE_BENCH_DATABASE_URL to a PostgreSQL server (scripts/test-postgres.sh start --durable)}
if [ -n "${PICPIPE_BENCH_BINARY:-}" ]; then
    BIN=$(realpath "$PICPIPE_BENCH_BINARY")
else
    swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product picpipe >&2
    BIN=$PWD/$SCRATCH/release/picpipe
fi
WORK=$(mktemp -d /tmp/picpipe-bench-queue.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 - "$BIN" "$WORK" "$COUNT" "$ROUNDS" "$SERVER" <<'PY'
import os, statistics, subprocess, sys
from urllib.parse import urlsplit, urlunsplit

binary, work, count, rounds, server = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
env = {k: v for k, v in os.environ.items() if not k.startswith("PICPIPE_") or k.startswith("PICPIPE_BENCH")}

def psql(sql):
    subprocess.run(["psql", server, "-Atq", "-c", sql], check=True, capture_output=True)

def run(mode, workers, number):
    store = os.path.join(work, f"{mode}-{workers}-{number}")
    arguments = [binary, "bench-queue", "--store", store, "--workers", str(workers), "--count", count]
    name = None
    if mode == "postgresql":
        name = f"picpipe_benchq_{os.getpid()}_{workers}_{number}"
        psql(f"CREATE DATABASE {name}")
        parts = urlsplit(server)
        arguments += ["--database", urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))]
    try:
        line = subprocess.run(arguments, env=env, check=True, capture_output=True, text=True).stdout.strip()
    finally:
        if name:
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    rate = float(line.split("per_second=")[1])
    print(f"  {line}", flush=True)
    return rate

def load():
    return open("/proc/loadavg").read().split()[0]

results = {}
for number in range(1, rounds + 1):
    print(f"round {number} (load {load()})", flush=True)
    for workers in (1, 4):
        for mode in ("sqlite", "postgresql"):
            results.setdefault((mode, workers), []).append(run(mode, workers, number))
print(f"medians of {rounds} round(s), invocations/s (load {load()}):")
for (mode, workers), values in results.items():
    shown = ", ".join(f"{v:.0f}" for v in values)
    print(f"  {mode}, {workers} worker(s): {statistics.median(values):.0f} ({shown})")
PY
