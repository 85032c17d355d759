// Requests are taken or refused as the OpenAPI document says: a value its schema admits gets the answer the
// document gives it, and one its schema refuses is a 400 naming what is wrong (what schemathesis's ST201 and ST202
// check, found by the session 32 tester).
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct DocumentedRequestsTests {
    /// Signed URLs on (a signing key), the test sizes.
    static func signing(_ configuration: inout PicpipeConfiguration) {
        configuration.http.signingKey = "documented-requests-signing-key"
    }

    /// Posts a JSON body.
    static func post(_ client: LoopbackClient, _ target: String, _ json: String) async throws -> HTTPAnswer {
        try await client.send(
            "POST", target, headers: [("Content-Type", "application/json")], body: Array(json.utf8))
    }

    /// The message of a JSON error answer.
    static func message(_ answer: HTTPAnswer) -> String? {
        (answer.json?["error"] as? [String: Any])?["message"] as? String
    }

    @Test func aSizeOfAnyIntegerIsASizeAndAnUnconfiguredOneIsNotFound() async throws {
        let picture = try FetchServer.picture(seed: 62)
        try await FetchServer.with(configure: Self.signing) { client, _ in
            let id = try #require(
                try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: picture)
                    .json?["id"] as? String)
            let target = "/images/\(id)/signed-url"
            #expect(try await Self.post(client, target, #"{"size": 64}"#).status == 200)
            // Past Int64 either way, as the thumbnail route answers the same size in its path.
            for size in ["99999999999999999999", "-235736484918662606618624", "-99999", "300"] {
                let answer = try await Self.post(client, target, #"{"size": \#(size)}"#)
                #expect(answer.status == 404, "\(size): \(answer.text)")
                #expect(answer.errorCode == "unknown_size", "\(size)")
                #expect(Self.message(answer) == "thumbnail size '\(size)' is not configured; sizes: 64, 256")
                let path = try await client.send("GET", "/images/\(id)/thumbnails/\(size)")
                #expect(path.errorCode == "unknown_size", "\(size)")
            }
            // What the schema refuses (neither an integer nor a string) stays a 400.
            for body in [#"{"size": 64.5}"#, #"{"size": true}"#, #"{"size": null}"#, #"{}"#, "not json"] {
                let answer = try await Self.post(client, target, body)
                #expect(answer.status == 400, "\(body): \(answer.text)")
                #expect(answer.errorCode == "bad_request", "\(body)")
            }
        }
    }
}

extension DocumentedRequestsTests {
    @Test func aNullLifetimeAndAFormatInCapitalsAreRefusedAsTheDocumentRefusesThem() async throws {
        let picture = try FetchServer.picture(seed: 63)
        try await FetchServer.with(configure: Self.signing) { client, _ in
            let id = try #require(
                try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: picture)
                    .json?["id"] as? String)
            // expires_in is an integer of seconds: null is not one (it meant the default), nor is text.
            for (target, size) in [("/images/\(id)/signed-url", #""size": 64, "#), ("/events/stream/signed-url", "")] {
                for lifetime in ["null", #""60""#] {
                    let answer = try await Self.post(client, target, "{\(size)\"expires_in\": \(lifetime)}")
                    #expect(answer.status == 400, "\(target) \(lifetime): \(answer.text)")
                    #expect(Self.message(answer)?.hasPrefix("expires_in must be") == true, "\(answer.text)")
                }
                #expect(try await Self.post(client, target, "{\(size)\"expires_in\": 60}").status == 200)
                #expect(try await Self.post(client, target, "{\(size.dropLast(2))}").status == 200, "the default")
            }
            // ?format= takes the document's values, in lower case; any other is 400 listing them. (This server makes
            // JPEG thumbnails only.)
            let thumbnail = "/images/\(id)/thumbnails/64?format="
            for name in ["jpeg", "jpg"] {
                #expect(try await client.send("GET", thumbnail + name).status == 200, "\(name)")
            }
            for name in ["JPEG", "Webp", "AVIF", "Jpg", "gif", ""] {
                let answer = try await client.send("GET", thumbnail + name)
                #expect(answer.status == 400, "\(name): \(answer.text)")
                #expect(
                    Self.message(answer)
                        == "format must be one of jpeg, jpg, png, webp, avif (in lower case), not '\(name)'")
            }
        }
    }
}

extension DocumentedRequestsTests {
    /// The sizes the document shows as examples of a thumbnail size: every label in the descriptions and examples of
    /// a signed URL's `size` and of a thumbnail path's `size`.
    static func documentedSizeLabels() throws -> [String] {
        let paths = try #require(DocumentedHeadersTests.document["paths"] as? [String: Any])
        let signedURL = (paths["/images/{id}/signed-url"] as? [String: Any])?["post"] as? [String: Any]
        let body = ((signedURL?["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"]
        let bodySize = (((body as? [String: Any])?["schema"] as? [String: Any])?["properties"] as? [String: Any])?[
            "size"]
        let thumbnail = paths["/images/{id}/thumbnails/{size}"] as? [String: Any]
        let pathSize = (thumbnail?["parameters"] as? [Any])?.compactMap(DocumentedHeadersTests.resolved)
            .first { $0["name"] as? String == "size" }
        var texts: [String] = []
        for described in [try #require(bodySize as? [String: Any]), try #require(pathSize)] {
            texts.append(described["description"] as? String ?? "")
            for object in [described, described["schema"] as? [String: Any] ?? [:]] {
                if let example = object["example"] { texts.append("\(example)") }
                texts += (object["examples"] as? [Any] ?? []).map { "\($0)" }
            }
        }
        return texts.flatMap { text in
            text.matches(of: /[0-9]+(x[0-9]+)?/).map { String($0.output.0) }
        }
    }

    @Test func theDocumentsSizeExamplesAreSizesAConfigurationHolds() throws {
        let labels = try Self.documentedSizeLabels()
        #expect(!labels.isEmpty)
        for label in labels {
            #expect(throws: Never.self, "thumbnails.sizes: [\(label)]") {
                try PicpipeConfiguration.parse(yaml: "thumbnails:\n  sizes: [\(label)]\n").validate()
            }
        }
    }
}
