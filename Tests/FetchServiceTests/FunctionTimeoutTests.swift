// A function that runs past its timeout while the HTTP API waits for it (a missing thumbnail, metadata not read
// yet) is the server's condition, not the picture's: 503 `function_timeout` with Retry-After, never a 422.
import Foundation
import PipelineCore
import Testing

@testable import FetchService

@Suite(.serialized)
struct FunctionTimeoutTests {
    /// A microsecond for both functions: no invocation finishes in time.
    static func timeoutsNoFunctionKeeps(_ configuration: inout PicpipeConfiguration) {
        configuration.functions.thumbnail.timeout = 0.000_001
        configuration.functions.metadata.timeout = 0.000_001
    }

    /// With timeouts no function can keep (a microsecond), neither the upload's invocations nor the ones made on
    /// request finish: the thumbnail and the metadata are answered 503 `function_timeout`, `Retry-After: 1`,
    /// `Cache-Control: no-store`, and the picture stays. Until session 34 both were 422 `unprocessable_image`,
    /// "timed out after …", which a client or CDN takes for a broken picture and never asks for again.
    @Test func aThumbnailOrMetadataWhoseFunctionTimesOutIs503FunctionTimeout() async throws {
        let jpeg = try FetchServer.picture(seed: 34)
        try await FetchServer.with(configure: Self.timeoutsNoFunctionKeeps) { client, _ in
            let id = try await FetchRoutesTests.upload(jpeg, with: client)
            for path in ["/images/\(id)/thumbnails/64", "/images/\(id)/metadata"] {
                let answer = try await client.send("GET", path)
                #expect(answer.status == 503, "\(path): \(answer.text)")
                let error = answer.json?["error"] as? [String: Any]
                #expect(error?["code"] as? String == "function_timeout", "\(path)")
                let message = error?["message"] as? String ?? ""
                #expect(message.contains("timed out after") && message.contains(".timeout"), "\(message)")
                #expect(answer.header("Retry-After") == "1", "\(path)")
                #expect(answer.header("Cache-Control") == "no-store", "\(path)")
                let head = try await client.send("HEAD", path)
                #expect(head.status == 503 && head.header("Retry-After") == "1", "\(path)")
            }
            let original = try await client.send("GET", "/images/\(id)")
            #expect(original.status == 200 && original.body == jpeg)
        }
    }
}
