// Who may call a route: API keys (Authorization: Bearer …) for writes and, when configured, for reads;
// signed URLs for thumbnails.
import Foundation
import Hummingbird

/// What a route needs.
public enum RouteAccess: String, Sendable {
    /// Anyone (health check).
    case open
    /// A read: public unless `protect_reads` is set.
    case read
    /// A thumbnail read: as `read`, and a valid signed URL is enough.
    case signedRead
    /// A write: a key whenever any key is configured.
    case write
}

/// Checks requests against the configured keys and signing key.
///
/// With no key configured the server only listens on loopback (see `ListenAddress.checkExposure`), so local
/// clients may write without one.
public struct AccessPolicy: Sendable {
    private let keys: [[UInt8]]
    /// Whether reads need a key too.
    public let protectReads: Bool
    /// The signer for thumbnail URLs, when a signing key is configured.
    public let signer: URLSigner?

    /// - Parameters:
    ///   - apiKeys: the accepted keys (empty: writes need none).
    ///   - protectReads: whether reads need a key.
    ///   - signingKey: the HMAC key for signed thumbnail URLs.
    public init(apiKeys: [String], protectReads: Bool, signingKey: String?) {
        keys = apiKeys.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.protectReads = protectReads && !apiKeys.isEmpty
        signer = signingKey.flatMap { $0.isEmpty ? nil : URLSigner(key: $0) }
    }

    /// Throws 401 or 403 unless the request may use a route with this access.
    func check(_ access: RouteAccess, request: Request) throws {
        switch access {
        case .open:
            return
        case .write:
            guard !keys.isEmpty else { return }
            try requireKey(request)
        case .read:
            guard protectReads else { return }
            try requireKey(request)
        case .signedRead:
            if let expires = request.uri.queryParameters["expires"], Int(expires) == nil {
                throw APIError.badRequest("expires must be an integer (seconds since 1970)")
            }
            if let signature = request.uri.queryParameters["sig"] {
                guard let signer else { throw APIError.forbidden("signed URLs are not enabled (no http.signing_key)") }
                let expires = request.uri.queryParameters["expires"].map(String.init) ?? ""
                let now = Int(Date().timeIntervalSince1970)
                guard signer.isValid(path: request.uri.path, expires: expires, signature: String(signature), now: now) else {
                    throw APIError.forbidden("the URL signature is wrong or has expired")
                }
                return
            }
            guard protectReads else { return }
            try requireKey(request)
        }
    }

    private func requireKey(_ request: Request) throws {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("this request needs an API key: send Authorization: Bearer <key>")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError.unauthorized("send the API key as Authorization: Bearer <key>")
        }
        let sent = Array(header.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces).utf8)
        var accepted = false
        for key in keys where URLSigner.constantTimeEqual(key, sent) { accepted = true }
        guard accepted else { throw APIError.unauthorized("the API key is not one of the configured keys") }
    }
}
