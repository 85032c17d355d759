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
/** How many cameras the page embeds and each read of the camera filter brings (the most used). */
export const cameraPageSize = parseInt(meta("picpipe-camera-page-size"), 10) || 100;

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
/** What the key held may do, from GET /auth/me: `{key, scopes}` once read for that key; `scopes` is null when they
 *  could not be read (every write control then shows, and the API refuses what the key may not do). */
let access = null;

/** Reads what the key held may do: after it is entered, and at load. A refused key is forgotten as for any call. */
export async function readScopes() {
  const key = apiKey();
  if (!writeNeedsKey || !key) return;
  let scopes = null;
  try { scopes = (await getJSON("/auth/me")).scopes; } catch { /* refused, or unknown for now */ }
  access = { key, scopes };
}

/** Whether the key held is known to lack `scope` (a control that needs it is then not offered, and says why). */
export const lacks = (scope) => access?.key === apiKey() && !!access.scopes && !access.scopes.includes(scope);

/** Whether this page may show the controls that need `scope` (`images:write`: upload, replace; `images:delete`):
 *  always when writes need no key; with a key, once what it may do is read and it holds that scope (until session
 *  34 any key showed them all, and a read-only key's upload or delete ended in the API's 403). */
export function canWrite(scope = "images:write") {
  return !writeNeedsKey || (!!apiKey() && access?.key === apiKey() && !lacks(scope));
}

let keyRefused = () => {};
/** `listener(message)` is called when the API refuses the key this page sent (a 401), once it is forgotten. */
export function onKeyRefused(listener) { keyRefused = listener; }

/** An error the API answered (status 0: no answer), with its message; `keyRefused` when it was a 401 to a request
 *  sent with a key; `retryAfter`, the seconds its Retry-After asks to wait (a 429 of a usage plan, a 503), or null. */
export class APIError extends Error {
  constructor(status, message, keyRefused = false, retryAfter = null) {
    super(message);
    this.status = status;
    this.keyRefused = keyRefused;
    this.retryAfter = retryAfter;
  }

  /** Whether the same request may succeed later: no answer (the server restarting, the network), a 429, or a
   *  server error. A refused filter or key would be refused again. */
  get transient() { return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500; }
}

const authorization = (key) => (key ? { Authorization: `Bearer ${key}` } : {});

/** The error of a refused request. A 401 to the key this page holds forgets it and says so, once: the requests
 *  sent with it meanwhile fail as refused too, not as "needs credentials". */
function refusal(status, message, key, retryAfter = null) {
  const refused = status === 401 && !!key;
  if (refused && apiKey() === key) { setAPIKey(null); keyRefused(message); }
  return new APIError(status, message, refused, retryAfter);
}

async function failure(response, key) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
  } catch { /* not JSON: the status says it */ }
  // Seconds; a date form is not worth the page's weight (picpipe sends seconds).
  const wait = response.headers.get("Retry-After");
  const retryAfter = wait != null && /^\d+$/.test(wait.trim()) ? Number(wait) : null;
  return refusal(response.status, message, key, retryAfter);
}

/** `fetch` with the key; an answer that is not 2xx, or none, is thrown as an APIError. */
async function call(path, options = {}) {
  const key = apiKey();
  let response;
  try {
    response = await fetch(path, { ...options, headers: { ...authorization(key), ...options.headers } });
  } catch {
    throw new APIError(0, "the server could not be reached");
  }
  if (!response.ok) throw await failure(response, key);
  return response;
}

async function getJSON(path) { return (await call(path)).json(); }

/** A query string the API reads: it decodes `%20`, not the `+` URLSearchParams writes for a space (a `+` of a
 *  value is `%2B` there, so every `+` left is a space). */
export function queryString(parameters) { return new URLSearchParams(parameters).toString().replace(/\+/g, "%20"); }

/** A page of the listing: `{items, next_cursor}`. */
export function listImages(filters, cursor, limit) {
  const query = { ...filters, limit: String(limit) };
  if (cursor) query.cursor = cursor;
  return getJSON(`/images?${queryString(query)}`);
}

/** `{total, cameras: [{make, model, count}]}`: with `limit`, the most used; with `match`, those whose make or model
 *  holds it. */
export function cameras(query) { return getJSON(`/cameras?${queryString(query)}`); }

/** The metadata of one picture, raw EXIF included. */
export function metadata(id) { return getJSON(`/images/${encodeURIComponent(id)}/metadata`); }

async function postJSON(path, body) {
  const options = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  return (await call(path, options)).json();
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
  const url = URL.createObjectURL(await (await call(path)).blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Deletes an id. */
export async function remove(id) {
  await call(`/images/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/**
 * Sends a file (POST /images, or PUT /images/{id} to replace) with upload progress, which fetch cannot report.
 * Resolves with the answer's JSON; rejects with an APIError carrying the API's message.
 */
export function send(file, { id = null, onProgress = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(id ? "PUT" : "POST", id ? `/images/${encodeURIComponent(id)}` : "/images");
    const key = apiKey();
    for (const [name, value] of Object.entries(authorization(key))) request.setRequestHeader(name, value);
    request.responseType = "json";
    request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) { onProgress(1); resolve(request.response); return; }
      const message = request.response?.error?.message || `${request.status} ${request.statusText}`;
      reject(refusal(request.status, message, key));
    };
    request.onerror = () => reject(new APIError(0, "the server could not be reached"));
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}
"""#)
}
