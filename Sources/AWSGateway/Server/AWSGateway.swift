// The AWS front door's server: its own listener, SigV4 on every request, then S3 (path-style) or Lambda, with the
// HTTP API's connection limits and its upload, delete and invoke paths.
import FetchService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PipelineCore
import ServiceLifecycle

/// The S3 and Lambda APIs, ready to run as a `Service`.
public struct AWSGateway: Sendable, CustomStringConvertible {
    /// Its name in ServiceLifecycle's logs (not a reflection dump of the gateway).
    public var description: String { "AWSGateway" }

    /// The listener, with SigV4 and the two APIs behind the raw path.
    let listener: HTTPListener
    let executor: EventLoopTaskExecutor
    let overrides: FunctionOverrides
    let runtime: FunctionRuntime
    /// Aborts abandoned multipart uploads, at start and then every hour.
    let expiry: MultipartExpiry

    /// Builds the listener over the fetch service's store, index and upload checks.
    /// - Parameters:
    ///   - settings: the `aws` settings.
    ///   - fetch: the HTTP API, whose upload and delete paths an S3 request takes.
    ///   - http: the HTTP settings (connection limits, body limit, header limits) the AWS listener shares.
    ///   - metrics: the HTTP instruments (open connections count both listeners).
    ///   - onServerRunning: called with the bound port once the server listens.
    public static func build(
        settings: AWSGatewaySettings, fetch: FetchApplication, http: FetchSettings, metrics: HTTPMetrics,
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> AWSGateway {
        let images = fetch.api
        let layout = images.runtime.layout
        let swept = S3BodySpool.sweep(layout.uploads)
        if swept > 0 { logger.notice("removed unfinished S3 uploads", metadata: ["count": "\(swept)"]) }
        let overrides = FunctionOverrides(layout: layout)
        overrides.applyAll(to: images.runtime)
        let authenticator = RequestAuthenticator(credentials: settings.credentials, region: settings.region)
        let s3 = S3API(images: images, region: settings.region, crossOrigin: settings.crossOrigin, logger: logger)
        let expiry = MultipartExpiry(uploads: s3.multipart, expiry: settings.multipartExpiry, logger: logger)
        expiry.sweep(now: Date())
        let responder = AWSResponder(
            authenticator: authenticator,
            s3: s3,
            lambda: LambdaAPI(runtime: images.runtime, overrides: overrides, region: settings.region, logger: logger),
            crossOrigin: settings.crossOrigin, logger: logger)
        var serverSettings = http
        serverSettings.listen = settings.listen
        let listener = HTTPListener(
            responder: responder, settings: serverSettings, metrics: metrics,
            shortcut: S3Shortcut(
                authenticator: authenticator, s3: s3, crossOrigin: settings.crossOrigin, metrics: metrics),
            serverName: "picpipe", refusals: .s3,
            group: FetchApplication.group, logger: logger, onServerRunning: onServerRunning)
        return AWSGateway(
            listener: listener, executor: EventLoopTaskExecutor(group: FetchApplication.group),
            overrides: overrides, runtime: images.runtime, expiry: expiry)
    }

    /// Applies the Lambda API's saved function settings again (after a configuration reload replaced them).
    public func reapplyFunctionOverrides() {
        overrides.applyAll(to: runtime)
    }
}

extension AWSGateway: Service {
    /// Runs the server until graceful shutdown.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [expiry] in await expiry.run() }
            // The sweep ends with the listener, however that ends.
            defer { group.cancelAll() }
            try await withTaskExecutorPreference(executor) { try await listener.run() }
        }
    }
}

/// Authenticates each request and hands it to S3 or Lambda; errors are answered in the API's own form.
struct AWSResponder: HTTPResponder {
    typealias Context = AWSRequestContext
    let authenticator: RequestAuthenticator
    let s3: S3API
    let lambda: LambdaAPI
    /// Which web pages' scripts may call: preflights answered, CORS fields on every answer.
    let crossOrigin: CrossOriginPolicy
    let logger: Logger

    /// The service a request is for: the one its signature's credential scope names (`…/us-east-1/lambda/aws4_request`,
    /// in the Authorization header or a presigned URL's `X-Amz-Credential`), else the one its path belongs to. Lambda
    /// operations live under several API versions (`/2019-09-30/…/concurrency`, `/2016-08-19/account-settings`): by
    /// the path alone, one picpipe does not implement was taken for S3 and refused in S3's words.
    static func service(of signed: SignedRequest) -> AWSService {
        let credential =
            signed.header("authorization").flatMap {
                RequestAuthenticator.authorizationFields(String($0.drop { $0 != " " }))["Credential"]
            } ?? signed.queryPairs.first { $0.0 == "X-Amz-Credential" }?.1
        if let scope = credential?.split(separator: "/"), scope.count == 5,
            let service = AWSService(rawValue: String(scope[3]))
        {
            return service
        }
        return LambdaAPI.handles(signed.path) ? .lambda : .s3
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = AWSResponses.requestID()
        let signed = Self.signedRequest(request)
        let service = Self.service(of: signed)
        let origin = request.headers[.origin]
        // A browser's preflight carries no signature: it asks whether the page's origin may send the request.
        if request.method == .options {
            var response = preflight(request, requestID: requestID)
            response.headers[AWSResponses.name("x-amz-request-id")] = requestID
            return response
        }
        var response: Response
        /// An error as the API asked answers it: Lambda's JSON or S3's XML.
        func errorAnswer(_ error: AWSError) -> Response {
            service == .lambda
                ? AWSResponses.lambdaError(error, requestID: requestID)
                : AWSResponses.s3Error(error, requestID: requestID, head: request.method == .head)
        }
        do {
            if service == .lambda {
                response = try await globalExecutor {
                    let buffer: ByteBuffer
                    // The signature covers the body: it is read before anything can be checked.
                    context.willReadBody()
                    let declared = request.headers[.contentLength].flatMap { Int($0) }
                    do throws(RequestBody.Unreadable) {
                        buffer = try await request.body.whole(upTo: LambdaAPI.maxPayload + 1, declared: declared)
                    } catch {
                        if case .overLimit = error.reason {
                            context.stopReading()
                            throw AWSError(
                                "RequestEntityTooLargeException", status: 413,
                                "Request must be smaller than \(LambdaAPI.maxPayload) bytes for the InvokeFunction operation"
                            )
                        }
                        // Cut short or broken: until session 33 called too large too.
                        throw AWSError.invalidRequestContent("Could not read the request body (\(error)).")
                    }
                    let body = Data(buffer.readableBytesView)
                    let auth = try authenticator.authenticate(
                        signed, service: .lambda, bodyHash: SignatureV4.hexSHA256(body))
                    return try await lambda.respond(
                        to: request, path: signed.path, query: signed.queryItems, body: body, auth: auth,
                        requestID: requestID)
                }
            } else {
                if Self.isBrowserFormUpload(request, signed: signed), case (let bucket?, nil) = S3API.split(signed.path)
                {
                    // Signed by its policy, which is in the body, not by a header or a URL.
                    response = try await globalExecutor {
                        try await s3.postObject(
                            request, bucketName: bucket, authenticator: authenticator, context: context)
                    }
                } else {
                    let auth = try authenticator.authenticate(signed, service: .s3)
                    if request.method == .get || request.method == .head {
                        response = try await s3.respond(to: request, signed: signed, auth: auth, context: context)
                    } else {
                        // Uploads hash, write and take SQLite locks: off the event loops.
                        response = try await globalExecutor {
                            try await s3.respond(to: request, signed: signed, auth: auth, context: context)
                        }
                    }
                }
            }
        } catch let error as AWSError {
            // A 501 answers what the client asked for (an operation picpipe lacks), a 503 or 507 a state the store
            // or the database reports once (busy, full, out of reach): not failures of picpipe's to log each time.
            if error.status >= 500 && ![501, 503, 507].contains(error.status) {
                logger.error("AWS request failed", metadata: ["path": "\(signed.path)", "error": "\(error)"])
            }
            response = errorAnswer(error)
        } catch let error where TransientFailures.mayPass(error) {
            // The database out of reach (a restart, a cut network): an outage its pool logs once, answered as the
            // HTTP API answers it, 503 with a time to come back, which every SDK retries (until session 33 a 500
            // InternalError with the driver's words, and an error line per request).
            let outage = AWSError(
                service == .lambda ? "ServiceException" : "ServiceUnavailable", status: 503,
                "The database is out of reach; please try again shortly.")
            response = errorAnswer(outage)
            response.headers[.retryAfter] = "5"
        } catch {
            logger.error("AWS request failed", metadata: ["path": "\(signed.path)", "error": "\(error)"])
            let failure = AWSError(
                "InternalError", status: 500, "We encountered an internal error. Please try again. (\(error))")
            response = errorAnswer(
                service == .lambda ? AWSError("ServiceException", status: 500, failure.message) : failure)
        }
        if service == .s3 { response.headers[AWSResponses.name("x-amz-request-id")] = requestID }
        crossOrigin.decorate(&response.headers, origin: origin)
        return response
    }

    /// S3's answer to `OPTIONS`: 200 with the CORS fields when `aws.cors_origins` allows the origin and method,
    /// else 403 `AccessForbidden` in S3's words.
    func preflight(_ request: Request, requestID: String) -> Response {
        guard let origin = request.headers[.origin], let method = request.headers[.accessControlRequestMethod] else {
            return AWSResponses.s3Error(
                AWSError(
                    "BadRequest", status: 400,
                    "Insufficient information. Origin request header needed (and Access-Control-Request-Method)."),
                requestID: requestID, head: false)
        }
        guard crossOrigin.isEnabled else {
            return AWSResponses.s3Error(
                AWSError(
                    "AccessForbidden", status: 403,
                    "CORSResponse: CORS is not enabled for this bucket (list the page's origin in aws.cors_origins)."),
                requestID: requestID, head: false)
        }
        guard
            let fields = crossOrigin.preflight(
                origin: origin, method: method, requested: request.headers[.accessControlRequestHeaders])
        else {
            return AWSResponses.s3Error(
                AWSError(
                    "AccessForbidden", status: 403,
                    "CORSResponse: This CORS request is not allowed: the origin \(origin) or the method \(method) is not in aws.cors_origins' rule."
                ),
                requestID: requestID, head: false)
        }
        return AWSResponses.empty(.ok, headers: fields)
    }

    /// S3's POST Object: a form posted to a bucket (`multipart/form-data`, no key in the path), signed by the policy
    /// among its fields.
    static func isBrowserFormUpload(_ request: Request, signed: SignedRequest) -> Bool {
        guard request.method == .post, case (_?, nil) = S3API.split(signed.path) else { return false }
        return request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true
    }

    private func globalExecutor<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(globalConcurrentExecutor) { try await body() }
    }

    /// The request as SigV4 sees it: the raw path and query as sent, every header including Host.
    static func signedRequest(_ request: Request) -> SignedRequest { signedRequest(request.head) }

    /// A request head as SigV4 sees it: path and raw query apart, `host` from the authority, every header.
    static func signedRequest(_ head: HTTPRequest) -> SignedRequest {
        let target = head.path ?? "/"
        let path: String
        let query: String
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
            query = ""
        }
        var headers: [(String, String)] = []
        headers.reserveCapacity(head.headerFields.count + 1)
        if let authority = head.authority { headers.append(("host", authority)) }
        for field in head.headerFields { headers.append((field.name.canonicalName, field.value)) }
        return SignedRequest(method: head.method.rawValue, path: path, query: query, headers: headers)
    }
}
