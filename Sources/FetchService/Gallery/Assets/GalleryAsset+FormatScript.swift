// The gallery's `format.js`: readable values for the metadata table and date headers. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let formatScript = GalleryAsset(
        name: "format.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// Readable values for the metadata table and the grid's date headers.

/** "1/1695 s" for short exposures, "2.5 s" for long ones. */
export function exposure(seconds) {
  if (!(seconds > 0)) return null;
  if (seconds < 1) return `1/${Math.round(1 / seconds)} s`;
  return `${+seconds.toFixed(1)} s`;
}

/** "NIKON D5000", not "NIKON CORPORATION NIKON D5000": a model that starts with the make's first word names the make
 *  already (until session 37 it was said twice), as in "HTC Desire" or "LG-H850"; "Apple iPhone 4" keeps both. */
export function cameraName(make, model) {
  if (!make || !model) return make || model || null;
  const brand = make.trim().split(/\s+/)[0];
  const named = model.slice(0, brand.length).toLowerCase() === brand.toLowerCase()
    && !/\p{L}/u.test(model.charAt(brand.length));
  return named ? model : `${make} ${model}`;
}

/** "f/2.8". */
export function fNumber(value) {
  return value > 0 ? `f/${+value.toFixed(1)}` : null;
}

/** "4.1 mm (35 mm equivalent: 33 mm)". */
export function focal(length, equivalent) {
  if (!(length > 0)) return null;
  const text = `${+length.toFixed(1)} mm`;
  return equivalent > 0 ? `${text} (35 mm: ${equivalent} mm)` : text;
}

/** "2.4 MB". */
export function bytes(count) {
  if (count == null) return null;
  if (count < 1024) return `${count} B`;
  const units = ["KB", "MB", "GB"];
  let value = count / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "2012-09-29 16:11:25 +02:00" from the stored local time and its offset. */
export function takenAt(local, offset) {
  if (!local) return null;
  const text = local.replace("T", " ");
  return offset ? `${text} ${offset}` : text;
}

/** "7 December 2026": the day a picture was added (`added_at`, the server's local time). */
export function addedOn(local) {
  const [year, month, day] = (local || "").slice(0, 10).split("-").map(Number);
  if (!year || !month || !day) return null;
  const name = new Date(Date.UTC(year, month - 1, 1)).toLocaleString("en", { month: "long", timeZone: "UTC" });
  return `${day} ${name} ${year}`;
}

/** The month a stored date falls in, "September 2012", or "Date unknown". */
export function monthHeading(local) {
  if (!local || local.length < 7) return "Date unknown";
  const [year, month] = local.slice(0, 7).split("-").map(Number);
  if (!year || !month) return "Date unknown";
  const name = new Date(Date.UTC(year, month - 1, 1)).toLocaleString("en", { month: "long", timeZone: "UTC" });
  return `${name} ${year}`;
}

/** "47.62717, -122.33445" (5 decimals: about a metre). */
export function coordinates(latitude, longitude) {
  return `${latitude.toFixed(5)}, ${longitude.toFixed(5)}`;
}

/** An OpenStreetMap link for a point: a link only, nothing is loaded from there. */
export function mapLink(latitude, longitude) {
  const lat = latitude.toFixed(5);
  const lon = longitude.toFixed(5);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`;
}

/** The extensions of each format, the first the one a name without any of them gets. */
const extensions = {
  jpeg: ["jpg", "jpeg", "jpe", "jfif"], png: ["png"], webp: ["webp"], gif: ["gif"], heic: ["heic", "heif"],
  avif: ["avif"],
};

/** The name an original is saved under: its file name (or its id), with its format's extension unless it has one. */
export function downloadName(item, format) {
  const name = item.name || item.id;
  const known = extensions[format];
  const extension = /\.([^.]+)$/.exec(name)?.[1].toLowerCase();
  return !known || known.includes(extension) ? name : `${name}.${known[0]}`;
}

/** "450 × 600": as displayed, turned a quarter when the shown picture's shape says so (a HEIF's irot has no EXIF
 *  orientation), else (not loaded, or square) by EXIF orientations 5 to 8. */
export function dimensions(width, height, orientation, shown) {
  if (!width || !height) return null;
  const [w, h] = [shown?.naturalWidth, shown?.naturalHeight];
  const turned = w && w !== h && width !== height ? w > h !== width > height : orientation >= 5 && orientation <= 8;
  return turned ? `${height} × ${width}` : `${width} × ${height}`;
}

/** The name a picture is shown and read out by: its file name, else its id; a content id, the name of a picture
 *  sent without one, by its first 12 digits (until session 36 all 64 were read out). */
export function shownName(item) {
  const name = item.name || item.id;
  return /^[0-9a-f]{64}$/.test(name) ? `${name.slice(0, 12)}…` : name;
}

/** The text of an alt attribute: the name and the date it was taken, else the day it was added. */
export function altText(item) {
  const name = shownName(item);
  if (item.taken_at) return `${name}, ${takenAt(item.taken_at)}`;
  const added = addedOn(item.added_at);
  return added ? `${name}, added ${added}` : name;
}
"""#)
}
