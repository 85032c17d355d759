// The POST Object policy: what it decodes, what it allows and what it refuses, in S3's words.
import Foundation
import Testing

@testable import AWSGateway

@Suite struct PostPolicyTests {
    static func encoded(_ json: String) -> String { Data(json.utf8).base64EncodedString() }

    static func form(_ fields: [(String, String)], fileName: String? = "a.jpg") throws -> PostForm {
        try PostForm(fields: fields.map { (name: $0.0, value: $0.1) }, fileName: fileName)
    }

    static func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as AWSError {
            return "\(error.code): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    @Test func decodesEveryKindOfCondition() throws {
        let policy = try PostPolicy(
            encoded: Self.encoded(
                #"{"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bucket": "uploads"}, {"Acl": "private"},"#
                    + #" ["starts-with", "$Key", "web/"], ["eq", "$x-amz-meta-a", "1"], ["content-length-range", 10, "2000"],"#
                    + #" ["content-length-range", 100, 5000]]}"#))
        #expect(policy.expiration == Date(timeIntervalSince1970: 1_893_456_000))
        #expect(
            policy.conditions == [
                .equals(field: "bucket", value: "uploads"), .equals(field: "acl", value: "private"),
                .startsWith(field: "key", prefix: "web/"), .equals(field: "x-amz-meta-a", value: "1"),
                .contentLength(10...2000), .contentLength(100...5000),
            ])
        // Every range at once.
        #expect(policy.sizeLimits?.smallest == 100 && policy.sizeLimits?.largest == 2000)
        #expect(
            try PostPolicy(encoded: Self.encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": []}"#))
                .sizeLimits == nil)
    }

    @Test(arguments: [
        ("not base64 !", "Invalid JSON"),
        (encoded("[1, 2]"), "Invalid JSON"),
        (encoded(#"{"conditions": []}"#), "missing expiration"),
        (encoded(#"{"expiration": "tomorrow", "conditions": []}"#), "Invalid 'expiration' value: 'tomorrow'"),
        (encoded(#"{"expiration": "2030-01-01T00:00:00Z"}"#), "missing conditions"),
        (encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [], "extra": 1}"#), "Unexpected field 'extra'"),
        (
            encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "a"]]}"#),
            "must name a field as"
        ),
        (
            encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["in", "$key", "a"]]}"#),
            "Unknown condition 'in'"
        ),
        (encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"acl": 1}]}"#), "must have a text value"),
        (
            encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", true, 5]]}"#),
            "two whole numbers"
        ),
        (
            encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 1.5, 5]]}"#),
            "two whole numbers"
        ),
        (
            encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 9, 5]]}"#),
            "the smaller first"
        ),
        (encoded(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": ["key"]}"#), "an object or a list of three"),
    ])
    func refusesABrokenPolicyAsInvalidPolicyDocument(encoded: String, words: String) {
        let message = Self.code { _ = try PostPolicy(encoded: encoded) }
        #expect(message?.hasPrefix("InvalidPolicyDocument: Invalid Policy: ") == true, "\(message ?? "accepted")")
        #expect(message?.contains(words) == true, "\(message ?? "accepted")")
    }

    @Test func checksConditionsAfterTheFileNameAndRefusesFieldsNoConditionAllows() throws {
        let policy = try PostPolicy(
            encoded: Self.encoded(
                #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"bucket": "uploads"},"#
                    + #" ["starts-with", "$key", "web/"], ["starts-with", "$Content-Type", "image/"],"#
                    + #" {"x-amz-algorithm": "AWS4-HMAC-SHA256"}]}"#))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let good = try Self.form([
            ("key", "web/${filename}"), ("Content-Type", "image/png"), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("policy", "…"), ("x-amz-signature", "…"), ("x-ignore-note", "anything"),
        ])
        #expect(try good.key() == "web/a.jpg")
        #expect(Self.code { try policy.check(good, bucket: "uploads", key: try good.key(), now: now) } == nil)
        // The bucket of the URL is what {"bucket": …} speaks of, whatever a field says.
        #expect(
            Self.code { try policy.check(good, bucket: "thumbnails", key: "web/a.jpg", now: now) }
                == #"AccessDenied: Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "uploads"]"#)
        let claiming = try Self.form([
            ("key", "web/a.jpg"), ("Content-Type", "image/png"), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("bucket", "uploads"),
        ])
        #expect(
            Self.code { try policy.check(claiming, bucket: "thumbnails", key: "web/a.jpg", now: now) }?.contains(
                "$bucket") == true)
        // The file's name can take the key out of the allowed prefix.
        let escaping = try Self.form(
            [("key", "${filename}"), ("Content-Type", "image/png")], fileName: "c:\\tmp\\x.jpg")
        #expect(try escaping.key() == "x.jpg")
        #expect(
            Self.code { try policy.check(escaping, bucket: "uploads", key: try escaping.key(), now: now) }
                == #"AccessDenied: Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "web/"]"#
        )
        // A condition on a field the form lacks fails; a field without a condition is refused.
        let noType = try Self.form([("key", "web/a.jpg"), ("x-amz-algorithm", "AWS4-HMAC-SHA256")])
        #expect(
            Self.code { try policy.check(noType, bucket: "uploads", key: "web/a.jpg", now: now) }?.contains(
                "$content-type") == true)
        let extra = try Self.form([
            ("key", "web/a.jpg"), ("content-type", "image/png"), ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-meta-owner", "m"), ("acl", "public-read"),
        ])
        #expect(
            Self.code { try policy.check(extra, bucket: "uploads", key: "web/a.jpg", now: now) }
                == "AccessDenied: Invalid according to Policy: Extra input fields: x-amz-meta-owner, acl")
        // After its expiration it allows nothing.
        #expect(
            Self.code {
                try policy.check(
                    good, bucket: "uploads", key: "web/a.jpg", now: Date(timeIntervalSince1970: 1_900_000_000))
            }
                == "AccessDenied: Invalid according to Policy: Policy expired.")
    }

    @Test func aFieldSentTwiceOrNoKeyIsRefused() throws {
        #expect(
            Self.code { _ = try Self.form([("key", "a"), ("Key", "b")]) }?.hasPrefix(
                "InvalidArgument: The form sends the field 'Key' more than once") == true)
        #expect(
            Self.code { _ = try Self.form([("policy", "p")]).key() }?.contains("must contain a field named 'key'")
                == true)
        #expect(
            try Self.form([("x-amz-meta-Camera", "x100"), ("x-amz-meta-b", "2")]).userMetadata == [
                "camera": "x100", "b": "2",
            ])
        // Fields that become headers of the object may not carry a line break (it came back as spaces).
        #expect(
            Self.code { try Self.form([("Content-Type", "image/png\r\nX-Evil: 1")]).checkHeaderValues() }
                == "InvalidArgument: The value of the form field 'content-type' is not a valid header value.")
        #expect(Self.code { try Self.form([("x-amz-meta-a", "b\nc")]).checkHeaderValues() } != nil)
        #expect(Self.code { try Self.form([("key", "a\nb"), ("x-amz-meta-a", "b c")]).checkHeaderValues() } == nil)
    }
}
