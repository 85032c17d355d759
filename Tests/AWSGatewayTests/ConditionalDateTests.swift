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
