// CORS (`http.cors_origins`): the pages of listed origins may call the API from their scripts; answers made ahead of
// the router (cached thumbnails) carry the same fields; nothing changes when no origin is listed.
import Foundation
import PipelineCore
import Testing

@Suite(.serialized)
struct CrossOriginTests {
    /// An answer's status line and header lines, every one (repeated fields such as `Vary` kept apart).
    static func head(
        _ client: LoopbackClient, _ method: String, _ target: String, _ fields: [String] = [], body: [UInt8] = []
    ) async throws -> (status: Int, lines: [String]) {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for field in fields { text += field + "\r\n" }
        if !body.isEmpty { text += "Content-Length: \(body.count)\r\n" }
        let bytes = try await client.conversation([(Array((text + "\r\n").utf8) + body, 0)])
        let end = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n").first ?? ""
        let lines = end.components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, Array(lines.dropFirst()).map { $0.lowercased() })
    }

    static func value(_ lines: [String], _ name: String) -> [String] {
        lines.filter { $0.hasPrefix(name + ":") }.map {
            String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test func listedOriginsMayCallAndOthersAreNotAnswered() async throws {
        let picture = try FetchServer.picture(seed: 44)
        try await FetchServer.with(configure: { $0.http.corsOrigins = ["https://App.Example.com"] }) { client, _ in
            let app = "Origin: https://app.example.com"
            let upload = try await Self.head(
                client, "POST", "/images", [app, "Content-Type: image/jpeg"], body: picture)
            #expect(upload.status == 202)
            #expect(Self.value(upload.lines, "access-control-allow-origin") == ["https://app.example.com"])
            #expect(Self.value(upload.lines, "access-control-expose-headers").first?.contains("location") == true)
            let id = try #require(
                Self.value(upload.lines, "location").first?.split(separator: "/").last.map(String.init))

            // A preflight from the listed origin is answered; from another, as before (405, no CORS fields).
            let preflight = try await Self.head(
                client, "OPTIONS", "/images/\(id)",
                [app, "Access-Control-Request-Method: DELETE", "Access-Control-Request-Headers: authorization"])
            #expect(preflight.status == 204)
            #expect(Self.value(preflight.lines, "access-control-allow-origin") == ["https://app.example.com"])
            #expect(Self.value(preflight.lines, "access-control-allow-methods").first?.contains("delete") == true)
            #expect(
                Self.value(preflight.lines, "access-control-allow-headers").first?.contains("authorization") == true)
            let foreign = try await Self.head(
                client, "OPTIONS", "/images/\(id)",
                ["Origin: https://evil.example", "Access-Control-Request-Method: DELETE"])
            #expect(foreign.status == 405)
            #expect(Self.value(foreign.lines, "access-control-allow-origin").isEmpty)

            // A thumbnail, twice (made, then from the cache ahead of the router), an error, for each kind of caller:
            // the listed origin gets its origin echoed; every answer varies by Origin (a shared cache must not hand
            // one caller's answer to another); another origin and no origin get no allowance.
            let thumbnail = "/images/\(id)/thumbnails/64"
            for _ in 0..<2 {
                for (fields, allowed) in [
                    ([app], ["https://app.example.com"]), (["Origin: https://evil.example"], []), ([], []),
                ] {
                    for target in [thumbnail, "/images/missing-one"] {
                        let answer = try await Self.head(client, "GET", target, fields)
                        #expect([200, 404].contains(answer.status), "\(target) \(fields)")
                        #expect(
                            Self.value(answer.lines, "access-control-allow-origin") == allowed, "\(target) \(fields)")
                        #expect(Self.value(answer.lines, "vary").contains("origin"), "\(target) \(fields)")
                    }
                }
            }
        }
    }

    @Test func anyOriginGetsAStarEverywhereAndNoListMeansNoCORS() async throws {
        let picture = try FetchServer.picture(seed: 45)
        try await FetchServer.with(configure: { $0.http.corsOrigins = ["*"] }) { client, _ in
            let id = try #require(
                try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: picture)
                    .json?["id"] as? String)
            for _ in 0..<2 {
                for fields in [[], ["Origin: https://anyone.example"]] {
                    let answer = try await Self.head(client, "GET", "/images/\(id)/thumbnails/64", fields)
                    #expect(answer.status == 200)
                    #expect(Self.value(answer.lines, "access-control-allow-origin") == ["*"], "\(fields)")
                }
            }
        }
        try await FetchServer.with { client, _ in
            let preflight = try await Self.head(
                client, "OPTIONS", "/images",
                ["Origin: https://app.example.com", "Access-Control-Request-Method: POST"])
            #expect(preflight.status == 405)
            let answer = try await Self.head(client, "GET", "/healthz", ["Origin: https://app.example.com"])
            #expect(Self.value(answer.lines, "access-control-allow-origin").isEmpty)
            #expect(!Self.value(answer.lines, "vary").contains("origin"))
        }
    }

    @Test func anOriginIsWrittenAsABrowserSendsIt() throws {
        for good in ["*", "https://app.example.com", "http://localhost:5173", "https://App.Example.com"] {
            var configuration = PicpipeConfiguration()
            configuration.http.corsOrigins = [good]
            #expect(throws: Never.self) { try configuration.validate() }
        }
        for bad in [
            "https://app.example.com/", "app.example.com", "ftp://files.example", "https://", "https://a.example/x",
        ] {
            var configuration = PicpipeConfiguration()
            configuration.http.corsOrigins = [bad]
            #expect(throws: ConfigurationError.self, "\(bad)") { try configuration.validate() }
        }
    }
}
