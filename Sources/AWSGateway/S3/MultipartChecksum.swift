// The checksum S3 gives the object a multipart upload with a checksum algorithm makes, from its parts' checksums:
// composite (the algorithm's checksum of the parts' binary checksums joined, base64, `-N` for N parts) or the whole
// object's (the parts' CRCs combined), as CreateMultipartUpload's `x-amz-checksum-type` chose.
import Foundation

/// How a multipart upload's part checksums make the object's (`x-amz-checksum-type`).
enum MultipartChecksumType: String, Sendable, CaseIterable {
    case composite = "COMPOSITE"
    case fullObject = "FULL_OBJECT"

    /// S3's choice when CreateMultipartUpload names an algorithm and no type: full-object for CRC64NVME (it has no
    /// composite), composite for the others.
    static func standard(for algorithm: PayloadChecksum.Algorithm) -> Self {
        algorithm == .crc64nvme ? .fullObject : .composite
    }

    /// Whether S3 computes this type of `algorithm`: SHA-1 and SHA-256 are composite only, CRC64NVME full-object
    /// only, CRC32 and CRC32C either.
    func isSupported(by algorithm: PayloadChecksum.Algorithm) -> Bool {
        switch (self, algorithm) {
        case (.composite, .crc64nvme), (.fullObject, .sha1), (.fullObject, .sha256): false
        default: true
        }
    }
}

extension MultipartUploads {
    /// The object checksum of the completed `parts` (each part's recorded checksum of `algorithm`, or one computed
    /// from its bytes); nil if a part cannot be read.
    static func objectChecksum(
        of parts: [UploadedPart], _ algorithm: PayloadChecksum.Algorithm, type: MultipartChecksumType
    ) -> S3ObjectChecksum? {
        var values: [String] = []
        for part in parts {
            guard let checksum = part.checksum?.algorithm == algorithm ? part.checksum : checksum(of: part, algorithm)
            else { return nil }
            values.append(checksum.value)
        }
        switch type {
        case .fullObject:
            guard let value = PayloadChecksum.combined(algorithm, zip(values, parts.map(\.size)).map { ($0, $1) })
            else { return nil }
            return S3ObjectChecksum(algorithm: algorithm, value: value, type: nil)
        case .composite:
            var checksum = PayloadChecksum(algorithm)
            for value in values {
                guard let bytes = Data(base64Encoded: value) else { return nil }
                bytes.withUnsafeBytes { checksum.update($0) }
            }
            return S3ObjectChecksum(
                algorithm: algorithm, value: checksum.finalValue() + "-\(parts.count)", type: type.rawValue)
        }
    }
}
