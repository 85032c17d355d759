// A request id is 16 hex digits, as S3's `x-amz-request-id`: until session 31 one id in 16 dropped its leading zero
// (14- and 15-character ids were seen).
import Testing

@testable import AWSGateway

@Suite struct RequestIDTests {
    @Test func everyRequestIDHasSixteenHexDigits() {
        let ids = (0..<2000).map { _ in AWSResponses.requestID() }
        #expect(ids.allSatisfy { $0.count == 16 }, "\(ids.filter { $0.count != 16 }.prefix(3))")
        #expect(ids.allSatisfy { $0.allSatisfy { "0123456789ABCDEF".contains($0) } })
        #expect(Set(ids).count == ids.count)
    }
}
