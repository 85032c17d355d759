// SIGHUP: read the configuration again and apply what can change while serve runs, without dropping work.
import AWSGateway
import FetchService
import Logging
import MetadataService
import PipelineCore
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP: thumbnail sizes and recipes, decode limits and each function's timeout,
/// memory, retries, event age and on-failure destination take effect for invocations that start afterwards;
/// running ones finish as they began. What cannot change in a running process is named in the log.
struct ConfigurationReloader: Service, CustomStringConvertible {
    /// Its name in ServiceLifecycle's logs (not a reflection dump of the configuration).
    var description: String { "ConfigurationReloader" }

    /// Loads the configuration the way serve loaded it at start (file, environment, --store).
    let load: @Sendable () throws -> PicpipeConfiguration
    let initial: PicpipeConfiguration
    let runtime: FunctionRuntime
    /// The HTTP service, when this process has the `api` role.
    let fetch: FetchApplication?
    /// The AWS listener, whose saved function settings (UpdateFunctionConfiguration) outlive a reload.
    let gateway: AWSGateway?
    /// The shared metadata database (PostgreSQL), kept across reloads; `nil`: the store's SQLite file.
    let metadataStore: (any MetadataStore)?
    let logger: Logger

    func run() async throws {
        var current = initial
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            let next: PicpipeConfiguration
            do {
                next = try load()
            } catch {
                logger.error("configuration not reloaded; the running one stays", metadata: ["error": "\(error)"])
                continue
            }
            let restartNeeded = runtime.reconfigure(FunctionCatalog.functions(for: next, metadataStore: metadataStore))
            if let gateway {
                gateway.reapplyFunctionOverrides()
            } else {
                FunctionOverrides(layout: runtime.layout).applyAll(to: runtime)
            }
            fetch?.reload(recipes: FunctionCatalog.thumbnail(next).servedRecipes)
            var unchanged = restartNeeded.map { "functions.\($0).concurrency" }
            if next.store != current.store { unchanged.append("store") }
            if next.http != current.http { unchanged.append("http") }
            if next.watcher != current.watcher { unchanged.append("watcher") }
            if next.runtime != current.runtime { unchanged.append("runtime") }
            if next.logging != current.logging { unchanged.append("logging") }
            if next.aws != current.aws { unchanged.append("aws") }
            if next.auth != current.auth { unchanged.append("auth") }
            if next.imports != current.imports { unchanged.append("import") }
            if next.database != current.database { unchanged.append("database") }
            logger.notice(
                "configuration reloaded",
                metadata: [
                    "sizes": "\(next.thumbnails.sizes.map(String.init).joined(separator: ","))",
                    "max_pixels": "\(next.limits.maxPixels)",
                    "needs_restart": "\(unchanged.isEmpty ? "nothing" : unchanged.joined(separator: ","))",
                ])
            current = next
        }
    }
}
