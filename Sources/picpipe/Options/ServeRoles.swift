// `serve --roles watcher,worker,api`: which parts of the pipeline one process runs.
import ArgumentParser

/// The roles of one `serve` process. Default: all three (one process does everything, as with SQLite).
struct ServeRoles: Equatable, Sendable, CustomStringConvertible {
    /// Watches `uploads/` and journals the events (single-active per store on PostgreSQL: an advisory lock).
    var watcher = true
    /// Runs functions' workers; `workerFunctions` names which (`nil`: every function).
    var worker = true
    /// The functions this worker runs (`--roles worker:thumbnail`).
    var workerFunctions: Set<String>?
    /// Serves the HTTP API.
    var api = true

    /// Every role.
    static let all = ServeRoles()

    /// Parses `watcher,worker,api` or `worker:thumbnail,worker:metadata`.
    init(parsing text: String, known functions: [String]) throws {
        watcher = false
        worker = false
        api = false
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            switch pieces[0] {
            case "watcher" where pieces.count == 1: watcher = true
            case "api" where pieces.count == 1: api = true
            case "worker":
                worker = true
                if pieces.count == 2 {
                    guard functions.contains(pieces[1]) else {
                        throw ValidationError(
                            "--roles: no function '\(pieces[1])' (functions: \(functions.joined(separator: ", ")))")
                    }
                    workerFunctions = (workerFunctions ?? []).union([pieces[1]])
                } else {
                    workerFunctions = nil
                }
            default:
                throw ValidationError(
                    "--roles: unknown role '\(part)' (roles: watcher, worker, worker:FUNCTION, api; e.g. "
                        + "--roles watcher,worker,api)")
            }
        }
        guard watcher || worker || api else { throw ValidationError("--roles: name at least one role") }
    }

    init() {}

    /// The roles this process runs with the configuration's switches: without the watcher when
    /// `watcher.enabled` is false (until session 34 the start line and `/metrics` still named it).
    func running(watcherEnabled: Bool) -> ServeRoles {
        var roles = self
        roles.watcher = watcher && watcherEnabled
        return roles
    }

    /// The functions of `functions` whose workers this process runs, comma-separated (`none` without the worker
    /// role).
    func workerNames(of functions: [String]) -> String {
        guard worker else { return "none" }
        return functions.filter { workerFunctions?.contains($0) ?? true }.joined(separator: ",")
    }

    /// Whether it runs anything.
    var isEmpty: Bool { !watcher && !worker && !api }

    var description: String {
        var names: [String] = []
        if watcher { names.append("watcher") }
        if worker {
            if let workerFunctions {
                names += workerFunctions.sorted().map { "worker:\($0)" }
            } else {
                names.append("worker")
            }
        }
        if api { names.append("api") }
        return names.joined(separator: ",")
    }
}
