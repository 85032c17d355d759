// The issuer's signing keys: discovery, then the JWKS, fetched with AsyncHTTPClient and kept; fetched again when
// they are old, or when a token names a key id not in them (a rotation) or fails the signature check of a key they
// hold (a key replaced under the same kid), at most once per refresh interval.
import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOPosix
import PipelineCore

/// One accepted public key of the issuer.
struct IssuerKey: Sendable {
    /// `RSA` or `EC`.
    let keyType: String
    /// The curve of an EC key (`P-256`).
    let curve: String?
    /// The algorithm the JWKS pins the key to, if any.
    let algorithm: String?
}

/// Fetches and keeps the issuer's JWKS.
actor JWKSCache {
    private let issuer: String
    private let refreshInterval: Duration
    private let maxAge: Duration
    private let logger: Logger
    private let client: HTTPClient

    private var collection = JWTKeyCollection()
    private var keys: [String: IssuerKey] = [:]
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    private var lastFailure: String?
    private var refreshing: Task<Void, Never>?
    /// How many times the JWKS was fetched (for `/metrics` and the tests' view of the refresh limit).
    private(set) var fetches = 0

    /// - Parameters:
    ///   - settings: `auth.oidc` (issuer, refresh interval, maximum age).
    ///   - client: the HTTP client (`JWKSCache.client`).
    init(settings: OIDCSettings, client: HTTPClient = JWKSCache.client, logger: Logger) {
        var issuer = settings.issuer ?? ""
        while issuer.hasSuffix("/") { issuer.removeLast() }
        self.issuer = issuer
        refreshInterval = .milliseconds(Int64(settings.jwksRefreshInterval * 1000))
        maxAge = .milliseconds(Int64(settings.jwksMaxAge * 1000))
        self.client = client
        self.logger = logger
    }

    /// The key collection holding `kid` and that key, fetching the JWKS first when it is missing, old, or lacks
    /// the kid and the last fetch is older than the refresh interval. `nil`: no such key at the issuer.
    /// - Throws: `APIError.issuerUnavailable` when no JWKS could ever be fetched.
    func key(_ kid: String?) async throws -> (JWTKeyCollection, String, IssuerKey)? {
        let now = ContinuousClock.now
        let stale = fetchedAt.map { now - $0 > maxAge } ?? true
        let known = kid.map { keys[$0] != nil } ?? (keys.count == 1)
        let mayRefresh = lastAttempt.map { now - $0 >= refreshInterval } ?? true
        // With no keys at all, a failed fetch is tried again after a few seconds, not a whole interval.
        let mayRetryEmpty = keys.isEmpty && (lastAttempt.map { now - $0 >= .seconds(5) } ?? true)
        if (stale || !known) && (mayRefresh || mayRetryEmpty) { await refresh() }
        if keys.isEmpty, let lastFailure { throw APIError.issuerUnavailable(lastFailure) }
        guard let name = kid ?? (keys.count == 1 ? keys.keys.first : nil), let key = keys[name] else { return nil }
        return (collection, name, key)
    }

    /// Fetches the JWKS again after a token failed the signature check of a key the cache holds: the issuer may
    /// have replaced the key under the same kid, or withdrawn it. At most once per refresh interval, as for an
    /// unknown kid, so forged tokens cannot make picpipe hammer the issuer.
    /// - Returns: whether new keys were fetched (then `key(_:)` answers from them).
    func refreshAfterBadSignature() async -> Bool {
        let now = ContinuousClock.now
        guard lastAttempt.map({ now - $0 >= refreshInterval }) ?? true else { return false }
        let before = fetchedAt
        await refresh()
        return fetchedAt != before
    }

    /// Fetches once even when many requests ask at the same time.
    private func refresh() async {
        if let refreshing { return await refreshing.value }
        let task = Task { await self.fetch() }
        refreshing = task
        await task.value
        refreshing = nil
    }

    private func fetch() async {
        lastAttempt = .now
        fetches += 1
        do {
            let discovery = try await Self.json(
                client: client, url: issuer + "/.well-known/openid-configuration", what: "the discovery document")
            guard let document = discovery as? [String: Any] else {
                throw APIError.issuerUnavailable("the discovery document is not a JSON object")
            }
            guard (document["issuer"] as? String).map({ $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) == issuer
            else {
                throw APIError.issuerUnavailable("the discovery document names another issuer than \(issuer)")
            }
            guard let jwksURL = document["jwks_uri"] as? String, !jwksURL.isEmpty else {
                throw APIError.issuerUnavailable("the discovery document has no jwks_uri")
            }
            // The issuer's own rule, for the keys: until session 37 an http issuer's document could name any plain
            // http jwks_uri, fetched from whatever host it named.
            guard OIDCSettings.isHTTPSOrLoopback(jwksURL) else {
                throw APIError.issuerUnavailable(
                    "the discovery document's jwks_uri \(jwksURL) is not https (plain http only on loopback, as for the "
                        + "issuer)")
            }
            let jwks = try await Self.json(client: client, url: jwksURL, what: "the JWKS")
            guard let list = (jwks as? [String: Any])?["keys"] as? [[String: Any]] else {
                throw APIError.issuerUnavailable("the JWKS has no keys list")
            }
            let fresh = JWTKeyCollection()
            var found: [String: IssuerKey] = [:]
            for object in list {
                // Public signature keys only: never a symmetric ("oct") key, never an encryption key.
                guard let kid = object["kid"] as? String, let type = object["kty"] as? String,
                    type == "RSA" || type == "EC", (object["use"] as? String).map({ $0 == "sig" }) ?? true,
                    object["d"] == nil
                else { continue }
                do {
                    let data = try JSONSerialization.data(withJSONObject: object)
                    let jwk = try JSONDecoder().decode(JWK.self, from: data)
                    _ = try await fresh.add(jwk: jwk)
                    found[kid] = IssuerKey(
                        keyType: type, curve: object["crv"] as? String, algorithm: object["alg"] as? String)
                } catch {
                    logger.warning(
                        "skipping a key of the issuer's JWKS", metadata: ["kid": "\(kid)", "error": "\(error)"])
                }
            }
            collection = fresh
            keys = found
            fetchedAt = .now
            lastFailure = nil
            logger.info(
                "fetched the issuer's keys", metadata: ["issuer": "\(issuer)", "kids": "\(found.keys.sorted())"])
        } catch {
            lastFailure =
                (error as? APIError)?.message.replacingOccurrences(of: "the token cannot be checked now: ", with: "")
                ?? "\(error)"
            logger.error(
                "could not fetch the issuer's keys; the ones fetched before stay",
                metadata: ["issuer": "\(issuer)", "error": "\(lastFailure ?? "")"])
        }
    }

    /// The client of every cache, kept for the process's life: a refused connection fails at once, as an import's.
    /// Until session 32 the shared client tried it again with backoff until its connect timeout, so a token checked
    /// while the issuer was down waited 10 seconds for its 503.
    static let client = HTTPClient(
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)

    /// Redirects followed (an issuer may move its keys), connections within 10 seconds, none tried twice.
    static var clientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false), timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// GETs a JSON document of at most 1 MiB, within 10 seconds.
    private static func json(client: HTTPClient, url: String, what: String) async throws -> Any {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(10))
        } catch {
            // In words, as an import's (until session 31 NIO's error printed as a Swift value, with unbalanced
            // parentheses).
            let reason = NetworkFailure.reason(
                error, host: URL(string: url)?.host ?? url, tls: url.hasPrefix("https:"), connectTimeout: "10 s",
                timeout: "10 s")
            throw APIError.issuerUnavailable("\(what) at \(url) could not be fetched (\(reason))")
        }
        guard response.status == .ok else {
            throw APIError.issuerUnavailable("\(what) at \(url) answered \(response.status.code)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        do {
            return try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        } catch {
            throw APIError.issuerUnavailable("\(what) at \(url) is not JSON")
        }
    }
}
