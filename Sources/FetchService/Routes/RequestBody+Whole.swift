// A small request body read whole (a route's JSON or XML document), and why it could not be: too long, cut short by
// the client's end, broken framing, a broken connection. Each front door answers these in its own words (the HTTP
// API's 413 and 400 `malformed_request`, S3's `IncompleteBody`, Lambda's `InvalidRequestContentException`): they are
// the client's doing, never the server's 500 (until session 33 a cut body was one, logged as an error).
import Hummingbird
import NIOCore
import NIOHTTP1

extension RequestBody {
    /// Why a body could not be read whole.
    package struct Unreadable: Error, CustomStringConvertible {
        /// What kept the body from being read whole.
        package enum Reason: Sendable {
            /// Longer than the limit (by its Content-Length, or as it came).
            case overLimit(Int)
            /// The decoder could not read on: the client's end came inside the body (`invalidEOFState`), or its
            /// chunked framing broke.
            case broken(HTTPParserError)
            /// The body ended before its Content-Length without an error (the connection went away).
            case endedEarly
            /// Reading failed otherwise (the connection broke).
            case interrupted(String)
        }

        /// What kept the body from being read whole.
        package var reason: Reason
        /// The body's bytes read before it failed.
        package var received: Int
        /// The body's Content-Length, when sent.
        package var declared: Int?

        /// What went wrong, in a sentence without a leading capital.
        package var description: String {
            let of = declared.map { " of \($0)" } ?? ""
            switch reason {
            case .overLimit(let limit):
                return "the body is over the \(limit) bytes this request may have"
            case .broken(.invalidEOFState), .endedEarly:
                return "the body cannot be read after \(received)\(of) bytes: it was cut short, the client's side of "
                    + "the connection ended inside it"
            case .broken(let error):
                return "the body cannot be read after \(received) bytes (\(error))"
            case .interrupted(let error):
                return "the body cannot be read after \(received)\(of) bytes: the connection broke (\(error))"
            }
        }
    }

    /// The whole body, refused past `limit` bytes (at once when its Content-Length says so).
    /// - Parameter declared: the request's Content-Length, when sent.
    package func whole(upTo limit: Int, declared: Int?) async throws(Unreadable) -> ByteBuffer {
        if let declared, declared > limit {
            throw Unreadable(reason: .overLimit(limit), received: 0, declared: declared)
        }
        var collected = ByteBuffer()
        do {
            for try await part in self {
                guard collected.readableBytes + part.readableBytes <= limit else {
                    throw Unreadable(reason: .overLimit(limit), received: collected.readableBytes, declared: declared)
                }
                collected.writeImmutableBuffer(part)
            }
        } catch let error as Unreadable {
            throw error
        } catch let error as HTTPParserError {
            throw Unreadable(reason: .broken(error), received: collected.readableBytes, declared: declared)
        } catch {
            throw Unreadable(
                reason: .interrupted(String(describing: error)), received: collected.readableBytes, declared: declared)
        }
        if let declared, collected.readableBytes < declared {
            throw Unreadable(reason: .endedEarly, received: collected.readableBytes, declared: declared)
        }
        return collected
    }
}

extension APIError {
    /// The answer to a small body that could not be read whole: 413 `body_too_large` past the route's limit, 400
    /// `malformed_request` (the connection closes) when it was cut short or its framing broke.
    init(_ unreadable: RequestBody.Unreadable) {
        if case .overLimit = unreadable.reason {
            self.init(.contentTooLarge, code: "body_too_large", message: unreadable.description)
        } else {
            self = .malformedBody(unreadable.description)
        }
    }
}

extension Request {
    /// The whole body of a route that takes a small document (JSON), up to `limit` bytes.
    /// - Throws: `APIError` 413 `body_too_large` past `limit` (the rest is not read: the connection closes after
    ///   the answer), 400 `malformed_request` for a body cut short or whose framing broke.
    func wholeBody(upTo limit: Int, context: FetchRequestContext) async throws -> ByteBuffer {
        context.willReadBody()
        do {
            return try await body.whole(upTo: limit, declared: headers[.contentLength].flatMap { Int($0) })
        } catch {
            if case .overLimit = error.reason { context.stopReading() }
            throw APIError(error)
        }
    }
}
