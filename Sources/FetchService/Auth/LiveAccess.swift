// The checks a running server admits requests with, replaced whole when SIGHUP reloads the configuration.
import Synchronization

/// The access policy and usage plans requests are checked against now: a SIGHUP reload replaces them (a revoked
/// key stops working without a restart), and every way in (the routes, the event-loop shortcut) reads them here.
package final class LiveAccess: Sendable {
    private let state: Mutex<(authorizer: RequestAuthorizer, revision: UInt64)>

    init(_ authorizer: RequestAuthorizer) { state = Mutex((authorizer, 0)) }

    /// The checks in force.
    var current: RequestAuthorizer { state.withLock { $0.authorizer } }

    /// How many times the checks were replaced: answers kept on the event loops were given under the old ones.
    var revision: UInt64 { state.withLock { $0.revision } }

    /// The checks in force and their revision, read together: a request admitted under them keeps the revision, and
    /// an event stream checks its request again once it changes.
    var currentWithRevision: (authorizer: RequestAuthorizer, revision: UInt64) { state.withLock { $0 } }

    /// Puts new checks in force for the requests that arrive from now on.
    func replace(with authorizer: RequestAuthorizer) {
        state.withLock {
            $0.authorizer = authorizer
            $0.revision &+= 1
        }
    }
}
