#!/usr/bin/env python3
"""Where the cores go in the events benchmark's burst: 200 distinct 12 MP JPEGs (the jpeg12 set, ten copies each
with their own COM segment) renamed into one `serve` on PostgreSQL (1 worker per function), with EXTRA more
`serve --roles worker` processes; prints images/s and, from /proc before and after, each picpipe process's CPU
time (by thread name) and the PostgreSQL server's. Not part of CI.

    scripts/bench-events-cpu.py PICPIPE_BINARY EXTRA_WORKER_PROCESSES SERVER_URL [IMAGES_DIR]

SERVER_URL is a maintenance database (postgres://postgres@127.0.0.1:PORT/postgres, from
`scripts/test-postgres.sh start --durable`); a fresh database is made and dropped. PICPIPE_BENCH_SPARE_CORES=0 in
the environment turns the thumbnail function's resize-while-decoding off.
"""
import collections, glob, hashlib, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

binary, extra, server_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
images = sys.argv[4] if len(sys.argv) > 4 else "/tmp/bench-imgs"
work = tempfile.mkdtemp(prefix="picpipe-events-cpu.")
os.makedirs(f"{work}/staging")
files = []
for name in sorted(glob.glob(f"{images}/jpeg12/*.jpg")):
    data = open(name, "rb").read()
    for copy in range(10):
        comment = f"picpipe bench copy {copy} of {os.path.basename(name)}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        out = data[:2] + segment + data[2:]
        target = f"{work}/staging/{os.path.basename(name)[:-4]}-c{copy}.jpg"
        open(target, "wb").write(out)
        files.append((target, hashlib.sha256(out).hexdigest()))
database = f"picpipe_cpu_{os.getpid()}"
subprocess.run(["psql", server_url, "-Atq", "-c", f"CREATE DATABASE {database}"], check=True)
url = server_url.rsplit("/", 1)[0] + "/" + database
env = dict(os.environ, PICPIPE_FUNCTIONS_THUMBNAIL_CONCURRENCY="1", PICPIPE_FUNCTIONS_METADATA_CONCURRENCY="1",
           PICPIPE_LOG_LEVEL="warning", PICPIPE_DATABASE_URL=url)
env.pop("PICPIPE_CONFIG", None)
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
store = f"{work}/store"
log = open(f"{work}/serve.log", "w")
procs = [subprocess.Popen([binary, "serve", "--store", store, "--listen", f"127.0.0.1:{port}"], env=env,
                          stdout=log, stderr=log)]
for _ in range(600):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
        break
    except Exception:
        time.sleep(0.05)
for _ in range(extra):
    procs.append(subprocess.Popen([binary, "serve", "--store", store, "--roles", "worker"], env=env,
                                  stdout=log, stderr=log))
time.sleep(1.0)

def stat_ticks(path):
    fields = open(path).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

def snapshot():
    processes, threads = {}, {}
    for proc in procs:
        processes[proc.pid] = stat_ticks(f"/proc/{proc.pid}/stat")
        names = collections.Counter()
        for task in glob.glob(f"/proc/{proc.pid}/task/*"):
            try:
                names[open(f"{task}/comm").read().strip()] += stat_ticks(f"{task}/stat")
            except OSError:
                pass
        threads[proc.pid] = names
    postgres = 0
    for pid in subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True).stdout.split():
        try:
            postgres += stat_ticks(f"/proc/{pid}/stat")
        except OSError:
            pass
    return processes, threads, postgres, os.times()

def done():
    for size in ("128", "256", "1024"):
        for _, digest in files:
            if not os.path.exists(f"{store}/thumbnails/{size}/{digest[:2]}/{digest}-inside-q82-srgb.jpg"):
                return False
    rows = subprocess.run(["psql", url, "-Atq", "-c", "SELECT count(*) FROM picpipe_metadata.image"],
                          capture_output=True, text=True).stdout.strip()
    return rows == str(len(files))

before = snapshot()
start = time.time()
for path, _ in files:
    os.link(path, f"{work}/link")
    os.rename(f"{work}/link", f"{store}/uploads/{os.path.basename(path)}")
while not done():
    time.sleep(0.1)
elapsed = time.time() - start
after = snapshot()
hz = os.sysconf("SC_CLK_TCK")
print(f"{1 + extra} process(es): {len(files) / elapsed:.2f} images/s ({elapsed:.2f} s)")
for proc in procs:
    print(f"  picpipe pid {proc.pid}: {(after[0][proc.pid] - before[0][proc.pid]) / hz:.2f} s CPU "
          "(by thread: those still running at the end)")
    grown = {name: (ticks - before[1][proc.pid].get(name, 0)) / hz for name, ticks in after[1][proc.pid].items()}
    for name, seconds in sorted(grown.items(), key=lambda item: -item[1])[:6]:
        if seconds >= 0.05:
            print(f"      {name}: {seconds:.2f} s")
harness = sum(after[3][:4]) - sum(before[3][:4])
print(f"  PostgreSQL server: {(after[2] - before[2]) / hz:.2f} s CPU; this script and its psql: {harness:.2f} s")
for proc in procs:
    proc.send_signal(signal.SIGTERM)
for proc in procs:
    proc.wait(timeout=60)
subprocess.run(["psql", server_url, "-Atq", "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])
subprocess.run(["rm", "-rf", work])
