// Bad input over real HTTP: path traversal, non-images, corrupt images and bombs, oversized and interrupted
// bodies, and authentication (keys, protected reads, signed thumbnail URLs).
import FetchService
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct FetchSafetyTests {
    @Test func traversalAndMalformedIDsNeverLeaveTheStore() async throws {
        try await FetchServer.with { client, layout in
            // A file outside the store that a traversal would reach.
            let secret = layout.root.deletingLastPathComponent().appendingPathComponent("secret-\(UUID().uuidString).jpg")
            try Data("TOPSECRET".utf8).write(to: secret)
            defer { try? FileManager.default.removeItem(at: secret) }
            let name = secret.lastPathComponent
            let targets = [
                "/images/..", "/images/%2e%2e", "/images/%2E%2E/thumbnails/64", "/images/..%2F..%2F\(name)",
                "/images/a%2Fb", "/images/a%00b", "/images/%00", "/images/../../\(name)", "/images//etc/passwd",
                "/images/\(secret.path)", "/images/\(String(repeating: "a", count: 129))", "/images/a%20b/metadata",
                "/images/~root", "/images/./thumbnails/64",
            ]
            for target in targets {
                let answer = try await client.send("GET", target)
                #expect([400, 404].contains(answer.status), "\(target) → \(answer.status)")
                #expect(!answer.text.contains("TOPSECRET"), "\(target)")
                #expect(answer.errorCode != nil, "\(target)")
            }
            // A raw NUL byte in the request line.
            let nul = try await client.raw(Array("GET /images/a\0b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            #expect([400, 404].contains(nul.status))
            let invalid = try await client.send("GET", "/images/%2e%2e")
            #expect(invalid.status == 400)
            #expect(invalid.errorCode == "invalid_path")
        }
    }

    @Test func nonImagesCorruptImagesAndBombsKeepNothing() async throws {
        try await FetchServer.with(configure: { $0.limits.maxPixels = 1_000_000 }) { client, layout in
            let text = try await client.send("POST", "/images", headers: [("Content-Type", "text/plain")], body: Array("hello".utf8))
            #expect(text.status == 415)
            #expect(text.errorCode == "unsupported_media_type")
            let disguised = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: Array("not a jpeg at all, really".utf8))
            #expect(disguised.status == 415)
            let jpeg = try FetchServer.picture()
            let truncated = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: Array(jpeg.prefix(jpeg.count / 2)))
            #expect(truncated.status == 422)
            #expect(truncated.errorCode == "unprocessable_image")
            let bomb = try FetchServer.picture(.png, width: 1100, height: 1000)
            let refused = try await client.send("POST", "/images", headers: [("Content-Type", "image/png")], body: bomb)
            #expect(refused.status == 422)
            #expect(refused.text.contains("limits.max_pixels"))  // the refusal names the knob
            let empty = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: [])
            #expect(empty.status == 400)
            #expect(FetchServer.files(under: layout.originals).isEmpty)
            #expect(FetchServer.files(under: layout.uploads).isEmpty)
            #expect(FetchServer.files(under: layout.thumbnails).isEmpty)
        }
    }

    @Test func multipartUploadsTakeTheFilePart() async throws {
        let jpeg = try FetchServer.picture()
        try await FetchServer.with { client, _ in
            let boundary = "----picpipe-boundary"
            var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.jpg\"\r\n".utf8)
            body += Array("Content-Type: image/jpeg\r\n\r\n".utf8) + jpeg + Array("\r\n--\(boundary)--\r\n".utf8)
            let answer = try await client.send(
                "POST", "/images", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body)
            #expect(answer.status == 202)
            let id = try #require(answer.json?["id"] as? String)
            #expect(try await client.send("GET", "/images/\(id)").body == jpeg)
        }
    }

    /// `curl -F file=@a.jpg -F file=@b.jpg`: one file per request, so two are refused and neither is kept (until
    /// session 36 the second was dropped behind a 202).
    @Test func aMultipartUploadWithTwoFilesIsRefusedAndKeepsNothing() async throws {
        let first = try FetchServer.picture(seed: 1)
        let second = try FetchServer.picture(seed: 2)
        try await FetchServer.with { client, layout in
            let boundary = "----picpipe-boundary"
            var body: [UInt8] = []
            for (name, bytes) in [("a.jpg", first), ("b.jpg", second)] {
                let disposition = "Content-Disposition: form-data; name=\"file\"; filename=\"\(name)\""
                body += Array("--\(boundary)\r\n\(disposition)\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
                body += bytes + Array("\r\n".utf8)
            }
            body += Array("--\(boundary)--\r\n".utf8)
            for (method, target) in [("POST", "/images"), ("PUT", "/images/two")] {
                let answer = try await client.send(
                    method, target, headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                    body: body)
                #expect(answer.status == 400, "\(method): \(answer.text)")
                #expect(answer.errorCode == "too_many_files", "\(answer.text)")
            }
            #expect(FetchServer.files(under: layout.uploads).isEmpty)
            #expect(FetchServer.files(under: layout.originals).isEmpty)
            #expect((try await client.send("GET", "/images").json?["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func oversizedAndInterruptedBodiesLeaveNoFile() async throws {
        try await FetchServer.with(configure: { $0.http.maxBodyBytes = 20_000 }) { client, layout in
            let big = try FetchServer.picture(width: 1200, height: 900)
            #expect(big.count > 20_000)
            let declared = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: big)
            #expect(declared.status == 413)
            #expect(declared.errorCode == "body_too_large")
            // Chunked, so the limit is found while streaming.
            var chunked = Array("POST /images HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            for start in stride(from: 0, to: big.count, by: 16384) {
                let piece = big[start..<min(big.count, start + 16384)]
                chunked += Array("\(String(piece.count, radix: 16))\r\n".utf8) + piece + Array("\r\n".utf8)
            }
            chunked += Array("0\r\n\r\n".utf8)
            let streamed = try await client.raw(chunked)
            #expect(streamed.status == 413)
            // A client that goes away mid-body.
            let small = try FetchServer.picture()
            var partial = Array("POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: \(small.count)\r\n\r\n".utf8)
            partial += small.prefix(small.count / 2)
            _ = try await client.raw(partial, abort: true)
            // A client that stops sending: the idle timeout (2 s in tests) closes the connection.
            _ = try? await client.raw(partial)
            try await Task.sleep(for: .milliseconds(300))
            #expect(FetchServer.files(under: layout.uploads).isEmpty)
            #expect(FetchServer.files(under: layout.originals).isEmpty)
        }
    }

    @Test func keysGuardWritesAndProtectedReads() async throws {
        let jpeg = try FetchServer.picture()
        try await FetchServer.with(configure: { $0.http.apiKeys = ["k1", "k2"] }) { client, _ in
            let anonymous = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            #expect(anonymous.status == 401)
            #expect(anonymous.errorCode == "unauthorized")
            #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            let wrong = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg"), ("Authorization", "Bearer nope")], body: jpeg)
            #expect(wrong.status == 401)
            let good = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg"), ("Authorization", "Bearer k2")], body: jpeg)
            #expect(good.status == 202)
            let id = try #require(good.json?["id"] as? String)
            #expect(try await client.send("GET", "/images/\(id)").status == 200)
            #expect(try await client.send("DELETE", "/images/\(id)").status == 401)
            #expect(try await client.send("DELETE", "/images/\(id)", headers: [("Authorization", "Bearer k1")]).status == 204)
            // The scheme in any case, the key with spaces or tabs around it; another scheme or an empty key is refused.
            for (header, status) in [
                ("bEaReR k2", 202), ("Bearer \tk2 \t", 202), ("Basic k2", 401), ("Bearer", 401), ("Bearer k2x", 401),
            ] {
                let sent = try await client.send(
                    "POST", "/images", headers: [("Content-Type", "image/jpeg"), ("Authorization", header)], body: jpeg)
                #expect(sent.status == status, "Authorization: \(header)")
            }
        }
        try await FetchServer.with(configure: {
            $0.http.apiKeys = ["k1"]
            $0.http.protectReads = true
            $0.http.signingKey = "sign-me"
        }) { client, _ in
            let auth = [("Authorization", "Bearer k1")]
            let posted = try await client.send("POST", "/images", headers: auth + [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            #expect(try await client.send("GET", "/images/\(id)").status == 401)
            #expect(try await client.send("GET", "/images").status == 401)
            #expect(try await client.send("GET", "/healthz").status == 200)
            let page = try await client.send("GET", "/images/\(id)", headers: auth)
            #expect(page.status == 200)
            #expect(page.header("Cache-Control")?.hasPrefix("private") == true)
            let signer = URLSigner(key: "sign-me")
            let path = "/images/\(id)/thumbnails/64"
            let future = Int(Date().timeIntervalSince1970) + 600
            #expect(try await client.send("GET", signer.sign(path: path, expires: future)).status == 200)
            let expired = try await client.send("GET", signer.sign(path: path, expires: 1000))
            #expect(expired.status == 403)
            #expect(expired.errorCode == "forbidden")
            let forged = try await client.send("GET", "\(path)?expires=\(future)&sig=\(String(repeating: "0", count: 64))")
            #expect(forged.status == 403)
            let otherPath = signer.sign(path: "/images/\(id)/thumbnails/256", expires: future)
            #expect(try await client.send("GET", otherPath.replacingOccurrences(of: "/256?", with: "/64?")).status == 403)
        }
    }

    @Test func nonLoopbackNeedsAKey() throws {
        var http = HTTPSettings()
        http.listen = "0.0.0.0:8080"
        #expect(throws: ListenAddressError.self) { try FetchSettings(http: http, limits: LimitSettings()) }
        http.apiKeys = ["k"]
        #expect(try FetchSettings(http: http, limits: LimitSettings()).listen == ListenAddress(host: "0.0.0.0", port: 8080))
        #expect(try ListenAddress(parsing: "[::1]:9000").isLoopback)
        #expect(try ListenAddress(parsing: "127.0.0.5:1").isLoopback)
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: "localhost") }
    }
}
