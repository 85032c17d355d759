// The gallery's `live.js`: live updates from GET /events/stream, reopened after a restart. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let liveScript = GalleryAsset(
        name: "live.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// Live updates: the server's event stream (GET /events/stream); the browser resumes with Last-Event-ID, and a
// stream that failed for good (the server was down) is opened again.

export function follow(onPicture, onState) {
  let source = null;
  let retry = null;
  const open = () => {
    retry = null;
    source = new EventSource("/events/stream");
    source.addEventListener("open", () => onState(true));
    source.addEventListener("picture", (event) => {
      try { onPicture(JSON.parse(event.data)); } catch { /* a frame this page does not understand */ }
    });
    source.addEventListener("error", () => {
      onState(false);
      if (source.readyState === EventSource.CLOSED && !retry) retry = setTimeout(open, 2000);
    });
  };
  open();
}
"""#)
}
