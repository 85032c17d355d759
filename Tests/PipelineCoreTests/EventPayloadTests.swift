// Invocation payloads: an S3 event or one record; what a bad one lacks is named where it lacks it.
import Foundation
import Testing

@testable import PipelineCore

struct EventPayloadTests {
    static func recordJSON() throws -> [String: Any] {
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: "picstore", key: "originals/ab/ab.jpg", size: 3, eTag: "ab", sequence: 1,
            sourceName: "a.jpg")
        return try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any])
    }

    static func message(_ payload: Any) throws -> String? {
        do {
            _ = try EventPayload.records(from: JSONSerialization.data(withJSONObject: payload))
            return nil
        } catch let error as RuntimeError {
            return "\(error)"
        }
    }

    @Test func anEventAndABareRecordAreBothRead() throws {
        let record = try Self.recordJSON()
        #expect(try Self.message(["Records": [record]]) == nil)
        #expect(try Self.message(record) == nil)
    }

    /// An event missing a field of its record was reported as a bare record missing `eventVersion`.
    @Test func whatAnEventLacksIsNamedInTheEvent() throws {
        var record = try Self.recordJSON()
        var s3 = try #require(record["s3"] as? [String: Any])
        s3.removeValue(forKey: "configurationId")
        record["s3"] = s3
        let eventMessage = try #require(try Self.message(["Records": [record]]))
        #expect(eventMessage.contains("not an S3 event: missing Records") && eventMessage.contains("s3.configurationId"))
        #expect(!eventMessage.contains("eventVersion"))
        let recordMessage = try #require(try Self.message(record))
        #expect(recordMessage.contains("not an S3 event or record: missing s3.configurationId"))
        #expect(try Self.message(["Records": []])?.contains("Records is empty") == true)
    }
}
