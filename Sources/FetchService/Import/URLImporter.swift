// Fetching a picture by URL, safe by default as imgproxy is: http and https only; every address the host resolves
// to checked before connecting, on the first request and on every redirect; every connection made to the checked
// address itself (plain http by address, https through a client whose DNS override pins the name to it while the
// certificate is still checked against the name), so a second DNS answer cannot swap it; connect and total
// timeouts; the size capped
// while the body streams; the type sniffed from the bytes by the spool, never taken from the headers.
import AsyncHTTPClient
import Foundation
import Locking
import NIOCore
import NIOHTTP1
import NIOPosix
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Opens import URLs.
public struct URLImporter: Sendable {
    /// The limits (`import` section).
    public let settings: ImportSettings
    private let policy: AddressPolicy
    private let threadPool: NIOThreadPool

    /// - Parameters:
    ///   - settings: the `import` section.
    ///   - threadPool: where name lookups (blocking getaddrinfo) run.
    public init(settings: ImportSettings, threadPool: NIOThreadPool = .singleton) {
        self.settings = settings
        policy = AddressPolicy(allow: settings.allow)
        self.threadPool = threadPool
    }

    /// A source that answered 2xx: its body (to stream into a spool) and where it was found after redirects.
    public struct Source: Sendable {
        /// The body, read at most once.
        public let body: Body
        /// The Content-Length the source declared.
        public let declaredLength: Int?
        /// The URL that answered (the last redirect's).
        public let finalURL: String
        /// How a refusal names it: the URL asked for, and where redirects led when they did (`label`).
        public let label: String
    }

    /// Runs `body` (opening and reading the source at `url`) within `import.timeout`, else 422 `import_timeout`.
    public func withinTimeout<T: Sendable>(
        _ url: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let seconds = settings.timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw timedOut(url) }
            return value
        }
    }

    /// 422 `import_timeout` (422, not 504: the request was fine, the URL cannot be made into a picture in time),
    /// the same whichever clock ran out: this one's or the HTTP client's deadline, which is the same length. Until
    /// session 31 the two raced, and the same hanging source got import_timeout or import_failed "no answer within
    /// import.timeout".
    public func timedOut(_ url: String) -> APIError {
        APIError(
            .unprocessableContent, code: "import_timeout",
            message: "\(Self.shown(url)): the import did not finish within \(Self.seconds(settings.timeout)) s "
                + "(import.timeout); nothing was kept")
    }

    /// Follows the URL through at most `import.max_redirects` redirects to a 2xx answer and hands its body to `read`.
    /// - Throws: `APIError` 400 `url_refused` (scheme, address, credentials in the URL), 422 `import_failed` (no
    ///   answer, an error status, too many redirects; 422, not a 5xx: picpipe did not fail, the URL does not lead
    ///   to a picture), 413 `import_too_large` (a declared length over the cap), 415 `unsupported_media_type` (a
    ///   body in a content coding), 422 `import_timeout` (the HTTP client's deadline); and what `read` throws. Each message starts with `label`: the URL once, and where
    ///   redirects led (until session 31 a refused address, a redirect limit and a size cap did not name the URL).
    public func open<T: Sendable>(_ text: String, read: (Source) async throws -> T) async throws -> T {
        var current = try Self.parse(text)
        var hops = 0
        while true {
            let label = Self.label(text, redirectedTo: hops > 0 ? current.absoluteString : nil)
            let hop: Hop
            do {
                hop = try await prepare(current)
            } catch let error as APIError {
                throw error.labelled(label)
            }
            // An https hop has a client of its own (its DNS override is the checked address), shut down once the
            // body is read or the redirect followed.
            let client = hop.pinnedName.map {
                Self.pinnedClient(host: $0.host, address: $0.address, connectTimeout: settings.connectTimeout)
            }
            defer { if let client { Self.shutDown(client) } }
            let response: HTTPClientResponse
            do {
                response = try await (client ?? Self.client(connectTimeout: settings.connectTimeout)).execute(
                    hop.request, deadline: .now() + .milliseconds(Int64(settings.timeout * 1000)))
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as HTTPClientError where error == .deadlineExceeded {
                throw timedOut(text)
            } catch {
                let reason = Self.reason(error, host: current.host ?? "", tls: current.scheme == "https")
                throw Self.failed("\(label): \(reason)")
            }
            let status = Int(response.status.code)
            if (300..<400).contains(status), status != 304 {
                guard let location = response.headers.first(name: "location"),
                    let next = URL(string: location, relativeTo: current)?.absoluteURL
                else { throw Self.failed("\(label): the source answered \(status) without a usable Location") }
                hops += 1
                guard hops <= settings.maxRedirects else {
                    throw Self.failed(
                        "\(Self.shown(text)): more than \(settings.maxRedirects) redirects (import.max_redirects), "
                            + "the last to \(Self.shown(next.absoluteString))")
                }
                current = try Self.parse(
                    next.absoluteString, label: Self.label(text, redirectedTo: next.absoluteString))
                continue
            }
            guard (200..<300).contains(status) else { throw Self.failed("\(label): the source answered \(status)") }
            if let coding = Self.contentCoding(response.headers) { throw Self.encoded(label, coding: coding) }
            let declared = response.headers.first(name: "content-length").flatMap { Int($0) }
            if let declared, declared > settings.maxBytes { throw tooLarge(label) }
            let body = Body(
                base: response.body, label: label, host: current.host ?? "", declaredLength: declared,
                timedOut: timedOut(text))
            return try await read(
                Source(body: body, declaredLength: declared, finalURL: current.absoluteString, label: label))
        }
    }

    /// A source's body as it streams: a connection that ends or breaks before the body's end is 422
    /// `import_failed` naming the URL and the bytes that came, so an Event import is retried (until session 31 the
    /// HTTP client's error reached the upload spool, which read it as a client's malformed request: 400
    /// `malformed_request` "the connection is closed", not retried).
    public struct Body: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let base: HTTPClientResponse.Body
        /// How a message names the source (`URLImporter.label`).
        let label: String
        /// The source's host (named in TLS failures).
        let host: String
        /// The Content-Length the source declared.
        let declaredLength: Int?
        /// What the HTTP client's deadline mid-body is: the import's timeout.
        let timedOut: APIError

        /// Counts the bytes and names a broken-off body.
        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: HTTPClientResponse.Body.AsyncIterator
            let label: String
            let host: String
            let declaredLength: Int?
            let timedOut: APIError
            var received = 0

            public mutating func next() async throws -> ByteBuffer? {
                do {
                    let chunk = try await base.next()
                    received += chunk?.readableBytes ?? 0
                    return chunk
                } catch is CancellationError {
                    throw CancellationError()
                } catch let error as HTTPClientError where error == .deadlineExceeded {
                    throw timedOut
                } catch {
                    let reason = URLImporter.brokenOff(error, host: host, received: received, declared: declaredLength)
                    throw URLImporter.failed("\(label): \(reason)")
                }
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(
                base: base.makeAsyncIterator(), label: label, host: host, declaredLength: declaredLength,
                timedOut: timedOut)
        }
    }

    /// Why a body ended early, with the bytes that came (of the declared length, when there was one).
    static func brokenOff(_ error: any Error, host: String, received: Int, declared: Int?) -> String {
        let count = declared.map { "\(received) of \($0) bytes" } ?? "\(received) bytes"
        // The parser's "stream ended at an unexpected time": the connection closed inside a declared length or
        // before the last chunk.
        if let parser = error as? HTTPParserError, parser == .invalidEOFState {
            return "the source closed the connection after \(count)"
        }
        if let client = error as? HTTPClientError, client == .remoteConnectionClosed {
            return "the source closed the connection after \(count)"
        }
        return "the body broke off after \(count): \(reason(error, host: host))"
    }

    /// The content codings of an answer's body (`Content-Encoding`) but `identity`, as the source wrote them; `nil`
    /// when there are none.
    static func contentCoding(_ headers: HTTPHeaders) -> String? {
        let codings = headers["content-encoding"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0.lowercased() != "identity" }
        return codings.isEmpty ? nil : JSONText.printable(codings.joined(separator: ", "))
    }

    /// 415 for a body the source sent in a content coding: picpipe asks for none (no `Accept-Encoding`) and decodes
    /// none, so what came is not the picture's bytes. Until session 34 a gzip-encoded JPEG was sniffed and refused as
    /// "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image", blaming an intact picture, and a coding named around the
    /// plain bytes went unnoticed. Not decoded: only a misconfigured source sends a coding unasked, and inflating a
    /// hostile source's bytes (a gzip bomb grows a thousandfold) is surface the import does not need.
    static func encoded(_ label: String, coding: String) -> APIError {
        APIError.unsupportedMediaType(
            "\(label): the source sent the picture with Content-Encoding: \(coding), which picpipe neither asks for "
                + "nor decodes; nothing was kept")
    }

    /// 413 `import_too_large` for the source `label` names.
    public func tooLarge(_ label: String) -> APIError {
        APIError(
            .contentTooLarge, code: "import_too_large",
            message: "\(label): the source is larger than \(settings.maxBytes) bytes (import.max_bytes); "
                + "nothing was kept")
    }

    /// One hop's request, made after its host's addresses are checked.
    private struct Hop {
        var request: HTTPClientRequest
        /// For https by name: the name and the checked address its connection must go to.
        var pinnedName: (host: String, address: String)?
    }

    /// The request for one hop, after its host's addresses are checked; the connection goes to the checked address
    /// (plain http by rewriting the URL with the original Host header, https by the pinned client's DNS override).
    /// - Throws: `APIError`s whose messages do not name the URL (the caller labels them).
    private func prepare(_ url: URL) async throws -> Hop {
        // parse refused a URL without a host.
        let host = url.host ?? ""
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let addresses = try await resolve(host, port: port)
        for address in addresses {
            if let reason = policy.refusal(for: address) {
                throw Self.refused("\(reason); such addresses are refused unless import.allow lists them")
            }
        }
        var url = url.absoluteString
        var hostHeader: String?
        var pinnedName: (host: String, address: String)?
        if let pinned = addresses.first, IPAddress(host) == nil {
            if url.hasPrefix("http:"), var components = URLComponents(string: url) {
                components.host = pinned.isIPv4 ? pinned.description : "[\(pinned.description)]"
                if let pinnedURL = components.url?.absoluteString {
                    hostHeader = components.port.map { "\(host):\($0)" } ?? host
                    url = pinnedURL
                }
            } else {
                pinnedName = (host, pinned.description)
            }
        }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        if let hostHeader { request.headers.add(name: "Host", value: hostHeader) }
        request.headers.add(name: "User-Agent", value: "picpipe-import")
        request.headers.add(name: "Accept", value: Self.accept)
        return Hop(request: request, pinnedName: pinnedName)
    }

    /// The Accept of every request: each type the store takes (the uploads' list), then anything at a low q.
    /// Until session 31 only JPEG and PNG were asked for, so a source that negotiates answered 406 for a WebP it
    /// had, or sent a JPEG re-encoded from it. The `*/*` at q 0.1, as browsers end an image's Accept (imgproxy
    /// sends none, which means the same): a source that knows only its own type answers instead of 406, a source
    /// that negotiates still picks a listed type first, and what comes is sniffed from its bytes anyway.
    static let accept = UploadBody.imageTypes.joined(separator: ", ") + ", */*;q=0.1"

    /// Every address the host resolves to (an address literal is itself).
    private func resolve(_ host: String, port: Int) async throws -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        let found: [IPAddress] = try await threadPool.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                throw Self.failed("the host \(host) could not be resolved (\(String(cString: gai_strerror(status))))")
            }
            defer { freeaddrinfo(first) }
            var addresses: [IPAddress] = []
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                if let socketAddress = current.pointee.ai_addr {
                    if current.pointee.ai_family == AF_INET {
                        let v4 = UnsafeRawPointer(socketAddress).assumingMemoryBound(to: sockaddr_in.self).pointee
                        addresses.append(IPAddress(bytes: withUnsafeBytes(of: v4.sin_addr) { Array($0) }))
                    } else if current.pointee.ai_family == AF_INET6 {
                        let v6 = UnsafeRawPointer(socketAddress).assumingMemoryBound(to: sockaddr_in6.self).pointee
                        addresses.append(IPAddress(bytes: withUnsafeBytes(of: v6.sin6_addr) { Array($0) }))
                    }
                }
                entry = current.pointee.ai_next
            }
            return addresses
        }
        guard !found.isEmpty else { throw Self.failed("the host \(host) has no address") }
        return found
    }

    /// Parses an import URL: http or https, a host, no user or password, a TCP port.
    /// - Parameter label: how a refusal names it (a redirect's: `label(_:redirectedTo:)`); the URL itself by
    ///   default.
    static func parse(_ text: String, label: String? = nil) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else {
            throw refused(
                label.map { "\($0): not a URL" } ?? "'\(JSONText.printable(String(text.prefix(200))))' is not a URL")
        }
        let label = label ?? shown(text)
        guard scheme == "http" || scheme == "https" else {
            throw refused("\(label): only http and https URLs are imported, not \(JSONText.printable(scheme))")
        }
        guard url.user == nil, url.password == nil else {
            throw refused("\(label): a URL with a user or password is refused")
        }
        // Here, not when connecting: `http:///x` and `http:host/x` were journaled and dead-lettered (until session 31).
        guard let host = url.host, !host.isEmpty else { throw refused("\(label): the URL has no host") }
        // Checked here, for the first URL and every redirect: the HTTP client traps on a port past 65535.
        if let port = url.port, !(1...65535).contains(port) {
            throw refused("\(label): port \(port) is not a TCP port (1-65535)")
        }
        return url
    }

    /// How messages name a URL: as given, but with `***` for a user and password (not repeated in journals and
    /// logs).
    public static func shown(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.user != nil || components.password != nil
        else { return JSONText.printable(text) }
        components.password = nil
        components.percentEncodedUser = "***"
        return JSONText.printable(components.string ?? "a URL with a user or password")
    }

    /// How a refusal names the import: the URL asked for, and where redirects led when they did.
    static func label(_ asked: String, redirectedTo hop: String?) -> String {
        guard let hop else { return shown(asked) }
        return "\(shown(asked)) (redirected to \(shown(hop)))"
    }

    static func refused(_ message: String) -> APIError {
        APIError(.badRequest, code: "url_refused", message: message)
    }

    static func failed(_ message: String) -> APIError {
        APIError(.unprocessableContent, code: "import_failed", message: message + "; nothing was kept")
    }

    /// Why a request failed, in words (until session 31 the HTTP client's, NIO's or BoringSSL's error printed as a
    /// Swift value: "HTTPClientError.remoteConnectionClosed", "invalid constant string", a TLS handshake failure
    /// in BoringSSL's terms).
    static func reason(_ error: any Error, host: String, tls: Bool = false) -> String {
        NetworkFailure.reason(
            error, host: host, tls: tls, connectTimeout: "import.connect_timeout", timeout: "import.timeout")
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// One client per connect timeout, kept for the process's life (a client must be shut down before it is
    /// released; these never are). Redirects are followed here, one checked hop at a time, never by the client.
    private static let clients = Locked<[Int64: HTTPClient]>([:])

    static func client(connectTimeout: Double) -> HTTPClient {
        let milliseconds = Int64(connectTimeout * 1000)
        return clients.withLock { clients in
            if let client = clients[milliseconds] { return client }
            let client = HTTPClient(
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                configuration: configuration(connectTimeout: connectTimeout))
            clients[milliseconds] = client
            return client
        }
    }

    /// A client for one https hop whose connections go to `address` while TLS still names and verifies `host`
    /// (AsyncHTTPClient's DNS override sets the SNI to the name); shut it down with `shutDown`.
    static func pinnedClient(host: String, address: String, connectTimeout: Double) -> HTTPClient {
        var configuration = configuration(connectTimeout: connectTimeout)
        configuration.dnsOverride = [host: address]
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// An import client's settings: no redirects (each hop is checked here), no decompression, HTTP/1.1, a
    /// connection of its own for every import, and a failed connection fails the request at once. AsyncHTTPClient
    /// otherwise tries again with backoff until the connect timeout, so until session 31 a refused connection took
    /// all of import.connect_timeout (5 s by default, each attempt) and a refused TLS certificate was reported then.
    /// The fetch function retries an Event import.
    static func configuration(connectTimeout: Double) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(connectTimeout * 1000))),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        configuration.connectionPool.retryConnectionEstablishment = false
        // No cap per host: the imports running at once are bounded already (the fetch workers, http.max_connections),
        // and each is bounded by import.timeout. With AsyncHTTPClient's default of 8, a ninth import from a host
        // waited for one of the 8 connections only import.connect_timeout, then failed "get connection from pool
        // timeout" (until session 34), so 8 slow or hanging imports from a host failed everyone else's from it.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Int.max
        return configuration
    }

    /// Shuts a hop's client down without waiting (its connections close in the background).
    static func shutDown(_ client: HTTPClient) {
        client.shutdown { _ in }
    }
}

extension APIError {
    /// The same error, its message prefixed with `label` (`URL: …`).
    func labelled(_ label: String) -> APIError {
        APIError(status, code: code, message: "\(label): \(message)", headers: headers)
    }
}
