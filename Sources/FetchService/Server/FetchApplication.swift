// Building the HTTP server: the seam `serve` and the tests use.
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MetadataService
import NIOCore
import NIOPosix
import PipelineCore
import Prometheus
import ServiceLifecycle
import ThumbnailService

/// The fetch service's HTTP server, ready to run as a `Service`.
public struct FetchApplication: Sendable, CustomStringConvertible {
    /// Its name in ServiceLifecycle's logs (a reflection dump of every route and setting took a fifth of a
    /// serve start-up).
    public var description: String { "FetchApplication" }

    /// The listener, with the router behind the raw path.
    let listener: HTTPListener
    /// Every route the router answers (besides 405s), as `METHOD /path`.
    public let routes: [Route]
    /// Runs the connection tasks on the event loops.
    let executor: EventLoopTaskExecutor
    /// The thumbnail sizes the routes serve.
    let thumbnails: ThumbnailCatalog
    /// The handlers and what they share (index, upload checks, content lifecycle): other front doors (the AWS
    /// gateway) upload and delete through them, so every way in does the same.
    package let api: ImageAPI

    /// Serves these thumbnail recipes from now on (a configuration reload, SIGHUP).
    public func reload(recipes: [ThumbnailRecipe]) {
        thumbnails.replace(recipes)
    }

    /// Puts the keys, scopes, OIDC issuer, usage plans, `protect_reads` and signing keys of `http` and `auth` in
    /// force for the requests that arrive from now on (SIGHUP: a revoked key stops working without a restart; until
    /// session 28 `auth` needed one), and ends the open event streams they would refuse now. What callers used so
    /// far still counts against their plans.
    /// - Throws: `ListenAddressError.openWithoutKey` when the new settings leave the running, non-loopback listener
    ///   without any credentials (nothing is changed then: writes would be open to the network).
    public func reload(http: HTTPSettings, auth: AuthSettings, logger: Logger) throws {
        let apiKeys = http.apiKeys.filter { !$0.isEmpty }
        try api.settings.listen.checkExposure(
            apiKeys: apiKeys + auth.apiKeys.map { $0.name } + (auth.oidc.isEnabled ? ["oidc"] : []))
        let current = api.live.current
        let access = AccessPolicy(
            apiKeys: apiKeys, protectReads: http.protectReads, signingKey: http.signingKey,
            previousSigningKeys: http.previousSigningKeys.filter { !$0.isEmpty }, auth: auth, logger: logger)
        api.live.replace(with: RequestAuthorizer(access: access, usage: current.usage.withPlans(of: auth)))
        // The waiting streams check their requests again now, not at their next heartbeat.
        api.eventFeed.wakeAll()
    }

    /// The event loops (one per core; one thread per core measured best here, 2 against 1 on 2 cores).
    package static var group: MultiThreadedEventLoopGroup { .singleton }

    /// Builds the server over a store.
    /// - Parameters:
    ///   - settings: the `http` settings (listen address, keys, limits).
    ///   - runtime: the pipeline runtime events are submitted to and functions invoked through.
    ///   - recipes: the configured thumbnail recipes (one per size).
    ///   - metrics: the HTTP instruments and the registry /metrics renders.
    ///   - logger: the server's logger (keep it at info or above: no per-request lines then).
    ///   - onServerRunning: called with the bound port once the server listens (port 0 picks a free one).
    ///   - metadataStore: a shared metadata database (PostgreSQL); `nil`: the store's SQLite file.
    ///   - imageIndex: a shared id index (PostgreSQL); `nil`: the store's SQLite file.
    ///   - usageCounter: usage-plan counts shared by several API processes (PostgreSQL); `nil`: this process's.
    ///   - contentLocks: content locks shared by several API processes (PostgreSQL); `nil`: the runtime's (which its
    ///     functions write their outputs in, see `FunctionContext.contentLocks`), else this process's.
    /// - Throws: when the store's databases cannot be opened.
    public static func build(
        settings: FetchSettings, runtime: FunctionRuntime, recipes: [ThumbnailRecipe], metrics: HTTPMetrics,
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        metadataStore: (any MetadataStore)? = nil, imageIndex: (any ImageIndex)? = nil,
        usageCounter: (any UsageCounter)? = nil, contentLocks: (any ContentLocks)? = nil
    ) throws -> FetchApplication {
        let layout = runtime.layout
        try layout.createFolders()
        let metadata = try metadataStore ?? SQLiteMetadataStore(url: layout.metadataDatabase)
        let index = try imageIndex ?? SQLiteImageIndex(url: SQLiteImageIndex.location(in: layout))
        let api = ImageAPI(
            settings: settings, runtime: runtime, metadata: metadata, index: index, recipes: recipes, metrics: metrics,
            logger: logger, usageCounter: usageCounter ?? InProcessUsageCounter(),
            contentLocks: contentLocks ?? runtime.contentLocks ?? LocalContentLocks())
        // Before the sweep: a killed install's spool file is what finishes it.
        api.lifecycle.finishInterruptedInstalls(in: api.spool.folder)
        let swept = api.spool.sweep()
        if swept > 0 { logger.notice("removed unfinished HTTP uploads", metadata: ["count": "\(swept)"]) }

        let router = Router(context: FetchRequestContext.self)
        // Outermost: its headers go on every answer to an allowed origin, the errors APIErrorMiddleware makes too.
        if settings.crossOrigin.isEnabled {
            router.add(middleware: CrossOriginMiddleware(policy: settings.crossOrigin))
        }
        let routes = RouteTable.routes(api)
        router.add(
            middleware: APIErrorMiddleware(metrics: metrics, logger: logger, paths: RoutePaths(routes)))
        RouteTable.register(routes, live: api.live, on: router)

        let listener = HTTPListener(
            responder: FetchResponder(router: router.buildResponder(), api: api), settings: settings, metrics: metrics,
            shortcut: ThumbnailShortcut(api: api), serverName: EventLoopShortcutHandler.serverName,
            requestIDField: RequestID.field, group: Self.group, logger: logger, onServerRunning: onServerRunning)
        return FetchApplication(
            listener: listener, routes: routes,
            executor: EventLoopTaskExecutor(group: Self.group), thumbnails: api.thumbnails, api: api)
    }
}

extension FetchApplication: Service {
    /// Runs the server until graceful shutdown.
    public func run() async throws {
        // The connection tasks (children of the server's task group) inherit the preference.
        try await withTaskExecutorPreference(executor) { try await listener.run() }
    }
}
