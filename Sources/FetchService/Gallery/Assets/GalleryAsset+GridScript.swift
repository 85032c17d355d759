// The gallery's `grid.js`: the grid: srcset tiles, month headers, endless scroll, live merge. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let gridScript = GalleryAsset(
        name: "grid.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// The grid: newest first, month headers, square tiles (no layout shift), srcset over the thumbnail sizes, endless
// scroll through the listing's cursor, and a merge of the first pages when the store changes.
import { listImages } from "./api.js";
import { altText, monthHeading } from "./format.js";

const pageSize = 60;
/** The most the live refresh reads at once: one API page. */
const refreshLimit = 1000;

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

/** `srcset` over every configured size, `src` the one nearest a tile, `sizes` the tile's width. */
export function thumbnailAttributes(item, tileWidth = 256) {
  const entries = Object.entries(item.urls.thumbnails).map(([label, url]) => [labelWidth(label), versioned(item, url)])
    .filter(([width]) => width > 0).sort((a, b) => a[0] - b[0]);
  const src = (entries.find(([width]) => width >= tileWidth) || entries[entries.length - 1] || [0, ""])[1];
  return { src, srcset: entries.map(([width, url]) => `${url} ${width}w`).join(", ") };
}

/** The largest configured thumbnail of an item. */
export function largestThumbnail(item) {
  const entries = Object.entries(item.urls.thumbnails).sort((a, b) => labelWidth(b[0]) - labelWidth(a[0]));
  return entries.length ? versioned(item, entries[0][1]) : item.urls.original;
}

export class Grid {
  constructor(element, sentinel, { onOpen, onChange, onError }) {
    this.element = element;
    this.sentinel = sentinel;
    this.onOpen = onOpen;
    this.onChange = onChange;
    this.onError = onError;
    this.tiles = new Map();
    this.items = [];
    this.filters = {};
    this.generation = 0;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }, { rootMargin: "1200px 0px" });
    this.observer.observe(sentinel);
    element.addEventListener("click", (event) => {
      const tile = event.target.closest("a.tile");
      if (!tile || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      const index = this.items.findIndex((item) => item.id === tile.dataset.id);
      if (index >= 0) this.onOpen(index);
    });
  }

  /** Starts over with these filters (the API's parameter names). */
  async reset(filters) {
    this.generation++;
    this.filters = filters;
    this.items = [];
    this.tiles.clear();
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.element.replaceChildren();
    this.onChange();
    await this.loadMore();
  }

  /** Loads the next page while the sentinel is near the viewport. */
  loadMore() {
    if (this.loading || this.done) return this.loading;
    const generation = this.generation;
    this.loading = (async () => {
      try {
        const page = await listImages(this.filters, this.cursor, pageSize);
        if (generation !== this.generation) return;
        this.cursor = page.next_cursor;
        this.done = !page.next_cursor;
        const known = new Set(this.items.map((item) => item.id));
        this.append(page.items.filter((item) => !known.has(item.id)));
      } catch (error) {
        if (generation === this.generation) { this.done = true; this.onError(error); }
      } finally {
        if (generation === this.generation) this.loading = null;
      }
      if (generation === this.generation) {
        this.onChange();
        if (!this.done && this.sentinelNear()) return this.loadMore();
      }
    })();
    return this.loading;
  }

  sentinelNear() {
    return this.sentinel.getBoundingClientRect().top < window.innerHeight + 1200;
  }

  /** Adds items at the end, with a header where the month changes. */
  append(items) {
    const nodes = [];
    let previous = this.items.length ? monthHeading(this.items[this.items.length - 1].taken_at) : null;
    for (const item of items) {
      const heading = monthHeading(item.taken_at);
      if (heading !== previous) nodes.push(this.header(heading));
      previous = heading;
      nodes.push(this.tile(item));
      this.items.push(item);
    }
    this.element.append(...nodes);
  }

  /** Lays the items out again (after a merge), reusing each tile so no thumbnail loads twice. */
  render() {
    const nodes = [];
    let previous = null;
    const ids = new Set();
    for (const item of this.items) {
      const heading = monthHeading(item.taken_at);
      if (heading !== previous) nodes.push(this.header(heading));
      previous = heading;
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

  tile(item) {
    const cached = this.tiles.get(item.id);
    if (cached && cached.dataset.sha === item.sha256) return cached;
    const link = document.createElement("a");
    link.className = "tile";
    link.href = item.urls.original;
    link.dataset.id = item.id;
    link.dataset.sha = item.sha256;
    const image = document.createElement("img");
    const { src, srcset } = thumbnailAttributes(item);
    image.loading = "lazy";
    image.decoding = "async";
    image.alt = altText(item);
    image.sizes = "(max-width: 600px) 48vw, 220px";
    image.srcset = srcset;
    image.src = src;
    // Deleted between the listing and this request (by another client): dim it until the next refresh drops it.
    image.addEventListener("error", () => link.classList.add("missing"), { once: true });
    link.append(image);
    this.tiles.set(item.id, link);
    return link;
  }

  /** Removes one id (deleted here). */
  removeItem(id) {
    this.items = this.items.filter((item) => item.id !== id);
    this.render();
    this.onChange();
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
          this.onChange();
        } catch (error) {
          if (generation === this.generation) this.onError(error);
        }
      } while (this.refreshAgain && generation === this.generation);
      this.refreshing = null;
    })();
    return this.refreshing;
  }
}
"""#)
}
