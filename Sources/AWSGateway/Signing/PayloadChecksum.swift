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

    /// The CRC of pieces of bytes one after another, from each piece's CRC (base64, as `finalValue()`) and length,
    /// without their bytes: how a multipart object's full-object checksum comes from its parts' (zlib's
    /// crc32_combine, for any of the three CRCs). Nil for SHA-1 and SHA-256, which cannot be combined, or a value
    /// that is not the base64 of the algorithm's bytes.
    public static func combined(_ algorithm: Algorithm, _ pieces: [(value: String, length: Int)]) -> String? {
        func word(_ value: String) -> UInt64? {
            guard let bytes = Data(base64Encoded: value), bytes.count == algorithm.byteCount else { return nil }
            return bytes.reduce(0) { $0 << 8 | UInt64($1) }
        }
        let width: Int
        let polynomial: UInt64
        switch algorithm {
        case .crc32: (width, polynomial) = (32, 0xEDB8_8320)
        case .crc32c: (width, polynomial) = (32, 0x82F6_3B78)
        case .crc64nvme: (width, polynomial) = (64, 0x9A6C_9329_AC4B_C9B5)
        case .sha1, .sha256: return nil
        }
        var crc: UInt64 = 0
        for (index, piece) in pieces.enumerated() {
            guard let value = word(piece.value) else { return nil }
            crc =
                index == 0
                ? value
                : multiply(power(ofXTimes8: piece.length, width: width, polynomial), crc, width: width, polynomial)
                    ^ value
        }
        let bytes = (0..<(width / 8)).map { UInt8(truncatingIfNeeded: crc >> UInt64(width - 8 - 8 * $0)) }
        return Data(bytes).base64EncodedString()
    }

    /// `a * b` modulo the polynomial, both in the CRC's reflected form (x^0 the top bit of `width`).
    private static func multiply(_ a: UInt64, _ b: UInt64, width: Int, _ polynomial: UInt64) -> UInt64 {
        var b = b
        var product: UInt64 = 0
        var bit = UInt64(1) << UInt64(width - 1)
        while bit != 0 {
            if a & bit != 0 { product ^= b }
            bit >>= 1
            b = b & 1 == 1 ? (b >> 1) ^ polynomial : b >> 1
        }
        return product
    }

    /// x^(8 * count) modulo the polynomial (what appending `count` bytes multiplies a CRC by), by squaring.
    private static func power(ofXTimes8 count: Int, width: Int, _ polynomial: UInt64) -> UInt64 {
        var result = UInt64(1) << UInt64(width - 1)
        var square = UInt64(1) << UInt64(width - 9)
        var count = count
        while count > 0 {
            if count & 1 == 1 { result = multiply(square, result, width: width, polynomial) }
            square = multiply(square, square, width: width, polynomial)
            count >>= 1
        }
        return result
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
