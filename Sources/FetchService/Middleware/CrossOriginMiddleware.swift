// CORS for the HTTP API: the pages of the origins `http.cors_origins` lists may call it from their scripts (list,
// upload, fetch thumbnails into a canvas, follow the event stream), as imgproxy's IMGPROXY_ALLOW_ORIGIN and API
// Gateway's CORS settings allow. Hummingbird's CORSMiddleware has no allow-list of several origins and sends
// `Access-Control-Expose-Headers` on preflights only, where browsers do not read it.
import Hummingbird

/// Which origins may call the API from a browser, and what their scripts may send and read.
public struct CrossOriginPolicy: Sendable {
    /// The origins allowed, lower-cased (empty and not `anyOrigin`: CORS is off).
    let origins: Set<String>
    /// `*` was listed: any origin.
    let anyOrigin: Bool

    /// - Parameter origins: `http.cors_origins` (validated: origins or `*`).
    public init(origins: [String]) {
        anyOrigin = origins.contains("*")
        self.origins = Set(origins.filter { $0 != "*" }.map { $0.lowercased() })
    }

    /// Whether any origin is allowed at all.
    public var isEnabled: Bool { anyOrigin || !origins.isEmpty }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, or `nil` when it may not call.
    func allowedOrigin(_ origin: String?) -> String? {
        if anyOrigin { return "*" }
        guard let origin, origin != "null" else { return nil }
        return origins.contains(origin.lowercased()) ? origin : nil
    }

    /// Adds the CORS fields to an answer (when CORS is on) for a request from `origin`: with `*`, the same fields
    /// on every answer; with a list, the allowed origin echoed, and `Vary: Origin` on every answer, those to
    /// requests without an `Origin` too, so a shared cache never hands one origin's answer to another.
    func decorate(_ fields: inout HTTPFields, origin: String?) {
        guard isEnabled else { return }
        if !anyOrigin { fields[values: .vary].append("Origin") }
        guard let allowed = allowedOrigin(origin) else { return }
        fields[.accessControlAllowOrigin] = allowed
        fields[.accessControlExposeHeaders] = Self.exposedHeaders
    }

    /// Whether a request must take the route (and its middleware) rather than an answer made ahead of it: with a
    /// list of origins, the echoed origin is the request's own.
    func needsRoute(_ head: HTTPRequest) -> Bool {
        isEnabled && !anyOrigin && head.headerFields[.origin] != nil
    }

    /// What a script may send: credentials (API keys, tokens), the body's type, the conditional and range requests,
    /// the event stream's resume position.
    static let allowedHeaders = "Authorization, Content-Type, Accept, If-None-Match, If-Range, Range, Last-Event-ID"
    /// The methods the API answers.
    static let allowedMethods = "GET, HEAD, POST, PUT, DELETE"
    /// What a script may read besides the CORS-safelisted headers: validators, an upload's `Location`, a range's
    /// extent, when to retry, the usage plan's counters.
    static let exposedHeaders =
        "ETag, Location, Content-Range, Content-Length, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
    /// How long a browser may keep a preflight's answer, in seconds.
    static let maxAge = "600"
}

/// Answers preflights (`OPTIONS` with `Access-Control-Request-Method`) from allowed origins and adds the CORS
/// fields to every answer (`CrossOriginPolicy.decorate`), errors included.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = FetchRequestContext
    let policy: CrossOriginPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let origin = request.headers[.origin]
        if let allowed = policy.allowedOrigin(origin), origin != nil, request.method == .options,
            request.headers[.accessControlRequestMethod] != nil
        {
            var fields = HTTPFields()
            fields[.accessControlAllowOrigin] = allowed
            fields[.accessControlAllowMethods] = CrossOriginPolicy.allowedMethods
            fields[.accessControlAllowHeaders] = CrossOriginPolicy.allowedHeaders
            fields[.accessControlMaxAge] = CrossOriginPolicy.maxAge
            if allowed != "*" { fields[.vary] = "Origin" }
            return Response(status: .noContent, headers: fields)
        }
        var response = try await next(request, context)
        policy.decorate(&response.headers, origin: origin)
        return response
    }
}
