#!/usr/bin/env python3
"""The gallery in a real headless Chromium (Selenium) against a real `picpipe serve`.

    gallery_test.py --url http://127.0.0.1:PORT --store STORE --good GOOD.jpg --live LIVE.jpg \
        --artifacts DIR [--known-file apple-iphone-5.jpg]

The store must already hold the corpus pictures (the Swift test copies them into uploads/ and waits). Checks, in
order: grid count and endless scroll, a make filter, a camera found by typing, and a near + taken-after filter that
survive a reload, the detail view of a known camera file (exposure, date, GPS link), keyboard navigation, an upload
of a good and a corrupt file through the picker, a drag-and-drop upload, a file copied into uploads/ appearing
without a reload, delete, and on every page no console error and no request to another origin. With --protected-key
(reads need a key) or --write-key (only writes do) the checks of that mode run instead. Screenshots go to
--artifacts. Exit 0 only when every check passed.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

CHECKS = []


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    CHECKS.append(what)
    print(f"ok: {what}", flush=True)


def api(base, path, method="GET", body=None, content_type=None, key=None):
    request = urllib.request.Request(base + path, method=method, data=body)
    if content_type:
        request.add_header("Content-Type", content_type)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return json.loads(body) if body else None


def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame segment."""
    index = 2
    while index + 9 < len(data):
        marker, length = data[index + 1], int.from_bytes(data[index + 2:index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[index + 7:index + 9], "big"), int.from_bytes(data[index + 5:index + 7], "big")
        index += 2 + length
    return None


def listing(base, query="", key=None):
    """Every item of GET /images (walking the cursor)."""
    items, cursor = [], None
    while True:
        path = "/images?limit=1000" + (f"&{query}" if query else "") + (f"&cursor={cursor}" if cursor else "")
        page = api(base, path, key=key)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def api_error(base, path, data, name, content_type):
    """The error message the API answers for this file uploaded as a form (what the page must show)."""
    boundary = "picpipe-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    try:
        api(base, path, method="POST", body=body, content_type=f"multipart/form-data; boundary={boundary}")
    except urllib.error.HTTPError as error:
        return json.loads(error.read())["error"]["message"]
    raise AssertionError(f"the API accepted {name}")


def with_comment(jpeg, text):
    """The same JPEG with a comment segment after its start: other bytes (a new id), the same picture."""
    comment = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


def with_camera(jpeg, make, model):
    """The same JPEG with an EXIF segment naming a camera (IFD0 Make and Model, little-endian TIFF)."""
    values = [make.encode() + b"\0", model.encode() + b"\0"]
    data_at = 8 + 2 + 2 * 12 + 4
    entries, data = b"", b""
    for tag, value in zip((0x010F, 0x0110), values):
        entries += tag.to_bytes(2, "little") + (2).to_bytes(2, "little") + len(value).to_bytes(4, "little")
        entries += (data_at + len(data)).to_bytes(4, "little")
        data += value
    tiff = b"II*\0" + (8).to_bytes(4, "little") + (2).to_bytes(2, "little") + entries + bytes(4) + data
    segment = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(segment) + 2).to_bytes(2, "big") + segment + jpeg[2:]


def load(driver, url=None):
    """Opens `url` (or reloads), then raises the resource timing buffer from its 250 entries, so no request of a
    long-lived page falls out of what the audit reads; none was dropped before (fewer than 250 so far)."""
    if url:
        driver.get(url)
    else:
        driver.refresh()
    count = driver.execute_script("performance.setResourceTimingBufferSize(5000);"
                                  "return performance.getEntriesByType('resource').length")
    if count >= 250:
        raise AssertionError(f"{count} resource entries at load: some may have been dropped")


def drop_files(driver, files):
    """Drags `files` ([(name, bytes, type)]) over the drop zone and drops them, as a person's drag from the file
    manager does: a DataTransfer holding Files built in the page. Whether each event was taken (default prevented,
    so the browser neither refuses the drop nor opens the file) and whether the zone lit up during the drag."""
    return driver.execute_script("""
      const files = arguments[0].map(([name, data, type]) =>
        new File([Uint8Array.from(atob(data), c => c.charCodeAt(0))], name, {type}));
      const zone = document.getElementById('drop');
      const send = (type) => {
        const transfer = new DataTransfer();
        for (const file of files) transfer.items.add(file);
        const event = new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true});
        zone.dispatchEvent(event);
        return event.defaultPrevented;
      };
      const over = send('dragover');
      const lit = zone.classList.contains('over');
      const dropped = send('drop');
      return [over, lit, dropped, zone.classList.contains('over')];""",
        [[name, base64.b64encode(data).decode(), kind] for name, data, kind in files])


def wait(driver, what, condition, seconds=60):
    # A condition that reads elements can meet one the page has just re-rendered (the grid redraws when an upload
    # lands): that poll is retried, as a person would look again.
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.05,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for: {what}")


def scrolled_to(selector):
    """A wait condition: the tiles matching `selector`, scrolling to the end first as a person looking for a picture
    would (a new picture takes its place in the listing's order, which may be past the pages loaded so far)."""
    def condition(driver):
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        return driver.find_elements(By.CSS_SELECTOR, selector)
    return condition


def tiles(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#grid a.tile")


def detail_facts(driver):
    """The detail view's metadata table, label to text."""
    return {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
            for row in driver.find_elements(By.CSS_SELECTOR, "#facts tr")}


def open_detail(driver, picture_id):
    """Scrolls to the picture's tile, opens its detail view and waits for its metadata; the table."""
    tile = wait(driver, f"the tile of {picture_id}", scrolled_to(f'#grid a.tile[data-id="{picture_id}"]'))[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
    tile.click()
    return wait(driver, f"the metadata of {picture_id}", lambda d: (lambda f: f if f.get("Id") == picture_id else None)(
        detail_facts(d)))


class Page:
    """Collects the browser log and the requests of every document the test leaves."""

    def __init__(self, driver, base):
        self.driver = driver
        self.base = base
        self.problems = []
        self.requests = 0
        self.allowed_errors = []  # substrings of expected network errors (the corrupt upload's answer)

    def audit(self, label):
        """No console error and no request to another origin since the last audit (log) / on this document. The
        allowed errors are those of this step only: forgotten here, so a later step's same error is not excused."""
        names = self.driver.execute_script(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".map(e => e.name)")
        foreign = [name for name in names if not name.startswith(self.base + "/")]
        check(not foreign, f"{label}: every request ({len(names)}) went to {self.base}, none elsewhere {foreign}")
        self.requests += len(names)
        errors = []
        for entry in self.driver.get_log("browser"):
            if entry["level"] not in ("SEVERE", "ERROR"):
                continue
            message = entry["message"]
            # An allowed error is a substring, or a tuple of substrings that must all be in the message.
            if any(all(part in message for part in (allowed if isinstance(allowed, tuple) else (allowed,)))
                   for allowed in self.allowed_errors):
                continue
            errors.append(message)
        self.allowed_errors = []
        check(not errors, f"{label}: no console errors {errors}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--good", help="a picture not in the store, uploaded through the picker (dropped with "
                        "--write-key)")
    parser.add_argument("--live", help="a picture not in the store, copied into uploads/")
    parser.add_argument("--put", help="a picture stored under a chosen id (PUT) before the page replaces it")
    parser.add_argument("--replacement", help="the picture the page puts under that id instead")
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--known-file", default="apple-iphone-5.jpg")
    parser.add_argument("--serve-pid", type=int, help="the running serve, stopped for the restart check")
    parser.add_argument("--binary", help="picpipe, started again on the same address")
    parser.add_argument("--config", help="the configuration file serve runs with (PICPIPE_CONFIG), for a restart")
    parser.add_argument("--protected-key", help="reads need this API key (http.protect_reads, signed URLs): run "
                        "the checks of that mode instead")
    parser.add_argument("--webp", help="with --protected-key: a WebP picture PUT under an id without extension "
                        "while the key is forgotten")
    parser.add_argument("--write-key", help="API keys are configured but reads are public: run the checks of that "
                        "mode instead (write controls only with the key, kept for the tab)")
    parser.add_argument("--read-only-key", help="with --write-key: a key of scope images:read only, offered no write "
                        "control")
    parser.add_argument("--upload-key", help="with --write-key: a key of scopes images:read and images:write, offered "
                        "upload and replace but no delete")
    parser.add_argument("--links", action="store_true", help="the store holds the pictures of the detail view's "
                        "odd cases (turned HEIF, tiny) and a few dated ones: run the checks of URLs and odd pictures "
                        "instead (dimensions, date filters in the URL, the detail view's own URL, tiny pictures)")
    parser.add_argument("--deep-links", action="store_true", help="the store holds more than three grid pages: run "
                        "the checks of links to pictures past the first page instead")
    parser.add_argument("--retries", action="store_true", help="the store holds more than three grid pages: run the "
                        "checks of pages that fail (a restart mid-scroll, a usage plan's 429) instead; needs "
                        "--serve-pid, --binary and --slow-key")
    parser.add_argument("--empty", action="store_true", help="the store holds no picture: run the checks of a new "
                        "library instead (what the empty page says, the first uploads)")
    parser.add_argument("--max-body", type=int, help="with --empty: serve's http.max_body_bytes, which a file "
                        "dropped is made larger than")
    parser.add_argument("--slow-key", help="with --retries: a key whose usage plan admits two requests at once, then "
                        "one in four seconds")
    arguments = parser.parse_args()
    if arguments.links or arguments.deep_links or arguments.empty:
        pass
    elif arguments.retries:
        if not all((arguments.serve_pid, arguments.binary, arguments.slow_key)):
            parser.error("--serve-pid, --binary and --slow-key are needed with --retries")
    elif arguments.write_key:
        if not arguments.good:
            parser.error("--good is needed with --write-key")
    elif not arguments.live:
        parser.error("--live is needed without --write-key")
    elif not arguments.protected_key and not all(
            (arguments.good, arguments.put, arguments.replacement, arguments.serve_pid, arguments.binary)):
        parser.error("--good, --put, --replacement, --serve-pid and --binary are needed without --protected-key")
    base = arguments.url.rstrip("/")
    os.makedirs(arguments.artifacts, exist_ok=True)

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--disable-background-networking", "--no-first-run", "--disable-gpu"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Debian's chromedriver, named: Selenium Manager would otherwise look for one on the network.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    page = Page(driver, base)
    restarted = []
    try:
        if arguments.protected_key:
            run_protected(driver, page, base, arguments)
        elif arguments.write_key:
            run_write_key(driver, page, base, arguments)
        elif arguments.links:
            run_links(driver, page, base, arguments)
        elif arguments.deep_links:
            run_deep_links(driver, page, base, arguments)
        elif arguments.retries:
            run_retries(driver, page, base, arguments, restarted)
        elif arguments.empty:
            run_empty(driver, page, base, arguments)
        else:
            run(driver, page, base, arguments, restarted)
    except Exception:
        driver.save_screenshot(os.path.join(arguments.artifacts, "failure.png"))
        raise
    finally:
        driver.quit()
        for serve in restarted:
            serve.send_signal(signal.SIGTERM)
            serve.wait(60)
    print(f"gallery browser suite: {len(CHECKS)} checks passed, {page.requests} same-origin requests", flush=True)


def wait_settled(base, store, key=None):
    """Until uploads/ is empty and no invocation is queued: every corpus picture has been read (or refused)."""
    deadline = time.time() + 600
    while time.time() < deadline:
        pending = [name for name in os.listdir(os.path.join(store, "uploads")) if not name.startswith(".")]
        try:
            health = api(base, "/healthz", key=key)
        except Exception:
            health = None
        if not pending and health and not any(health["queued"].values()):
            return
        time.sleep(0.2)
    raise AssertionError("the store did not settle within 10 minutes")


def run(driver, page, base, arguments, restarted):
    wait_settled(base, arguments.store)
    stored = listing(base)
    total = len(stored)
    check(total > 60, f"the store lists {total} pictures, more than one grid page (60)")

    # 1. Grid: the first page, then the rest on scroll; thumbnails through srcset; the count.
    load(driver, base + "/")
    wait(driver, "first page of tiles", lambda d: len(tiles(d)) == 60)
    check(len(tiles(driver)) == 60, "the grid shows the first page: 60 tiles")
    count = driver.find_element(By.ID, "count")
    wait(driver, "count", lambda d: count.get_attribute("data-count") == str(total))
    check(count.text == f"{total} pictures", f"the count says '{count.text}'")
    first = tiles(driver)[0].find_element(By.TAG_NAME, "img")
    wait(driver, "first thumbnail decoded", lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", first))
    srcset = first.get_attribute("srcset")
    check(srcset.count(" 128w") == 1 and " 256w" in srcset and " 1024w" in srcset,
          f"a tile's srcset names every configured size: {srcset[:80]}…")
    # The server embeds the first listing page: its thumbnails are in the document while the module runs, so the
    # load event waits for them (what the benchmark's loadEventEnd measures).
    at_load = driver.execute_async_script("""
      const done = arguments[0];
      const wait = () => {
        const nav = performance.getEntriesByType('navigation')[0];
        if (!nav || nav.loadEventEnd <= 0) { setTimeout(wait, 5); return; }
        const thumbnails = performance.getEntriesByType('resource').filter(e => e.name.includes('/thumbnails/'));
        done([thumbnails.filter(e => e.responseEnd <= nav.loadEventStart).length,
              performance.getEntriesByType('resource')
                .filter(e => e.name.includes('/images?') && e.startTime < nav.loadEventStart).length]);
      };
      wait();""")
    check(at_load == [60, 0], f"the first 60 thumbnails were loaded before the load event, with no listing request "
          f"(the first page is embedded): {at_load}")
    check("/thumbnails/" in driver.execute_script("return arguments[0].currentSrc", first),
          "the browser picked a thumbnail from the srcset")
    box = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]",
                                tiles(driver)[0])
    check(abs(box[0] - box[1]) < 1, f"tiles are fixed square boxes ({box[0]:.0f}×{box[1]:.0f})")
    headers = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#grid h2.month")]
    check(len(headers) >= 2, f"month headers group the grid: {headers[:3]}…")
    # A picture without an EXIF date (the PNGs, added just now) is placed by when it was added: the newest, under
    # its month's header. Until session 32 such pictures were under "Date unknown", after every dated one.
    undated = stored[0]
    check(undated["taken_at"] is None and bool(undated["added_at"]),
          f"the newest picture is an undated one, listed by when it was added: {undated['name']} {undated['added_at']}")
    added = datetime.datetime.strptime(undated["added_at"][:10], "%Y-%m-%d")
    added_day = f"{added.day} {added:%B %Y}"
    check(headers[0] == f"{added:%B %Y}" and "Date unknown" not in headers,
          f"the undated pictures are under the month they were added, none under 'Date unknown': {headers[:3]}…")
    undated_alt = tiles(driver)[0].find_element(By.TAG_NAME, "img").get_attribute("alt")
    check(undated_alt == f"{undated['name']}, added {added_day}",
          f"an undated picture's alt text says the day it was added: {undated_alt}")
    driver.save_screenshot(os.path.join(arguments.artifacts, "grid.png"))
    for _ in range(40):
        if len(tiles(driver)) == total:
            break
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        time.sleep(0.2)
    wait(driver, "every tile after scrolling", lambda d: len(tiles(d)) == total)
    ids = [t.get_attribute("data-id") for t in tiles(driver)]
    check(ids == [item["id"] for item in stored], f"after scrolling the grid shows all {total} pictures, in API order")
    loading = [t.find_element(By.TAG_NAME, "img").get_attribute("loading") for t in tiles(driver)]
    check(set(loading[:60]) == {"eager"} and set(loading[60:]) == {"lazy"},
          "the first page's thumbnails load at once, every later one lazily")
    page.audit("grid")

    # 2. A make filter: the choices come from the data; the URL keeps it across a reload.
    make = "Apple"
    expected = [item["id"] for item in listing(base, "make=Apple")]
    check(len(expected) >= 2, f"the corpus has {len(expected)} {make} pictures")
    driver.execute_script("window.scrollTo(0, 0)")
    Select(driver.find_element(By.ID, "make")).select_by_value(make)
    driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(driver, "filtered grid", lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
    check("make=Apple" in driver.current_url, f"the filter is in the URL: {driver.current_url}")
    check(driver.find_element(By.ID, "count").text == f"{len(expected)} pictures", "the count follows the filter")
    page.audit("filtered grid")
    load(driver)
    wait(driver, "filtered grid after reload", lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
    check(Select(driver.find_element(By.ID, "make")).first_selected_option.get_attribute("value") == make,
          "after a reload the make filter is still chosen and the grid still filtered")
    page.audit("filtered grid after reload")
    # A make with a space is sent as chosen (the form once squashed it to NIKONCORPORATION: no picture).
    make = "NIKON CORPORATION"
    expected = [item["id"] for item in listing(base, "make=NIKON%20CORPORATION")]
    check(len(expected) >= 2, f"the corpus has {len(expected)} {make} pictures")
    Select(driver.find_element(By.ID, "make")).select_by_value(make)
    driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(driver, "the NIKON CORPORATION grid", lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
    check("make=NIKON%20CORPORATION" in driver.current_url,
          f"a make with a space filters the grid to its {len(expected)} pictures: {driver.current_url}")
    page.audit("make with a space")
    # The camera filter finds cameras by typing (GET /cameras?match=…): the page embeds only the most used, and
    # Enter finds at once without running the search (until session 35 the page embedded every camera: 156 KB of a
    # 191 KB page at 2,787 cameras).
    make_choices = lambda d: [o.get_attribute("value") for o in Select(d.find_element(By.ID, "make")).options]
    model_choices = lambda d: [o.get_attribute("value") for o in Select(d.find_element(By.ID, "model")).options]
    driver.find_element(By.ID, "clear").click()
    wait(driver, "the whole grid after Clear", lambda d: len(tiles(d)) >= 60)
    check("Canon" in make_choices(driver) and "Apple" in make_choices(driver), "the most used cameras are offered")
    url_before = driver.current_url
    finder = driver.find_element(By.ID, "camera_find")
    finder.send_keys("IPHONE", Keys.ENTER)
    iphones = ["", "iPhone 4", "iPhone 5", "iPhone 7", "iPhone XR"]
    wait(driver, "the cameras the typed text finds",
         lambda d: make_choices(d) == ["", "Apple"] and model_choices(d) == iphones)
    camera_reads = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/cameras?'))")
    check(any(read.endswith("/cameras?match=IPHONE&limit=100") for read in camera_reads),
          f"typing reads the cameras whose make or model holds the text: {camera_reads[-3:]}")
    check(driver.current_url == url_before and len(tiles(driver)) >= 60,
          "Enter in the camera field finds cameras and runs no search")
    Select(driver.find_element(By.ID, "model")).select_by_value("iPhone 7")
    driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    expected = [item["id"] for item in listing(base, "model=iPhone%207")]
    wait(driver, "the grid of a camera found by typing",
         lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
    wait(driver, "its count", lambda d: d.find_element(By.ID, "count").text == "1 picture")
    check("model=iPhone%207" in driver.current_url, f"a camera found by typing filters: {driver.current_url}")
    finder.send_keys(Keys.CONTROL, "a")
    finder.send_keys(Keys.BACKSPACE)
    wait(driver, "the most used cameras again", lambda d: "Canon" in make_choices(d))
    chosen_model = Select(driver.find_element(By.ID, "model")).first_selected_option.get_attribute("value")
    check(chosen_model == "iPhone 7",
          f"with the text gone the most used are offered, and the camera stays chosen: {chosen_model!r}")
    page.audit("camera finder")
    # A place and a date from a bookmarked URL: the fields show them, the grid holds what the API answers for
    # the same query (each filter narrowing it), and a reload keeps both.
    near, after = "50,5,1500", "2012-06-01"
    query = f"near={near}&taken_after={after}"
    expected = [item["id"] for item in listing(base, query)]
    near_only = listing(base, f"near={near}")
    check(0 < len(expected) < len(near_only) < total,
          f"{len(expected)} pictures within 1500 km of 50,5 taken after {after}, {len(near_only)} at any date, "
          f"{total} in all")
    for reloaded in (False, True):
        if reloaded:
            load(driver)
        else:
            load(driver, f"{base}/?{query}")
        when = "after a reload" if reloaded else "from the URL"
        wait(driver, f"near grid {when}", lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
        wait(driver, f"near count {when}",
             lambda d: d.find_element(By.ID, "count").text == f"{len(expected)} pictures")
        fields = [driver.find_element(By.ID, name).get_attribute("value")
                  for name in ("near_point", "near_km", "taken_after")]
        check(fields == ["50,5", "1500", after], f"{when} the near and taken-after fields show the filter: {fields}")
        check(query in driver.current_url, f"{when} the grid shows the API's {len(expected)} pictures for {query}")
        page.audit(f"near filter {when}")
    load(driver, base + "/?make=NoSuchCamera")
    wait(driver, "empty result", lambda d: d.find_element(By.ID, "empty").is_displayed())
    check(len(tiles(driver)) == 0, "an empty result says so")
    chosen_make = Select(driver.find_element(By.ID, "make")).first_selected_option.get_attribute("value")
    check(chosen_make == "NoSuchCamera", f"a camera of the URL that the data lacks shows chosen: {chosen_make!r}")
    page.audit("empty result")
    # A bad filter in the URL: its value shows in the form beside the API's error, without "No pictures match";
    # Clear, and going back to a good URL, take the error away.
    load(driver, base + "/?near=48,2")
    error = driver.find_element(By.ID, "error")
    wait(driver, "the bad filter's error", lambda d: error.is_displayed())
    near_field = driver.find_element(By.ID, "near_point").get_attribute("value")
    check(near_field == "48,2" and not driver.find_element(By.ID, "empty").is_displayed(),
          f"a bad filter from the URL shows in its field ({near_field!r}) with the error alone: {error.text}")
    shown_count = driver.find_element(By.ID, "count").text
    check(shown_count == "", f"a refused search shows no count beside its error (was '0 pictures'): '{shown_count}'")
    driver.find_element(By.ID, "clear").click()
    wait(driver, "the grid after Clear", lambda d: len(tiles(d)) >= 60)
    check(not error.is_displayed(), "Clear takes the error away")
    driver.back()
    wait(driver, "the error again on going back", lambda d: error.is_displayed())
    driver.forward()
    wait(driver, "the grid on going forward", lambda d: len(tiles(d)) >= 60)
    check(not error.is_displayed(), "Back and Forward show the error of the URL they reach only")
    page.allowed_errors.append(("/images?near=48%2C2", "status of 400"))
    page.audit("bad filter")

    # 3. Detail of a known corpus camera file: exposure, date, GPS; keyboard navigation; Escape.
    load(driver, base + "/")
    wait(driver, "grid", lambda d: len(tiles(d)) >= 60)
    known = [item for item in stored if item["name"] and item["name"].endswith(arguments.known_file)]
    check(len(known) == 1, f"{arguments.known_file} is listed once")
    tile = None
    for _ in range(40):
        found = driver.find_elements(By.CSS_SELECTOR, f'#grid a.tile[data-id="{known[0]["id"]}"]')
        if found:
            tile = found[0]
            break
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        time.sleep(0.2)
    check(tile is not None, f"the tile of {arguments.known_file} is in the grid")
    alt = tile.find_element(By.TAG_NAME, "img").get_attribute("alt")
    check(arguments.known_file in alt and "2012-09-29" in alt, f"its alt text names the file and date: {alt}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
    tile.click()
    facts = {}
    def read_facts(d):
        rows = d.find_elements(By.CSS_SELECTOR, "#facts tr")
        facts.clear()
        for row in rows:
            facts[row.find_element(By.TAG_NAME, "th").text] = row.find_element(By.TAG_NAME, "td").text
        return "Exposure" in facts
    wait(driver, "the metadata table", read_facts)
    check(facts.get("Camera") == "Apple iPhone 5", f"camera: {facts.get('Camera')}")
    check(facts.get("Exposure") == "1/1695 s", f"exposure: {facts.get('Exposure')}")
    check(facts.get("Aperture") == "f/2.4", f"aperture: {facts.get('Aperture')}")
    check(facts.get("Taken", "").startswith("2012-09-29 16:11:25"), f"date: {facts.get('Taken')}")
    gps = driver.find_element(By.CSS_SELECTOR, "#facts a.gps")
    check(gps.text.startswith("47.62717, -122."), f"GPS: {gps.text}")
    href = gps.get_attribute("href")
    check(href.startswith("https://www.openstreetmap.org/?mlat=47.62717&mlon=-122."), f"map link: {href}")
    check(not driver.find_element(By.ID, "raw").get_attribute("open"), "the raw EXIF groups are folded")
    large = driver.find_element(By.ID, "large")
    wait(driver, "large rendition", lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", large))
    check("/thumbnails/1024?format=" in large.get_attribute("src"), "the detail shows the largest size, in the stored format")
    check(driver.find_element(By.ID, "download").get_attribute("href") == base + "/images/" + known[0]["id"],
          "download links the original")
    driver.save_screenshot(os.path.join(arguments.artifacts, "detail.png"))
    index = [t.get_attribute("data-id") for t in tiles(driver)].index(known[0]["id"])
    title = driver.find_element(By.ID, "title")
    driver.find_element(By.ID, "detail").send_keys(Keys.ARROW_RIGHT)
    wait(driver, "next picture", lambda d: title.text == (stored[index + 1]["name"] or stored[index + 1]["id"]))
    driver.find_element(By.ID, "detail").send_keys(Keys.ARROW_LEFT)
    wait(driver, "previous picture", lambda d: title.text == known[0]["name"])
    check(True, "arrow keys step to the next and previous picture")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    check(True, "Escape closes the detail view")
    # Stored 600x450 with EXIF orientation 6: displayed turned a quarter, so 450 wide.
    turned = [item["id"] for item in stored if (item["name"] or "").endswith("orientation-portrait_6.jpg")]
    facts = open_detail(driver, turned[0])
    check(facts.get("Dimensions") == "450 × 600", f"an orientation-6 picture's dimensions as displayed: {facts}")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    # An undated picture's detail says when it was added, not a taken date.
    facts = open_detail(driver, undated["id"])
    check(facts.get("Added") == added_day and "Taken" not in facts,
          f"an undated picture's detail shows the day it was added as 'Added': {facts}")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    page.audit("detail view")

    # 4. Upload through the picker: a good picture and a corrupt one.
    corrupt = os.path.join(arguments.artifacts, "corrupt.jpg")
    with open(arguments.good, "rb") as source:
        good_bytes = source.read()
    corrupt_bytes = good_bytes[:2] + b"this is not the rest of a JPEG" * 10
    with open(corrupt, "wb") as target:
        target.write(corrupt_bytes)
    good_id = hashlib.sha256(good_bytes).hexdigest()
    check(not any(item["id"] == good_id for item in stored), "the good upload is not in the store yet")
    driver.execute_script("window.picpipeMarker = 'no reload'")
    page.allowed_errors.append(base + "/images - Failed to load resource: the server responded with a status of 4")
    picker = driver.find_element(By.ID, "picker")
    driver.execute_script("arguments[0].style.display = 'block'", picker)
    picker.send_keys(os.path.abspath(arguments.good) + "\n" + corrupt)
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#uploads li")
    wait(driver, "both uploads finished", lambda d: len(rows(d)) == 2 and all(
        "done" in r.get_attribute("class") or "failed" in r.get_attribute("class") for r in rows(d)))
    by_name = {r.find_element(By.CLASS_NAME, "name").text: r for r in rows(driver)}
    good_row = by_name[os.path.basename(arguments.good)]
    bad_row = by_name["corrupt.jpg"]
    check("done" in good_row.get_attribute("class"), "the good file uploaded")
    check(good_row.find_element(By.TAG_NAME, "progress").get_attribute("value") == "1",
          "its progress bar is full")
    message = bad_row.find_element(By.CLASS_NAME, "status").text
    # The very message the API answers for these bytes, not just some text.
    refusal = api_error(base, "/images", corrupt_bytes, "corrupt.jpg", "image/jpeg")
    check("failed" in bad_row.get_attribute("class") and message == refusal and "not a JPEG" in refusal,
          f"the corrupt file shows the API's error: {message}")
    wait(driver, "uploaded picture in the grid", scrolled_to(f'#grid a.tile[data-id="{good_id}"]'))
    check(driver.execute_script("return window.picpipeMarker") == "no reload", "the upload appeared without a reload")
    page.audit("upload")

    # 4b. Drag-and-drop of two files onto the page: new bytes of the good picture (a comment), so new ids.
    # The second name holds a quote (Chrome sends it as %22) and a ";" inside the quoted filename.
    dropped = [(name, with_comment(good_bytes, name), "image/jpeg") for name in ("dropped-1.jpg", 'dropped "2"; a=b.jpg')]
    expect_dropped(driver, dropped, len(rows(driver)))
    names = {item["id"]: item["name"] for item in listing(base)}
    stored_names = [names.get(hashlib.sha256(data).hexdigest()) for _, data, _ in dropped]
    check(stored_names == [name for name, _, _ in dropped], f"the uploads keep their names as sent: {stored_names}")
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "the dropped files appeared without a reload")
    page.audit("drag-and-drop upload")

    # 5. Replace under a chosen id: a picture PUT as "holiday" (by another client: it appears live), then replaced
    #    from the detail view; the new content's thumbnails show (a new URL version), not the browser's old copy.
    with open(arguments.put, "rb") as source:
        put_bytes = source.read()
    with open(arguments.replacement, "rb") as source:
        replacement_sha = hashlib.sha256(source.read()).hexdigest()
    api(base, "/images/holiday", method="PUT", body=put_bytes, content_type="image/jpeg")
    put_sha = hashlib.sha256(put_bytes).hexdigest()
    selector = '#grid a.tile[data-id="holiday"]'
    wait(driver, "the PUT picture in the grid", lambda d: [t.get_attribute("data-sha") for t in
                                                           scrolled_to(selector)(d)] == [put_sha])
    tile = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
    tile.click()
    wait(driver, "detail of holiday", lambda d: d.find_element(By.ID, "title").text == "holiday")
    check(driver.find_element(By.ID, "replace-button").is_displayed(), "a chosen id offers Replace")
    replace = driver.find_element(By.ID, "replace")
    driver.execute_script("arguments[0].hidden = false", replace)
    replace.send_keys(os.path.abspath(arguments.replacement))
    # The open view shows the new picture and its metadata once its thumbnails are made (the PUT picture is
    # 200x200, the replacement 256x256).
    wait(driver, "the replacement in the open view", lambda d: f"v={replacement_sha[:12]}" in
         d.find_element(By.ID, "large").get_attribute("src") and detail_facts(d).get("Dimensions") == "256 × 256")
    check(True, "after Replace… the open view shows the new picture and its metadata")
    wait(driver, "the replaced tile", lambda d: [t.get_attribute("data-sha") for t in
                                                 scrolled_to(selector)(d)] == [replacement_sha])
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    tile = driver.find_element(By.CSS_SELECTOR, selector)
    image = tile.find_element(By.TAG_NAME, "img")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
    wait(driver, "the replaced thumbnail decoded", lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", image))
    current = driver.execute_script("return arguments[0].currentSrc", image)
    check(f"v={replacement_sha[:12]}" in current, f"the tile shows the new content's thumbnail: {current}")
    # The PUT picture is 200x200 and the replacement 256x256: the 1024 thumbnail the URL names tells them apart.
    largest = current.split("?")[0].rsplit("/", 1)[0] + "/1024?" + current.split("?")[1]
    size = jpeg_size(urllib.request.urlopen(largest, timeout=30).read())
    check(size == (256, 256), f"the versioned URL serves the replacement's pixels ({size}, the old picture is 200x200)")
    check(driver.execute_script("return window.picpipeMarker") == "no reload", "the replacement showed without a reload")
    page.audit("replace")
    # The same bytes under a second id, deleted by another client: its tile leaves and the count follows, while
    # the first id stays (until session 31 nothing was sent for it, and its tile stayed until a reload).
    with open(arguments.replacement, "rb") as source:
        replacement_bytes = source.read()
    count_of = lambda d: d.find_element(By.ID, "count").get_attribute("data-count")
    before_copy = count_of(driver)
    api(base, "/images/holiday-copy", method="PUT", body=replacement_bytes, content_type="image/jpeg")
    copy_selector = '#grid a.tile[data-id="holiday-copy"]'
    wait(driver, "the second id's tile", lambda d: scrolled_to(copy_selector)(d))
    # Its thumbnail shown first, as a person sees it before deleting it elsewhere (a request for it after the
    # delete would rightly be a 404).
    copy_image = driver.find_element(By.CSS_SELECTOR, copy_selector).find_element(By.TAG_NAME, "img")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", copy_image)
    wait(driver, "the second id's thumbnail decoded", lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", copy_image))
    api(base, "/images/holiday-copy", method="DELETE")
    wait(driver, "the second id's tile leaves", lambda d: not d.find_elements(By.CSS_SELECTOR, copy_selector))
    wait(driver, "the count back to what it was", lambda d: count_of(d) == before_copy)
    check(driver.find_elements(By.CSS_SELECTOR, selector),
          "an id deleted while another names its bytes left the grid live; the other stayed")
    page.audit("same bytes deleted elsewhere")
    # Deleted by another client: the tile leaves without a reload. A listing read while the delete runs may still
    # name the content (by its hash, once "holiday" is gone and before the content is): the browser then logs a 404
    # for that thumbnail, which is the deletion racing the page, not a page error.
    # Its detail view is open meanwhile: it says so, and Next goes to the picture after it (not one further).
    page.allowed_errors.append(f"/images/{replacement_sha}/thumbnails/")
    page.allowed_errors.append(("/images/holiday/metadata", "status of 404"))
    open_detail(driver, "holiday")
    ids = [t.get_attribute("data-id") for t in tiles(driver)]
    after = ids.index("holiday") + 1
    check(after < len(ids), f"a picture follows holiday in the grid ({len(ids)} tiles)")
    api(base, "/images/holiday", method="DELETE")
    wait(driver, "the tile deleted elsewhere leaves", lambda d: not d.find_elements(By.CSS_SELECTOR, selector))
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "a picture deleted by another client left the grid without a reload")
    wait(driver, "the open view says it was deleted",
         lambda d: d.find_element(By.ID, "detail-status").text == "Deleted elsewhere.")
    check(not driver.find_element(By.ID, "delete").is_displayed(), "the open view of a deleted picture offers no Delete")
    check(not driver.find_element(By.ID, "download").is_displayed(),
          "nor Download original (until session 33 a link to a 404)")
    driver.find_element(By.ID, "detail").send_keys(Keys.ARROW_RIGHT)
    wait(driver, "the next picture", lambda d: detail_facts(d).get("Id") == ids[after])
    check(driver.find_element(By.ID, "download").is_displayed(),
          "Next from the deleted picture shows the one that followed it, with its Download original")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    page.audit("deleted elsewhere")

    # 6. A file copied into uploads/ by other means appears live.
    with open(arguments.live, "rb") as source:
        live_id = hashlib.sha256(source.read()).hexdigest()
    wait(driver, "live stream connected", lambda d: d.find_element(By.ID, "live").text == "live")
    listing_reads = lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/images?')).length")
    reads_before = listing_reads(driver)
    partial = os.path.join(arguments.store, "uploads", ".copying-live.tmp")
    shutil.copy(arguments.live, partial)
    os.rename(partial, os.path.join(arguments.store, "uploads", "live-copy" + os.path.splitext(arguments.live)[1]))
    wait(driver, "the copied file in the grid", scrolled_to(f'#grid a.tile[data-id="{live_id}"]'), seconds=120)
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "a file copied into uploads/ appeared without a reload")
    check(listing_reads(driver) == reads_before, "the live update read no listing: the event carried the item")
    page.audit("live")
    # A camera new to the store joins the Make choices live, and leaves them when its picture is deleted
    # (until session 31 the choices were drawn only when the page started).
    with open(arguments.put, "rb") as source:
        camera_bytes = with_camera(source.read(), "Picpipe Live Cam", "Model L1")
    check("Picpipe Live Cam" not in make_choices(driver), "the new camera is not offered before its picture comes")
    api(base, "/images/live-camera", method="PUT", body=camera_bytes, content_type="image/jpeg")
    wait(driver, "the new camera among the choices", lambda d: "Picpipe Live Cam" in make_choices(d)
         and "Model L1" in model_choices(d))
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "a new camera joined the Make and Model choices without a reload")
    api(base, "/images/live-camera", method="DELETE")
    wait(driver, "the deleted camera leaves the choices", lambda d: "Picpipe Live Cam" not in make_choices(d)
         and "Model L1" not in model_choices(d))
    check(True, "the camera of a deleted picture left the choices without a reload")
    page.audit("live camera choices")

    # 7. Delete (with confirmation) from the detail view.
    tile = driver.find_element(By.CSS_SELECTOR, f'#grid a.tile[data-id="{live_id}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
    tile.click()
    wait(driver, "detail of the live picture", lambda d: d.find_element(By.ID, "detail").get_attribute("open"))
    driver.find_element(By.ID, "delete").click()
    alert = wait(driver, "confirmation", lambda d: d.switch_to.alert)
    check("cannot be undone" in alert.text, f"delete asks first: {alert.text}")
    alert.accept()
    wait(driver, "tile removed", lambda d: not d.find_elements(By.CSS_SELECTOR, f'#grid a.tile[data-id="{live_id}"]'))
    try:
        api(base, f"/images/{live_id}")
        gone = False
    except urllib.error.HTTPError as error:
        gone = error.code == 404
    check(gone, "the deleted picture is gone from the API (404)")
    # The view moved on to the next picture: closed before the restart, so none of its reads races the stop.
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    page.audit("delete")

    # 8. A server restart: the page shows it is offline, reconnects by itself, and a picture dropped into
    #    uploads/ meanwhile shows up without a reload. On a page opened afresh: on the old one the delete's event
    #    left a camera-count read due a second later, refused if the stop comes before the stream says so.
    load(driver, base + "/")
    driver.execute_script("window.picpipeMarker = 'no reload'")
    wait(driver, "live stream connected", lambda d: d.find_element(By.ID, "live").text == "live")
    page.audit("before the restart")
    os.kill(arguments.serve_pid, signal.SIGTERM)
    wait(driver, "the page notices the server is gone", lambda d: d.find_element(By.ID, "live").text == "offline")
    address = base.split("//", 1)[1]
    # Gone, not just deaf: a serve still shutting down holds the store's lock and the new one would refuse to start.
    deadline = time.time() + 60
    while alive(arguments.serve_pid):
        if time.time() > deadline:
            raise AssertionError("the stopped serve did not exit within 60 s")
        time.sleep(0.1)
    log = open(os.path.join(arguments.artifacts, "restarted-serve.log"), "w")
    restarted.append(subprocess.Popen(
        [arguments.binary, "serve", "--store", arguments.store], stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, env=dict(os.environ, PICPIPE_LISTEN=address)))
    with open(arguments.put, "rb") as source:
        restart_id = hashlib.sha256(source.read()).hexdigest()
    shutil.copy(arguments.put, os.path.join(arguments.store, "uploads", ".after-restart.tmp"))
    os.rename(os.path.join(arguments.store, "uploads", ".after-restart.tmp"),
              os.path.join(arguments.store, "uploads", "after-restart.jpg"))
    wait(driver, "reconnected", lambda d: d.find_element(By.ID, "live").text == "live", seconds=120)
    check(True, "the page reconnected to the restarted server by itself")
    wait(driver, "the picture dropped around the restart", scrolled_to(f'#grid a.tile[data-id="{restart_id}"]'),
         seconds=120)
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "a picture dropped during the restart appeared without a reload")
    # While the server was down the browser logged the stream's own refused reconnections (an EventSource's
    # failed connection is always logged), and nothing else: the page asks nothing while the stream is down.
    page.allowed_errors.append((base + "/events/stream", "Failed to load resource: net::ERR_CONNECTION_REFUSED"))
    page.audit("restart")


def expect_dropped(driver, files, rows_before):
    """Drops `files` and checks each gets a finished upload row with its id and then its tile in the grid."""
    over, lit, taken, still_lit = drop_files(driver, files)
    check(over and lit, "dragging files over the page takes the drag (so a drop is allowed) and lights the zone")
    check(taken and not still_lit, "the drop is taken (the browser does not open the file) and the zone goes dark")
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#uploads li")
    wait(driver, "the dropped files uploaded", lambda d: len(rows(d)) == rows_before + len(files) and all(
        "done" in r.get_attribute("class") or "failed" in r.get_attribute("class") for r in rows(d)))
    by_name = {r.find_element(By.CLASS_NAME, "name").text: r for r in rows(driver)}
    for name, data, _ in files:
        row, sha = by_name[name], hashlib.sha256(data).hexdigest()
        check("done" in row.get_attribute("class") and row.get_attribute("data-id") == sha,
              f"{name} uploaded by drag-and-drop: {row.find_element(By.CLASS_NAME, 'status').text}, id {sha[:12]}…")
        wait(driver, f"{name} in the grid", scrolled_to(f'#grid a.tile[data-id="{sha}"]'))
    check(True, f"the {len(files)} dropped pictures appear in the grid")


def alive(pid):
    """Whether the process runs: a zombie its parent has not reaped yet has exited (Linux's /proc tells)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return True  # no /proc: the signal alone says


def status_of(base, path, method="GET"):
    """The HTTP status of an anonymous request."""
    try:
        api(base, path, method=method)
        return 200
    except urllib.error.HTTPError as error:
        return error.code


def run_protected(driver, page, base, arguments):
    """Reads need a key: the page asks for it, then shows thumbnails through the listing's signed URLs, follows the
    event stream through a signed stream URL, shows a detail view, and a file copied into uploads/ appears live."""
    key = arguments.protected_key
    wait_settled(base, arguments.store, key=key)
    stored = listing(base, key=key)
    check(len(stored) >= 3, f"the store lists {len(stored)} pictures")
    check(status_of(base, "/images") == 401 and status_of(base, "/events/stream") == 401,
          "without the key the listing and the event stream answer 401")

    load(driver, base + "/")
    form = driver.find_element(By.ID, "key-form")
    wait(driver, "the key form", lambda d: form.is_displayed())
    said = driver.find_element(By.ID, "count").text
    check(not tiles(driver) and "needs an API key" in said,
          f"before a key is entered the page asks for one and reads nothing ({len(tiles(driver))} tiles, '{said}')")
    check(not driver.find_element(By.ID, "upload").is_displayed() and not driver.find_element(By.ID, "lock")
          .is_displayed(), "before a key is entered no upload zone shows, and no Forget key")
    # The form is what to do: the focus is in its field, and no "Enter API key" offers the open form (until
    # session 36 the focus was on the page and the button showed beside the form).
    focused = driver.switch_to.active_element.get_attribute("id")
    unlock_shown = driver.find_element(By.ID, "unlock").is_displayed()
    check(focused == "key" and not unlock_shown,
          f"the page opens with the focus in the key field ({focused!r}), Enter API key hidden ({unlock_shown})")
    # Cancel leaves a way back to the form (until session 33, with the key under auth.api_keys, nothing did).
    driver.find_element(By.ID, "key-cancel").click()
    unlock = driver.find_element(By.ID, "unlock")
    wait(driver, "Enter API key after Cancel", lambda d: not form.is_displayed() and unlock.is_displayed())
    unlock.click()
    wait(driver, "the key form again", lambda d: form.is_displayed())
    check(driver.switch_to.active_element.get_attribute("id") == "key",
          "Cancel hides the key form, and Enter API key brings it back with the focus in the field")
    page.audit("protected: asking for the key")

    # A wrong key: refused, said so, the form again, nothing shown, and the stream's URL not asked for again.
    driver.find_element(By.ID, "key").send_keys("not-" + key)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    error = driver.find_element(By.ID, "error")
    wait(driver, "the wrong key refused", lambda d: form.is_displayed() and "refused" in error.text)
    time.sleep(6)  # the stream used to retry every 5 s
    minted = driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/events/stream/signed-url')).length")
    shown = {name: driver.find_element(By.ID, name).is_displayed() for name in ("empty", "lock", "unlock")}
    said = [driver.find_element(By.ID, name).text for name in ("count", "live")]
    focused = driver.switch_to.active_element.get_attribute("id")
    check("needs credentials" not in error.text and not tiles(driver) and said == ["Reading needs an API key.", "offline"]
          and shown == {"empty": False, "lock": False, "unlock": False} and minted == 1 and focused == "key",
          f"a wrong key is refused ({error.text}), the key form shows again with the focus in its field ({focused!r}) "
          f"and nothing else ({said}, {shown}); the stream's signed URL was asked for {minted} time(s)")
    # Cancel then takes the refusal's "enter another" away with the form (until session 36 it stayed, with nowhere
    # to enter one), and Enter API key brings the form back.
    driver.find_element(By.ID, "key-cancel").click()
    wait(driver, "Enter API key after Cancel", lambda d: not form.is_displayed() and unlock.is_displayed())
    check(not error.is_displayed(), f"Cancel after a refused key hides the form and its error: '{error.text}'")
    unlock.click()
    wait(driver, "the key form again", lambda d: form.is_displayed())
    page.allowed_errors.append("status of 401")
    page.audit("protected: a wrong key")

    driver.find_element(By.ID, "key").send_keys(key)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, "the error gone with the right key", lambda d: not error.is_displayed())
    wait(driver, "every tile", lambda d: len(tiles(d)) == len(stored))
    check([t.get_attribute("data-id") for t in tiles(driver)] == [item["id"] for item in stored],
          f"with the key the grid shows all {len(stored)} pictures in API order")
    shown = {name: driver.find_element(By.ID, name).is_displayed() for name in ("upload", "lock", "unlock")}
    check(shown == {"upload": True, "lock": True, "unlock": False},
          f"with the key the upload zone and Forget key show, Enter API key does not: {shown}")
    images = [t.find_element(By.TAG_NAME, "img") for t in tiles(driver)]
    wait(driver, "thumbnails decoded", lambda d: all(d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", image) for image in images))
    current = driver.execute_script("return arguments[0].currentSrc", images[0])
    check("/thumbnails/" in current and "sig=" in current and "expires=" in current,
          f"thumbnails load through the listing's signed URLs: {current[len(base):][:90]}…")
    # Without a key the stream answers 401 (checked above): connected, the page opened it through the signed URL
    # it minted with the key (POST /events/stream/signed-url).
    wait(driver, "live stream connected", lambda d: d.find_element(By.ID, "live").text == "live")
    minted = driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/events/stream/signed-url')).length")
    check(minted >= 1, "the page minted a signed stream URL with the key, and the stream is connected")
    driver.save_screenshot(os.path.join(arguments.artifacts, "protected-grid.png"))
    page.audit("protected: grid")

    tiles(driver)[0].click()
    facts = {}
    def read_facts(d):
        facts.clear()
        for row in d.find_elements(By.CSS_SELECTOR, "#facts tr"):
            facts[row.find_element(By.TAG_NAME, "th").text] = row.find_element(By.TAG_NAME, "td").text
        return "Id" in facts
    wait(driver, "the metadata table", read_facts)
    check(facts.get("Id") == stored[0]["id"], f"the detail view reads the metadata with the key: {facts.get('Id')}")
    large = driver.find_element(By.ID, "large")
    wait(driver, "large rendition", lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", large))
    check("sig=" in large.get_attribute("src"), "the large rendition loads through a signed URL")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    page.audit("protected: detail view")

    with open(arguments.live, "rb") as source:
        live_id = hashlib.sha256(source.read()).hexdigest()
    driver.execute_script("window.picpipeMarker = 'no reload'")
    partial = os.path.join(arguments.store, "uploads", ".copying-live.tmp")
    shutil.copy(arguments.live, partial)
    os.rename(partial, os.path.join(arguments.store, "uploads", "live-copy" + os.path.splitext(arguments.live)[1]))
    wait(driver, "the copied file in the grid", lambda d: d.find_elements(
        By.CSS_SELECTOR, f'#grid a.tile[data-id="{live_id}"]'), seconds=120)
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "a file copied into uploads/ appeared live through the signed stream, without a reload")
    listing_reads = driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/images?')).length")
    check(listing_reads == 1, f"the live update read no listing (the event carried its item): {listing_reads} listing read")
    page.audit("protected: live")

    # Forget key locks the page: nothing read stays, the stream stops (a picture stored meanwhile makes the page ask
    # nothing), and the key form asks again.
    driver.find_element(By.ID, "lock").click()
    forgotten_at = driver.execute_script("return performance.now()")
    wait(driver, "the key form after Forget key", lambda d: form.is_displayed())
    said = [driver.find_element(By.ID, name).text for name in ("count", "live")]
    check(not tiles(driver) and said == ["Reading needs an API key.", "offline"]
          and driver.execute_script("return sessionStorage.getItem('picpipe.apiKey')") is None,
          f"Forget key empties the grid and stops the stream: {len(tiles(driver))} tiles, {said}")
    with open(arguments.webp, "rb") as source:
        api(base, "/images/noname-webp", method="PUT", body=source.read(), content_type="image/webp", key=key)
    wait_settled(base, arguments.store, key=key)
    time.sleep(1.5)  # a live event would have asked for the cameras a second later
    # Requests started since (the closed stream's own entry started before).
    asked = driver.execute_script("return performance.getEntriesByType('resource')"
                                  ".filter(e => e.startTime > arguments[0]).map(e => e.name)", forgotten_at)
    check(not asked and not tiles(driver) and driver.find_element(By.ID, "live").text == "offline",
          f"with the key forgotten a picture stored elsewhere reaches the page no more: {asked}")
    page.audit("protected: key forgotten")

    # The key again: the grid is back, with the new picture; its original downloads under its format's extension.
    driver.find_element(By.ID, "key").send_keys(key)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    now = [item["id"] for item in listing(base, key=key)]
    wait(driver, "every tile again", lambda d: [t.get_attribute("data-id") for t in tiles(d)] == now)
    wait(driver, "live again", lambda d: d.find_element(By.ID, "live").text == "live")
    open_detail(driver, "noname-webp")
    name = driver.find_element(By.ID, "download").get_attribute("download")
    check(name == "noname-webp.webp", f"an original named without extension downloads as {name}")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
    page.audit("protected: key entered again")


def run_write_key(driver, page, base, arguments):
    """API keys are configured, reads are public: without a key the grid and the detail view work and no write
    control shows; the key entered once shows them, and a reload keeps it (the tab's session storage) without
    asking again; a drop then uploads with it; "Forget key" hides them again."""
    key = arguments.write_key
    wait_settled(base, arguments.store)
    # A picture under a chosen id (only those offer Replace), stored by another client with the key.
    with open(arguments.good, "rb") as source:
        good_bytes = source.read()
    api(base, "/images/keyed-holiday", method="PUT", body=with_comment(good_bytes, "chosen id"),
        content_type="image/jpeg", key=key)
    def listed(_):
        items = listing(base)
        return items if any(item["id"] == "keyed-holiday" for item in items) else None
    wait(driver, "the PUT picture listed", listed)
    # Settled again: its thumbnails are made before the page asks for them.
    wait_settled(base, arguments.store)
    stored = listing(base)
    check(len(stored) >= 3, f"the store lists {len(stored)} pictures, one under a chosen id")
    check(status_of(base, "/images") == 200 and status_of(base, "/images/keyed-holiday", method="DELETE") == 401,
          "without the key the listing answers 200 and a delete 401")

    def write_controls(d):
        """Whether the upload zone, Forget key, and the detail view's Delete and Replace show; Enter API key."""
        return {"upload": d.find_element(By.ID, "upload").is_displayed(),
                "drop": d.find_element(By.ID, "drop").is_displayed(),
                "lock": d.find_element(By.ID, "lock").is_displayed(),
                "delete": d.find_element(By.ID, "delete").is_displayed(),
                "replace": d.find_element(By.ID, "replace-button").is_displayed(),
                "unlock": d.find_element(By.ID, "unlock").is_displayed()}

    def detail_controls(when):
        """Opens the chosen id's detail view (its metadata is read without a key), reads the controls, closes it."""
        tile = driver.find_element(By.CSS_SELECTOR, '#grid a.tile[data-id="keyed-holiday"]')
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
        tile.click()
        wait(driver, f"the metadata table {when}", lambda d: any(row.find_element(By.TAG_NAME, "td").text ==
                                                                 "keyed-holiday" for row in d.find_elements(
                                                                     By.CSS_SELECTOR, "#facts tr")))
        shown = write_controls(driver)
        driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
        wait(driver, "detail closed", lambda d: not d.find_element(By.ID, "detail").get_attribute("open"))
        return shown

    def grid_shown(when):
        wait(driver, f"every tile {when}", lambda d: [t.get_attribute("data-id") for t in tiles(d)] ==
             [item["id"] for item in stored])
        images = [t.find_element(By.TAG_NAME, "img") for t in tiles(driver)]
        wait(driver, f"thumbnails decoded {when}", lambda d: all(d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", image) for image in images))

    load(driver, base + "/")
    grid_shown("without a key")
    check(not driver.find_element(By.ID, "key-form").is_displayed(),
          f"reads need no key: the page asks for none and shows all {len(stored)} pictures and their thumbnails")
    hidden = {name: False for name in ("upload", "drop", "lock", "delete", "replace")}
    shown = detail_controls("without a key")
    check(shown == dict(hidden, unlock=True),
          f"without a key no write control shows (upload, delete, replace), the detail view reads: {shown}")
    page.audit("write key: without a key")

    driver.find_element(By.ID, "unlock").click()
    form = driver.find_element(By.ID, "key-form")
    wait(driver, "the key form", lambda d: form.is_displayed())
    driver.find_element(By.ID, "key").send_keys(key)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, "the upload zone", lambda d: d.find_element(By.ID, "upload").is_displayed())
    granted = {name: True for name in ("upload", "drop", "lock", "delete", "replace")}
    shown = detail_controls("with the key")
    note = driver.find_element(By.ID, "access").text
    check(shown == dict(granted, unlock=False) and not form.is_displayed() and not note,
          f"the key entered once shows the write controls, with no note of what it may not do: {shown} '{note}'")
    check(driver.execute_script("return sessionStorage.getItem('picpipe.apiKey')") == key,
          "the key is kept in the tab's session storage")
    page.audit("write key: key entered")

    load(driver)
    grid_shown("after a reload")
    check(not driver.find_element(By.ID, "key-form").is_displayed(),
          "after a reload the page does not ask for the key again")
    shown = detail_controls("after a reload")
    check(shown == dict(granted, unlock=False), f"after a reload the write controls still show: {shown}")
    page.audit("write key: after a reload")

    # The key is sent with the upload: without it POST /images answers 401.
    driver.execute_script("window.picpipeMarker = 'no reload'")
    expect_dropped(driver, [(os.path.basename(arguments.good), good_bytes, "image/jpeg")], 0)
    check(driver.execute_script("return window.picpipeMarker") == "no reload",
          "the dropped file appeared without a reload")
    page.audit("write key: drag-and-drop upload")

    driver.find_element(By.ID, "lock").click()
    wait(driver, "write controls hidden", lambda d: not d.find_element(By.ID, "upload").is_displayed())
    shown = detail_controls("after forgetting the key")
    check(shown == dict(hidden, unlock=True) and
          driver.execute_script("return sessionStorage.getItem('picpipe.apiKey')") is None,
          f"Forget key removes it from the session storage and hides the write controls: {shown}")
    page.audit("write key: key forgotten")
    if arguments.read_only_key:
        check_limited_keys(driver, page, arguments, good_bytes, write_controls, detail_controls, hidden)
    if arguments.config and arguments.serve_pid:
        check_stream_revoked(driver, page, base, arguments)


def check_stream_revoked(driver, page, base, arguments):
    """A configuration reload that protects reads ends the page's stream (opened without a key) with
    `event: revoked`: the page says why and stops, instead of reconnecting to a 401 every two seconds (until
    session 36)."""
    load(driver, base + "/")
    wait(driver, "live stream connected", lambda d: d.find_element(By.ID, "live").text == "live")
    with open(arguments.config) as source:
        text = source.read()
    protected = (text.replace("http:\n", "http:\n  protect_reads: true\n", 1) if "http:\n" in text
                 else text + "http:\n  protect_reads: true\n")
    with open(arguments.config, "w") as target:
        target.write(protected)
    os.kill(arguments.serve_pid, signal.SIGHUP)
    error = driver.find_element(By.ID, "error")
    wait(driver, "the revoked stream said", lambda d: error.is_displayed() and "Live updates stopped" in error.text)
    streams = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/events/stream')).length"
    opened = driver.execute_script(streams)
    time.sleep(7)  # the page used to reconnect every two seconds
    check(status_of(base, "/images") == 401 and driver.execute_script(streams) == opened
          and driver.find_element(By.ID, "live").text == "offline" and "revoked this stream's access" in error.text,
          f"a reload protecting reads ends the stream, the page says so ({error.text}) and opens it no more "
          f"({driver.execute_script(streams) - opened} more)")
    page.audit("write key: stream revoked")
    with open(arguments.config, "w") as target:
        target.write(text)
    os.kill(arguments.serve_pid, signal.SIGHUP)


def check_limited_keys(driver, page, arguments, good_bytes, write_controls, detail_controls, hidden):
    """A key that may only read, then one that may upload but not delete: the page asks the API (GET /auth/me) what
    each may do, offers only that, and says what it may not do in a status note. Until session 34 every key saw the
    upload zone, Replace and Delete, and each ended in the API's 403."""
    rows = lambda: len(driver.find_elements(By.CSS_SELECTOR, "#uploads li"))
    note = driver.find_element(By.ID, "access")
    for key, label, offered, says in (
            (arguments.read_only_key, "a read-only key", {}, "Read-only key: no uploads or deletes."),
            (arguments.upload_key, "a key without images:delete", {"upload": True, "drop": True, "replace": True},
             "This key may not delete.")):
        driver.find_element(By.ID, "unlock").click()
        form = driver.find_element(By.ID, "key-form")
        wait(driver, f"the key form for {label}", lambda d: form.is_displayed())
        driver.find_element(By.ID, "key").send_keys(key)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(driver, f"the note for {label}", lambda d: note.text == says)
        role = accessibility(driver, "#access")[0]
        shown = detail_controls(f"with {label}")
        check(shown == dict(hidden, lock=True, unlock=False, **offered) and role == "status",
              f"{label} is offered only what it may do ({shown}), and the page says why in a status note: '{says}'")
        if not offered:
            # Dropped files are not sent: the drop is taken (the browser does not open the file) and refused.
            before = rows()
            over, lit, taken, _ = drop_files(driver, [(os.path.basename(arguments.good), good_bytes, "image/jpeg")])
            check(over and not lit and taken and rows() == before,
                  f"files dropped with {label} are not uploaded: the zone stays dark, {rows() - before} uploads")
        page.audit(f"write key: {label}")
        driver.find_element(By.ID, "lock").click()
        wait(driver, f"{label} forgotten", lambda d: not d.find_element(By.ID, "lock").is_displayed())
        check(write_controls(driver) == dict(hidden, unlock=True) and not note.text,
              f"{label} forgotten, no write control shows and the note is gone")


def named(stored, name):
    """The id of the listed picture with this file name."""
    ids = [item["id"] for item in stored if item["name"] == name]
    if len(ids) != 1:
        raise AssertionError(f"{name} is listed {len(ids)} times")
    return ids[0]


def large_loaded(driver):
    return driver.execute_script("const i = document.getElementById('large');"
                                 "return i.complete && i.naturalWidth > 0")


def detail_open(driver):
    return driver.find_element(By.ID, "detail").get_attribute("open") is not None


def run_links(driver, page, base, arguments):
    """The detail view's dimensions of pictures turned by EXIF or by a HEIF container, date filters in the URL that
    are not a full day, the detail view's own URL (deep link, Back, Forward), tiny pictures scaled up and swiped."""
    wait_settled(base, arguments.store)
    stored = listing(base)
    check_dimensions(driver, page, base, stored)
    check_date_fields(driver, page, base, stored)
    check_detail_url(driver, page, base, stored)
    check_keyboard(driver, page, base, stored)
    check_drop_zone(driver, page, base)
    check_field_borders(driver, page, base)
    check_field_values(driver, page, base)
    check_tiny_pictures(driver, page, base, stored)
    check_camera_finder(driver, page, base)
    check_summary_keys(driver, page, base, stored)
    check_camera_line(driver, page, base, stored)
    check_upload_rows(driver, page, base, arguments.artifacts)
    check_folded_filters(driver, page, base)
    check_unnamed_picture(driver, page, base)


def check_dimensions(driver, page, base, stored):
    """Every picture displayed 450 wide and 600 high reads "450 × 600", however it is turned: by its EXIF
    orientation 6 (the JPEG), by irot with the EXIF orientation 6 kept (avifenc's AVIF), by irot alone."""
    load(driver, base + "/")
    for name in ("orientation-portrait_6.jpg", "exif6-irot.avif", "irot-only.avif"):
        open_detail(driver, named(stored, name))
        wait(driver, f"the large picture of {name}", large_loaded)
        said = detail_facts(driver).get("Dimensions")
        shape = driver.execute_script("const i = document.getElementById('large');"
                                      "return [i.naturalWidth, i.naturalHeight]")
        check(said == "450 × 600" and shape[0] < shape[1],
              f"{name}, shown portrait {shape}, has its dimensions as displayed: {said}")
        driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
        wait(driver, "detail closed", lambda d: not detail_open(d))
    page.audit("dimensions of turned pictures")


def check_date_fields(driver, page, base, stored):
    """A date filter the API takes but a date picker cannot hold (a year, a month, a time) shows in its field and
    is kept by the next Search; a full day keeps the picker; a bad date shows in its field beside the error."""
    for name, value in (("taken_after", "2011"), ("taken_after", "2011-05-06T10:00"), ("taken_before", "2011-01"),
                        ("taken_after", "2011-03-01")):
        query = f"{name}={urllib.parse.quote(value)}"
        expected = [item["id"] for item in listing(base, query)]
        check(0 < len(expected) < len(stored), f"{len(expected)} of {len(stored)} pictures match {query}")
        load(driver, f"{base}/?{query}")
        wait(driver, f"the grid of {query}", lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
        field = driver.find_element(By.ID, name)
        check(field.get_attribute("value") == value,
              f"{query}: the field shows {field.get_attribute('value')!r} ({field.get_attribute('type')})")
        if len(value) == 10:
            check(field.get_attribute("type") == "date", f"a full day keeps the date picker: {value}")
        driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
        wait(driver, f"the URL after Search on {query}",
             lambda d: urllib.parse.parse_qs(urllib.parse.urlsplit(d.current_url).query).get(name) == [value])
        wait(driver, f"the grid after Search on {query}",
             lambda d: [t.get_attribute("data-id") for t in tiles(d)] == expected)
        check(True, f"Search keeps {query}: {driver.current_url[len(base):]}")
        page.audit(f"date filter {query}")
    # The pages left above sit in the back-forward cache; each kept its event stream open (until session 31), and
    # with the browser's six connections per server taken, this page's listing waited a minute for one: a person
    # would call that a hang, so 20 s is the most it may take here (it takes a fraction of a second).
    load(driver, f"{base}/?taken_after=2020-13-01")
    error = driver.find_element(By.ID, "error")
    wait(driver, "the bad date's error, with no wait for a connection", lambda d: error.is_displayed(), seconds=20)
    shown = driver.find_element(By.ID, "taken_after").get_attribute("value")
    check(shown == "2020-13-01", f"a bad date shows in its field ({shown!r}) beside the error: {error.text}")
    driver.find_element(By.ID, "clear").click()
    wait(driver, "the grid after Clear", lambda d: len(tiles(d)) == len(stored))
    check(driver.find_element(By.ID, "taken_after").get_attribute("type") == "date", "Clear brings the date picker back")
    page.allowed_errors.append(("/images?", "taken_after=2020-13-01", "status of 400"))
    page.audit("bad date filter")


def check_detail_url(driver, page, base, stored):
    """Opening a picture gives the page a URL naming it: opened, that URL shows the picture; Back closes the view
    (staying on the gallery), Forward opens it again; a step to the next picture names that one."""
    known = named(stored, "apple-iphone-5.jpg")
    load(driver, base + "/?taken_after=2011")
    open_detail(driver, known)
    fragment = lambda d: urllib.parse.parse_qs(urllib.parse.urlsplit(d.current_url).fragment).get("photo")
    check(fragment(driver) == [known] and "taken_after=2011" in driver.current_url,
          f"the open view has a URL naming its picture, the filter kept: {driver.current_url[len(base):]}")
    link = driver.current_url
    driver.back()
    wait(driver, "Back closes the view", lambda d: not detail_open(d))
    check(driver.current_url == base + "/?taken_after=2011" and tiles(driver),
          f"Back closes the view and stays on the gallery: {driver.current_url[len(base):]}")
    driver.forward()
    wait(driver, "Forward opens the view again",
         lambda d: detail_open(d) and detail_facts(d).get("Id") == known)
    check(driver.current_url == link, "Forward opens the same picture again")
    index = [t.get_attribute("data-id") for t in tiles(driver)].index(known)
    following = tiles(driver)[index + 1].get_attribute("data-id")
    driver.find_element(By.ID, "detail").send_keys(Keys.ARROW_RIGHT)
    wait(driver, "the next picture named in the URL", lambda d: fragment(d) == [following])
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "Escape closes the view and its URL", lambda d: not detail_open(d) and fragment(d) is None)
    check(driver.current_url == base + "/?taken_after=2011", f"Escape leaves the gallery's URL: {driver.current_url}")
    page.audit("detail URL")
    # The link opened afresh (shared, bookmarked; from another document, not a change of fragment) shows it.
    load(driver, base + "/")
    load(driver, link)
    wait(driver, "the linked picture", lambda d: detail_open(d) and detail_facts(d).get("Id") == known)
    wait(driver, "its large picture", large_loaded)
    check(known in driver.find_element(By.ID, "large").get_attribute("src"), f"the link {link[len(base):]} opens it")
    driver.find_element(By.ID, "close").click()
    wait(driver, "closed", lambda d: not detail_open(d) and fragment(d) is None)
    check(driver.current_url == base + "/?taken_after=2011" and tiles(driver),
          "Close on a linked picture shows the gallery under its own URL")
    page.audit("detail link opened")
    # A link to a picture that is not here, followed while a picture is open: the view closes and says why
    # (until session 31 the old picture stayed open under a URL without it, and nothing was said).
    open_detail(driver, known)
    driver.execute_script("location.hash = 'photo=no-such-picture'")
    wait(driver, "the view closed for a link to no picture", lambda d: not detail_open(d))
    error = driver.find_element(By.ID, "error")
    wait(driver, "the not-found message", lambda d: error.is_displayed() and "no-such-picture" in error.text)
    check(fragment(driver) is None and tiles(driver),
          f"a link to no picture closes the view and says so: {error.text}")
    load(driver, base + "/?taken_after=2012#photo=no-such-picture")
    wait(driver, "the not-found message on a fresh load",
         lambda d: d.find_element(By.ID, "error").is_displayed() and tiles(d))
    check(not detail_open(driver) and fragment(driver) is None,
          "a link to no picture opened afresh shows the gallery and the message")
    page.audit("link to no picture")


def run_empty(driver, page, base, arguments):
    """A new library: what its empty page says, then its first uploads."""
    check(listing(base) == [], "the store is empty")
    check_empty_library(driver, page, base, arguments.artifacts)
    if arguments.max_body:
        check_refused_bars(driver, page, base, arguments.max_body, arguments.artifacts)
    check_upload_order(driver, page, base, arguments.artifacts)
    check_distance_without_centre(driver, page, base, arguments.artifacts)


def empty_message(driver):
    """The empty message's text when it shows, else None."""
    shown = driver.find_elements(By.ID, "empty")
    return shown[0].text if shown and shown[0].is_displayed() else None


def check_empty_library(driver, page, base, artifacts):
    """An empty library says so and points to the upload zone, with a "choose files" that opens the picker; a filter
    that matches nothing says "No pictures match."; the first picture uploaded takes the message away. Until session
    37 a new library said "No pictures match." with no filter set."""
    load(driver, base + "/")
    text = wait(driver, "the empty message", empty_message)
    driver.save_screenshot(os.path.join(artifacts, "empty-library.png"))
    count = driver.find_element(By.ID, "count").text
    check(text.startswith("No pictures yet") and "upload" in text and "match" not in text and count == "0 pictures",
          f"an empty library says so and points to the upload zone ('{text}', {count})")
    driver.execute_script("window.picked = 0; document.getElementById('picker').addEventListener('click', (event) => "
                          "{ window.picked++; event.preventDefault(); })")
    choose = driver.find_element(By.CSS_SELECTOR, "#empty label")
    choose.click()
    picked = driver.execute_script("return window.picked")
    check(picked == 1, f"its '{choose.text}' opens the picker ({picked} time)")
    load(driver, base + "/?make=Apple")
    text = wait(driver, "the empty result", empty_message)
    check(text == "No pictures match.", f"a filter that matches nothing in it says '{text}'")
    load(driver, base + "/")
    wait(driver, "the empty message", empty_message)
    drop_files(driver, [("first.png", png(40, 30, (30, 160, 90)), "image/png")])
    wait(driver, "the first picture's tile", lambda d: len(tiles(d)) == 1)
    check(empty_message(driver) is None, "the first picture uploaded takes the empty message away")
    page.audit("empty library")


def check_refused_bars(driver, page, base, limit, artifacts):
    """Every refused file's bar is full and of the error's colour: one over http.max_body_bytes (413, refused before
    its bytes are all sent) as one that is no picture (415). Until session 37 the first stayed a grey bar a sliver
    long, as a file still waiting looks."""
    load(driver, base + "/")
    wait(driver, "the upload zone", lambda d: d.find_element(By.ID, "drop").is_displayed())
    # Made in the page (no megabytes through the driver): a PNG's signature, then zeros 30 MB past the limit, so the
    # server answers before the browser has sent it all (a bar just past the limit was full before the answer).
    driver.execute_script("""
      const big = new File([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), new Uint8Array(arguments[0])],
                           'too-large.png', {type: 'image/png'});
      const small = new File(['not a picture at all'], 'not-a-picture.png', {type: 'image/png'});
      const transfer = new DataTransfer();
      transfer.items.add(big);
      transfer.items.add(small);
      document.getElementById('drop').dispatchEvent(
        new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));""", limit + 30_000_000)
    rows = lambda d: d.execute_script("""
      return [...document.querySelectorAll('#uploads li')].map((row) => [row.querySelector('.name').textContent,
        row.className, row.querySelector('progress').value, getComputedStyle(row.querySelector('progress')).accentColor,
        getComputedStyle(row.querySelector('.status')).color, row.querySelector('.status').textContent]);""")
    shown = wait(driver, "both refusals", lambda d: (lambda r: r if len(r) == 2 and all(
        row[1] == "failed" for row in r) else None)(rows(d)))
    driver.save_screenshot(os.path.join(artifacts, "refused-uploads.png"))
    wrong = [row for row in shown if row[2] != 1 or row[3] != row[4]]
    check(not wrong and any("over the limit" in row[5] for row in shown),
          f"a file over the limit and one that is no picture are refused, each with a full bar of the error's "
          f"colour: {[(row[0], row[2], row[3], row[5]) for row in shown]}")
    page.allowed_errors.append(("/images", "status of 413"))
    page.allowed_errors.append(("/images", "status of 415"))
    page.audit("refused uploads")


def check_upload_order(driver, page, base, artifacts):
    """Files chosen together are listed in the order chosen, the newest choice above the ones before. Until session 37
    each file went on top of the list as it was queued, so five files chosen showed in reverse."""
    load(driver, base + "/")
    wait(driver, "the upload zone", lambda d: d.find_element(By.ID, "drop").is_displayed())
    folder = tempfile.mkdtemp(prefix="gallery-order-")
    try:
        paths = []
        for number in range(7):
            paths.append(os.path.join(folder, f"order-{number + 1}.png"))
            with open(paths[-1], "wb") as file:
                file.write(png(24, 16, (20 * number, 90, 200 - 20 * number)))
        picker = driver.find_element(By.ID, "picker")
        names = lambda d: [row.text for row in d.find_elements(By.CSS_SELECTOR, "#uploads .name")]
        picker.send_keys("\n".join(paths[:5]))
        first = wait(driver, "five rows", lambda d: (lambda n: n if len(n) == 5 else None)(names(d)))
        picker.send_keys("\n".join(paths[5:]))
        both = wait(driver, "seven rows", lambda d: (lambda n: n if len(n) == 7 else None)(names(d)))
        wait(driver, "the seven uploaded", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#uploads li.done")) == 7)
        driver.save_screenshot(os.path.join(artifacts, "upload-order.png"))
    finally:
        shutil.rmtree(folder)
    chosen = [os.path.basename(path) for path in paths]
    check(first == chosen[:5] and both == chosen[5:] + chosen[:5],
          f"five files chosen are listed in their order ({first}), two chosen next above them ({both[:2]})")
    page.audit("upload order")


def check_distance_without_centre(driver, page, base, artifacts):
    """A "within km" with no centre runs no search: the centre's field says it is missing. With a centre the search
    runs with that distance. Until session 37 the distance was dropped and an unfiltered search ran."""
    load(driver, base + "/")
    wait(driver, "the grid", lambda d: tiles(d))
    driver.find_element(By.ID, "near_km").send_keys("25")
    driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    # The submit handler runs within the click: a search would have changed the URL and the field's message by now.
    driver.save_screenshot(os.path.join(artifacts, "distance-without-centre.png"))
    search, message, focused = driver.execute_script(
        "return [location.search, document.getElementById('near_point').validationMessage, document.activeElement.id]")
    check(search == "" and "centre" in message and focused == "near_point",
          f"a distance with no centre runs no search ('{search}') and the centre's field says so: '{message}'")
    driver.find_element(By.ID, "near_point").send_keys("47.6,-122.3")
    driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(driver, "the search with a centre", lambda d: "near=" in d.execute_script("return location.search"))
    search = urllib.parse.unquote(driver.execute_script("return location.search"))
    check(search == "?near=47.6,-122.3,25", f"with a centre the search runs with the distance: {search}")
    page.audit("distance without centre")


def run_deep_links(driver, page, base, arguments):
    """A link to a picture past the first page, opened afresh (a shared link: another document first) or reloaded
    while the view shows it, opens that picture and keeps its URL; the grid behind it holds the pages read to find
    it, in the listing's order. Until session 33 the page looked no further than the first page before the load
    event: it said "No picture … here: it was deleted …" and dropped the #photo."""
    wait_settled(base, arguments.store)
    stored = listing(base)
    check(len(stored) > 180, f"the store lists {len(stored)} pictures, more than three grid pages (60)")
    fragment = lambda d: urllib.parse.parse_qs(urllib.parse.urlsplit(d.current_url).fragment).get("photo")
    for index in (60, 150, len(stored) - 1):
        picture = stored[index]["id"]
        link = f"{base}/#photo={picture}"
        for how in ("opened afresh", "reloaded"):
            if how == "opened afresh":
                driver.get("about:blank")
                load(driver, link)
            else:
                load(driver)
            wait(driver, f"the picture {index} {how}", lambda d: detail_open(d) and detail_facts(d).get("Id") == picture
                 or d.find_element(By.ID, "error").is_displayed())
            error = driver.find_element(By.ID, "error")
            check(not error.is_displayed() and fragment(driver) == [picture],
                  f"a link to picture {index + 1} of {len(stored)} {how} shows it and keeps its URL "
                  f"{driver.current_url[len(base):][:24]}…{error.text if error.is_displayed() else ''}")
        ids = [t.get_attribute("data-id") for t in tiles(driver)]
        check(len(ids) > index and ids == [item["id"] for item in stored[:len(ids)]],
              f"behind it the grid holds the {len(ids)} pictures read to find it, in the listing's order")
        page.audit(f"link to picture {index + 1}")
    # Closed, the grid goes on from there as a scroll would.
    driver.find_element(By.ID, "close").click()
    wait(driver, "closed", lambda d: not detail_open(d) and fragment(d) is None)
    check(not driver.find_element(By.ID, "error").is_displayed(), "Close on a linked picture shows the gallery")
    page.audit("deep links")


def check_keyboard(driver, page, base, stored):
    """The keyboard alone, keys sent to whatever has the focus (as a person's keys go): Enter on the second tile
    opens it, ← reaches the first picture (which disables "Previous picture", the focused button) and → still steps;
    the same at the end of the grid with "Next picture". Until session 33 the disabled button left the focus on the
    page's body, where the dialog's arrow keys went unheard until Tab."""
    load(driver, base + "/")
    wait(driver, "every tile", lambda d: len(tiles(d)) == len(stored))
    title = lambda d: d.find_element(By.ID, "title").text
    name = lambda index: stored[index]["name"] or stored[index]["id"]
    keys = lambda key: ActionChains(driver).send_keys(key).perform()
    focus = lambda d: d.execute_script("const e = document.activeElement;"
                                       "return [e.closest('dialog') ? 'dialog' : e.tagName, e.id, e.disabled === true]")
    last = len(stored) - 1
    for start, away, back in ((1, Keys.ARROW_LEFT, Keys.ARROW_RIGHT), (last - 1, Keys.ARROW_RIGHT, Keys.ARROW_LEFT)):
        driver.execute_script("arguments[0].focus()", tiles(driver)[start])
        keys(Keys.ENTER)
        wait(driver, f"picture {start} opened with Enter", lambda d: detail_open(d) and title(d) == name(start))
        edge = 0 if start == 1 else last
        keys(away)
        wait(driver, f"picture {edge} after a step", lambda d: title(d) == name(edge))
        at_edge = focus(driver)
        keys(back)
        wait(driver, f"picture {start} after the step back", lambda d: title(d) == name(start))
        keys(back)
        beyond = start + (start - edge)
        wait(driver, f"picture {beyond} after another step", lambda d: title(d) == name(beyond))
        check(at_edge[0] == "dialog" and not at_edge[2],
              f"from picture {start + 1} of {len(stored)} the arrow keys reach the {'first' if edge == 0 else 'last'} "
              f"and step back from it: the focus stays in the view ({at_edge})")
        keys(Keys.ESCAPE)
        wait(driver, "closed", lambda d: not detail_open(d))
    # Closed after steps, the view gives the focus to the tile of the picture it showed last, in sight (until
    # session 33 to the tile it was opened from: the place reached was lost).
    driver.execute_script("arguments[0].focus()", tiles(driver)[1])
    keys(Keys.ENTER)
    wait(driver, "picture 1 opened with Enter", lambda d: detail_open(d) and title(d) == name(1))
    for step in (2, 3):
        keys(Keys.ARROW_RIGHT)
        wait(driver, f"picture {step}", lambda d: title(d) == name(step))
        if step == 2:
            # A screen reader hears the new picture: the dialog is named by its title, and a live region says the
            # picture stepped to (until session 33 the dialog was "Picture" whatever it showed, and a step was
            # silent).
            alt = tiles(driver)[2].find_element(By.TAG_NAME, "img").get_attribute("alt")
            dialog, announce = accessibility(driver, "#detail"), accessibility(driver, "#announce")
            said = driver.execute_script("return document.getElementById('announce')?.textContent")
            check(dialog[:2] == ("dialog", name(2)) and announce[2].get("live") == "polite" and said == alt,
                  f"a step is said: the dialog is named by the picture ({dialog[:2]}), a polite live region "
                  f"says '{alt}'")
    keys(Keys.ESCAPE)
    wait(driver, "closed", lambda d: not detail_open(d))
    focused = driver.execute_script("const e = document.activeElement; const box = e.getBoundingClientRect();"
                                    "return [e.dataset.id, box.top >= 0 && box.bottom <= innerHeight]")
    check(focused == [stored[3]["id"], True],
          f"opened on picture 2 and closed on picture 4, the view gives the focus to picture 4's tile, in sight: "
          f"{focused}")
    page.audit("keyboard")


def restart_serve(arguments, base, restarted, log_name):
    """Starts serve again on the store and address it had (and its configuration, with --config)."""
    environment = dict(os.environ, PICPIPE_LISTEN=base.split("//", 1)[1])
    if arguments.config:
        environment["PICPIPE_CONFIG"] = arguments.config
    log = open(os.path.join(arguments.artifacts, log_name), "w")
    restarted.append(subprocess.Popen(
        [arguments.binary, "serve", "--store", arguments.store], stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, env=environment))


def failed_thumbnails(driver):
    """How many tiles are dimmed because their thumbnail failed."""
    return len(driver.find_elements(By.CSS_SELECTOR, "#grid a.tile.missing"))


def every_thumbnail_shown(driver):
    """A wait condition: every tile's thumbnail decoded and none dimmed, scrolling to the first that is not (a lazy
    thumbnail loads as it nears the viewport), as a person looking at every picture would."""
    return driver.execute_script("""
      const shown = (tile) => !tile.classList.contains('missing') && tile.querySelector('img').complete
        && tile.querySelector('img').naturalWidth > 0;
      const pending = [...document.querySelectorAll('#grid a.tile')].find(tile => !shown(tile));
      if (!pending) return true;
      pending.scrollIntoView({block: 'center'});
      return false;""")


def run_retries(driver, page, base, arguments, restarted):
    """A page of the listing that fails is asked for again until it comes, and the count stays the store's: the
    server restarted while the grid scrolls (the thumbnails that failed meanwhile load again), and a key's usage
    plan answering 429 with Retry-After. Until session 33 one failed page ended the scroll for good: the count fell
    to the pictures loaded, "Failed to fetch" stayed, and the thumbnails that failed stayed broken."""
    wait_settled(base, arguments.store)
    stored = listing(base)
    total = len(stored)
    ids = [item["id"] for item in stored]
    check(total > 180, f"the store lists {total} pictures, more than three grid pages (60)")
    load(driver, base + "/")
    wait(driver, "live stream connected", lambda d: d.find_element(By.ID, "live").text == "live")
    wait(driver, "the first pages", lambda d: len(tiles(d)) >= 120)
    count = driver.find_element(By.ID, "count")
    error = driver.find_element(By.ID, "error")
    loaded = len(tiles(driver))
    check(count.text == f"{total} pictures" and loaded < total, f"{loaded} of {total} pictures loaded: {count.text}")

    # The server goes away, and the grid is scrolled to its end meanwhile: the next page fails, and so do the
    # thumbnails that near the viewport.
    os.kill(arguments.serve_pid, signal.SIGTERM)
    wait(driver, "the page notices the server is gone", lambda d: d.find_element(By.ID, "live").text == "offline")
    deadline = time.time() + 60
    while alive(arguments.serve_pid):
        if time.time() > deadline:
            raise AssertionError("the stopped serve did not exit within 60 s")
        time.sleep(0.1)
    wait(driver, "the failed page's error", lambda d: (d.execute_script(
        "window.scrollTo(0, document.body.scrollHeight)") or True) and error.is_displayed())
    failed = failed_thumbnails(driver)
    said = [count.text, error.text]
    check(len(tiles(driver)) == loaded and said[0] == f"{total} pictures" and "trying again" in said[1],
          f"while the server is away the grid keeps its {loaded} tiles ({failed} thumbnails failed, dimmed) and the "
          f"count the store's, and says the page is asked for again: {said}")

    restart_serve(arguments, base, restarted, "restarted-serve.log")
    wait(driver, "reconnected", lambda d: d.find_element(By.ID, "live").text == "live", seconds=120)
    wait_for_tiles(driver, "every tile after the restart", total)
    shown = [t.get_attribute("data-id") for t in tiles(driver)]
    wait(driver, "the error gone", lambda d: not error.is_displayed())
    check(shown == ids and count.text == f"{total} pictures",
          f"after the restart the scroll goes on to all {total} pictures, in API order, and the error is gone: "
          f"{count.text}")
    wait(driver, "every thumbnail shown", every_thumbnail_shown)
    check(True, f"every thumbnail is shown, the {failed} that failed while the server was away too")
    # Refused while the server was away: the stream's reconnections, the page asked for, and the thumbnails.
    page.allowed_errors.append("net::ERR_CONNECTION_REFUSED")
    page.audit("retries: restart mid-scroll")

    # A key whose usage plan admits one request in four seconds (a burst of two): the grid scrolled to its end
    # needs three pages, the third is refused 429 with Retry-After, and the grid goes on after the wait it names.
    load(driver, base + "/")
    driver.find_element(By.ID, "unlock").click()
    driver.find_element(By.ID, "key").send_keys(arguments.slow_key + "\n")
    wait(driver, "the key taken", lambda d: d.find_element(By.ID, "lock").is_displayed())
    load(driver)
    wait_for_tiles(driver, "every tile with the slow key", total)
    statuses = driver.execute_script("return performance.getEntriesByType('resource')"
                                     ".filter(e => e.name.includes('/images?')).map(e => e.responseStatus)")
    count = driver.find_element(By.ID, "count")
    error = driver.find_element(By.ID, "error")
    wait(driver, "the error gone", lambda d: not error.is_displayed())
    check(429 in statuses and [t.get_attribute("data-id") for t in tiles(driver)] == ids
          and count.text == f"{total} pictures",
          f"a usage plan's 429 ({statuses}) delays the scroll: it goes on to all {total} pictures, the count stays "
          f"'{count.text}' and the error goes")
    page.allowed_errors.append(("/images?", "status of 429"))
    page.audit("retries: usage plan")


def wait_for_tiles(driver, what, count, seconds=120):
    """Waits for `count` tiles, scrolling to the end as a person would; a timeout says how many there were."""
    seen = []
    def condition(d):
        seen[:] = d.execute_script("window.scrollTo(0, document.body.scrollHeight);"
                                   "return [...document.querySelectorAll('#grid a.tile')].map(t => t.dataset.id)")
        return len(seen) == count
    try:
        wait(driver, what, condition, seconds)
    except AssertionError:
        said = [driver.find_element(By.ID, name).text for name in ("count", "error", "live")]
        raise AssertionError(f"timed out waiting for {what}: {len(seen)} tiles, {len(set(seen))} distinct, {said}")


def check_drop_zone(driver, page, base):
    """The drop zone, the keyboard's only way to the file picker (the input is hidden), is a button to assistive
    technology, named for what it does, and Enter, Space or a click opens the picker. Until session 33 it was a generic
    element with a label (a name ARIA does not allow there), so nothing said it could be pressed."""
    load(driver, base + "/")
    wait(driver, "the upload zone", lambda d: d.find_element(By.ID, "drop").is_displayed())
    driver.execute_script("window.picked = 0; document.getElementById('picker').addEventListener('click', (event) => "
                          "{ window.picked++; event.preventDefault(); })")
    driver.execute_script("document.getElementById('drop').focus()")
    for key in (Keys.ENTER, Keys.SPACE):
        ActionChains(driver).send_keys(key).perform()
    role = accessibility(driver, "#drop")[:2]
    picked = driver.execute_script("return window.picked")
    check(role == ("button", "Choose pictures to upload, or drop them here") and picked == 2,
          f"the drop zone is a button ({role}); Enter and Space open the picker ({picked} times)")
    # A click anywhere on it (a tap, a screen reader's activation) opens the picker too, once; its "choose files"
    # opens it once as well. Until session 36 a click on the zone did nothing.
    zone = driver.find_element(By.ID, "drop")
    ActionChains(driver).move_to_element_with_offset(zone, -zone.size["width"] // 2 + 6, 0).click().perform()
    driver.find_element(By.CSS_SELECTOR, "#drop label").click()
    picked = driver.execute_script("return window.picked")
    check(picked == 4, f"a click on the drop zone, and one on its 'choose files', open the picker once each "
          f"({picked - 2} times)")
    page.audit("drop zone")


def check_field_borders(driver, page, base):
    """Every form field's border stands out 3:1 at least from what surrounds it and from its own fill (WCAG 1.4.11:
    the edge is what shows there is a field), in the light and the dark theme. Until session 34 it was the lines'
    colour, 1.3:1 and 1.4:1 in the light theme."""
    load(driver, base + "/")
    for scheme in ("light", "dark"):
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        ratios = driver.execute_script("""
          const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
          const luminance = (colour) => colour.slice(0, 3).map((value) => value / 255)
            .map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
            .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
          const ratio = (a, b) => {
            const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
            return (light + 0.05) / (dark + 0.05);
          };
          // The first colour that is not transparent, from the element up.
          const fill = (element) => {
            for (let at = element; at; at = at.parentElement) {
              const colour = rgb(getComputedStyle(at).backgroundColor);
              if (colour.length < 4 || colour[3] > 0) return colour;
            }
            return [255, 255, 255];
          };
          return [...document.querySelectorAll('#filters input, #filters select, #key')].map((field) => {
            const border = rgb(getComputedStyle(field).borderTopColor);
            return [field.id, ratio(border, fill(field.parentElement)), ratio(border, fill(field))];
          });""")
        low = [(name, round(outside, 2), round(inside, 2)) for name, outside, inside in ratios
               if min(outside, inside) < 3]
        check(len(ratios) == 9 and not low,  # the filters (Find camera among them) and the key
              f"{scheme} theme: the borders of the {len(ratios)} form fields stand out 3:1 or more from the page and "
              f"their fill (lowest {min(min(o, i) for _, o, i in ratios):.2f}:1) {low}")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    page.audit("field borders")


def check_field_values(driver, page, base):
    """A filter that is set reads in the page's text colour (--fg), apart from the grey example a blank field holds,
    in the light and the dark theme. Until session 37 the fields took their labels' muted grey, a shade from the
    examples, so a page without filters looked filtered."""
    load(driver, base + "/?make=Apple&near=47.6,-122.3,50&bbox=40,-130,50,-110&taken_after=2011-05-06")
    wait(driver, "the grid", lambda d: tiles(d))
    for scheme in ("light", "dark"):
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        text, colours, example = driver.execute_script("""
          const fields = ['make', 'near_point', 'near_km', 'bbox', 'taken_after']
            .map((id) => document.getElementById(id));
          const hint = document.getElementById('camera_find');
          return [getComputedStyle(document.body).color,
                  fields.map((field) => [field.id, field.value, getComputedStyle(field).color]),
                  getComputedStyle(hint, '::placeholder').color];""")
        wrong = [(name, value, colour) for name, value, colour in colours if not value or colour != text]
        check(not wrong and example != text,
              f"{scheme} theme: the five filters set read in the text colour {text}, the example in a blank field "
              f"in {example} {wrong}")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    page.audit("field values")


def accessibility(driver, selector):
    """The role, the name and the properties (live, …) Chromium's accessibility tree gives the element."""
    document = driver.execute_cdp_cmd("DOM.getDocument", {"depth": 0})
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector})
    if not node["nodeId"]:
        return None, None, {}
    ax = driver.execute_cdp_cmd("Accessibility.getPartialAXTree", {"nodeId": node["nodeId"], "fetchRelatives": False})
    first = ax["nodes"][0]
    properties = {entry["name"]: entry["value"].get("value") for entry in first.get("properties", [])}
    return first.get("role", {}).get("value"), first.get("name", {}).get("value"), properties


def check_tiny_pictures(driver, page, base, stored):
    """An 8×8 and a 32×32 picture fill the picture pane (scaled up, not a dot in the middle), and a swipe that
    starts beside the picture steps too."""
    load(driver, base + "/")
    for name in ("exiftool-google-pixel-8-pro.jpg", "basn2c08.png"):
        picture = named(stored, name)
        open_detail(driver, picture)
        wait(driver, f"the large picture of {name}", large_loaded)
        shown, stage = driver.execute_script("""
          const image = document.getElementById('large');
          const box = image.getBoundingClientRect();
          const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
          const stage = image.parentElement.getBoundingClientRect();
          return [[image.naturalWidth * scale, image.naturalHeight * scale], [stage.width, stage.height]];""")
        check(min(shown) >= 0.9 * min(stage),
              f"{name} is scaled up to the pane: shown {shown[0]:.0f}×{shown[1]:.0f} in {stage[0]:.0f}×{stage[1]:.0f}")
        ids = [t.get_attribute("data-id") for t in tiles(driver)]
        at = ids.index(picture)
        # To the left for the next picture (to the right from the last), from a top corner of the pane: beside the
        # picture, which is centred and no wider than it is tall.
        step = -1 if at + 1 < len(ids) else 1
        pane = driver.find_element(By.CSS_SELECTOR, "#detail .stage")
        ActionChains(driver).move_to_element_with_offset(pane, -step * (stage[0] / 2 - 30), -stage[1] / 2 + 30) \
            .click_and_hold().move_by_offset(step * 75, 0).move_by_offset(step * 75, 0).release().perform()
        wait(driver, f"the swipe on {name}'s pane", lambda d: detail_facts(d).get("Id") == ids[at - step])
        check(True, f"a swipe beside {name} steps to the {'next' if step < 0 else 'previous'} picture")
        driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
        wait(driver, "detail closed", lambda d: not detail_open(d))
    page.audit("tiny pictures")


def check_camera_finder(driver, page, base):
    """Typing in Find camera on a page just opened offers only the cameras whose make or model holds the text, with
    or without other filters in the URL. Until session 36 every camera the page embedded stayed offered (the ones
    found only came first) until Clear."""
    found = api(base, "/cameras?match=nikon&limit=100")["cameras"]
    makes = {""} | {camera["make"] for camera in found}
    models = {""} | {camera["model"] for camera in found}
    check(makes != {""}, f"the store has cameras matching 'nikon': {sorted(makes)}")
    for path in ("/", "/?taken_after=2011"):
        load(driver, base + path)
        wait(driver, f"the grid of {path}", lambda d: tiles(d))
        driver.find_element(By.ID, "camera_find").send_keys("nikon", Keys.ENTER)
        shown = lambda d: ({o.get_attribute("value") for o in Select(d.find_element(By.ID, "make")).options},
                           {o.get_attribute("value") for o in Select(d.find_element(By.ID, "model")).options})
        try:
            wait(driver, f"the cameras found on {path}", lambda d: shown(d) == (makes, models), seconds=10)
        except AssertionError:
            raise AssertionError(f"typing 'nikon' on {path} just opened offers {shown(driver)}, not {makes, models}")
        check(True, f"typing 'nikon' on {path} just opened offers only the cameras found: {sorted(makes)}")
    page.audit("camera finder on a fresh page")


def check_summary_keys(driver, page, base, stored):
    """The arrow keys step while "All EXIF tags" has the focus, as they do wherever it is while the view is open
    (until session 36 they were ignored there)."""
    load(driver, base + "/")
    known = named(stored, "apple-iphone-5.jpg")
    open_detail(driver, known)
    wait(driver, "the EXIF tags offered", lambda d: d.find_element(By.CSS_SELECTOR, "#raw summary").is_displayed())
    ids = [t.get_attribute("data-id") for t in tiles(driver)]
    following = ids[ids.index(known) + 1]
    driver.execute_script("document.querySelector('#raw summary').focus()")
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    try:
        wait(driver, "the next picture", lambda d: detail_facts(d).get("Id") == following, seconds=10)
    except AssertionError:
        raise AssertionError(f"→ on the focused summary did not step: {detail_facts(driver).get('Id')}")
    check(True, "→ steps to the next picture while All EXIF tags has the focus")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not detail_open(d))
    page.audit("arrow keys on the summary")


def check_camera_line(driver, page, base, stored):
    """The detail view's Camera names the make once: a model that starts with the make's first word stands alone.
    Until session 37 it read "NIKON CORPORATION NIKON D5000" and "HTC HTC Desire"."""
    expected = {"nikon-d5000.jpg": "NIKON D5000", "htc-desire.jpg": "HTC Desire",
                "apple-iphone-4.jpg": "Apple iPhone 4", "sony-dsc-hx5v.jpg": "SONY DSC-HX5V"}
    load(driver, base + "/")
    shown = {}
    for name in expected:
        shown[name] = open_detail(driver, named(stored, name)).get("Camera")
        driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
        wait(driver, "detail closed", lambda d: not detail_open(d))
    check(shown == expected, f"the camera line names the make once: {shown}")
    page.audit("camera line")


def phone(driver, on):
    """A phone's screen (390×844 CSS px, 3 device pixels each), or the window's again."""
    if on:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def check_upload_rows(driver, page, base, artifacts):
    """On a phone a row of the upload list gives the file name the whole width and the API's answer the line below;
    a refused file's bar has the error's colour, not the blue of a success. Until session 36 the fixed columns cut
    names to 13 characters and squeezed a refusal into 97 px over seven lines."""
    load(driver, base + "/")
    name = "IMG_20241201_123456789_HDR from my phone.jpg"
    drop_files(driver, [(name, b"not a picture at all", "image/jpeg")])
    wait(driver, "the refused upload", lambda d: d.find_elements(By.CSS_SELECTOR, "#uploads li.failed"))
    phone(driver, True)
    try:
        driver.execute_script("document.getElementById('upload').scrollIntoView()")
        shape = driver.execute_script("""
          const row = document.querySelector('#uploads li.failed');
          const box = (selector) => row.querySelector(selector).getBoundingClientRect();
          const [name, status, bar] = [box('.name'), box('.status'), row.querySelector('progress')];
          return [row.querySelector('.name').scrollWidth <= Math.ceil(name.width), status.top >= name.bottom - 1,
                  status.width, getComputedStyle(bar).accentColor,
                  getComputedStyle(row.querySelector('.status')).color];""")
        driver.save_screenshot(os.path.join(artifacts, "phone-uploads.png"))
    finally:
        phone(driver, False)
    whole, below, width, bar, error = shape
    check(whole and below and width > 200 and bar == error,
          f"on a phone a refused upload shows its whole name, the answer below it ({width:.0f} px wide), and a bar "
          f"of the error's colour ({bar}, the error {error})")
    page.allowed_errors.append(("/images", "status of 415"))
    page.audit("upload rows on a phone")


def png(width, height, rgb):
    """A PNG of one colour."""
    chunk = lambda kind, data: (len(data).to_bytes(4, "big") + kind + data
                                + zlib.crc32(kind + data).to_bytes(4, "big"))
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def check_unnamed_picture(driver, page, base):
    """A picture uploaded without a file name is listed under its 64-digit id as its name: the page names it by the
    id's first 12 digits in its alt text, the dialog's title and what a step says. Until session 36 all 64 were
    read out."""
    data = png(40, 30, (200, 120, 40))
    picture = hashlib.sha256(data).hexdigest()
    api(base, "/images", method="POST", body=data, content_type="image/png")
    load(driver, base + "/")
    tile = wait(driver, "the unnamed picture's tile", scrolled_to(f'#grid a.tile[data-id="{picture}"]'))[0]
    alt = tile.find_element(By.TAG_NAME, "img").get_attribute("alt")
    open_detail(driver, picture)
    title = driver.find_element(By.ID, "title").text
    dialog = accessibility(driver, "#detail")[1]
    check(alt.startswith(picture[:12]) and picture not in alt and title == picture[:12] + "…" and dialog == title,
          f"a picture without a file name is named by its id's first digits: alt '{alt}', title '{title}'")
    driver.find_element(By.ID, "detail").send_keys(Keys.ESCAPE)
    wait(driver, "detail closed", lambda d: not detail_open(d))
    page.audit("picture without a file name")

def check_folded_filters(driver, page, base):
    """On a phone the filters fold behind a "Filters" button that says how many the URL sets, and open with it; on a
    wide screen they show as ever. Until session 36 the eight fields and the drop zone filled the top 390 of a phone's
    844 px."""
    shown = lambda d: [d.find_element(By.ID, "make").is_displayed(),
                       [b.text for b in d.find_elements(By.ID, "fold") if b.is_displayed()]]
    phone(driver, True)
    try:
        load(driver, base + "/")
        wait(driver, "the grid", lambda d: tiles(d))
        folded = shown(driver)
        if folded[1]:
            driver.find_element(By.ID, "fold").click()
        unfolded = shown(driver) + [driver.find_element(By.ID, "fold").get_attribute("aria-expanded")
                                    if folded[1] else None]
        load(driver, base + "/?taken_after=2011&make=Apple")
        wait(driver, "the grid", lambda d: tiles(d))
        filtered = shown(driver)
    finally:
        phone(driver, False)
    load(driver, base + "/")
    wide = shown(driver)
    check(folded == [False, ["Filters"]] and unfolded == [True, ["Filters"], "true"]
          and filtered == [False, ["Filters (2)"]] and wide == [True, []],
          f"on a phone the filters fold behind a button ({folded}) that opens them ({unfolded}) and counts those of "
          f"the URL ({filtered}); a wide screen shows them with no button ({wide})")
    page.audit("filters folded on a phone")



if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
