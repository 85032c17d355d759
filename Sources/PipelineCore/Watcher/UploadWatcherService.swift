// The watcher and the ingest loop as one Service: uploads/ in, journaled events out.
import Logging
import ServiceLifecycle

/// Watches uploads/ and ingests every complete file on `IngestLanes` (the watcher's loop only hands files on); on
/// graceful shutdown it stops watching, lets the ingests under way finish, and returns.
public struct UploadWatcherService: Service, CustomStringConvertible {
    /// Its name in ServiceLifecycle's logs (not a reflection dump of the watcher).
    public var description: String { "UploadWatcherService" }

    /// The watcher.
    public let watcher: UploadWatcher
    /// The ingest step.
    public let ingest: UploadIngest

    /// - Parameters: see the properties.
    public init(watcher: UploadWatcher, ingest: UploadIngest) {
        self.watcher = watcher
        self.ingest = ingest
    }

    public func run() async throws {
        try watcher.start()
        let lanes = IngestLanes(ingest: ingest)
        await withGracefulShutdownHandler {
            for await file in watcher.files {
                await lanes.submit(file)
            }
            await lanes.drain()
        } onGracefulShutdown: {
            watcher.stop()
        }
    }
}
