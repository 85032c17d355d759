#!/usr/bin/env bash
# Gallery benchmark: 2,000 pictures in a store (`picpipe batch`), `picpipe serve`, headless Chromium (Selenium).
#  1. the first grid page with an empty browser cache, 10 times: Navigation Timing loadEventEnd, and "grid ready"
#     (the first API page drawn and every thumbnail in the 1920x1080 viewport decoded), medians;
#  2. scrolling to the 2,000th picture: the largest listing request (limit) the page made;
#  3. a picture renamed into uploads/ while the page is open, 10 times: from the moment all its thumbnails exist on
#     disk to its tile in the page (the page stamps Date.now() when the tile is inserted), median.
# Not part of CI. Needs chromium, chromium-driver and selenium in .build-venv (as .ci/run installs them).
# Usage: scripts/bench-gallery.sh [COUNT]   (PICPIPE_BENCH_BINARY=path uses that binary instead of a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-2000}
if [ -n "${PICPIPE_BENCH_BINARY:-}" ]; then
    BIN=$(realpath "$PICPIPE_BENCH_BINARY")
else
    swift build -c release --scratch-path .build-gallery-rel --product picpipe >&2
    BIN=$PWD/.build-gallery-rel/release/picpipe
fi
VENV=${PICPIPE_TEST_VENV:-.build-venv}
WORK=$(mktemp -d /tmp/picpipe-bench-gallery.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$VENV/bin/python" - "$BIN" "$WORK" "$COUNT" "Fixtures/../../shared/corpus" <<'PY'
import glob, hashlib, json, os, re, shutil, statistics, subprocess, sys, time, urllib.request
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
    ready_js = """
      const done = arguments[0];
      const check = () => {
        const tiles = [...document.querySelectorAll('#grid a.tile')];
        const visible = tiles.map(t => t.firstChild).filter(i => i.getBoundingClientRect().top < innerHeight);
        if (tiles.length >= 60 && visible.length && visible.every(i => i.complete && i.naturalWidth > 0)) {
          const nav = performance.getEntriesByType('navigation')[0];
          const wait = () => nav.loadEventEnd > 0 ? done([nav.loadEventEnd, performance.now(), visible.length])
                                                  : setTimeout(wait, 5);
          wait();
        } else setTimeout(check, 5);
      };
      check();"""
    driver.set_script_timeout(60)
    loads, readies = [], []
    for run in range(11):
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        driver.get(base + "/")
        load, ready, visible = driver.execute_async_script(ready_js)
        if run == 0:
            continue  # the first run warms the server's file cache and the browser process
        loads.append(load); readies.append(ready)
    print(f"first page, empty browser cache, median of 10: loadEventEnd {statistics.median(loads):.0f} ms "
          f"(min {min(loads):.0f}, max {max(loads):.0f}); grid ready ({visible} thumbnails in the viewport decoded) "
          f"{statistics.median(readies):.0f} ms (min {min(readies):.0f}, max {max(readies):.0f})", flush=True)

    # Scroll to the end: every listing request stays one page (an observer: the resource timing buffer holds 250).
    driver.execute_script("""
      window.benchLimits = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.name.includes('/images?')) benchLimits.push(new URL(e.name).searchParams.get('limit'));
      }).observe({type: 'resource', buffered: true});""")
    started = time.time()
    count_js = "return document.querySelectorAll('#grid a.tile').length"
    while driver.execute_script(count_js) < listed and time.time() - started < 600:
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        time.sleep(0.05)
    tiles = driver.execute_script(count_js)
    limits = [int(m) for m in driver.execute_script("return window.benchLimits")]
    print(f"scrolled to picture {tiles} of {listed} in {time.time() - started:.1f} s: {len(limits)} listing requests, "
          f"largest limit={max(limits)}", flush=True)

    # Live: a new picture's tile after its thumbnails exist.
    driver.execute_script("""
      window.benchSeen = {};
      new MutationObserver(() => {
        for (const t of document.querySelectorAll('#grid a.tile')) if (!(t.dataset.id in benchSeen)) benchSeen[t.dataset.id] = Date.now();
      }).observe(document.getElementById('grid'), {childList: true});
      for (const t of document.querySelectorAll('#grid a.tile')) benchSeen[t.dataset.id] = 0;""")
    latencies = []
    for path, sha in extras:
        target = os.path.join(store, "uploads", os.path.basename(path))
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
            if seen:
                latencies.append(seen - thumbs); break
            time.sleep(0.01)
    print(f"new upload visible after its thumbnails exist, median of {len(latencies)}: "
          f"{statistics.median(latencies):.0f} ms (min {min(latencies):.0f}, max {max(latencies):.0f})", flush=True)
    driver.quit()
finally:
    serve.terminate()
    serve.wait(60)
PY
