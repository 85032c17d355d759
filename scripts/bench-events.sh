#!/usr/bin/env bash
# Upload-event benchmark: `picpipe serve` on a fresh store, 200 distinct 12 MP JPEGs renamed into uploads/,
# latency from each rename to its thumbnails AND metadata row being visible; p50/p99 at idle (one file at a
# time) and throughput with 1 and 2 workers per function. Not part of CI.
# Usage: scripts/bench-events.sh [IMAGES_DIR] [IDLE_COUNT]
#   IMAGES_DIR  holds jpeg12/ (default /tmp/bench-imgs; made with ../shared/bench/make-images.sh when missing)
#   IDLE_COUNT  files measured one at a time (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}
IDLE_COUNT=${2:-200}
SHARED=${SHARED:-../shared}
if [ ! -d "$IMAGES/jpeg12" ]; then "$SHARED/bench/make-images.sh" -j2 "$IMAGES"; fi
swift build -c release --scratch-path .build-events-rel --product picpipe >&2
BIN=$PWD/.build-events-rel/release/picpipe
WORK=$(mktemp -d /tmp/picpipe-bench-events.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 - "$BIN" "$IMAGES/jpeg12" "$WORK" "$IDLE_COUNT" <<'PY'
import hashlib, os, signal, sqlite3, subprocess, sys, time

binary, source_dir, work, idle_count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sizes = ["128", "256", "1024"]

# 200 distinct files: each of the 20 JPEGs ten times, a different COM segment right after SOI.
staging = os.path.join(work, "staging")
os.makedirs(staging)
files = []
for name in sorted(os.listdir(source_dir)):
    if not name.endswith(".jpg"):
        continue
    data = open(os.path.join(source_dir, name), "rb").read()
    for copy in range(10):
        comment = f"picpipe bench copy {copy} of {name}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        out = data[:2] + segment + data[2:]
        target = os.path.join(staging, f"{name[:-4]}-c{copy}.jpg")
        open(target, "wb").write(out)
        files.append((target, hashlib.sha256(out).hexdigest()))
assert len(files) == 200, len(files)

def start(store, workers):
    env = dict(os.environ)
    env.update({
        "PICPIPE_FUNCTIONS_THUMBNAIL_CONCURRENCY": str(workers),
        "PICPIPE_FUNCTIONS_METADATA_CONCURRENCY": str(workers),
        "PICPIPE_LOG_LEVEL": "warning",
    })
    env.pop("PICPIPE_CONFIG", None)
    log = open(os.path.join(work, f"serve-{workers}.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--store", store], env=env, stdout=log, stderr=log)
    deadline = time.time() + 30
    while not os.path.exists(os.path.join(store, "db", "serve.lock")) and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    return proc

def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)

def visible(store, digest, db):
    for size in sizes:
        if not os.path.exists(os.path.join(store, "thumbnails", size, digest[:2], f"{digest}-inside-q82-srgb.jpg")):
            return False
    return db.execute("SELECT 1 FROM image WHERE sha256 = ?", (digest,)).fetchone() is not None

def open_db(store):
    path = os.path.join(store, "db", "metadata.sqlite")
    while not os.path.exists(path):
        time.sleep(0.005)
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * p)))]

# Idle latency: one file at a time, the next only once the previous is fully visible.
store = os.path.join(work, "idle")
proc = start(store, 1)
db = None
latencies = []
renamed_at = {}
for path, digest in files[:idle_count]:
    target = os.path.join(store, "uploads", os.path.basename(path))
    t0 = time.perf_counter()
    renamed_at[digest] = time.time()
    os.rename(path, target)
    if db is None:
        db = open_db(store)
    while not visible(store, digest, db):
        time.sleep(0.0005)
    latencies.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.05)
    os.rename(os.path.join(store, "originals", digest[:2], digest + ".jpg"), path)  # reuse the bytes later
stop(proc)
print(f"idle latency over {len(latencies)} files: p50 {pct(latencies, 0.5):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms, "
      f"max {max(latencies):.1f} ms")

# Where the idle time goes, from the journal: ingest (rename -> event journaled), queue (journaled -> function
# started), and each function's own duration.
journal = sqlite3.connect(f"file:{os.path.join(store, 'db', 'events.sqlite')}?mode=ro", uri=True)
rows = journal.execute("""SELECT e.etag, e.created_at, a.function, a.started_at, a.duration FROM events e
    JOIN invocations i ON i.event_id = e.id JOIN attempts a ON a.invocation_id = i.id""").fetchall()
ingest, queue, duration = [], {}, {}
for etag, created, function, started, seconds in rows:
    if function == "thumbnail":
        ingest.append((created - renamed_at[etag]) * 1000)
    queue.setdefault(function, []).append((started - created) * 1000)
    duration.setdefault(function, []).append(seconds * 1000)
print(f"  ingest (rename -> journaled): p50 {pct(ingest, 0.5):.1f} ms, p99 {pct(ingest, 0.99):.1f} ms")
for function in sorted(queue):
    print(f"  {function}: queue p50 {pct(queue[function], 0.5):.1f} ms p99 {pct(queue[function], 0.99):.1f} ms; "
          f"run p50 {pct(duration[function], 0.5):.1f} ms p99 {pct(duration[function], 0.99):.1f} ms")

# Throughput: all 200 renamed in at once; time from the first rename to the last file visible.
results = {}
for workers in (1, 2):
    store = os.path.join(work, f"burst{workers}")
    proc = start(store, workers)
    pending = dict((digest, path) for path, digest in files)
    t0 = time.perf_counter()
    for path, digest in files:
        os.link(path, os.path.join(work, "tmp-link"))
        os.rename(os.path.join(work, "tmp-link"), os.path.join(store, "uploads", os.path.basename(path)))
    db = open_db(store)
    while pending:
        for digest in list(pending):
            if visible(store, digest, db):
                del pending[digest]
        time.sleep(0.002)
    elapsed = time.perf_counter() - t0
    stop(proc)
    results[workers] = 200 / elapsed
    print(f"throughput, {workers} worker(s) per function: {results[workers]:.1f} images/s ({elapsed:.2f} s for 200)")
print(f"scaling 2 workers / 1 worker: {results[2] / results[1]:.2f}x")
PY
