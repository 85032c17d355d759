// A RequestResponse call with a record of an event the function does not subscribe to is refused before anything is
// journaled or run, with the function's own reason, as Event and DryRun calls are: the Lambda API answers it 400
// InvalidRequestContentException. Until session 35 the call ran and failed (200, `Unhandled`).
import Foundation
import PipelineCore
import Testing

@testable import AWSGateway

@Suite struct RecordKindTests {
    static func record(_ name: EventName, key: String) -> S3EventRecord {
        S3EventRecord(name: name, bucket: "store", key: key, size: 0, eTag: "", sequence: 0, sourceName: key)
    }

    @Test func aRecordOfAnotherKindIsRefusedBeforeItRuns() async throws {
        let runtime = try FunctionOverridesTests.makeRuntime()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let importRecord = Self.record(EventName(rawValue: "ObjectImport:URL"), key: "https://example.com/a.jpg")
        var refusal: FunctionError?
        do {
            let response = try await runtime.invoke(
                function: "thumbnail", record: importRecord, type: .requestResponse)
            Issue.record("it ran: \(response)")
        } catch let error as FunctionError {
            refusal = error
        }
        let message = try #require(refusal).description
        #expect(message.contains("eventName 'ObjectImport:URL' is not an event thumbnail handles"), "\(message)")
    }

    /// A record of its kind still runs, and what is wrong with it is the call's function error.
    @Test func aRecordOfItsKindRuns() async throws {
        let runtime = try FunctionOverridesTests.makeRuntime()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let response = try await runtime.invoke(
            function: "thumbnail", record: Self.record(.objectCreatedPut, key: "originals/ab/missing.jpg"),
            type: .requestResponse)
        #expect(response.statusCode == 200)
    }
}
