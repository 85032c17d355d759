// SHA-256 and MD5 as running values with the bytes' hex or raw form, for joining files on a thread-pool thread.
import Crypto

/// A running SHA-256.
struct SHA256Stream {
    private var hasher = SHA256()
    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    var hex: String { SignatureV4.hex(Array(hasher.finalize())) }
}

/// A running MD5 (S3's ETag; not used for security).
struct MD5Stream {
    private var hasher = Insecure.MD5()
    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    var bytes: [UInt8] { Array(hasher.finalize()) }
}
