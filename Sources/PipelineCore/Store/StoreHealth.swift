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

    private let state = Locked(Condition.ok)
    private let logger = Logger(label: "picpipe.store")

    /// The current condition.
    public var condition: Condition { state.withLock { $0 } }

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
    /// - Returns: the disk condition the error means, or `nil` when it is not about the disk.
    @discardableResult
    public func recordFailure(_ error: any Error, path: String = "") -> Condition? {
        guard let found = Self.diskCondition(of: error, path: path) else { return nil }
        record(found)
        return found
    }

    /// Records a failed system call on a path.
    @discardableResult
    public func recordFailure(errno code: Int32, path: String) -> Condition? {
        guard let found = Self.condition(errno: code, path: path) else { return nil }
        record(found)
        return found
    }

    private func record(_ found: Condition) {
        let changed = state.withLock { current -> Bool in
            if current.label == found.label { return false }
            current = found
            return true
        }
        guard changed else { return }
        switch found {
        case .full(let path, _):
            logger.error(
                "the store's disk is full: writes fail until space is freed; uploads wait in uploads/ and work resumes by itself",
                metadata: ["path": "\(path)"])
        case .readOnly(let path, _):
            logger.error(
                "the store is read-only: writes fail until it is writable again", metadata: ["path": "\(path)"])
        case .ok:
            break
        }
    }

    /// Records a successful write: the disk takes writes again.
    public func recordSuccess() {
        let previous = state.withLock { current -> Condition in
            let previous = current
            if previous != .ok { current = .ok }
            return previous
        }
        if previous != .ok { logger.notice("the store takes writes again", metadata: ["was": "\(previous.label)"]) }
    }
}
