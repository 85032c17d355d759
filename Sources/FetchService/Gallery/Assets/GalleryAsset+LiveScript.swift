// The gallery's `live.js`: live updates from GET /events/stream (signed when reads need a key), reopened after a restart. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let liveScript = GalleryAsset(
        name: "live.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// Live updates: the server's event stream (GET /events/stream). The browser reconnects by itself after the stream
// ends or the server restarts, resuming with Last-Event-ID; a stream that failed for good is opened again. When
// reads need a key the stream is opened through a signed URL (an EventSource cannot send the key), minted with the
// key and minted again before it expires.
import { readNeedsKey, signedEventStream } from "./api.js";

/** How long a minted stream URL lives, and how long before its end a new one replaces it (seconds). */
const signedLifetime = 3600;
const renewBefore = 300;

/**
 * Follows the stream from `lastEventID` (the position the page's embedded listing was read at; null: from now).
 * `onPicture(frame)` for each `picture` event, `onState(online)` when the connection opens or drops, `onReset()`
 * when the server cannot resume from where the page was (its journal pruned that far: read the listing again),
 * `onRevoked(message)` when a configuration reload took the stream's access away (it is then closed for good).
 * Returns `{position(), stop()}`: where it is, and closing the stream for good.
 */
export function follow(lastEventID, onPicture, onState, onReset, onRevoked) {
  let source = null;
  let retry = null;
  let renew = null;
  let stopped = false;
  let lastSeen = lastEventID;

  const address = async () => {
    if (!readNeedsKey) return "/events/stream";
    const signed = await signedEventStream(signedLifetime);
    clearTimeout(renew);
    renew = setTimeout(reopen, Math.max(10, signed.expires - Date.now() / 1000 - renewBefore) * 1000);
    return signed.url;
  };

  const open = async () => {
    retry = null;
    if (stopped) return;
    let url;
    try {
      url = await address();
    } catch (error) {
      if (stopped) return;
      onState(false);
      // A refused key (401) or one without the right (403) would be refused every time: the page follows anew
      // once a key is entered.
      if (error.status !== 401 && error.status !== 403) retry = setTimeout(open, 5000);
      return;
    }
    if (stopped) return;
    if (lastSeen != null) url += `${url.includes("?") ? "&" : "?"}last_event_id=${encodeURIComponent(lastSeen)}`;
    const next = new EventSource(url);
    source = next;
    next.addEventListener("open", () => onState(true));
    next.addEventListener("picture", (event) => {
      if (event.lastEventId) lastSeen = event.lastEventId;
      try { onPicture(JSON.parse(event.data)); } catch { /* a frame this page does not understand */ }
    });
    next.addEventListener("reset", (event) => {
      if (event.lastEventId) lastSeen = event.lastEventId;
      onReset();
    });
    // The server refuses this stream from now on: reconnecting would be refused every two seconds, forever (until
    // session 36).
    next.addEventListener("revoked", (event) => {
      let message = "access revoked";
      try { message = JSON.parse(event.data).error.message; } catch { /* the default says it */ }
      stopped = true;
      next.close();
      onState(false);
      onRevoked(message);
    });
    next.addEventListener("error", () => {
      if (source !== next) return;
      onState(false);
      if (next.readyState === EventSource.CLOSED && !retry) retry = setTimeout(open, 2000);
    });
  };

  /** A new stream (a fresh signed URL) before the old one's URL expires, resuming where it was. */
  const reopen = () => {
    const old = source;
    open().then(() => { if (old && old !== source) old.close(); });
  };

  open();
  return {
    /** The position to resume after (the last event seen; null: none yet). */
    position() { return lastSeen; },
    stop() {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(renew);
      source?.close();
    },
  };
}
"""#)
}
