// The checksum a PutObject came with is kept with the object and returned by GetObject and HeadObject when asked
// (`x-amz-checksum-mode: ENABLED`), for the whole object only; until session 35 it was echoed by the PutObject and
// then forgotten, so an SDK had nothing to verify a download with.
import Foundation
import HTTPTypes
import Testing

@testable import AWSGateway

@Suite struct ObjectChecksumTests {
    static let sha256 = S3ObjectChecksum(
        header: "x-amz-checksum-sha256", value: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")!

    static func info(checksum: S3ObjectChecksum?) -> S3API.ObjectInfo {
        S3API.ObjectInfo(
            file: URL(fileURLWithPath: "/nonexistent/a.jpg"), size: 100, modified: Date(timeIntervalSince1970: 0),
            eTag: "\"etag\"", contentType: "image/jpeg", metadata: [:], checksum: checksum)
    }

    static func head(_ fields: [(String, String)], checksum: S3ObjectChecksum? = sha256) throws -> HTTPFields {
        var request = HTTPFields()
        for (name, value) in fields { request[HTTPField.Name(name)!] = value }
        return try S3API.objectHead(isHead: false, headers: request, info: info(checksum: checksum)).1
    }

    @Test func theChecksumIsReturnedWhenAsked() throws {
        let headers = try Self.head([("x-amz-checksum-mode", "ENABLED")])
        #expect(headers[HTTPField.Name("x-amz-checksum-sha256")!] == Self.sha256.value)
        #expect(headers[HTTPField.Name("x-amz-checksum-type")!] == "FULL_OBJECT")
    }

    @Test func notWithoutTheModeNorForPartOfTheObject() throws {
        let unasked = try Self.head([])
        #expect(unasked[HTTPField.Name("x-amz-checksum-sha256")!] == nil)
        let part = try Self.head([("x-amz-checksum-mode", "ENABLED"), ("Range", "bytes=0-9")])
        #expect(part[HTTPField.Name("x-amz-checksum-sha256")!] == nil)
        #expect(part[HTTPField.Name("x-amz-checksum-type")!] == nil)
        // A range that is the whole object is the object.
        let whole = try Self.head([("x-amz-checksum-mode", "ENABLED"), ("Range", "bytes=0-99")])
        #expect(whole[HTTPField.Name("x-amz-checksum-sha256")!] == Self.sha256.value)
        let none = try Self.head([("x-amz-checksum-mode", "ENABLED")], checksum: nil)
        #expect(none[HTTPField.Name("x-amz-checksum-type")!] == nil)
    }

    @Test func theRecordKeepsItAcrossUploadsOfTheSameBytes() throws {
        let first = S3ObjectRecord(eTag: "\"a\"", metadata: [:], key: "a.jpg", checksum: Self.sha256)
        let again = S3ObjectRecord(eTag: "\"a\"", metadata: [:], key: "b.jpg")
        #expect(first.updated(by: again, bytesType: "image/jpeg").checksum == Self.sha256)
        let crc = S3ObjectChecksum(header: "x-amz-checksum-crc32", value: "AAAAAA==")!
        let withCRC = S3ObjectRecord(eTag: "\"a\"", metadata: [:], key: "c.jpg", checksum: crc)
        #expect(first.updated(by: withCRC, bytesType: "image/jpeg").checksum == crc)
        #expect(crc.algorithm == "CRC32" && crc.header == "x-amz-checksum-crc32")
        let encoded = try JSONEncoder().encode(first)
        #expect(try JSONDecoder().decode(S3ObjectRecord.self, from: encoded) == first)
        // A record written before checksums were kept reads as one without.
        let old = Data(#"{"etag":"\"a\"","metadata":{},"key":"a.jpg"}"#.utf8)
        #expect(try JSONDecoder().decode(S3ObjectRecord.self, from: old).checksum == nil)
    }
}

/// A multipart object's full-object CRC comes from its parts' CRCs and lengths (without reading it again); it is
/// the CRC of all the bytes, for each of the three CRCs and pieces of odd lengths, an empty one among them.
@Suite struct CombinedChecksumTests {
    static func value(_ algorithm: PayloadChecksum.Algorithm, _ bytes: [UInt8]) -> String {
        var checksum = PayloadChecksum(algorithm)
        bytes.withUnsafeBytes { checksum.update($0) }
        return checksum.finalValue()
    }

    @Test(arguments: [PayloadChecksum.Algorithm.crc32, .crc32c, .crc64nvme])
    func piecesCombineIntoTheWhole(_ algorithm: PayloadChecksum.Algorithm) {
        var state: UInt32 = 7
        let bytes = (0..<100_003).map { _ -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        let cuts = [0, 1, 4097, 4097, 65_536, bytes.count]
        let pieces = zip(cuts, cuts.dropFirst()).map { Array(bytes[$0..<$1]) }
        let combined = PayloadChecksum.combined(algorithm, pieces.map { (Self.value(algorithm, $0), $0.count) })
        #expect(combined == Self.value(algorithm, bytes))
    }

    @Test func shaCannotBeCombined() {
        #expect(PayloadChecksum.combined(.sha256, [(Self.value(.sha256, [1]), 1)]) == nil)
    }
}
