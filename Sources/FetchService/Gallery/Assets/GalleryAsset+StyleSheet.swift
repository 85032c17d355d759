// The gallery's `style.css`: the style sheet: light and dark themes from prefers-color-scheme. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let styleSheet = GalleryAsset(
        name: "style.css", contentType: "text/css; charset=utf-8",
        text: #"""
/* The gallery: system fonts, light and dark from the system, square tiles in a responsive grid. */
:root {
  color-scheme: light dark;
  --bg: #f7f7f5; --fg: #1d1d1f; --muted: #5f6368; --panel: #ffffff; --line: #d9d9d6;
  --accent: #0b57d0; --danger: #b3261e; --tile: #e8e8e4; --ok: #1e7a34; --field: #85888c;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121314; --fg: #e8e8e6; --muted: #a0a4a8; --panel: #1c1d1f; --line: #34363a;
    --accent: #8ab4f8; --danger: #f2b8b5; --tile: #26282b; --ok: #81c995; --field: #75797e;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
[hidden] { display: none !important; }
/* Read by screen readers, not shown. */
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
  white-space: nowrap; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button, .button, input, select {
  font: inherit; color: inherit; border-radius: 6px; border: 1px solid var(--line); background: var(--panel);
  padding: .35em .7em;
}
/* A field's edge is what shows it is one: 3:1 at least against the page and its own fill (WCAG 1.4.11). Its value
   is text, not its label's muted grey: that is the examples' shade, and a set filter must stand out from them. */
input, select { border-color: var(--field); color: var(--fg); }
button, .button { cursor: pointer; background: var(--accent); color: var(--bg); border-color: var(--accent); text-decoration: none; display: inline-block; }
button.secondary { background: transparent; color: var(--fg); border-color: var(--line); }
button.danger { background: var(--danger); border-color: var(--danger); color: var(--bg); }
button:disabled { opacity: .35; cursor: default; }

.bar { display: flex; flex-wrap: wrap; align-items: center; gap: .5em 1em; padding: .6em 1em; border-bottom: 1px solid var(--line); background: var(--panel); position: sticky; top: 0; z-index: 2; }
.bar h1 { font-size: 1.15em; margin: 0; display: flex; align-items: center; gap: .4em; }
.bar p { margin: 0; color: var(--muted); }
.live::before { content: "●"; margin-right: .3em; color: var(--muted); }
.live.on::before { color: var(--ok); }
.panel { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: end; padding: .6em 1em; border-bottom: 1px solid var(--line); }
.panel label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); gap: .15em; }
#upload { display: block; }
.drop { border: 2px dashed var(--line); border-radius: 10px; padding: .6em 1em; text-align: center; color: var(--muted); cursor: pointer; }
.drop.over { border-color: var(--accent); color: var(--fg); }
.drop p { margin: 0; }
.drop input { display: none; }
.link { color: var(--accent); text-decoration: underline; cursor: pointer; display: inline !important; font-size: 1em !important; }
.uploads { list-style: none; margin: .5em 0 0; padding: 0; display: grid; gap: .25em; max-height: 12em; overflow: auto; }
.uploads li { display: grid; grid-template-columns: minmax(8em, 1fr) 10em 2fr; gap: .75em; align-items: center; font-size: .9em; }
.uploads .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.uploads .done .status { color: var(--ok); }
.uploads .failed .status { color: var(--danger); }
/* A refused file's bar is full too (upload.js fills it): the error's colour tells it from a success. */
.uploads .failed progress { accent-color: var(--danger); }
.uploads progress { width: 100%; }

main { padding: 0 1em 2em; }
.empty, .error { padding: 2em 0; text-align: center; color: var(--muted); }
.error { color: var(--danger); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px; }
@media (max-width: 600px) { .grid { grid-template-columns: repeat(2, 1fr); } main { padding: 0 .4em 2em; }
  /* An upload's name has the whole width, its bar and the API's answer the line below. */
  .uploads li { grid-template-columns: 6em 1fr; } .uploads .name { grid-column: 1 / -1; }
  /* The filters fold behind a button, which opens them. */
  .folded > :not(#fold) { display: none; } }
@media (min-width: 601px) { #fold { display: none; } }
/* A month header is a cell of the grid, before its pictures: a sparse library stays a dense grid. */
.month { aspect-ratio: 1 / 1; margin: 0; display: flex; align-items: flex-end; padding: .6em; border-radius: 4px;
  font-size: 1.05em; font-weight: 600; line-height: 1.2; color: var(--muted); border: 1px solid var(--line); }
.tile { display: block; aspect-ratio: 1 / 1; background: var(--tile); border-radius: 4px; overflow: hidden; }
.tile.missing { opacity: .3; }
.tile img { width: 100%; height: 100%; object-fit: contain; display: block; }
.more { height: 1px; }

dialog { width: 100vw; height: 100vh; max-width: none; max-height: none; margin: 0; padding: 0; border: 0; background: var(--bg); color: var(--fg); }
dialog[open] { display: grid; grid-template-columns: 1fr minmax(18em, 26em); }
dialog::backdrop { background: rgb(0 0 0 / .6); }
@media (max-width: 800px) { dialog[open] { grid-template-columns: 1fr; grid-template-rows: 60vh auto; overflow: auto; } }
.stage { position: relative; display: flex; align-items: center; justify-content: center; background: #000; min-height: 0; touch-action: pan-y; user-select: none; }
.stage img { width: 100%; height: 100%; object-fit: contain; }
.stage img.tiny { image-rendering: pixelated; }
.nav { position: absolute; top: 50%; transform: translateY(-50%); font-size: 2.2em; line-height: 1; padding: .1em .35em; background: rgb(0 0 0 / .45); color: #fff; border: 0; }
.prev { left: .3em; } .next { right: .3em; }
.info { overflow: auto; padding: 1em; border-left: 1px solid var(--line); }
.actions { display: flex; flex-wrap: wrap; gap: .4em; }
.info h2 { font-size: 1.05em; word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th { text-align: left; color: var(--muted); font-weight: normal; padding: .2em 1em .2em 0; vertical-align: top; white-space: nowrap; }
td { padding: .2em 0; word-break: break-word; }
caption { text-align: left; font-weight: 600; padding-top: .8em; }
details summary { cursor: pointer; margin-top: 1em; }
"""#)
}
