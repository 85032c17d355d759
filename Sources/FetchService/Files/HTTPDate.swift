// HTTP dates: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) written for Last-Modified, and the three forms RFC 9110
// §5.6.7 has a recipient accept read from If-Modified-Since, If-Unmodified-Since and If-Range, without a DateFormatter.
// Both HTTP paths (the event loop's cached thumbnails and the router's) and the S3 front door read dates here.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP dates.
package enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats seconds since 1970 as an IMF-fixdate.
    package static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(1900 + parts.tm_year) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// Parses an HTTP date in any of its three forms (seconds since 1970); `nil` for anything else (the header is
    /// then ignored, as RFC 9110 says). Until session 29 only IMF-fixdate was read, so an old client's or proxy's
    /// RFC 850 or asctime date was ignored and the file sent again.
    package static func parse(_ text: String) -> Int? { parse(text, now: Int(time(nil))) }

    /// Parses `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate), `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850) and
    /// `Sun Nov  6 08:49:37 1994` (asctime).
    /// - Parameter now: the current second: an RFC 850 two-digit year more than 50 years ahead of it is the latest
    ///   past year with those digits (RFC 9110 §5.6.7).
    package static func parse(_ text: String, now: Int) -> Int? {
        let parts = text.split(separator: " ")
        switch parts.count {
        case 6:
            // IMF-fixdate.
            guard parts[0].count == 4, parts[0].last == ",", days.contains(String(parts[0].dropLast())),
                parts[5] == "GMT", parts[1].count == 2, parts[3].count == 4
            else { return nil }
            return seconds(year: number(parts[3]), month: parts[2], day: number(parts[1]), clock: parts[4])
        case 4:
            // RFC 850: the weekday in full, the date with dashes and a two-digit year.
            guard parts[0].last == ",", longDays.contains(String(parts[0].dropLast())), parts[3] == "GMT" else {
                return nil
            }
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard date.count == 3, date[0].count == 2, date[2].count == 2, let twoDigits = number(date[2]) else {
                return nil
            }
            var current = tm()
            var clock = time_t(now)
            gmtime_r(&clock, &current)
            let thisYear = Int(current.tm_year) + 1900
            var year = thisYear - thisYear % 100 + twoDigits
            if year > thisYear + 50 { year -= 100 }
            return seconds(year: year, month: date[1], day: number(date[0]), clock: parts[2])
        case 5:
            // asctime: the day of the month padded with a space (`Nov  6`), which the split drops.
            guard days.contains(String(parts[0])), (1...2).contains(parts[2].count), parts[4].count == 4 else {
                return nil
            }
            return seconds(year: number(parts[4]), month: parts[1], day: number(parts[2]), clock: parts[3])
        default:
            return nil
        }
    }

    /// The second a date's fields name, when each is in its range.
    private static func seconds(year: Int?, month: Substring, day: Int?, clock: Substring) -> Int? {
        let time = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard let year, let day, let month = months.firstIndex(of: String(month)), (1...31).contains(day),
            time.count == 3, time.allSatisfy({ $0.count == 2 }), let hour = number(time[0]), (0...23).contains(hour),
            let minute = number(time[1]), (0...59).contains(minute), let second = number(time[2]),
            (0...60).contains(second)
        else { return nil }
        var value = tm()
        value.tm_year = Int32(year - 1900)
        value.tm_mon = Int32(month)
        value.tm_mday = Int32(day)
        value.tm_hour = Int32(hour)
        value.tm_min = Int32(minute)
        value.tm_sec = Int32(second)
        return Int(timegm(&value))
    }

    /// Digits only (`Int` would take a sign).
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
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
