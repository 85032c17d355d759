// The distinct cameras of a store with their counts: each backend's grouped query agrees with the protocol's default
// walk over `query` (what a store without a grouped query answers).
import Foundation
import MetadataService
import Testing

struct CameraCountTests {
    /// A store with only the protocol's default `cameras()` (its walk through `query` pages).
    struct DefaultWalk: MetadataStore {
        let store: any MetadataStore
        func upsert(
            _ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?,
            committingOnlyIf check: () throws -> Void
        ) throws {
            try store.upsert(
                metadata, originalPath: originalPath, sourceName: sourceName, addedAt: addedAt, committingOnlyIf: check)
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
            // The caller's listing rule says how often an image counts (the HTTP listing: once per id, not at all
            // once its original is gone): "a" not at all, "e" twice; a camera left with none has no entry.
            let listed = { (sha256: String, file: String) in
                sha256.hasPrefix("a") ? 0 : file.hasSuffix("e.jpg") ? 2 : 1
            }
            let counted = [
                CameraCount(make: "Apple", model: "iPhone 5", count: 1),
                CameraCount(make: "Apple", model: nil, count: 1),
                CameraCount(make: "Canon", model: "EOS 5D", count: 2),
                CameraCount(make: "Canon", model: "EOS 7D", count: 1),
                CameraCount(make: nil, model: nil, count: 1),
            ]
            #expect(try store.cameras(counting: listed) == counted)
            #expect(try DefaultWalk(store: store).cameras(counting: listed) == counted)
            #expect(try store.cameras { _, _ in 0 }.isEmpty)
            try store.delete(sha256: String(repeating: "d", count: 64))
            #expect(try store.cameras() == Array(expected.dropLast()))
        }
    }

    /// The make and model filters ignore case in every script, so a camera written three ways is one camera: until
    /// session 29 `/cameras` listed "DUPE CAM", "Dupe Cam" and "dupe cam" with 1 each while any of their filters listed
    /// all 3. Each entry's count is what its own filter lists, and it shows its pictures' most used spelling.
    @Test(arguments: MetadataBackend.available)
    func spellingsOfOneCameraAreOneEntryCountedAsItsFilterLists(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            let pictures: [(Character, String, String)] = [
                ("a", "Dupe", "Cam"), ("b", "DUPE", "CAM"), ("c", "dupe", "cam"), ("d", "Canon", "EOS 7D"),
                ("e", "Canon", "eos 7d"), ("f", "CANON", "EOS 5D"), ("1", "Straße", "Z"), ("2", "STRASSE", "Z"),
            ]
            for (sha, make, model) in pictures {
                try store.upsert(
                    SQLiteMetadataStoreTests.image(sha, make: make, model: model, takenAt: "2024-01-01"),
                    originalPath: "originals/\(sha).jpg")
            }
            // Ties go to the spelling first in the sort order; a make reads as its most used spelling in each entry.
            let expected = [
                CameraCount(make: "Canon", model: "EOS 5D", count: 1),
                CameraCount(make: "Canon", model: "EOS 7D", count: 2),
                CameraCount(make: "DUPE", model: "CAM", count: 3),
                CameraCount(make: "STRASSE", model: "Z", count: 2),
            ]
            #expect(try store.cameras() == expected)
            #expect(try DefaultWalk(store: store).cameras() == expected)
            for camera in try store.cameras() {
                let listed = try store.query(MetadataQuery(make: camera.make, model: camera.model))
                #expect(listed.count == camera.count, "\(camera)")
            }
        }
    }
}
