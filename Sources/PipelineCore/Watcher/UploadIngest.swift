// Turning a complete upload into an original, a journaled event and its queued invocations.
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What became of one upload.
public enum UploadOutcome: Sendable, Equatable {
    /// Stored as an original and journaled (or found already journaled), then removed from uploads/.
    case ingested(eventID: Int64, key: String, duplicate: Bool)
    /// Not ingestible: moved to failed/ beside its `.error.json` (a symbolic link, named pipe, socket or device:
    /// removed, its kind, and a link's target, named in the `.error.json`).
    case rejected(failedName: String, reason: String)
    /// Gone, ignored or a folder: nothing done.
    case skipped
    /// Changed a moment ago, where no lease tells whether a writer is still at it, or empty for less than
    /// `LeasedUpload.emptySettleTime`: to be looked at again after `LeasedUpload.settleTime`.
    case unsettled
    /// Open for writing when looked at: to be looked at again a few times shortly after
    /// (`LeasedUpload.writerGoneDelays`), as the kernel announces a writer's close before it drops the writer's write
    /// access; a writer still at it after those brings it back with its own close.
    case beingWritten
}

/// Ingests uploads: read, store the original, journal the event, then remove the upload.
///
/// Crash safety comes from the order: the original is written atomically before the journal commit, and the
/// upload is removed only after it; a restart's rescan ingests a still-present upload again, and the journal
/// deduplicates it (same key and source name), so no event or row is doubled.
public struct UploadIngest: Sendable {
    /// The store.
    public let layout: StoreLayout
    /// The runtime the events are submitted to.
    public let runtime: FunctionRuntime
    /// The largest accepted upload.
    public let maxFileBytes: Int
    /// `serve`'s: stores each original in its content's turn and names it by its hash when HTTP API ids name the
    /// same bytes (`nil`: no API ids to keep apart from).
    public let naming: (any DroppedContentNaming)?
    private let logger: Logger
    /// Uploads ingested but left in uploads/ as their folder may not be written: not read again until they or
    /// their folder change.
    private let kept = KeptUploads()

    /// - Parameters: see the properties.
    public init(
        layout: StoreLayout, runtime: FunctionRuntime, maxFileBytes: Int, naming: (any DroppedContentNaming)? = nil,
        logger: Logger
    ) {
        self.layout = layout
        self.runtime = runtime
        self.maxFileBytes = maxFileBytes
        self.naming = naming
        self.logger = logger
    }

    /// Ingests one file of uploads/.
    @discardableResult
    public func ingest(_ file: URL) -> UploadOutcome {
        let path = file.standardizedFileURL.path
        let uploadsPath = layout.uploads.path
        guard path.hasPrefix(uploadsPath + "/") else { return .skipped }
        let name = String(path.dropFirst(uploadsPath.count + 1))
        guard !name.split(separator: "/").contains(where: { UploadName.isIgnored(String($0)) }) else { return .skipped }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            noteNotLooked(name, errno: errno)
            return .skipped
        }
        guard info.st_mode & S_IFMT != S_IFDIR else { return .skipped }
        if kept.isKept(path, info) { return .skipped }
        if FileKind.isSpecial(info.st_mode) { return rejectSpecial(path: path, name: name, mode: info.st_mode) }
        let originals = StoreHandle(area: .originals, access: .write, location: layout.originals, function: "ingest")
        do {
            guard Int(info.st_size) <= maxFileBytes else {
                throw IngestError.tooLarge(file: name, bytes: Int(info.st_size), limit: maxFileBytes)
            }
            // One pass over the bytes: hashed as they are read (as batch does). Not through a link: one put in the
            // upload's place since the lstat above would read outside the store. Under a read lease: not while
            // anyone writes it (see `LeasedUpload`).
            let upload: LeasedUpload
            let bytes: Data
            let hash: ContentHash?
            do {
                upload = try LeasedUpload(path: path)
                (bytes, hash) = try upload.read(hashing: true)
            } catch StoreError.notFound(_) {
                return .skipped  // gone meanwhile (moved away, or taken by another ingest)
            } catch is LeasedUpload.BeingWritten {
                return .beingWritten  // maybe the writer whose close event brought it here: see `beingWritten`
            } catch is LeasedUpload.Unsettled {
                return .unsettled
            } catch IngestError.notAFile(_, let kind) {
                throw IngestError.notAFile(file: name, kind: kind)  // named as the other refusals: by upload name
            } catch StoreError.io(_, "open", let number) where number == EACCES {
                // Refused, not left in uploads/: nothing would take it again once readable (a chmod is no event).
                throw IngestError.notReadable(file: name, user: Self.userName)
            }
            // Held to the end: the upload is removed or refused before a writer may open it.
            defer { upload.release() }
            if let refused = upload.noLease, refused != 0 { noteReadWithoutLease(name, refused: refused) }
            // Someone began writing it while it was read: these bytes may be half old, half new.
            guard !upload.writerCame else { return .skipped }
            // The functions read the original at once: through the page cache, not from the disk (README, "Upload
            // events": an O_DIRECT write made every idle upload's two functions wait for the disk).
            var original: IngestedOriginal
            do {
                original = try OriginalIngest.prepare(bytes, name: name, maxBytes: maxFileBytes, hash: hash)
            } catch let error as IngestError {
                // A refusal (an empty file, say) of bytes a writer came to replace is not this upload's.
                if upload.writerCame { return .skipped }
                return reject(path: path, name: name, reason: error.description)
            }
            let appended: JournalAppend
            (original, appended) = try store(bytes, as: original, name: name, into: originals)
            if let renamed = upload.remove() {
                logger.warning(
                    "an upload rewritten as it was removed is kept under a new name: another file took its own",
                    metadata: ["upload": "\(name)", "renamed": "\(renamed)"])
            }
            if let refused = upload.notRemovable { keep(path: path, name: name, status: info, refused: refused) }
            logger.info(
                "upload ingested",
                metadata: [
                    "upload": "\(name)", "key": "\(original.key)", "event": "\(appended.eventID)",
                    "duplicate": "\(appended.duplicate)",
                ])
            return .ingested(eventID: appended.eventID, key: original.key, duplicate: appended.duplicate)
        } catch let error as IngestError {
            var special = false
            if case .notAFile = error { special = true }
            return reject(path: path, name: name, reason: error.description, special: special)
        } catch {
            // The store or the journal failed, not the file: leave it for the next rescan. A full or read-only disk
            // is logged once by StoreHealth, a database out of reach once by its connection pool, not once per file
            // and rescan.
            let disk = StoreHealth.shared.recordFailure(error)
            let outage = TransientFailures.mayPass(error)
            logger.log(
                level: disk == nil && !outage ? .error : .debug, "upload not ingested; it stays in uploads/",
                metadata: ["upload": "\(name)", "error": "\(error)"])
            return .skipped
        }
    }

    /// Stores the original and journals its `ObjectCreated:Put`; in `serve`, in the content's turn (see `naming`):
    /// until session 30 a picture dropped while a PUT id named its bytes got no id of its own, its hash answered
    /// 404 and a DELETE of the PUT id removed it, and a DELETE could remove the original between its install and
    /// its journal.
    private func store(
        _ bytes: Data, as prepared: IngestedOriginal, name: String, into originals: StoreHandle
    ) throws -> (IngestedOriginal, JournalAppend) {
        let runtime = self.runtime
        let work: @Sendable () throws -> (IngestedOriginal, JournalAppend) = {
            var original = prepared
            original.alreadyStored = try !OriginalIngest.store(bytes, as: prepared, into: originals, readSoon: true)
            let record = runtime.record(.objectCreatedPut, for: original, sourceName: name)
            return (original, try runtime.submit(record, deduplicate: true))
        }
        guard let naming else { return try work() }
        return try naming.storingAndWaiting(
            prepared.hash, format: prepared.format, size: prepared.size, name: name, work)
    }

    /// An upload ingested whose folder picpipe's user may not write stays in uploads/: said once, and not read again
    /// at every rescan (each read was another `upload ingested duplicate=true`, for ever) until it or its folder
    /// changes (a chmod of the folder, say).
    private func keep(path: String, name: String, status: stat, refused: Int32) {
        guard kept.keep(path, status) else { return }
        let folder = Folder.parent(of: path)
        logger.warning(
            """
            upload ingested but not removed: \(String(cString: strerror(refused))): picpipe runs as \(Self.userName), \
            who may not write its folder \(folder); it stays in uploads/ and is not read again until it or its \
            folder changes; make the folder writable for \(Self.userName) (or remove the file)
            """, metadata: ["upload": "\(name)", "folder": "\(folder)"])
    }

    /// Says why an upload could not even be looked at, unless it is gone (moved away, taken by another ingest): it
    /// stays in uploads/. Until session 36 this was silent: a file dropped into a watched folder made unreadable for
    /// a while (`chmod 000`) stayed without a word. Such a folder made readable again is listed by the watcher.
    private func noteNotLooked(_ name: String, errno number: Int32) {
        guard number != ENOENT, number != ENOTDIR else { return }
        let reason =
            number == EACCES || number == EPERM
            ? """
            \(String(cString: strerror(number))): picpipe runs as \(Self.userName), who may not enter a folder on its \
            path; it is taken once that folder is readable again (chmod a+rx)
            """
            : "\(String(cString: strerror(number))) (lstat)"
        logger.log(
            level: number == EACCES || number == EPERM ? .warning : .error, "upload not ingested; it stays in uploads/",
            metadata: ["upload": "\(name)", "error": "\(reason)"])
    }

    /// Whether the notice that uploads are read without a lease was logged (once a process).
    private static let saidNoLease = Atomic<Bool>(false)

    /// Says once a process that uploads are read without a lease (`refused`: why `F_SETLEASE` failed).
    private func noteReadWithoutLease(_ name: String, refused: Int32) {
        guard !Self.saidNoLease.exchange(true, ordering: .relaxed) else { return }
        logger.notice(
            """
            uploads are read without a lease (slower to take, and a writer pausing mid-file goes unseen): \
            \(Self.userName) neither owns them nor has CAP_LEASE, or the file system has no leases; \
            give picpipe CAP_LEASE (systemd: AmbientCapabilities=CAP_LEASE)
            """,
            metadata: ["upload": "\(name)", "error": "\(String(cString: strerror(refused)))"])
    }

    /// The user this process runs as, for messages (its uid when it has no name); looked up once, as `getpwuid`
    /// shares one buffer between threads.
    static let userName: String = {
        let uid = geteuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }()

    /// A link, named pipe, socket or device is refused with its kind (a link also with its target) in a `.error.json`
    /// in failed/. A link is not followed: what it names is outside the store, maybe a device or a secret; a pipe
    /// would block its reader until something writes to it.
    private func rejectSpecial(path: String, name: String, mode: mode_t) -> UploadOutcome {
        guard mode & S_IFMT == S_IFLNK else {
            let kind = FileKind.special(mode) ?? "not a file"
            let reason = "\(name): \(kind), not a regular file; only files are taken from uploads/"
            return reject(path: path, name: name, reason: reason, special: true)
        }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let count = buffer.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
        }
        let target = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : "?"
        let reason =
            "\(name): a symbolic link (to \(target)); only files themselves are taken from uploads/: copy the file there"
        return reject(path: path, name: name, reason: reason, special: true)
    }

    /// Moves an upload that cannot be ingested to failed/ beside its `.error.json`. A `special` one (a link, pipe,
    /// socket or device: it holds no bytes of its own) is removed instead, as what reads failed/ later would follow
    /// it or block on it; should a regular file have taken its name since, that file is left for its own event.
    private func reject(path: String, name: String, reason: String, special: Bool = false) -> UploadOutcome {
        let failed = StoreHandle(area: .failed, access: .write, location: layout.failed, function: "ingest")
        do {
            let chosen = try DeadLetter(file: name, error: reason, stage: "ingest").store(
                bytes: nil, name: name, in: failed)
            var now = stat()
            let found = lstat(path, &now) == 0
            if found, FileKind.isSpecial(now.st_mode) {
                // Kept like a refused file when its folder may not be written (until session 29 a link there was
                // refused again, and its record rewritten, at every rescan).
                if unlink(path) != 0 { throw StoreError.io(path: path, operation: "unlink", errno: errno) }
            } else if special, found {
                // A regular file took the refused entry's name: not this refusal's to move.
            } else {
                let target = try failed.url(chosen).path
                if rename(path, target) != 0 { throw StoreError.io(path: target, operation: "rename", errno: errno) }
            }
            logger.warning(
                "upload rejected", metadata: ["upload": "\(name)", "failed": "\(chosen)", "error": "\(reason)"])
            return .rejected(failedName: chosen, reason: reason)
        } catch StoreError.io(_, let operation, let code)
            where ["rename", "unlink"].contains(operation) && [EACCES, EPERM].contains(code)
        {
            // Its refusal is written, but its folder may not be written by picpipe's user: it stays, said once and
            // not read again until it or its folder changes (until session 28: an error at every rescan).
            var now = stat()
            if lstat(path, &now) == 0, kept.keep(path, now) {
                let folder = Folder.parent(of: path)
                logger.warning(
                    """
                    upload refused but not removed: \(String(cString: strerror(code))): picpipe runs as \(Self.userName), \
                    who may not write its folder \(folder); it stays in uploads/ and is not read again until it or its \
                    folder changes
                    """, metadata: ["upload": "\(name)", "error": "\(reason)"])
            }
            return .skipped
        } catch {
            // A full or read-only disk is logged once by StoreHealth, not for each refused upload at every rescan
            // (until session 28 an empty upload left by a failed copy logged this error every 15 s while full).
            let disk = StoreHealth.shared.recordFailure(error)
            logger.log(
                level: disk == nil ? .error : .debug, "could not move a rejected upload to failed/",
                metadata: ["upload": "\(name)", "error": "\(error)"])
            return .skipped
        }
    }
}
