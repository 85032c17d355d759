// POST /images/{id}/signed-url through the real `serve`: the minted URL serves the thumbnail without credentials
// while reads are protected, expires, needs images:read, and keeps working after the signing key rotates.
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct SignedURLTests {
        static let key = "signing-test-key-0123"
        static let readerKey = "url-reader-key-012345"

        static func config(signing: String, previous: [String]) -> String {
            """
            http:
              api_keys: [\(key)]
              protect_reads: true
              signing_key: \(signing)
              previous_signing_keys: [\(previous.joined(separator: ", "))]
            auth:
              api_keys:
                - {name: uploader, key: \(readerKey)x, scopes: [images:write]}
            """
        }

        static func mint(_ base: String, _ id: String, _ body: String, credential: String = key) async throws
            -> HTTPCall
        {
            try await HTTPCall.send(
                "POST", "\(base)/images/\(id)/signed-url",
                headers: HTTPCall.bearer(credential).merging(["Content-Type": "application/json"]) { $1 },
                body: Data(body.utf8))
        }

        @Test func mintedURLsServeExpireAndSurviveKeyRotation() async throws {
            let root = try PicpipeProcess.temporaryFolder("signed-url")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let first = root.appendingPathComponent("first.yaml")
            try Self.config(signing: "old-signing-key-1", previous: []).write(
                to: first, atomically: true, encoding: .utf8)
            var serve = try await ServeProcess(store: store, environment: ["PICPIPE_CONFIG": first.path])
            var longLived = ""
            var base = ""
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                base = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: serve.log)))"
                let posted = try await OIDCAuthTests.upload(base, Self.key, seed: 9)
                #expect(posted.status == 202)
                let id = try #require(
                    (try JSONSerialization.jsonObject(with: posted.body) as? [String: Any])?["id"] as? String)

                let minted = try await Self.mint(base, id, #"{"size": 256, "expires_in": 3600}"#)
                #expect(minted.status == 200, "\(minted.text)")
                let object = try #require(try JSONSerialization.jsonObject(with: minted.body) as? [String: Any])
                let url = try #require(object["url"] as? String)
                let expires = try #require(object["expires"] as? Int)
                let now = Int(Date().timeIntervalSince1970)
                #expect((3590...3610).contains(expires - now))
                #expect(url.hasPrefix("/images/\(id)/thumbnails/256?expires=\(expires)&sig="))
                // The URL alone serves the thumbnail; without it reads need credentials.
                let thumbnail = try await HTTPCall.send("GET", base + url)
                #expect(thumbnail.status == 200, "\(thumbnail.text)")
                #expect(thumbnail.header("Content-Type") == "image/jpeg")
                #expect(thumbnail.body.starts(with: [0xFF, 0xD8]))
                // Cached no longer than the URL is valid (it said max-age=31536000 until session 26).
                let policy = try #require(thumbnail.header("Cache-Control"))
                let age = try #require(
                    policy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                        .first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst("max-age=".count)) })
                #expect((3580...3600).contains(age), "\(policy)")
                #expect(try await HTTPCall.send("GET", "\(base)/images/\(id)/thumbnails/256").status == 401)
                // Credentials sent beside the signature are checked: a wrong key is 401, the right one passes.
                #expect(try await HTTPCall.send("GET", base + url, headers: HTTPCall.bearer("wrong-key")).status == 401)
                #expect(try await HTTPCall.send("GET", base + url, headers: HTTPCall.bearer(Self.key)).status == 200)
                // Another size, or a changed expiry, is not covered by the signature.
                let other = url.replacingOccurrences(of: "/256?", with: "/128?")
                #expect(try await HTTPCall.send("GET", base + other).status == 403)
                let stretched = url.replacingOccurrences(of: "expires=\(expires)", with: "expires=\(expires + 1)")
                let tampered = try await HTTPCall.send("GET", base + stretched)
                #expect(tampered.status == 403)
                // A signature that does not fit says so, and not that it expired (until session 37 one message,
                // "wrong or has expired", for both).
                #expect(tampered.text.contains("the URL's signature does not match"), "\(tampered.text)")
                #expect(!tampered.text.contains("expired"), "\(tampered.text)")
                longLived = url

                // Refusals: an unknown size, a bad lifetime, an unknown id, no credentials, a key without
                // images:read.
                #expect(try await Self.mint(base, id, #"{"size": 300}"#).status == 404)
                #expect(try await Self.mint(base, id, #"{"size": "256", "expires_in": 0}"#).status == 400)
                #expect(try await Self.mint(base, id, #"{"size": 256, "expires_in": 99999999}"#).status == 400)
                #expect(try await Self.mint(base, id, "not json").status == 400)
                let sizeless = try await Self.mint(base, id, "{}")
                #expect(sizeless.status == 400)
                #expect(sizeless.text.contains("size is missing"), "\(sizeless.text)")
                #expect(try await Self.mint(base, String(repeating: "0", count: 64), #"{"size": 256}"#).status == 404)
                let anonymous = try await HTTPCall.send(
                    "POST", "\(base)/images/\(id)/signed-url", body: Data(#"{"size": 256}"#.utf8))
                #expect(anonymous.status == 401)
                let writerOnly = try await Self.mint(base, id, #"{"size": 256}"#, credential: Self.readerKey + "x")
                #expect(writerOnly.status == 403)
                #expect(writerOnly.text.contains("images:read"))

                // Expiry: a URL valid for 1 s is refused once that second has passed.
                let short = try await Self.mint(base, id, #"{"size": "256", "expires_in": 1}"#)
                let shortURL = try #require(
                    (try JSONSerialization.jsonObject(with: short.body) as? [String: Any])?["url"] as? String)
                try await Task.sleep(for: .milliseconds(2500))
                let late = try await HTTPCall.send("GET", base + shortURL)
                #expect(late.status == 403)
                #expect(late.text.contains("the signed URL expired at "), "\(late.text)")
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()

            // Rotation: a new key signs, the old one still verifies what it signed.
            let rotated = root.appendingPathComponent("rotated.yaml")
            try Self.config(signing: "new-signing-key-1", previous: ["old-signing-key-1"])
                .write(to: rotated, atomically: true, encoding: .utf8)
            serve = try await ServeProcess(store: store, environment: ["PICPIPE_CONFIG": rotated.path])
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                base = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: serve.log)))"
                #expect(try await HTTPCall.send("GET", base + longLived).status == 200)
                let id = String(longLived.dropFirst("/images/".count).prefix { $0 != "/" })
                let fresh = try await Self.mint(base, id, #"{"size": 256}"#)
                let freshURL = try #require(
                    (try JSONSerialization.jsonObject(with: fresh.body) as? [String: Any])?["url"] as? String)
                #expect(freshURL != longLived)
                #expect(try await HTTPCall.send("GET", base + freshURL).status == 200)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()

            // The old key withdrawn: what it signed is refused.
            let withdrawn = root.appendingPathComponent("withdrawn.yaml")
            try Self.config(signing: "new-signing-key-1", previous: []).write(
                to: withdrawn, atomically: true, encoding: .utf8)
            serve = try await ServeProcess(store: store, environment: ["PICPIPE_CONFIG": withdrawn.path])
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                base = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: serve.log)))"
                #expect(try await HTTPCall.send("GET", base + longLived).status == 403)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }
    }
}
