// The gallery's `app.js`: the page: filters in the URL, count, API key, wiring. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let appScript = GalleryAsset(
        name: "app.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// The page: filters from and to the URL, the grid, the detail view, uploads, live updates, the API key.
import {
  apiKey, canWrite, expiresSoon, initialData, lacks, onKeyRefused, queryString, readNeedsKey, readScopes,
  setAPIKey, signedThumbnail, signedURLs, writeNeedsKey,
} from "./api.js";
import { CameraFilter } from "./cameras.js";
import { Detail } from "./detail.js";
import { Grid } from "./grid.js";
import { follow } from "./live.js";
import { Uploader } from "./upload.js";

const $ = (id) => document.getElementById(id);
const form = $("filters");
const cameras = new CameraFilter(form, showError);

/** The API's filters from the page's URL. */
function filtersFromURL() {
  const query = new URLSearchParams(location.search);
  const filters = {};
  for (const name of ["make", "model", "taken_after", "taken_before", "near", "bbox"]) {
    const value = query.get(name);
    if (value) filters[name] = value;
  }
  return filters;
}

/** The form's values as API filters. */
function filtersFromForm() {
  const filters = {};
  for (const name of ["make", "model", "taken_after", "taken_before", "bbox"]) {
    const value = form.elements[name].value.trim();
    // Only coordinates lose their inner blanks ("45, 5, 48, 10"): a make or model is sent as chosen.
    if (value) filters[name] = name === "bbox" ? value.replace(/\s+/g, "") : value;
  }
  const point = form.elements.near_point.value.replace(/\s+/g, "");
  const km = form.elements.near_km.value.trim();
  if (point) filters.near = `${point},${km || 10}`;
  return filters;
}

/** On a phone the filters fold behind a button (until session 36 they filled half the screen): it says how many
 *  are set. */
function showActive(filters) {
  const count = Object.keys(filters).length;
  $("fold").textContent = count ? `Filters (${count})` : "Filters";
}
$("fold").addEventListener("click", () => {
  $("fold").setAttribute("aria-expanded", !form.classList.toggle("folded"));
});

/** Whether a date picker can hold this value: a day that exists. The API takes any prefix of a time too. */
const isDay = (value) => /^\d{4}-\d\d-\d\d$/.test(value) && !!new Date(value).toJSON()?.startsWith(value);

function showFilters(filters) {
  cameras.show(filters);
  showActive(filters);
  for (const name of ["taken_after", "taken_before", "bbox"]) {
    const field = form.elements[name];
    // A year, a month, a time or a bad date shows as text, kept as it is by the next search (a date input would
    // be blank and drop it); an empty field or a day keeps the picker.
    if (name.startsWith("taken")) field.type = !filters[name] || isDay(filters[name]) ? "date" : "text";
    field.value = filters[name] || "";
  }
  // A near filter that is not lat,lon,km (a hand-made URL) shows as it is, so the error can be seen and mended.
  const near = (filters.near || "").split(",");
  form.elements.near_point.value = near.length === 3 ? `${near[0]},${near[1]}` : filters.near || "";
  form.elements.near_km.value = near.length === 3 ? near[2] : "";
}

function updateCount() {
  if (grid.failed && grid.items.length === 0) {
    // A refused search was never run: no count (until session 31 "0 pictures" beside the API's error).
    $("count").textContent = "";
    $("count").dataset.count = "";
    return;
  }
  let count = cameras.count(grid.filters);
  // The end reached: what is loaded is all. Not after a read that failed (until session 33 any failure ended the
  // scroll, and the count fell to the pictures loaded).
  if (grid.done && !grid.failed) count = grid.items.length;
  const loaded = grid.items.length;
  const text = count == null ? `${loaded}+ pictures` : `${count} picture${count === 1 ? "" : "s"}`;
  $("count").textContent = text;
  $("count").dataset.count = count == null ? "" : String(count);
  $("empty").hidden = !(grid.done && loaded === 0) || !$("error").hidden;
  // A search that finds nothing is not a library that holds nothing (until session 37 both said "No pictures
  // match."): that one says so, and how to upload the first picture when the page may.
  $("no-match").hidden = grid.unfiltered;
  $("no-pictures").hidden = !grid.unfiltered;
}

function showError(error) {
  // A refused key is said once, with the key form (onKeyRefused), not by every request that sent it.
  if (error.keyRefused) return;
  const element = $("error");
  element.textContent = error.message;
  element.hidden = false;
  $("empty").hidden = true;
}

/** The text shown while the grid asks again for a page that failed: it goes once a read succeeds. */
let retryingText = null;

/** A read of the grid failed; `retrying`: it is asked again (said once, not at every attempt). */
function listingFailed(error, retrying) {
  if (!retrying) { showError(error); return; }
  const text = `${error.message} (trying again)`;
  if ($("error").hidden || $("error").textContent !== text) showError(new Error(text));
  retryingText = text;
}

/** A read of the grid succeeded after failures: their error goes. */
function listingRecovered() {
  if (!$("error").hidden && $("error").textContent === retryingText) $("error").hidden = true;
  retryingText = null;
}

/** Whether the server may be asked: at once while the stream is connected, else when it is back. */
const whenOnline = [];
const reachable = () => (online ? Promise.resolve() : new Promise((resolve) => whenOnline.push(resolve)));

/** The query of the filters shown: Back and Forward between a picture's entry and the gallery's change none. */
let shownSearch = location.search;

/** Shows the pictures of these filters: the error of the last search goes. */
function search(filters) {
  shownSearch = location.search;
  $("error").hidden = true;
  cameras.choose(filters).then(updateCount);
  return grid.reset(filters);
}

/** Whether reads need a key and there is none (never entered, forgotten, or refused). */
const locked = () => readNeedsKey && !apiKey();

/** Nothing read stays on a page that may no longer read: the grid and the detail view empty, the stream stops, and
 *  the key form asks for a key. */
function lockReads() {
  stopFollowing();
  detail.close();
  grid.clear();
  $("count").textContent = "Reading needs an API key.";
  $("empty").hidden = true;
  askForKey();
}

/** The key form, with the focus in its field and no "Enter API key" beside it (until session 36 the focus stayed
 *  on the page, or fell to it after a refused key, and the button offered the form already open). */
function askForKey() {
  $("key-form").hidden = false;
  $("unlock").hidden = true;
  $("key").focus();
}

/** The controls the key held may use (none before its scopes are read), and a note saying what it may not do. */
function showWriteControls() {
  const held = !!apiKey();
  $("upload").hidden = $("first-upload").hidden = !canWrite();
  $("unlock").hidden = !writeNeedsKey || held || !$("key-form").hidden;
  $("lock").hidden = !writeNeedsKey || !held;
  detail.showControls();
  const [write, remove] = [lacks("images:write"), lacks("images:delete")];
  $("access").textContent = write && remove ? "Read-only key: no uploads or deletes."
    : write ? "This key may not upload or replace." : remove ? "This key may not delete." : "";
}

/** Reads what the key held may do, then shows the controls it allows. */
const readAccess = () => readScopes().then(showWriteControls);

/**
 * A thumbnail that failed: a signed URL that expired (the page stayed open) gets a fresh one minted with the key;
 * otherwise the picture was deleted by another client between the listing and the request: dimmed until the next
 * update drops it.
 */
async function thumbnailFailed(item, image, link) {
  const [label, url] = Object.entries(item.urls.thumbnails)[0] || [];
  if (readNeedsKey && signedURLs && url && expiresSoon(image.currentSrc || image.src, 0)) {
    try {
      const fresh = await signedThumbnail(item.id, label);
      image.removeAttribute("srcset");
      image.src = fresh.url;
      return;
    } catch { /* fall through: shown as missing */ }
  }
  link.classList.add("missing");
}

const grid = new Grid($("grid"), $("more"), {
  onOpen: (index) => detail.open(index),
  onChange: updateCount,
  onError: listingFailed,
  onRecover: listingRecovered,
  onMissing: thumbnailFailed,
  reachable,
});
const detail = new Detail(grid, {
  onNotFound: (id) => showError(new Error(
    `No picture "${id}" here: it was deleted, its link is mistyped, or the filters leave it out.`)),
});
new Uploader($("drop"), $("picker"), $("uploads"), () => canWrite());

form.addEventListener("submit", (event) => {
  event.preventDefault();
  // A distance alone names no place: the centre's field says so (until session 37 the distance was dropped and the
  // search ran unfiltered).
  const centre = form.elements.near_point;
  centre.setCustomValidity(!centre.value.trim() && form.elements.near_km.value.trim()
    ? "Enter the centre (lat,lon) the distance is measured from, or clear \"within km\"." : "");
  if (!form.reportValidity()) return;
  const filters = filtersFromForm();
  showActive(filters);
  // The page's URL is read by the server too (the embedded first page): spaces as %20.
  const query = queryString(filters);
  history.pushState(null, "", query ? `?${query}` : location.pathname);
  search(filters);
});
// Any edit (a centre typed, the distance cleared) takes that complaint away: the browser checks the form before
// each submit, and a complaint still set would refuse it.
form.addEventListener("input", () => form.elements.near_point.setCustomValidity(""));
$("clear").addEventListener("click", () => {
  showFilters({});
  history.pushState(null, "", location.pathname);
  search({});
});
window.addEventListener("popstate", () => {
  if (location.search !== shownSearch) {
    const filters = filtersFromURL();
    showFilters(filters);
    search(filters);
  }
  detail.fromURL(true);
});

$("unlock").addEventListener("click", askForKey);
$("key-cancel").addEventListener("click", () => {
  $("key-form").hidden = true;
  // A refusal's "enter another" goes with the form (until session 36 it stayed, with nowhere to enter one).
  if ($("error").textContent.startsWith(refusedKey)) $("error").hidden = true;
  showWriteControls();
});
$("lock").addEventListener("click", () => {
  setAPIKey(null);
  showWriteControls();
  if (readNeedsKey) lockReads();
});
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setAPIKey($("key").value.trim());
  $("key").value = "";
  $("key-form").hidden = true;
  $("error").hidden = true;
  showWriteControls();
  readAccess();
  if (readNeedsKey) { stopFollowing(); start(); }
});
// The key was wrong or withdrawn (api.js has forgotten it): say so and ask for another.
const refusedKey = "The API key was refused";
onKeyRefused((message) => {
  showWriteControls();
  if (readNeedsKey) lockReads(); else askForKey();
  showError(new Error(`${refusedKey} (${message}): enter another.`));
});

let refreshTimer = null;
let camerasTimer = null;
let online = false;
let offlineSince = null;
/** Whether the thumbnails that failed are loaded again after the next refresh (the server was away). */
let retryThumbnails = false;
/** Reads the listing again from the top (a filtered view's update, or catching up after being offline). */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    // Nothing is asked while the server is away (the stream says when it is back): no refused request.
    if (!online) return;
    await cameras.read(grid.filters);
    await grid.refresh();
    // The pictures deleted meanwhile left with the refresh: the thumbnails that failed while the server was away
    // are loaded again.
    if (retryThumbnails) { retryThumbnails = false; grid.retryMissing(); }
  }, 30);
}
/** The count and the camera choices after live updates: one small read a second later, for a whole burst. */
function scheduleCameras() {
  if (camerasTimer) return;
  camerasTimer = setTimeout(async () => {
    camerasTimer = null;
    if (!online) return;
    await cameras.read(grid.filters);
    updateCount();
  }, 1000);
}

function showLive(connected) {
  $("live").textContent = connected ? "live" : "offline";
  $("live").classList.toggle("on", connected);
  online = connected;
  if (connected) for (const resolve of whenOnline.splice(0)) resolve();
}

let stream = null;
function followStore(lastEventID) {
  if (stream) return;
  stream = follow(lastEventID, (event) => {
    // The event carries the picture's listing items: placed at once, no listing read.
    if (!grid.applyEvent(event)) scheduleRefresh();
    detail.applyEvent(event);
    scheduleCameras();
  }, (connected) => {
    showLive(connected);
    // Back after a restart: the stream resumes where it was, and the listing is read again in case more
    // happened meanwhile than the stream keeps (the reconnection of a stream that merely ended is not that).
    // The thumbnails that failed meanwhile are loaded again, after that read when there is one: they failed
    // because the server was away, not because their pictures were deleted.
    if (connected && offlineSince != null && Date.now() - offlineSince > 1500) {
      retryThumbnails = true;
      scheduleRefresh();
    } else if (connected && offlineSince != null) {
      grid.retryMissing();
    }
    if (connected) offlineSince = null; else if (offlineSince == null) offlineSince = Date.now();
  }, scheduleRefresh, (message) => {
    stopFollowing();
    showError(new Error(`Live updates stopped: ${message}. Reload the page to follow again.`));
  });
}

// A page the browser keeps in its back-forward cache keeps no stream open: that connection counted against the
// browser's six per server, and after a few pages every request of the next one waited a minute for a free one
// (until session 31). Shown again, the page resumes where its stream was; the listing is read too when it had seen
// no event yet.
let hiddenAt;
window.addEventListener("pagehide", () => {
  if (!stream) return;
  hiddenAt = stream.position();
  stopFollowing();
});
window.addEventListener("pageshow", (event) => {
  if (!event.persisted || hiddenAt === undefined) return;
  const at = hiddenAt;
  hiddenAt = undefined;
  followStore(at);
  if (at == null) offlineSince = 0;
});

/** Stops the live updates and the reads they had scheduled. */
function stopFollowing() {
  stream?.stop();
  stream = null;
  clearTimeout(refreshTimer);
  clearTimeout(camerasTimer);
  camerasTimer = null;
  offlineSince = null;
  showLive(false);
}

/** The stream is opened once the page has loaded: the load event waits for the first thumbnails only. */
function afterLoad(action) {
  if (document.readyState === "complete") action(); else window.addEventListener("load", action, { once: true });
}

async function start() {
  if (readNeedsKey && !signedURLs) {
    showError(new Error("Reads need a key here and the server signs no URLs (http.signing_key): pictures and live "
      + "updates cannot be shown, as an image or event stream cannot send the key."));
  }
  const filters = filtersFromURL();
  const initial = initialData();
  if (initial?.listing && initial.cameras) {
    // Drawn from what the server embedded: the thumbnails start loading while this module runs.
    cameras.start(initial.cameras, filters);
    showFilters(filters);
    const ready = grid.reset(filters, initial.listing);
    afterLoad(() => followStore(initial.last_event_id));
    await ready;
    return detail.fromURL(false);
  }
  online = true;
  followStore(null);
  await cameras.read(filters);
  if (locked()) return;  // the key was refused meanwhile
  showFilters(filters);
  await grid.reset(filters);
  await detail.fromURL(false);
}

showWriteControls();
readAccess();
if (locked()) lockReads(); else start();
"""#)
}
