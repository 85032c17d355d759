// The header fields the HTTP API sends, read against the OpenAPI document that describes them: a field a client
// sees on an answer is declared on that operation's response, with a schema its value satisfies. schemathesis checks
// the second half (ST108) for the fields a document declares; one it does not declare, it never looks at.
import FetchService
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct DocumentedHeadersTests {
    /// The document as the server serves it (JSON: YAML anchors and merge keys resolved). Only read.
    nonisolated(unsafe) static let document: [String: Any] =
        (try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8))) as? [String: Any] ?? [:]

    /// The object `node` is, or the one its `$ref` (within the document) leads to.
    static func resolved(_ node: Any?) -> [String: Any]? {
        guard var object = node as? [String: Any] else { return nil }
        while let reference = object["$ref"] as? String, reference.hasPrefix("#/") {
            var target: Any? = document
            for part in reference.dropFirst(2).split(separator: "/") {
                target = (target as? [String: Any])?[String(part)]
            }
            guard let next = target as? [String: Any] else { return nil }
            object = next
        }
        return object
    }

    /// The schema the document gives the field `name` on the `status` answer of `method path`; nil when that
    /// response does not declare the field.
    static func declared(_ name: String, on method: String, _ path: String, _ status: Int) -> [String: Any]? {
        let operation = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()]
        guard let responses = (operation as? [String: Any])?["responses"] as? [String: Any],
            let response = resolved(responses[String(status)]),
            let headers = response["headers"] as? [String: Any],
            let header = headers.first(where: { $0.key.lowercased() == name.lowercased() }).flatMap({
                resolved($0.value)
            })
        else { return nil }
        return resolved(header["schema"]) ?? [:]
    }

    /// Whether `value` satisfies a header schema (the keywords the document uses for header fields).
    static func admits(_ schema: [String: Any], _ value: String) -> Bool {
        if let constant = schema["const"] { return "\(constant)" == value }
        if let values = schema["enum"] as? [Any], !values.contains(where: { "\($0)" == value }) { return false }
        if let pattern = schema["pattern"] as? String {
            // JSON Schema's `pattern` is a search, anchored only where the pattern says so.
            guard value.range(of: pattern, options: .regularExpression) != nil else { return false }
        }
        if schema["type"] as? String == "integer" { return Int(value) != nil }
        return true
    }

    /// One request, and the operation of the document it is an instance of.
    struct Call {
        var method: String
        var target: String
        var operation: String
        var headers: [(String, String)] = []
        var body: [UInt8]? = nil
    }

    /// Sends each call and checks that every one of `fields` its answer carries is declared on that answer's
    /// response, with a schema the value satisfies. - Returns: how many fields were seen, by name.
    @discardableResult
    static func expectDeclared(
        _ fields: [String], _ calls: [Call], client: LoopbackClient, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String: Int] {
        var seen: [String: Int] = [:]
        for call in calls {
            let answer = try await client.send(call.method, call.target, headers: call.headers, body: call.body)
            for field in fields {
                guard let value = answer.header(field) else { continue }
                seen[field, default: 0] += 1
                let schema = declared(field, on: call.method, call.operation, answer.status)
                let undeclared =
                    "\(call.method) \(call.target): \(answer.status) carries \(field): \(value), which the document "
                    + "does not declare on \(call.method) \(call.operation) \(answer.status)"
                #expect(schema != nil, Comment(rawValue: undeclared), sourceLocation: sourceLocation)
                if let schema {
                    #expect(
                        admits(schema, value), "\(call.method) \(call.target): \(field): \(value) is outside \(schema)",
                        sourceLocation: sourceLocation)
                }
            }
        }
        return seen
    }

    /// CORS on for one web origin.
    static func listingAnOrigin(_ configuration: inout PicpipeConfiguration) {
        configuration.http.corsOrigins = ["https://app.example.com"]
    }

    @Test func everyAnswerOfACrossOriginServeDeclaresItsVary() async throws {
        let picture = try FetchServer.picture(seed: 61)
        try await FetchServer.with(configure: Self.listingAnOrigin) { client, _ in
            let upload = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: picture)
            #expect(upload.status == 202)
            let id = try #require(upload.json?["id"] as? String)
            let origin = ("Origin", "https://app.example.com")
            let thumbnail = "/images/{id}/thumbnails/{size}"
            var calls = [
                Call(
                    method: "POST", target: "/images", operation: "/images", headers: [("Content-Type", "image/jpeg")],
                    body: picture),
                Call(method: "GET", target: "/images", operation: "/images"),
                Call(method: "GET", target: "/images?limit=0", operation: "/images"),
                Call(method: "GET", target: "/images/\(id)", operation: "/images/{id}", headers: [origin]),
                Call(method: "GET", target: "/images/missing", operation: "/images/{id}"),
                Call(method: "GET", target: "/images/\(id)/metadata", operation: "/images/{id}/metadata"),
                Call(method: "GET", target: "/cameras", operation: "/cameras"),
                Call(method: "GET", target: "/auth/me", operation: "/auth/me"),
                Call(method: "GET", target: "/healthz", operation: "/healthz"),
                Call(method: "GET", target: "/openapi.json", operation: "/openapi.json"),
                Call(method: "DELETE", target: "/images/nothing-here", operation: "/images/{id}"),
            ]
            // A thumbnail by Accept (Vary: Accept, then Origin), made and then from the cache ahead of the router.
            for _ in 0..<2 {
                calls.append(
                    Call(
                        method: "GET", target: "/images/\(id)/thumbnails/64", operation: thumbnail,
                        headers: [("Accept", "image/webp")]))
                calls.append(
                    Call(method: "GET", target: "/images/\(id)/thumbnails/64", operation: thumbnail, headers: [origin]))
            }
            let seen = try await Self.expectDeclared(["Vary"], calls, client: client)
            #expect(seen["Vary"] == calls.count, "every answer varies by Origin")
        }
    }

    /// A key with a usage plan that admits every request of a test.
    static func planned(_ configuration: inout PicpipeConfiguration) {
        configuration.auth.apiKeys = [
            ScopedAPIKey(
                name: "ingest", key: "ingest-key-0123456789", scopes: ["admin"],
                usagePlan: UsagePlan(rate: 100, burst: 1000, dailyQuota: 100_000))
        ]
    }

    @Test func everyAnswerToACallerWithAPlanCarriesItsCountsAndTheDocumentDeclaresThem() async throws {
        let picture = try FetchServer.picture(seed: 64)
        try await FetchServer.with(configure: Self.planned) { client, _ in
            let key = ("Authorization", "Bearer ingest-key-0123456789")
            let upload = try await client.send(
                "POST", "/images", headers: [key, ("Content-Type", "image/jpeg")], body: picture)
            let id = try #require(upload.json?["id"] as? String)
            let tag = try #require(upload.header("ETag"))
            let calls = [
                Call(
                    method: "POST", target: "/images", operation: "/images",
                    headers: [key, ("Content-Type", "image/jpeg")],
                    body: picture),
                Call(method: "GET", target: "/images", operation: "/images", headers: [key]),
                Call(method: "GET", target: "/images/\(id)", operation: "/images/{id}", headers: [key]),
                Call(
                    method: "GET", target: "/images/\(id)", operation: "/images/{id}",
                    headers: [key, ("If-None-Match", tag)]),
                Call(
                    method: "GET", target: "/images/\(id)/thumbnails/64", operation: "/images/{id}/thumbnails/{size}",
                    headers: [key]),
                Call(
                    method: "GET", target: "/images/\(id)/metadata", operation: "/images/{id}/metadata", headers: [key]),
                Call(method: "GET", target: "/cameras", operation: "/cameras", headers: [key]),
                Call(method: "GET", target: "/auth/me", operation: "/auth/me", headers: [key]),
                Call(method: "GET", target: "/metrics", operation: "/metrics", headers: [key]),
                // Refusals after the request was admitted (and counted): they say what is left too.
                Call(method: "GET", target: "/images?limit=0", operation: "/images", headers: [key]),
                Call(method: "GET", target: "/images/missing", operation: "/images/{id}", headers: [key]),
                Call(
                    method: "GET", target: "/images/\(id)/thumbnails/300", operation: "/images/{id}/thumbnails/{size}",
                    headers: [key]),
                Call(
                    method: "POST", target: "/images/\(id)/signed-url", operation: "/images/{id}/signed-url",
                    headers: [key, ("Content-Type", "application/json")], body: Array(#"{"size": 64}"#.utf8)),
                Call(method: "DELETE", target: "/images/missing", operation: "/images/{id}", headers: [key]),
            ]
            let fields = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
            let seen = try await Self.expectDeclared(fields, calls, client: client)
            for field in fields { #expect(seen[field] == calls.count, "\(field) on every answer") }
        }
        // A RequestResponse import's 201 carries the ETag of what it stored (ImportTests sees it end to end).
        #expect(Self.declared("ETag", on: "POST", "/images", 201) != nil)
    }
}
