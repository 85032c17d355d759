// One `serve` per store: an advisory lock on the STORE/db folder itself (a file can be deleted under a running
// serve, a folder holding the databases cannot), released by the kernel if the process dies; STORE/db/serve.lock
// names the holder for the message.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why the serve lock could not be taken.
public enum ServeLockError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process holds it.
    case held(path: String, by: String)
    /// The lock file cannot be opened.
    case io(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .held(let path, let owner):
            return "another serve (\(owner)) is running on this store (lock \(path)); stop it first"
        case .io(let path, let code): return "cannot open the lock file \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// The exclusive lock a `serve` holds on its store while it runs.
public final class ServeLock: Sendable {
    private let fd: Int32

    /// Takes the lock without waiting.
    /// - Throws: `ServeLockError.held` when another process holds it.
    public init(layout: StoreLayout) throws {
        try FileManager.default.createDirectory(at: layout.databases, withIntermediateDirectories: true)
        let folder = layout.databases.path
        let path = layout.databases.appendingPathComponent("serve.lock").path
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ServeLockError.io(path: folder, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let owner = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            close(fd)
            throw ServeLockError.held(path: folder, by: owner.map { "pid \($0)" } ?? "unknown pid")
        }
        // Only a note for the message a second serve prints; the lock is the folder's. Written without an fsync
        // (Foundation's write syncs): a lost note only makes that message say "unknown pid".
        let note = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if note >= 0 {
            let text = Array("\(getpid())\n".utf8)
            _ = text.withUnsafeBytes { write(note, $0.baseAddress, $0.count) }
            close(note)
        }
        self.fd = fd
    }

    /// Releases the lock (the kernel also releases it when the process exits).
    public func release() {
        _ = flock(fd, LOCK_UN)
    }

    deinit { close(fd) }
}
