// The flexible checksums S3 clients send (x-amz-checksum-crc32, -crc32c, -sha1, -sha256), computed over the object
// bytes as they stream, to check a header or an aws-chunked trailer.
import Crypto
import Foundation

/// One running checksum of the algorithm a client named.
public struct PayloadChecksum: Sendable {
    /// The algorithms S3 defines, by header suffix.
    public enum Algorithm: String, Sendable, CaseIterable {
        case crc32, crc32c, sha1, sha256
        /// The header or trailer naming its value.
        public var header: String { "x-amz-checksum-" + rawValue }
    }

    /// The algorithm.
    public let algorithm: Algorithm
    private var crc: UInt32 = 0xFFFF_FFFF
    private var sha1 = Insecure.SHA1()
    private var sha256 = SHA256()

    /// - Parameter algorithm: what to compute.
    public init(_ algorithm: Algorithm) { self.algorithm = algorithm }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch algorithm {
        case .crc32: crc = Self.update(crc, bytes, table: Self.crc32Table)
        case .crc32c: crc = Self.update(crc, bytes, table: Self.crc32cTable)
        case .sha1: sha1.update(bufferPointer: bytes)
        case .sha256: sha256.update(bufferPointer: bytes)
        }
    }

    /// The base64 value as the header carries it (big-endian bytes for the CRCs).
    public func finalValue() -> String {
        switch algorithm {
        case .crc32, .crc32c:
            let value = ~crc
            return Data([UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
                .base64EncodedString()
        case .sha1: return Data(sha1.finalize()).base64EncodedString()
        case .sha256: return Data(sha256.finalize()).base64EncodedString()
        }
    }

    private static func update(_ start: UInt32, _ bytes: UnsafeRawBufferPointer, table: [UInt32]) -> UInt32 {
        var crc = start
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc
    }

    private static func table(_ polynomial: UInt32) -> [UInt32] {
        (0..<256).map { index -> UInt32 in
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ polynomial : value >> 1 }
            return value
        }
    }

    private static let crc32Table = table(0xEDB8_8320)
    private static let crc32cTable = table(0x82F6_3B78)
}
