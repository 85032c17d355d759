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
    /// The methods a preflight allows.
    let allowedMethods: String
    /// The request headers a preflight allows; nil: those it asks for (S3's `AllowedHeader` `*`: SigV4 clients
    /// send `x-amz-*` headers of their own choosing).
    let allowedHeaders: String?
    /// What a script may read besides the CORS-safelisted headers.
    let exposedHeaders: String

    /// The HTTP API's policy.
    /// - Parameter origins: `http.cors_origins` (validated: origins or `*`).
    public init(origins: [String]) {
        self.init(
            origins: origins, allowedMethods: Self.allowedMethods, allowedHeaders: Self.allowedHeaders,
            exposedHeaders: Self.exposedHeaders)
    }

    /// A policy with its own methods and headers (the AWS listener's).
    package init(origins: [String], allowedMethods: String, allowedHeaders: String?, exposedHeaders: String) {
        anyOrigin = origins.contains("*")
        self.origins = Set(origins.filter { $0 != "*" }.map { $0.lowercased() })
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders
    }

    /// The origins allowed as configured (`*` first when any is), for S3's GetBucketCors.
    package var allowedOrigins: [String] { (anyOrigin ? ["*"] : []) + origins.sorted() }

    /// Whether any origin is allowed at all.
    public var isEnabled: Bool { anyOrigin || !origins.isEmpty }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, or `nil` when it may not call.
    package func allowedOrigin(_ origin: String?) -> String? {
        if anyOrigin { return "*" }
        guard let origin, origin != "null" else { return nil }
        return origins.contains(origin.lowercased()) ? origin : nil
    }

    /// Adds the CORS fields to an answer (when CORS is on) for a request from `origin`: with `*`, the same fields
    /// on every answer; with a list, the allowed origin echoed, and `Vary: Origin` on every answer, those to
    /// requests without an `Origin` too, so a shared cache never hands one origin's answer to another.
    package func decorate(_ fields: inout HTTPFields, origin: String?) {
        guard isEnabled else { return }
        if !anyOrigin { fields[values: .vary].append("Origin") }
        guard let allowed = allowedOrigin(origin) else { return }
        fields[.accessControlAllowOrigin] = allowed
        fields[.accessControlExposeHeaders] = exposedHeaders
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) from `origin` asking to use
    /// `method` with the headers `requested`, or nil when that origin or method may not.
    package func preflight(origin: String?, method: String?, requested: String?) -> HTTPFields? {
        guard origin != nil, let allowed = allowedOrigin(origin), let method,
            allowedMethods.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == method })
        else { return nil }
        var fields = HTTPFields()
        fields[.accessControlAllowOrigin] = allowed
        fields[.accessControlAllowMethods] = allowedMethods
        if let headers = allowedHeaders ?? requested { fields[.accessControlAllowHeaders] = headers }
        fields[.accessControlMaxAge] = Self.maxAge
        if allowed != "*" { fields[.vary] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method" }
        return fields
    }

    /// Whether a request must take the route (and its middleware) rather than an answer made ahead of it: with a
    /// list of origins, the echoed origin is the request's own.
    func needsRoute(_ head: HTTPRequest) -> Bool {
        isEnabled && !anyOrigin && head.headerFields[.origin] != nil
    }

    /// What a script may send: credentials (API keys, tokens), the body's type, the conditional and range requests
    /// (a conditional PUT or DELETE's If-Match and If-Unmodified-Since too), the event stream's resume position.
    static let allowedHeaders =
        "Authorization, Content-Type, Accept, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, "
        + "If-Range, Range, Last-Event-ID"
    /// The methods the API answers.
    static let allowedMethods = "GET, HEAD, POST, PUT, DELETE"
    /// What a script may read besides the CORS-safelisted headers: validators, an upload's `Location`, a range's
    /// extent, when to retry, the usage plan's counters.
    static let exposedHeaders =
        "ETag, Location, Content-Range, Content-Length, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
    /// How long a browser may keep a preflight's answer, in seconds.
    package static let maxAge = "600"
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
        if request.method == .options, let method = request.headers[.accessControlRequestMethod],
            let fields = policy.preflight(
                origin: origin, method: method, requested: request.headers[.accessControlRequestHeaders])
        {
            return Response(status: .noContent, headers: fields)
        }
        var response = try await next(request, context)
        policy.decorate(&response.headers, origin: origin)
        return response
    }
}
