// The whole admission of a request in one call: its credentials checked for the route's access (401, 403, 503),
// then its usage taken (429). The router's routes call it; a shortcut that answers before the router (the cached
// thumbnail path) must call it too, so no way in skips the checks or the usage plans.
import HTTPTypes
import Hummingbird

/// Checks credentials and usage plans for one request.
package struct RequestAuthorizer: Sendable {
    let access: AccessPolicy
    let usage: UsageLimiter

    /// Admits the request to a route with `needed` access.
    /// - Parameter alsoNeeded: a scope this request needs besides the access's (an import's `functions:invoke`):
    ///   like every missing scope, a 403 before the usage plan, neither counted nor carrying its headers (until
    ///   session 37 the import route checked it after the plan).
    /// - Returns: the caller (when it sent credentials) and the `X-RateLimit-*` headers to add to the answer.
    /// - Throws: `APIError` 401, 403, 503 (the issuer unreachable) or 429 (with `Retry-After`).
    package func authorize(
        _ request: Request, needed: RouteAccess, alsoNeeded: Scope? = nil
    ) async throws -> (caller: Caller?, headers: HTTPFields) {
        let caller = try await access.check(needed, request: request)
        if let alsoNeeded, access.requiresCredentials, let caller, !caller.holds(alsoNeeded) {
            throw APIError.insufficientScope(alsoNeeded, caller: caller)
        }
        return (caller, try await usage.admit(caller))
    }

    /// Whether a request can skip `authorize` for a route with `needed` access: nothing to check (reads are
    /// public, no credentials sent, no signature to verify) and nothing to count.
    package func isOpen(_ request: Request, needed: RouteAccess) -> Bool {
        isOpen(headers: request.headers, needed: needed)
            && (needed == .open
                || (request.uri.queryParameters["sig"] == nil && request.uri.queryParameters["expires"] == nil))
    }

    /// `isOpen` for a request without a query (so without a signature): only its headers matter.
    func isOpen(headers: HTTPFields, needed: RouteAccess) -> Bool {
        switch needed {
        case .open: return true
        case .read, .signedRead: return !access.protectReads && headers[.authorization] == nil
        case .write, .credentialedRead, .credentialed: return false
        }
    }
}
