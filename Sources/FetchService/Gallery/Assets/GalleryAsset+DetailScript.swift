// The gallery's `detail.js`: the detail view: large picture, prev/next/swipe, metadata table, delete, replace. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let detailScript = GalleryAsset(
        name: "detail.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// The detail view: the largest thumbnail, previous/next (buttons, arrow keys, swipe), Escape closes, the metadata
// as a table, GPS as a map link, the raw EXIF folded away, download, replace and delete.
import {
  canWrite, downloadWithKey, expiresSoon, metadata, readNeedsKey, remove, send, signedThumbnail, signedURLs,
} from "./api.js";
import {
  addedOn, altText, bytes, cameraName, coordinates, dimensions, downloadName, exposure, fNumber, focal, mapLink, shownName,
  takenAt,
} from "./format.js";
import { largestThumbnail, listingOrder } from "./grid.js";

const $ = (id) => document.getElementById(id);
/** The id of the picture the page's URL names (`#photo=ID`), or null. */
const linked = () => new URLSearchParams(location.hash.slice(1)).get("photo");

export class Detail {
  /** `onNotFound(id)`: a URL named a picture this view does not have. */
  constructor(grid, { onNotFound }) {
    this.grid = grid;
    this.onNotFound = onNotFound;
    this.deleting = null;  // the id this view is deleting, until the DELETE answers
    this.dialog = $("detail");
    this.image = $("large");
    $("prev").addEventListener("click", () => this.step(-1));
    $("next").addEventListener("click", () => this.step(1));
    $("close").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => { this.leaveURL(); this.backToPicture(); });
    $("delete").addEventListener("click", () => this.deleteCurrent());
    $("replace-button").addEventListener("click", () => $("replace").click());
    $("replace").addEventListener("change", (event) => this.replaceCurrent(event.target));
    // The arrow keys wherever the focus is while the view is open, the page's body too (until session 33 only
    // inside the dialog: after a step disabled the focused button, Chrome put the focus on the body and the keys
    // went unheard until Tab), "All EXIF tags" too (until session 36: it has no use for them). Not in a field,
    // whose caret they move. Alt+← stays the browser's Back.
    document.addEventListener("keydown", (event) => {
      if (!this.dialog.open || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (event.target.closest?.("input, select, textarea")) return;
      if (event.key === "ArrowLeft") { event.preventDefault(); this.step(-1); }
      if (event.key === "ArrowRight") { event.preventDefault(); this.step(1); }
    });
    // Escape closes a modal dialog by itself.
    // A swipe anywhere on the picture's pane, not only on the picture (a tiny one is a dot).
    const pane = this.image.parentElement;
    let start = null;
    pane.addEventListener("pointerdown", (event) => { start = { x: event.clientX, y: event.clientY }; });
    pane.addEventListener("pointerup", (event) => {
      if (!start) return;
      const dx = event.clientX - start.x;
      const dy = event.clientY - start.y;
      start = null;
      if (Math.abs(dx) > 40 && Math.abs(dx) > 2 * Math.abs(dy)) this.step(dx < 0 ? 1 : -1);
    });
    this.image.addEventListener("dragstart", (event) => event.preventDefault());
    this.image.addEventListener("load", () => {
      // Scaled up to the pane; a tiny picture's pixels stay sharp squares rather than a blur.
      this.image.classList.toggle("tiny", Math.max(this.image.naturalWidth, this.image.naturalHeight) <= 64);
      const cell = this.meta && $("dims");
      if (cell) cell.textContent = this.dimensionsOf(this.meta);
    });
    // A link cannot send the key: when reads need one, the original is fetched with it and saved from a blob.
    $("download").addEventListener("click", (event) => {
      if (!readNeedsKey || !this.current) return;
      event.preventDefault();
      const item = this.current;
      downloadWithKey(item.urls.original, $("download").download)
        .catch((error) => { $("detail-status").textContent = `Not downloaded: ${error.message}`; });
    });
  }

  /** The picture shown: kept itself, not as an index, because a live update may insert pictures before it or
   *  replace the grid's items while the view is open (Delete and Replace must act on the picture shown). */
  get item() { return this.current; }

  /**
   * Where the shown picture is in the grid now (its index moves as pictures come and go); once it left the grid
   * (deleted elsewhere), half a step before the picture that now has its place in the listing's order.
   */
  position() {
    const items = this.grid.items;
    const at = items.findIndex((entry) => entry.id === this.current.id);
    if (at >= 0) return at;
    const next = items.findIndex((entry) => listingOrder(this.current, entry) < 0);
    return (next < 0 ? items.length : next) - 0.5;
  }

  /** Shows the item at this index of the grid. */
  open(index) { return this.show(this.grid.items[index]); }

  /** Closes the view and forgets its picture (the page no longer may read). */
  close() {
    this.current = null;
    this.image.removeAttribute("src");
    this.dialog.close();
  }

  /**
   * The picture the URL names (a shared link, Back, Forward) is shown, looked for through the grid's pages; a URL
   * that names none closes the view. `popped`: reached by Back or Forward, so the entry before is the gallery's.
   */
  async fromURL(popped) {
    const id = linked();
    if (!id) {
      // Back from the picture: the view closes as Escape closes it, back to the picture's tile.
      this.pushed = false;
      if (this.dialog.open) this.dialog.close();
      return;
    }
    if (this.dialog.open && this.current?.id === id) return;
    const item = await this.grid.find(id);
    if (linked() !== id) return;
    if (!item) {
      // The URL and the view agree: no picture open, and the reader is told (until session 31 the picture open
      // before stayed, under a URL without it, and a link to a picture that is not here was dropped silently).
      history.replaceState(null, "", location.pathname + location.search);
      if (this.dialog.open) this.close();
      this.onNotFound(id);
      return;
    }
    this.pushed = popped;
    this.show(item, true);
  }

  /**
   * The view closed: the focus goes to the tile of the picture shown last, scrolled into sight, so the reader goes
   * on from there (the dialog gives it back to the tile it was opened from: until session 33, after steps through
   * the pictures, the place reached was lost). Not after a lock (no picture) or a delete (no tile).
   */
  backToPicture() {
    const tile = this.current && this.grid.tiles.get(this.current.id);
    if (!tile?.isConnected) return;
    const box = tile.getBoundingClientRect();
    const header = document.querySelector(".bar").getBoundingClientRect().bottom;
    if (box.top < header || box.bottom > window.innerHeight) tile.scrollIntoView({ block: "center" });
    tile.focus({ preventScroll: true });
  }

  /** The view closed (Escape, Close, a delete, a lock): the URL names no picture, by going back to the entry the
   *  view was opened from when there is one. */
  leaveURL() {
    if (!linked()) return;
    if (this.pushed) history.back(); else history.replaceState(null, "", location.pathname + location.search);
    this.pushed = false;
  }

  /** Shows an item: its largest thumbnail, then its metadata. Opening the view adds an entry to the history that
   *  names the picture (Back closes the view), a step replaces it. */
  async show(item, viaURL = false) {
    this.current = item;
    if (!item) { this.dialog.close(); return; }
    const url = `#${new URLSearchParams({ photo: item.id })}`;
    if (this.dialog.open || viaURL) {
      history.replaceState(null, "", url);
    } else {
      history.pushState(null, "", url);
      this.pushed = true;
    }
    const [label, large] = largestThumbnail(item);
    // The listing's signed URL ends after a while: an open page mints a fresh one with the key.
    if (readNeedsKey && signedURLs && label && expiresSoon(large)) {
      this.image.removeAttribute("src");
      signedThumbnail(item.id, label).then((fresh) => { if (this.current === item) this.image.src = fresh.url; })
        .catch((error) => { if (this.current === item) $("detail-status").textContent = error.message; });
    } else {
      this.image.src = large;
    }
    this.image.alt = altText(item);
    $("title").textContent = shownName(item);
    // The title names the dialog as it opens; a step within it is said through a live region (until session 33 a
    // screen reader said nothing when the picture changed).
    $("announce").textContent = this.dialog.open ? altText(item) : "";
    const download = $("download");
    download.href = item.urls.original;
    download.download = downloadName(item, item.format);
    download.hidden = false;
    this.showControls();
    this.showNavigation();
    $("detail-status").textContent = "";
    if (!this.dialog.open) this.dialog.showModal();
    const body = $("facts").tBodies[0];
    body.replaceChildren();
    this.meta = null;
    $("raw-groups").replaceChildren();
    try {
      const meta = await metadata(item.id);
      // By id: a live update may have replaced the item objects while the metadata was on its way.
      if (this.current !== item) return;
      this.showFacts(item, meta);
    } catch (error) {
      if (this.current === item) $("detail-status").textContent = error.message;
    }
  }

  /** Replace… and Delete, each when the key held may use it (also when what it may do is read while the view is
   *  open); neither for a picture deleted elsewhere. */
  showControls() {
    const item = this.current;
    for (const control of this.dialog.querySelectorAll(".write")) {
      control.hidden = !item || this.gone === item || !canWrite(control.dataset.scope);
    }
    // A content id (POST, or a file dropped into uploads/) names its bytes: only a chosen id can be replaced.
    if (item?.id === item?.sha256) $("replace-button").hidden = true;
  }

  showNavigation() {
    const at = this.position();
    const focused = document.activeElement;
    $("prev").disabled = at <= 0;
    $("next").disabled = at >= this.grid.items.length - 1 && this.grid.done;
    // A disabled button loses the focus to the body: it goes to the other way instead, or to Close.
    if (focused?.disabled) [$("prev"), $("next"), $("close")].find((button) => !button.disabled).focus();
  }

  async step(delta) {
    // From a deleted picture's place (x.5), the next is the one after it and the previous the one before.
    const from = this.position();
    const index = delta > 0 ? Math.floor(from + delta) : Math.ceil(from + delta);
    if (index >= this.grid.items.length && !this.grid.done) await this.grid.loadMore();
    if (index >= 0 && index < this.grid.items.length) this.open(index);
  }

  /**
   * A live event while the view is open: a new picture under the shown id (Replace…, here or elsewhere) shows with
   * its metadata once its thumbnails are made; the shown picture deleted elsewhere says so, and Next and Previous
   * go on from its place.
   */
  applyEvent(event) {
    const item = this.current;
    if (!this.dialog.open || !item || !Array.isArray(event.items)) return;
    const fresh = event.items.find((entry) => entry.id === item.id);
    if (fresh && fresh.sha256 !== item.sha256) {
      this.show(fresh);
    } else if (!fresh && event.sha256 === item.sha256 && this.deleting !== item.id) {
      // Its content is gone: the id was deleted, or replaced (then the new content's event follows once its
      // thumbnails are made). The API tells which.
      metadata(item.id).catch((error) => {
        if (this.current !== item || error.status !== 404) return;
        $("detail-status").textContent = "Deleted elsewhere.";
        // Nothing is left to download either (until session 33 the link stayed, to a 404).
        $("download").hidden = true;
        this.gone = item;
        this.showControls();
        this.showNavigation();
      });
    }
  }

  showFacts(item, meta) {
    this.meta = meta;
    const rows = [
      ["Camera", cameraName(meta.make, meta.model)],
      ["Lens", meta.lens_model],
      ["Exposure", exposure(meta.exposure_time)],
      ["Aperture", fNumber(meta.f_number)],
      ["ISO", meta.iso != null ? String(meta.iso) : null],
      ["Focal length", focal(meta.focal_length, meta.focal_length_35mm)],
      ["Taken", takenAt(meta.taken_at, meta.taken_at_offset)],
      // Not a taken date: the day it entered the store, which the grid places a picture without one by.
      ["Added", addedOn(meta.added_at)],
      ["Dimensions", this.dimensionsOf(meta)],
      ["Size", bytes(meta.bytes ?? item.size)],
      ["Format", (meta.format || item.format || "").toUpperCase() || null],
      ["Id", item.id],
    ];
    const body = $("facts").tBodies[0];
    for (const [label, value] of rows) {
      if (value == null || value === "") continue;
      const row = this.row(label, document.createTextNode(value));
      if (label === "Dimensions") row.cells[1].id = "dims";
      body.append(row);
    }
    if (meta.gps_latitude != null && meta.gps_longitude != null) {
      const link = document.createElement("a");
      link.href = mapLink(meta.gps_latitude, meta.gps_longitude);
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      link.className = "gps";
      link.textContent = coordinates(meta.gps_latitude, meta.gps_longitude);
      const cell = document.createDocumentFragment();
      cell.append(link);
      if (meta.gps_altitude != null) cell.append(` · ${Math.round(meta.gps_altitude)} m`);
      body.append(this.row("Location", cell));
    }
    const groups = $("raw-groups");
    for (const [group, tags] of Object.entries(meta.exif || {})) {
      const table = document.createElement("table");
      const caption = table.createCaption();
      caption.textContent = group;
      const tbody = table.createTBody();
      for (const [name, value] of Object.entries(tags)) {
        tbody.append(this.row(name, document.createTextNode(typeof value === "string" ? value : JSON.stringify(value))));
      }
      groups.append(table);
    }
    $("raw").hidden = !groups.childElementCount;
  }

  /** Once loaded, the shown picture's shape says how the stored size is displayed. */
  dimensionsOf(meta) {
    return dimensions(meta.width, meta.height, meta.orientation, this.image.complete ? this.image : null);
  }

  row(label, content) {
    const row = document.createElement("tr");
    const head = document.createElement("th");
    head.scope = "row";
    head.textContent = label;
    const cell = document.createElement("td");
    cell.append(content);
    row.append(head, cell);
    return row;
  }

  async deleteCurrent() {
    const item = this.item;
    if (!item || !confirm(`Delete ${shownName(item)}? This cannot be undone.`)) return;
    // Its removal's live event can come before the DELETE's answer: it is no news to this view, which would ask
    // the API whether it was deleted elsewhere and log the 404 as an error (a flaky browser test in session 30).
    this.deleting = item.id;
    try {
      await remove(item.id);
      this.grid.removeItem(item.id);
      if (this.current !== item) return;
      // The picture that took its place, or the one before when it was the last.
      const at = Math.ceil(this.position());
      if (this.grid.items.length === 0) this.dialog.close(); else this.open(Math.min(at, this.grid.items.length - 1));
    } catch (error) {
      $("detail-status").textContent = `Not deleted: ${error.message}`;
    } finally {
      this.deleting = null;
    }
  }

  async replaceCurrent(input) {
    const item = this.item;
    const file = input.files[0];
    input.value = "";
    if (!item || !file) return;
    const status = $("detail-status");
    status.textContent = `Replacing with ${file.name}…`;
    try {
      const onProgress = (done) => { status.textContent = `Replacing: ${Math.round(done * 100)}%`; };
      const answer = await send(file, { id: item.id, onProgress });
      // Its live event shows the new picture here, and may have come first.
      if (this.current?.sha256 !== answer.sha256) {
        status.textContent = "Replaced; the new picture shows once its thumbnails are made.";
      }
    } catch (error) {
      status.textContent = `Not replaced: ${error.message}`;
    }
  }
}
"""#)
}
