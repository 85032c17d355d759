// Dates as HTTP headers write them (`Wed, 02 Dec 2026 03:45:58 GMT`) and as SigV4 does (`20261202T034558Z`), with
// the C library (a DateFormatter per request costs more than the rest of a thumbnail GET).
import FetchService
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Formatting and parsing of the two date forms AWS requests use.
enum HTTPDateText {
    /// RFC 9110 IMF-fixdate.
    static func format(_ date: Date) -> String { strftime(date, "%a, %d %b %Y %H:%M:%S GMT") }

    /// `yyyyMMdd'T'HHmmss'Z'`.
    static func amz(_ date: Date) -> String { strftime(date, "%Y%m%dT%H%M%SZ") }

    /// Parses an HTTP date in any of the three forms RFC 9110 has recipients accept (IMF-fixdate
    /// `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850, asctime), as the HTTP API reads them (`HTTPDate`): until session 29
    /// only the first was read here.
    static func parse(_ text: String) -> Date? {
        HTTPDate.parse(text).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Parses `yyyyMMdd'T'HHmmss'Z'`.
    static func parseAmz(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        return date(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    private static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    private static func strftime(_ date: Date, _ pattern: String) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = Glibc.strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
