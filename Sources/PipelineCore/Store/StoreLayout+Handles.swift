// Turning a role into the handles it grants.
import Foundation

/// The store areas a function may read and write: its role.
public struct FunctionRole: Sendable, Hashable, Codable {
    /// Areas the function may read.
    public var read: Set<StoreArea>
    /// Areas the function may read and write.
    public var write: Set<StoreArea>

    /// - Parameters:
    ///   - read: areas granted for reading.
    ///   - write: areas granted for writing (and so reading).
    public init(read: Set<StoreArea> = [], write: Set<StoreArea> = []) {
        self.read = read
        self.write = write
    }

    /// The access the role grants on an area, or `nil` when it grants none.
    public func access(to area: StoreArea) -> StoreAccess? {
        if write.contains(area) { return .write }
        if read.contains(area) { return .read }
        return nil
    }
}

/// The handles a role grants, looked up by area.
public struct StoreHandles: Sendable {
    /// The function these handles belong to.
    public let function: String
    private let granted: [StoreArea: StoreHandle]

    init(function: String, granted: [StoreArea: StoreHandle]) {
        self.function = function
        self.granted = granted
    }

    /// The handle for an area with at least the given access.
    /// - Throws: `StoreError.accessDenied` when the role does not grant it.
    public func handle(_ area: StoreArea, _ access: StoreAccess = .read) throws -> StoreHandle {
        guard let handle = granted[area], access == .read || handle.access == .write else {
            throw StoreError.accessDenied(area: area, access: access, function: function)
        }
        return handle
    }

    /// The areas granted, for DryRun reports.
    public var areas: [StoreArea: StoreAccess] { granted.mapValues(\.access) }
}

extension StoreLayout {
    /// The location of an area: a folder, or a database file.
    public func location(of area: StoreArea) -> URL {
        switch area {
        case .uploads: return uploads
        case .originals: return originals
        case .thumbnails: return thumbnails
        case .failed: return failed
        case .metadata: return metadataDatabase
        case .events: return eventsDatabase
        }
    }

    /// The handles a role grants to a function, and no others.
    public func handles(for role: FunctionRole, function: String) -> StoreHandles {
        var granted: [StoreArea: StoreHandle] = [:]
        for area in StoreArea.allCases {
            if let access = role.access(to: area) {
                granted[area] = StoreHandle(area: area, access: access, location: location(of: area), function: function)
            }
        }
        return StoreHandles(function: function, granted: granted)
    }
}
