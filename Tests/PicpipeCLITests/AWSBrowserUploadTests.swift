// A web site's uploads to picpipe's S3 API in a real headless Chromium (Tests/Browser/s3_browser_test.py): its HTML
// form with a boto3-signed policy (POST Object) and its script's fetch() PUT to a presigned URL, which needs the
// site's origin in aws.cors_origins (the preflight was refused as an unsigned request before). The pictures must
// arrive as originals, byte for byte, and be processed. Screenshots land in .build/s3-browser-artifacts/.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSBrowserUploadTests {
        /// Where the form and its landing page are photographed (the gallery suite empties its own folder).
        static let artifacts = PicpipeProcess.packageRoot.appendingPathComponent(".build/s3-browser-artifacts")

        @Test(.enabled(if: PicpipeProcess.hasCorpus)) func aWebSiteUploadsByFormAndByPresignedPut() async throws {
            guard GalleryBrowserTests.browserAvailable(), await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-browser")
            defer { try? FileManager.default.removeItem(at: root) }
            let sitePort = try GalleryBrowserTests.freePort()
            let gateway = try await AWSServe.start(
                root: root, environment: ["PICPIPE_AWS_CORS_ORIGINS": "http://127.0.0.1:\(sitePort)"])
            do {
                let form = root.appendingPathComponent("form picture.jpg")
                let put = root.appendingPathComponent("put.jpg")
                try FileManager.default.copyItem(
                    at: PicpipeProcess.corpus.appendingPathComponent("jpeg-odd/baseline-testorig.jpg"), to: form)
                try FileManager.default.copyItem(
                    at: PicpipeProcess.corpus.appendingPathComponent("jpeg-exif/apple-iphone-4.jpg"), to: put)
                let output = try await AWSTools.run(
                    AWSTools.python,
                    [
                        PicpipeProcess.packageRoot.appendingPathComponent("Tests/Browser/s3_browser_test.py").path,
                        "--endpoint", gateway.endpoint, "--key-id", AWSServe.keyID, "--secret", AWSServe.secret,
                        "--site-port", String(sitePort), "--form-picture", form.path, "--put-picture", put.path,
                        "--artifacts", Self.artifacts.path,
                    ], timeout: 600)
                #expect(output.status == 0, "\(output.stdout)\n\(output.stderr.suffix(3000))")
                let line = output.stdout.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
                let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let posted = try #require(result["form"] as? [String: String])
                #expect(posted["bucket"] == "uploads" && posted["key"] == "browser/form picture.jpg", "\(result)")
                let fetched = try #require(result["put"] as? [String: Any])
                #expect(fetched["status"] as? Int == 200, "\(result)")
                #expect(fetched["origin"] as? String == "http://127.0.0.1:\(sitePort)")
                #expect((result["otherOrigin"] as? [String: Any])?["error"] != nil, "\(result)")

                // Both pictures are originals, byte for byte, and went through the pipeline.
                for file in [form, put] {
                    let bytes = try Data(contentsOf: file)
                    let hash = AWSCLITests.hash(Array(bytes))
                    let stored = gateway.store.appendingPathComponent("originals/" + AWSCLITests.originalKey(hash))
                    #expect((try? Data(contentsOf: stored)) == bytes, "\(file.lastPathComponent) as an original")
                }
                try await ServeProcess.eventually("both browser uploads processed") {
                    try await StoreView.processed(gateway.store)
                        .isSuperset(of: ["browser/form picture.jpg", "browser/fetched.jpg"])
                }
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }
    }
}
