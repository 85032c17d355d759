// GET /auth/me: who a credential names and every scope it holds, for each kind of key; 401 without one when
// credentials are configured; every scope for anyone when none are; an import's missing scope refused before the
// usage plan. Tokens: OIDCAuthTests (a real issuer).
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct CallerRouteTests {
    static let every = ["images:read", "images:write", "images:delete", "functions:invoke", "admin"]
    static let keys = [
        ("plain-key-0123456789", "key:http.api_keys[0]", every),
        ("reader-key-0123456789", "key:reader", ["images:read"]),
        // No images:read: any scope may ask who it is.
        ("uploader-key-0123456789", "key:uploader", ["images:write"]),
        ("deleter-key-0123456789", "key:deleter", ["images:read", "images:delete"]),
        ("admin-key-0123456789", "key:root", every),
    ]

    /// A plain key (every scope) and scoped keys: read-only, upload-only, read and delete, admin.
    static func keyed(_ configuration: inout PicpipeConfiguration) {
        configuration.http.apiKeys = ["plain-key-0123456789"]
        configuration.auth.apiKeys = [
            ScopedAPIKey(name: "reader", key: "reader-key-0123456789", scopes: ["images:read"]),
            ScopedAPIKey(name: "uploader", key: "uploader-key-0123456789", scopes: ["images:write", "bogus:word"]),
            ScopedAPIKey(name: "deleter", key: "deleter-key-0123456789", scopes: ["images:delete", "images:read"]),
            ScopedAPIKey(name: "root", key: "admin-key-0123456789", scopes: ["admin"]),
        ]
    }

    /// `keyed`, every key under a plan of a burst of 3 refilled once in 100 s.
    static func keyedWithAPlan(_ configuration: inout PicpipeConfiguration) {
        keyed(&configuration)
        configuration.auth.usagePlan = UsagePlan(rate: 0.01, burst: 3)
    }

    /// The answer's subject and scopes, in the order the server lists them.
    static func caller(_ answer: HTTPAnswer) -> (subject: String?, scopes: [String])? {
        guard let json = answer.json, let scopes = json["scopes"] as? [String],
            json.keys.sorted() == ["scopes", "subject"]
        else { return nil }
        return (json["subject"] as? String, scopes)
    }

    @Test func eachKeyLearnsItsSubjectAndScopesAndNoKeyIsRefused() async throws {
        try await FetchServer.with(configure: Self.keyed) { client, _ in
            for (key, subject, scopes) in Self.keys {
                let answer = try await client.send("GET", "/auth/me", headers: [("Authorization", "Bearer \(key)")])
                #expect(answer.status == 200, "\(subject): \(answer.text)")
                let found = Self.caller(answer)
                #expect(found?.subject == subject, "\(answer.text)")
                #expect(found?.scopes == scopes, "\(answer.text)")
                #expect(answer.header("Cache-Control") == "no-store")
                #expect(
                    !answer.text.contains(key) && !answer.text.contains("0123456789"), "no secret in \(answer.text)")
                let head = try await client.send("HEAD", "/auth/me", headers: [("Authorization", "Bearer \(key)")])
                #expect(head.status == 200 && head.body.isEmpty)
            }
            // Credentials are configured: none is 401 with the plain challenge, a wrong one `invalid_token`.
            let anonymous = try await client.send("GET", "/auth/me")
            #expect(anonymous.status == 401)
            #expect(anonymous.errorCode == "unauthorized")
            #expect(anonymous.header("WWW-Authenticate") == #"Bearer realm="picpipe""#)
            let wrong = try await client.send("GET", "/auth/me", headers: [("Authorization", "Bearer not-a-key")])
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == "invalid_token")
            // The routes still check each request: what the read-only key was told it lacks is refused.
            let refused = try await client.send(
                "DELETE", "/images/some-id", headers: [("Authorization", "Bearer reader-key-0123456789")])
            #expect(refused.status == 403)
            #expect(refused.errorCode == "insufficient_scope")
        }
    }

    /// An import's missing `functions:invoke` is refused before the usage plan, as every other missing scope is: no
    /// `X-RateLimit-*` headers and nothing counted (until session 37 it was checked in the route, after the plan).
    @Test func anImportsMissingScopeComesBeforeTheUsagePlan() async throws {
        try await FetchServer.with(configure: Self.keyedWithAPlan) { client, _ in
            let uploader = [("Authorization", "Bearer uploader-key-0123456789")]
            let refused = try await client.send(
                "POST", "/images", headers: uploader + [("Content-Type", "application/json")],
                body: Array(#"{"url":"http://127.0.0.2:9/img.jpg"}"#.utf8))
            #expect(refused.status == 403, "\(refused.text)")
            #expect(refused.errorCode == "insufficient_scope")
            #expect(refused.text.contains("functions:invoke"), "\(refused.text)")
            #expect(refused.header("X-RateLimit-Limit") == nil)
            // The plan's first counted request: the burst of 3 less this one.
            let counted = try await client.send("GET", "/auth/me", headers: uploader)
            #expect(counted.status == 200)
            #expect(counted.header("X-RateLimit-Remaining") == "2")
        }
    }

    @Test func withoutCredentialsConfiguredAnyoneHoldsEveryScope() async throws {
        try await FetchServer.with { client, _ in
            // Nothing configured: the server listens on loopback only and anyone may write; a header changes nothing.
            for headers in [[], [("Authorization", "Bearer anything-at-all")]] {
                let answer = try await client.send("GET", "/auth/me", headers: headers)
                #expect(answer.status == 200, "\(answer.text)")
                let found = Self.caller(answer)
                #expect(found != nil && found?.subject == nil, "\(answer.text)")
                #expect(found?.scopes == Self.every, "\(answer.text)")
            }
        }
    }
}
