// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for Last-Modified and If-Modified-Since, without a DateFormatter.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// HTTP dates.
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats seconds since 1970 as an IMF-fixdate.
    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// Parses an IMF-fixdate; `nil` for other forms (the header is then ignored, as RFC 9110 says).
    static func parse(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var value = tm()
        value.tm_year = Int32(year - 1900)
        value.tm_mon = Int32(month)
        value.tm_mday = Int32(day)
        value.tm_hour = Int32(clock[0])
        value.tm_min = Int32(clock[1])
        value.tm_sec = Int32(clock[2])
        return Int(timegm(&value))
    }
}

/// The Date header of the current second, formatted once a second (one per connection: no lock).
struct HTTPDateCache {
    private var text = ""
    /// The second `current()` last formatted (seconds since 1970).
    private(set) var second = -1

    mutating func current() -> String {
        let now = time(nil)
        if now != second {
            second = now
            text = HTTPDate.format(now)
        }
        return text
    }
}
