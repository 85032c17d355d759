// A capability for one store area: the only way a function touches the store.
import Foundation

/// Access to one area of the store, as granted by a function's role.
///
/// A handle checks every relative path stays inside its area and refuses writes when it was granted
/// read access only; a function that never received a handle for an area cannot name it at all.
public struct StoreHandle: Sendable {
    /// The area this handle opens.
    public let area: StoreArea
    /// What the role grants on it.
    public let access: StoreAccess
    /// The area's folder, or its database file for `.metadata` and `.events`.
    public let location: URL
    /// The function holding the handle, for error messages.
    public let function: String

    /// Makes a handle; use `StoreLayout.handles(for:function:)` rather than this.
    public init(area: StoreArea, access: StoreAccess, location: URL, function: String) {
        self.area = area
        self.access = access
        self.location = location
        self.function = function
    }

    /// The absolute URL of a path inside the area.
    /// - Throws: `StoreError.pathOutsideArea` for `..`, absolute paths, empty components or NUL bytes.
    public func url(_ relative: String) throws -> URL {
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.contains("\0"),
            components.allSatisfy({ !$0.isEmpty && $0 != ".." && $0 != "." })
        else { throw StoreError.pathOutsideArea(path: relative, area: area) }
        return components.reduce(location) { $0.appendingPathComponent(String($1)) }
    }

    /// Whether a file exists in the area.
    public func exists(_ relative: String) -> Bool {
        guard let url = try? url(relative) else { return false }
        return FileManager.default.fileExists(atPath: url.path)
    }

    /// Whether a regular file (not a link, folder or device) has this path in the area.
    public func isRegularFile(_ relative: String) -> Bool {
        guard let url = try? url(relative) else { return false }
        var info = stat()
        return lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// Reads a whole file of the area.
    public func read(_ relative: String) throws -> Data {
        let target = try url(relative)
        guard let data = FileManager.default.contents(atPath: target.path) else {
            throw StoreError.notFound(path: target.path)
        }
        return data
    }

    /// Writes a file of the area atomically.
    /// - Returns: `false` when the file existed and `overwrite` is false.
    @discardableResult
    public func write(_ bytes: [UInt8], to relative: String, overwrite: Bool = true) throws -> Bool {
        try requireWrite()
        return try AtomicFile.write(bytes, to: url(relative), overwrite: overwrite)
    }

    /// Writes `Data` to a file of the area atomically (`direct`: see `AtomicFile.write`).
    @discardableResult
    public func write(_ data: Data, to relative: String, overwrite: Bool = true, direct: Bool = true) throws -> Bool {
        try requireWrite()
        return try AtomicFile.write(data, to: url(relative), overwrite: overwrite, direct: direct)
    }

    /// The names in a folder of the area (`""` for the area's root); empty when it does not exist.
    public func list(_ relativeFolder: String = "") throws -> [String] {
        let folder = relativeFolder.isEmpty ? location : try url(relativeFolder)
        return (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    }

    /// Removes a file of the area; removing a missing file is not an error.
    public func remove(_ relative: String) throws {
        try requireWrite()
        let target = try url(relative)
        do {
            try FileManager.default.removeItem(at: target)
        } catch CocoaError.fileNoSuchFile {
            return
        } catch let error as NSError where error.domain == NSCocoaErrorDomain && error.code == 4 {
            return
        }
    }

    /// Throws unless the handle grants writing.
    public func requireWrite() throws {
        guard access == .write else {
            throw StoreError.accessDenied(area: area, access: .write, function: function)
        }
    }
}
