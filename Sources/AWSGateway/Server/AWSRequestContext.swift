// The request context of the AWS listener: Hummingbird's core context and the connection, so a refused upload
// (EntityTooLarge) stops the connection's reading instead of draining the rest.
import FetchService
import Hummingbird
import NIOCore

/// Hummingbird's core context and the request's channel.
public struct AWSRequestContext: RequestContext {
    /// The core context.
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel

    /// - Parameter source: what the application gives each request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Stops reading the connection; the answer is still written, then the connection closes.
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
