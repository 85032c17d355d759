// The aws-chunked decoder under the harness: the same answer however the body is cut, and a body signed the way
// SDKs sign it decodes to exactly its data while one wrong chunk signature stops it.
import AWSGateway
import Crypto
import Foundation

/// What a decoder made of a whole body.
struct ChunkedDecoding: Equatable {
    var data: [UInt8]
    var complete: Bool
    var error: AWSError?
    var trailers: [String]
}

enum ChunkedBodyChecks {
    /// A fixed chain for bodies that claim signatures without a request that signed them.
    static let fixedSigning = ChunkSigning(
        seedSignature: String(repeating: "0", count: 64),
        key: SignatureV4.signingKey(secret: FuzzSigningKey.secret, date: "20150830", region: "us-east-1", service: "s3"),
        amzDate: "20150830T123600Z", scope: "20150830/us-east-1/s3/aws4_request")

    /// Decodes `body` fed in pieces of `piece` bytes; any error that is not an `AWSError` is a broken promise. A
    /// body with a trailer declares the checksum `encode` writes (`x-amz-trailer`, which S3 requires).
    static func decode(_ body: [UInt8], signing: ChunkSigning?, trailer: Bool, piece: Int) -> ChunkedDecoding? {
        var decoder = ChunkedPayloadDecoder(
            signing: signing, trailer: trailer, declaredTrailer: trailer ? "x-amz-checksum-crc32" : nil)
        var data: [UInt8] = []
        var offset = 0
        do {
            while offset < body.count {
                let end = min(body.count, offset + piece)
                try body[offset..<end].withUnsafeBytes { raw in try decoder.feed(raw) { data += $0 } }
                offset = end
            }
        } catch let error as AWSError {
            return ChunkedDecoding(data: data, complete: false, error: error, trailers: [])
        } catch {
            return nil
        }
        guard decoder.decodedLength == data.count else { return nil }
        return ChunkedDecoding(
            data: data, complete: decoder.isComplete, error: nil, trailers: decoder.trailers.map { "\($0.0):\($0.1)" })
    }

    /// The fuzzer's body, whole and in small pieces: the decoder must not depend on how the network cut it. Only
    /// the emitted bytes before an error may differ (a piece is emitted before a later check fails).
    static func sameWhateverTheCut(_ body: [UInt8], signing: ChunkSigning?, trailer: Bool) -> String? {
        guard let whole = decode(body, signing: signing, trailer: trailer, piece: max(1, body.count)),
            let cut = decode(body, signing: signing, trailer: trailer, piece: 3)
        else { return "the decoder threw an error that is not an AWSError" }
        guard whole.error == cut.error, whole.complete == cut.complete, whole.trailers == cut.trailers else {
            return "whole body: \(whole.error?.description ?? "ok"), complete \(whole.complete); in 3-byte pieces: "
                + "\(cut.error?.description ?? "ok"), complete \(cut.complete)"
        }
        if whole.error == nil, whole.data != cut.data {
            return "the decoded bytes depend on the cut (\(whole.data.count) vs \(cut.data.count) bytes)"
        }
        return nil
    }

    /// `data` in aws-chunked form as an SDK writes it: chunks of `chunkSize`, each signed in the chain, a final
    /// empty chunk, and with `trailer` a checksum header and its signature.
    static func encode(_ data: [UInt8], chunkSize: Int, signing: ChunkSigning?, trailer: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var previous = signing?.seedSignature ?? ""
        var offset = 0
        repeat {
            let chunk = Array(data[offset..<min(data.count, offset + chunkSize)])
            offset += chunk.count
            var line = String(chunk.count, radix: 16)
            if let signing {
                let text = SignatureV4.chunkStringToSign(
                    amzDate: signing.amzDate, scope: signing.scope, previousSignature: previous,
                    chunkHash: SignatureV4.hex(Array(SHA256.hash(data: chunk))))
                previous = SignatureV4.signature(text, key: signing.key)
                line += ";chunk-signature=" + previous
            }
            out += Array((line + "\r\n").utf8)
            if !chunk.isEmpty { out += chunk + Array("\r\n".utf8) }
            if chunk.isEmpty { break }
        } while true
        if trailer {
            let checksum = "x-amz-checksum-crc32:AAAAAA==\n"
            out += Array(checksum.replacingOccurrences(of: "\n", with: "\r\n").utf8)
            if let signing {
                let text = SignatureV4.trailerStringToSign(
                    amzDate: signing.amzDate, scope: signing.scope, previousSignature: previous,
                    trailerHash: SignatureV4.hexSHA256(Data(checksum.utf8)))
                out += Array("x-amz-trailer-signature:\(SignatureV4.signature(text, key: signing.key))\r\n".utf8)
            }
        }
        out += Array("\r\n".utf8)
        return out
    }

    /// A correctly signed encoding of `data` decodes to `data`, complete; the same with one chunk signature
    /// changed is refused.
    static func signedRoundTrip(_ data: [UInt8], signing: ChunkSigning?, trailer: Bool) -> String? {
        let chunkSize = max(1, data.count / 3 + data.count % 5)
        let body = encode(data, chunkSize: chunkSize, signing: signing, trailer: trailer)
        guard let decoded = decode(body, signing: signing, trailer: trailer, piece: 5) else {
            return "the decoder threw an error that is not an AWSError"
        }
        guard decoded.error == nil, decoded.complete, decoded.data == data else {
            return "a correctly encoded \(data.count)-byte body (chunks of \(chunkSize), trailer \(trailer), signed "
                + "\(signing != nil)) gave \(decoded.data.count) bytes, complete \(decoded.complete), "
                + "\(decoded.error?.description ?? "no error")"
        }
        guard signing != nil, let mark = body.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        var wrong = body
        wrong[mark + 1] = wrong[mark + 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        guard let refused = decode(wrong, signing: signing, trailer: trailer, piece: wrong.count) else {
            return "the decoder threw an error that is not an AWSError"
        }
        if refused.error == nil { return "a body whose first chunk signature is wrong was accepted" }
        return nil
    }
}
