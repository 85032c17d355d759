// User metadata over S3's limit (2 KB: the UTF-8 bytes of the x-amz-meta-* names and values) is refused with S3's
// MetadataTooLarge; until session 35 it was stored whatever its size.
import Testing

@testable import AWSGateway

@Suite struct MetadataSizeTests {
    static func refusal(_ metadata: [String: String]) -> AWSError? {
        do {
            try S3ObjectOptions.checkMetadataSize(metadata)
            return nil
        } catch let error as AWSError {
            return error
        } catch {
            return AWSError("Unexpected", status: 0, "\(error)")
        }
    }

    @Test func theLimitIsTheNamesAndValuesAddedUp() throws {
        #expect(Self.refusal(["aaaaaaaaaa": String(repeating: "b", count: 2038)]) == nil)
        let b = String(repeating: "b", count: 1000)
        #expect(Self.refusal(["a": b, "c": String(repeating: "d", count: 1046)]) == nil)
        let refused = try #require(Self.refusal(["aaaaaaaaaa": String(repeating: "b", count: 2100)]))
        #expect(refused.code == "MetadataTooLarge")
        #expect(refused.status == 400)
        #expect(refused.message.hasPrefix("Your metadata headers exceed the maximum allowed metadata size"))
        #expect(refused.details == [.init(name: "Size", value: "2110"), .init(name: "MaxSizeAllowed", value: "2048")])
        #expect(Self.refusal(["a": b, "c": String(repeating: "d", count: 1047)]) != nil)
    }

    /// Bytes of UTF-8, not characters: "é" is two.
    @Test func bytesOfUTF8AreCounted() {
        #expect(Self.refusal(["k": String(repeating: "é", count: 1023)]) == nil)
        #expect(Self.refusal(["k": String(repeating: "é", count: 1024)])?.code == "MetadataTooLarge")
    }
}
