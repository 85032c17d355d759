// A removal is one `ObjectRemoved:Delete` event with an invocation per subscribed function, as S3 notifies one record
// per deleted key and as an upload is journaled: an HTTP DELETE, a PUT that replaces a picture (its new bytes an
// ObjectCreated:Put, as S3 PutObject's), and a function that fails on it (its invocation retried under the same
// event). Until session 34 each function's call journaled an event of its own (and a failure a third), so `events`,
// `stats` and the event stream counted every delete twice.
import FetchService
import Foundation
import PipelineCore
import Synchronization
import Testing
import ThumbnailService

@Suite(.serialized)
struct RemovalEventTests {
    /// The removal events of the journal, each with its invocations (function, state, type, attempt).
    static func removals(_ journal: SQLiteInvocationJournal) throws -> [Int64: [InvocationSummary]] {
        Dictionary(
            grouping: try journal.invocations(state: nil, function: nil, limit: 100).filter {
                $0.eventName == EventName.objectRemovedDelete.rawValue
            }, by: \.eventID)
    }

    /// Waits until `journal` shows every invocation of the picture `id`'s upload done.
    static func processed(_ sha256: String, _ journal: SQLiteInvocationJournal) async throws {
        try await ContentLockTests.until {
            let made = (try? journal.invocations(state: nil, function: nil, limit: 100))?.filter {
                $0.key.contains(sha256) && $0.eventName.hasPrefix("ObjectCreated")
            }
            return made?.count == 2 && made?.allSatisfy { $0.state == "succeeded" } == true
        }
    }

    @Test func aDeleteJournalsOneEventForEveryFunction() async throws {
        try await FetchServer.with { client, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            let posted = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 61))
            let id = try #require(posted.json?["id"] as? String)
            try await Self.processed(id, journal)
            let stream = try EventStreamConnection(port: client.port)
            defer { stream.close() }
            _ = try await stream.read { $0.contains("retry: 1000") }

            #expect(try await client.send("DELETE", "/images/\(id)").status == 204)
            let removals = try Self.removals(journal)
            #expect(removals.count == 1, "one event for the delete: \(removals.keys.sorted())")
            let invocations = try #require(removals.values.first)
            #expect(Set(invocations.map(\.function)) == ["thumbnail", "metadata"])
            #expect(invocations.allSatisfy { $0.state == "succeeded" && $0.type == "RequestResponse" })
            #expect(invocations.allSatisfy { $0.key.contains(id) && $0.sourceName == id })

            // The stream sends it once: a later upload's frame comes after every frame of the delete.
            let next = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 62))
            let nextID = try #require(next.json?["id"] as? String)
            let text = try await stream.read { $0.contains("\"sha256\":\"\(nextID)\"") }
            let deletes = EventStreamTests.frames(text).filter { $0.data.contains("ObjectRemoved:Delete") }
            #expect(deletes.count == 1, "\(deletes.map(\.data))")
        }
    }

    @Test func aPutThatReplacesAPictureJournalsOneRemoval() async throws {
        try await FetchServer.with { client, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            let first = try FetchServer.picture(seed: 63)
            let hash = first.withUnsafeBytes { ContentHash(of: $0) }.hex
            let put = try await client.send(
                "PUT", "/images/holiday", headers: [("Content-Type", "image/jpeg")], body: first)
            #expect(put.status == 201)
            try await Self.processed(hash, journal)
            let replaced = try await client.send(
                "PUT", "/images/holiday", headers: [("Content-Type", "image/jpeg")],
                body: try FetchServer.picture(seed: 64))
            #expect(replaced.status == 200, "\(replaced.text)")
            let removals = try Self.removals(journal)
            #expect(removals.count == 1, "one event for the replaced content: \(removals.keys.sorted())")
            let invocations = try #require(removals.values.first)
            #expect(Set(invocations.map(\.function)) == ["thumbnail", "metadata"])
            #expect(invocations.allSatisfy { $0.key.contains(hash) && $0.state == "succeeded" })
            // New bytes under an id, new or replaced, are ObjectCreated:Put, as S3 PutObject notifies for a new key
            // and an overwrite alike (until session 37 a PUT was journaled ObjectCreated:Copy).
            let secondHash = try FetchServer.picture(seed: 64).withUnsafeBytes { ContentHash(of: $0) }.hex
            let created = try journal.invocations(state: nil, function: nil, limit: 100).filter {
                $0.eventName.hasPrefix("ObjectCreated")
            }
            #expect(created.filter { $0.key.contains(hash) }.count == 2)
            #expect(created.filter { $0.key.contains(secondHash) }.count == 2)
            #expect(Set(created.map(\.eventName)) == ["ObjectCreated:Put"], "\(created.map(\.eventName))")
        }
    }

    /// A function that fails on a removal keeps its work: its invocation of the same event is queued for a retry
    /// (an Event invocation from then on), which the workers run; no other event is journaled.
    @Test func aFunctionThatFailsOnARemovalIsRetriedUnderTheSameEvent() async throws {
        let failures = RemovalFailures(1)
        let failing: (ThumbnailFunction, StoreLayout) -> any PipelineFunction = { function, _ in
            FailingRemovals(wrapped: function, failures: failures)
        }
        let configure: (inout PicpipeConfiguration) -> Void = { $0.runtime.retryBackoff = [0.05] }
        try await FetchServer.with(configure: configure, thumbnailFunction: failing) { client, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            let posted = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 65))
            let id = try #require(posted.json?["id"] as? String)
            try await Self.processed(id, journal)
            #expect(try await client.send("DELETE", "/images/\(id)").status == 204)
            try await ContentLockTests.until {
                (try? Self.removals(journal))?.values.first?.allSatisfy { $0.state == "succeeded" } == true
            }
            #expect(failures.left == 0)
            let removals = try Self.removals(journal)
            #expect(removals.count == 1, "the retry is the same event's: \(removals.keys.sorted())")
            let invocations = try #require(removals.values.first)
            let thumbnail = try #require(invocations.first { $0.function == "thumbnail" })
            #expect(thumbnail.attempt == 2 && thumbnail.type == "Event")
            let metadata = try #require(invocations.first { $0.function == "metadata" })
            #expect(metadata.attempt == 1 && metadata.type == "RequestResponse")
        }
    }
}

/// How many removals are still to fail.
final class RemovalFailures: Sendable {
    private let count: Mutex<Int>
    init(_ count: Int) { self.count = Mutex(count) }
    var left: Int { count.withLock { $0 } }

    /// True (and one fewer left) while failures are left.
    func take() -> Bool {
        count.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }
}

/// The thumbnail function, failing its `ObjectRemoved` events while `failures` has some left (a full disk).
struct FailingRemovals: PipelineFunction {
    struct DiskFull: Error {}

    let wrapped: ThumbnailFunction
    let failures: RemovalFailures

    var name: String { wrapped.name }
    var role: FunctionRole { wrapped.role }
    var subscriptions: Set<String> { wrapped.subscriptions }
    var judgesOriginals: Bool { wrapped.judgesOriginals }

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        if record.eventName.family == "ObjectRemoved", failures.take() { throw DiskFull() }
        return try await wrapped.handle(record, context: context)
    }

    func validate(_ record: S3EventRecord, context: FunctionContext) throws {
        try wrapped.validate(record, context: context)
    }
}
