// Request ids, as API Gateway (`x-amzn-RequestId`), S3 (`x-amz-request-id`) and imgproxy (`X-Request-ID`) give every
// answer: 16 hex digits naming one request, so a client that reports "I got a 400" can point at the server's record
// of it. One maker for both front doors: the HTTP API's X-Request-Id and the AWS listener's ids.
import HTTPTypes
import NIOCore
import Synchronization

/// One request's id: 64 bits, written as 16 hexadecimal digits (upper case, leading zeros kept).
package struct RequestID: Sendable, Equatable {
    /// The id's bits.
    package let value: UInt64

    /// The header field the HTTP API answers with (and reads from a proxy in front of it).
    package static let field = HTTPField.Name("X-Request-Id")!

    /// A new id, unlike any other this process made. It is made without a system call or an allocation (it is
    /// written on the raw path of every cached thumbnail): a count from a random start, through SplitMix64's
    /// finaliser, a bijection, so no two of 2^64 ids are the same. Until session 32 the AWS front door drew each id
    /// from the system's random source (`getrandom`, 2-3 µs a call on the shared test machine). An id is a name,
    /// not a secret.
    package init() {
        let count = Self.count.wrappingAdd(1, ordering: .relaxed).newValue
        var mixed = Self.start &+ count &* 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        value = mixed ^ (mixed >> 31)
    }

    /// Where this process's ids start, random for each process.
    private static let start = UInt64.random(in: .min ... .max)
    /// The ids made so far.
    private static let count = Atomic<UInt64>(0)

    /// The 16 digits.
    package var text: String {
        String(unsafeUninitializedCapacity: 16) { digits in
            for index in 0..<16 { digits[index] = digit(index) }
            return 16
        }
    }

    /// Writes the 16 digits into a buffer, as `text` reads (no string is made).
    package func write(to buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16) { bytes in
            for index in 0..<16 { bytes[index] = digit(index) }
            return 16
        }
    }

    /// The ASCII digit at `index`, most significant first.
    private func digit(_ index: Int) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * index)) & 0xF
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    /// The id a proxy in front gave the request in `X-Request-Id`, kept so that one id names the request in every
    /// log it passes, when it is 1 to 128 letters, digits and `-_.:+/=` (a UUID, nginx's `$request_id`, this
    /// format); `nil` for anything else (longer, spaces, quotes, control characters), which is replaced.
    package static func accepted(_ incoming: String?) -> String? {
        guard let incoming, (1...128).contains(incoming.utf8.count),
            incoming.utf8.allSatisfy({ byte in
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                    UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                    return true
                default:
                    return false
                }
            })
        else { return nil }
        return incoming
    }

    /// The id of a request with these fields: the one a proxy gave it, else a new one.
    package static func of(_ fields: HTTPFields) -> String {
        accepted(fields[field]) ?? RequestID().text
    }
}
