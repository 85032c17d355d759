// The 401 answers as RFC 6750 §3.1 gives them: a request without a bearer credential gets a challenge without an
// error code; a credential that was sent and is not good gets `error="invalid_token"`, with or without an OIDC issuer
// configured, so a client tells "key rejected" from "key missing" the same way on every serve.
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
}
