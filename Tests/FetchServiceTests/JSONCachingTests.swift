// The JSON reads say how a cache may keep them, as the files do: the listing (whose signed thumbnail URLs expire) is
// revalidated on every use; /cameras and the metadata carry an ETag and answer a matching If-None-Match with 304, so a
// revalidation costs no body. The document declares what they send.
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct JSONCachingTests {
    /// Reads need a key.
    static func protected(_ configuration: inout PicpipeConfiguration) {
        configuration.http.apiKeys = ["reader-key-0123456789"]
        configuration.http.protectReads = true
    }

    @Test func theListingIsRevalidatedAndCamerasAndMetadataAnswer304() async throws {
        let first = try FetchServer.picture(seed: 65)
        let second = try FetchServer.picture(seed: 66)
        try await FetchServer.with { client, _ in
            let jpeg = [("Content-Type", "image/jpeg")]
            let id = try #require(
                try await client.send("POST", "/images", headers: jpeg, body: first).json?["id"] as? String)
            let metadata = try await client.send("GET", "/images/\(id)/metadata")
            #expect(metadata.status == 200)
            let listing = try await client.send("GET", "/images")
            #expect(listing.header("Cache-Control") == "no-cache")

            let tag = try #require(metadata.header("ETag"))
            #expect(tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count > 20, "a strong tag: \(tag)")
            for condition in [tag, "W/" + tag, "\"other\", " + tag, "*"] {
                let again = try await client.send(
                    "GET", "/images/\(id)/metadata", headers: [("If-None-Match", condition)])
                #expect(again.status == 304, "\(condition)")
                #expect(again.body.isEmpty)
                #expect(again.header("ETag") == tag)
                #expect(again.header("Cache-Control") == metadata.header("Cache-Control"))
            }
            let other = try await client.send(
                "GET", "/images/\(id)/metadata", headers: [("If-None-Match", "\"other\"")])
            #expect(other.status == 200)
            #expect(other.body == metadata.body)

            let cameras = try await client.send("GET", "/cameras")
            let camerasTag = try #require(cameras.header("ETag"))
            #expect(try await client.send("GET", "/cameras", headers: [("If-None-Match", camerasTag)]).status == 304)
            let head = try await client.send("HEAD", "/cameras", headers: [("If-None-Match", camerasTag)])
            #expect(head.status == 304)
            // Another picture changes the counts: the old tag no longer matches.
            let secondID = try #require(
                try await client.send("POST", "/images", headers: jpeg, body: second).json?["id"] as? String)
            #expect(try await client.send("GET", "/images/\(secondID)/metadata").status == 200)
            let changed = try await client.send("GET", "/cameras", headers: [("If-None-Match", camerasTag)])
            #expect(changed.status == 200)
            #expect(changed.header("ETag") != camerasTag)
            #expect(changed.body != cameras.body)

            // What they send is what the document declares.
            let calls = [
                DocumentedHeadersTests.Call(method: "GET", target: "/images", operation: "/images"),
                .init(method: "GET", target: "/cameras", operation: "/cameras"),
                .init(method: "GET", target: "/cameras", operation: "/cameras", headers: [("If-None-Match", "*")]),
                .init(method: "GET", target: "/images/\(id)/metadata", operation: "/images/{id}/metadata"),
                .init(
                    method: "GET", target: "/images/\(id)/metadata", operation: "/images/{id}/metadata",
                    headers: [("If-None-Match", tag)]),
            ]
            let seen = try await DocumentedHeadersTests.expectDeclared(
                ["Cache-Control", "ETag"], calls, client: client)
            #expect(seen["Cache-Control"] == calls.count)
            #expect(seen["ETag"] == calls.count - 1, "all but the listing")
        }
        try await FetchServer.with(configure: Self.protected) { client, _ in
            let key = [("Authorization", "Bearer reader-key-0123456789")]
            for target in ["/images", "/cameras"] {
                let answer = try await client.send("GET", target, headers: key)
                #expect(answer.header("Cache-Control") == "private, no-cache", "\(target)")
            }
        }
    }
}
