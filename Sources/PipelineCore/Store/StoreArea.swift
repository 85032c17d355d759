// The areas of a store a role can grant, and the two kinds of access.

/// A part of the store that a function's role may grant.
public enum StoreArea: String, Sendable, Hashable, Codable, CaseIterable {
    case uploads
    case originals
    case thumbnails
    case failed
    /// The metadata service's own database (`db/metadata.sqlite`).
    case metadata
    /// The pipeline's journal (`db/events.sqlite`).
    case events
}

/// Reading or writing an area. Write implies read.
public enum StoreAccess: String, Sendable, Hashable, Codable {
    case read
    case write
}
