// An import body that cannot be taken says what is wrong with it, before the shape it must have (until session 37
// every such body got the same sentence: a missing, null or empty URL and an unknown invocation type alike).
import Foundation
import Testing

@testable import FetchService

@Suite struct ImportBodyTests {
    static func problem(_ json: String) -> String { ImportRequest.problem(in: Data(json.utf8)) }

    @Test func eachRefusedBodyNamesItsProblem() {
        #expect(Self.problem("{\"url\": ") == "the body is not JSON")
        #expect(Self.problem("[\"https://a/b.jpg\"]") == "the body is not a JSON object")
        #expect(Self.problem("{}") == "\"url\" is missing")
        #expect(Self.problem("{\"url\": null}") == "\"url\" is null")
        #expect(Self.problem("{\"url\": \"\"}") == "\"url\" is empty")
        #expect(Self.problem("{\"url\": 7}") == "\"url\" is not a string")
        #expect(
            Self.problem("{\"url\": \"https://a/b.jpg\", \"invocation_type\": \"Bogus\"}")
                == "\"invocation_type\" \"Bogus\" is not an invocation type")
        #expect(
            Self.problem("{\"url\": \"https://a/b.jpg\", \"invocation_type\": \"DryRun\"}")
                == "\"invocation_type\" DryRun is not taken by an import (nothing would be fetched)")
        #expect(
            Self.problem("{\"url\": \"https://a/b.jpg\", \"invocation_type\": null}")
                == "\"invocation_type\" is not a string")
    }
}
