// What this process knows of its store's disk: full, read-only, or fine. Every write path reports to it, so the
// log says once what is wrong (and once that it is over), /healthz can tell, and HTTP answers 507/503.
import Foundation
import GRDB
import Locking
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The store's disk condition, as the last writes found it.
public final class StoreHealth: Sendable {
    /// The process's one instance: the store's writes go through static helpers (`AtomicFile`), so they report here.
    public static let shared = StoreHealth()

    /// What the last failed write said, until a write succeeds again.
    public enum Condition: Sendable, Equatable {
        /// Writes succeed.
        case ok
        /// A write found no space left (ENOSPC, EDQUOT, SQLite's "database or disk is full").
        case full(path: String, since: Date)
        /// A write found the file system read-only (EROFS, SQLite's "attempt to write a readonly database").
        case readOnly(path: String, since: Date)

        /// `ok`, `full` or `read_only`, for JSON.
        public var label: String {
            switch self {
            case .ok: return "ok"
            case .full: return "full"
            case .readOnly: return "read_only"
            }
        }
    }

    /// The condition, and while it is `full` the bytes the largest refused write needed (0 otherwise).
    private struct State {
        var condition = Condition.ok
        var needed = 0
    }

    private let state = Locked(State())
    private let logger = Logger(label: "picpipe.store")

    /// The least free space a full disk must have again, and the least a write must have had, before the store is
    /// taken to take writes again when the refused write's size is not known (a journal write, an upload cut off):
    /// a small write (a 4 KB probe, a thumbnail) that fits is no sign that a picture waiting in uploads/ does.
    public static let leastSpaceAfterFull = 1 << 20

    init() {}

    /// The current condition.
    public var condition: Condition { state.withLock { $0.condition } }

    /// While the store is full: the bytes the largest refused write needed (at least `leastSpaceAfterFull`); else 0.
    public var neededBytes: Int { state.withLock { $0.needed } }

    /// Whether an error is the disk's fault (no space, read-only), and which; `nil` for anything else.
    public static func diskCondition(of error: any Error, path: String = "") -> Condition? {
        switch error {
        case StoreError.io(let failedPath, _, let code), StoreError.cannotCreateFolder(let failedPath, _, let code):
            return condition(errno: code, path: failedPath)
        case let error as DatabaseError:
            switch error.resultCode.primaryResultCode {
            case .SQLITE_FULL: return .full(path: path.isEmpty ? "a database" : path, since: Date())
            case .SQLITE_READONLY: return .readOnly(path: path.isEmpty ? "a database" : path, since: Date())
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The condition an errno means, or `nil` when it is not about the disk.
    public static func condition(errno code: Int32, path: String) -> Condition? {
        switch code {
        case ENOSPC, EDQUOT: return .full(path: path, since: Date())
        case EROFS: return .readOnly(path: path, since: Date())
        default: return nil
        }
    }

    /// Records a failed write; logs when the condition starts (not on every repeat).
    /// - Parameters:
    ///   - needing: the bytes the write needed, when known: a full store takes writes again only once a write as
    ///     large succeeds or that much space is free (`recordSuccess(bytes:)`, `recheckFreeSpace(available:)`).
    /// - Returns: the disk condition the error means, or `nil` when it is not about the disk.
    @discardableResult
    public func recordFailure(_ error: any Error, path: String = "", needing bytes: Int = 0) -> Condition? {
        guard let found = Self.diskCondition(of: error, path: path) else { return nil }
        record(found, needing: bytes)
        return found
    }

    /// Records a failed system call on a path (`needing`: as for `recordFailure(_:path:needing:)`).
    @discardableResult
    public func recordFailure(errno code: Int32, path: String, needing bytes: Int = 0) -> Condition? {
        guard let found = Self.condition(errno: code, path: path) else { return nil }
        record(found, needing: bytes)
        return found
    }

    private func record(_ found: Condition, needing bytes: Int) {
        let changed = state.withLock { current -> Bool in
            if case .full = found {
                current.needed = max(current.needed, bytes, Self.leastSpaceAfterFull)
            } else {
                current.needed = 0
            }
            if current.condition.label == found.label { return false }
            current.condition = found
            return true
        }
        guard changed else { return }
        switch found {
        case .full(let path, _):
            if let message = fullMessage() { logger.error("\(message)", metadata: ["path": "\(path)"]) }
        case .readOnly(let path, _):
            logger.error(
                "the store is read-only: writes fail until it is writable again", metadata: ["path": "\(path)"])
        case .ok:
            break
        }
    }

    /// How the log speaks of a full disk: `serve`'s words, each time the condition starts and ends, unless a one-off
    /// command (`oneOffCommand(full:)`) set its own.
    private struct Voice {
        var full =
            "the store's disk is full: writes fail until space is freed; uploads wait in uploads/ and work resumes by itself"
        var oneOff = false
        var saidFull = false
    }

    private let voice = Locked(Voice())

    /// For `batch` and `thumbnail`: nothing waits in uploads/ there, and nothing resumes by itself, so the full
    /// disk is told in `message`, once a run, and its end is not told (until session 27 they printed serve's words,
    /// and batch printed "full" and "takes writes again" for every file).
    public func oneOffCommand(full message: String) {
        voice.withLock {
            $0.full = message
            $0.oneOff = true
        }
    }

    /// The log line of a full disk, or `nil` when a one-off command said it already.
    private func fullMessage() -> String? {
        voice.withLock { voice -> String? in
            if voice.oneOff && voice.saidFull { return nil }
            voice.saidFull = true
            return voice.full
        }
    }

    /// Records a successful write of `bytes`: a read-only store takes writes again; a full one only when the write
    /// was at least as large as the largest refused one (`neededBytes`): a small write that fits in what is left
    /// (a probe, a thumbnail of another picture) says nothing of the upload still waiting.
    /// - Returns: whether the store is still full.
    @discardableResult
    public func recordSuccess(bytes: Int) -> Bool {
        let (previous, stillFull) = state.withLock { current -> (Condition?, Bool) in
            switch current.condition {
            case .ok: return (nil, false)
            case .full where bytes < current.needed: return (nil, true)
            case .full, .readOnly:
                let previous = current.condition
                current = State()
                return (previous, false)
            }
        }
        if let previous, !voice.withLock({ $0.oneOff }) {
            logger.notice("the store takes writes again", metadata: ["was": "\(previous.label)"])
        }
        return stillFull
    }

    /// Re-checks a full store against the free space of its file system: it takes writes again when `available`
    /// bytes cover the largest refused write (`neededBytes`).
    /// - Returns: the condition after the check.
    @discardableResult
    public func recheckFreeSpace(available: Int) -> Condition {
        let needed = neededBytes
        if needed > 0, available >= needed { recordSuccess(bytes: needed) }
        return condition
    }

    /// Re-checks a full store against the space left to unprivileged writers (`statvfs`'s `f_bavail`) on the file
    /// system holding `path`; unchanged when that cannot be read.
    @discardableResult
    public func recheckFreeSpace(at path: String) -> Condition {
        guard neededBytes > 0 else { return condition }
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return condition }
        let available = Int(clamping: UInt64(info.f_bavail) &* UInt64(info.f_frsize))
        return recheckFreeSpace(available: available)
    }
}
