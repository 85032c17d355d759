// The whole HTTP API in one place: method + path → named function, like the article's /phonebook → Lambda map.
import Hummingbird

/// One route: what it answers, who may call it, and the function that does the work.
public struct Route: Sendable {
    /// The method.
    public let method: HTTPRequest.Method
    /// The path, with `{parameters}` as in the OpenAPI document.
    public let path: String
    /// The handler's name, which is also the OpenAPI `operationId`.
    public let name: String
    /// Who may call it.
    public let access: RouteAccess
    let handler: @Sendable (Request, FetchRequestContext) async throws -> Response
    /// A scope some of its requests need besides the access's (an import's `functions:invoke`), checked with it,
    /// before the usage plan.
    var additionalScope: (@Sendable (Request) -> Scope?)? = nil
}

/// The route table.
enum RouteTable {
    /// The thumbnail route's path (the hot one: `FetchResponder` answers cached thumbnails before the router).
    static let thumbnailPath = "/images/{id}/thumbnails/{size}"

    /// Every route the server answers, in one list, with HEAD wherever GET is (`withHead`). Methods a path does not
    /// list answer 405.
    static func routes(_ api: ImageAPI) -> [Route] {
        withHead([
            Route(method: .get, path: "/images", name: "listImages", access: .read, handler: api.listImages),
            Route(
                method: .post, path: "/images", name: "uploadImage", access: .write, handler: api.uploadImage,
                additionalScope: { ImportRequest.isImport($0) ? .functionsInvoke : nil }),
            Route(method: .get, path: "/images/{id}", name: "getImage", access: .read, handler: api.getOriginal),
            Route(method: .head, path: "/images/{id}", name: "headImage", access: .read, handler: api.getOriginal),
            Route(method: .put, path: "/images/{id}", name: "putImage", access: .write, handler: api.putImage),
            Route(method: .delete, path: "/images/{id}", name: "deleteImage", access: .write, handler: api.deleteImage),
            Route(
                method: .get, path: thumbnailPath, name: "getThumbnail", access: .signedRead,
                handler: api.getThumbnail),
            Route(
                method: .head, path: thumbnailPath, name: "headThumbnail", access: .signedRead,
                handler: api.getThumbnail),
            Route(
                method: .post, path: "/images/{id}/signed-url", name: "signImageURL", access: .credentialedRead,
                handler: api.signImageURL),
            Route(
                method: .get, path: "/images/{id}/metadata", name: "getMetadata", access: .read,
                handler: api.getMetadata),
            Route(method: .get, path: "/healthz", name: "health", access: .open, handler: api.health),
            Route(method: .get, path: "/metrics", name: "metrics", access: .read, handler: api.metrics),
            Route(method: .get, path: "/openapi.json", name: "openAPIJSON", access: .open, handler: api.openAPIJSON),
            Route(method: .get, path: "/openapi.yaml", name: "openAPIYAML", access: .open, handler: api.openAPIYAML),
            Route(method: .get, path: "/cameras", name: "listCameras", access: .read, handler: api.cameras),
            // Who the credentials name and their scopes: any credentials will do, so a client learns what it may do.
            Route(method: .get, path: "/auth/me", name: "getCaller", access: .credentialed, handler: api.caller),
            // A signed URL is enough for the stream, as for thumbnails: a browser's EventSource cannot send a key.
            Route(
                method: .get, path: "/events/stream", name: "eventStream", access: ImageAPI.eventStreamAccess,
                handler: api.eventStream),
            Route(
                method: .post, path: "/events/stream/signed-url", name: "signEventStreamURL",
                access: .credentialedRead, handler: api.signEventStreamURL),
            // The gallery page: open (it holds no data; its requests to the API carry the key when one is needed).
            Route(method: .get, path: "/", name: "galleryPage", access: .open, handler: api.galleryPage),
            Route(
                method: .get, path: "/gallery/{asset}", name: "galleryAsset", access: .open, handler: api.galleryAsset),
        ])
    }

    /// The routes and, for each GET without a HEAD of its own, a HEAD that answers as the GET without its body
    /// (RFC 9110: a server answers HEAD wherever it answers GET; monitors ask `HEAD /healthz`, link checkers `HEAD /`).
    /// It was a 405. Named as the OpenAPI document names it: `getMetadata` → `headMetadata`, `health` → `headHealth`.
    static func withHead(_ routes: [Route]) -> [Route] {
        let headed = Set(routes.filter { $0.method == .head }.map(\.path))
        // Each HEAD right after its GET, so `Allow` reads "GET, HEAD, POST".
        return routes.flatMap { route -> [Route] in
            guard route.method == .get, !headed.contains(route.path) else { return [route] }
            let stem = route.name.hasPrefix("get") ? String(route.name.dropFirst(3)) : route.name
            let handler = route.handler
            let head = Route(
                method: .head, path: route.path, name: "head" + stem.prefix(1).uppercased() + stem.dropFirst(),
                access: route.access
            ) { request, context in
                var response = try await handler(request, context)
                let length = response.body.contentLength
                response.body = ResponseBody()
                response.headers[.contentLength] = length.map(String.init)
                return response
            }
            return [route, head]
        }
    }

    /// Checks the caller (401, 403), takes its usage (429), runs the handler and adds the usage headers, to its
    /// refusals too: the request was counted either way (until session 32 only answers that were not errors said
    /// what was left).
    private static func authorized(
        _ request: Request, _ context: FetchRequestContext, _ route: Route, _ live: LiveAccess
    ) async throws -> Response {
        var context = context
        let (authorizer, revision) = live.currentWithRevision
        let (caller, headers) = try await authorizer.authorize(
            request, needed: route.access, alsoNeeded: route.additionalScope?(request))
        let handler = route.handler
        context.caller = caller
        context.accessRevision = revision
        do {
            var response = try await handler(request, context)
            for field in headers { response.headers[field.name] = field.value }
            return response
        } catch var error as APIError where !headers.isEmpty {
            for field in headers { error.headers[field.name] = field.value }
            throw error
        } catch let error as HTTPError where !headers.isEmpty {
            var converted = APIError(error)
            for field in headers { converted.headers[field.name] = field.value }
            throw converted
        }
    }

    /// The methods that answer 405 where a path does not list them.
    static let otherMethods: [HTTPRequest.Method] = [
        .get, .head, .post, .put, .delete, .patch, .options, .trace, .connect, HTTPRequest.Method("QUERY")!,
    ]

    /// Registers every route (with its access check) and the 405 answers on a router.
    static func register(
        _ routes: [Route], live: LiveAccess, on router: Router<FetchRequestContext>
    ) {
        var methodsByPath: [String: [HTTPRequest.Method]] = [:]
        var paths: [String] = []
        for route in routes {
            if methodsByPath[route.path] == nil { paths.append(route.path) }
            methodsByPath[route.path, default: []].append(route.method)
            if route.path == thumbnailPath {
                // Cheap unless the thumbnail is made, which runs in its own task: stays on the event loop.
                router.on(RouterPath(route.path), method: route.method) { request, context in
                    try await authorized(request, context, route, live)
                }
            } else {
                // May block (SQLite, uploads, metadata): off the event loops, on the global executor.
                router.on(RouterPath(route.path), method: route.method) { request, context in
                    try await withTaskExecutorPreference(globalConcurrentExecutor) {
                        try await authorized(request, context, route, live)
                    }
                }
            }
        }
        for path in paths {
            let allowed = methodsByPath[path] ?? []
            let allowText = allowed.map(\.rawValue)
            for method in otherMethods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError.methodNotAllowed(request.method, allowed: allowText)
                }
            }
        }
    }
}
