// The gallery's `upload.js`: uploads: drag-and-drop and picker, 3 at a time, per-file progress and error. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let uploadScript = GalleryAsset(
        name: "upload.js", contentType: "text/javascript; charset=utf-8",
        text: #"""
// Uploads: drag-and-drop and a picker, three files at a time, each with its progress bar and the API's answer.
import { send } from "./api.js";

const concurrency = 3;

export class Uploader {
  /** `allowed()`: whether the page may upload now (a key that may not is refused the drop, not sent to a 403). */
  constructor(zone, picker, list, allowed) {
    this.list = list;
    this.queue = [];
    this.running = 0;
    picker.addEventListener("change", () => { this.add(picker.files); picker.value = ""; });
    for (const target of [zone, document.body]) {
      target.addEventListener("dragover", (event) => {
        if (!event.dataTransfer?.types.includes("Files")) return;
        // Taken either way, so the browser does not open the file; without uploads the drop shows as refused.
        event.preventDefault();
        if (allowed()) zone.classList.add("over"); else event.dataTransfer.dropEffect = "none";
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    document.body.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      zone.classList.remove("over");
      if (allowed()) this.add(event.dataTransfer.files);
    });
    zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); picker.click(); }
    });
    // A click (a tap, a screen reader's activation) too (until session 36 only the small "choose files" did, which
    // opens the picker itself).
    zone.addEventListener("click", (event) => { if (!event.target.closest("label, input")) picker.click(); });
  }

  /** Queues files; each gets a row at once, in the order chosen, above the rows of earlier choices (until session 37
   *  each went on top as it was queued: five files chosen showed in reverse). */
  add(files) {
    const rows = [];
    for (const file of files) {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", `Upload of ${file.name}`);
      const status = document.createElement("span");
      status.className = "status";
      status.textContent = "waiting";
      row.append(name, bar, status);
      rows.push(row);
      this.queue.push({ file, row, bar, status });
    }
    this.list.prepend(...rows);
    this.pump();
  }

  pump() {
    while (this.running < concurrency && this.queue.length) {
      const job = this.queue.shift();
      this.running++;
      job.status.textContent = "sending";
      send(job.file, { onProgress: (done) => { job.bar.value = done; } })
        .then((answer) => {
          job.row.classList.add("done");
          job.row.dataset.id = answer.id;
          job.status.textContent = "uploaded";
        })
        .catch((error) => {
          // Full, in the error's colour, however much was sent: a refusal before the end (413) left a grey sliver,
          // as a file still waiting shows (until session 37).
          job.bar.value = 1;
          job.row.classList.add("failed");
          job.status.textContent = error.message;
        })
        .finally(() => { this.running--; this.pump(); });
    }
  }
}
"""#)
}
