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
    /// The fetch function's naming of imports beside the HTTP API's ids, kept across reloads.
    let naming: (any DroppedContentNaming)?
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
            let restartNeeded = runtime.reconfigure(
                FunctionCatalog.functions(for: next, metadataStore: metadataStore, naming: naming))
            if let gateway {
                gateway.reapplyFunctionOverrides()
            } else {
                FunctionOverrides(layout: runtime.layout).applyAll(to: runtime)
            }
            fetch?.reload(recipes: FunctionCatalog.thumbnail(next).servedRecipes)
            var unchanged = restartNeeded.map { "functions.\($0).concurrency" }
            // Keys, scopes, the issuer, usage plans, protect_reads and signing keys apply at once; the rest of
            // `http` needs a restart (it is compared with what runs: the credentials taken from the new file).
            var credentials = current
            let credentialsChanged =
                next.auth != current.auth || Self.credentials(of: next.http) != Self.credentials(of: current.http)
            if let fetch, credentialsChanged {
                do {
                    try fetch.reload(http: next.http, auth: next.auth, logger: logger)
                    credentials.auth = next.auth
                    Self.setCredentials(of: &credentials.http, from: next.http)
                    logger.notice("access reloaded: keys, scopes, issuer, usage plans and signing keys in force")
                } catch {
                    logger.error("access not reloaded; the running keys stay", metadata: ["error": "\(error)"])
                }
            }
            if next.store != current.store { unchanged.append("store") }
            // The rest of `http`: both without their credentials.
            var nextRest = next.http
            Self.setCredentials(of: &nextRest, from: current.http)
            if nextRest != current.http { unchanged.append("http") }
            if next.watcher != current.watcher { unchanged.append("watcher") }
            if next.runtime != current.runtime { unchanged.append("runtime") }
            if next.logging != current.logging { unchanged.append("logging") }
            if next.aws != current.aws { unchanged.append("aws") }
            if next.auth != credentials.auth { unchanged.append("auth") }
            if next.imports != current.imports { unchanged.append("import") }
            if next.database != current.database { unchanged.append("database") }
            logger.notice(
                "configuration reloaded",
                metadata: [
                    "sizes": "\(next.thumbnails.sizes.map(String.init).joined(separator: ","))",
                    "max_pixels": "\(next.limits.maxPixels)",
                    "needs_restart": "\(unchanged.isEmpty ? "nothing" : unchanged.joined(separator: ","))",
                ])
            // What runs now: the new file where it was applied, the old values where a restart is needed (until
            // session 28 a second SIGHUP compared with the file, so a change still waiting for a restart was said
            // no more).
            var running = current
            running.thumbnails = next.thumbnails
            running.limits = next.limits
            running.functions = next.functions
            running.auth = credentials.auth
            running.http = credentials.http
            current = running
        }
    }

    /// The credentials of `http` that a reload puts in force (the other keys at their defaults).
    static func credentials(of http: HTTPSettings) -> HTTPSettings {
        var credentials = HTTPSettings()
        setCredentials(of: &credentials, from: http)
        return credentials
    }

    /// `http` with the credentials of `source`.
    static func setCredentials(of http: inout HTTPSettings, from source: HTTPSettings) {
        http.apiKeys = source.apiKeys
        http.signingKey = source.signingKey
        http.previousSigningKeys = source.previousSigningKeys
        http.protectReads = source.protectReads
    }
}
