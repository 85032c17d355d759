// An upload held still while it is ingested: nobody writes it between the read and its removal, or the ingest
// knows and leaves it for the writer's own close event.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An upload open for ingest under a read lease (`fcntl(F_SETLEASE, F_RDLCK)`).
///
/// A file copied over an upload that is still waiting (`cp` again, an editor saving twice, `rsync --inplace`) is
/// truncated and rewritten in place: read at that moment, the ingest stored half a picture (dead letters, a "file
/// is empty" refusal that moved the writer's file to failed/ while it was being written) and removed the upload
/// under its writer, whose last bytes were lost. The kernel grants a read lease only while no one has the file open
/// for writing, and a writer's `open` then waits until the lease is let go (at most `lease-break-time`, 45 s), so:
/// a file still open for writing is not read at all (it is looked at again shortly, and its close brings it back);
/// a writer who comes during the ingest is seen (`writerCame`) and the upload is left for it instead of removed.
///
/// Where no lease can be had (picpipe's user neither owns the file nor has CAP_LEASE, or the filesystem has no
/// leases, as NFS), the open writers are looked for in `/proc` (which shows only this user's processes unless it
/// is root), an upload changed in the last `settleTime` is not read yet (`Unsettled`: looked at again after it),
/// and a change of size, time or inode is looked for after the read: what a writer paused longer than that
/// between its writes does is not seen, which only a lease sees.
final class LeasedUpload {
    /// A writer has the upload open (or had it: its close is announced before its write access is dropped): the
    /// upload is looked at again shortly (`writerGoneDelays`), and a writer still at it brings it back with its close.
    struct BeingWritten: Error {}
    /// Without a lease, empty or not whole: changed too lately to tell whether a writer is still at it or will
    /// fill it; look again after `settleTime`.
    struct Unsettled: Error {}

    /// When an upload found open for writing is looked at again (seconds after each look, 6.35 s in all). The kernel
    /// sends a writer's `IN_CLOSE_WRITE` before it drops that writer's write access, and ext4 flushes a file truncated
    /// and rewritten (a `cp` over an upload) in between, so the ingest of that very event could find the file still
    /// open for writing (up to 25 ms measured) and no event would follow: until session 36 it stayed in uploads/
    /// until the next rescan (3 in 30 double copies). A writer still at it after these closes later, and its close
    /// brings the upload back.
    static let writerGoneDelays: [TimeInterval] = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2]

    /// How long an upload must have been left unchanged before it is read without a lease.
    static let settleTime: TimeInterval = 0.5
    /// How long an empty upload must have stayed empty before it is refused: some writers create a file, close
    /// it, and open it again to fill it (a close of an empty file is no sign of a finished copy).
    static let emptySettleTime: TimeInterval = 2
    /// How long an upload that does not end where its format says it ends must have stayed unchanged before it is
    /// read: the same writers close a half-filled file too (a head, then the rest appended; `dd` a chunk at a time).
    /// Until session 29 such a close was ingested and refused as truncated, and the rest, appended to a new file,
    /// refused as no picture: one picture could become dozens of dead letters, none of them the picture.
    static let incompleteSettleTime: TimeInterval = 2

    let path: String
    private let fd: Int32
    private let status: stat
    /// Why no lease was had (`errno` of `F_SETLEASE`, 0 when none was asked for); nil while it is held.
    let noLease: Int32?
    private var leased: Bool { noLease == nil }

    /// Opens the upload (never through a link, never waiting on a pipe: `InputFile.open`) and takes its lease.
    /// - Parameter lease: false to go without one, as where none can be had (tests of that way).
    /// - Throws: `BeingWritten` when a process has it open for writing; `InputFile.open`'s errors.
    init(path: String, lease: Bool = true) throws {
        _ = Self.leaseBreaksIgnored
        let (fd, status) = try InputFile.open(path, followLinks: false)
        let age = Date().timeIntervalSince1970 - Double(status.st_mtim.tv_sec) - Double(status.st_mtim.tv_nsec) / 1e9
        let refused = lease ? (fcntl(fd, Self.setLease, F_RDLCK) == 0 ? nil : errno) : 0
        if let refused {
            // EAGAIN: open for writing somewhere. Otherwise no lease here (EACCES, EINVAL): ask /proc instead.
            if refused == EAGAIN || refused == EBUSY || !OpenWriters.among([path]).isEmpty {
                close(fd)
                throw BeingWritten()
            }
        }
        let settling = status.st_size == 0 ? Self.emptySettleTime : refused == nil ? 0 : Self.settleTime
        if age < settling
            || (age < Self.incompleteSettleTime
                && !UploadCompleteness.looksWhole(fd: fd, size: Int(status.st_size)))
        {
            if refused == nil { _ = fcntl(fd, Self.setLease, F_UNLCK) }
            close(fd)
            throw Unsettled()
        }
        self.path = path
        self.fd = fd
        self.status = status
        noLease = refused
    }

    private var released = false
    /// Why `remove()` could not remove the upload from its folder (`EACCES`, `EPERM`: picpipe's user may not write
    /// the folder; `EROFS`), nil when it did or had no reason to.
    private(set) var notRemovable: Int32?

    deinit { release() }

    /// Lets the lease go (a writer waiting in `open` goes on) and closes the file; once.
    func release() {
        guard !released else { return }
        released = true
        if leased { _ = fcntl(fd, Self.setLease, F_UNLCK) }
        close(fd)
    }

    /// Reads it whole (see `InputFile.read`).
    func read(hashing: Bool) throws -> (data: Data, hash: ContentHash?) {
        try InputFile.read(fd, status: status, path: path, maxBytes: nil, hashing: hashing)
    }

    /// Whether someone opened the upload for writing (or, without a lease, changed it) since it was opened.
    var writerCame: Bool { writerCame(at: path) }

    /// `writerCame`, the upload's name being `name` now.
    private func writerCame(at name: String) -> Bool {
        if leased { return fcntl(fd, Self.getLease) != F_RDLCK }
        var now = stat()
        return fstat(fd, &now) != 0 || !Self.same(now, status) || !OpenWriters.among([name]).isEmpty
    }

    /// Removes the upload now that it is ingested, unless a writer came or another file took its name. The name
    /// goes first (renamed aside to a temporary name: hidden from the watcher, and swept should this process die
    /// before the unlink), then the writer check: one who opened the name just before would write into a removed
    /// file, so the upload is put back for that writer's close instead.
    /// - Returns: the name it was put back under when another file had taken its own, nil otherwise (see
    ///   `notRemovable` for an upload whose folder may not be written).
    func remove() -> String? {
        var now = stat()
        guard !writerCame, lstat(path, &now) == 0, Self.same(now, status) else { return nil }
        let folder = Folder.parent(of: path)
        let aside = folder + "/" + AtomicFile.temporaryName(kind: "ingested-")
        guard rename(path, aside) == 0 else {
            if [EACCES, EPERM, EROFS].contains(errno) { notRemovable = errno }
            return nil
        }
        guard writerCame(at: aside) else {
            unlink(aside)
            return nil
        }
        // Back under its name, never over another file (link fails when the name is taken): else under a new one,
        // which its writer's close brings in as an upload of its own.
        let name = (path as NSString).lastPathComponent
        let stem = (name as NSString).deletingPathExtension
        let suffix = (name as NSString).pathExtension.isEmpty ? "" : "." + (name as NSString).pathExtension
        for candidate in [name] + (1...99).map({ "\(stem).rewritten-\($0)\(suffix)" }) {
            guard link(aside, folder + "/" + candidate) == 0 else { continue }
            unlink(aside)
            return candidate == name ? nil : candidate
        }
        return nil  // 100 names taken: left under the temporary name
    }

    /// Whether two `stat`s describe the same file with the same bytes (inode, size, modification time; not the
    /// change time, which a rename moves).
    static func same(_ a: stat, _ b: stat) -> Bool {
        a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size
            && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
    }

    // Glibc declares F_SETLEASE and F_GETLEASE only for _GNU_SOURCE, which Swift's Glibc module is not built
    // with: Linux's values.
    private static let setLease: Int32 = 1024
    private static let getLease: Int32 = 1025

    /// A lease break is signalled with SIGIO, whose default action ends the process. The ingest asks
    /// `writerCame` instead of waiting for the signal, so it is ignored, once, before the first lease.
    private static let leaseBreaksIgnored: Void = { signal(SIGIO, SIG_IGN) }()
}
