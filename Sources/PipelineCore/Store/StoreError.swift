// Errors of the store layer: what failed, where, and why.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a store operation failed.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed on a path.
    case io(path: String, operation: String, errno: Int32)
    /// A function tried to use a store area its role does not grant.
    case accessDenied(area: StoreArea, access: StoreAccess, function: String)
    /// A relative path tried to leave its area (`..`, absolute path, NUL byte).
    case pathOutsideArea(path: String, area: StoreArea)
    /// The file does not exist.
    case notFound(path: String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let code):
            return "\(operation) failed for \(path): \(String(cString: strerror(code)))"
        case .accessDenied(let area, let access, let function):
            return "function '\(function)' may not \(access.rawValue) the store area '\(area.rawValue)': its role does not grant it"
        case .pathOutsideArea(let path, let area):
            return "path '\(path)' is outside the store area '\(area.rawValue)'"
        case .notFound(let path):
            return "no such file: \(path)"
        }
    }
}
