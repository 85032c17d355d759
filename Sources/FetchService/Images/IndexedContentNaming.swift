// A dropped or imported picture in serve: stored in its content's turn and, when ids of the HTTP API name the same
// bytes, named by its hash, as a PUT of a dropped picture's bytes does (ImageAPI.nameUnderLock).
import Foundation
import ImageCore
import NIOPosix
import PipelineCore

/// `DroppedContentNaming` over the fetch service's index and content locks: the same ones the HTTP API's PUT, POST
/// and DELETE take, so a DELETE removing the content's last id and its original is done or not begun.
public struct IndexedContentNaming: DroppedContentNaming {
    let index: any ImageIndex
    let locks: any ContentLocks
    let threadPool: NIOThreadPool

    /// - Parameters:
    ///   - index: the HTTP API's id index (the same instance: the SQLite one answers lookups from memory).
    ///   - locks: the HTTP API's content locks (the same instance, or one shared through the database).
    ///   - threadPool: where the store work runs.
    public init(index: any ImageIndex, locks: any ContentLocks, threadPool: NIOThreadPool = .singleton) {
        self.index = index
        self.locks = locks
        self.threadPool = threadPool
    }

    public func storing<T: Sendable>(
        _ hash: ContentHash, format: ImageFormat, size: Int, name: String,
        _ store: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await locks.withLock(on: hash) {
            let stored = try await threadPool.runIfActive(store)
            // Ids of the API name these bytes: a DELETE of theirs must not take the dropped picture along, and its
            // hash must reach it (until session 30 it answered 404). A hash id already there keeps its first name.
            if try index.entry(for: hash.hex) == nil, try !index.ids(using: hash).isEmpty {
                try index.upsert(
                    IndexedImage(id: hash.hex, hash: hash, format: format, size: size, name: name, updatedAt: Date()))
            }
            return stored
        }
    }
}
