// `serve` assembled: the runtime and the watcher as Services of one ServiceGroup (the HTTP service joins it).
import Foundation
import Logging
import PipelineCore
import ServiceLifecycle

/// The parts of a running `serve`, built from the configuration; tests and the HTTP service use this seam.
struct ServeApplication {
    /// The runtime (submit events, invoke functions, statistics).
    let runtime: FunctionRuntime
    /// The services, in start order; graceful shutdown runs in reverse (watcher first, runtime last).
    let services: [ServiceGroupConfiguration.ServiceConfiguration]

    /// Builds the runtime, the watcher and their services.
    static func build(configuration: PicpipeConfiguration, logger: Logger) throws -> ServeApplication {
        let runtime = try FunctionCatalog.runtime(for: configuration, logger: logger)
        let layout = runtime.layout
        for area in [layout.originals, layout.thumbnails, layout.failed] {
            AtomicFile.sweepTemporaries(in: area)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: FunctionRuntimeService(runtime: runtime))
        ]
        if configuration.watcher.enabled {
            let watcher = UploadWatcher(
                root: layout.uploads, maxQueuedEvents: configuration.watcher.maxQueuedEvents,
                rescanInterval: configuration.watcher.rescanInterval, logger: logger)
            let ingest = UploadIngest(
                layout: layout, runtime: runtime, maxFileBytes: configuration.limits.maxFileBytes, logger: logger)
            services.append(.init(service: UploadWatcherService(watcher: watcher, ingest: ingest)))
        }
        return ServeApplication(runtime: runtime, services: services)
    }

    /// Runs the services until SIGTERM or SIGINT, then shuts them down gracefully.
    func run(logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
