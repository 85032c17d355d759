#!/usr/bin/env bash
# bench-hostile.sh - picpipe serve under hostile clients, on loopback: /healthz latency while N connections trickle
# their request heads (slowloris), and the serve process's peak RSS while M clients upload S MB each at once.
#
#   scripts/bench-hostile.sh [-n N] [-d SECONDS] [-m M] [-s MB]
#     -n N        slowloris connections (default 500)
#     -d SECONDS  how long the slowloris runs (default 20; heads are cut after http.header_timeout, 10 s, and the
#                 attacker reconnects, as a real slowloris does)
#     -m M        concurrent uploads (default 100)
#     -s MB       size of each upload in MB (default 50)
#
# PICPIPE_BENCH_BINARY=path uses that picpipe instead of building a release one (own scratch path).
# Each phase runs its own serve on a temporary store and a free port; the peak RSS is VmHWM from
# /proc/PID/status of the upload phase's serve. The uploads are one JPEG (PICPIPE_BENCH_PICTURE, default the
# corpus's apple-iphone-4.jpg) padded with zeros after its end marker to S MB, sent raw with Content-Length; serve is started with
# PICPIPE_MAX_CONCURRENT_UPLOADS=M so none is refused for the upload cap. Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
connections=500 duration=20 uploads=100 megabytes=50
while getopts "n:d:m:s:" option; do
    case "$option" in
        n) connections="$OPTARG" ;;
        d) duration="$OPTARG" ;;
        m) uploads="$OPTARG" ;;
        s) megabytes="$OPTARG" ;;
        *) sed -n '2,17p' "$0" >&2; exit 2 ;;
    esac
done

picture="${PICPIPE_BENCH_PICTURE:-$here/../shared/corpus/jpeg-exif/apple-iphone-4.jpg}"
[ -f "$picture" ] || { echo "no picture at $picture (set PICPIPE_BENCH_PICTURE to a JPEG)" >&2; exit 1; }
cd "$here"
if [ -n "${PICPIPE_BENCH_BINARY:-}" ]; then
    binary="$PICPIPE_BENCH_BINARY"
else
    swift build -c release --static-swift-stdlib --scratch-path .build-hostile-rel --product picpipe >&2
    binary="$here/.build-hostile-rel/release/picpipe"
fi
# Each slowloris connection is a descriptor here and one in serve.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d /tmp/picpipe-bench-hostile.XXXXXX)"
serve=""
stop_serve() {
    if [ -n "$serve" ]; then kill -TERM "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; fi
    serve=""
}
cleanup() { stop_serve; rm -rf "$work"; }
trap cleanup EXIT

# start_serve NAME [VAR=VALUE...]: a serve on a fresh store; sets $serve and $port.
start_serve() {
    local name="$1"
    shift
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    env PICPIPE_LOG_LEVEL=warning "$@" "$binary" serve --store "$work/$name" --listen "127.0.0.1:$port" \
        2>"$work/$name.log" &
    serve=$!
    for _ in $(seq 1 300); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "serve did not start: $(cat "$work/$name.log")" >&2
    exit 1
}

start_serve slowloris
echo "slowloris: $connections connections trickling heads for ${duration}s, healthz every 20 ms" >&2
# The attackers and the prober are separate processes, so the prober's timings carry no wait for the attackers'
# event loop.
cat >"$work/slowloris.py" <<'PY'
import asyncio, sys, time

port, connections, duration = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
stats = {"opened": 0, "cut": 0, "answered_408": 0}

async def slow_client(deadline):
    # One attacker: a partial head, then a byte a second (under the idle timeout, never the end of the head);
    # when the server cuts it, it connects again.
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        stats["opened"] += 1
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        try:
            while time.monotonic() < deadline:
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(4096), timeout=1.0)
                except asyncio.TimeoutError:
                    writer.write(b"a")
                    continue
                stats["cut"] += 1
                if data.startswith(b"HTTP/1.1 408"):
                    stats["answered_408"] += 1
                break
        except (ConnectionError, OSError):
            stats["cut"] += 1
        writer.close()

async def main():
    deadline = time.monotonic() + duration
    await asyncio.gather(*[slow_client(deadline) for _ in range(connections)], return_exceptions=True)
    print(f"slowloris: {connections} connections, {stats['opened']} opened, {stats['answered_408']} answered 408, "
          f"{stats['cut']} cut by the server")

asyncio.run(main())
PY
cat >"$work/probe.py" <<'PY'
import socket, sys, time

port, duration = int(sys.argv[1]), float(sys.argv[2])
began = time.monotonic()
time.sleep(2)  # let the attack build up
worst = []  # (latency, seconds since the attack began)
deadline = time.monotonic() + duration - 3
latencies, failures = [], 0
while time.monotonic() < deadline:
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        if answer.startswith(b"HTTP/1.1 200"):
            latencies.append(time.perf_counter() - start)
            worst = sorted(worst + [(latencies[-1], time.monotonic() - began)], reverse=True)[:3]
        else:
            failures += 1
    except OSError:
        failures += 1
    time.sleep(0.02)
latencies.sort()
def pct(p):
    return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
print(f"healthz under the slowloris: n={len(latencies)} failures={failures} p50={pct(0.50):.2f} ms "
      f"p99={pct(0.99):.2f} ms max={(latencies[-1] * 1000 if latencies else 0):.2f} ms; worst at "
      + ", ".join(f"{at:.1f} s ({latency * 1000:.0f} ms)" for latency, at in worst) + " into the attack")
PY
python3 "$work/slowloris.py" "$port" "$connections" "$duration" &
attack=$!
python3 "$work/probe.py" "$port" "$duration"
wait "$attack"
stop_serve

start_serve uploads PICPIPE_MAX_CONCURRENT_UPLOADS="$uploads" PICPIPE_WATCHER_ENABLED=true
echo "uploads: $uploads concurrent uploads of $megabytes MB" >&2
python3 - "$port" "$uploads" "$megabytes" "$serve" "$work/uploads/uploads" "$picture" <<'PY'
import asyncio, os, sys, time

port, count, megabytes, pid, spool = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
picture = sys.argv[6]
size = megabytes << 20

body = open(picture, "rb").read()
body += bytes(size - len(body))
peak = 0

def rss(field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0

async def sample():
    global peak
    while True:
        peak = max(peak, rss("VmRSS:"))
        await asyncio.sleep(0.05)

async def upload():
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: {size}\r\n"
                 "Connection: close\r\n\r\n".encode())
    view = memoryview(body)
    for offset in range(0, size, 1 << 20):
        writer.write(view[offset:offset + (1 << 20)])
        await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer[9:12].decode(errors="replace")

async def main():
    sampler = asyncio.create_task(sample())
    start = time.perf_counter()
    statuses = await asyncio.gather(*[upload() for _ in range(count)], return_exceptions=True)
    elapsed = time.perf_counter() - start
    sampler.cancel()
    counts = {}
    for status in statuses:
        key = status if isinstance(status, str) else type(status).__name__
        counts[key] = counts.get(key, 0) + 1
    leftovers = [name for name in os.listdir(spool) if name.startswith(".picpipe-tmp-")] if os.path.isdir(spool) else []
    print(f"uploads: {count} x {megabytes} MB in {elapsed:.1f} s, statuses {counts}; serve peak RSS "
          f"VmHWM={rss('VmHWM:') >> 20} MB (sampled VmRSS max {peak >> 20} MB); temporary files left in uploads/: "
          f"{len(leftovers)}")

asyncio.run(main())
PY
stop_serve
