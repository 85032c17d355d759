// Going back to an earlier thumbnail recipe serves a file made before the change: its Last-Modified must not go back
// with it, or a client revalidating by date keeps the other recipe's bytes (a 304 for different bytes).
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct RecipeRevertTests {
        /// A thumbnail's answer: its bytes, ETag and Last-Modified (seconds).
        struct Answer {
            var status: Int
            var body: Data
            var eTag: String?
            var modified: Int?
        }

        /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) formatter, as HTTP writes dates.
        static func httpDates() -> DateFormatter {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            return formatter
        }

        static func get(_ url: String, ifModifiedSince: Int? = nil) async throws -> Answer {
            let dates = httpDates()
            let headers =
                ifModifiedSince.map {
                    ["If-Modified-Since": dates.string(from: Date(timeIntervalSince1970: Double($0)))]
                } ?? [:]
            let answer = try await HTTPCall.send("GET", url, headers: headers)
            return Answer(
                status: answer.status, body: answer.body, eTag: answer.header("ETag"),
                modified: answer.header("Last-Modified").flatMap(dates.date(from:)).map {
                    Int($0.timeIntervalSince1970)
                })
        }

        /// Returns once the wall clock is past the second `second`: HTTP dates count whole seconds, and two changes
        /// within one cannot be told apart by date (the clock is waited for, no process).
        static func waitForTheSecondAfter(_ second: Int) async throws {
            while Int(Date().timeIntervalSince1970) <= second { try await Task.sleep(for: .milliseconds(50)) }
        }

        static func start(_ store: URL, config: URL) async throws -> (ServeProcess, String) {
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_CONFIG": config.path])
            try await ServeProcess.eventually("http listening") {
                serve.log.contains("http listening") || !serve.process.isRunning
            }
            let port = try #require(ServeHTTPTests.port(in: serve.log), "\(serve.log)")
            return (serve, "http://127.0.0.1:\(port)")
        }

        /// JPEG quality 82 → 60 (SIGHUP) → 82 again serves the q82 file made first. A client holding the q60 answer
        /// and revalidating with its date gets the q82 bytes (200), dated after the q60 answer; after a restart
        /// into q60 the same, and a restart with an unchanged configuration keeps the date (a 304 stays a 304).
        /// Until session 34 the revert answered 304 with the q82 ETag and a Last-Modified older than the q60 one.
        @Test func goingBackToAnEarlierRecipeNeverDatesTheThumbnailBack() async throws {
            let root = try PicpipeProcess.temporaryFolder("recipe-revert")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let config = root.appendingPathComponent("picpipe.yaml")
            func configure(quality: Int) throws {
                try "aws: {enabled: false}\nthumbnails: {sizes: [128], quality: \(quality)}\n".write(
                    to: config, atomically: true, encoding: .utf8)
            }
            try configure(quality: 82)
            var (serve, base) = try await Self.start(store, config: config)
            defer { serve.kill() }
            let photo = try BatchCommandTests.picture(.jpeg, seed: 342, width: 640, height: 480)
            let hash = DroppedUnderPutIDTests.contentID(photo)
            try photo.write(to: store.appendingPathComponent("uploads/photo.jpg"))
            try await ServeProcess.eventually("photo.jpg processed") {
                try await StoreView.processed(store).contains("photo.jpg")
            }
            var url: String { "\(base)/images/\(hash)/thumbnails/128" }
            let q82 = try await Self.get(url)
            #expect(q82.status == 200 && q82.eTag?.contains("-q82-") == true, "\(q82.eTag ?? "")")
            let q82Date = try #require(q82.modified)

            try await Self.waitForTheSecondAfter(q82Date)
            try configure(quality: 60)
            serve.signal(SIGHUP)
            try await ServeProcess.eventually("reloaded to q60") {
                serve.log.components(separatedBy: "configuration reloaded").count == 2
            }
            let q60 = try await Self.get(url)
            #expect(q60.status == 200 && q60.eTag?.contains("-q60-") == true, "\(q60.eTag ?? "")")
            let q60Date = try #require(q60.modified)
            #expect(q60Date > q82Date)

            try await Self.waitForTheSecondAfter(q60Date)
            try configure(quality: 82)
            serve.signal(SIGHUP)
            try await ServeProcess.eventually("reloaded to q82") {
                serve.log.components(separatedBy: "configuration reloaded").count == 3
            }
            // The client holds the q60 bytes, dated q60Date: they are not current.
            let reverted = try await Self.get(url, ifModifiedSince: q60Date)
            #expect(reverted.status == 200, "a 304 would keep the q60 bytes")
            #expect(reverted.body == q82.body && reverted.eTag == q82.eTag)
            let revertedDate = try #require(reverted.modified)
            #expect(revertedDate > q60Date, "Last-Modified went back: \(revertedDate) after \(q60Date)")
            #expect(try await Self.get(url, ifModifiedSince: revertedDate).status == 304)

            // Into q60 again by a restart: the q60 file made before is dated to the start, not to its making.
            try await Self.waitForTheSecondAfter(revertedDate)
            await serve.stop()
            try configure(quality: 60)
            (serve, base) = try await Self.start(store, config: config)
            let restarted = try await Self.get(url, ifModifiedSince: revertedDate)
            #expect(restarted.status == 200 && restarted.body == q60.body && restarted.eTag == q60.eTag)
            let restartedDate = try #require(restarted.modified)
            #expect(restartedDate > revertedDate)

            // A restart that changes nothing keeps the dates: what a client holds stays current.
            try await Self.waitForTheSecondAfter(restartedDate)
            await serve.stop()
            (serve, base) = try await Self.start(store, config: config)
            let same = try await Self.get(url, ifModifiedSince: restartedDate)
            #expect(same.status == 304 && same.modified == restartedDate)
            await serve.stop()
        }
    }
}
