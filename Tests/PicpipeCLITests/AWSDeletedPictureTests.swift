// A picture deleted on purpose through S3 settles its dead letters: a delete wins, so nothing of it waits in
// failed/ and `replay --failed` passes its dead invocations over (until session 28 the .error.json stayed and every
// `replay --failed` exited 1: "its original is neither stored nor kept in failed/"); `replay EVENT_ID` of one says so.
import Foundation
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct AWSDeletedPictureTests {
        @Test func deletingAPictureSettlesItsDeadLetters() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let store = gateway.store
                let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 9)
                let hash = PicpipeCLI.AWSCLITests.hash(bytes)
                let file = gateway.root.appendingPathComponent("p.jpg")
                try Data(bytes).write(to: file)
                let put = try await gateway.aws(["s3", "cp", file.path, "s3://uploads/p.jpg", "--no-progress"])
                #expect(put.status == 0, "\(put.stderr)")
                try await ServeProcess.eventually("made") { try await StoreView.processed(store).contains("p.jpg") }

                // Its thumbnail invocation dead-lettered, as a timeout with no retries leaves it.
                let journal = store.appendingPathComponent("db/events.sqlite")
                let marked = try await AWSTools.run(
                    URL(fileURLWithPath: "/usr/bin/sqlite3"),
                    [
                        "-cmd", ".timeout 10000", journal.path,
                        "UPDATE invocations SET state = 'dead', error = 'timed out' WHERE function = 'thumbnail'",
                    ])
                #expect(marked.status == 0, "\(marked.stderr)")
                let failed = StoreHandle(
                    area: .failed, access: .write, location: store.appendingPathComponent("failed"), function: "test")
                let letter = try DeadLetter(
                    file: "p.jpg", error: "timed out", stage: "thumbnail", sha256: hash, attempts: 1
                ).store(bytes: nil, name: "p.jpg.thumbnail", in: failed)
                #expect(failed.exists(letter + ".error.json"))
                let dead = try await StoreView.events(store, state: "dead")
                #expect(dead.count == 1)

                let removed = try await gateway.aws([
                    "s3", "rm", "s3://originals/\(PicpipeCLI.AWSCLITests.originalKey(hash))",
                ])
                #expect(removed.status == 0, "\(removed.stderr)")
                #expect(!failed.exists(letter + ".error.json"), "the delete settles the dead letter")

                let replay = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
                #expect(replay.status == 0, "\(replay.stderr)")
                #expect(replay.stdout.contains("passed over 1 event whose picture was deleted"), "\(replay.stdout)")
                #expect(replay.stdout.hasSuffix("re-queued 0 invocations\n"), "\(replay.stdout)")
                // Named, that event is not replayed either, and the answer says why (until session 29 it said to drop
                // the file into uploads/ again, as for a refusal lost from failed/).
                let eventID = try #require(dead.first?.eventID)
                let one = try await PicpipeProcess.run(["replay", String(eventID), "--store", store.path])
                #expect(one.status == 1)
                #expect(one.stderr.contains("its picture was deleted since (event "), "\(one.stderr)")
                #expect(one.stderr.contains("ObjectRemoved); not replayed"), "\(one.stderr)")
            }
        }

        /// An S3 upload's record (its `x-amz-meta-*`, key, Content-Type) goes with its picture whatever deletes it:
        /// after an HTTP DELETE the same bytes uploaded over HTTP by someone else are another object, without the
        /// deleted one's metadata (until session 29 only S3's DeleteObject removed the record, and HeadObject of the
        /// new upload answered `owner: alice`).
        @Test func anHTTPDeleteForgetsTheS3UploadsRecord() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let store = gateway.store
                let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 11)
                let hash = PicpipeCLI.AWSCLITests.hash(bytes)
                let file = gateway.root.appendingPathComponent("holiday.jpg")
                try Data(bytes).write(to: file)
                let put = try await gateway.aws([
                    "s3", "cp", file.path, "s3://uploads/alice/holiday.jpg", "--metadata", "owner=alice",
                    "--no-progress",
                ])
                #expect(put.status == 0, "\(put.stderr)")
                try await ServeProcess.eventually("made") {
                    try await StoreView.processed(store).contains("alice/holiday.jpg")
                }
                let record = store.appendingPathComponent("db/s3/objects/\(hash).json")
                #expect(FileManager.default.fileExists(atPath: record.path))
                let key = PicpipeCLI.AWSCLITests.originalKey(hash)
                let before = try await gateway.awsJSON(["s3api", "head-object", "--bucket", "originals", "--key", key])
                #expect(before["Metadata"] as? [String: String] == ["owner": "alice"])

                let http = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: gateway.serve.log)))"
                #expect(try await HTTPCall.send("DELETE", "\(http)/images/\(hash)").status == 204)
                #expect(!FileManager.default.fileExists(atPath: record.path), "the record goes with the picture")
                let again = try await HTTPCall.send(
                    "POST", "\(http)/images?name=bob.jpg", headers: ["Content-Type": "image/jpeg"], body: Data(bytes))
                #expect((200..<300).contains(again.status), "\(again.text)")
                // (An answer the S3 door keeps in memory is trusted for a second, then read again: README.)
                try await ServeProcess.eventually("HeadObject without the deleted upload's metadata", within: 20) {
                    let after = try await gateway.awsJSON([
                        "s3api", "head-object", "--bucket", "originals", "--key", key,
                    ])
                    return (after["Metadata"] as? [String: String] ?? [:]).isEmpty
                }
            }
        }

        /// An object held in the S3 API's memory whose file goes behind the server's back (another process's
        /// delete, a hand) is not given again once its second of trust is over: the request that finds it due
        /// reads the disk first (until session 33 it was answered from memory while the read ran behind it).
        @Test func anObjectRemovedBehindTheServersBackIsNotServedAgain() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let store = gateway.store
                let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 12)
                let hash = PicpipeCLI.AWSCLITests.hash(bytes)
                let file = gateway.root.appendingPathComponent("gone.jpg")
                try Data(bytes).write(to: file)
                let put = try await gateway.aws(["s3", "cp", file.path, "s3://uploads/gone.jpg", "--no-progress"])
                #expect(put.status == 0, "\(put.stderr)")
                let key = PicpipeCLI.AWSCLITests.originalKey(hash)
                try await ServeProcess.eventually("stored") {
                    FileManager.default.fileExists(atPath: store.appendingPathComponent("originals/\(key)").path)
                }
                let head = ["s3api", "head-object", "--bucket", "originals", "--key", key]
                for _ in 0..<2 { #expect(try await gateway.aws(head).status == 0) }
                try FileManager.default.removeItem(at: store.appendingPathComponent("originals/\(key)"))
                try await Task.sleep(for: .milliseconds(1_100))
                let first = try await gateway.aws(head)
                #expect(first.status != 0, "answered from memory after its file was removed: \(first.stdout)")
                #expect(first.stderr.contains("404"), "\(first.stderr)")
            }
        }

        /// A DeleteObject whose original cannot be removed (its folder read-only, root only) is refused and changes
        /// nothing: until session 37 it answered 204, forgot the picture's ids and left its original served.
        @Test func aDeleteThatCannotRemoveTheOriginalIsRefusedAndChangesNothing() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let store = gateway.store
                let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 11)
                let key = PicpipeCLI.AWSCLITests.originalKey(PicpipeCLI.AWSCLITests.hash(bytes))
                let file = gateway.root.appendingPathComponent("kept.jpg")
                try Data(bytes).write(to: file)
                let put = try await gateway.aws(["s3", "cp", file.path, "s3://uploads/kept.jpg", "--no-progress"])
                #expect(put.status == 0, "\(put.stderr)")
                try await ServeProcess.eventually("made") { try await StoreView.processed(store).contains("kept.jpg") }
                let folder = store.appendingPathComponent("originals").appendingPathComponent(String(key.prefix(2)))
                guard mount(folder.path, folder.path, nil, UInt(MS_BIND), nil) == 0 else { return }
                let removed: PicpipeProcess.Output
                do {
                    defer { umount2(folder.path, Int32(MNT_DETACH)) }
                    guard mount(nil, folder.path, nil, UInt(MS_REMOUNT | MS_BIND | MS_RDONLY), nil) == 0 else { return }
                    removed = try await gateway.aws(["s3api", "delete-object", "--bucket", "originals", "--key", key])
                }
                #expect(removed.status != 0, "\(removed.stdout)")
                #expect(removed.stderr.contains("ServiceUnavailable"), "\(removed.stderr)")

                // Nothing changed: the object and its id are there, and no removal was journaled.
                let head = try await gateway.aws(["s3api", "head-object", "--bucket", "originals", "--key", key])
                #expect(head.status == 0, "\(head.stderr)")
                let listed = try await gateway.aws(["s3", "ls", "s3://originals/", "--recursive"])
                #expect(listed.stdout.contains(key), "\(listed.stdout)")
                #expect(try await StoreView.events(store).allSatisfy { !$0.eventName.hasPrefix("ObjectRemoved") })
                #expect(try await StoreView.processed(store).contains("kept.jpg"))
            }
        }
    }
}
