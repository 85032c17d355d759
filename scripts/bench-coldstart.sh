#!/usr/bin/env bash
# bench-coldstart.sh - Lambda's famous cost, measured on picpipe: how long a process takes to be useful.
#
#   scripts/bench-coldstart.sh [COUNT] [ROUNDS]     (default 10000 pictures, 11 rounds)
#
# 1. `serve` from exec to the first 200 on /healthz, on an existing store of COUNT pictures (made once with
#    `picpipe batch` from small generated JPEGs, each with its thumbnails and metadata row): a Python poller
#    starts serve, connects to its port every 0.5 ms and sends GET /healthz until one answers 200; the time from
#    just before exec to that answer, ROUNDS times (serve stopped with SIGTERM between rounds), median and range.
# 2. `picpipe thumbnail` of one 12 MP JPEG end to end (process start included) beside `vipsthumbnail` of the same
#    file to the same size, with hyperfine (warm-up 3, ROUNDS runs each): the ratio of the medians.
# IMGDIR (default /tmp/bench-imgs) gives the 12 MP JPEG. Uses a release picpipe built in .build-rel, or PICPIPE_BENCH_BINARY.
# PICPIPE_BENCH_COMPARE names a second binary (another build of the same source, e.g. linked with
# --static-swift-stdlib): it serves the same store in alternating rounds and runs beside the first in hyperfine.
# Needs python3, hyperfine, vipsthumbnail (libvips-tools) and cjpeg (libjpeg-turbo-progs). Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-10000}"
rounds="${2:-11}"
binary="${PICPIPE_BENCH_BINARY:-}"
if [ -z "$binary" ]; then
    (cd "$here" && swift build -c release --static-swift-stdlib --scratch-path .build-rel --product picpipe >&2)
    binary="$here/.build-rel/release/picpipe"
fi
binary="$(realpath "$binary")"
compare="${PICPIPE_BENCH_COMPARE:+$(realpath "$PICPIPE_BENCH_COMPARE")}"
for tool in hyperfine vipsthumbnail cjpeg python3; do
    command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# COUNT distinct small JPEGs (64x48 noise, each its own bytes), then one batch into the store.
python3 - "$work/pictures" "$count" <<'PY'
import os, random, subprocess, sys
folder, count = sys.argv[1], int(sys.argv[2])
os.makedirs(folder)
random.seed(7)
for index in range(count):
    header = b"P6\n64 48\n255\n"
    pixels = bytes(random.getrandbits(8) for _ in range(64 * 48 * 3)) if index < 64 else None
    if pixels is None:
        base = bytearray(open(os.path.join(folder, f"{index % 64:05d}.ppm"), "rb").read()[len(header):])
        base[index % len(base)] ^= 0xFF
        base[(index * 7) % len(base)] ^= 0x55
        pixels = bytes(base)
    with open(os.path.join(folder, f"{index:05d}.ppm"), "wb") as out:
        out.write(header + pixels)
PY
for ppm in "$work"/pictures/*.ppm; do cjpeg -quality 80 "$ppm" > "${ppm%.ppm}.jpg"; done
rm -f "$work"/pictures/*.ppm
started=$(date +%s.%N)
"$binary" batch "$work/pictures" --store "$work/store" >/dev/null 2>&1
echo "store: $count pictures by batch in $(printf '%.0f' "$(echo "$(date +%s.%N) - $started" | bc -l)") s; load $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/store" "$rounds" "$binary" $compare <<'PY'
import os, signal, socket, statistics, subprocess, sys, time
store, rounds, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
times = {binary: [] for binary in binaries}
for round, binary in ((r, b) for r in range(rounds + 1) for b in binaries):  # round 0 warms the page cache
    port = free_port()
    env = dict(os.environ, PICPIPE_LISTEN=f"127.0.0.1:{port}", PICPIPE_LOG_LEVEL="warning")
    start = time.perf_counter()
    serve = subprocess.Popen([binary, "serve", "--store", store], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answered = None
    while time.perf_counter() - start < 30:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    answered = time.perf_counter() - start
                    break
        except OSError:
            time.sleep(0.0005)
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=30)
    if answered is None:
        sys.exit("serve did not answer /healthz in 30 s")
    if round > 0:
        times[binary].append(answered * 1000)
for binary, measured in times.items():
    print(f"serve, exec to the first 200 on /healthz ({rounds} rounds): median {statistics.median(measured):.1f} ms "
          f"(min {min(measured):.1f}, max {max(measured):.1f})  {binary}")
PY

# One 12 MP JPEG (the first of IMGDIR/jpeg12 from ../shared/bench/make-images.sh, else a generated one):
# picpipe thumbnail against vipsthumbnail, process start included.
big="$(ls "${IMGDIR:-/tmp/bench-imgs}"/jpeg12/*.jpg 2>/dev/null | head -n 1 || true)"
if [ -z "$big" ]; then
    python3 -c "
w, h = 4000, 3000
with open('$work/big.ppm', 'wb') as out:
    out.write(b'P6\\n%d %d\\n255\\n' % (w, h))
    for y in range(h): out.write(bytes((x * 255 // w, y * 255 // h, (x ^ y) & 255)[c] for x in range(w) for c in range(3)))
"
    cjpeg -quality 90 "$work/big.ppm" > "$work/big.jpg"
    rm -f "$work/big.ppm"
    big="$work/big.jpg"
fi
commands=("vipsthumbnail $big --size 256 -o $work/vips-256.jpg")
for each in "$binary" $compare; do commands+=("$each thumbnail $big --size 256 --output $work/picpipe-256.jpg"); done
hyperfine --warmup 3 --runs "$rounds" --export-json "$work/thumb.json" -N "${commands[@]}" >/dev/null 2>&1
python3 - "$work/thumb.json" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))["results"]
vips = statistics.median(runs[0]["times"]) * 1000
for run in runs[1:]:
    picpipe = statistics.median(run["times"]) * 1000
    print(f"one 12 MP JPEG to 256 px, process start included (median): picpipe thumbnail {picpipe:.1f} ms, "
          f"vipsthumbnail {vips:.1f} ms: {picpipe / vips:.2f}x its wall time  {run['command'].split()[0]}")
PY
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
