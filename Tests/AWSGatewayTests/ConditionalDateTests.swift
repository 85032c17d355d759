// GetObject's conditional dates read as the HTTP API reads them: IMF-fixdate, RFC 850 and asctime (until session 29
// only the first; the S3 front door and the HTTP API now share one parser).
import Foundation
import HTTPTypes
import Testing

@testable import AWSGateway

@Suite struct ConditionalDateTests {
    @Test func everyHTTPDateFormIsReadByGetObjectsConditions() {
        // Sun, 06 Dec 2026 19:42:51 GMT.
        let modified = Date(timeIntervalSince1970: 1_796_586_171)
        let atTheModification = [
            "Sun, 06 Dec 2026 19:42:51 GMT", "Sunday, 06-Dec-26 19:42:51 GMT", "Sun Dec  6 19:42:51 2026",
        ]
        let aSecondBefore = [
            "Sun, 06 Dec 2026 19:42:50 GMT", "Sunday, 06-Dec-26 19:42:50 GMT", "Sun Dec  6 19:42:50 2026",
        ]
        func outcome(_ name: HTTPField.Name, _ value: String) -> S3API.PreconditionOutcome? {
            var headers = HTTPFields()
            headers[name] = value
            return S3API.preconditionFails(headers, eTag: "\"e\"", modified: modified)
        }
        for (now, before) in zip(atTheModification, aSecondBefore) {
            #expect(outcome(.ifModifiedSince, now) == .notModified, "\(now)")
            #expect(outcome(.ifModifiedSince, before) == nil, "\(before)")
            #expect(outcome(.ifUnmodifiedSince, now) == nil, "\(now)")
            #expect(outcome(.ifUnmodifiedSince, before) == .failed, "\(before)")
        }
    }
}

/// If-Match compares strongly and If-None-Match weakly (RFC 9110 §13.1.1, §13.1.2): a weak `W/"…"` never satisfies
/// If-Match, on GET, HEAD, a conditional write or a conditional delete (until session 37 it did, and a DELETE with
/// `If-Match: W/"<etag>"` removed the picture).
@Suite struct WeakETagConditionTests {
    static let eTag = "\"9b70a1\""

    @Test func aWeakETagNeverSatisfiesIfMatchButDoesIfNoneMatch() {
        #expect(S3API.eTagListMatches(Self.eTag, eTag: Self.eTag, weakly: false))
        #expect(S3API.eTagListMatches("9b70a1", eTag: Self.eTag, weakly: false))
        #expect(S3API.eTagListMatches("\"x\", *", eTag: Self.eTag, weakly: false))
        #expect(!S3API.eTagListMatches("W/\"9b70a1\"", eTag: Self.eTag, weakly: false))
        #expect(S3API.eTagListMatches("W/\"9b70a1\"", eTag: Self.eTag, weakly: true))
        let modified = Date(timeIntervalSince1970: 1_796_586_171)
        var weakIfMatch = HTTPFields()
        weakIfMatch[.ifMatch] = "W/\"9b70a1\""
        #expect(S3API.preconditionFails(weakIfMatch, eTag: Self.eTag, modified: modified) == .failed)
        var weakIfNoneMatch = HTTPFields()
        weakIfNoneMatch[.ifNoneMatch] = "W/\"9b70a1\""
        #expect(S3API.preconditionFails(weakIfNoneMatch, eTag: Self.eTag, modified: modified) == .notModified)
    }
}
