// The gallery's `cameras.js`: the camera filter (Make and Model choices, found by typing, and the count of a camera
// filter). Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let cameraScript = GalleryAsset(
        name: "cameras.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// The camera filter. The Make and Model choices are the most used cameras (the page embeds them, or one read of
// GET /cameras?limit=); typing in "Find camera" reads those whose make or model holds the text
// (GET /cameras?match=…), so any camera can be chosen and the page does not grow with the library (until session 35
// it carried every camera: 156 KB of a 191 KB page at 2,787 cameras). A chosen camera stays a choice whatever the
// list shows, and its pictures are counted from every camera of the filter, read apart.
import { cameraPageSize, cameras } from "./api.js";

/** How long typing pauses before the cameras are read (ms): one read for a word, not one a key. */
const typingPause = 250;

const same = (a, b) => !b || (a || "").toLowerCase() === b.toLowerCase();
/** Whether a make/model filter lists a camera's pictures. */
const lists = (filters, camera) => same(camera.make, filters.make) && same(camera.model, filters.model);
const key = (camera) => `${camera.make || ""}\n${camera.model || ""}`.toLowerCase();

/** A choice the data does not have (a bookmarked URL) still shows what is filtered. */
function ensureOption(select, value) {
  if (value && ![...select.options].some((option) => option.value === value)) select.append(new Option(value, value));
}

export class CameraFilter {
  /** `form`: its make and model selects and its `camera_find` field; `onError(error)`: a read failed. */
  constructor(form, onError) {
    this.make = form.elements.make;
    this.model = form.elements.model;
    this.finder = form.elements.camera_find;
    this.onError = onError;
    /** The cameras offered: the most used, or those the text typed found. */
    this.shown = [];
    /** Every camera the make/model filter `chosenFor` lists (read whole: the count adds them up). */
    this.chosen = [];
    this.chosenFor = "";
    /** The make/model filter of the last search: an earlier one's read that answers after it is dropped. */
    this.wanted = "";
    this.total = null;
    this.timer = null;
    this.make.addEventListener("change", () => this.fillModels(this.make.value));
    this.finder.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.read(), typingPause);
    });
    // Enter finds at once; it does not run the search with the choices of the text before.
    this.finder.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      clearTimeout(this.timer);
      this.read();
    });
  }

  /** Starts from the embedded answer, which holds every camera of the page URL's make/model filter too. None is
   *  chosen without one (until session 36 all were, and typing offered them all still). */
  start(answer, filters) {
    this.shown = answer.cameras;
    this.total = answer.total;
    this.chosen = filters.make || filters.model ? answer.cameras.filter((camera) => lists(filters, camera)) : [];
    this.chosenFor = this.wanted = key(filters);
  }

  /** The choices: the cameras offered, and those chosen. */
  choices() {
    const offered = new Set(this.shown.map(key));
    return this.shown.concat(this.chosen.filter((camera) => !offered.has(key(camera))));
  }

  makes() { return [...new Set(this.choices().map((camera) => camera.make).filter(Boolean))]; }

  /** The models of one make (all when none). */
  models(make) {
    return [...new Set(this.choices().filter((camera) => camera.model && same(camera.make, make))
      .map((camera) => camera.model))];
  }

  fillModels(make) {
    this.model.replaceChildren(new Option("Any", ""), ...this.models(make).map((model) => new Option(model, model)));
  }

  /** Shows a make/model filter chosen. */
  show(filters) {
    this.make.replaceChildren(new Option("Any", ""), ...this.makes().map((make) => new Option(make, make)));
    ensureOption(this.make, filters.make);
    this.make.value = filters.make || "";
    this.fillModels(filters.make || "");
    ensureOption(this.model, filters.model);
    this.model.value = filters.model || "";
  }

  /** Draws the choices again when they changed, keeping what is chosen (until session 31 they were drawn only when
   *  the page started, so a new camera was missing and a deleted one offered until a reload). */
  redraw() {
    const chosen = { make: this.make.value, model: this.model.value };
    const shown = (select) => [...select.options].slice(1).map((option) => option.value).join("\n");
    const wanted = (choices, value) => (value && !choices.includes(value) ? [...choices, value] : choices).join("\n");
    if (shown(this.make) !== wanted(this.makes(), chosen.make)
      || shown(this.model) !== wanted(this.models(chosen.make), chosen.model)) this.show(chosen);
  }

  /** The pictures the filters list when only a make and a model filter them (null otherwise, or until read). */
  count(filters) {
    const names = Object.keys(filters);
    if (names.length === 0) return this.total;
    if (names.some((name) => name !== "make" && name !== "model") || this.chosenFor !== key(filters)) return null;
    return this.chosen.reduce((sum, camera) => sum + camera.count, 0);
  }

  /** Every camera the filters' make and model name (a new search): all of them, for the count. */
  async choose(filters) {
    const wanted = (this.wanted = key(filters));
    const match = filters.model || filters.make;
    try {
      const chosen = match ? (await cameras({ match })).cameras : [];
      if (this.wanted !== wanted) return;
      this.chosen = chosen.filter((camera) => lists(filters, camera));
      this.chosenFor = wanted;
    } catch (error) {
      this.onError(error);
    }
  }

  /** The most used cameras, or those the text typed finds, with the count of every picture. */
  async offered() {
    const text = this.finder.value.trim();
    const answer = await cameras({ ...(text && { match: text }), limit: cameraPageSize });
    this.total = answer.total;
    // Typed on meanwhile: the read of the later text draws.
    if (text === this.finder.value.trim()) this.shown = answer.cameras;
  }

  /** Reads the cameras offered for the text typed and the total, and with `filters` (pictures were added or
   *  deleted) their cameras too; then draws the choices. */
  async read(filters) {
    try {
      await Promise.all([this.offered(), filters && this.choose(filters)]);
    } catch (error) {
      this.onError(error);
    }
    this.redraw();
  }
}
"""#)
}
