// A picture already in the store is never taken out of it by a later refusal of the same bytes: after a tightened
// limit, the re-upload and the replay that fail are dead-lettered, the picture, its thumbnails, metadata and ids stay.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct StoredPictureRefusalTests {
        /// What must survive: the original, its thumbnails, its metadata row, both ids with their bytes and
        /// thumbnail, and the listing under the first name.
        struct StoredPicture {
            var store: URL
            var base: String
            var photo: Data
            var hash: String
            var thumbnails: [String]

            func expectKept(_ stage: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                #expect(
                    ServeProcess.files(store, "originals") == ["\(hash.prefix(2))/\(hash).jpg"], "\(stage)",
                    sourceLocation: sourceLocation)
                #expect(
                    ServeProcess.files(store, "thumbnails") == thumbnails, "\(stage)", sourceLocation: sourceLocation)
                #expect(try await StoreView.metadataRows(store) == 1, "\(stage)", sourceLocation: sourceLocation)
                for id in [hash, "vacation"] {
                    let served = try await HTTPCall.send("GET", "\(base)/images/\(id)")
                    #expect(served.status == 200, "\(stage): \(id): \(served.text)", sourceLocation: sourceLocation)
                    #expect(served.body == photo, "\(stage): \(id)", sourceLocation: sourceLocation)
                    let thumbnail = try await HTTPCall.send("GET", "\(base)/images/\(id)/thumbnails/128")
                    #expect(thumbnail.status == 200, "\(stage): \(id)", sourceLocation: sourceLocation)
                    let metadata = try await HTTPCall.send("GET", "\(base)/images/\(id)/metadata")
                    #expect(metadata.status == 200, "\(stage): \(id)", sourceLocation: sourceLocation)
                }
                #expect(
                    try await DroppedUnderPutIDTests.listing(base) == [
                        [hash, "photo.jpg"], ["vacation", "vacation"],
                    ],
                    "\(stage)", sourceLocation: sourceLocation)
            }
        }

        /// One function's invocation of the newest upload event whose source name is `source`.
        static func state(_ store: URL, source: String, function: String) async throws -> EventLine? {
            try await StoreView.events(store).filter {
                $0.sourceName == source && $0.function == function && $0.eventName.hasPrefix("ObjectCreated")
            }.max { $0.eventID < $1.eventID }
        }

        /// Lowering `limits.max_pixels` and adding a size (SIGHUP) makes the thumbnail function refuse the stored
        /// picture's bytes. The same bytes dropped again, and a `replay` of the picture's first event, fail under the
        /// new limit: each is dead-lettered (`NAME.thumbnail.error.json`), and the stored picture stays whole. A new
        /// picture over the limit is still refused out of the store. Until session 34 the re-upload (and the replay)
        /// moved the stored original to failed/, removed its thumbnails and metadata row, and both ids answered 404.
        @Test func aTightenedLimitDeadLettersTheReuploadAndTheReplayAndKeepsTheStoredPicture() async throws {
            let root = try PicpipeProcess.temporaryFolder("stored-picture-refusal")
            defer { try? FileManager.default.removeItem(at: root) }
            let config = root.appendingPathComponent("picpipe.yaml")
            try "aws: {enabled: false}\nthumbnails: {sizes: [128]}\n".write(
                to: config, atomically: true, encoding: .utf8)
            let store = root.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_CONFIG": config.path])
            defer { serve.kill() }
            try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
            let port = try #require(ServeHTTPTests.port(in: serve.log))
            let base = "http://127.0.0.1:\(port)"
            let uploads = store.appendingPathComponent("uploads")

            // 800x600 = 480,000 pixels: taken under the default limit, named by a drop and by a PUT id.
            let photo = try BatchCommandTests.picture(.jpeg, seed: 340, width: 800, height: 600)
            try photo.write(to: uploads.appendingPathComponent("photo.jpg"))
            try await ServeProcess.eventually("photo.jpg processed") {
                try await StoreView.processed(store).contains("photo.jpg")
            }
            #expect(try await DroppedUnderPutIDTests.put(base, "vacation", photo).status == 201)
            try await ServeProcess.eventually("the PUT's event processed") {
                try await StoreView.processed(store).contains("vacation")
            }
            let hash = DroppedUnderPutIDTests.contentID(photo)
            let stored = StoredPicture(
                store: store, base: base, photo: photo, hash: hash,
                thumbnails: ServeProcess.files(store, "thumbnails"))
            #expect(stored.thumbnails.count == 1 && stored.thumbnails[0].hasPrefix("128/"), "\(stored.thumbnails)")
            try await stored.expectKept("before the change")

            // A limit under the picture's size and a size it has no thumbnail of: the function judges it again.
            try "aws: {enabled: false}\nthumbnails: {sizes: [128, 256]}\nlimits: {max_pixels: 100000}\n".write(
                to: config, atomically: true, encoding: .utf8)
            serve.signal(SIGHUP)
            try await ServeProcess.eventually("reloaded") { serve.log.contains("max_pixels=100000") }

            // The same bytes again under another name (a sync tool, a phone backup): refused, dead-lettered.
            try photo.write(to: uploads.appendingPathComponent("photo-copy.jpg"))
            try await ServeProcess.eventually("the re-upload judged") {
                let thumbnail = try await Self.state(store, source: "photo-copy.jpg", function: "thumbnail")
                let metadata = try await Self.state(store, source: "photo-copy.jpg", function: "metadata")
                return thumbnail?.state == "dead" && metadata?.state == "succeeded"
            }
            let refusal = try await Self.state(store, source: "photo-copy.jpg", function: "thumbnail")
            #expect(refusal?.error?.contains("over the limit of 100000 pixels") == true, "\(refusal?.error ?? "")")
            try await stored.expectKept("after the re-upload")
            #expect(ServeProcess.files(store, "failed") == ["photo-copy.jpg.thumbnail.error.json"])

            // The picture's first event replayed under the same limit: its thumbnail invocation fails again.
            let first = try #require(try await Self.state(store, source: "photo.jpg", function: "thumbnail"))
            let replay = try await PicpipeProcess.run(["replay", String(first.eventID), "--store", store.path])
            #expect(replay.status == 0, "\(replay.stderr)")
            try await ServeProcess.eventually("the replay judged") {
                let events = try await StoreView.events(store).filter { $0.eventID == first.eventID }
                return events.count == 2
                    && events.allSatisfy { $0.state == ($0.function == "thumbnail" ? "dead" : "succeeded") }
            }
            try await stored.expectKept("after the replay")
            #expect(
                ServeProcess.files(store, "failed") == [
                    "photo-copy.jpg.thumbnail.error.json", "photo.jpg.thumbnail.error.json",
                ])

            // A new picture over the limit is refused as before: its upload stored it, so it leaves the store.
            let large = try BatchCommandTests.picture(.jpeg, seed: 341, width: 800, height: 600)
            try large.write(to: uploads.appendingPathComponent("large.jpg"))
            try await ServeProcess.eventually("large.jpg refused") {
                FileManager.default.fileExists(atPath: store.appendingPathComponent("failed/large.jpg").path)
                    && FileManager.default.fileExists(
                        atPath: store.appendingPathComponent("failed/large.jpg.error.json").path)
            }
            try await ServeProcess.eventually("large.jpg's refusal settled") {
                let events = try await StoreView.events(store)
                return events.allSatisfy { ["succeeded", "dead"].contains($0.state) }
                    && events.contains { $0.eventName == "ObjectRemoved:Delete" }
            }
            try await stored.expectKept("after a new picture was refused")
            await serve.stop()
        }
    }
}
