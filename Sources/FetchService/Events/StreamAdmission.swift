// An open event stream's credentials, checked again whenever a reload (SIGHUP) changes the access rules: a key that
// is removed or loses `images:read` stops getting events at once, not at the stream's 5-minute end.
import Hummingbird
import Logging

/// Whether an open stream's request would still be admitted under the access rules in force.
struct StreamAdmission: Sendable {
    let live: LiveAccess
    let request: Request
    /// What the stream's route needs.
    let access: RouteAccess
    /// The `LiveAccess` revision the request was last admitted under.
    private(set) var revision: UInt64

    /// Whether the rules changed since the request was last admitted (a waiting stream stops waiting then).
    var rulesChanged: Bool { live.revision != revision }

    /// Checks the request again when the rules changed since it was last admitted, as a new request with it would
    /// be checked (its usage is not taken again).
    /// - Returns: the refusal it would get now (401 or 403); nil while it is admitted, or when it cannot be told (the
    ///   OIDC issuer unreachable: the stream goes on, and its reconnection is checked).
    mutating func refusal(logger: Logger) async -> APIError? {
        let (authorizer, current) = live.currentWithRevision
        guard current != revision else { return nil }
        revision = current
        do {
            _ = try await authorizer.access.check(access, request: request)
            return nil
        } catch let error as APIError where error.status == .unauthorized || error.status == .forbidden {
            return error
        } catch {
            logger.warning(
                "event stream: its credentials cannot be checked again after the reload; it goes on",
                metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The last frame of a stream whose access a reload took away: `event: revoked`, with the refusal a new request
    /// would get as the API's error body; `id` is the position to resume after with other credentials.
    static func revokedFrame(_ refusal: APIError, id: Int64) -> String {
        var told = refusal
        told.message = "a configuration reload revoked this stream's access: " + refusal.message
        return "id: \(id)\nevent: revoked\ndata: \(told.jsonBody())\n\n"
    }
}
