// A record whose key names no stored original: a caller's mistake (`NoSuchKey`), or a picture deleted since its
// event was queued (skipped). The default `validate` and `FunctionContext` decide, for every function.
import Foundation
import Locking
import Testing

@testable import PipelineCore

/// Reads its original as the thumbnail and metadata functions do: the default check first, then the bytes; an
/// original gone by then was deleted, and the invocation ends as skipped.
struct OriginalReadingFunction: PipelineFunction {
    let name = "reader"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    /// What each invocation that got past the check answered: the bytes' size, or `skipped`.
    let answers = Locked<[String]>([])

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        try validate(record, context: context)
        let answer: String
        do {
            answer = "read \(try context.readOriginal(record).count) bytes"
        } catch StoreError.notFound {
            answer = "skipped"
        }
        answers.withLock { $0.append(answer) }
        return ["answer": .string(answer)]
    }
}

@Suite struct MissingOriginalTests {
    /// S3's ETag of the bytes `FunctionRuntimeTests.storeOriginal` stores (FF D8 FF): their MD5.
    static let md5 = "d718f4d374abcade9c50585aeee2f713"

    /// A payload as S3 writes one about the AWS front door's `originals` bucket: the key inside the bucket and
    /// S3's MD5 (here the stored original's) as the eTag, read the way the Lambda API and `picpipe invoke` read it.
    static func s3Record(key: String) throws -> S3EventRecord {
        let payload = """
            {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
            "eventTime":"2026-12-06T21:00:00.000Z","eventName":"ObjectCreated:Put",
            "s3":{"s3SchemaVersion":"1.0","configurationId":"t","bucket":{"name":"originals","arn":"arn:aws:s3:::originals"},
            "object":{"key":"\(key)","size":1,"eTag":"\(Self.md5)","sequencer":"0A"}}}
            """
        return try #require(try EventPayload.records(from: Data(payload.utf8)).first)
    }

    /// A key with a typo, a key that was never stored, and the stored hash with another extension name no
    /// original: RequestResponse fails with `NoSuchKey` naming the key; DryRun and Event refuse it and queue
    /// nothing. Until session 30 the typo was blamed on the (right) eTag, and the others read as a picture
    /// "deleted": a successful invocation that did nothing.
    @Test func aCallersKeyThatNamesNoOriginalIsNoSuchKey() async throws {
        let function = OriginalReadingFunction()
        let runtime = try FunctionRuntimeTests.makeRuntime([
            RegisteredFunction(function, configuration: FunctionRuntimeTests.untimed)
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let stored = FunctionRuntimeTests.record(1)
        try FunctionRuntimeTests.storeOriginal(of: stored, in: runtime)
        let hex = try #require(stored.contentHash).hex
        let keys = [
            "01/\(hex)x.jpg", "aa/\(String(repeating: "a", count: 64)).jpg", "01/\(hex).png",
        ]
        for key in keys {
            let record = try Self.s3Record(key: key)
            let called = try await runtime.invoke(function: "reader", record: record, type: .requestResponse)
            #expect(called.failed, "\(key)")
            #expect(
                called.payload
                    == .object([
                        "errorType": .string("NoSuchKey"),
                        "errorMessage": .string("originals/\(key): no such key in originals"),
                    ]), "\(key)")
            #expect(throws: FunctionError.noSuchKey(key: "originals/" + key, area: .originals)) {
                try runtime.queueEvents(function: "reader", records: [record])
            }
            await #expect(throws: FunctionError.noSuchKey(key: "originals/" + key, area: .originals)) {
                try await runtime.invoke(function: "reader", record: record, type: .dryRun)
            }
        }
        #expect(function.answers.withLock { $0 }.isEmpty, "no call got past the check")
        #expect(try runtime.journal.invocations(state: .queued, function: "reader", limit: 10).isEmpty)

        // The stored original's own key, in the same form, is read.
        let right = try await runtime.invoke(
            function: "reader", record: try Self.s3Record(key: "01/\(hex).jpg"), type: .requestResponse)
        #expect(right.payload == .object(["answer": .string("read 3 bytes")]))
    }

    /// An Event invocation queued while its original was stored, run after the original was deleted, ends as a
    /// success that did nothing: not `NoSuchKey`, retried and dead-lettered. So does the store's own event.
    @Test func aQueuedInvocationWhoseOriginalWasDeletedSinceIsSkipped() async throws {
        let function = OriginalReadingFunction()
        let runtime = try FunctionRuntimeTests.makeRuntime([
            RegisteredFunction(function, configuration: FunctionRuntimeTests.untimed)
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let records = [FunctionRuntimeTests.record(1), FunctionRuntimeTests.record(2)]
        for record in records { try FunctionRuntimeTests.storeOriginal(of: record, in: runtime) }
        _ = try runtime.queueEvents(function: "reader", records: [records[0]])
        try runtime.submit(records[1])
        for record in records {
            try FileManager.default.removeItem(
                at: runtime.layout.root.appendingPathComponent(record.s3.object.key))
        }
        try await FunctionRuntimeTests.running(runtime) {
            try await FunctionRuntimeTests.eventually("both ran") {
                try FunctionRuntimeTests.states(runtime, "reader") == ["succeeded", "succeeded"]
            }
        }
        #expect(function.answers.withLock { $0 } == ["skipped", "skipped"])
    }
}
