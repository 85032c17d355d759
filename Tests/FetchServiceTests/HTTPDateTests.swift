// HTTP dates as RFC 9110 §5.6.7 has a recipient read them: IMF-fixdate, RFC 850 and asctime, all three (until
// session 29 only the first; an old client's If-Modified-Since in another form was ignored and the file sent again).
import Foundation
import Testing

@testable import FetchService

@Suite struct HTTPDateTests {
    /// Sun, 06 Dec 2026 19:42:51 GMT.
    static let instant = 1_796_586_171

    @Test func theThreeFormsOfOneInstantAreOneSecond() {
        #expect(HTTPDate.format(Self.instant) == "Sun, 06 Dec 2026 19:42:51 GMT")
        for text in [
            "Sun, 06 Dec 2026 19:42:51 GMT", "Sunday, 06-Dec-26 19:42:51 GMT", "Sun Dec  6 19:42:51 2026",
            "Sun Dec 06 19:42:51 2026",
        ] {
            #expect(HTTPDate.parse(text) == Self.instant, "\(text)")
        }
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"))
    }

    /// A two-digit year more than 50 years ahead is the latest past year with those digits.
    @Test func anRFC850YearIsReadAroundNow() {
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: Self.instant) == 784_111_777)
        let seventySix = HTTPDate.parse("Thursday, 01-Jan-76 00:00:00 GMT", now: Self.instant)
        let seventySeven = HTTPDate.parse("Saturday, 01-Jan-77 00:00:00 GMT", now: Self.instant)
        #expect(seventySix.map { HTTPDate.format($0) } == "Wed, 01 Jan 2076 00:00:00 GMT")
        #expect(seventySeven.map { HTTPDate.format($0) } == "Sat, 01 Jan 1977 00:00:00 GMT")
    }

    @Test func otherTextIsNoDate() {
        for text in [
            "", "yesterday", "Sun, 06 Dec 2026 19:42:51", "Sun, 06 Dec 2026 19:42:51 UTC", "06 Dec 2026 19:42:51 GMT",
            "Sun, 6 Dec 2026 19:42:51 GMT", "Sun, 06 dec 2026 19:42:51 GMT", "Sun, 32 Dec 2026 19:42:51 GMT",
            "Sun, 06 Dec 2026 24:00:00 GMT", "Sun, 06 Dec 2026 19:42 GMT", "Sun, +6 Dec 2026 19:42:51 GMT",
            "Sun, 06 Dec 2026 19:42:5x GMT", "Sun, 06-Dec-26 19:42:51 GMT", "Sunday, 06-Dec-2026 19:42:51 GMT",
            "Sunday, 06 Dec 26 19:42:51 GMT", "Sunday Dec  6 19:42:51 2026", "Sun Dec  6 19:42:51 26",
            "Sun Dec 123 19:42:51 2026",
        ] {
            #expect(HTTPDate.parse(text) == nil, "\(text)")
        }
    }
}
