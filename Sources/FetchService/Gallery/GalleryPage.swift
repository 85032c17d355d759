// The gallery's HTML page. `{{name}}` is replaced by an asset's hashed URL, `{{write-key}}`/`{{read-key}}` by
// whether the API needs a key, `{{credential}}` by what the key form takes ("API key", or "API key or token"). No inline script or style: the Content-Security-Policy forbids them.
enum GalleryPage {
    /// How many pictures one grid page holds (the embedded first page and each page the grid asks for).
    static let firstPageSize = 60
    /// How many cameras the page embeds and each read of its camera filter brings: the most used (or the most used
    /// of those a typed text finds), so the page's weight does not grow with the number of cameras.
    static let cameraPageSize = 100
    /// The filters the page's URL may carry, as GET /images names them.
    static let filterNames = ["make", "model", "taken_after", "taken_before", "near", "bbox"]
    /// What the file pickers offer: the media types an upload may be, and the extensions of those a browser may not
    /// know by type (Chrome on Linux and Windows has no type for `.heic`, so a picker filtered by type hid them).
    static let uploadTypes = (UploadBody.imageTypes + [".heic", ".heif", ".avif", ".webp"]).joined(separator: ",")
    /// The id of the JSON data block the page starts from.
    static let initialDataID = "initial-data"

    static let template = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="picpipe-write-key" content="{{write-key}}">
<meta name="picpipe-read-key" content="{{read-key}}">
<meta name="picpipe-signed-urls" content="{{signed-urls}}">
<meta name="picpipe-page-size" content="{{page-size}}">
<meta name="picpipe-camera-page-size" content="{{camera-page-size}}">
<meta name="picpipe-thumbnail-format" content="{{thumbnail-format}}">
<title>picpipe gallery</title>
<link rel="icon" href="{{icon.svg}}" type="image/svg+xml">
<link rel="stylesheet" href="{{style.css}}">
<link rel="modulepreload" href="{{format.js}}">
<link rel="modulepreload" href="{{api.js}}">
<link rel="modulepreload" href="{{grid.js}}">
<link rel="modulepreload" href="{{cameras.js}}">
<link rel="modulepreload" href="{{detail.js}}">
<link rel="modulepreload" href="{{upload.js}}">
<link rel="modulepreload" href="{{live.js}}">
<script type="module" src="{{app.js}}"></script>
</head>
<body>
<header class="bar">
  <h1><img src="{{icon.svg}}" alt="" width="24" height="24"> picpipe</h1>
  <p id="count" aria-live="polite">Loading…</p>
  <p id="live" class="live" title="Live updates">offline</p>
  <button type="button" id="unlock" class="secondary" hidden>Enter {{credential}}</button>
  <button type="button" id="lock" class="secondary" hidden>Forget key</button>
  <p id="access" role="status"></p>
</header>
<form id="key-form" class="panel" hidden>
  <label for="key">{{credential}} (kept for this tab only)</label>
  <input id="key" name="key" type="password" autocomplete="off" required>
  <button type="submit">Use key</button>
  <button type="button" id="key-cancel" class="secondary">Cancel</button>
</form>
<form id="filters" class="panel folded" role="search">
  <button type="button" id="fold" class="secondary" aria-expanded="false">Filters</button>
  <label>Find camera <input id="camera_find" type="search" placeholder="make or model" autocomplete="off" size="14"></label>
  <label>Make <select id="make" name="make"><option value="">Any</option></select></label>
  <label>Model <select id="model" name="model"><option value="">Any</option></select></label>
  <label>Taken after <input id="taken_after" name="taken_after" type="date" placeholder="2011-05-06T10:00"></label>
  <label>Taken before <input id="taken_before" name="taken_before" type="date" placeholder="2011-05"></label>
  <label>Near (lat,lon) <input id="near_point" name="near_point" placeholder="48.85,2.35" pattern="\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*" size="14"></label>
  <label>within km <input id="near_km" name="near_km" type="number" min="0.1" step="any" placeholder="10" size="5"></label>
  <label>Box (S,W,N,E) <input id="bbox" name="bbox" placeholder="45,5,48,10" size="16"></label>
  <button type="submit">Search</button>
  <button type="button" id="clear" class="secondary">Clear</button>
</form>
<section id="upload" class="panel" hidden>
  <div id="drop" class="drop" tabindex="0" role="button" aria-label="Choose pictures to upload, or drop them here">
    <p>Drop pictures here (JPEG, PNG, HEIC, WebP, AVIF, GIF), or <label class="link" for="picker">choose files</label></p>
    <input id="picker" type="file" accept="{{upload-types}}" multiple>
  </div>
  <ul id="uploads" class="uploads" aria-live="polite"></ul>
</section>
<main>
  <p id="empty" class="empty" hidden><span id="no-match">No pictures match.</span><span id="no-pictures">No pictures yet.<span id="first-upload"> Drop some on this page, or <label class="link" for="picker">choose files</label>, to upload the first.</span></span></p>
  <p id="error" class="error" role="alert" hidden></p>
  <div id="grid" class="grid"></div>
  <div id="more" class="more" aria-hidden="true"></div>
</main>
<dialog id="detail" aria-labelledby="title">
  <div class="stage">
    <button type="button" id="prev" class="nav prev" aria-label="Previous picture">‹</button>
    <img id="large" alt="">
    <button type="button" id="next" class="nav next" aria-label="Next picture">›</button>
  </div>
  <aside class="info">
    <div class="actions">
      <a id="download" class="button" href="#" download>Download original</a>
      <button type="button" id="replace-button" class="write secondary">Replace…</button>
      <input id="replace" type="file" accept="{{upload-types}}" hidden>
      <button type="button" id="delete" class="write danger" data-scope="images:delete">Delete</button>
      <button type="button" id="close" class="secondary" aria-label="Close">Close</button>
    </div>
    <h2 id="title"></h2>
    <p id="announce" class="visually-hidden" aria-live="polite"></p>
    <p id="detail-status" role="status"></p>
    <table id="facts"><tbody></tbody></table>
    <details id="raw"><summary>All EXIF tags</summary><div id="raw-groups"></div></details>
  </aside>
</dialog>
{{initial-data}}
</body>
</html>
"""#
}
