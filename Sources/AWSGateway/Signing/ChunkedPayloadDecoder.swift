// The `aws-chunked` content encoding of SDK uploads: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` … a zero-size
// chunk, then optional trailing headers (`x-amz-checksum-crc32:…`, `x-amz-trailer-signature:…`) and an empty line.
// Each chunk's signature chains from the request's seed signature; a wrong one stops the upload. The trailing headers
// must be the one `x-amz-trailer` declared (and, signed, `x-amz-trailer-signature`), with a well-formed value.
import Crypto
import Foundation

/// Decodes an `aws-chunked` body incrementally, verifying chunk and trailer signatures and a trailing checksum.
public struct ChunkedPayloadDecoder: Sendable {
    private enum State: Sendable {
        case header
        case data(remaining: Int)
        case dataEnd
        case trailers
        case done
    }

    private let signing: ChunkSigning?
    private let expectsTrailer: Bool
    private let declaredTrailer: String?
    private var previousSignature: String
    private var state = State.header
    private var line: [UInt8] = []
    private var chunkSignature: String?
    private var chunkHasher = SHA256()
    private var trailerLines: [(String, String)] = []
    /// The decoded bytes so far.
    public private(set) var decodedLength = 0
    /// The trailing headers received (name lowercased, value).
    public var trailers: [(String, String)] { trailerLines }
    /// The longest chunk header or trailer line accepted.
    static let maxLine = 4096
    /// The most trailing headers read.
    static let maxTrailers = 8

    /// - Parameters:
    ///   - signing: the request's chunk signing (nil: `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, chunks are not signed).
    ///   - trailer: whether trailing headers follow the last chunk.
    ///   - declaredTrailer: the request's `x-amz-trailer` (`x-amz-checksum-crc32`), the one trailing header the
    ///     body may and must end with; nil: none (a trailing header is refused).
    public init(signing: ChunkSigning?, trailer: Bool, declaredTrailer: String? = nil) {
        self.signing = signing
        self.expectsTrailer = trailer
        self.declaredTrailer = declaredTrailer?.trimmingCharacters(in: .whitespaces).lowercased()
        self.previousSignature = signing?.seedSignature ?? ""
    }

    /// Whether the final chunk (and trailers) arrived.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Feeds received bytes; `emit` gets the decoded object bytes.
    /// - Throws: `AWSError` (`SignatureDoesNotMatch`, `IncompleteBody`, `InvalidRequest`) on a bad chunk.
    public mutating func feed(
        _ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var index = 0
        while index < input.count {
            switch state {
            case .data(let remaining):
                let take = min(remaining, input.count - index)
                let slice = UnsafeRawBufferPointer(rebasing: input[index..<(index + take)])
                chunkHasher.update(bufferPointer: slice)
                try emit(slice)
                decodedLength += take
                index += take
                state = remaining - take == 0 ? .dataEnd : .data(remaining: remaining - take)
            case .done:
                throw AWSError.invalidRequest("aws-chunked body: bytes after the final chunk.")
            case .header, .dataEnd, .trailers:
                let byte = input[index]
                index += 1
                if byte == UInt8(ascii: "\n") {
                    if line.last == UInt8(ascii: "\r") { line.removeLast() }
                    let text = String(decoding: line, as: UTF8.self)
                    line.removeAll(keepingCapacity: true)
                    try takeLine(text)
                } else {
                    line.append(byte)
                    if line.count > Self.maxLine {
                        throw AWSError.invalidRequest(
                            "aws-chunked body: a chunk header longer than \(Self.maxLine) bytes.")
                    }
                }
            }
        }
    }

    private mutating func takeLine(_ text: String) throws {
        switch state {
        case .dataEnd:
            guard text.isEmpty else {
                throw AWSError.incompleteBody("aws-chunked body: a chunk is longer than its size.")
            }
            try verifyChunk()
            state = .header
        case .header:
            let parts = text.split(separator: ";", maxSplits: 1)
            guard let sizeText = parts.first, let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16),
                size >= 0
            else {
                throw AWSError.invalidRequest("aws-chunked body: a malformed chunk header '\(text.prefix(80))'.")
            }
            chunkSignature = nil
            if parts.count == 2 {
                let extensionText = parts[1].trimmingCharacters(in: .whitespaces)
                if extensionText.hasPrefix("chunk-signature=") {
                    chunkSignature = String(extensionText.dropFirst("chunk-signature=".count))
                }
            }
            if signing != nil && chunkSignature == nil {
                throw AWSError.signatureDoesNotMatch(.s3)
            }
            chunkHasher = SHA256()
            if size == 0 {
                try verifyChunk()
                state = .trailers
            } else {
                state = .data(remaining: size)
            }
        case .trailers:
            if text.isEmpty {
                try verifyTrailers()
                state = .done
                return
            }
            guard let colon = text.firstIndex(of: ":") else {
                throw AWSError.invalidRequest("aws-chunked body: a malformed trailing header '\(text.prefix(80))'.")
            }
            // A checksum and its signature are all a body may end with: a longer list is not kept in memory.
            guard trailerLines.count < Self.maxTrailers else {
                throw AWSError.malformedTrailer("more than \(Self.maxTrailers) trailing headers.")
            }
            trailerLines.append(
                (text[..<colon].lowercased(), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        case .data, .done:
            break
        }
    }

    private mutating func verifyChunk() throws {
        guard let signing else { return }
        let hash = SignatureV4.hex(Array(chunkHasher.finalize()))
        let expected = SignatureV4.signature(
            SignatureV4.chunkStringToSign(
                amzDate: signing.amzDate, scope: signing.scope, previousSignature: previousSignature, chunkHash: hash),
            key: signing.key)
        guard let chunkSignature, SignatureV4.constantTimeEqual(expected, chunkSignature.lowercased()) else {
            throw AWSError.signatureDoesNotMatch(.s3)
        }
        previousSignature = expected
    }

    private func verifyTrailers() throws {
        try checkTrailerSchema()
        guard let signing, expectsTrailer else { return }
        guard let sent = trailerLines.first(where: { $0.0 == "x-amz-trailer-signature" })?.1 else {
            throw AWSError.signatureDoesNotMatch(.s3)
        }
        let canonical = trailerLines.filter { $0.0 != "x-amz-trailer-signature" }.map { "\($0.0):\($0.1)\n" }.joined()
        let expected = SignatureV4.signature(
            SignatureV4.trailerStringToSign(
                amzDate: signing.amzDate, scope: signing.scope, previousSignature: previousSignature,
                trailerHash: SignatureV4.hexSHA256(Data(canonical.utf8))),
            key: signing.key)
        guard SignatureV4.constantTimeEqual(expected, sent.lowercased()) else {
            throw AWSError.signatureDoesNotMatch(.s3)
        }
    }

    /// S3's refusals of trailing headers other than the declared one: a declared checksum the body does not end
    /// with, one of another algorithm, one never declared (`MalformedTrailerError`), and a value that is not the
    /// base64 of its algorithm's bytes (`InvalidRequest`). Until session 33 such a trailer was skipped and the upload
    /// answered with the checksum the server computed itself, as if the client's had been checked.
    private func checkTrailerSchema() throws {
        var sent = trailerLines.map(\.0)
        if signing != nil, expectsTrailer, let signature = sent.firstIndex(of: "x-amz-trailer-signature") {
            sent.remove(at: signature)
        }
        let declared = declaredTrailer.map { [$0] } ?? []
        guard sent == declared else {
            let said = declaredTrailer.map { "x-amz-trailer declares \($0)" } ?? "no x-amz-trailer was declared"
            let came = sent.isEmpty ? "no trailer" : sent.joined(separator: ", ")
            throw AWSError.malformedTrailer("\(said); the body ends with \(came).")
        }
        for (name, value) in trailerLines {
            guard let algorithm = PayloadChecksum.Algorithm.allCases.first(where: { $0.header == name }) else {
                continue
            }
            guard Data(base64Encoded: value)?.count == algorithm.byteCount else {
                throw AWSError.invalidRequest("Value for \(name) trailing header is invalid.")
            }
        }
    }
}
