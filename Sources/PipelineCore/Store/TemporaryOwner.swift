// Who wrote a temporary file, read back from its name, so sweeps remove only what a dead writer left.
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The writer of a temporary file: a short tag of the host and the process id, as written in its name
/// (`.picpipe-tmp-[kind]HOST-PID-UUID`).
public struct TemporaryOwner: Sendable, Equatable {
    /// Eight hex digits of the SHA-256 of the host name (a store path may be shared by several machines).
    public var host: String
    /// The writing process.
    public var pid: Int32

    /// How old a temporary file of another host (or of a name without an owner) must be to count as left behind.
    public static let foreignAge: TimeInterval = 3600

    /// This process.
    public static let current = TemporaryOwner(host: localHost, pid: getpid())

    /// The tag in file names: `HOST-PID`.
    public var tag: String { "\(host)-\(pid)" }

    static let localHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let name =
            gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : "localhost"
        return SHA256.hash(data: Data(name.utf8)).prefix(4).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }()

    /// The owner written in a temporary file's name, if it has one (names from before owners were written
    /// have none).
    public static func parse(_ name: String) -> TemporaryOwner? {
        guard name.hasPrefix(AtomicFile.temporaryPrefix) else { return nil }
        // [kind]HOST-PID-UUID: the UUID has four dashes of its own, so count from the end.
        let parts = name.dropFirst(AtomicFile.temporaryPrefix.count).split(separator: "-")
        guard parts.count >= 7, let pid = Int32(parts[parts.count - 6]) else { return nil }
        let host = String(parts[parts.count - 7].suffix(8))
        guard host.count == 8, host.allSatisfy(\.isHexDigit) else { return nil }
        return TemporaryOwner(host: host, pid: pid)
    }

    /// Whether this process is alive; only meaningful for owners on this host.
    var isAlive: Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Whether the temporary file at `url` was left behind: its writer on this host is gone, or it is older
    /// than `foreignAge` (written by another host, or by a version that did not name its writer).
    public static func isStale(_ url: URL, now: Date = Date()) -> Bool {
        if let owner = parse(url.lastPathComponent), owner.host == localHost {
            return !owner.isAlive
        }
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return false }
        let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
        return now.timeIntervalSince(modified) > foreignAge
    }
}
