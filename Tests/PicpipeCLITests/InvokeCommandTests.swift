// `picpipe invoke`: RequestResponse, Event and DryRun through the real binary.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct InvokeCommandTests {
        /// A store with one original (put there by a short serve run) and its key.
        static func storeWithOriginal(_ work: URL) async throws -> (URL, String) {
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            try PicpipeCLI.ServeCommandTests.picture(77).write(to: store.appendingPathComponent("uploads/one.jpg"))
            try await ServeProcess.eventually("ingested") { try await StoreView.processed(store).contains("one.jpg") }
            await serve.stop()
            let key = try #require(StoreView.files(store, "originals").first)
            return (store, "originals/" + key)
        }

        static func json(_ text: String) -> [String: Any]? {
            try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        }

        /// An S3 event payload for the store's one original, under `name`, with `eTag` (the content hash by default).
        static func event(key: String, name: String, eTags: [String]) -> String {
            let records = eTags.map { eTag in
                """
                {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
                "eventTime":"2024-01-01T00:00:00.000Z","eventName":"\(name)",
                "s3":{"s3SchemaVersion":"1.0","configurationId":"test","bucket":{"name":"store","arn":"arn:aws:s3:::store"},
                "object":{"key":"\(key)","size":1,"eTag":"\(eTag)","sequencer":"0"}}}
                """
            }
            return "{\"Records\":[\(records.joined(separator: ","))]}"
        }

        /// A misspelt function name is named first, whatever the rest of the command, as a usage error (exit 2)
        /// listing the functions: until session 36 a bad --key was blamed instead, and with a good one it exited 1.
        @Test func aMisspeltFunctionIsAUsageErrorNamingTheFunctions() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-invoke-typo")
            defer { try? FileManager.default.removeItem(at: work) }
            let (store, key) = try await Self.storeWithOriginal(work)
            for candidate in ["originals/x", key] {
                let run = try await PicpipeProcess.run([
                    "invoke", "thumbnails", "--key", candidate, "--store", store.path,
                ])
                #expect(run.status == 2, "\(candidate): \(run.stdout) \(run.stderr)")
                #expect(
                    run.stderr.contains("no function named 'thumbnails' (functions: thumbnail, metadata, fetch)"),
                    "\(run.stderr)")
            }
        }

        /// A made-up removal of a picture that is in the store removes nothing (it wiped the picture's metadata row
        /// and thumbnails while the original stayed), an event name S3 never sends is refused (it ran as a
        /// creation), and an Event payload with one bad record queues none of its records (the ones before it were
        /// queued and ran): until session 28.
        @Test func removalsOfLivePicturesUnknownNamesAndPartlyBadPayloads() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-invoke-names")
            defer { try? FileManager.default.removeItem(at: work) }
            let (store, key) = try await Self.storeWithOriginal(work)
            let hash = String(key.split(separator: "/").last?.split(separator: ".").first ?? "")
            let thumbnailsBefore = StoreView.files(store, "thumbnails").filter { $0.contains(hash) }
            #expect(!thumbnailsBefore.isEmpty)
            let removal = Self.event(key: key, name: "ObjectRemoved:Delete", eTags: [hash])
            for function in ["metadata", "thumbnail"] {
                let run = try await PicpipeProcess.run([
                    "invoke", function, "--payload", removal, "--store", store.path,
                ])
                #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
                #expect(Self.json(run.stdout)?["skipped"] as? String == "the original is in the store: nothing removed")
            }
            #expect(StoreView.files(store, "thumbnails").filter { $0.contains(hash) } == thumbnailsBefore)
            let query = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
            #expect(query.stdout.contains(hash), "the metadata row stays: \(query.stdout)")

            // Refused before it is journaled, as Event and DryRun refuse it: until session 36 a RequestResponse call
            // was journaled and failed (`ObjectCreated:Putt thumbnail failed` in events and stats).
            let before = try await StoreView.events(store).count
            for function in ["metadata", "thumbnail"] {
                let made = try await PicpipeProcess.run([
                    "invoke", function, "--payload", Self.event(key: key, name: "ObjectCreated:Putt", eTags: [hash]),
                    "--store", store.path,
                ])
                #expect(made.status == 1)
                #expect(
                    made.stdout.contains("eventName 'ObjectCreated:Putt' is not an event \(function) handles"),
                    "\(made.stdout)")
            }
            #expect(try await StoreView.events(store).count == before, "nothing journaled")

            let partlyBad = Self.event(
                key: key, name: "ObjectCreated:Put", eTags: [hash, String(repeating: "0", count: 64)])
            let queued = try await PicpipeProcess.run([
                "invoke", "metadata", "--invocation-type", "Event", "--payload", partlyBad, "--store", store.path,
            ])
            #expect(queued.status == 1)
            #expect(!queued.stdout.contains("202"), "nothing accepted: \(queued.stdout)")
            #expect(try await StoreView.events(store).count == before, "no record queued")
        }

        /// The AWS tester's payloads (S3's record about the `originals` bucket, S3's MD5 of the stored original as
        /// the eTag) with a key that names no original: a typo, a picture never stored, the stored hash with
        /// another extension. Both functions fail with `NoSuchKey` naming the key, and an Event of one queues
        /// nothing; until session 30 the typo was blamed on the eTag, and the others were a successful "the
        /// original was deleted" from thumbnail while metadata ran on the real original. An Event queued while
        /// its original was stored and run after it was deleted still ends as a quiet success.
        @Test func aKeyThatNamesNoOriginalIsNoSuchKeyButADeletedOnesQueuedEventIsSkipped() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-invoke-nosuchkey")
            defer { try? FileManager.default.removeItem(at: work) }
            let (store, key) = try await Self.storeWithOriginal(work)
            let md5 = try await PicpipeCLI.AWSCLITests.md5(store.appendingPathComponent(key))
            let inBucket = String(key.dropFirst("originals/".count))
            let (folder, name) = (inBucket.prefix(2), inBucket.dropFirst(3))
            let stem = name.prefix(64)
            let never = String(repeating: "a", count: 64)
            for wrong in ["\(folder)/\(stem)x.jpg", "aa/\(never).jpg", "\(folder)/\(stem).png"] {
                let payload = """
                    {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
                    "eventTime":"2026-12-06T21:00:00.000Z","eventName":"ObjectCreated:Put",
                    "s3":{"s3SchemaVersion":"1.0","configurationId":"t",
                    "bucket":{"name":"originals","arn":"arn:aws:s3:::originals"},
                    "object":{"key":"\(wrong)","size":1,"eTag":"\(md5)","sequencer":"0A"}}}]}
                    """
                for function in ["thumbnail", "metadata"] {
                    let run = try await PicpipeProcess.run([
                        "invoke", function, "--payload", payload, "--store", store.path,
                    ])
                    #expect(run.status == 1, "\(function) \(wrong): \(run.stdout)")
                    let error = Self.json(run.stdout)
                    #expect(error?["errorType"] as? String == "NoSuchKey", "\(function) \(wrong): \(run.stdout)")
                    #expect(
                        error?["errorMessage"] as? String == "originals/\(wrong): no such key in originals",
                        "\(function) \(wrong): \(run.stdout)")
                }
                let queued = try await PicpipeProcess.run([
                    "invoke", "thumbnail", "--invocation-type", "Event", "--payload", payload, "--store", store.path,
                ])
                #expect(queued.status == 1 && Self.json(queued.stdout)?["errorType"] as? String == "NoSuchKey")
            }
            #expect(try await StoreView.events(store, state: "queued").isEmpty)
            #expect(StoreView.files(store, "thumbnails").filter { $0.contains(never) }.isEmpty)

            // Queued while the original is stored, run by serve once it was deleted: succeeded, not retried.
            var ids: [Int64] = []
            for function in ["thumbnail", "metadata"] {
                let queued = try await PicpipeProcess.run([
                    "invoke", function, "--key", key, "--invocation-type", "Event", "--store", store.path,
                ])
                ids.append(Int64(try #require(Self.json(queued.stdout)?["InvocationId"] as? Int)))
            }
            try FileManager.default.removeItem(at: store.appendingPathComponent(key))
            let serve = try await ServeProcess(store: store)
            try await ServeProcess.eventually("the queued invocations ran") {
                let lines = try await StoreView.events(store).filter { ids.contains($0.id) }
                return lines.count == 2 && lines.allSatisfy { $0.state != "queued" && $0.state != "running" }
            }
            await serve.stop()
            for line in try await StoreView.events(store).filter({ ids.contains($0.id) }) {
                #expect(line.state == "succeeded" && line.attempt == 1 && line.error == nil, "\(line)")
            }
        }

        /// An Event payload is held to Lambda's 1 MB, a RequestResponse one to 6 MB, as the Lambda API holds a body
        /// (413 RequestEntityTooLargeException): until session 37 `invoke` queued a 1.5 MB Event payload and called
        /// one over 6 MB "InvalidRequest".
        @Test func payloadsOverLambdasLimitsAreTooLargeForTheirInvocationType() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-invoke-limits")
            defer { try? FileManager.default.removeItem(at: work) }
            let (store, key) = try await Self.storeWithOriginal(work)
            let hash = String(key.split(separator: "/").last?.split(separator: ".").first ?? "")
            // A valid event padded with spaces to 1.5 MB.
            let event = Self.event(key: key, name: "ObjectCreated:Put", eTags: [hash])
            let padded = work.appendingPathComponent("p1m5.json")
            try Data((event + String(repeating: " ", count: 1_572_864 - event.utf8.count)).utf8).write(to: padded)
            let before = try await PicpipeProcess.run(["events", "--store", store.path, "--function", "metadata"])
            let queued = try await PicpipeProcess.run([
                "invoke", "metadata", "--payload", "@" + padded.path, "--invocation-type", "Event", "--store",
                store.path,
            ])
            #expect(queued.status == 1, "\(queued.stdout)")
            let refusal = Self.json(queued.stdout)
            #expect(refusal?["errorType"] as? String == "RequestEntityTooLargeException", "\(queued.stdout)")
            let message = refusal?["errorMessage"] as? String ?? ""
            #expect(message.contains("(1572864 bytes) is over 1048576 bytes"), "\(message)")
            let after = try await PicpipeProcess.run(["events", "--store", store.path, "--function", "metadata"])
            #expect(after.stdout == before.stdout, "nothing queued")
            // The same payload runs now: RequestResponse takes 6 MB.
            let direct = try await PicpipeProcess.run([
                "invoke", "metadata", "--payload", "@" + padded.path, "--store", store.path,
            ])
            #expect(direct.status == 0, "\(direct.stdout) \(direct.stderr)")
            let huge = work.appendingPathComponent("huge.json")
            try Data(repeating: 0x20, count: 6 * 1024 * 1024 + 1).write(to: huge)
            let tooLarge = try await PicpipeProcess.run([
                "invoke", "metadata", "--payload", "@" + huge.path, "--store", store.path,
            ])
            #expect(tooLarge.status == 1)
            #expect(Self.json(tooLarge.stdout)?["errorType"] as? String == "RequestEntityTooLargeException")
        }

        @Test func requestResponseDryRunAndEvent() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-invoke")
            defer { try? FileManager.default.removeItem(at: work) }
            let (store, key) = try await Self.storeWithOriginal(work)

            // RequestResponse: the function's result JSON; idempotent, so nothing is created again.
            let direct = try await PicpipeProcess.run(["invoke", "thumbnail", "--key", key, "--store", store.path])
            #expect(direct.status == 0, "\(direct.stderr)")
            let result = try #require(Self.json(direct.stdout))
            #expect(result["function"] as? String == "thumbnail")
            #expect(result["changed"] as? Bool == false)

            // The same record as an S3 event payload from a file, to the metadata function.
            let hash = String(key.split(separator: "/").last?.split(separator: ".").first ?? "")
            let size =
                try FileManager.default.attributesOfItem(atPath: store.appendingPathComponent(key).path)[.size] as? Int
                ?? 0
            let event = """
                {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"local",
                "eventTime":"2024-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put",
                "s3":{"s3SchemaVersion":"1.0","configurationId":"test","bucket":{"name":"store","arn":"arn:aws:s3:::store"},
                "object":{"key":"\(key)","size":\(size),"eTag":"\(hash)","sequencer":"0"}}}]}
                """
            let payloadFile = work.appendingPathComponent("event.json")
            try Data(event.utf8).write(to: payloadFile)
            let metadata = try await PicpipeProcess.run([
                "invoke", "metadata", "--payload", "@" + payloadFile.path, "--store", store.path,
            ])
            #expect(metadata.status == 0, "\(metadata.stdout) \(metadata.stderr)")
            #expect(Self.json(metadata.stdout)?["sha256"] as? String == hash)
            // A payload file is held to Lambda's 6 MB, as the Lambda API holds a body (a device ends there too);
            // one that cannot be read says why.
            let huge = work.appendingPathComponent("huge.json")
            try Data(repeating: 0x20, count: 6 * 1024 * 1024 + 1).write(to: huge)
            for (file, message) in [
                (huge.path, "the payload file \(huge.path) is over 6291456 bytes, Lambda's limit"),
                ("/dev/zero", "the payload file /dev/zero is over 6291456 bytes"),
                (work.appendingPathComponent("none.json").path, "none.json: no such file or directory"),
            ] {
                let refused = try await PicpipeProcess.run([
                    "invoke", "metadata", "--payload", "@" + file, "--store", store.path,
                ])
                #expect(refused.status == 1)
                let error = Self.json(refused.stdout)?["errorMessage"] as? String
                #expect(error?.contains(message) == true, "\(refused.stdout)")
            }

            // DryRun: checks and reports the role, runs nothing.
            let dry = try await PicpipeProcess.run(
                ["invoke", "thumbnail", "--payload", event, "--invocation-type", "DryRun", "--store", store.path])
            #expect(dry.status == 0)
            let role = Self.json(dry.stdout)?["role"] as? [String: String]
            #expect(role == ["originals": "read", "thumbnails": "write"])

            // A bad payload: the error JSON and exit 1.
            let bad = try await PicpipeProcess.run([
                "invoke", "thumbnail", "--payload", "{\"nope\": 1}", "--store", store.path,
            ])
            #expect(bad.status == 1)
            #expect(Self.json(bad.stdout)?["errorType"] as? String == "InvalidRequest")
            let unknown = try await PicpipeProcess.run(["invoke", "nothing", "--key", key, "--store", store.path])
            #expect(unknown.status == 2, "a usage error (aMisspeltFunctionIsAUsageErrorNamingTheFunctions)")

            // A record whose key names one original and whose eTag another content is refused: the thumbnails
            // of the eTag's hash were made from the key's picture (a poisoned thumbnail served for another image).
            let otherHash = String(repeating: "ab", count: 32)
            for function in ["thumbnail", "metadata"] {
                let mismatched = try await PicpipeProcess.run([
                    "invoke", function, "--payload",
                    event.replacingOccurrences(of: "\"\(hash)\"", with: "\"\(otherHash)\""),
                    "--store", store.path,
                ])
                #expect(mismatched.status == 1)
                let error = Self.json(mismatched.stdout)
                #expect(error?["errorType"] as? String == "InvalidPayload", "\(mismatched.stdout)")
                #expect(
                    (error?["errorMessage"] as? String)?.contains(
                        "key '\(key)' does not name the content of eTag '\(otherHash)'") == true, "\(mismatched.stdout)"
                )
            }
            #expect(StoreView.files(store, "thumbnails").filter { $0.contains(otherHash) }.isEmpty)

            // A record as S3 writes it about the AWS front door's `originals` bucket: the key inside the bucket (as
            // `aws s3 ls s3://originals/` lists it) and S3's MD5 as the eTag.
            let md5 = try await PicpipeCLI.AWSCLITests.md5(store.appendingPathComponent(key))
            func s3Style(eTag: String) -> String {
                event.replacingOccurrences(of: "\"name\":\"store\"", with: "\"name\":\"originals\"")
                    .replacingOccurrences(of: "\"\(key)\"", with: "\"\(key.dropFirst("originals/".count))\"")
                    .replacingOccurrences(of: "\"\(hash)\"", with: "\"\(eTag)\"")
            }
            let fromS3 = try await PicpipeProcess.run([
                "invoke", "metadata", "--payload", s3Style(eTag: md5), "--store", store.path,
            ])
            #expect(fromS3.status == 0, "\(fromS3.stdout) \(fromS3.stderr)")
            #expect(Self.json(fromS3.stdout)?["sha256"] as? String == hash)
            // An MD5 that is not the original's is refused (it was taken on the key's word until session 26).
            let wrongMD5 = try await PicpipeProcess.run([
                "invoke", "metadata", "--payload", s3Style(eTag: "0cc175b9c0f1b6a831c399e269772661"), "--store",
                store.path,
            ])
            #expect(wrongMD5.status == 1)
            #expect(wrongMD5.stdout.contains("the original's MD5 is \(md5)"), "\(wrongMD5.stdout)")

            // A failing RequestResponse: an original that is not a picture any more.
            let broken = work.appendingPathComponent("broken.jpg")
            try PicpipeCLI.ServeCommandTests.picture(78).prefix(500).write(to: broken)
            let brokenKey = "originals/ab/\(otherHash).jpg"
            let brokenEvent = event.replacingOccurrences(of: key, with: brokenKey)
                .replacingOccurrences(of: hash, with: otherHash)
            try FileManager.default.createDirectory(
                at: store.appendingPathComponent("originals/ab"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: broken, to: store.appendingPathComponent(brokenKey))
            let failing = try await PicpipeProcess.run([
                "invoke", "thumbnail", "--payload", brokenEvent, "--store", store.path,
            ])
            #expect(failing.status == 1)
            #expect(Self.json(failing.stdout)?["errorType"] as? String == "Unprocessable")

            // Event: queued in the journal and returns at once; the next serve runs it.
            let queued = try await PicpipeProcess.run(
                ["invoke", "thumbnail", "--key", key, "--invocation-type", "Event", "--store", store.path])
            #expect(queued.status == 0)
            let response = try #require(Self.json(queued.stdout))
            #expect(response["StatusCode"] as? Int == 202)
            let invocationID = try #require(response["InvocationId"] as? Int)
            #expect(try await StoreView.events(store, state: "queued").map(\.id) == [Int64(invocationID)])
            let serve = try await ServeProcess(store: store)
            try await ServeProcess.eventually("queued invocation run by serve") {
                try await StoreView.events(store).first { $0.id == Int64(invocationID) }?.state == "succeeded"
            }
            // And while serve runs, an Event from another process is picked up by polling.
            let live = try await PicpipeProcess.run(
                ["invoke", "metadata", "--key", key, "--invocation-type", "Event", "--store", store.path])
            let liveID = try #require(Self.json(live.stdout)?["InvocationId"] as? Int)
            try await ServeProcess.eventually("live Event run") {
                try await StoreView.events(store).first { $0.id == Int64(liveID) }?.state == "succeeded"
            }
            await serve.stop()
        }
    }
}
