// A path with a `.` or `..` segment (also written `%2e`) is refused whole, before any route, credential or signature
// is looked at: 400 `invalid_path`, one message for all. picpipe does not resolve dot segments (browsers and curl
// remove them before sending). Until session 36 `/images/./cat1` was a 404 "no route" and `/images/foo/../cat1` a
// 400 `invalid_id`.
import FetchService
import Foundation
import PipelineCore
import Testing

struct DotSegmentTests {
    static func message(_ answer: HTTPAnswer) -> String {
        (answer.json?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    /// Signed URLs on.
    static func signing(_ configuration: inout PicpipeConfiguration) {
        configuration.http.signingKey = "dot-segments"
    }

    @Test func aPathWithADotSegmentIsRefusedWhole() async throws {
        let picture = try FetchServer.picture(seed: 36)
        try await FetchServer.with(configure: Self.signing) { client, _ in
            let put = try await client.send(
                "PUT", "/images/cat1", headers: [("Content-Type", "image/jpeg")], body: picture)
            #expect(put.status == 201)
            let signer = URLSigner(key: "dot-segments")
            let expires = Int(Date().timeIntervalSince1970) + 600
            let signed = signer.sign(path: "/images/cat1/thumbnails/64", expires: expires)
            let query = String(signed[signed.firstIndex(of: "?")!...])
            for path in [
                "/images/./cat1", "/images/foo/../cat1", "/images/%2e/cat1", "/images/foo/%2E%2E/cat1",
                "/images/cat1/thumbnails/./64", "/images/..", "/images/../../etc/passwd", "/gallery/./",
                "/images/x/../cat1/thumbnails/64\(query)", "/images/cat1/.",
            ] {
                for method in ["GET", "DELETE"] {
                    let answer = try await client.send(method, path)
                    #expect(answer.status == 400, "\(method) \(path): \(answer.text)")
                    #expect(answer.errorCode == "invalid_path", "\(method) \(path): \(answer.text)")
                    #expect(
                        Self.message(answer).contains("'.' or '..' segment")
                            && Self.message(answer).contains("picpipe does not resolve dot segments"),
                        "\(answer.text)")
                }
            }
            // Dots inside a segment are a name's own.
            #expect(try await client.send("GET", "/images/cat1").status == 200)
            #expect(try await client.send("GET", "/images/...").errorCode == "not_found")
            #expect(try await client.send("GET", "/images/cat1").status == 200, "the DELETEs removed nothing")
        }
    }
}
