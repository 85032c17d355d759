// Finishing the installs a killed process left between storing an original and journaling its event.
import Foundation
import ImageCore
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

extension ContentLifecycle {
    /// Journals the `ObjectCreated:Put` of every original a killed process (kill -9, a crash) linked into
    /// `originals/` but did not journal: its spool file is still in `folder` (`install` removes it only after the
    /// journal's commit), written by a process that is gone and the same file as the content's original. The event is
    /// named by the content's hash, as a POST's is; its thumbnails and metadata follow from it. Until session 37 such
    /// an original stayed for ever without an event, thumbnails or metadata, served by its hash yet never listed.
    ///
    /// Run it at the start, before the spool's leftovers are swept. It finishes rather than removes: the process that
    /// died may not have been the only one to store those bytes, and a picture another upload was answered 2xx for
    /// must stay. An event already journaled (the process died after the commit) is not journaled again.
    /// - Returns: how many installs were finished.
    @discardableResult
    package func finishInterruptedInstalls(in folder: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var finished = 0
        for name in names where name.hasPrefix(AtomicFile.temporaryPrefix) {
            let spool = folder.appendingPathComponent(name)
            guard TemporaryOwner.isStale(spool), let original = linkedOriginal(of: spool.path) else { continue }
            // Not marked as storing its original: the process that did is gone, and another may have stored it too.
            let record = runtime.record(.objectCreatedPut, for: original, sourceName: original.hash.hex)
            do {
                try runtime.submit(record, deduplicate: true)
            } catch {
                // The original stays (nothing is lost), without its event; the spool file is left to the sweep.
                logger.error(
                    "could not journal an upload a stopped process had stored; its original has no event",
                    metadata: ["key": "\(original.key)", "error": "\(error)"])
                continue
            }
            unlink(spool.path)
            finished += 1
            logger.notice(
                "finished an upload a stopped process had stored but not journaled",
                metadata: ["key": "\(original.key)"])
        }
        return finished
    }

    /// The original `spool` is linked as (the same file), or `nil` when it is no original's (a body cut off
    /// mid-spool, a spool file whose install never linked it, or content that is not an image).
    private func linkedOriginal(of spool: String) -> IngestedOriginal? {
        var info = stat()
        // One link is the spool file's own: an install that linked it gave it a second.
        guard lstat(spool, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink > 1 else { return nil }
        guard let read = try? InputFile.read(spool, maxBytes: nil, hashing: true, followLinks: false),
            var original = try? OriginalIngest.prepare(read.data, name: spool, maxBytes: .max, hash: read.hash),
            let target = try? originals.url(original.relativePath)
        else { return nil }
        var stored = stat()
        guard stat(target.path, &stored) == 0, stored.st_dev == info.st_dev, stored.st_ino == info.st_ino else {
            return nil
        }
        original.alreadyStored = true
        return original
    }
}
