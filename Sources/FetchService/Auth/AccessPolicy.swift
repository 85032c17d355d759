// Who may call a route: API keys and OIDC bearer tokens (Authorization: Bearer …), each with scopes; signed URLs
// for thumbnails.
import Foundation
import Hummingbird
import Logging
import PipelineCore

/// What a route needs.
public enum RouteAccess: String, Sendable {
    /// Anyone (health check).
    case open
    /// A read: public unless `protect_reads` is set.
    case read
    /// A thumbnail read: as `read`, and a valid signed URL is enough.
    case signedRead
    /// A write: credentials whenever any are configured.
    case write
    /// A read that needs credentials whenever any are configured, even with public reads (minting signed URLs).
    case credentialedRead
    /// Credentials whenever any are configured, whatever their scopes (who the caller is, `GET /auth/me`).
    case credentialed

    /// The scope a route with this access and method needs: `images:delete` for DELETE, `images:write` for other
    /// writes, `images:read` for reads, none for open and `credentialed` routes.
    func scope(for method: HTTPRequest.Method) -> Scope? {
        switch self {
        case .open, .credentialed: return nil
        case .read, .signedRead, .credentialedRead: return .imagesRead
        case .write: return method == .delete ? .imagesDelete : .imagesWrite
        }
    }
}

/// Checks requests against the configured keys, the OIDC issuer and the signing keys.
///
/// With no key and no issuer configured the server only listens on loopback (see `ListenAddress.checkExposure`),
/// so local clients may write without credentials.
public struct AccessPolicy: Sendable {
    private let keys: APIKeyring
    private let tokens: TokenVerifier?
    /// Whether reads need credentials too.
    public let protectReads: Bool
    /// The signer for new thumbnail URLs (the newest signing key), when a signing key is configured.
    public let signer: URLSigner?
    /// Every signer whose URLs are accepted: the newest first, then `http.previous_signing_keys`.
    let verifiers: [URLSigner]

    /// - Parameters:
    ///   - apiKeys: the accepted keys with every scope (`http.api_keys`).
    ///   - protectReads: whether reads need credentials.
    ///   - signingKey: the HMAC key for signed thumbnail URLs.
    ///   - previousSigningKeys: older HMAC keys whose URLs still verify.
    ///   - auth: scoped keys and the OIDC issuer.
    ///   - logger: for the issuer's key fetches.
    public init(
        apiKeys: [String], protectReads: Bool, signingKey: String?, previousSigningKeys: [String] = [],
        auth: AuthSettings = AuthSettings(), logger: Logger = Logger(label: "picpipe.auth")
    ) {
        keys = APIKeyring(plainKeys: apiKeys, scopedKeys: auth.apiKeys)
        tokens = auth.oidc.isEnabled ? TokenVerifier(settings: auth.oidc, logger: logger) : nil
        self.protectReads = protectReads && (!keys.isEmpty || tokens != nil)
        signer = signingKey.flatMap { $0.isEmpty ? nil : URLSigner(key: $0) }
        verifiers = (signer.map { [$0] } ?? []) + previousSigningKeys.filter { !$0.isEmpty }.map(URLSigner.init(key:))
    }

    /// Whether any credentials are configured (then writes need them).
    var requiresCredentials: Bool { !keys.isEmpty || tokens != nil }

    /// Whether an OIDC issuer's tokens are accepted (the gallery's key form then takes a token too).
    var acceptsTokens: Bool { tokens != nil }

    /// Throws 401, 403 (naming the missing scope) or 503 unless the request may use a route with this access.
    /// - Returns: the caller, when the request carried credentials (also on routes that need none, for the usage
    ///   plans); `nil` for an anonymous request or one allowed by a signed URL.
    func check(_ access: RouteAccess, request: Request) async throws -> Caller? {
        let scope = access.scope(for: request.method)
        switch access {
        case .open:
            return nil
        case .write, .credentialedRead, .credentialed:
            guard requiresCredentials else { return try await optionalCaller(request) }
            return try await require(scope, request)
        case .read:
            guard protectReads else { return try await optionalCaller(request) }
            return try await require(scope, request)
        case .signedRead:
            if let expires = request.uri.queryParameters["expires"],
                !(Int(expires).map { (0...99_999_999_999).contains($0) } ?? false)
            {
                throw APIError.badRequest("expires must be an integer of seconds since 1970, 0 to 99999999999")
            }
            if let signature = request.uri.queryParameters["sig"] {
                guard !verifiers.isEmpty else {
                    throw APIError.forbidden("signed URLs are not enabled (no http.signing_key)")
                }
                let expires = request.uri.queryParameters["expires"].map(String.init) ?? ""
                let now = Int(Date().timeIntervalSince1970)
                let verdicts = verifiers.lazy.map {
                    $0.verdict(path: request.uri.path, expires: expires, signature: String(signature), now: now)
                }
                if !verdicts.contains(.valid) {
                    if case .expired(let at)? = verdicts.first(where: { $0 != .wrong }) {
                        let time = Timestamp.string(Date(timeIntervalSince1970: Double(at)), fractional: false)
                        throw APIError.forbidden("the signed URL expired at \(time): ask for a new one")
                    }
                    throw APIError.forbidden(
                        "the URL's signature does not match its path and expiry (changed, or signed with a key "
                            + "this server no longer has)")
                }
                // The signature allows the read; credentials sent beside it are still checked (a wrong key is 401).
                _ = try await optionalCaller(request)
                return nil
            }
            guard protectReads else { return try await optionalCaller(request) }
            return try await require(scope, request)
        }
    }

    /// The caller, who must hold `scope`.
    func require(_ scope: Scope?, _ request: Request) async throws -> Caller {
        guard let caller = try await optionalCaller(request) else {
            throw APIError.unauthorized(
                "this request needs credentials: send Authorization: Bearer <API key or token>")
        }
        if let scope, !caller.holds(scope) { throw APIError.insufficientScope(scope, caller: caller) }
        return caller
    }

    /// The caller the request's credentials name; `nil` when it sent none. Credentials that are sent and wrong are
    /// a 401 even where none are needed, so a client learns its key or token is bad.
    func optionalCaller(_ request: Request) async throws -> Caller? {
        guard let header = request.headers[.authorization] else { return nil }
        guard requiresCredentials else { return nil }
        // On the header's UTF-8 bytes: a token is ~800 bytes, and Character counting or Foundation's trimming
        // (which goes through UTF-16) cost the token route a fifth of its requests per second.
        let bytes = header.utf8
        let prefix = "bearer ".utf8
        guard bytes.count > prefix.count,
            bytes.prefix(prefix.count).elementsEqual(prefix, by: { Self.asciiLowercased($0) == $1 })
        else {
            throw APIError.unauthorized("send the API key or token as Authorization: Bearer <key or token>")
        }
        var credential = bytes.dropFirst(prefix.count)
        while let first = credential.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            credential = credential.dropFirst()
        }
        while let last = credential.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            credential = credential.dropLast()
        }
        let sent = String(decoding: credential, as: UTF8.self)
        if let caller = keys.caller(presenting: Array(sent.utf8)) { return caller }
        if let tokens, TokenVerifier.looksLikeJWT(sent) { return try await tokens.caller(for: sent) }
        // A bearer credential that was sent and is not good is `invalid_token` (RFC 6750 §3.1), issuer or not: until
        // session 32 a serve without auth.oidc answered a wrong key `unauthorized` without an error code, as if
        // none had been sent.
        throw APIError.invalidToken(
            tokens != nil
                ? "the bearer credential is neither a configured API key nor a JWT"
                : "the API key is not one of the configured keys")
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
