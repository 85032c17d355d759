// Invocation payloads: an S3 event or one record; what a bad one lacks is named where it lacks it.
import Foundation
import Logging
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

    /// A handler ported from Lambda checks `eventSource == "aws:s3"` and reads the bucket's ARN as S3 writes it.
    @Test func aRecordNamesItsSourceAsS3Does() throws {
        let record = try Self.recordJSON()
        #expect(record["eventSource"] as? String == "aws:s3")
        let bucket = try #require((record["s3"] as? [String: Any])?["bucket"] as? [String: Any])
        #expect(bucket["arn"] as? String == "arn:aws:s3:::picstore")
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
        #expect(
            eventMessage.contains("not an S3 event: missing Records") && eventMessage.contains("s3.configurationId"))
        #expect(!eventMessage.contains("eventVersion"))
        let recordMessage = try #require(try Self.message(record))
        #expect(recordMessage.contains("not an S3 event or record: missing s3.configurationId"))
        #expect(try Self.message(["Records": []])?.contains("Records is empty") == true)
    }

    /// An empty payload (or only spaces) is said to be empty, as the Lambda API says it (until session 37 `picpipe
    /// invoke --payload ''` printed Foundation's "The given data was not valid JSON.").
    @Test func anEmptyPayloadIsSaidToBeEmpty() {
        for payload in ["", " \n\t"] {
            #expect(
                throws: RuntimeError.invalidPayload(
                    "the payload is empty; expected an S3 event {\"Records\": [...]} or one record")
            ) { try EventPayload.records(from: Data(payload.utf8)) }
        }
    }

    /// The path to what is missing reads as the comment promises: `Records.1.eventVersion`, not
    /// `Records.Index 1.eventVersion` (Foundation's name for an array index).
    @Test func anArrayIndexInThePathIsItsNumber() throws {
        var bad = try Self.recordJSON()
        bad.removeValue(forKey: "eventVersion")
        let message = try #require(try Self.message(["Records": [try Self.recordJSON(), bad]]))
        #expect(message.hasSuffix("missing Records.1.eventVersion"), "\(message)")
        var wrong = try Self.recordJSON()
        wrong["eventTime"] = 5
        let mismatch = try #require(try Self.message(["Records": [wrong]]))
        #expect(mismatch.contains(": Records.0.eventTime: "), "\(mismatch)")
    }

    /// JSON that is no object, and a field of the wrong kind, are said in JSON's words; until session 34 Foundation's
    /// ("Expected to decode Dictionary<String, Any> but found an array instead").
    @Test func aPayloadOfTheWrongKindIsSaidInJSONsWords() throws {
        func message(_ text: String) -> String? {
            do {
                _ = try EventPayload.records(from: Data(text.utf8))
                return nil
            } catch {
                return "\(error)"
            }
        }
        let expected = "expected an S3 event object {\"Records\": [...]} or one record"
        #expect(message("[1,2]")?.hasPrefix("invalid payload: the payload is a JSON array; \(expected)") == true)
        #expect(message("\"text\"")?.hasPrefix("invalid payload: the payload is a string; \(expected)") == true)
        #expect(message("5")?.hasPrefix("invalid payload: the payload is a number; \(expected)") == true)
        #expect(message("true")?.hasPrefix("invalid payload: the payload is true or false; \(expected)") == true)
        #expect(message("null")?.hasPrefix("invalid payload: the payload is null; \(expected)") == true)
        #expect(
            message(#"{"Records": [1]}"#)
                == "invalid payload: not an S3 event: Records.0: expected an object, not a number")
        #expect(
            message(#"{"Records": {}}"#)
                == "invalid payload: not an S3 event: Records: expected an array, not a JSON object")
        var record = try Self.recordJSON()
        record["eventTime"] = NSNull()
        let null = try #require(try Self.message(record))
        #expect(null == "invalid payload: not an S3 event or record: eventTime: expected a string, not null", "\(null)")
        for text in ["[1,2]", "\"text\"", #"{"Records": [1]}"#, #"{"Records": {}}"#] {
            let said = message(text) ?? ""
            #expect(!said.contains("Expected to decode") && !said.contains("Dictionary<"), "\(said)")
        }
    }

    /// A record written as S3 writes one about the AWS front door's `originals` bucket (the key inside the bucket,
    /// S3's MD5 as the eTag) is read in the store's terms; picpipe's own records and others are left as they are.
    @Test func aRecordAboutTheOriginalsBucketIsReadInTheStoresTerms() throws {
        let hex = String(repeating: "c3", count: 32)
        var record = try Self.recordJSON()
        var s3 = try #require(record["s3"] as? [String: Any])
        s3["bucket"] = ["name": "originals", "arn": "arn:aws:s3:::originals"]
        s3["object"] = [
            "key": "c3/\(hex).png", "size": 3, "eTag": "0cc175b9c0f1b6a831c399e269772661", "sequencer": "0",
        ]
        record["s3"] = s3
        let read = try #require(try EventPayload.records(from: JSONSerialization.data(withJSONObject: record)).first)
        #expect(read.s3.object.key == "originals/c3/\(hex).png")
        #expect(read.contentHash?.hex == hex)
        #expect(read.s3.object.statedETag == "0cc175b9c0f1b6a831c399e269772661")
        // A multipart upload's ETag is kept to be checked too (until session 36 only an MD5 was); other text is not.
        for (eTag, stated) in [
            ("\"0CC175B9C0F1B6A831C399E269772661-12\"", "0cc175b9c0f1b6a831c399e269772661-12"),
            ("0cc175b9c0f1b6a831c399e269772661-0", nil), ("0cc175b9c0f1b6a831c399e269772661-+2", nil),
            ("0cc175b9c0f1b6a831c399e26977266-2", nil),
        ] {
            let other = S3EventRecord(
                name: .objectCreatedPut, bucket: "originals", key: "c3/\(hex).png", size: 3, eTag: eTag, sequence: 1)
            #expect(other.inStoreTerms().s3.object.statedETag == stated, "\(eTag)")
        }

        let own = S3EventRecord(
            name: .objectCreatedPut, bucket: "originals", key: "originals/c3/\(hex).png", size: 3, eTag: hex,
            sequence: 1
        )
        #expect(own.inStoreTerms() == own)
        let elsewhere = S3EventRecord(
            name: .objectCreatedPut, bucket: "photos", key: "c3/\(hex).png", size: 3, eTag: hex, sequence: 1)
        #expect(elsewhere.inStoreTerms() == elsewhere)
    }

    /// The default check of a record: an original's key, and an eTag that is the hash its file name is.
    @Test func aRecordIsValidOnlyWhenItsKeyNamesItsContent() throws {
        let hex = String(repeating: "c3", count: 32)
        let other = String(repeating: "d4", count: 32)
        let function = RecordingFunction(tally: Tally())
        let context = FunctionContext(
            configuration: FunctionConfiguration(), store: StoreHandles(function: function.name, granted: [:]),
            logger: Logger(label: "test"), deadline: .now + .seconds(1), invocationID: "1")
        func refusal(key: String, eTag: String) -> String? {
            let record = S3EventRecord(name: .objectCreatedPut, bucket: "s", key: key, size: 1, eTag: eTag, sequence: 1)
            do {
                try function.validate(record, context: context)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(key: "originals/c3/\(hex).jpg", eTag: hex) == nil)
        #expect(
            refusal(key: "originals/c3/\(hex).jpg", eTag: other)?.contains("does not name the content of eTag") == true)
        #expect(refusal(key: "originals/c3/photo.jpg", eTag: hex)?.contains("is not an original's name") == true)
        #expect(
            refusal(key: "thumbnails/c3/\(hex).jpg", eTag: hex)?.contains("is not an original of the store") == true)
        #expect(refusal(key: "originals/c3/\(hex).jpg", eTag: "abc")?.contains("is not a SHA-256 content hash") == true)
        // As S3 writes a removal about the originals bucket (its key inside the bucket, its MD5 as the eTag), with a
        // typo in the key: the key is blamed, not the MD5.
        let removed = S3EventRecord(
            name: .objectRemovedDelete, bucket: "originals", key: "c3/\(hex)x.jpg", size: 1,
            eTag: "a18932e314dbb4c81c6fd0e282d81d16", sequence: 1
        ).inStoreTerms()
        let blamed = FunctionError.invalidPayload(
            "key 'originals/c3/\(hex)x.jpg' is not an original's name: an original's file name is its SHA-256 "
                + "(originals/ab/<sha256>.jpg)")
        #expect(throws: blamed) { try function.validate(removed, context: context) }
    }
}
