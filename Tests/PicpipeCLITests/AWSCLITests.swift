// The real AWS CLI and boto3 against the real `serve`: `aws s3 cp` (single part and multipart) into s3://uploads/
// fires the pipeline; ls, head-object, cp back, sync, rm (the HTTP DELETE's clean-up), presign + curl with expiry,
// wrong secrets; `aws lambda invoke` in the three invocation types, with the log tail, on a missing function and a
// corrupt original; list-functions and update-function-configuration round trips; a boto3 script.
import Foundation
import ImageCore
import PipelineCore
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSCLITests {
        /// A JPEG with distinct bytes per seed.
        static func jpeg(seed: Int, width: Int = 320, height: Int = 240) throws -> [UInt8] {
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            for index in pixels.indices { pixels[index] = UInt8(truncatingIfNeeded: index / 7 + seed * 31) }
            return try ImageEncoder.encode(
                PixelBuffer(width: width, height: height, channels: 3, bytes: pixels), format: .jpeg, quality: 90)
        }

        /// A JPEG of noise at quality 100: about 20 MB for 4400x3300, past the AWS CLI's 8 MB multipart threshold.
        static func largeJPEG() throws -> [UInt8] {
            let (width, height) = (4400, 3300)
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            pixels.withUnsafeMutableBufferPointer { buffer in
                for index in buffer.indices {
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    buffer[index] = UInt8(truncatingIfNeeded: state)
                }
            }
            return try ImageEncoder.encode(
                PixelBuffer(width: width, height: height, channels: 3, bytes: pixels), format: .jpeg, quality: 100)
        }

        static func hash(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { ContentHash(of: $0).hex } }

        static func md5(_ file: URL) async throws -> String {
            let output = try await AWSTools.run(URL(fileURLWithPath: "/usr/bin/md5sum"), [file.path])
            return String(output.stdout.prefix(32))
        }

        static func originalKey(_ hash: String) -> String { "\(hash.prefix(2))/\(hash).jpg" }

        static func withServe(
            environment: [String: String] = [:], _ body: (AWSServe) async throws -> Void
        ) async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-cli")
            defer { try? FileManager.default.removeItem(at: root) }
            let gateway = try await AWSServe.start(root: root, environment: environment)
            do {
                try await body(gateway)
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }

        @Test func s3CopyFiresThePipelineAndRemoveCleansUp() async throws {
            try await Self.withServe { gateway in
                let store = gateway.store
                let small = gateway.root.appendingPathComponent("small.jpg")
                let smallBytes = try Self.jpeg(seed: 1)
                try Data(smallBytes).write(to: small)
                let smallHash = Self.hash(smallBytes)

                let put = try await gateway.aws([
                    "s3", "cp", small.path, "s3://uploads/holiday/small.jpg", "--metadata", "trip=alps",
                    "--no-progress",
                ])
                #expect(put.status == 0, "\(put.stderr)")
                try await ServeProcess.eventually("thumbnails and metadata of the small upload") {
                    let rows = try await StoreView.metadataRows(store)
                    return ServeProcess.files(store, "thumbnails").filter { $0.contains(smallHash) }.count == 3
                        && rows == 1
                }
                // The event is the one a dropped file gets, named after the key.
                let created = try await StoreView.events(store).filter { $0.eventName == "ObjectCreated:Put" }
                #expect(Set(created.map(\.sourceName)) == ["holiday/small.jpg"])
                #expect(Set(created.map(\.function)) == ["thumbnail", "metadata"])

                let listing = try await gateway.aws(["s3", "ls", "s3://thumbnails/", "--recursive"])
                #expect(listing.status == 0, "\(listing.stderr)")
                let listed = listing.stdout.split(separator: "\n").filter { $0.contains(smallHash) }
                #expect(listed.count == 3)
                for size in ["128/", "256/", "1024/"] { #expect(listed.contains { $0.contains(" " + size) }) }

                let head = try await gateway.awsJSON([
                    "s3api", "head-object", "--bucket", "originals", "--key", Self.originalKey(smallHash),
                ])
                let smallMD5 = try await Self.md5(small)
                #expect(head["ETag"] as? String == "\"\(smallMD5)\"")
                #expect(head["ContentLength"] as? Int == smallBytes.count)
                #expect(head["ContentType"] as? String == "image/jpeg")
                #expect((head["Metadata"] as? [String: String]) == ["trip": "alps"])
                let back = try await AWSTools.runBytes(
                    AWSTools.aws,
                    [
                        "--endpoint-url", gateway.endpoint, "s3", "cp", "s3://originals/\(Self.originalKey(smallHash))",
                        "-",
                    ],
                    environment: gateway.environment())
                #expect(Array(back) == smallBytes)

                // 20 MB: the AWS CLI switches to a multipart upload at 8 MB.
                let large = gateway.root.appendingPathComponent("big.jpg")
                let largeBytes = try Self.largeJPEG()
                #expect(largeBytes.count > 16 * 1024 * 1024)
                try Data(largeBytes).write(to: large)
                let largeHash = Self.hash(largeBytes)
                let bigPut = try await gateway.aws(["s3", "cp", large.path, "s3://uploads/big.jpg", "--no-progress"])
                #expect(bigPut.status == 0, "\(bigPut.stderr)")
                let bigHead = try await gateway.awsJSON([
                    "s3api", "head-object", "--bucket", "originals", "--key", Self.originalKey(largeHash),
                ])
                let eTag = try #require(bigHead["ETag"] as? String)
                let parts = Int(eTag.dropFirst().dropLast().split(separator: "-").last ?? "") ?? 0
                #expect(
                    parts == (largeBytes.count + 8 * 1024 * 1024 - 1) / (8 * 1024 * 1024),
                    "md5-of-md5s-N, one per 8 MB part: \(eTag)")
                let bigBack = try await AWSTools.runBytes(
                    AWSTools.aws,
                    [
                        "--endpoint-url", gateway.endpoint, "s3", "cp", "s3://originals/\(Self.originalKey(largeHash))",
                        "-",
                    ],
                    environment: gateway.environment())
                #expect(bigBack == Data(largeBytes))
                try await ServeProcess.eventually("thumbnails and metadata of the multipart upload") {
                    let rows = try await StoreView.metadataRows(store)
                    return ServeProcess.files(store, "thumbnails").filter { $0.contains(largeHash) }.count == 3
                        && rows == 2
                }
                let multipart = try await StoreView.events(store).filter {
                    $0.eventName == "ObjectCreated:CompleteMultipartUpload"
                }
                #expect(Set(multipart.map(\.sourceName)) == ["big.jpg"])
                // Nothing of the multipart upload is left in uploads/.
                #expect(ServeProcess.files(store, "uploads").isEmpty)

                // rm of an original: the HTTP DELETE's clean-up (original, thumbnails, metadata row).
                let removed = try await gateway.aws(["s3", "rm", "s3://originals/\(Self.originalKey(smallHash))"])
                #expect(removed.status == 0, "\(removed.stderr)")
                #expect(!ServeProcess.files(store, "originals").contains { $0.contains(smallHash) })
                #expect(!ServeProcess.files(store, "thumbnails").contains { $0.contains(smallHash) })
                #expect(try await StoreView.metadataRows(store) == 1)
                await #expect(
                    try StoreView.events(store).contains {
                        $0.eventName == "ObjectRemoved:Delete" && $0.key.contains(smallHash)
                    })
                let after = try await gateway.aws([
                    "s3api", "head-object", "--bucket", "originals", "--key", Self.originalKey(smallHash),
                ])
                #expect(after.status != 0)
                #expect(after.stderr.contains("404"))
                // The large one stays.
                #expect(ServeProcess.files(store, "originals").contains { $0.contains(largeHash) })
            }
        }

        /// Uploads a generated JPEG with `aws s3 cp` and waits for its 256 thumbnail; the thumbnail's key.
        static func uploadedThumbnail(_ gateway: AWSServe, name: String, seed: Int) async throws -> String {
            let file = gateway.root.appendingPathComponent(name)
            let bytes = try Self.jpeg(seed: seed)
            try Data(bytes).write(to: file)
            let hash = Self.hash(bytes)
            #expect(
                try await gateway.aws(["s3", "cp", file.path, "s3://uploads/\(name)", "--no-progress"]).status == 0)
            try await ServeProcess.eventually("the 256 thumbnail") {
                ServeProcess.files(gateway.store, "thumbnails").contains { $0.hasPrefix("256/") && $0.contains(hash) }
            }
            return try #require(
                ServeProcess.files(gateway.store, "thumbnails").first { $0.hasPrefix("256/") && $0.contains(hash) })
        }

        @Test func presignedURLsWorkUntilTheyExpireAndWrongSecretsAreRefused() async throws {
            try await Self.withServe { gateway in
                let store = gateway.store
                let key = try await Self.uploadedThumbnail(gateway, name: "p.jpg", seed: 2)
                let onDisk = try Data(contentsOf: store.appendingPathComponent("thumbnails/" + key))
                let curl = try #require(AWSTools.curl)

                // The AWS CLI v1 presigns with Signature Version 2 unless told s3v4; both forms work.
                let v4Config = gateway.root.appendingPathComponent("aws-config-s3v4")
                try Data("[default]\ns3 =\n    signature_version = s3v4\n".utf8).write(to: v4Config)
                // Each URL is valid for 10 s; it is fetched at once (one CLI run takes a second or two here), then
                // again once the 10 s are over.
                var urls: [String] = []
                var lastSigned = Date()
                for config in [nil, v4Config] {
                    let presigned = try await gateway.aws(
                        ["s3", "presign", "s3://thumbnails/\(key)", "--expires-in", "10"], config: config)
                    lastSigned = Date()
                    #expect(presigned.status == 0, "\(presigned.stderr)")
                    let url = presigned.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    urls.append(url)
                    let fetched = gateway.root.appendingPathComponent("fetched-\(UUID().uuidString)")
                    let get = try await AWSTools.run(curl, ["-s", "-o", fetched.path, "-w", "%{http_code}", url])
                    #expect(get.stdout == "200", "\(url)")
                    #expect(try Data(contentsOf: fetched) == onDisk)
                }
                #expect(urls[0].contains("AWSAccessKeyId="))
                #expect(urls[1].contains("X-Amz-Signature="))
                try await Task.sleep(for: .seconds(max(0, 12 - Date().timeIntervalSince(lastSigned))))
                for url in urls {
                    let expired = try await AWSTools.run(curl, ["-s", "-w", "\n%{http_code}", url])
                    #expect(expired.stdout.hasSuffix("\n403"), "\(expired.stdout)")
                    #expect(expired.stdout.contains("<Code>AccessDenied</Code>"))
                    #expect(expired.stdout.contains("expired"))
                }
                // A changed signature: refused.
                let tampered = urls[1].replacingOccurrences(of: "X-Amz-Expires=10", with: "X-Amz-Expires=100")
                let forged = try await AWSTools.run(curl, ["-s", "-w", "\n%{http_code}", tampered])
                #expect(forged.stdout.hasSuffix("\n403"))

                // Wrong secret, unknown key: AWS's codes, and nothing uploaded.
                let before = ServeProcess.files(store, "originals")
                let wrongList = try await gateway.aws(["s3", "ls", "s3://originals/"], secret: "not-the-secret")
                #expect(wrongList.status != 0)
                #expect(wrongList.stderr.contains("SignatureDoesNotMatch"), "\(wrongList.stderr)")
                let other = gateway.root.appendingPathComponent("other.jpg")
                try Data(try Self.jpeg(seed: 3)).write(to: other)
                let wrongPut = try await gateway.aws(
                    ["s3", "cp", other.path, "s3://uploads/other.jpg"], secret: "not-the-secret")
                #expect(wrongPut.status != 0)
                #expect(wrongPut.stderr.contains("SignatureDoesNotMatch"), "\(wrongPut.stderr)")
                var unknown = gateway.environment()
                unknown["AWS_ACCESS_KEY_ID"] = "NOBODY"
                let unknownKey = try await AWSTools.run(
                    AWSTools.aws, ["--endpoint-url", gateway.endpoint, "s3", "ls", "s3://originals/"],
                    environment: unknown)
                #expect(unknownKey.stderr.contains("InvalidAccessKeyId"), "\(unknownKey.stderr)")
                // Not a picture: refused, nothing kept.
                let text = gateway.root.appendingPathComponent("notes.txt")
                try Data("not a picture".utf8).write(to: text)
                let refused = try await gateway.aws(["s3", "cp", text.path, "s3://uploads/notes.txt"])
                #expect(refused.status != 0)
                #expect(refused.stderr.contains("InvalidArgument"), "\(refused.stderr)")
                #expect(ServeProcess.files(store, "originals") == before)
                #expect(ServeProcess.files(store, "uploads").isEmpty)
            }
        }

        /// A signed GET of a cached object is answered on the event loop (`S3Shortcut`) exactly as the route
        /// answered it when it read the object from disk: status, headers (but Date and the request id) and bytes,
        /// whole, in a range, and as a 304.
        @Test func signedGetsOfCachedObjectsAreAnsweredOnTheEventLoopAsTheRouteAnswers() async throws {
            try await Self.withServe { gateway in
                let store = gateway.store
                let key = try await Self.uploadedThumbnail(gateway, name: "loop.jpg", seed: 9)
                let v4Config = gateway.root.appendingPathComponent("aws-config-loop")
                try Data("[default]\ns3 =\n    signature_version = s3v4\n".utf8).write(to: v4Config)
                let presigned = try await gateway.aws(
                    ["s3", "presign", "s3://thumbnails/\(key)", "--expires-in", "600"], config: v4Config)
                let url = presigned.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let httpPort = try #require(ServeHTTPTests.port(in: gateway.serve.log))
                func answered() async throws -> Int {
                    let metrics = try await HTTPCall.send("GET", "http://127.0.0.1:\(httpPort)/metrics").text
                    let line = metrics.split(separator: "\n").first {
                        $0.hasPrefix("picpipe_http_event_loop_answers_total ")
                    }
                    return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double($0) ?? -1) } ?? -1
                }
                let curl = try #require(AWSTools.curl)
                let onDisk = try Data(contentsOf: store.appendingPathComponent("thumbnails/" + key))
                func get(_ headers: [String]) async throws -> (head: [String], body: Data) {
                    let out = gateway.root.appendingPathComponent("get-\(UUID().uuidString)")
                    let head = gateway.root.appendingPathComponent("head-\(UUID().uuidString)")
                    _ = try await AWSTools.run(
                        curl, ["-s", "-o", out.path, "-D", head.path] + headers.flatMap { ["-H", $0] } + [url])
                    let lines = try String(contentsOf: head, encoding: .utf8).split(separator: "\r\n").map(String.init)
                    return (
                        lines.filter {
                            !$0.lowercased().hasPrefix("date:") && !$0.lowercased().hasPrefix("x-amz-request-id:")
                        },
                        (try? Data(contentsOf: out)) ?? Data()
                    )
                }
                // Every S3 delete empties the object cache (a missing key is a 204): the GET after one is the route's,
                // which reads the object from disk (and caches it); the same GET right after is answered on the event
                // loop. (Waiting out the cache's second no longer sends a GET to the route: the first one after it is
                // answered from the cache while the object is read again.)
                let whole = try await get([])
                #expect(whole.body == onDisk)
                let eTag = try #require(
                    whole.head.first { $0.lowercased().hasPrefix("etag:") }?.split(separator: " ", maxSplits: 1).last)
                var routed: [[String]: (head: [String], body: Data)] = [:]
                let cases = [[], ["Range: bytes=5-24"], ["If-None-Match: \(eTag)"]]
                for headers in cases {
                    // (At most 5 times, should anything else be counted in between.)
                    var counts = (route: -1, loop: -1)
                    var fast: (head: [String], body: Data) = ([], Data())
                    for _ in 0..<5 where counts != (0, 1) {
                        let emptied = try await gateway.aws(
                            ["s3", "rm", "s3://uploads/not-there.jpg"], config: v4Config)
                        #expect(emptied.status == 0, "\(emptied.stderr)")
                        let first = try await answered()
                        routed[headers] = try await get(headers)
                        let second = try await answered()
                        fast = try await get(headers)
                        counts = (second - first, try await answered() - second)
                    }
                    #expect(counts.route == 0, "\(headers): the route read it from disk")
                    #expect(counts.loop == 1, "\(headers): answered on the event loop")
                    #expect(fast.head == routed[headers]?.head, "\(headers)")
                    #expect(fast.body == routed[headers]?.body, "\(headers)")
                }
                #expect(routed[["Range: bytes=5-24"]]?.body == onDisk.subdata(in: 5..<25))
                #expect(routed[["If-None-Match: \(eTag)"]]?.head.first?.contains("304") == true)
            }
        }

        @Test func syncOfCorpusFilesBecomesOriginals() async throws {
            guard PicpipeProcess.hasCorpus else {
                print("skipped: ../shared/corpus is absent")
                return
            }
            try await Self.withServe { gateway in
                // 50 pictures the pipeline accepts, each its own content.
                let manifest = try String(
                    contentsOf: PicpipeProcess.corpus.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
                var chosen: [(path: String, sha256: String)] = []
                var seen: Set<String> = []
                for line in manifest.split(separator: "\n").dropFirst() {
                    let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                    guard fields.count > 5, fields[5] == "ok", ["jpeg", "png"].contains(fields[3]),
                        let bytes = Int(fields[1]), bytes < 4_000_000, !seen.contains(fields[2])
                    else { continue }
                    seen.insert(fields[2])
                    chosen.append((fields[0], fields[2]))
                    if chosen.count == 50 { break }
                }
                #expect(chosen.count == 50)
                let folder = gateway.root.appendingPathComponent("sync")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for file in chosen {
                    try FileManager.default.copyItem(
                        at: PicpipeProcess.corpus.appendingPathComponent(file.path),
                        to: folder.appendingPathComponent(file.path.replacingOccurrences(of: "/", with: "-")))
                }
                let sync = try await gateway.aws(["s3", "sync", folder.path, "s3://uploads/", "--only-show-errors"])
                #expect(sync.status == 0, "\(sync.stderr)")
                let originals = Set(
                    ServeProcess.files(gateway.store, "originals").map {
                        String($0.split(separator: "/").last?.split(separator: ".").first ?? "")
                    })
                #expect(originals == Set(chosen.map(\.sha256)))
                try await ServeProcess.eventually("all 50 processed") {
                    try await StoreView.processed(gateway.store).count == 50
                }
                let listing = try await gateway.aws(["s3", "ls", "s3://originals/", "--recursive"])
                #expect(listing.stdout.split(separator: "\n").count == 50)
            }
        }

        /// An S3 event record for an original of the store, as a Lambda payload file.
        static func payload(key: String, size: Int, hash: String, in folder: URL) throws -> URL {
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: "store", key: "originals/" + key, size: size, eTag: hash, sequence: 0)
            let url = folder.appendingPathComponent("event-\(UUID().uuidString).json")
            try JSONEncoder().encode(S3Event(records: [record])).write(to: url)
            return url
        }

        @Test func lambdaInvokeListAndConfigure() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-lambda")
            defer { try? FileManager.default.removeItem(at: root) }
            var gateway = try await AWSServe.start(root: root)
            do {
                let store = gateway.store
                let file = root.appendingPathComponent("l.jpg")
                let bytes = try Self.jpeg(seed: 4)
                try Data(bytes).write(to: file)
                let hash = Self.hash(bytes)
                #expect(
                    try await gateway.aws(["s3", "cp", file.path, "s3://uploads/l.jpg", "--no-progress"]).status == 0)
                try await ServeProcess.eventually("processed") {
                    try await StoreView.processed(store).contains("l.jpg")
                }
                let event = try Self.payload(key: Self.originalKey(hash), size: bytes.count, hash: hash, in: root)
                let out = root.appendingPathComponent("out.json")

                // RequestResponse with the log tail.
                let sync = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "metadata", "--payload", "fileb://\(event.path)",
                    "--log-type", "Tail", out.path,
                ])
                #expect(sync["StatusCode"] as? Int == 200)
                #expect(sync["FunctionError"] == nil)
                #expect(sync["ExecutedVersion"] as? String == "$LATEST")
                let log = String(
                    decoding: Data(base64Encoded: try #require(sync["LogResult"] as? String)) ?? Data(), as: UTF8.self)
                #expect(log.contains("START RequestId: "))
                #expect(log.contains("REPORT RequestId: "))
                // The function's own line for this invocation (the pipeline stored the row already).
                #expect(
                    log.contains("\tINFO\tmetadata already stored file=originals/\(Self.originalKey(hash))"), "\(log)")
                let result = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any]
                #expect(result?["sha256"] as? String == hash)
                #expect(result?["function"] as? String == "metadata")

                // The record S3 would send about the object `aws s3 ls s3://originals/` lists: that bucket, the key
                // inside it, and the ETag head-object gives (an MD5), as a user copies them into a payload.
                let head = try await gateway.awsJSON([
                    "s3api", "head-object", "--bucket", "originals", "--key", Self.originalKey(hash),
                ])
                let md5 = try #require(head["ETag"] as? String).replacingOccurrences(of: "\"", with: "")
                var s3Record = S3EventRecord(
                    name: .objectCreatedPut, bucket: "originals", key: Self.originalKey(hash), size: bytes.count,
                    eTag: md5, sequence: 0)
                s3Record.s3.bucket.arn = "arn:aws:s3:::originals"
                let s3Event = root.appendingPathComponent("s3-event.json")
                try JSONEncoder().encode(S3Event(records: [s3Record])).write(to: s3Event)
                let fromS3 = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--payload", "fileb://\(s3Event.path)",
                    out.path,
                ])
                #expect(fromS3["StatusCode"] as? Int == 200)
                let answer = try Data(contentsOf: out)
                #expect(fromS3["FunctionError"] == nil, "\(String(decoding: answer, as: UTF8.self))")
                let made = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
                #expect(made?["sha256"] as? String == hash)
                #expect(made?["function"] as? String == "thumbnail")
                // An MD5 that is not the original's is refused, run now or queued (it was taken on the key's word).
                s3Record.s3.object.eTag = String(repeating: "0123456789abcdef", count: 2)
                try JSONEncoder().encode(S3Event(records: [s3Record])).write(to: s3Event)
                let wrongNow = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--payload", "fileb://\(s3Event.path)",
                    out.path,
                ])
                #expect(wrongNow["FunctionError"] as? String == "Unhandled")
                #expect(
                    String(decoding: try Data(contentsOf: out), as: UTF8.self).contains("the original's MD5 is \(md5)"))
                let wrongQueued = try await gateway.aws([
                    "lambda", "invoke", "--function-name", "thumbnail", "--invocation-type", "Event", "--payload",
                    "fileb://\(s3Event.path)", out.path,
                ])
                #expect(
                    wrongQueued.status != 0 && wrongQueued.stderr.contains("InvalidRequestContentException"),
                    "\(wrongQueued.stderr)")

                // A function by ARN and by name with $LATEST (the SDKs encode the colons, and sign the path encoded
                // twice as for every service but S3: these were refused as bad signatures); another qualifier is not
                // found; GetFunctionConcurrency (another API version, once taken for S3) answers.
                for name in ["arn:aws:lambda:us-east-1:000000000000:function:metadata", "metadata:$LATEST"] {
                    let byARN = try await gateway.awsJSON([
                        "lambda", "invoke", "--function-name", name, "--payload", "fileb://\(event.path)", out.path,
                    ])
                    #expect(byARN["StatusCode"] as? Int == 200, "\(name)")
                }
                let version = try await gateway.aws([
                    "lambda", "invoke", "--function-name", "metadata:7", "--payload", "fileb://\(event.path)", out.path,
                ])
                #expect(
                    version.status != 0 && version.stderr.contains("ResourceNotFoundException"), "\(version.stderr)")
                let concurrency = try await gateway.aws([
                    "lambda", "get-function-concurrency", "--function-name", "thumbnail",
                ])
                #expect(concurrency.status == 0, "\(concurrency.stderr)")

                // Event: queued (202), then run by serve.
                let before = try await StoreView.events(store).filter {
                    $0.type == "Event" && $0.function == "thumbnail"
                }
                .count
                let queued = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--invocation-type", "Event", "--payload",
                    "fileb://\(event.path)", out.path,
                ])
                #expect(queued["StatusCode"] as? Int == 202)
                try await ServeProcess.eventually("the queued invocation ran") {
                    try await StoreView.events(store, state: "succeeded").filter {
                        $0.type == "Event" && $0.function == "thumbnail"
                    }
                    .count == before + 1
                }
                // DryRun: checked, nothing run (204).
                let dry = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--invocation-type", "DryRun", "--payload",
                    "fileb://\(event.path)", out.path,
                ])
                #expect(dry["StatusCode"] as? Int == 204)

                // A function that does not exist.
                let missing = try await gateway.aws([
                    "lambda", "invoke", "--function-name", "resize", "--payload", "fileb://\(event.path)", out.path,
                ])
                #expect(missing.status != 0)
                #expect(missing.stderr.contains("ResourceNotFoundException"), "\(missing.stderr)")

                // A corrupt original: the function fails, Lambda's way (200, FunctionError Unhandled).
                let corrupt = Array(bytes.prefix(bytes.count / 2))
                let corruptHash = Self.hash(corrupt)
                let corruptFile = store.appendingPathComponent("originals/" + Self.originalKey(corruptHash))
                try FileManager.default.createDirectory(
                    at: corruptFile.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(corrupt).write(to: corruptFile)
                let corruptEvent = try Self.payload(
                    key: Self.originalKey(corruptHash), size: corrupt.count, hash: corruptHash, in: root)
                let failed = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--payload", "fileb://\(corruptEvent.path)",
                    "--log-type", "Tail", out.path,
                ])
                #expect(failed["StatusCode"] as? Int == 200)
                #expect(failed["FunctionError"] as? String == "Unhandled")
                let error = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any]
                #expect(error?["errorType"] as? String == "Unprocessable")
                #expect((error?["errorMessage"] as? String)?.contains("truncated") == true)
                let failedLog = String(
                    decoding: Data(base64Encoded: try #require(failed["LogResult"] as? String)) ?? Data(), as: UTF8.self
                )
                // The thumbnail function's own error line, naming the file and the decoder's reason.
                #expect(
                    failedLog.contains(
                        "\tERROR\tcannot make thumbnails error=image data is truncated"), "\(failedLog)")
                #expect(failedLog.contains("file=originals/\(Self.originalKey(corruptHash))"), "\(failedLog)")
                #expect(failedLog.contains("\tERROR\tInvoke Error "), "\(failedLog)")

                // list-functions, get-function-configuration, update-function-configuration round trip.
                let functions =
                    try await gateway.awsJSON(["lambda", "list-functions"])["Functions"] as? [[String: Any]] ?? []
                #expect(functions.compactMap { $0["FunctionName"] as? String } == ["thumbnail", "metadata", "fetch"])
                #expect(functions.first?["Runtime"] as? String == "provided.picpipe")
                #expect(
                    (functions.first?["Role"] as? String)?.hasSuffix(
                        "role/picpipe-thumbnail-read-originals-write-thumbnails") == true)
                let updated = try await gateway.awsJSON([
                    "lambda", "update-function-configuration", "--function-name", "thumbnail", "--memory-size", "512",
                    "--timeout", "45",
                ])
                #expect(updated["MemorySize"] as? Int == 512)
                #expect(updated["Timeout"] as? Int == 45)
                let read = try await gateway.awsJSON([
                    "lambda", "get-function-configuration", "--function-name", "thumbnail",
                ])
                #expect(read["MemorySize"] as? Int == 512)
                #expect(read["Timeout"] as? Int == 45)
                let invokeConfig = try await gateway.awsJSON([
                    "lambda", "put-function-event-invoke-config", "--function-name", "thumbnail",
                    "--maximum-retry-attempts", "1", "--maximum-event-age-in-seconds", "600",
                ])
                #expect(invokeConfig["MaximumRetryAttempts"] as? Int == 1)
                // The Lambda log tail reports the new memory size: the new settings run the next invocation.
                let next = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--payload", "fileb://\(event.path)",
                    "--log-type", "Tail", out.path,
                ])
                let nextLog = String(
                    decoding: Data(base64Encoded: next["LogResult"] as? String ?? "") ?? Data(), as: UTF8.self)
                #expect(nextLog.contains("Memory Size: 512 MB"))
                #expect(nextLog.contains("\tINFO\tthumbnails made created=0 file=originals/"), "\(nextLog)")

                // Persisted: a new serve on the same store still has them.
                await gateway.stop()
                gateway = try await AWSServe.start(root: root, store: store)
                let again = try await gateway.awsJSON([
                    "lambda", "get-function-configuration", "--function-name", "thumbnail",
                ])
                #expect(again["MemorySize"] as? Int == 512)
                #expect(again["Timeout"] as? Int == 45)
                let againInvoke = try await gateway.awsJSON([
                    "lambda", "get-function-event-invoke-config", "--function-name", "thumbnail",
                ])
                #expect(againInvoke["MaximumRetryAttempts"] as? Int == 1)
                #expect(againInvoke["MaximumEventAgeInSeconds"] as? Int == 600)
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }

        @Test func boto3ScriptUploadsListsAndInvokes() async throws {
            try await Self.withServe { gateway in
                let file = gateway.root.appendingPathComponent("b.jpg")
                let bytes = try Self.jpeg(seed: 5)
                try Data(bytes).write(to: file)
                let hash = Self.hash(bytes)
                // The README's boto3 snippet, with this serve's endpoint and key.
                let script = """
                    import boto3, json, sys
                    endpoint, key, secret, path = sys.argv[1:5]
                    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                      aws_secret_access_key=secret, region_name="us-east-1")
                    with open(path, "rb") as f:
                        put = s3.put_object(Bucket="uploads", Key="boto/b.jpg", Body=f, Metadata={"source": "boto3"})
                    listed = s3.list_objects_v2(Bucket="originals")
                    keys = [o["Key"] for o in listed.get("Contents", [])]
                    head = s3.head_object(Bucket="originals", Key=keys[0])
                    body = s3.get_object(Bucket="originals", Key=keys[0], Range="bytes=0-9")["Body"].read()
                    lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                                       aws_secret_access_key=secret, region_name="us-east-1")
                    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
                    print(json.dumps({"etag": put["ETag"], "keys": keys, "metadata": head["Metadata"],
                                      "range": body.hex(), "functions": names}))
                    """
                let scriptFile = gateway.root.appendingPathComponent("snippet.py")
                try Data(script.utf8).write(to: scriptFile)
                let output = try await AWSTools.run(
                    AWSTools.python, [scriptFile.path, gateway.endpoint, AWSServe.keyID, AWSServe.secret, file.path],
                    environment: gateway.environment())
                #expect(output.status == 0, "\(output.stderr)")
                let result = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
                let fileMD5 = try await Self.md5(file)
                #expect(result?["etag"] as? String == "\"\(fileMD5)\"")
                #expect(result?["keys"] as? [String] == [Self.originalKey(hash)])
                #expect(result?["metadata"] as? [String: String] == ["source": "boto3"])
                #expect(result?["range"] as? String == bytes.prefix(10).map { String(format: "%02x", $0) }.joined())
                #expect(result?["functions"] as? [String] == ["thumbnail", "metadata", "fetch"])
            }
        }
    }
}
