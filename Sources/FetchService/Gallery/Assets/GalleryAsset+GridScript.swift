// The gallery's `grid.js`: the grid: srcset tiles, month headers, endless scroll, live updates. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let gridScript = GalleryAsset(
        name: "grid.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// The grid: newest first, month headers, square tiles (no layout shift), srcset over the thumbnail sizes, endless
// scroll through the listing's cursor, and live updates from the event stream's listing items.
import { listImages, pageSize, thumbnailFormat } from "./api.js";
import { altText, monthHeading } from "./format.js";

/** The most one read asks for, one API page: the catch-up refresh, the search for a linked picture. */
const refreshLimit = 1000;
/** The first wait before a failed read is asked for again, and the longest, in seconds (doubling in between). */
const retryFirst = 1;
const retryMost = 30;
/** How many tiles of the first page are fetched first: the rows a wide screen shows at once. */
const highPriority = 24;

/** The `w` descriptor of a size label ("256", "320x200"). */
function labelWidth(label) { return parseInt(label, 10) || 0; }

/**
 * A thumbnail URL that changes when a chosen id's content is replaced (PUT): the browser keeps images by URL, and
 * a content id's URL never changes meaning.
 */
function versioned(item, url) {
  if (item.id === item.sha256) return url;
  return `${url}${url.includes("?") ? "&" : "?"}v=${item.sha256.slice(0, 12)}`;
}

/**
 * A tile's URL in the format thumbnails are made in at upload: a browser's Accept names AVIF, whose variant is
 * encoded on its first request, and a first view of 60 tiles would wait for 60 encodes.
 */
function stored(url) {
  return thumbnailFormat ? `${url}${url.includes("?") ? "&" : "?"}format=${thumbnailFormat}` : url;
}

/** `srcset` over every configured size, `src` the one nearest a tile, `sizes` the tile's width. */
export function thumbnailAttributes(item, tileWidth = 256) {
  const entries = Object.entries(item.urls.thumbnails)
    .map(([label, url]) => [labelWidth(label), stored(versioned(item, url))])
    .filter(([width]) => width > 0).sort((a, b) => a[0] - b[0]);
  const src = (entries.find(([width]) => width >= tileWidth) || entries[entries.length - 1] || [0, ""])[1];
  return { src, srcset: entries.map(([width, url]) => `${url} ${width}w`).join(", ") };
}

/** The largest configured thumbnail of an item: `[label, url]`, or `[null, original]` when none is configured. */
export function largestThumbnail(item) {
  const entries = Object.entries(item.urls.thumbnails).sort((a, b) => labelWidth(b[0]) - labelWidth(a[0]));
  return entries.length ? [entries[0][0], stored(versioned(item, entries[0][1]))] : [null, item.urls.original];
}

/** The time the listing orders an item by: when it was taken, else when it was added (a screenshot, a scan: no
 *  EXIF date), else null. */
export function listedAt(item) {
  return item.taken_at ?? item.added_at ?? null;
}

/** The listing's order: newest `listedAt` first, unknown last, then by content hash, then by id. */
export function listingOrder(a, b) {
  const [at, bt] = [listedAt(a), listedAt(b)];
  if (at !== bt) {
    if (at == null) return 1;
    if (bt == null) return -1;
    return at < bt ? 1 : -1;
  }
  if (a.sha256 !== b.sha256) return a.sha256 < b.sha256 ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const headings = new Map();
/** `monthHeading`, remembered per month (it formats a date). */
function heading(item) {
  const time = listedAt(item);
  const key = time ? time.slice(0, 7) : "";
  let text = headings.get(key);
  if (text === undefined) { text = monthHeading(time); headings.set(key, text); }
  return text;
}

export class Grid {
  /**
   * `onError(error, retrying)`: a read failed (`retrying`: it is asked again, until `onRecover()`);
   * `reachable()`: a promise that resolves when the server may be asked again (at once while the event stream is
   * connected, else once it is back).
   */
  constructor(element, sentinel, { onOpen, onChange, onError, onRecover, onMissing, reachable }) {
    this.element = element;
    this.sentinel = sentinel;
    this.onOpen = onOpen;
    this.onChange = onChange;
    this.onError = onError;
    this.onRecover = onRecover;
    this.onMissing = onMissing;
    this.reachable = reachable;
    this.retrying = false;
    this.tiles = new Map();
    this.items = [];
    this.filters = {};
    this.generation = 0;
    this.started = false;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }, { rootMargin: "1200px 0px" });
    this.observer.observe(sentinel);
    // The next page waits for the load event: a lazy thumbnail that starts loading before it would hold the
    // load event back, which is to mean "the first page is shown".
    this.held = document.readyState !== "complete";
    if (this.held) {
      window.addEventListener("load", () => {
        this.held = false;
        if (this.sentinelNear()) this.loadMore();
      }, { once: true });
    }
    element.addEventListener("click", (event) => {
      const tile = event.target.closest("a.tile");
      if (!tile || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      const index = this.items.findIndex((item) => item.id === tile.dataset.id);
      if (index >= 0) this.onOpen(index);
    });
  }

  /** Whether the grid shows the whole store (no filter): then a live item's place is known from the item alone. */
  get unfiltered() { return Object.keys(this.filters).length === 0; }

  /**
   * Starts over with these filters (the API's parameter names); `first`, when given, is the first listing page
   * already read (the page's embedded one): it is drawn at once, its thumbnails loaded eagerly.
   */
  async reset(filters, first = null) {
    this.clear(true);
    this.filters = filters;
    if (first) {
      this.take(first);
      this.onChange();
      if (!this.done && this.sentinelNear()) await this.loadMore();
      return;
    }
    this.onChange();
    await this.loadMore();
  }

  /** Empties the grid; not `started`, it reads nothing until the next reset (reads need a key it has not). */
  clear(started = false) {
    this.generation++;
    this.started = started;
    this.items = [];
    this.tiles.clear();
    this.cursor = null;
    this.done = false;
    this.failed = false;  // the listing was refused (a bad filter): there is no count to show
    this.retrying = false;
    this.loading = null;
    this.element.replaceChildren();
  }

  /** A listing page read: its items after what is shown. */
  take(page) {
    this.cursor = page.next_cursor;
    this.done = !page.next_cursor;
    const known = new Set(this.items.map((item) => item.id));
    this.append(page.items.filter((item) => !known.has(item.id)));
  }

  /** Loads the next page while the sentinel is near the viewport; a page of `limit` pictures (`find` looking
   *  for a linked picture) is read before the load event too. */
  loadMore(limit = 0) {
    // Nothing before the page starts the grid (reads may wait for a key), and no next page of the scroll before
    // the load event.
    if (!this.started || (!limit && this.held && this.items.length)) return null;
    if (this.loading || this.done) return this.loading;
    const generation = this.generation;
    this.loading = (async () => {
      try {
        // A page that failed for a while (the server restarting, a usage plan's 429) is asked for again, after the
        // answer's Retry-After or a wait doubling from 1 s to 30 s, and not while the server is away; until session
        // 33 one failure ended the scroll for good and the count fell to the pictures loaded.
        for (let attempt = 0; ; attempt++) {
          try {
            const page = await listImages(this.filters, this.cursor, limit || pageSize);
            if (generation !== this.generation) return;
            this.take(page);
            this.recovered();
            break;
          } catch (error) {
            if (generation !== this.generation) return;
            if (!error.transient) { this.done = true; this.failed = true; this.onError(error, false); break; }
            this.retrying = true;
            this.onError(error, true);
            const seconds = error.retryAfter ?? Math.min(retryMost, retryFirst * 2 ** attempt);
            await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
            await this.reachable();
            if (generation !== this.generation) return;
          }
        }
      } finally {
        if (generation === this.generation) this.loading = null;
      }
      if (generation === this.generation) {
        this.onChange();
        if (!this.done && this.sentinelNear()) return this.loadMore();
        this.observeAnew();
      }
    })();
    return this.loading;
  }

  /**
   * Observes the sentinel anew, so the observer reports where it is now: pushed away by the page just added, it
   * may be back near the viewport (a scroll to the end) before the observer saw it leave, and then nothing would
   * ask for the next page (seen once a page that had failed came in the end).
   */
  observeAnew() {
    this.observer.unobserve(this.sentinel);
    this.observer.observe(this.sentinel);
  }

  /**
   * The loaded item with this id, after reading the listing's next pages until it is there or the listing ends (a
   * shared link to a picture past the pages shown); null when it is not listed. It reads before the load event too:
   * until session 33 it read nothing then, so a link opened afresh to a picture past the first page said the
   * picture was not here. The pages it reads double up to one API page, so a picture far down costs few requests.
   */
  async find(id) {
    let limit = pageSize;
    let item;
    while (!(item = this.items.find((entry) => entry.id === id)) && !this.done) {
      const count = this.items.length;
      await this.loadMore(limit);
      if (this.items.length === count) return null;
      limit = Math.min(refreshLimit, limit * 2);
    }
    return item || null;
  }

  /** A read succeeded: an error of the reads that failed before it goes. */
  recovered() {
    if (!this.retrying) return;
    this.retrying = false;
    this.onRecover();
  }

  /**
   * Loads again the thumbnails that failed (dimmed as deleted elsewhere) of the pictures still listed: called after
   * the server was away, when a failure was its absence, not a delete (until session 33 they stayed broken).
   */
  retryMissing() {
    for (const item of this.items) {
      const tile = this.tiles.get(item.id);
      if (!tile?.classList.contains("missing")) continue;
      tile.classList.remove("missing");
      const image = tile.querySelector("img");
      image.addEventListener("error", () => this.onMissing(item, image, tile), { once: true });
      // Set again, even to the same URLs, an image is fetched again (lazily: once it nears the viewport).
      const { src, srcset } = thumbnailAttributes(item);
      image.srcset = srcset;
      image.src = src;
    }
  }

  sentinelNear() {
    return this.sentinel.getBoundingClientRect().top < window.innerHeight + 1200;
  }

  /** Adds items at the end, with a header where the month changes. */
  append(items) {
    const nodes = [];
    let previous = this.items.length ? heading(this.items[this.items.length - 1]) : null;
    for (const item of items) {
      const text = heading(item);
      if (text !== previous) nodes.push(this.header(text));
      previous = text;
      // The first page is what the screen shows first: fetched at once (the load event waits for it), the
      // first rows first; every later page loads as it nears the viewport.
      nodes.push(this.tile(item, this.items.length < pageSize ? (this.items.length < highPriority ? "high" : "eager") : "lazy"));
      this.items.push(item);
    }
    this.element.append(...nodes);
  }

  /** Lays the items out again (after a refresh), reusing each tile so no thumbnail loads twice. */
  render() {
    const nodes = [];
    let previous = null;
    const ids = new Set();
    for (const item of this.items) {
      const text = heading(item);
      if (text !== previous) nodes.push(this.header(text));
      previous = text;
      nodes.push(this.tile(item));
      ids.add(item.id);
    }
    for (const id of this.tiles.keys()) if (!ids.has(id)) this.tiles.delete(id);
    this.element.replaceChildren(...nodes);
  }

  header(text) {
    const header = document.createElement("h2");
    header.className = "month";
    header.textContent = text;
    return header;
  }

  tile(item, priority = "lazy") {
    const cached = this.tiles.get(item.id);
    if (cached && cached.dataset.sha === item.sha256) return cached;
    const link = document.createElement("a");
    link.className = "tile";
    link.href = item.urls.original;
    link.dataset.id = item.id;
    link.dataset.sha = item.sha256;
    const image = document.createElement("img");
    const { src, srcset } = thumbnailAttributes(item);
    image.loading = priority === "lazy" ? "lazy" : "eager";
    if (priority === "high") image.fetchPriority = "high";
    image.decoding = "async";
    image.alt = altText(item);
    image.sizes = "(max-width: 600px) 48vw, 220px";
    image.srcset = srcset;
    image.src = src;
    // Deleted by another client between the listing and this request, or a signed URL that expired.
    image.addEventListener("error", () => this.onMissing(item, image, link), { once: true });
    link.append(image);
    this.tiles.set(item.id, link);
    return link;
  }

  /** Removes one id (deleted here). */
  removeItem(id) {
    const at = this.items.findIndex((item) => item.id === id);
    if (at < 0) return;
    this.items.splice(at, 1);
    this.detach(id);
    this.onChange();
  }

  /** Takes a tile (and its month header, when it was the month's last tile) out of the page. */
  detach(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    this.tiles.delete(id);
    const before = tile.previousElementSibling;
    const after = tile.nextElementSibling;
    if (before?.tagName === "H2" && (!after || after.tagName === "H2")) before.remove();
    tile.remove();
  }

  /** Puts the item at `index` of `items` into the page, next to its neighbours, under its month's header. */
  attach(index) {
    const item = this.items[index];
    const previous = this.items[index - 1];
    const next = this.items[index + 1];
    const text = heading(item);
    const node = this.tile(item);
    if (previous && heading(previous) === text) { this.tiles.get(previous.id).after(node); return; }
    const nextTile = next && this.tiles.get(next.id);
    if (nextTile && heading(next) === text) { nextTile.before(node); return; }
    // A month not shown yet: its header, then the tile, before the next month's header.
    const header = this.header(text);
    if (nextTile) nextTile.previousElementSibling.before(header, node); else this.element.append(header, node);
  }

  /**
   * Applies a stream event that carries the listing items of its content (`items`: every id naming it now):
   * tiles of that content no id names any more leave, the items take their place in the listing's order (when
   * that place is among the pictures loaded). Returns false when the grid cannot place it from the event alone
   * (a filtered view, or an event without items): then the caller refreshes from the listing.
   */
  applyEvent(event) {
    if (!Array.isArray(event.items) || !this.unfiltered) return false;
    const fresh = new Map(event.items.map((item) => [item.id, item]));
    for (const item of this.items.filter((entry) => entry.sha256 === event.sha256 || fresh.has(entry.id))) {
      const replacement = fresh.get(item.id);
      if (replacement && replacement.sha256 === item.sha256 && listedAt(replacement) === listedAt(item)) {
        fresh.delete(item.id);  // unchanged (an event seen twice after a reconnect)
        continue;
      }
      this.items.splice(this.items.indexOf(item), 1);
      this.detach(item.id);
    }
    for (const item of fresh.values()) {
      let at = this.items.findIndex((entry) => listingOrder(item, entry) < 0);
      // Past the last picture loaded: the next page brings it (the cursor is before it).
      if (at < 0) { if (!this.done) continue; at = this.items.length; }
      this.items.splice(at, 0, item);
      this.attach(at);
    }
    this.onChange();
    return true;
  }

  /**
   * Reads the listing again from the top (one request, at most one API page) and merges it: new pictures take
   * their place, pictures gone from the store leave; what lies past the refreshed part stays as loaded.
   */
  async refresh() {
    if (this.refreshing) { this.refreshAgain = true; return this.refreshing; }
    const generation = this.generation;
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          await this.loading;
          const limit = Math.min(refreshLimit, Math.max(pageSize, this.items.length + 10));
          const page = await listImages(this.filters, null, limit);
          if (generation !== this.generation) return;
          const fresh = page.items;
          const freshIDs = new Set(fresh.map((item) => item.id));
          if (!page.next_cursor) {
            this.items = fresh;
            this.done = true;
            this.cursor = null;
          } else {
            // Loaded items past the last one the refresh saw stay; those before it that it did not see are gone.
            let last = -1;
            this.items.forEach((item, index) => { if (freshIDs.has(item.id)) last = index; });
            this.items = fresh.concat(this.items.slice(last + 1).filter((item) => !freshIDs.has(item.id)));
            if (this.items.length === fresh.length) { this.cursor = page.next_cursor; this.done = false; }
          }
          this.render();
          this.recovered();
          this.onChange();
        } catch (error) {
          if (generation === this.generation) this.onError(error, false);
        }
      } while (this.refreshAgain && generation === this.generation);
      this.refreshing = null;
      // The scroll goes on from the cursor the refresh may have moved: the sentinel was near all along, so its
      // observer says nothing new (until session 33 the grid stopped there after a reconnection).
      if (generation === this.generation && !this.done && this.sentinelNear()) this.loadMore();
    })();
    return this.refreshing;
  }
}
"""#)
}
