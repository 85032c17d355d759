// Outermost middleware: every error becomes the JSON error body, and every answer is counted by route and status.
import Hummingbird
import Logging
import PipelineCore

/// Turns any error into `{"error": {...}}` and records HTTP metrics.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = FetchRequestContext
    let metrics: HTTPMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let converted: APIError
            switch error.status {
            case .notFound where context.endpointPath == nil || context.endpointPath == "NotFound":
                converted = .routeNotFound(request.uri.path)
            default:
                converted = APIError(error)
            }
            response = try converted.response(from: request, context: context)
        } catch {
            switch StoreHealth.shared.recordFailure(error) {
            case .full?:
                response = try APIError.insufficientStorage("store the request")
                    .response(from: request, context: context)
            case .readOnly?:
                response = try APIError.storeReadOnly("store the request").response(from: request, context: context)
            default:
                if TransientFailures.mayPass(error) {
                    // A database out of reach (a restart, a cut network) is an outage the pool logs once, not a
                    // failure of this request: 503 with a time to come back, as POST answers while it lasts.
                    var headers = HTTPFields()
                    headers[.retryAfter] = "5"
                    response = try APIError(
                        .serviceUnavailable, code: "unavailable",
                        message: "the database is out of reach; try again shortly (GET /healthz says more)",
                        headers: headers
                    ).response(from: request, context: context)
                    break
                }
                logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                response = try APIError.internalError("the server failed to answer; see its log")
                    .response(from: request, context: context)
            }
        }
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        metrics.record(
            route: route, method: request.method.rawValue, status: response.status.code,
            duration: ContinuousClock.now - start)
        return response
    }
}
