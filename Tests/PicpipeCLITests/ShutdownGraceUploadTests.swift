// SIGTERM while an upload is still arriving: `shutdown_grace` bounds it as it bounds queued work. The upload is cut
// when the grace ends, answered 503, and nothing of it is kept; serve exits 0. Until session 37 serve waited for the
// body however slowly it came (a client just above `min_upload_rate` held the shutdown for minutes).
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ShutdownGraceUploadTests {
        @Test func anUploadStillArrivingIsCutWhenTheShutdownGraceEnds() async throws {
            // No minimum rate: only the grace can end the trickle.
            let environment = ["PICPIPE_SHUTDOWN_GRACE": "1", "PICPIPE_MIN_UPLOAD_RATE": "0"]
            try await PicpipeCLI.ServeHardeningTests.withServe(environment: environment) { serve, store, base in
                let picture = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 7, width: 800, height: 600)
                let connection = try RawConnection(port: try PicpipeCLI.HostileClientTests.port(base))
                let head =
                    "POST /images HTTP/1.1\r\nHost: picpipe\r\nContent-Type: image/jpeg\r\n"
                    + "Content-Length: \(picture.count)\r\n\r\n"
                #expect(connection.send(head))
                let half = picture.count / 2
                #expect(connection.send(Array(picture.prefix(half))))
                // The route is reading the body once its spool file is there.
                let uploads = store.appendingPathComponent("uploads").path
                try await ServeProcess.eventually("the upload is being spooled") {
                    try FileManager.default.contentsOfDirectory(atPath: uploads).contains {
                        $0.hasPrefix(".picpipe-tmp-http-")
                    }
                }
                serve.signal(SIGTERM)
                // A byte every 100 ms, for as long as serve reads them (at most 30 s of the rest).
                var answer: [UInt8] = []
                var closed = false
                for byte in picture.dropFirst(half).prefix(300) {
                    let available = connection.receiveAvailable()
                    answer += available.bytes
                    closed = available.closed
                    if !answer.isEmpty || closed || !connection.send([byte]) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                answer += connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n{") }.bytes
                #expect(RawConnection.status(answer) == 503, "\(String(decoding: answer, as: UTF8.self))")
                #expect(String(decoding: answer, as: UTF8.self).contains("shutdown_grace"))

                #expect(await serve.waitForExit(within: 60) == 0, "serve stops once the upload is cut")
                #expect(ServeProcess.files(store, "originals").isEmpty, "nothing of the upload is kept")
                let left = try FileManager.default.contentsOfDirectory(atPath: uploads)
                #expect(!left.contains { $0.hasPrefix(".picpipe-tmp-") }, "\(left)")
            }
        }
    }
}
