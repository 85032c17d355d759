// The runtime as a swift-service-lifecycle Service, so `serve` runs it in a ServiceGroup.
import ServiceLifecycle

/// Runs a `FunctionRuntime`'s workers; on graceful shutdown they stop taking work and finish in-flight invocations.
public struct FunctionRuntimeService: Service, CustomStringConvertible {
    /// Its name in ServiceLifecycle's logs (not a reflection dump of the runtime, which cost start-up time).
    public var description: String { "FunctionRuntimeService" }

    /// The runtime.
    public let runtime: FunctionRuntime

    /// - Parameter runtime: the runtime to run.
    public init(runtime: FunctionRuntime) { self.runtime = runtime }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await runtime.run()
        } onGracefulShutdown: {
            runtime.stop()
        }
    }
}
