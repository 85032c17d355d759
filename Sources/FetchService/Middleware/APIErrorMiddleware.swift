// Outermost middleware: every error becomes the JSON error body, and every answer is counted by route and status.
import Hummingbird
import Logging
import PipelineCore

/// Turns any error into `{"error": {...}}` and records HTTP metrics.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = FetchRequestContext
    let metrics: HTTPMetrics
    let logger: Logger
    /// The routes' paths and their methods: a request the router did not match is a 405 when its path is one of
    /// them (a method no route lists, WebDAV's PROPFIND say).
    let paths: RoutePaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response: Response
        do {
            // Before any route, credential or signature is looked at (this is the outermost middleware but for
            // the cross-origin headers; the shortcuts ahead of the router never answer such a path, as "." and ".."
            // are no id): picpipe does not resolve dot segments, so a path with one is refused whole (until session
            // 36 `/images/./cat1` was a 404 "no route" and `/images/foo/../cat1` a 400 `invalid_id`).
            if RoutePaths.hasDotSegment(request.uri.path) { throw APIError.dotSegment(request.uri.path) }
            response = try await next(request, context)
        } catch {
            let refusal = apiError(error, request: request, context: context)
            // A server failure is logged with what failed (`apiError`); every other refusal at debug, each naming the
            // request's id, which its answer and its JSON body carry: a client's report finds its line.
            if refusal.status != .internalServerError {
                logger.debug(
                    "request refused",
                    metadata: [
                        "request_id": "\(context.requestID)", "method": "\(request.method.rawValue)",
                        "path": "\(request.uri.path)", "status": "\(refusal.status.code)", "code": "\(refusal.code)",
                    ])
            }
            response = refusal.response(from: request, requestID: context.requestID)
        }
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        metrics.record(
            route: route, method: request.method.rawValue, status: response.status.code,
            duration: ContinuousClock.now - start)
        return response
    }

    /// The API's error for what a route threw; a failure of the server itself (500) is logged here, with its cause.
    private func apiError(_ error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            switch error.status {
            case .notFound where context.endpointPath == nil || context.endpointPath == "NotFound":
                let path = request.uri.path
                if let allowed = paths.methods(forPath: path), !allowed.contains(request.method.rawValue) {
                    // Until session 32 only the methods the route table names answered 405 (TRACE, PATCH); any
                    // other was a 404 "no route" for a path that has routes.
                    return .methodNotAllowed(request.method, allowed: allowed)
                }
                return .routeNotFound(path)
            default:
                return APIError(error)
            }
        default:
            switch StoreHealth.shared.recordFailure(error) {
            case .full?:
                return .insufficientStorage("store the request")
            case .readOnly?:
                return .storeReadOnly("store the request")
            default:
                if TransientFailures.mayPass(error) {
                    // A database out of reach (a restart, a cut network) is an outage the pool logs once, not a
                    // failure of this request: 503 with a time to come back, as POST answers while it lasts.
                    var headers = HTTPFields()
                    headers[.retryAfter] = "5"
                    return APIError(
                        .serviceUnavailable, code: "unavailable",
                        message: "the database is out of reach; try again shortly (GET /healthz says more)",
                        headers: headers)
                }
                logger.error(
                    "request failed",
                    metadata: [
                        "request_id": "\(context.requestID)", "path": "\(request.uri.path)", "error": "\(error)",
                    ])
                return .internalError("the server failed to answer; see its log")
            }
        }
    }
}
