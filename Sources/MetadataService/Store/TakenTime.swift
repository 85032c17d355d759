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
        // Each field present is within its range; a day is checked against its month (and leap years).
        func field(_ start: Int) -> Int? {
            guard characters.count >= start + 2 else { return nil }
            return Int(String(characters[start..<start + 2]))
        }
        let year = Int(String(characters[0..<4])) ?? 0
        if let month = field(5), !(1...12).contains(month) { return nil }
        if let day = field(8), let month = field(5), !(1...days(inMonth: month, year: year)).contains(day) {
            return nil
        }
        if let hour = field(11), hour > 23 { return nil }
        if let minute = field(14), minute > 59 { return nil }
        if let second = field(17), second > 59 { return nil }
        return time
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
