// Multipart uploads written once: each part at its place in one `object` file (part N at (N - 1) x the slot size,
// the size of the upload's first full part), and the object's SHA-256 (the content id) read as parts arrive in
// order, so completing needs neither a second copy of the bytes nor a second pass over all of them.
import Crypto
import Foundation
import Locking
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The in-process state of the uploads being assembled: parts being written into the object file and each upload's
/// SHA-256 so far. Lost at a restart, which only means completing hashes the object from its start.
final class MultipartAssembly: Sendable {
    /// The assembled object's name in an upload's folder.
    static let objectName = "object"
    /// The file holding the upload's slot size.
    static let slotName = "slot"

    private struct Upload {
        /// Part numbers being written into their place now (a second upload of one of them gets a file of its own).
        var writing: Set<Int> = []
        /// The SHA-256 of parts 1 ..< `next`, with the ETags it read, in order.
        var hash = SHA256()
        var next = 1
        var hashedETags: [String] = []
        /// Whether a request is extending the hash now.
        var hashing = false
    }

    private let uploads = Locked<[String: Upload]>([:])

    /// The slot size recorded for an upload, if a part fixed it.
    static func slot(in folder: URL) -> Int? {
        FileManager.default.contents(atPath: folder.appendingPathComponent(slotName).path)
            .flatMap { Int(String(decoding: $0, as: UTF8.self)) }
    }

    /// Where part `number` of `size` bytes goes in the object file, or nil when it takes a file of its own: before
    /// any part of at least 5 MiB fixed the slot, when larger than the slot, or when the same part is being written.
    /// A non-nil answer must be followed by `finished(_:number:)`.
    func place(upload id: String, folder: URL, number: Int, size: Int) -> SpoolRegion? {
        guard size > 0 else { return nil }
        var slot = Self.slot(in: folder)
        if slot == nil, size >= MultipartUploads.minPartSize {
            slot = Self.fixSlot(size, in: folder)
        }
        guard let slot, size <= slot else { return nil }
        let (offset, overflow) = (number - 1).multipliedReportingOverflow(by: slot)
        guard !overflow else { return nil }
        let taken = uploads.withLock { uploads in
            uploads[id, default: Upload()].writing.insert(number).inserted
        }
        guard taken else { return nil }
        return SpoolRegion(
            path: folder.appendingPathComponent(Self.objectName).path, offset: offset, length: size)
    }

    /// The slot the first full part proposes, or the one another part fixed first (created exclusively).
    private static func fixSlot(_ size: Int, in folder: URL) -> Int? {
        let temporary = folder.appendingPathComponent(AtomicFile.temporaryName(kind: "slot-"))
        do {
            try Data(String(size).utf8).write(to: temporary)
        } catch {
            return nil
        }
        defer { unlink(temporary.path) }
        // link() fails if the slot exists: the first part to fix it wins, the others read its value.
        _ = link(temporary.path, folder.appendingPathComponent(slotName).path)
        return slot(in: folder)
    }

    /// Part `number` is no longer being written.
    func finished(upload id: String, number: Int) {
        uploads.withLock { _ = $0[id]?.writing.remove(number) }
    }

    /// Extends the upload's SHA-256 over the placed parts that follow it in order (reading them back from the page
    /// cache the part's write just filled); one request at a time does it, the others leave it to that one.
    func extendHash(upload id: String, folder: URL, parts: () -> [UploadedPart]) {
        guard let slot = Self.slot(in: folder) else { return }
        while true {
            let start: Upload? = uploads.withLock { uploads in
                guard var upload = uploads[id], !upload.hashing else { return nil }
                upload.hashing = true
                uploads[id] = upload
                return upload
            }
            guard var state = start else { return }
            let placed = Dictionary(parts().filter { $0.offset != nil }.map { ($0.number, $0) }, uniquingKeysWith: { $1 })
            // Only full slots continue the order; a shorter part ends it (the last part).
            var open = true
            while open, let part = placed[state.next], part.size <= slot {
                var extended = state.hash
                guard Self.hash(part, into: &extended) else {
                    open = false
                    break
                }
                state.hash = extended
                state.hashedETags.append(part.eTag)
                state.next += 1
                open = part.size == slot
            }
            let waitingFor = open && placed[state.next] == nil ? state.next : nil
            let again = uploads.withLock { uploads -> Bool in
                guard let current = uploads[id] else { return false }
                state.hashing = false
                state.writing = current.writing
                uploads[id] = state
                return waitingFor != nil
            }
            // A part placed while this ran found the hash busy and left it: look once more.
            guard again, let waitingFor, parts().contains(where: { $0.number == waitingFor && $0.offset != nil })
            else { return }
        }
    }

    /// The object's SHA-256 over `chosen` (parts 1...k placed in order), continuing the hash read so far when it read
    /// the same parts, else from the start.
    func digest(upload id: String, chosen: [UploadedPart]) -> SHA256? {
        let snapshot = uploads.withLock { $0[id] }
        var hash = SHA256()
        var from = 0
        if let snapshot, snapshot.hashedETags.count <= chosen.count,
            zip(snapshot.hashedETags, chosen).allSatisfy({ $0 == $1.eTag })
        {
            hash = snapshot.hash
            from = snapshot.hashedETags.count
        }
        for part in chosen[from...] {
            guard Self.hash(part, into: &hash) else { return nil }
        }
        return hash
    }

    /// Forgets an upload (completed or aborted).
    func forget(upload id: String) {
        _ = uploads.withLock { $0.removeValue(forKey: id) }
    }

    /// Reads a placed part and hashes it; false if it cannot be read whole.
    private static func hash(_ part: UploadedPart, into hash: inout SHA256) -> Bool {
        guard part.offset != nil else { return false }
        return part.readBytes { hash.update(bufferPointer: $0) }
    }
}
