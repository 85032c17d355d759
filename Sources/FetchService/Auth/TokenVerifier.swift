// Bearer JWTs from the configured OIDC issuer: the header's algorithm is checked against the allowed ones and the
// key's type before any signature is verified (so `none` and an HMAC keyed with a public key never get that far), and
// a header with critical extensions (`crit`) is refused there too; then jwt-kit verifies the signature, then the
// claims are checked with the configured clock skew.
import Foundation
import JWTKit
import Logging
import PipelineCore

/// Turns a token into a caller, or a 401 that says why not.
struct TokenVerifier: Sendable {
    /// The issuer without a trailing slash, to build the discovery URL from.
    let issuer: String
    /// The issuer as configured: a token's `iss` must be exactly this.
    let configuredIssuer: String
    let audience: String
    let algorithms: Set<String>
    let clockSkew: Double
    let scopeClaim: String?
    let keys: JWKSCache
    let verified = VerifiedTokens()

    /// - Parameters:
    ///   - settings: `auth.oidc` (must be enabled).
    ///   - logger: for the key fetches.
    init(settings: OIDCSettings, logger: Logger) {
        var issuer = settings.issuer ?? ""
        configuredIssuer = issuer
        while issuer.hasSuffix("/") { issuer.removeLast() }
        self.issuer = issuer
        audience = settings.audience ?? ""
        algorithms = Set(settings.algorithms)
        clockSkew = settings.clockSkew
        scopeClaim = settings.scopeClaim
        keys = JWKSCache(settings: settings, logger: logger)
    }

    /// Whether the text has a JWT's shape (three base64url parts), so an API key is never sent to the issuer's keys.
    static func looksLikeJWT(_ token: String) -> Bool {
        token.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2 && token.hasPrefix("eyJ")
    }

    /// The caller the token stands for.
    /// - Throws: `APIError.invalidToken` with the reason, or `APIError.issuerUnavailable`.
    func caller(for token: String, now: Date = Date()) async throws -> Caller {
        if let caller = verified.caller(for: token, now: now.timeIntervalSince1970) { return caller }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw APIError.invalidToken("the token is not a JWT (header.payload.signature in base64url)") }
        let algorithm = header["alg"] as? String ?? "(none)"
        guard algorithms.contains(algorithm) else {
            let accepted = algorithms.sorted().joined(separator: ", ")
            throw APIError.invalidToken("the token's algorithm \(algorithm) is not accepted; accepted: \(accepted)")
        }
        try Self.refuseCriticalExtensions(header)
        guard !parts[2].isEmpty else { throw APIError.invalidToken("the token has no signature") }
        let kid = header["kid"] as? String
        var claims: TokenClaims?
        var refetched = false
        while claims == nil {
            guard let (collection, _, key) = try await keys.key(kid) else {
                throw APIError.invalidToken(
                    kid.map { "unknown key: the issuer publishes no key with kid \"\($0)\"" }
                        ?? "the token names no key (kid) and the issuer publishes several")
            }
            let expectedType = algorithm == "ES256" ? "EC" : "RSA"
            guard key.keyType == expectedType, algorithm != "ES256" || key.curve == "P-256",
                key.algorithm.map({ $0 == algorithm }) ?? true
            else {
                let article = key.keyType == "EC" ? "an EC" : "an RSA"
                throw APIError.invalidToken(
                    "the token says \(algorithm) but its key \(kid ?? "") is \(article) key"
                        + (key.algorithm.map { " for \($0)" } ?? ""))
            }
            do {
                claims = try await collection.verify(token, as: TokenClaims.self)
            } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
                // The issuer may have replaced the key under the same kid (or withdrawn it): look once more with
                // its keys as they are now, when the refresh interval allows a fetch.
                if !refetched, await keys.refreshAfterBadSignature() {
                    refetched = true
                    continue
                }
                throw APIError.invalidToken(
                    "bad signature: the token was not signed by the issuer's key or was altered")
            } catch {
                throw APIError.invalidToken("the token could not be verified (\(error))")
            }
        }
        guard let claims else { throw APIError.invalidToken("the token could not be verified") }
        let caller = try check(claims, now: now)
        if let expires = claims.number("exp") {
            verified.remember(token, caller: caller, expires: expires + clockSkew, now: now.timeIntervalSince1970)
        }
        return caller
    }

    /// Checks issuer, audience, times and subject, and reads the scopes.
    func check(_ claims: TokenClaims, now: Date) throws -> Caller {
        let seconds = now.timeIntervalSince1970
        // OIDC Core 3.1.3.7: the issuer must match exactly (until session 27 a trailing slash was forgiven).
        guard claims.string("iss") == configuredIssuer else {
            throw APIError.invalidToken("wrong issuer: \(claims.string("iss") ?? "none"), expected \(configuredIssuer)")
        }
        let audiences = claims.claims["aud"]?.words ?? []
        guard audiences.contains(audience) else {
            throw APIError.invalidToken(
                audiences.isEmpty
                    ? "the token has no audience (aud), expected \(audience)"
                    : "wrong audience: \(audiences.joined(separator: ", ")), expected \(audience)")
        }
        guard let expires = claims.number("exp") else {
            throw APIError.invalidToken(
                claims.claims["exp"] == nil
                    ? "the token has no expiry (exp)" : "the token's expiry (exp) is not a number of seconds")
        }
        guard seconds <= expires + clockSkew else {
            throw APIError.invalidToken(
                "the token expired at \(Timestamp.string(Date(timeIntervalSince1970: expires)))")
        }
        if let notBefore = claims.number("nbf"), seconds < notBefore - clockSkew {
            throw APIError.invalidToken(
                "the token is not valid before \(Timestamp.string(Date(timeIntervalSince1970: notBefore)))")
        }
        if let issued = claims.number("iat"), issued > seconds + clockSkew {
            throw APIError.invalidToken("the token was issued in the future (iat)")
        }
        guard let subject = claims.string("sub"), !subject.isEmpty else {
            throw APIError.invalidToken("the token has no subject (sub)")
        }
        let words: [String]
        if let scopeClaim {
            words = claims.claims[scopeClaim]?.words ?? []
        } else {
            words = (claims.claims["scope"]?.words ?? []) + (claims.claims["scp"]?.words ?? [])
        }
        return Caller(subject: "token:\(subject)", scopes: Set(words.compactMap(Scope.init(rawValue:))))
    }

    /// Refuses a token whose header lists `crit` extensions: RFC 7515 §4.1.11 has a recipient refuse a token naming
    /// any it does not understand, and picpipe (as jwt-kit) understands none. Until session 37 `crit` was not read.
    static func refuseCriticalExtensions(_ header: [String: Any]) throws {
        guard let critical = header["crit"] else { return }
        guard let names = critical as? [String], !names.isEmpty else {
            throw APIError.invalidToken("the token's crit header must be a non-empty list of header names")
        }
        throw APIError.invalidToken(
            "the token marks header extensions picpipe does not understand as critical (crit: "
                + names.joined(separator: ", ") + "); RFC 7515 has such a token refused")
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
