// libFuzzer harness: the request parameters FetchService reads from clients: Range headers, image ids and signed
// thumbnail URLs (the request target as Hummingbird parses it, then URLSigner).
import FetchService
import FuzzSupport
import HummingbirdCore

/// The first byte picks the parser; the rest is its input.
enum RequestParametersHarness {
    /// A fixed clock and key: the signed-URL checks must not depend on the time the fuzzer runs.
    static let now = 1_750_000_000
    static let signer = URLSigner(key: "fuzz-signing-key")

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard let selector = bytes.first else { return .refused("empty") }
        let rest = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        switch selector % 3 {
        case 0: return range(rest)
        case 1: return imageID(String(decoding: rest, as: UTF8.self))
        default: return signedURL(String(decoding: rest, as: UTF8.self))
        }
    }

    /// `SIZE (8 bytes, little endian) RANGE-HEADER`: any answer must lie inside the file.
    static func range(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard bytes.count >= 8 else { return .refused("no size") }
        let raw = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        let size = Int(raw & UInt64(Int.max))
        let header = String(decoding: bytes[8...], as: UTF8.self)
        switch ByteRange.parse(header, size: size, multiple: true) {
        case .whole: return .accepted("whole")
        case .unsatisfiable: return .refused("416")
        case .part(let part):
            guard part.lowerBound >= 0, part.upperBound < size else {
                return .invariantBroken("range \(part) of a \(size)-byte file from '\(header)'")
            }
            return .accepted("bytes \(part)")
        case .parts(let parts):
            // Sorted, apart (not even adjacent), inside the file, between two and maxParts of them.
            guard (2...ByteRange.maxParts).contains(parts.count),
                parts.allSatisfy({ $0.lowerBound >= 0 && $0.upperBound < size }),
                zip(parts, parts.dropFirst()).allSatisfy({ $0.upperBound + 1 < $1.lowerBound })
            else { return .invariantBroken("parts \(parts) of a \(size)-byte file from '\(header)'") }
            return .accepted("\(parts.count) parts")
        }
    }

    /// An id is only ever a key: a valid one names no path and a content id is 64 lowercase hex digits.
    static func imageID(_ text: String) -> FuzzOutcome {
        let parsed = try? ImageID.parse(text)
        guard let id = ImageID(text) else {
            return parsed == nil ? .refused("invalid id") : .invariantBroken("parse accepts '\(text)', init refuses")
        }
        guard parsed == id else { return .invariantBroken("init accepts '\(text)', parse refuses") }
        let utf8 = Array(text.utf8)
        guard (1...128).contains(utf8.count), text != ".", text != "..", !utf8.contains(UInt8(ascii: "/")),
            !utf8.contains(0)
        else { return .invariantBroken("'\(text)' accepted as an id") }
        if let hash = id.contentHash {
            guard hash.hex == text else { return .invariantBroken("content id '\(text)' became \(hash.hex)") }
        }
        return .accepted("id \(text)")
    }

    /// A request target `/path?expires=…&sig=…`: only the signature of that path and expiry opens it.
    static func signedURL(_ target: String) -> FuzzOutcome {
        let uri = URI(target)
        let path = uri.path
        let expires = uri.queryParameters["expires"].map(String.init) ?? ""
        let signature = uri.queryParameters["sig"].map(String.init) ?? ""
        let valid = signer.isValid(path: path, expires: expires, signature: signature, now: now)
        if let expiry = Int(expires), expiry >= now {
            let right = signer.signature(path: path, expires: expiry)
            guard valid == (signature.lowercased() == right) else {
                return .invariantBroken("signature '\(signature)' for \(path) at \(expiry): isValid \(valid)")
            }
            guard signer.isValid(path: path, expires: expires, signature: right, now: now) else {
                return .invariantBroken("the right signature of \(path) at \(expiry) is refused")
            }
        } else if valid {
            return .invariantBroken("'\(target)' valid without a live expiry")
        }
        return valid ? .accepted("signed \(path)") : .refused("bad or expired signature")
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: RequestParametersHarness.run)
    }
#endif

@main
enum RequestParametersMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: RequestParametersHarness.run)
        #endif
    }
}
