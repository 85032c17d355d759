// The gallery's `api.js`: the JSON API client (key in session storage, upload progress through XHR). Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let apiScript = GalleryAsset(
        name: "api.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// The JSON API, as any other client uses it: the key (when one is needed) from this tab's session storage.

const keyStorage = "picpipe.apiKey";
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;

/** Whether writes need a key, and reads; whether the server signs URLs (then thumbnails and the event stream
 *  work through signed URLs when reads need a key: an <img> or an EventSource cannot send one). */
export const writeNeedsKey = meta("picpipe-write-key") === "required";
export const readNeedsKey = meta("picpipe-read-key") === "required";
export const signedURLs = meta("picpipe-signed-urls") === "yes";
/** The format thumbnails are made in at upload: tiles ask for it, never waiting for a variant made on request. */
export const thumbnailFormat = meta("picpipe-thumbnail-format") || "";
/** How many pictures a grid page holds. */
export const pageSize = parseInt(meta("picpipe-page-size"), 10) || 60;

/** What the server embedded in the page (`{listing, cameras, last_event_id}`), or null: read once. */
export function initialData() {
  const block = document.getElementById("initial-data");
  if (!block) return null;
  block.remove();
  try { return JSON.parse(block.textContent); } catch { return null; }
}

export function apiKey() { return sessionStorage.getItem(keyStorage); }
export function setAPIKey(key) {
  if (key) sessionStorage.setItem(keyStorage, key); else sessionStorage.removeItem(keyStorage);
}
/** Whether this page may show write controls. */
export function canWrite() { return !writeNeedsKey || !!apiKey(); }

/** An error the API answered, with its message. */
export class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function headers() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
  } catch { /* not JSON: the status says it */ }
  if (response.status === 401) setAPIKey(null);
  return new APIError(response.status, message);
}

async function getJSON(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** A page of the listing: `{items, next_cursor}`. */
export function listImages(filters, cursor, limit) {
  const query = new URLSearchParams(filters);
  query.set("limit", String(limit));
  if (cursor) query.set("cursor", cursor);
  return getJSON(`/images?${query}`);
}

/** `{total, cameras: [{make, model, count}]}`. */
export function cameras() { return getJSON("/cameras"); }

/** The metadata of one picture, raw EXIF included. */
export function metadata(id) { return getJSON(`/images/${encodeURIComponent(id)}/metadata`); }

async function postJSON(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { ...headers(), "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** `{url, expires}`: a signed URL of the event stream (for an EventSource, which cannot send the key). */
export function signedEventStream(lifetime) { return postJSON("/events/stream/signed-url", { expires_in: lifetime }); }

/** `{url, expires}`: a signed URL of one thumbnail size (the listing's one expired). */
export function signedThumbnail(id, size) {
  return postJSON(`/images/${encodeURIComponent(id)}/signed-url`, { size });
}

/** Whether a signed URL (`expires=` in seconds) ends within `margin` seconds. */
export function expiresSoon(url, margin = 60) {
  const expires = Number(new URL(url, location.href).searchParams.get("expires"));
  return expires > 0 && expires * 1000 < Date.now() + margin * 1000;
}

/** Downloads an original with the key (a link cannot send it): fetched, then saved from a blob URL. */
export async function downloadWithKey(path, name) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await failure(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Deletes an id. */
export async function remove(id) {
  const response = await fetch(`/images/${encodeURIComponent(id)}`, { method: "DELETE", headers: headers() });
  if (!response.ok) throw await failure(response);
}

/**
 * Sends a file (POST /images, or PUT /images/{id} to replace) with upload progress, which fetch cannot report.
 * Resolves with the answer's JSON; rejects with an APIError carrying the API's message.
 */
export function send(file, { id = null, onProgress = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(id ? "PUT" : "POST", id ? `/images/${encodeURIComponent(id)}` : "/images");
    for (const [name, value] of Object.entries(headers())) request.setRequestHeader(name, value);
    request.responseType = "json";
    request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) { onProgress(1); resolve(request.response); return; }
      const message = request.response?.error?.message || `${request.status} ${request.statusText}`;
      if (request.status === 401) setAPIKey(null);
      reject(new APIError(request.status, message));
    };
    request.onerror = () => reject(new APIError(0, "the server could not be reached"));
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}
"""#)
}
