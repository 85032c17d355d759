// The real `picpipe serve` binary with its HTTP API: POST an image, poll its thumbnail, GET the original.
import Foundation
import ImageCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ServeHTTPTests {
        @Test func uploadThenThumbnailThenOriginalThroughServe() async throws {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("serve-http-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            do {
                try await roundTrip(serve, store: store)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        func roundTrip(_ serve: ServeProcess, store: URL) async throws {
            try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
            let port = try #require(Self.port(in: serve.log))
            let base = "http://127.0.0.1:\(port)"

            var pixels = [UInt8](repeating: 0, count: 320 * 240 * 3)
            for index in pixels.indices { pixels[index] = UInt8(truncatingIfNeeded: index / 7) }
            let jpeg = try ImageEncoder.encode(
                PixelBuffer(width: 320, height: 240, channels: 3, bytes: pixels), format: .jpeg, quality: 90)

            var upload = URLRequest(url: try #require(URL(string: "\(base)/images")))
            upload.httpMethod = "POST"
            upload.setValue("image/jpeg", forHTTPHeaderField: "Content-Type")
            let (posted, postResponse) = try await URLSession.shared.upload(for: upload, from: Data(jpeg))
            #expect((postResponse as? HTTPURLResponse)?.statusCode == 202)
            let id = try #require((try JSONSerialization.jsonObject(with: posted) as? [String: Any])?["id"] as? String)

            // The thumbnail function runs from the journal; poll until the file is there (a GET would also make it).
            try await ServeProcess.eventually("thumbnail made") {
                !ServeProcess.files(store, "thumbnails").filter { $0.contains(id) }.isEmpty
            }
            let (thumbnail, thumbnailResponse) = try await URLSession.shared.data(
                from: try #require(URL(string: "\(base)/images/\(id)/thumbnails/256")))
            let http = try #require(thumbnailResponse as? HTTPURLResponse)
            #expect(http.statusCode == 200)
            #expect(http.value(forHTTPHeaderField: "Content-Type") == "image/jpeg")
            #expect(Array(thumbnail.prefix(2)) == [0xFF, 0xD8])
            let (original, _) = try await URLSession.shared.data(
                from: try #require(URL(string: "\(base)/images/\(id)")))
            #expect(Array(original) == jpeg)
        }

        /// The port from serve's "http listening" log line (`address=127.0.0.1:PORT`).
        static func port(in log: String) -> Int? {
            guard let line = log.split(separator: "\n").first(where: { $0.contains("http listening") }),
                let range = line.range(of: "127.0.0.1:")
            else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }
}
