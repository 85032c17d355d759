// The one set of rules `GET /images` and `picpipe query` read their filters by: what each filter takes, what it
// refuses, and a refusal that says which value is wrong.
import MetadataService
import Testing

struct QueryFiltersTests {
    static func refusal(_ filters: QueryFilters) -> QueryFilterError? {
        do {
            _ = try filters.query()
            return nil
        } catch {
            return error
        }
    }

    @Test func filtersBecomeTheQuery() throws {
        let query = try QueryFilters(
            make: "Canon", model: "", takenAfter: "2024:05", takenBefore: "2025", bbox: " 5, 170 ,15,180 ",
            near: "10,180,20000"
        ).query()
        #expect(query.make == "Canon" && query.model == nil)
        #expect(query.takenAfter == "2024-05" && query.takenBefore == "2025")
        #expect(query.bbox == GeoBox(south: 5, west: 170, north: 15, east: 180))
        #expect(query.near == GeoCircle(latitude: 10, longitude: 180, kilometres: 20_000))
        #expect(try QueryFilters(make: "", takenAfter: "", bbox: "", near: "").query() == MetadataQuery())
    }

    @Test func aRefusalNamesTheValueThatIsWrong() {
        let cases: [(String, QueryFilterError.Filter, String)] = [
            ("10,180,0", .near, ": KM must be more than 0 and at most 20000 (kilometres), not 0"),
            ("10,180,25000", .near, ": KM must be more than 0 and at most 20000 (kilometres), not 25000"),
            ("91,180,5", .near, ": LAT must be a latitude from -90 to 90, not 91"),
            ("10,-181,5", .near, ": LON must be a longitude from -180 to 180, not -181"),
            ("10,nan,5", .near, " must be LAT,LON,KM, three decimal numbers separated by commas, not '10,nan,5'"),
        ]
        for (near, filter, problem) in cases {
            let error = Self.refusal(QueryFilters(near: near))
            #expect(error == QueryFilterError(filter: filter, problem: problem), "\(near)")
        }
        let box = Self.refusal(QueryFilters(bbox: "20,0,10,5"))
        #expect(box?.message(naming: "--bbox") == "--bbox: S (20) must not be north of N (10)")
        #expect(Self.refusal(QueryFilters(bbox: "0,200,1,5"))?.problem.contains("W must be a longitude") == true)
        let time = Self.refusal(QueryFilters(takenBefore: "2023-02-29"))
        #expect(time?.message(naming: "taken_before") == "taken_before must be \(TakenTime.shape), not '2023-02-29'")
        #expect(Self.refusal(QueryFilters(takenAfter: "2024\n")) != nil)
    }

    @Test func aLimitIsOneOrMore() throws {
        #expect(try QueryFilters.limit(1) == 1)
        #expect(try QueryFilters.limit(1000, atMost: 1000) == 1000)
        #expect(throws: QueryFilterError(filter: .limit, problem: " must be 1 or more, not 0")) {
            try QueryFilters.limit(0)
        }
        #expect(throws: QueryFilterError(filter: .limit, problem: " must be 1 to 1000, not 1001")) {
            try QueryFilters.limit(1001, atMost: 1000)
        }
    }
}
