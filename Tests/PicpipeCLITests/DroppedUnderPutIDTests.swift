// A picture dropped into uploads/ or imported by URL whose bytes a PUT id already names: its hash is an id of its
// own, so it is served under it and stays when the PUT id is deleted (as when it was dropped before the PUT).
import Crypto
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct DroppedUnderPutIDTests {
        /// The lowercase SHA-256 of `bytes`: the content id.
        static func contentID(_ bytes: Data) -> String {
            SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        }

        /// The listing's (id, name) pairs, sorted by id.
        static func listing(_ base: String) async throws -> [[String]] {
            let answer = try await HTTPCall.send("GET", "\(base)/images?limit=100")
            let items = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["items"]
            return ((items as? [[String: Any]]) ?? []).map { [$0["id"] as? String ?? "", $0["name"] as? String ?? ""] }
                .sorted { $0[0] < $1[0] }
        }

        static func put(_ base: String, _ id: String, _ bytes: Data) async throws -> HTTPCall {
            try await HTTPCall.send(
                "PUT", "\(base)/images/\(id)", headers: ["Content-Type": "image/jpeg"], body: bytes)
        }

        @Test func aPictureDroppedAfterAPutOfItsBytesKeepsItsHashWhenThePutIDIsDeleted() async throws {
            let root = try PicpipeProcess.temporaryFolder("dropped-under-put")
            defer { try? FileManager.default.removeItem(at: root) }
            let (serve, base) = try await OIDCAuthTests.serve(in: root, config: "watcher: {enabled: true}\n")
            defer { serve.kill() }
            let jpeg = try OIDCAuthTests.jpeg(seed: 41)
            let hash = Self.contentID(jpeg)
            #expect(try await Self.put(base, "mine", jpeg).status == 201)

            // Dropped under a temporary dot name (ignored), then renamed into place, as a copy tool does.
            let uploads = serve.store.appendingPathComponent("uploads")
            let staged = uploads.appendingPathComponent(".holiday.jpg.part")
            try jpeg.write(to: staged)
            let dropped = uploads.appendingPathComponent("holiday.jpg")
            try #require(rename(staged.path, dropped.path) == 0)
            // The upload goes once its original is stored, journaled and named.
            try await ServeProcess.eventually("holiday.jpg ingested") {
                !FileManager.default.fileExists(atPath: dropped.path)
            }

            let served = try await HTTPCall.send("GET", "\(base)/images/\(hash)")
            #expect(served.status == 200, "\(served.text)")
            #expect(served.body == jpeg)
            #expect(
                try await Self.listing(base) == [[hash, "holiday.jpg"], ["mine", "mine"]].sorted { $0[0] < $1[0] })

            #expect(try await HTTPCall.send("DELETE", "\(base)/images/mine").status == 204)
            let kept = try await HTTPCall.send("GET", "\(base)/images/\(hash)")
            #expect(kept.status == 200, "\(kept.text)")
            #expect(kept.body == jpeg)
            #expect(try await Self.listing(base) == [[hash, "holiday.jpg"]])
            #expect(ServeProcess.files(serve.store, "originals") == ["\(hash.prefix(2))/\(hash).jpg"])
            await serve.stop()
        }

        @Test func aPictureImportedAfterAPutOfItsBytesIsServedAtItsLocationAndKeptWhenThePutIDIsDeleted()
            async throws
        {
            let root = try PicpipeProcess.temporaryFolder("imported-under-put")
            defer { try? FileManager.default.removeItem(at: root) }
            let source = try await ImportSource(folder: root)
            defer { source.stop() }
            let (serve, base) = try await OIDCAuthTests.serve(in: root, config: "import:\n  allow: [127.0.0.1/32]\n")
            defer { serve.kill() }
            let hash = Self.contentID(source.jpeg)
            #expect(try await Self.put(base, "mine", source.jpeg).status == 201)

            let url = "\(source.base)/photo.jpg"
            let imported = try await ImportTests.importing(base, url)
            #expect(imported.status == 201, "\(imported.text)")
            let location = try #require(imported.header("Location"))
            #expect(location == "/images/\(hash)")
            let served = try await HTTPCall.send("GET", "\(base)\(location)")
            #expect(served.status == 200, "\(served.text)")
            #expect(served.body == source.jpeg)
            #expect(try await Self.listing(base) == [[hash, url], ["mine", "mine"]].sorted { $0[0] < $1[0] })

            #expect(try await HTTPCall.send("DELETE", "\(base)/images/mine").status == 204)
            let kept = try await HTTPCall.send("GET", "\(base)\(location)")
            #expect(kept.status == 200, "\(kept.text)")
            #expect(kept.body == source.jpeg)
            #expect(try await Self.listing(base) == [[hash, url]])
            await serve.stop()
        }
    }
}
