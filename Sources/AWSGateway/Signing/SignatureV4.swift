// AWS Signature Version 4, the pure parts: canonical request, string to sign, signing key, signature. The verifier
// and the chunked-payload decoder build on these; the unit tests check them against AWS's published vectors.
import Crypto
import Foundation
import PipelineCore

/// The SigV4 algorithm as AWS documents it ("Create a canonical request", "Create a string to sign", "Calculate the
/// signature").
public enum SignatureV4 {
    /// The only algorithm accepted.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of a request whose body is not signed (presigned URLs, some uploads).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The SHA-256 of no bytes.
    public static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The canonical request: method, URI, query, headers, signed header names and payload hash, one per line.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: the path as sent (percent-encoded or not; it is decoded and encoded again the AWS way).
    ///   - query: the raw query string (without `?`).
    ///   - headers: every header of the request as (name, value) pairs, in the order received.
    ///   - signedHeaders: the lowercased names the client signed, sorted.
    ///   - payloadHash: the hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` / a `STREAMING-…` marker.
    ///   - excludingQuery: query names left out (`X-Amz-Signature` of a presigned URL).
    ///   - queryPairs: `query` already decoded, when the caller has it.
    ///   - s3Path: S3's canonical path (`canonicalURI`); false for every other service (`normalizedCanonicalURI`).
    public static func canonicalRequest(
        method: String, path: String, query: String, headers: [(String, String)], signedHeaders: [String],
        payloadHash: String, excludingQuery: Set<String> = [], queryPairs: [(String, String)]? = nil,
        s3Path: Bool = true
    ) -> String {
        [
            method.uppercased(),
            s3Path ? canonicalURI(path) : normalizedCanonicalURI(path),
            canonicalQuery(pairs: queryPairs ?? Self.queryPairs(query), excluding: excludingQuery),
            canonicalHeaders(headers, signed: signedHeaders),
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The path with each segment percent-decoded and encoded again with only the unreserved characters left as
    /// they are; `/` separates segments. (S3 signs the path as the client encoded it, which for SDKs is this.)
    public static func canonicalURI(_ path: String) -> String {
        let raw = path.isEmpty ? "/" : path
        // Most paths are unreserved characters and slashes already: nothing to decode or encode.
        if raw.utf8.allSatisfy({ isUnreserved($0) || $0 == UInt8(ascii: "/") }) { return raw }
        return raw.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { segment in
            uriEncode(percentDecode(Substring(segment)))
        }.joined(separator: "/")
    }

    /// The canonical path of every service but S3: dot segments and empty segments removed (RFC 3986), then the path
    /// as sent encoded once more, so an encoded `%3A` signs as `%253A` ("each path segment must be URI-encoded twice,
    /// except for Amazon S3"). A Lambda function ARN in the path (`functions/arn%3Aaws%3Alambda…`) is signed so by
    /// the SDKs.
    public static func normalizedCanonicalURI(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + segments.map { uriEncode(String($0)) }.joined(separator: "/") + trailing
    }

    /// The query's pairs, each name and value decoded and encoded again, sorted by name then value, joined by `&`.
    public static func canonicalQuery(_ query: String, excluding: Set<String> = []) -> String {
        canonicalQuery(pairs: queryPairs(query), excluding: excluding)
    }

    /// `canonicalQuery` of pairs already decoded (`SignedRequest.queryPairs`).
    static func canonicalQuery(pairs decoded: [(String, String)], excluding: Set<String> = []) -> String {
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(decoded.count)
        for (name, value) in decoded where !excluding.contains(name) {
            pairs.append((uriEncode(name), uriEncode(value)))
        }
        pairs.sort { left, right in left.name == right.name ? left.value < right.value : left.name < right.name }
        return pairs.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// The decoded (name, value) pairs of a raw query string; a name without `=` has an empty value.
    public static func queryPairs(_ query: String) -> [(String, String)] {
        // Split on the UTF-8 bytes: `&` and `=` are ASCII, and splitting Characters was a presigned GET's top cost.
        query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                return (
                    percentDecode(Substring(pair[..<equals])),
                    percentDecode(Substring(pair[pair.index(after: equals)...]))
                )
            }
            return (percentDecode(Substring(pair)), "")
        }
    }

    /// `name:value\n` for each signed header: names lowercased, values trimmed with inner runs of spaces made one,
    /// repeated headers joined by commas in the order received.
    public static func canonicalHeaders(_ headers: [(String, String)], signed: [String]) -> String {
        var values: [String: [String]] = [:]
        for (name, value) in headers { values[name.lowercased(), default: []].append(normalizeValue(value)) }
        return signed.map { "\($0):\((values[$0] ?? []).joined(separator: ","))\n" }.joined()
    }

    static func normalizeValue(_ value: String) -> String {
        // Most values have no tab, no run of spaces and nothing to trim: kept as they are.
        var previous: UInt8 = 0
        var plain = value.utf8.first != UInt8(ascii: " ") && value.utf8.last != UInt8(ascii: " ")
            && value.utf8.allSatisfy { $0 < 0x80 }
        for byte in value.utf8 where plain {
            if byte == UInt8(ascii: "\t") || (byte == UInt8(ascii: " ") && previous == UInt8(ascii: " ")) { plain = false }
            previous = byte
        }
        if plain { return value }
        var out = ""
        var lastWasSpace = false
        for character in value.trimmingCharacters(in: .whitespaces) {
            if character == " " || character == "\t" {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(character)
                lastWasSpace = false
            }
        }
        return out
    }

    /// The string to sign: algorithm, request time, scope and the hash of the canonical request.
    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, hexSHA256(Data(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    public static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + secret).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// The hex HMAC-SHA256 of `text` under `key`.
    public static func signature(_ text: String, key: SymmetricKey) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    /// The string to sign of one `aws-chunked` chunk, chained to the previous signature.
    public static func chunkStringToSign(
        amzDate: String, scope: String, previousSignature: String, chunkHash: String
    ) -> String {
        ["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, previousSignature, emptyHash, chunkHash].joined(separator: "\n")
    }

    /// The string to sign of an `aws-chunked` body's trailing headers.
    public static func trailerStringToSign(
        amzDate: String, scope: String, previousSignature: String, trailerHash: String
    ) -> String {
        ["AWS4-HMAC-SHA256-TRAILER", amzDate, scope, previousSignature, trailerHash].joined(separator: "\n")
    }

    // MARK: Encoding

    /// AWS's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (upper-case hex).
    public static func uriEncode(_ text: String) -> String {
        if text.utf8.allSatisfy(isUnreserved) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// Whether a byte is one of AWS's unreserved characters (`A-Z a-z 0-9 - _ . ~`).
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Decodes `%XX` escapes (a malformed escape stays as it is); `+` stays `+`, as S3 reads it.
    public static func percentDecode<S: StringProtocol>(_ text: S) -> String {
        // A byte search: StringProtocol.contains(String) is Foundation's locale-aware search, the top cost of a
        // presigned GET in the profile.
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let high = HexDigit.value(utf8[index + 1]), let low = HexDigit.value(utf8[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lower-case hex of bytes.
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case hex of a MAC.
    public static func hex(_ code: HashedAuthenticationCode<SHA256>) -> String { hex(Array(code)) }

    /// Hex SHA-256 of bytes.
    public static func hexSHA256(_ data: Data) -> String { hex(Array(SHA256.hash(data: data))) }

    /// Compares two signatures in time independent of where they differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
