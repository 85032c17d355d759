// The S3 API while the shared database is out of reach: a refused upload keeps nothing and is answered as the HTTP
// API answers it, 503 with a time to come back, without an error line per request.
import Foundation
import Testing

extension PicpipeCLI.ScaleOutTests {
    /// Until session 33 a PutObject refused during the outage answered 500 InternalError with the driver's words,
    /// logged "AWS request failed" each time, and left its spooled body in uploads/ (as `.picpipe-tmp-s3-…`) until
    /// the process ended.
    @Test func anS3UploadDuringADatabaseOutageIs503AndKeepsNothing() async throws {
        guard await AWSTools.available() else { return }
        let server = try OwnServer.start()
        defer { server.stop() }
        let root = try PicpipeProcess.temporaryFolder("aws-pg-outage")
        defer { try? FileManager.default.removeItem(at: root) }
        let gateway = try await AWSServe.start(
            root: root, environment: ["PICPIPE_DATABASE_URL": server.url, "PICPIPE_THUMBNAIL_SIZES": Self.sizes])
        defer { gateway.serve.kill() }
        let picture = root.appendingPathComponent("outage.jpg")
        try PicpipeCLI.ServeCommandTests.picture(7300).write(to: picture)
        // One attempt: the CLI would retry a 503 (as it should) and the test wants the first answer.
        let config = root.appendingPathComponent("aws-one-attempt")
        try Data("[default]\nmax_attempts = 1\nretry_mode = standard\n".utf8).write(to: config)

        server.stop()
        for attempt in 0..<3 {
            let put = try await gateway.aws(
                ["s3", "cp", picture.path, "s3://uploads/outage-\(attempt).jpg", "--no-progress"], config: config)
            #expect(put.status != 0)
            #expect(put.stderr.contains("503") || put.stderr.contains("ServiceUnavailable"), "\(put.stderr)")
            #expect(!put.stderr.contains("InternalError"), "\(put.stderr)")
        }
        let uploads = gateway.store.appendingPathComponent("uploads")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: uploads.path)) ?? []
        #expect(left.filter { $0.hasPrefix(".picpipe-tmp") }.isEmpty, "spooled bodies left behind: \(left)")
        #expect(StoreView.files(gateway.store, "originals").isEmpty)
        #expect(!gateway.serve.log.contains("AWS request failed"), "\(gateway.serve.log)")
        #expect(gateway.serve.process.isRunning)
    }
}
