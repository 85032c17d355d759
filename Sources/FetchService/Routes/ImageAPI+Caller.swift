// GET /auth/me: who the request's credentials name and what they may do, so a client (the gallery) offers only the
// controls its key or token can use. The answer holds no secret: the subject, as usage plans and 403s name it.
import Hummingbird

extension ImageAPI {
    /// `{"subject": "key:gallery", "scopes": ["images:read"]}`: every scope the caller holds (`admin` spelled out
    /// as all of them). With no credentials configured anyone may do anything (the server listens on loopback only):
    /// `{"subject": null, "scopes": [every scope]}`. The route needs credentials whenever any are configured, of any
    /// scope (a key that may only upload may still ask).
    func caller(_ request: Request, context: FetchRequestContext) async throws -> Response {
        let scopes = Scope.allCases.filter { context.caller?.holds($0) ?? true }
        let subject = context.caller.map { JSONText.quoted($0.subject) } ?? "null"
        var headers = HTTPFields()
        // The answer depends on the Authorization header alone: no cache keeps it.
        headers[.cacheControl] = "no-store"
        return Self.json(
            "{\"subject\":\(subject),\"scopes\":[\(scopes.map { JSONText.quoted($0.rawValue) }.joined(separator: ","))]}",
            headers: headers)
    }
}
