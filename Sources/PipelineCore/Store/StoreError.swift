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
    /// A folder could not be created (`what` says which: "the store folder", "the output folder", …).
    case cannotCreateFolder(path: String, what: String, errno: Int32)
    /// A path that must be a folder is a file (or something else).
    case notAFolder(path: String, what: String)
    /// A command that only reads a store was pointed at a folder that does not exist.
    case storeMissing(path: String)
    /// A store folder a command must write to is not writable (a read-only disk, permissions).
    case notWritable(path: String, errno: Int32)
    /// One of the store's databases could not be opened.
    case databaseUnavailable(path: String, reason: String)
    /// A file the store keeps for itself holds something it should not.
    case damagedFile(path: String, reason: String)
    /// uploads/ is a symbolic link to the store, a folder in it or a folder holding it (`target`, resolved).
    case uploadsLinkIntoStore(link: String, target: String)

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
        case .cannotCreateFolder(let path, let what, let code):
            return "cannot create \(what) \(path): \(String(cString: strerror(code)))"
        case .notAFolder(let path, let what):
            return "\(what) \(path) is not a folder (it is a file or another kind of entry)"
        case .storeMissing(let path):
            return "there is no store at \(path) (the folder does not exist); check --store or PICPIPE_STORE, "
                + "or create it with `picpipe batch` or `picpipe serve`"
        case .notWritable(let path, let code):
            return "the store folder \(path) is not writable: \(String(cString: strerror(code)))"
        case .databaseUnavailable(let path, let reason):
            return "cannot open the database \(path): \(reason)"
        case .damagedFile(let path, let reason):
            return "\(path) is damaged: \(reason)"
        case .uploadsLinkIntoStore(let link, let target):
            return "\(link) is a symbolic link to \(target), which is the store, a folder in it or a folder "
                + "holding it: serve would take the store's own files as uploads, again and again; make uploads/ a "
                + "folder, or link it to a folder outside the store"
        }
    }
}
