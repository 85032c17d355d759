// A content's lock: holders of one content take turns, and a PUT of the same bytes waits for a DELETE half done
// instead of taking its picture for a dropped one (until session 30 it stayed, under its hash, after every DELETE).
import FetchService
import Foundation
import PipelineCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ContentLockTests {
    static let first = ContentHash(hex: String(repeating: "a", count: 64))!
    static let second = ContentHash(hex: String(repeating: "b", count: 64))!

    @Test func holdersOfOneContentTakeTurnsWhileOtherContentsGoOn() async throws {
        let locks = LocalContentLocks()
        let order = Order()
        let queued = Task {
            try await Self.until { locks.waiting(on: Self.second) == 0 && order.steps.contains("holding") }
            try await locks.withLock(on: Self.first) { order.add("queued") }
        }
        try await locks.withLock(on: Self.first) {
            order.add("holding")
            try await locks.withLock(on: Self.second) { order.add("other content") }
            try await Self.until { locks.waiting(on: Self.first) == 1 }
            order.add("holder done")
        }
        try await queued.value
        #expect(order.steps == ["holding", "other content", "holder done", "queued"])
        #expect(locks.waiting(on: Self.first) == 0)
    }

    @Test func aBoundLetsOnlySoManyContentsBeHeld() async throws {
        let locks = LocalContentLocks(limit: 1)
        let order = Order()
        let queued = Task {
            try await Self.until { order.steps.contains("first") }
            try await locks.withLock(on: Self.second) { order.add("second") }
        }
        try await locks.withLock(on: Self.first) {
            order.add("first")
            try await Self.until { locks.waiting(on: Self.second) == 1 }
            order.add("first done")
        }
        try await queued.value
        #expect(order.steps == ["first", "first done", "second"])
    }

    /// A DELETE of an id is held between the id's removal and the original's (the index hook blocks it there)
    /// while a PUT of the same bytes to the same id comes in; after it, and one more DELETE, nothing may remain.
    /// Without the lock the PUT found the bytes stored and named by no id, took them for a dropped picture and
    /// named them by their hash, which no DELETE of the id ever removed.
    @Test func aPutOfTheSameBytesWaitsForADeleteHalfDone() async throws {
        let picture = try FetchServer.picture(seed: 33)
        let hash = picture.withUnsafeBytes { ContentHash(of: $0) }
        let locks = LocalContentLocks()
        let hooked = Mutex<HookedIndex?>(nil)
        let makeIndex: (StoreLayout) throws -> any ImageIndex = { layout in
            let index = HookedIndex(try SQLiteImageIndex(url: SQLiteImageIndex.location(in: layout)))
            hooked.withLock { $0 = index }
            return index
        }
        try await FetchServer.with(imageIndex: makeIndex, contentLocks: locks) { client, layout in
            let index = try #require(hooked.withLock { $0 })
            let racing = RacingRequest()
            let put: @Sendable () async throws -> HTTPAnswer = {
                try await client.send(
                    "PUT", "/images/race", headers: [("Content-Type", "image/jpeg")], body: picture)
            }
            // Several rounds: the hook blocks the DELETE's event loop, and a racing PUT that lands on the same
            // loop cannot start until it lets go (that round then shows nothing either way).
            for _ in 0..<4 {
                #expect(try await put().status == 201)
                index.arm(id: "race") {
                    racing.start(put)
                    // Until the PUT is done (no lock) or queued behind the DELETE's lock.
                    let deadline = Date().addingTimeInterval(10)
                    while !racing.finished, locks.waiting(on: hash) == 0, Date() < deadline { usleep(1000) }
                }
                #expect(try await client.send("DELETE", "/images/race").status == 204)
                let answer = try await racing.answer()
                #expect(answer.status == 201)
                let served = try await client.send("GET", "/images/race")
                #expect(served.status == 200)
                #expect(served.body == picture)

                #expect(try await client.send("DELETE", "/images/race").status == 204)
                #expect(index.ids(using: hash).isEmpty)
                #expect(FetchServer.files(under: layout.originals).isEmpty)
                #expect(try await client.send("GET", "/images/\(hash.hex)").status == 404)
            }
        }
    }

    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// Steps taken, in order.
final class Order: Sendable {
    private let taken = Mutex<[String]>([])
    func add(_ step: String) { taken.withLock { $0.append(step) } }
    var steps: [String] { taken.withLock { $0 } }
}

/// A request sent from inside the index hook, awaited by the test afterwards.
final class RacingRequest: Sendable {
    private let task = Mutex<Task<HTTPAnswer, any Error>?>(nil)
    private let done = Atomic<Bool>(false)

    func start(_ send: @escaping @Sendable () async throws -> HTTPAnswer) {
        done.store(false, ordering: .sequentiallyConsistent)
        let started = Task {
            defer { self.done.store(true, ordering: .sequentiallyConsistent) }
            return try await send()
        }
        task.withLock { $0 = started }
    }

    var finished: Bool { done.load(ordering: .sequentiallyConsistent) }

    func answer() async throws -> HTTPAnswer {
        try await #require(task.withLock { $0 }).value
    }
}

/// The SQLite index with a hook run once, right after the id it is armed for is removed: the moment a DELETE has
/// taken the id away but not yet the original.
final class HookedIndex: ImageIndex {
    private let base: SQLiteImageIndex
    private let hook = Mutex<(id: String, run: @Sendable () -> Void)?>(nil)

    init(_ base: SQLiteImageIndex) { self.base = base }

    func arm(id: String, _ run: @escaping @Sendable () -> Void) { hook.withLock { $0 = (id, run) } }

    private func fire(after id: String) {
        let run = hook.withLock { hook -> (@Sendable () -> Void)? in
            guard let armed = hook, armed.id == id else { return nil }
            hook = nil
            return armed.run
        }
        run?()
    }

    func entry(for id: String) -> IndexedImage? { base.entry(for: id) }
    func ids(using hash: ContentHash) -> [String] { base.ids(using: hash) }
    func namedContents() -> [ContentHash: Int] { base.namedContents() }
    func upsert(_ entry: IndexedImage) throws -> IndexedImage? { try base.upsert(entry) }
    func upsert(_ entry: IndexedImage, ifNaming expected: ContentHash?) throws -> IndexChange {
        try base.upsert(entry, ifNaming: expected)
    }
    func remove(id: String) throws -> IndexedImage? {
        defer { fire(after: id) }
        return try base.remove(id: id)
    }
    func remove(id: String, ifNaming expected: ContentHash) throws -> IndexChange {
        defer { fire(after: id) }
        return try base.remove(id: id, ifNaming: expected)
    }
}
