// The request context of the fetch service: Hummingbird's basic context plus the connection, so a route that
// refuses a body it has not read (413, 408, 415) can stop the connection instead of draining gigabytes.
import Hummingbird
import NIOCore

/// Hummingbird's core context and the request's channel.
public struct FetchRequestContext: RequestContext {
    /// The core context (logger, allocator, parameters, endpoint path).
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel
    /// Who sent the request, once its credentials are checked (`nil`: anonymous or a signed URL).
    public var caller: Caller?
    /// The request's id (`RequestID`), set by `FetchResponder`: its answer's `X-Request-Id`, an error body's
    /// `request_id`, the log's `request_id`.
    public var requestID = ""
    /// The `LiveAccess` revision the request was admitted under: an event stream checks its credentials again when
    /// a reload changes it.
    var accessRevision: UInt64 = 0

    /// - Parameter source: what the application gives each request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Stops reading the connection: the rest of a refused body is not read (Hummingbird would drain it before
    /// the next request), the answer is still written, then the connection closes.
    func stopReading() {
        ExpectContinue.stopReading(on: channel)
    }

    /// The route is about to read the request's body: a client waiting on `Expect: 100-continue` may send it.
    /// - Parameter minimumRate: an upload's `http.min_upload_rate`: the body's reading fails with `BodyTooSlow`
    ///   once its average falls under it, whether bytes still arrive or not (0: no minimum).
    func willReadBody(minimumRate: Int = 0) {
        ExpectContinue.bodyWanted(on: channel, minimumRate: minimumRate)
    }
}
