// A database out of reach is an outage, not a failure of the request: 503 with Retry-After, not 500.
import FetchService
import Foundation
import MetadataService
import PipelineCore
import Testing

/// A metadata database that cannot be reached (a PostgreSQL restart, a cut network).
struct UnreachableMetadataStore: MetadataStore {
    struct Unreachable: TransientFailure, CustomStringConvertible {
        var mayPassIfRetried: Bool { true }
        var description: String { "cannot connect to the database postgres://u:<redacted>@db/pics" }
    }

    func upsert(
        _ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?,
        committingOnlyIf check: () throws -> Void
    ) throws {
        throw Unreachable()
    }
    func image(sha256: String) throws -> StoredImage? { throw Unreachable() }
    func query(_ query: MetadataQuery) throws -> [StoredImage] { throw Unreachable() }
    func delete(sha256: String) throws { throw Unreachable() }
    func count() throws -> Int { throw Unreachable() }
}

@Suite struct DatabaseOutageTests {
    @Test func aListingWhileTheDatabaseIsOutOfReachIs503WithRetryAfter() async throws {
        try await FetchServer.with(metadataStore: UnreachableMetadataStore()) { client, _ in
            let listing = try await client.send("GET", "/images")
            #expect(listing.status == 503, "\(listing.text)")
            #expect(listing.header("Retry-After") == "5")
            #expect(listing.text.contains("\"unavailable\""), "\(listing.text)")
            #expect(listing.text.contains("database is out of reach"), "\(listing.text)")
            #expect(!listing.text.contains("redacted"), "the database's URL stays in the log")
            let cameras = try await client.send("GET", "/cameras")
            #expect(cameras.status == 503, "\(cameras.text)")
        }
    }
}
