// The flexible checksums S3 clients send (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256), computed over
// the object bytes as they stream, to check a header or an aws-chunked trailer.
import Crypto
import Foundation

/// One running checksum of the algorithm a client named.
public struct PayloadChecksum: Sendable {
    /// The algorithms S3 defines, by header suffix.
    public enum Algorithm: String, Sendable, CaseIterable {
        case crc32, crc32c, crc64nvme, sha1, sha256
        /// The header or trailer naming its value.
        public var header: String { "x-amz-checksum-" + rawValue }
        /// Its name in S3's documents and `x-amz-checksum-algorithm` (`SHA256`), and the suffix of the
        /// `Checksum…` elements of parts (`ChecksumSHA256`).
        public var name: String { rawValue.uppercased() }

        /// The algorithm S3 calls `name` (any case), if it is one of these.
        public init?(name: String) { self.init(rawValue: name.lowercased()) }
        /// How many bytes its value is (the header carries their base64).
        public var byteCount: Int {
            switch self {
            case .crc32, .crc32c: 4
            case .crc64nvme: 8
            case .sha1: 20
            case .sha256: 32
            }
        }
    }

    /// The algorithm.
    public let algorithm: Algorithm
    private var crc: UInt32 = 0xFFFF_FFFF
    private var crc64: UInt64 = ~0
    private var sha1 = Insecure.SHA1()
    private var sha256 = SHA256()

    /// - Parameter algorithm: what to compute.
    public init(_ algorithm: Algorithm) { self.algorithm = algorithm }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch algorithm {
        case .crc32: crc = Self.update(crc, bytes, table: Self.crc32Table)
        case .crc32c: crc = Self.update(crc, bytes, table: Self.crc32cTable)
        case .crc64nvme: crc64 = Self.update64(crc64, bytes)
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
        case .crc64nvme:
            let value = ~crc64
            return Data((0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }).base64EncodedString()
        case .sha1: return Data(sha1.finalize()).base64EncodedString()
        case .sha256: return Data(sha256.finalize()).base64EncodedString()
        }
    }

    /// Slicing-by-8: eight bytes per step through eight tables (about 8x the byte-at-a-time loop), so the CRC
    /// keeps up with the disk; the tail goes byte by byte.
    private static func update(_ start: UInt32, _ bytes: UnsafeRawBufferPointer, table: [UInt32]) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var crc = start
            var index = 0
            let count = bytes.count
            while count - index >= 8 {
                let low = crc ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self))
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                crc =
                    t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = t[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
            return crc
        }
    }

    /// The eight 256-entry tables of slicing-by-8, one after another; the first is the classic byte table.
    private static func tables<Word: FixedWidthInteger & UnsignedInteger>(_ polynomial: Word) -> [Word] {
        var tables = [Word](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = Word(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ polynomial : value >> 1 }
            tables[index] = value
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }

    /// CRC-64/NVME (S3's default full-object checksum), slicing-by-8 as the 32-bit ones.
    private static func update64(_ start: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        crc64Table.withUnsafeBufferPointer { t in
            var crc = start
            var index = 0
            let count = bytes.count
            while count - index >= 8 {
                let word = crc ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                crc =
                    t[7 * 256 + Int(word & 0xFF)] ^ t[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xFF)] ^ t[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((word >> 32) & 0xFF)] ^ t[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ t[256 + Int((word >> 48) & 0xFF)] ^ t[Int(word >> 56)]
                index += 8
            }
            while index < count {
                crc = t[Int((crc ^ UInt64(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
            return crc
        }
    }

    private static let crc64Table = tables(UInt64(0x9A6C_9329_AC4B_C9B5))
    private static let crc32Table = tables(UInt32(0xEDB8_8320))
    private static let crc32cTable = tables(UInt32(0x82F6_3B78))
}
