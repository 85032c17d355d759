#!/usr/bin/env bash
# Gallery benchmark: 2,000 pictures in a store (`picpipe batch`), `picpipe serve`, headless Chromium (Selenium),
# 1920x1080. Each figure next to its peer measured in the same run, and the load average.
#  1. the first grid page with an empty browser cache, 10 rounds: Navigation Timing loadEventEnd, and how many of
#     the first 60 thumbnails were decoded by then; interleaved with the peer, a static page of 60 plain <img>
#     of the same thumbnails; medians and the median ratio;
#  2. scrolling to the 2,000th picture: the time, and the largest listing request (limit) the page made;
#  3. a picture renamed into uploads/ while the page is open, 10 times: from the moment all its thumbnails exist on
#     disk to its tile in the page (the page stamps Date.now() when the tile is inserted), median; the peer, the
#     same event's frame at a plain SSE client; the API requests the page made for it.
# Not part of CI. Needs chromium, chromium-driver and selenium in .build-venv (as .ci/run installs them).
# Usage: scripts/bench-gallery.sh [COUNT]   (PICPIPE_BENCH_BINARY=path uses that binary instead of a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-2000}
if [ -n "${PICPIPE_BENCH_BINARY:-}" ]; then
    BIN=$(realpath "$PICPIPE_BENCH_BINARY")
else
    swift build -c release --static-swift-stdlib --scratch-path .build-rel --product picpipe >&2
    BIN=$PWD/.build-rel/release/picpipe
fi
VENV=${PICPIPE_TEST_VENV:-.build-venv}
WORK=$(mktemp -d /tmp/picpipe-bench-gallery.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$VENV/bin/python" - "$BIN" "$WORK" "$COUNT" "Fixtures/../../shared/corpus" <<'PY'
import glob, hashlib, json, os, re, shutil, statistics, subprocess, sys, threading, time, urllib.request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

binary, work, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
corpus = os.path.realpath(os.path.join(os.getcwd(), "..", "shared", "corpus"))

# COUNT + 10 distinct JPEGs: each a corpus camera JPEG with a distinct COM segment after SOI (same pixels and EXIF,
# different bytes).
bases = sorted(glob.glob(os.path.join(corpus, "jpeg-exif", "*.jpg")))
# The small ones (under 100 KB: seven cameras, dates from 2006 to 2023): the benchmark is about the page, not decoding.
bases = [b for b in bases if os.path.getsize(b) < 100_000] or bases
staging, extra = os.path.join(work, "staging"), os.path.join(work, "extra")
os.makedirs(staging); os.makedirs(extra)
def variant(index, folder):
    data = open(bases[index % len(bases)], "rb").read()
    comment = f"picpipe gallery bench {index}".encode()
    out = data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]
    path = os.path.join(folder, f"bench-{index:05d}.jpg")
    open(path, "wb").write(out)
    return path, hashlib.sha256(out).hexdigest()
for index in range(count):
    variant(index, staging)
extras = [variant(count + index, extra) for index in range(10)]
store = os.path.join(work, "store")
started = time.time()
subprocess.run([binary, "batch", staging, "--store", store], check=True, stdout=subprocess.DEVNULL)
print(f"store: {count} pictures from {len(bases)} corpus camera files, batch took {time.time() - started:.0f} s", flush=True)

env = dict(os.environ, PICPIPE_LISTEN="127.0.0.1:0", PICPIPE_LOG_LEVEL="info")
log = open(os.path.join(work, "serve.log"), "w+")
serve = subprocess.Popen([binary, "serve", "--store", store], stdout=log, stderr=log, env=env)
try:
    port = None
    for _ in range(600):
        log.seek(0)
        line = next((l for l in log.read().splitlines() if "http listening" in l), "")
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1)); break
        time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    listed = json.load(urllib.request.urlopen(f"{base}/cameras"))["total"]
    print(f"serve at {base}: {listed} pictures listed", flush=True)

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1920,1080",
                 "--disable-background-networking", "--no-first-run", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    driver.set_script_timeout(600)

    # The peer: a static page of plain <img> tags for the same first 60 thumbnails (the size the grid's srcset
    # picks), no script: the least any page showing them can take on this machine now.
    first = json.load(urllib.request.urlopen(f"{base}/images?limit=60"))["items"]
    floor = os.path.join(work, "floor.html")
    with open(floor, "w") as out:
        out.write("<!doctype html><title>floor</title>" + "".join(
            f'<img src="{base}{item["urls"]["thumbnails"]["256"]}" width="150" height="150" alt="">' for item in first))
    # After the load event: the navigation timing, how many of the first page's thumbnails had been fetched and
    # decoded by then, and how many requests the page made before it.
    measure_js = """
      const done = arguments[0];
      const wait = () => {
        const nav = performance.getEntriesByType('navigation')[0];
        if (!nav || nav.loadEventEnd <= 0) { setTimeout(wait, 5); return; }
        const resources = performance.getEntriesByType('resource');
        const before = resources.filter(e => e.responseEnd <= nav.loadEventStart);
        const images = [...document.querySelectorAll('img')].filter(i => i.src.includes('/thumbnails/')).slice(0, 60);
        done([nav.loadEventEnd, before.length, before.filter(e => e.name.includes('/thumbnails/')).length,
              images.filter(i => i.complete && i.naturalWidth > 0).length, images.length]);
      };
      wait();"""
    loads, floors, details = [], [], []
    for run in range(11):
        for kind in ("gallery", "floor"):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.get(base + "/" if kind == "gallery" else "file://" + floor)
            load, requests, thumbnails, decoded, images = driver.execute_async_script(measure_js)
            if run == 0:
                continue  # the first round warms the server's file cache and the browser process
            if kind == "gallery":
                loads.append(load); details.append((requests, thumbnails, decoded, images))
            else:
                floors.append(load)
    ratio = statistics.median(a / b for a, b in zip(loads, floors))
    requests, thumbnails, decoded, images = details[len(details) // 2]
    print(f"first page, empty browser cache, median of 10: loadEventEnd {statistics.median(loads):.0f} ms "
          f"(min {min(loads):.0f}, max {max(loads):.0f}); peer (60 plain <img> of the same thumbnails) "
          f"{statistics.median(floors):.0f} ms; ratio {ratio:.2f}; at the load event {decoded} of {images} "
          f"first-page thumbnails decoded, {thumbnails} thumbnail responses of {requests} requests done; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)

    # Scroll to the end: the page loads each next page as its sentinel nears the viewport; the driver (in the
    # page, no WebDriver round trip per step) scrolls to the bottom after each frame until every tile is there.
    # Every listing request is recorded (an observer: the resource timing buffer holds 250).
    driver.get(base + "/")
    driver.execute_async_script(measure_js)
    started = time.time()
    # Started in the page and polled (a WebDriver command itself gives up after 120 s).
    driver.execute_script("""
      const total = arguments[0];
      const state = window.benchScroll = {limits: [], done: false};
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.name.includes('/images?')) state.limits.push(Number(new URL(e.name).searchParams.get('limit')));
      }).observe({type: 'resource', buffered: true});
      const start = performance.now();
      const count = () => document.querySelectorAll('#grid a.tile').length;
      const step = () => {
        window.scrollTo(0, document.body.scrollHeight);
        state.tiles = count();
        state.seconds = (performance.now() - start) / 1000;
        if (state.tiles >= total || state.seconds > 600) setTimeout(() => { state.done = true; }, 200);
        else requestAnimationFrame(step);
      };
      step();""", listed)
    while not driver.execute_script("return window.benchScroll.done"):
        time.sleep(1)
    tiles, limits, seconds = driver.execute_script(
        "return [window.benchScroll.tiles, window.benchScroll.limits, window.benchScroll.seconds]")
    print(f"scrolled to picture {tiles} of {listed} in {seconds:.1f} s: {len(limits)} listing requests, "
          f"largest limit={max(limits)} (one API page is at most 1000); load average {os.getloadavg()[0]:.1f}",
          flush=True)

    # Live: a picture renamed into uploads/, from the moment all its thumbnails exist on disk to its tile in the
    # page (a MutationObserver stamps it). The peer: the same event's frame read by a plain SSE client (Python,
    # its own connection) at the same moment: what the page adds to the stream's own latency.
    driver.execute_script("""
      window.benchSeen = {};
      new MutationObserver(() => {
        for (const t of document.querySelectorAll('#grid a.tile')) if (!(t.dataset.id in benchSeen)) benchSeen[t.dataset.id] = Date.now();
      }).observe(document.getElementById('grid'), {childList: true});
      for (const t of document.querySelectorAll('#grid a.tile')) benchSeen[t.dataset.id] = 0;
      window.scrollTo(0, 0);""")
    frames = {}
    def read_stream():
        with urllib.request.urlopen(f"{base}/events/stream", timeout=600) as stream:
            for line in stream:
                if line.startswith(b"data: "):
                    sha = json.loads(line[6:]).get("sha256")
                    frames.setdefault(sha, time.time() * 1000)
    threading.Thread(target=read_stream, daemon=True).start()
    time.sleep(1)
    latencies, peers, requests_during = [], [], []
    for path, sha in extras:
        target = os.path.join(store, "uploads", os.path.basename(path))
        driver.execute_script("performance.clearResourceTimings()")
        os.rename(path, target)
        thumbs = None
        deadline = time.time() + 60
        while time.time() < deadline:
            found = glob.glob(os.path.join(store, "thumbnails", "*", sha[:2], sha + "-*"))
            if len(found) >= 3:
                thumbs = time.time() * 1000; break
            time.sleep(0.002)
        while time.time() < deadline:
            seen = driver.execute_script("return window.benchSeen[arguments[0]]", sha)
            if seen and sha in frames:
                latencies.append(seen - thumbs); peers.append(frames[sha] - thumbs); break
            time.sleep(0.01)
        time.sleep(0.3)
        requests_during.append(driver.execute_script(
            "return performance.getEntriesByType('resource').filter(e => !e.name.includes('/thumbnails/')).length"))
    print(f"new upload visible after its thumbnails exist, median of {len(latencies)}: "
          f"{statistics.median(latencies):.0f} ms (min {min(latencies):.0f}, max {max(latencies):.0f}); peer (the "
          f"stream's frame at a plain SSE client) {statistics.median(peers):.0f} ms; API requests per update "
          f"(besides its thumbnail) {max(requests_during)}; load average {os.getloadavg()[0]:.1f}", flush=True)
    driver.quit()
finally:
    serve.terminate()
    serve.wait(60)
PY
