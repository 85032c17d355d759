// The 401 answers as RFC 6750 §3.1 gives them: a request without a bearer credential gets a challenge without an
// error code; a credential that was sent and is not good gets `error="invalid_token"`, with or without an OIDC issuer
// configured, so a client tells "key rejected" from "key missing" the same way on every serve; a token with critical
// header extensions (`crit`) is one that is not good.
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct BearerChallengeTests {
    /// Plain API keys only.
    static func keysOnly(_ configuration: inout PicpipeConfiguration) {
        configuration.http.apiKeys = ["k1-0123456789"]
    }

    /// API keys and an OIDC issuer (never reached: no credential sent here is a JWT).
    static func keysAndIssuer(_ configuration: inout PicpipeConfiguration) {
        keysOnly(&configuration)
        configuration.auth.oidc.issuer = "http://127.0.0.1:9/realms/photos"
        configuration.auth.oidc.audience = "picpipe-api"
    }

    @Test(arguments: [false, true])
    func aWrongKeyIsAnInvalidTokenWithOrWithoutAnIssuer(issuer: Bool) async throws {
        try await FetchServer.with(configure: issuer ? Self.keysAndIssuer : Self.keysOnly) { client, _ in
            let wrong = try await client.send("GET", "/metrics", headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == "invalid_token")
            let challenge = try #require(wrong.header("WWW-Authenticate"))
            #expect(challenge.hasPrefix(#"Bearer realm="picpipe", error="invalid_token", error_description=""#))
            // Without a bearer credential (none, or another scheme): a challenge without an error code.
            for headers in [[], [("Authorization", "Basic azE6MDEyMzQ1Njc4OQ==")]] {
                let missing = try await client.send("DELETE", "/images/some-id", headers: headers)
                #expect(missing.status == 401, "\(headers)")
                #expect(missing.errorCode == "unauthorized", "\(headers)")
                #expect(missing.header("WWW-Authenticate") == #"Bearer realm="picpipe""#, "\(headers)")
            }
            let good = try await client.send("GET", "/metrics", headers: [("Authorization", "Bearer k1-0123456789")])
            #expect(good.status == 200)
        }
    }

    /// A JWT of `header` with an empty payload and a made-up signature (refused before any key is fetched, so the
    /// issuer, never reached, is not asked).
    static func token(header: String) -> String {
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return base64URL(header) + "." + base64URL("{}") + ".c2lnbmF0dXJl"
    }

    /// RFC 7515 §4.1.11: a token whose `crit` header names extensions the recipient does not understand must be
    /// refused (picpipe understands none). Until session 37 `crit` was not read and such a token was accepted.
    @Test func aTokenWithCriticalExtensionsIsRefusedNamingThem() async throws {
        try await FetchServer.with(configure: Self.keysAndIssuer) { client, _ in
            let critical = Self.token(header: #"{"alg":"RS256","kid":"rsa-1","crit":["foo"],"foo":1}"#)
            let refused = try await client.send("GET", "/auth/me", headers: [("Authorization", "Bearer \(critical)")])
            #expect(refused.status == 401, "\(refused.text)")
            #expect(refused.errorCode == "invalid_token")
            #expect(refused.text.contains("crit: foo"), "\(refused.text)")
            // A crit that is not a list of names is refused as malformed.
            let empty = Self.token(header: #"{"alg":"RS256","kid":"rsa-1","crit":[]}"#)
            let malformed = try await client.send("GET", "/auth/me", headers: [("Authorization", "Bearer \(empty)")])
            #expect(malformed.status == 401, "\(malformed.text)")
            #expect(malformed.text.contains("crit"), "\(malformed.text)")
        }
    }
}
