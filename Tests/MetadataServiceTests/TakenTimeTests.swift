// Time bounds of a query: a taken_at prefix, checked against the calendar.
import MetadataService
import Testing

struct TakenTimeTests {
    @Test func prefixesAreNormalisedAndTheCalendarIsChecked() {
        #expect(TakenTime.normalised("2024") == "2024")
        #expect(TakenTime.normalised(" 2024-05 ") == "2024-05")
        #expect(TakenTime.normalised("2024:05:01 10:30") == "2024-05-01T10:30")
        #expect(TakenTime.normalised("2024-02-29T23:59:59") == "2024-02-29T23:59:59")
        #expect(TakenTime.normalised("2000-02-29") == "2000-02-29")
        for bad in [
            "2020-13-01", "2020-00", "2023-02-29", "1900-02-29", "2024-04-31", "2024-01-32", "2024-01-00",
            "2024-01-01T24", "2024-01-01T10:60", "2024-01-01T10:00:60", "2024-", "yesterday", "202", "2024-1-1",
        ] {
            #expect(TakenTime.normalised(bad) == nil, "\(bad)")
        }
    }
}
