// /healthz and /metrics for a process that runs no API: the worker and watcher processes of a scaled-out
// installation are health-checked and scraped as the API process is.
import Hummingbird
import Logging
import NIOPosix
import PipelineCore
import Prometheus
import ServiceLifecycle

/// The operations endpoints of `serve --roles worker|watcher --listen HOST:PORT`: `GET`/`HEAD /healthz` (the API's
/// answer: the store's disk and the journal) and `GET /metrics` (this process's registry, its roles among them).
/// Anything else is 404. Until session 27 such a process opened no listener and `--listen` was ignored.
public enum OperationsListener {
    /// The listener as a service of the process's service group.
    /// - Parameters:
    ///   - address: where to listen.
    ///   - runtime: the process's runtime (its journal and store).
    ///   - registry: the Prometheus registry swift-metrics records into.
    ///   - onServerRunning: called with the bound port.
    public static func build(
        address: ListenAddress, runtime: FunctionRuntime, registry: PrometheusCollectorRegistry, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) -> Void
    ) -> some Service {
        let probe = StoreProbe(layout: runtime.layout, threadPool: .singleton)
        let router = Router()
        router.get("/healthz") { _, _ in ImageAPI.healthResponse(condition: await probe.condition(), runtime: runtime) }
        router.head("/healthz") { _, _ in
            let answer = ImageAPI.healthResponse(condition: await probe.condition(), runtime: runtime)
            return Response(status: answer.status, headers: answer.headers)
        }
        router.get("/metrics") { _, _ in ImageAPI.metricsResponse(runtime: runtime, render: registry.emitToBuffer) }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in onServerRunning(channel.localAddress?.port ?? address.port) },
            logger: logger)
    }
}
