// JWT bearer tokens from an independent OIDC issuer (PyJWT, see scripts/oidc-test-issuer.py) and scoped API keys,
// against the real `picpipe serve`: valid tokens per scope, and every refusal with its 401/403 and reason.
import Foundation
import ImageCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct OIDCAuthTests {
        static let readerKey = "reader-key-0123456789"
        static let writerKey = "writer-key-0123456789"

        /// A `serve` with this configuration file; its base URL once it listens.
        static func serve(in root: URL, config: String) async throws -> (ServeProcess, String) {
            let file = root.appendingPathComponent("picpipe-\(UUID().uuidString).yaml")
            try config.write(to: file, atomically: true, encoding: .utf8)
            let serve = try await ServeProcess(
                store: root.appendingPathComponent("store-\(UUID().uuidString)"),
                environment: ["PICPIPE_CONFIG": file.path])
            try await ServeProcess.eventually("http listening") {
                serve.log.contains("http listening") || !serve.process.isRunning
            }
            guard let port = ServeHTTPTests.port(in: serve.log) else {
                await serve.stop()
                throw ServeTestError.timedOut("serve did not listen: \(serve.log)")
            }
            return (serve, "http://127.0.0.1:\(port)")
        }

        static func jpeg(seed: Int) throws -> Data {
            var pixels = [UInt8](repeating: 0, count: 96 * 64 * 3)
            for index in pixels.indices { pixels[index] = UInt8(truncatingIfNeeded: index / 5 + seed * 37) }
            return Data(
                try ImageEncoder.encode(
                    PixelBuffer(width: 96, height: 64, channels: 3, bytes: pixels), format: .jpeg, quality: 90))
        }

        static func upload(_ base: String, _ credential: String, seed: Int) async throws -> HTTPCall {
            try await HTTPCall.send(
                "POST", "\(base)/images",
                headers: HTTPCall.bearer(credential).merging(["Content-Type": "image/jpeg"]) { $1 },
                body: try jpeg(seed: seed))
        }

        /// Expects a 401 whose WWW-Authenticate says invalid_token and whose description holds `reason`.
        static func expectInvalidToken(_ answer: HTTPCall, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(answer.status == 401, "\(answer.text)", sourceLocation: sourceLocation)
            let challenge = answer.header("WWW-Authenticate") ?? ""
            #expect(challenge.hasPrefix("Bearer "), sourceLocation: sourceLocation)
            #expect(challenge.contains("error=\"invalid_token\""), "\(challenge)", sourceLocation: sourceLocation)
            #expect(challenge.contains("error_description=\""), sourceLocation: sourceLocation)
            #expect(challenge.contains(reason), "\(challenge)", sourceLocation: sourceLocation)
            #expect(answer.text.contains("\"invalid_token\""), sourceLocation: sourceLocation)
        }

        static func expectMissingScope(_ answer: HTTPCall, _ scope: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(answer.status == 403, "\(answer.text)", sourceLocation: sourceLocation)
            #expect(answer.text.contains("insufficient_scope"), sourceLocation: sourceLocation)
            #expect(answer.text.contains("needs the scope \(scope)"), "\(answer.text)", sourceLocation: sourceLocation)
            #expect(
                answer.header("WWW-Authenticate")?.contains("scope=\"\(scope)\"") == true, sourceLocation: sourceLocation)
        }

        @Test func tokensAndScopedKeysAgainstAnIndependentIssuer() async throws {
            guard let python = OIDCIssuerProcess.python() else { return }
            let root = try PicpipeProcess.temporaryFolder("oidc")
            defer { try? FileManager.default.removeItem(at: root) }
            let issuer = try await OIDCIssuerProcess(python: python, folder: root)
            defer { issuer.stop() }
            // A refresh interval far longer than the test: a token with an unknown kid must not make serve fetch
            // the JWKS again.
            let (serve, base) = try await Self.serve(
                in: root,
                config: """
                    http:
                      protect_reads: true
                    auth:
                      api_keys:
                        - {name: reader, key: \(Self.readerKey), scopes: [images:read]}
                        - {name: writer, key: \(Self.writerKey), scopes: [images:read, images:write]}
                      oidc:
                        issuer: \(issuer.issuer)
                        audience: picpipe-api
                        jwks_refresh_interval: 600
                    """)
            do {
                try await checkTokens(base, issuer)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        func checkTokens(_ base: String, _ issuer: OIDCIssuerProcess) async throws {
            // No credentials: 401 with a plain Bearer challenge.
            let anonymous = try await HTTPCall.send("GET", "\(base)/images")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer realm=\"picpipe\"") == true)

            // Scoped API keys.
            let written = try await Self.upload(base, Self.writerKey, seed: 1)
            #expect(written.status == 202, "\(written.text)")
            let id = try #require(
                (try JSONSerialization.jsonObject(with: written.body) as? [String: Any])?["id"] as? String)
            #expect(try await HTTPCall.send("GET", "\(base)/images/\(id)", headers: HTTPCall.bearer(Self.readerKey)).status == 200)
            Self.expectMissingScope(try await Self.upload(base, Self.readerKey, seed: 2), "images:write")
            Self.expectMissingScope(
                try await HTTPCall.send("DELETE", "\(base)/images/\(id)", headers: HTTPCall.bearer(Self.writerKey)),
                "images:delete")
            let wrongKey = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer("not-a-key-at-all"))
            #expect(wrongKey.status == 401)

            // Valid tokens, one scope each, RS256 and ES256; `scp` as a list works as `scope` does.
            let reader = try await issuer.mint(claims: ["scope": "openid images:read"])
            #expect(try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(reader)).status == 200)
            #expect(try await HTTPCall.send("GET", "\(base)/images/\(id)", headers: HTTPCall.bearer(reader)).status == 200)
            Self.expectMissingScope(try await Self.upload(base, reader, seed: 3), "images:write")
            let writer = try await issuer.mint(kid: "ec-1", claims: ["scope": "images:write", "sub": "bob"])
            let posted = try await Self.upload(base, writer, seed: 4)
            #expect(posted.status == 202, "\(posted.text)")
            Self.expectMissingScope(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(writer)), "images:read")
            let deleter = try await issuer.mint(claims: ["scp": ["images:delete"]])
            Self.expectMissingScope(
                try await HTTPCall.send("GET", "\(base)/metrics", headers: HTTPCall.bearer(deleter)), "images:read")
            let deleted = try await HTTPCall.send("DELETE", "\(base)/images/\(id)", headers: HTTPCall.bearer(deleter))
            #expect(deleted.status == 204, "\(deleted.text)")
            let admin = try await issuer.mint(kid: "ec-1", claims: ["scope": "admin"])
            #expect(try await HTTPCall.send("GET", "\(base)/images/\(id)", headers: HTTPCall.bearer(admin)).status == 404)
            let noScopes = try await issuer.mint(claims: ["scope": "openid profile"])
            Self.expectMissingScope(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(noScopes)), "images:read")
            // GET /auth/me names a token's subject and the scopes it holds (any token may ask, one without a known
            // scope too), as it does a key's (CallerRouteTests); none is 401.
            for (token, subject, scopes) in [
                (deleter, "token:alice", ["images:delete"]), (writer, "token:bob", ["images:write"]),
                (admin, "token:alice", ["images:read", "images:write", "images:delete", "functions:invoke", "admin"]),
                (noScopes, "token:alice", []),
            ] {
                let me = try await HTTPCall.send("GET", "\(base)/auth/me", headers: HTTPCall.bearer(token))
                #expect(me.status == 200, "\(me.text)")
                let described = try JSONSerialization.jsonObject(with: me.body) as? [String: Any]
                #expect(described?["subject"] as? String == subject, "\(me.text)")
                #expect(described?["scopes"] as? [String] == scopes, "\(me.text)")
                #expect(!me.text.contains(token), "the token is not echoed")
            }
            #expect(try await HTTPCall.send("GET", "\(base)/auth/me").status == 401)

            // Refusals, each with its reason.
            let now = Int(Date().timeIntervalSince1970)
            let expired = try await issuer.mint(claims: ["scope": "admin", "exp": now - 3600, "iat": now - 7200])
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(expired)), "expired")
            let otherAudience = try await issuer.mint(claims: ["scope": "admin", "aud": "someone-else"])
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(otherAudience)),
                "wrong audience")
            let otherIssuer = try await issuer.mint(claims: ["scope": "admin", "iss": "https://evil.example"])
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(otherIssuer)), "wrong issuer")
            // The issuer must match exactly: a trailing slash is another issuer (OIDC Core 3.1.3.7).
            let slashed = try await issuer.mint(claims: ["scope": "admin", "iss": issuer.issuer + "/"])
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(slashed)), "wrong issuer")
            let noAudience = try await issuer.mint(claims: ["scope": "admin", "aud": NSNull()])
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(noAudience)),
                "the token has no audience (aud), expected picpipe-api")
            let textExpiry = try await issuer.mint(claims: ["scope": "admin", "exp": "\(now + 600)"])
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(textExpiry)),
                "the token's expiry (exp) is not a number of seconds")
            let unsigned = try await issuer.mint(claims: ["scope": "admin"], attack: "none")
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(unsigned)),
                "algorithm none is not accepted")
            let hmac = try await issuer.mint(claims: ["scope": "admin"], attack: "hs256-public")
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(hmac)),
                "algorithm HS256 is not accepted")
            let tampered = try await issuer.mint(claims: ["scope": "images:read"], attack: "tamper")
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(tampered)), "bad signature")
            let tamperedUpload = try await Self.upload(base, tampered, seed: 5)
            #expect(tamperedUpload.status == 401)

            // A key the issuer does not publish: refused, and the JWKS is not fetched again within the interval.
            let fetchesBefore = try await issuer.jwksFetches()
            #expect(fetchesBefore == 1)
            let unknown = try await issuer.mint(kid: "rsa-2", claims: ["scope": "admin"])
            for _ in 0..<5 {
                Self.expectInvalidToken(
                    try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(unknown)), "unknown key")
            }
            // The kid's quotes become single quotes in the header (RFC 6750 allows no `"` there), not `?`.
            Self.expectInvalidToken(
                try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(unknown)),
                "no key with kid 'rsa-2'")
            #expect(try await issuer.jwksFetches() == fetchesBefore)
        }

        @Test func rotationByKidAndAScopeClaim() async throws {
            guard let python = OIDCIssuerProcess.python() else { return }
            let root = try PicpipeProcess.temporaryFolder("oidc-rotation")
            defer { try? FileManager.default.removeItem(at: root) }
            let issuer = try await OIDCIssuerProcess(python: python, folder: root)
            defer { issuer.stop() }
            let (serve, base) = try await Self.serve(
                in: root,
                config: """
                    http:
                      protect_reads: true
                    auth:
                      oidc:
                        issuer: \(issuer.issuer)
                        audience: picpipe-api
                        scope_claim: "cognito:groups"
                        jwks_refresh_interval: 1
                    """)
            do {
                // The configured claim is read, `scope` is not.
                let grouped = try await issuer.mint(claims: ["cognito:groups": ["images:read"]])
                #expect(try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(grouped)).status == 200)
                let scoped = try await issuer.mint(claims: ["scope": "images:read"])
                Self.expectMissingScope(
                    try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(scoped)), "images:read")

                // The issuer rotates: rsa-2 signs, rsa-1 is withdrawn. A token of rsa-2 is refused until the JWKS
                // says otherwise, then accepted once serve refetches it on the unknown kid.
                let next = try await issuer.mint(kid: "rsa-2", claims: ["cognito:groups": ["images:read"]])
                Self.expectInvalidToken(
                    try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(next)), "unknown key")
                try await issuer.publish(["rsa-2", "ec-1"])
                var accepted = false
                let deadline = Date().addingTimeInterval(60)
                while !accepted && Date() < deadline {
                    accepted = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(next)).status == 200
                    if !accepted { try await Task.sleep(for: .milliseconds(250)) }
                }
                #expect(accepted)
                // The withdrawn key's tokens are refused once the new JWKS is in.
                let old = try await issuer.mint(kid: "rsa-1", claims: ["cognito:groups": ["images:read"]])
                Self.expectInvalidToken(
                    try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(old)), "unknown key")

                // The issuer replaces rsa-2 under the same kid: its new tokens fail the signature check of the key
                // serve holds, which makes serve fetch the JWKS again (within the refresh interval's limit) and
                // accept them, long before jwks_max_age; the replaced key's tokens are then refused.
                let before = try await issuer.mint(kid: "rsa-2", claims: ["cognito:groups": ["images:read"]])
                try await issuer.replace(["rsa-2"])
                let replaced = try await issuer.mint(kid: "rsa-2", claims: ["cognito:groups": ["images:read"]])
                var renewed = false
                let again = Date().addingTimeInterval(60)
                while !renewed && Date() < again {
                    let answer = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(replaced))
                    renewed = answer.status == 200
                    if !renewed {
                        Self.expectInvalidToken(answer, "bad signature")
                        try await Task.sleep(for: .milliseconds(250))
                    }
                }
                #expect(renewed)
                Self.expectInvalidToken(
                    try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(before)), "bad signature")
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }
    }
}
