// `picpipe query` and `GET /images` read the same filters by the same rules: the same query is refused by both or
// answered by both with the same pictures (until session 29 they differed on near's KM, blanks in a bbox, bbox with
// near, and limit 0).
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct QueryAgreementTests {
        /// One query, as `name=value` pairs; the command gets them as `--name=value`.
        struct Case: CustomStringConvertible {
            var filters: [(String, String)]
            /// Whether both take it.
            var accepted: Bool
            /// Words the refusal must hold in both (which of near's values is wrong).
            var naming: [String] = []
            var description: String { filters.map { "\($0.0)=\($0.1)" }.joined(separator: "&") }
        }

        static let cases: [Case] = [
            Case(filters: [("near", "48.86,2.34,10")], accepted: true),
            Case(filters: [("near", "48.86,2.34,0")], accepted: false, naming: ["near", "KM", "not 0"]),
            Case(filters: [("near", "48.86,2.34,25000")], accepted: false, naming: ["near", "KM", "not 25000"]),
            Case(filters: [("near", "91,2.34,10")], accepted: false, naming: ["near", "LAT", "not 91"]),
            Case(filters: [("near", "48.86,181,10")], accepted: false, naming: ["near", "LON", "not 181"]),
            Case(filters: [("near", "48.86,2.34")], accepted: false, naming: ["near", "LAT,LON,KM"]),
            Case(filters: [("bbox", "40, -10, 60, 20")], accepted: true),
            Case(filters: [("bbox", "40,-10,60,20"), ("near", "48.86,2.34,10")], accepted: true),
            Case(filters: [("bbox", "-40,150,-30,152"), ("near", "48.86,2.34,10")], accepted: true),
            Case(filters: [("bbox", "60,-10,40,20")], accepted: false, naming: ["bbox", "S", "N"]),
            Case(filters: [("limit", "0")], accepted: false, naming: ["limit", "not 0"]),
            Case(filters: [("limit", "1")], accepted: true),
            Case(filters: [("taken_after", "2020-13")], accepted: false, naming: ["taken", "after", "2020-13"]),
        ]

        @Test func theCommandAndTheAPIReadFiltersByOneRule() async throws {
            let (store, folder) = try await QueryCommandTests.filledStore()
            defer { try? FileManager.default.removeItem(at: folder) }
            let serve = try await ServeProcess(store: store)
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let port = try #require(ServeHTTPTests.port(in: serve.log))
                for query in Self.cases { try await Self.compare(query, port: port, store: store) }
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        static func compare(_ query: Case, port: Int, store: URL) async throws {
            var components = try #require(URLComponents(string: "http://127.0.0.1:\(port)/images"))
            components.queryItems = query.filters.map { URLQueryItem(name: $0.0, value: $0.1) }
            let (body, response) = try await URLSession.shared.data(from: try #require(components.url))
            let status = try #require(response as? HTTPURLResponse).statusCode
            let answer = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            let options = query.filters.map { "--\($0.0.replacingOccurrences(of: "_", with: "-"))=\($0.1)" }
            let run = try await PicpipeProcess.run(["query", "--store", store.path, "--json"] + options)

            #expect(
                status == (query.accepted ? 200 : 400),
                "\(query): HTTP \(status) \(String(decoding: body, as: UTF8.self))")
            #expect(run.status == (query.accepted ? 0 : 2), "\(query): exit \(run.status) \(run.stderr)")
            if query.accepted {
                let listed = (answer?["items"] as? [[String: Any]])?.compactMap { $0["sha256"] as? String }
                let printed = run.stdout.split(separator: "\n").compactMap { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
                }
                #expect(listed == printed, "\(query)")
            } else {
                let message = ((answer?["error"] as? [String: Any])?["message"] as? String) ?? ""
                for word in query.naming {
                    #expect(message.contains(word), "\(query): HTTP says \(message)")
                    #expect(run.stderr.contains(word), "\(query): the command says \(run.stderr)")
                }
            }
        }

        /// `picpipe metadata`, `query --json`, `GET /images/{id}/metadata` and the listing give one orientation for
        /// each picture: exiftool -n's, so an Orientation of 0 or 9 (values EXIF leaves undefined) is 0 or 9
        /// everywhere, and an absent one null. Until session 34 the listing alone gave null for 0 and 9.
        @Test func everyAnswerGivesTheSameOrientation() async throws {
            let folder = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let inputs = folder.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let expected: [String: Int?] = ["o0.jpg": 0, "o6.jpg": 6, "o9.jpg": 9, "none.jpg": nil]
            for (index, (name, orientation)) in expected.sorted(by: { $0.key < $1.key }).enumerated() {
                let data =
                    try orientation.map { try FormatsEndToEndTests.jpegWithEXIF(orientation: $0, seed: index) }
                    ?? BatchCommandTests.picture(.jpeg, seed: index, width: 40, height: 30)
                try data.write(to: inputs.appendingPathComponent(name))
            }
            let names = expected.keys.sorted()
            let read = try await PicpipeProcess.run(
                ["metadata", "--hash"] + names.map { inputs.appendingPathComponent($0).path })
            try #require(read.status == 0, "\(read.stderr)")
            var byName: [String: [String: Any]] = [:]
            for line in read.stdout.split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                byName[URL(fileURLWithPath: object["file"] as? String ?? "").lastPathComponent] = object
            }
            let store = folder.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "--quiet"])
            try #require(batch.status == 0, "batch failed: \(batch.stderr)")
            let query = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
            var queried: [String: Any] = [:]
            for line in query.stdout.split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                queried[object["id"] as? String ?? "?"] = object["orientation"]
            }
            let serve = try await ServeProcess(store: store)
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let port = try #require(ServeHTTPTests.port(in: serve.log))
                let base = "http://127.0.0.1:\(port)/images"
                let (body, _) = try await URLSession.shared.data(from: try #require(URL(string: base)))
                let items = try #require(
                    (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["items"] as? [[String: Any]])
                #expect(items.count == names.count)
                for name in names {
                    let id = try #require(byName[name]?["sha256"] as? String, "\(name)")
                    let (document, _) = try await URLSession.shared.data(
                        from: try #require(URL(string: "\(base)/\(id)/metadata")))
                    let metadata = try JSONSerialization.jsonObject(with: document) as? [String: Any]
                    let listed = items.first { $0["sha256"] as? String == id }
                    let answers: [(String, Any?)] = [
                        ("picpipe metadata", byName[name]?["orientation"]), ("query --json", queried[id]),
                        ("/metadata", metadata?["orientation"]), ("GET /images", listed?["orientation"]),
                    ]
                    for (source, answer) in answers {
                        if let orientation = expected[name] ?? nil {
                            #expect(answer as? Int == orientation, "\(name): \(source) gives \(answer ?? "no key")")
                        } else {
                            #expect(answer is NSNull, "\(name): \(source) gives \(answer ?? "no key")")
                        }
                    }
                }
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }
    }
}
