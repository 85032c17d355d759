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

    /// `--bbox`/`--near` and `bbox=`/`near=` take decimal numbers only: until session 31 Swift's `Double(String)`
    /// read `0x10` as 16 and `0x0.8p0` as 0.5, so a typo was taken as a place.
    @Test func boxesAndCirclesTakeDecimalNumbersOnly() throws {
        for bbox in ["0x0,0x0,0x1,0x1", "0,0,0x10,1", "0,0,1,0x1p3", "0,0,1,1.5.5", "0,0,1,", "0,0,1,1e", "0,0,1,- 1"] {
            #expect(
                Self.refusal(QueryFilters(bbox: bbox))
                    == QueryFilterError(
                        filter: .bbox,
                        problem: " must be S,W,N,E, four decimal numbers (degrees) separated by commas, not '\(bbox)'"),
                "\(bbox)")
        }
        for near in ["0x0.8p0,0.5,1", "0.5,0X1,1", "0.5,0.5,0x10"] {
            #expect(
                Self.refusal(QueryFilters(near: near))
                    == QueryFilterError(
                        filter: .near,
                        problem: " must be LAT,LON,KM, three decimal numbers separated by commas, not '\(near)'"),
                "\(near)")
        }
        let query = try QueryFilters(bbox: "-33.9, +151, .5, 151.", near: "-0.5,1e2,2E1").query()
        #expect(query.bbox == GeoBox(south: -33.9, west: 151, north: 0.5, east: 151))
        #expect(query.near == GeoCircle(latitude: -0.5, longitude: 100, kilometres: 20))
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
