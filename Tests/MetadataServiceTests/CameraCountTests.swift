// The distinct cameras of a store with their counts: each backend's grouped query agrees with the protocol's default
// walk over `query` (what a store without a grouped query answers).
import Foundation
import MetadataService
import Testing

struct CameraCountTests {
    /// A store with only the protocol's default `cameras()` (its walk through `query` pages).
    struct DefaultWalk: MetadataStore {
        let store: any MetadataStore
        func upsert(_ metadata: ImageMetadata, originalPath: String, sourceName: String?) throws {
            try store.upsert(metadata, originalPath: originalPath, sourceName: sourceName)
        }
        func image(sha256: String) throws -> StoredImage? { try store.image(sha256: sha256) }
        func query(_ query: MetadataQuery) throws -> [StoredImage] { try store.query(query) }
        func delete(sha256: String) throws { try store.delete(sha256: sha256) }
        func count() throws -> Int { try store.count() }
    }

    @Test(arguments: MetadataBackend.available)
    func camerasAreGroupedCountedAndSorted(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            let pictures: [(Character, String?, String?)] = [
                ("a", "Canon", "EOS 7D"), ("b", "Canon", "EOS 7D"), ("c", "Apple", "iPhone 5"), ("d", nil, nil),
                ("e", "Canon", "EOS 5D"), ("f", "Apple", nil),
            ]
            for (sha, make, model) in pictures {
                try store.upsert(
                    SQLiteMetadataStoreTests.image(sha, make: make, model: model, takenAt: "2024-01-01"),
                    originalPath: "originals/\(sha).jpg")
            }
            let expected = [
                CameraCount(make: "Apple", model: "iPhone 5", count: 1),
                CameraCount(make: "Apple", model: nil, count: 1),
                CameraCount(make: "Canon", model: "EOS 5D", count: 1),
                CameraCount(make: "Canon", model: "EOS 7D", count: 2),
                CameraCount(make: nil, model: nil, count: 1),
            ]
            #expect(try store.cameras() == expected)
            #expect(try DefaultWalk(store: store).cameras() == expected)
            try store.delete(sha256: String(repeating: "d", count: 64))
            #expect(try store.cameras() == Array(expected.dropLast()))
        }
    }
}
