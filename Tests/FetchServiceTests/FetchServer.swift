// A real fetch server on a loopback port, over a temporary store, with the real runtime and functions.
import FetchService
import Foundation
import ImageCore
import Logging
import MetadataService
import PipelineCore
import Prometheus
import ServiceLifecycle
import Testing
import ThumbnailService

/// Runs a fetch server for the duration of a test body.
enum FetchServer {
    /// The sizes tests configure.
    static let sizes = [64, 256]

    /// Starts the runtime and the server on a free loopback port, runs `body`, then shuts both down gracefully.
    /// - Parameter logger: the server's and the runtime's logger (default: warnings and above to standard error).
    /// - Parameter prepare: writes into the new store before the server is built.
    static func with(
        configure: (inout PicpipeConfiguration) -> Void = { _ in },
        metadataStore: (any MetadataStore)? = nil,
        imageIndex: ((StoreLayout) throws -> any ImageIndex)? = nil, contentLocks: (any ContentLocks)? = nil,
        thumbnailFunction: (ThumbnailFunction, StoreLayout) -> any PipelineFunction = { function, _ in function },
        journal: (SQLiteInvocationJournal) -> any InvocationJournal = { $0 },
        logger: Logger? = nil, prepare: (StoreLayout) throws -> Void = { _ in },
        _ body: @Sendable (LoopbackClient, StoreLayout) async throws -> Void
    ) async throws {
        try await withApplication(
            configure: configure, metadataStore: metadataStore, imageIndex: imageIndex, contentLocks: contentLocks,
            thumbnailFunction: thumbnailFunction, journal: journal, logger: logger, prepare: prepare
        ) { client, layout, _ in try await body(client, layout) }
    }

    /// As `with`, the body also given the running application (to reload its access as SIGHUP does).
    static func withApplication(
        configure: (inout PicpipeConfiguration) -> Void = { _ in },
        metadataStore: (any MetadataStore)? = nil,
        imageIndex: ((StoreLayout) throws -> any ImageIndex)? = nil, contentLocks: (any ContentLocks)? = nil,
        thumbnailFunction: (ThumbnailFunction, StoreLayout) -> any PipelineFunction = { function, _ in function },
        journal: (SQLiteInvocationJournal) -> any InvocationJournal = { $0 },
        logger: Logger? = nil, prepare: (StoreLayout) throws -> Void = { _ in },
        _ body: @Sendable (LoopbackClient, StoreLayout, FetchApplication) async throws -> Void
    ) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = PicpipeConfiguration()
        configuration.store = root.path
        configuration.thumbnails.sizes = sizes
        configuration.http.listen = "127.0.0.1:0"
        configuration.runtime.pollInterval = 0.05
        configure(&configuration)
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        // What an earlier process left in the store (a killed one's leftovers), before the server starts.
        try prepare(layout)
        var defaultLogger = Logger(label: "fetch-test")
        defaultLogger.logLevel = .warning
        let logger = logger ?? defaultLogger
        let recipes = configuration.thumbnails.sizes.map { ThumbnailRecipe(size: $0) }
        // One set of content locks for the API and the functions, as serve has (FunctionContext.contentLocks).
        let locks = contentLocks ?? LocalContentLocks()
        let runtime = FunctionRuntime(
            layout: layout, journal: journal(try SQLiteInvocationJournal(layout: layout)),
            functions: [
                RegisteredFunction(
                    thumbnailFunction(
                        ThumbnailFunction(
                            recipes: recipes, limits: DecodeLimits(maxPixels: configuration.limits.maxPixels)),
                        layout),
                    configuration: configuration.functions.thumbnail),
                RegisteredFunction(MetadataFunction(), configuration: configuration.functions.metadata),
            ], settings: configuration.runtime, logger: logger, contentLocks: locks)
        var settings = try FetchSettings(
            http: configuration.http, limits: configuration.limits, auth: configuration.auth)
        settings.idleTimeoutSeconds = 2
        let port = PortBox()
        let app = try FetchApplication.build(
            settings: settings, runtime: runtime, recipes: recipes,
            metrics: HTTPMetrics(registry: PrometheusCollectorRegistry()), logger: logger,
            onServerRunning: { await port.set($0) }, metadataStore: metadataStore,
            imageIndex: try imageIndex?(layout), contentLocks: locks)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: FunctionRuntimeService(runtime: runtime)), .init(service: app)],
                logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A group that stops before the server runs (a service failed to start) must end the wait for its
                // port, or the test would hang instead of failing.
                do {
                    try await group.run()
                    await port.fail(ServerStopped.beforeRunning(nil))
                } catch {
                    await port.fail(ServerStopped.beforeRunning(error))
                    throw error
                }
            }
            let bound = try await port.wait()
            do {
                try await body(LoopbackClient(port: bound), layout, app)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// The route table of a server (built on a throwaway store, never run).
    static func routes() throws -> [Route] {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-routes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        let runtime = FunctionRuntime(
            layout: layout, journal: try SQLiteInvocationJournal(layout: layout), functions: [])
        var http = HTTPSettings()
        http.listen = "127.0.0.1:0"
        let app = try FetchApplication.build(
            settings: try FetchSettings(http: http, limits: LimitSettings()), runtime: runtime,
            recipes: [ThumbnailRecipe(size: 64)], metrics: HTTPMetrics(registry: PrometheusCollectorRegistry()),
            logger: Logger(label: "routes"))
        return app.routes
    }

    /// A test picture: a gradient with a red corner.
    /// A picture as the upload folder leaves it (no id of the API): its original under its hash and the metadata
    /// row the metadata function writes, naming the file it came as. - Returns: the original's URL.
    @discardableResult
    static func dropped(
        _ bytes: [UInt8], row: ImageMetadata, sourceName: String, addedAt: String? = nil, in layout: StoreLayout
    ) throws -> URL {
        let key = try #require(row.sha256.map { "originals/\($0.prefix(2))/\($0).jpg" })
        var row = row
        row.file = key
        try SQLiteMetadataStore(url: layout.metadataDatabase).upsert(
            row, originalPath: key, sourceName: sourceName, addedAt: addedAt)
        let original = layout.root.appendingPathComponent(key)
        try FileManager.default.createDirectory(
            at: original.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: original)
        return original
    }

    static func picture(_ format: ImageFormat = .jpeg, width: Int = 400, height: Int = 300, seed: UInt8 = 0) throws
        -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let corner = x < width / 4 && y < height / 4
                bytes[i] = corner ? 255 : UInt8(x * 255 / width)
                bytes[i + 1] = corner ? seed : UInt8(y * 255 / height)
                bytes[i + 2] = corner ? 0 : 128 &+ seed
            }
        }
        return try ImageEncoder.encode(
            PixelBuffer(width: width, height: height, channels: 3, bytes: bytes), format: format, quality: 90)
    }

    /// Every regular file under a folder, relative, sorted.
    static func files(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(
                atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                found.append(name)
            }
        }
        return found.sorted()
    }
}

/// The bound port, set once the server listens.
actor PortBox {
    private var port: Result<Int, any Error>?
    private var waiters: [CheckedContinuation<Int, any Error>] = []

    func set(_ value: Int) { settle(.success(value)) }

    /// The server will not run: waiters get `error` (nothing changes once a port is set).
    func fail(_ error: any Error) { settle(.failure(error)) }

    private func settle(_ result: Result<Int, any Error>) {
        guard port == nil else { return }
        port = result
        for waiter in waiters { waiter.resume(with: result) }
        waiters = []
    }

    func wait() async throws -> Int {
        if let port { return try port.get() }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }
}

/// Why a test server's port never came.
enum ServerStopped: Error {
    /// Its service group ended (with the error, if any) before the server ran.
    case beforeRunning((any Error)?)
}
