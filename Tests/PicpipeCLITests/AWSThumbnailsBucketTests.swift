// The S3 `thumbnails` bucket agrees with the HTTP API: it lists and serves the files of the sizes and recipe in force,
// not those of a size taken out of the configuration or of an earlier quality, which stay on disk until --prune.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct AWSThumbnailsBucketTests {
        /// The keys of the `thumbnails` bucket, and its common prefixes at `/`.
        static func listing(_ gateway: AWSServe) async throws -> (keys: [String], prefixes: [String]) {
            let all = try await gateway.awsJSON(["s3api", "list-objects-v2", "--bucket", "thumbnails"])
            let rolled = try await gateway.awsJSON([
                "s3api", "list-objects-v2", "--bucket", "thumbnails", "--delimiter", "/",
            ])
            let keys = ((all["Contents"] as? [[String: Any]]) ?? []).compactMap { $0["Key"] as? String }
            let prefixes = ((rolled["CommonPrefixes"] as? [[String: Any]]) ?? []).compactMap { $0["Prefix"] as? String }
            return (keys, prefixes)
        }

        /// Rewrites the configuration file and has serve read it (SIGHUP), waiting for the reload's log line.
        static func reconfigure(_ gateway: AWSServe, file: URL, _ yaml: String) async throws {
            let before = gateway.serve.log.components(separatedBy: "configuration reloaded").count
            try Data(yaml.utf8).write(to: file)
            gateway.serve.signal(SIGHUP)
            try await ServeProcess.eventually("configuration reloaded") {
                gateway.serve.log.components(separatedBy: "configuration reloaded").count > before
            }
        }

        /// Until session 34 a size taken out of `thumbnails.sizes` stayed listed and served by S3 (100 objects under
        /// `128/`, GetObject 200) while `GET /images/ID/thumbnails/128` answered 404 `unknown_size`; so did the files
        /// of an earlier quality. Now both front doors serve the recipes in force, and `picpipe thumbnails --missing`
        /// makes the new recipe's files, which S3 then lists.
        @Test func theThumbnailsBucketListsAndServesOnlyTheSizesAndRecipeInForce() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-thumbnails")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let file = root.appendingPathComponent("picpipe.yaml")
            try Data("thumbnails:\n  sizes: [128, 256]\n".utf8).write(to: file)
            let gateway = try await AWSServe.start(root: root, store: store, environment: ["PICPIPE_CONFIG": file.path])
            do {
                try Data(try AWSCLITests.jpeg(seed: 341)).write(to: store.appendingPathComponent("uploads/a.jpg"))
                try await ServeProcess.eventually("both thumbnails made") {
                    ServeProcess.files(store, "thumbnails").count == 2
                }
                let made = try await Self.listing(gateway)
                #expect(made.keys.count == 2 && made.prefixes == ["128/", "256/"])
                let small = try #require(made.keys.first { $0.hasPrefix("128/") })
                let large = try #require(made.keys.first { $0.hasPrefix("256/") })
                #expect(
                    try await gateway.aws(["s3api", "head-object", "--bucket", "thumbnails", "--key", small]).status
                        == 0)

                // 128 taken out: its file stays on disk, but no front door has it.
                try await Self.reconfigure(gateway, file: file, "thumbnails:\n  sizes: [256]\n")
                #expect(
                    FileManager.default.fileExists(atPath: store.appendingPathComponent("thumbnails/" + small).path))
                let without = try await Self.listing(gateway)
                #expect(without.keys == [large] && without.prefixes == ["256/"])
                let head = try await gateway.aws(["s3api", "head-object", "--bucket", "thumbnails", "--key", small])
                #expect(head.status != 0 && head.stderr.contains("404"), "\(head.stderr)")
                let get = try await gateway.aws([
                    "s3api", "get-object", "--bucket", "thumbnails", "--key", small,
                    root.appendingPathComponent("out.jpg").path,
                ])
                #expect(get.status != 0 && get.stderr.contains("NoSuchKey"), "\(get.stderr)")
                // Taken back in, the same file is served again, as over HTTP.
                try await Self.reconfigure(gateway, file: file, "thumbnails:\n  sizes: [128, 256]\n")
                #expect(try await Self.listing(gateway).keys.count == 2)

                // Another quality: the earlier recipe's files are no objects; the new one's are once made.
                let lower = "thumbnails:\n  sizes: [128, 256]\n  quality: 60\n"
                try await Self.reconfigure(gateway, file: file, lower)
                #expect(try await Self.listing(gateway).keys.isEmpty)
                let missing = try await PicpipeProcess.run(
                    ["thumbnails", "--missing", "--config", file.path, "--store", store.path, "-q"])
                #expect(missing.status == 0, "\(missing.stderr)")
                let remade = try await Self.listing(gateway)
                #expect(remade.keys.count == 2 && remade.keys.allSatisfy { $0.hasSuffix("-inside-q60-srgb.jpg") })
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }
    }
}
