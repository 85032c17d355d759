// `serve` assembled: the runtime and the watcher as Services of one ServiceGroup (the HTTP service joins it).
import AWSGateway
import FetchService
import Foundation
import Logging
import Metrics
import PipelineCore
import PostgresBackend
import Prometheus
import ServiceLifecycle

/// The parts of a running `serve`, built from the configuration; tests and the HTTP service use this seam.
struct ServeApplication {
    /// The runtime (submit events, invoke functions, statistics).
    let runtime: FunctionRuntime
    /// The services, in start order; graceful shutdown runs in reverse (watcher first, runtime last).
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    /// The databases (SQLite in the store, or the shared PostgreSQL one).
    let backends: DatabaseBackends

    /// Builds the runtime, the watcher, the HTTP fetch service and their services, for the process's roles.
    /// - Parameter listen: `--listen HOST:PORT`, over `http.listen`.
    /// - Parameter awsListen: `--aws-listen HOST:PORT`, over `aws.listen`.
    /// - Parameter reload: loads the configuration again on SIGHUP (nil: no reloading).
    /// - Parameter roles: the parts this process runs (default: all); the watcher only with `watcher.enabled`.
    static func build(
        configuration: PicpipeConfiguration, listen: String? = nil, awsListen: String? = nil, logger: Logger,
        reload: (@Sendable () throws -> PicpipeConfiguration)? = nil, roles: ServeRoles = .all
    ) throws -> ServeApplication {
        let roles = roles.running(watcherEnabled: configuration.watcher.enabled)
        // Before the runtime makes its instruments: the Prometheus registry /metrics renders backs swift-metrics.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let (layout, backends) = try FunctionCatalog.open(configuration)
        // One index and one set of content locks for the API, the watcher and the fetch function: a dropped or
        // imported picture is named in the same turn as a PUT or DELETE of its bytes (SQLite: one serve runs every
        // role, so they are this process's).
        let turn = try backends.contentTurn(layout: layout, local: true)
        let naming = turn?.naming
        let runtime = FunctionCatalog.runtime(
            for: configuration, layout: layout, backends: backends, turn: turn, logger: logger,
            workerFunctions: roles.worker ? roles.workerFunctions : [])
        // Which parts this process runs, for /metrics (each process of a scaled-out installation is scraped apart).
        Gauge(label: "picpipe_process_roles", dimensions: [("roles", roles.description)]).record(1)
        // Leftovers of a killed process are swept after the start-up, not before it or beside it: listing
        // thumbnails/ of a big store took longer than the rest of the start (see LeftoverSweep).
        // uploads/ too for a SQLite watcher: an upload ingested but not yet removed when its process died is left
        // there under a temporary name (see LeasedUpload.remove). On PostgreSQL the watcher that becomes active
        // sweeps it (StandbyWatcherService).
        let sweepsUploads = roles.watcher && backends.pool == nil
        let sweep = LeftoverSweep(
            areas: [layout.originals, layout.thumbnails, layout.failed] + (sweepsUploads ? [layout.uploads] : []))
        if !roles.api { sweep.start() }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if roles.watcher {
            let ingest = UploadIngest(
                layout: layout, runtime: runtime, maxFileBytes: configuration.limits.maxFileBytes, naming: naming,
                logger: logger)
            let makeWatcher: @Sendable () -> UploadWatcherService = {
                UploadWatcherService(
                    watcher: UploadWatcher(
                        root: layout.uploads, maxQueuedEvents: configuration.watcher.maxQueuedEvents,
                        rescanInterval: configuration.watcher.rescanInterval, logger: logger),
                    ingest: ingest)
            }
            if let pool = backends.pool {
                // Many processes may have the watcher role: one watches, the others stand by.
                let lock = AdvisoryLock(pool: pool, name: "picpipe.watcher:" + layout.uploads.standardizedFileURL.path)
                services.append(
                    .init(
                        service: StandbyWatcherService(
                            makeWatcher: makeWatcher, lock: lock, layout: layout, logger: logger)))
            } else {
                services.append(.init(service: makeWatcher()))
            }
        }
        // The HTTP API; the same Prometheus registry backs swift-metrics, so /metrics shows the runtime's metering.
        var fetch: FetchApplication?
        var gateway: AWSGateway?
        // The grace counts from the signal for the listeners' uploads as for the runtime's work.
        let shutdown = ShutdownDeadline(grace: configuration.runtime.shutdownGrace)
        if roles.api {
            let httpMetrics = HTTPMetrics(registry: registry)
            var listenerSettings = try FetchSettings(
                http: configuration.http, limits: configuration.limits, listen: listen, auth: configuration.auth,
                imports: configuration.imports)
            listenerSettings.shutdown = shutdown
            let settings = listenerSettings
            let application = try FetchApplication.build(
                settings: settings, runtime: runtime, recipes: FunctionCatalog.thumbnail(configuration).servedRecipes,
                metrics: httpMetrics, logger: logger,
                onServerRunning: { port in
                    logger.info("http listening", metadata: ["address": "\(settings.listen.host):\(port)"])
                    sweep.start()
                },
                metadataStore: backends.metadata, imageIndex: turn?.index, usageCounter: try backends.usageCounter(),
                contentLocks: turn?.locks)
            services.append(.init(service: application))
            fetch = application
            // The S3 and Lambda APIs on their own listener, over the same store, upload path and runtime.
            if Self.servesAWS(configuration) {
                let awsSettings = try AWSGatewaySettings(aws: configuration.aws, listen: awsListen)
                let built = try AWSGateway.build(
                    settings: awsSettings, fetch: application, http: settings, metrics: httpMetrics,
                    logger: logger,
                    onServerRunning: { port in
                        logger.info(
                            "aws listening",
                            metadata: [
                                "address": "\(awsSettings.listen.host):\(port)", "region": "\(awsSettings.region)",
                            ])
                    })
                services.append(.init(service: built))
                gateway = built
            } else if configuration.aws.enabled {
                logger.info(
                    "aws listener off: no credentials (set aws.credentials or PICPIPE_AWS_ACCESS_KEY_ID and PICPIPE_AWS_SECRET_ACCESS_KEY)"
                )
            }
        }
        if !roles.api, let listen {
            // A worker or watcher process answers /healthz and /metrics where --listen says (never http.listen's
            // default: the API process of the same machine has it).
            let address = try ListenAddress(parsing: listen)
            services.append(
                .init(
                    service: OperationsListener.build(
                        address: address, runtime: runtime, registry: registry, logger: logger,
                        onServerRunning: { port in
                            logger.info(
                                "operations listening (/healthz, /metrics)",
                                metadata: ["address": "\(address.host):\(port)"])
                        })))
        }
        if let reload {
            services.append(
                .init(
                    service: ConfigurationReloader(
                        load: reload, initial: configuration, runtime: runtime, fetch: fetch, gateway: gateway,
                        metadataStore: backends.metadata, naming: naming, logger: logger)))
        }
        // Last but the notice, so it is the first a graceful shutdown stops (ServiceGroup stops services in reverse order): the
        // shutdown grace starts at the signal and also bounds synchronous calls the HTTP listeners wait for. Until
        // session 28 it stopped after the listeners had drained, so a Lambda API call running at SIGTERM held
        // serve past `shutdown_grace` and queue work in flight ran to its end instead of being put back.
        if roles.worker { services.append(.init(service: FunctionRuntimeService(runtime: runtime))) }
        services.append(
            .init(service: ShutdownNotice(logger: logger, deadline: shutdown)))
        return ServeApplication(runtime: runtime, services: services, backends: backends)
    }

    /// Whether serve starts the AWS listener: `aws.enabled` and at least one access key (the AWS APIs accept only
    /// signed requests, so without a key they could answer nothing).
    static func servesAWS(_ configuration: PicpipeConfiguration) -> Bool {
        configuration.aws.enabled && !configuration.aws.credentials.isEmpty
    }

    /// Runs the services until SIGTERM or SIGINT, then shuts them down gracefully.
    func run(logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
