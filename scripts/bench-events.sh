#!/usr/bin/env bash
# Upload-event benchmark: `picpipe serve` on a fresh store, 200 distinct 12 MP JPEGs renamed into uploads/,
# latency from each rename to its thumbnails AND metadata row being visible; p50/p99 at idle (one file at a
# time) and throughput (all 200 at once). Not part of CI.
#
# With PICPIPE_BENCH_DATABASE_URL (a PostgreSQL server's maintenance database, e.g.
# postgres://postgres@127.0.0.1:5499/postgres; use a server with fsync on: `scripts/test-postgres.sh start --durable`),
# every round measures SQLite mode and PostgreSQL mode one after the other (a fresh database per run), so the
# ratios compare like with like on a shared machine:
#   idle p50/p99, SQLite and PostgreSQL;
#   throughput, one serve with 1 worker per function: SQLite, PostgreSQL (ratio PG/SQLite, target >= 0.9x);
#   throughput, PostgreSQL, that serve plus a second process `serve --roles worker` (1 worker per function each):
#     two worker processes against one (target >= 1.8x);
#   throughput, SQLite, one serve with 2 workers per function (the single-process scaling, for comparison).
# Without it, only the SQLite runs.
#
# Usage: scripts/bench-events.sh [IMAGES_DIR] [IDLE_COUNT]
#   IMAGES_DIR  holds jpeg12/ (default /tmp/bench-imgs; made with ../shared/bench/make-images.sh when missing)
#   IDLE_COUNT  files measured one at a time per idle run (default 200)
# Environment: PICPIPE_BENCH_ROUNDS (default 3), PICPIPE_BENCH_SCRATCH (the release build's scratch folder,
# default .build-events-rel), PICPIPE_BENCH_DATABASE_URL (above), PICPIPE_BENCH_FILES (files per throughput run,
# default 200), PICPIPE_BENCH_BINARY (a picpipe binary to use instead of building one, e.g. .build/debug/picpipe).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}
IDLE_COUNT=${2:-200}
SHARED=${SHARED:-../shared}
SCRATCH=${PICPIPE_BENCH_SCRATCH:-.build-events-rel}
if [ ! -d "$IMAGES/jpeg12" ]; then "$SHARED/bench/make-images.sh" -j2 "$IMAGES"; fi
if [ -n "${PICPIPE_BENCH_BINARY:-}" ]; then
    BIN=$(realpath "$PICPIPE_BENCH_BINARY")
else
    swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product picpipe >&2
    BIN=$PWD/$SCRATCH/release/picpipe
fi
WORK=$(mktemp -d /tmp/picpipe-bench-events.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 - "$BIN" "$IMAGES/jpeg12" "$WORK" "$IDLE_COUNT" <<'PY'
import hashlib, os, signal, socket, sqlite3, statistics, subprocess, sys, time, urllib.request
from urllib.parse import urlsplit, urlunsplit

binary, source_dir, work, idle_count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
server_url = os.environ.get("PICPIPE_BENCH_DATABASE_URL", "")
rounds = int(os.environ.get("PICPIPE_BENCH_ROUNDS", "3"))
burst_count = int(os.environ.get("PICPIPE_BENCH_FILES", "200"))
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
# A shorter run (PICPIPE_BENCH_FILES) takes every tenth copy first, so it still has distinct pictures of each source.
files.sort(key=lambda entry: (entry[0].rsplit("-c", 1)[1], entry[0]))
burst_files = files[:burst_count]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def psql(url, sql):
    return subprocess.run(["psql", url, "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                          capture_output=True, text=True).stdout

class Postgres:
    """A fresh database per run on the benchmark's server, and a psql session kept open to poll it."""
    counter = 0
    def __init__(self):
        Postgres.counter += 1
        self.name = f"picpipe_bench_{os.getpid()}_{Postgres.counter}"
        psql(server_url, f"CREATE DATABASE {self.name}")
        parts = urlsplit(server_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, "/" + self.name, parts.query, ""))
        self.session = None
    def query(self, sql):
        if self.session is None:
            self.session = subprocess.Popen(["psql", self.url, "-Atq"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.session.stdin.write(sql + ";\n\\echo __end__\n")
        rows = []
        while True:
            line = self.session.stdout.readline()
            if line == "" or line.strip() == "__end__":
                return rows
            rows.append(line.rstrip("\n"))
    def warm(self):
        """Starts the psql session before the first file is timed (its start took ~30 ms off the first file's
        latency, which was each PostgreSQL round's p99 before session 15)."""
        self.query("SELECT 1")
    def has_metadata(self, digests):
        if not digests:
            return set()
        listed = ",".join(f"'{d}'" for d in digests)
        return set(self.query(f"SELECT sha256 FROM picpipe_metadata.image WHERE sha256 IN ({listed})"))
    def journal_rows(self):
        rows = self.query("""SELECT e.etag, e.created_at, a.function, a.started_at, a.duration FROM
            picpipe_journal.events e JOIN picpipe_journal.invocations i ON i.event_id = e.id
            JOIN picpipe_journal.attempts a ON a.invocation_id = i.id""")
        out = []
        for row in rows:
            etag, created, function, started, seconds = row.split("|")
            out.append((etag, float(created), function, float(started), float(seconds)))
        return out
    def close(self):
        if self.session is not None:
            self.session.stdin.close()
            self.session.wait()
        psql(server_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

class SQLite:
    def __init__(self, store):
        self.store = store
        self.db = None
    def warm(self):
        pass  # the file is opened on the first poll once serve has made it (a few milliseconds at most)
    def has_metadata(self, digests):
        if self.db is None:
            path = os.path.join(self.store, "db", "metadata.sqlite")
            if not os.path.exists(path):
                return set()
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        found = set()
        for digest in digests:
            try:
                if self.db.execute("SELECT 1 FROM image WHERE sha256 = ?", (digest,)).fetchone():
                    found.add(digest)
            except sqlite3.OperationalError:  # the table is not made yet
                pass
        return found
    def journal_rows(self):
        journal = sqlite3.connect(f"file:{os.path.join(self.store, 'db', 'events.sqlite')}?mode=ro", uri=True)
        return journal.execute("""SELECT e.etag, e.created_at, a.function, a.started_at, a.duration FROM events e
            JOIN invocations i ON i.event_id = e.id JOIN attempts a ON a.invocation_id = i.id""").fetchall()
    def close(self):
        pass

def environment(workers, database):
    env = dict(os.environ)
    env.update({
        "PICPIPE_FUNCTIONS_THUMBNAIL_CONCURRENCY": str(workers),
        "PICPIPE_FUNCTIONS_METADATA_CONCURRENCY": str(workers),
        "PICPIPE_LOG_LEVEL": "warning",
    })
    env.pop("PICPIPE_CONFIG", None)
    env.pop("PICPIPE_DATABASE_URL", None)
    if isinstance(database, Postgres):
        env["PICPIPE_DATABASE_URL"] = database.url
    return env

def start(store, workers, database, label, extra_workers=0):
    """One serve with every role (and `extra_workers` more `serve --roles worker` processes); returns them."""
    env = environment(workers, database)
    port = free_port()
    log = open(os.path.join(work, f"serve-{label}.log"), "w")
    procs = [subprocess.Popen([binary, "serve", "--store", store, "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=log, stderr=log)]
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            break
        except Exception:
            if procs[0].poll() is not None or time.time() > deadline:
                raise SystemExit(f"serve did not start; see {log.name}")
            time.sleep(0.05)
    for index in range(extra_workers):
        procs.append(subprocess.Popen([binary, "serve", "--store", store, "--roles", "worker"], env=env,
                                      stdout=log, stderr=log))
    time.sleep(1.0 if extra_workers else 0.5)
    for proc in procs:
        if proc.poll() is not None:
            raise SystemExit(f"a serve process exited; see {log.name}")
    return procs

def stop(procs):
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)

def thumbnails_done(store, digest):
    return all(os.path.exists(os.path.join(store, "thumbnails", size, digest[:2], f"{digest}-inside-q82-srgb.jpg"))
               for size in sizes)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * p)))]

def new_database(mode, store):
    return Postgres() if mode == "postgresql" else SQLite(store)

def idle(mode, round_number):
    """One file at a time, the next only once the previous is fully visible."""
    store = os.path.join(work, f"idle-{mode}-{round_number}")
    database = new_database(mode, store)
    procs = start(store, 1, database, f"idle-{mode}-{round_number}")
    database.warm()
    latencies = []
    renamed_at = {}
    latency_of = {}
    for path, digest in files[:idle_count]:
        target = os.path.join(store, "uploads", os.path.basename(path))
        t0 = time.perf_counter()
        renamed_at[digest] = time.time()
        os.rename(path, target)
        while not (thumbnails_done(store, digest) and database.has_metadata([digest])):
            time.sleep(0.0005)
        latencies.append((time.perf_counter() - t0) * 1000)
        latency_of[digest] = (len(latencies), latencies[-1])
        time.sleep(0.05)
        os.rename(os.path.join(store, "originals", digest[:2], digest + ".jpg"), path)  # reuse the bytes later
    stop(procs)
    # Where the idle time goes, from the journal: ingest (rename -> event journaled), queue (journaled ->
    # function started), and each function's own duration.
    ingest, queue, duration = [], {}, {}
    rows = database.journal_rows()
    # The slowest files with their journal times (milliseconds after the rename): where a p99 came from.
    for digest, (number, total) in sorted(latency_of.items(), key=lambda item: -item[1][1])[:3]:
        parts = [f"{function} journaled +{(created - renamed_at[digest]) * 1000:.1f} started "
                 f"+{(started - renamed_at[digest]) * 1000:.1f} ran {seconds * 1000:.1f}"
                 for etag, created, function, started, seconds in rows if etag == digest]
        print(f"    slow: file #{number} {total:.1f} ms: " + "; ".join(parts), flush=True)
    for etag, created, function, started, seconds in rows:
        if function == "thumbnail" and etag in renamed_at:
            ingest.append((created - renamed_at[etag]) * 1000)
        queue.setdefault(function, []).append((started - created) * 1000)
        duration.setdefault(function, []).append(seconds * 1000)
    database.close()
    p50, p99 = pct(latencies, 0.5), pct(latencies, 0.99)
    print(f"  idle {mode}: {len(latencies)} files, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms; "
          f"ingest p50 {pct(ingest, 0.5):.1f} p99 {pct(ingest, 0.99):.1f} ms; " +
          "; ".join(f"{f} queue p50 {pct(queue[f], 0.5):.1f} p99 {pct(queue[f], 0.99):.1f} ms run p50 "
                    f"{pct(duration[f], 0.5):.1f} p99 {pct(duration[f], 0.99):.1f} ms" for f in sorted(queue)),
          flush=True)
    return p50, p99

def burst(mode, workers, extra_workers, round_number):
    """All 200 renamed in at once; time from the first rename to the last file visible."""
    label = f"burst-{mode}-{workers}w-{1 + extra_workers}p-{round_number}"
    store = os.path.join(work, label)
    database = new_database(mode, store)
    procs = start(store, workers, database, label, extra_workers)
    database.warm()
    # Checked in upload order, each pass stopping at the first file not done yet (the queue is first in, first out,
    # so later ones are rarely done before it; they are seen on a later pass). Checking all pending files every
    # 2 ms (before session 13) took about a third of a core away from the processes measured.
    pending = [digest for _, digest in burst_files]
    t0 = time.perf_counter()
    for path, digest in burst_files:
        os.link(path, os.path.join(work, "tmp-link"))
        os.rename(os.path.join(work, "tmp-link"), os.path.join(store, "uploads", os.path.basename(path)))
    while pending:
        done = []
        for digest in pending:
            if not thumbnails_done(store, digest):
                break
            done.append(digest)
        visible = database.has_metadata(done)
        pending = [digest for digest in pending if digest not in visible]
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    stop(procs)
    database.close()
    rate = len(burst_files) / elapsed
    print(f"  {label}: {rate:.2f} images/s ({elapsed:.2f} s for {len(burst_files)})", flush=True)
    return rate

def load():
    return open("/proc/loadavg").read().split()[0]

modes = ["sqlite", "postgresql"] if server_url else ["sqlite"]
results = {}
def note(key, value):
    results.setdefault(key, []).append(value)

for number in range(1, rounds + 1):
    print(f"round {number} (load {load()})", flush=True)
    for mode in modes:
        p50, p99 = idle(mode, number)
        note(f"idle p50 {mode}", p50)
        note(f"idle p99 {mode}", p99)
    one = {mode: burst(mode, 1, 0, number) for mode in modes}
    for mode in modes:
        note(f"throughput 1 process {mode}", one[mode])
    if server_url:
        two = burst("postgresql", 1, 1, number)
        note("throughput 2 worker processes postgresql", two)
        note("ratio postgresql/sqlite, 1 process", one["postgresql"] / one["sqlite"])
        note("ratio 2 worker processes/1, postgresql", two / one["postgresql"])
    double = burst("sqlite", 2, 0, number)
    note("throughput 1 process 2 workers sqlite", double)
    note("ratio 2 workers/1 in one process, sqlite", double / one["sqlite"])
    print(f"  (load {load()})", flush=True)

print(f"medians of {rounds} round(s) (load {load()}):")
for key, values in results.items():
    shown = ", ".join(f"{v:.2f}" for v in values)
    print(f"  {key}: {statistics.median(values):.2f} ({shown})")
PY
