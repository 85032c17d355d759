// A time filter on taken_at: a prefix of the camera's local wall time, checked against the calendar.

/// The `taken_after`/`taken_before` bounds of a query (`picpipe query --taken-after`, `GET /images?taken_after=`).
public enum TakenTime {
    /// What a bound may look like, for messages.
    public static let shape = "a time like 2024, 2024-05-01 or 2024-05-01T10:30:00"

    /// A time prefix in taken_at's shape (`YYYY[-MM[-DD[THH:MM[:SS]]]]`; EXIF's "2024:05:01 10:00" is accepted too),
    /// or nil when it is malformed or names no time (month 13, day 32, hour 24): the bound is compared as text, so
    /// "2020-13-01" would silently mean "after 2020" instead of being the typo it is.
    public static func normalised(_ text: String) -> String? {
        var characters = Array(text.trimmingCharacters(in: .whitespaces))
        let pattern = Array("dddd-dd-ddTdd:dd:dd")
        guard characters.count >= 4, characters.count <= pattern.count else { return nil }
        for (index, expected) in pattern.prefix(characters.count).enumerated() {
            let character = characters[index]
            switch expected {
            case "d": guard character.isASCII, character.isNumber else { return nil }
            case "-": guard character == "-" || character == ":" else { return nil }
            case "T": guard character == "T" || character == " " else { return nil }
            default: guard character == expected else { return nil }
            }
            characters[index] = expected == "d" ? character : expected
        }
        guard ![5, 8, 11, 14, 17].contains(characters.count) else { return nil }  // no dangling separator
        let time = String(characters)
        return isInCalendar(time) ? time : nil
    }

    /// Whether each field of a time in taken_at's shape (`YYYY-MM-DDTHH:MM:SS` or a prefix of it, digits where
    /// digits belong) is within its range: month 1 to 12, a day its month has (leap years counted), hour 0 to 23
    /// (EXIF's hours, as ISO 8601's since 2019: 24:00:00 is no time), minute and second 0 to 59.
    static func isInCalendar(_ time: String) -> Bool {
        let characters = Array(time.utf8)
        func field(_ start: Int) -> Int? {
            guard characters.count >= start + 2 else { return nil }
            return Int(characters[start] &- 0x30) * 10 + Int(characters[start + 1] &- 0x30)
        }
        guard characters.count >= 4 else { return false }
        let year = (0..<4).reduce(0) { $0 * 10 + Int(characters[$1] &- 0x30) }
        if let month = field(5), !(1...12).contains(month) { return false }
        if let day = field(8), let month = field(5), !(1...days(inMonth: month, year: year)).contains(day) {
            return false
        }
        if let hour = field(11), hour > 23 { return false }
        if let minute = field(14), minute > 59 { return false }
        if let second = field(17), second > 59 { return false }
        return true
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
