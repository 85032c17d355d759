// libFuzzer harness: the raw-bytes reader of plain GET and HEAD heads (`PlainRequestHead`), which reads client
// bytes through a pointer ahead of the HTTP decoder. Whatever it reads, SwiftNIO's HTTP/1 decoder (the one every
// other request goes through) must read the same way: the same method, target and fields, keep-alive or not, one
// whole head and nothing past it.
import FetchService
import FuzzSupport
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// `PREFIX MAXLEN BYTES...`: PREFIX (low 4 bits) bytes already read sit before the head in the buffer (the reader
/// index is not 0 behind a pipelined request); MAXLEN picks the longest head read (16 to 4,096 bytes).
enum RawRequestHeadHarness {
    static func run(_ input: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard input.count >= 2 else { return .refused("too short") }
        let skipped = Int(input[0] & 0x0F)
        let maxLength = 16 + Int(input[1]) * 16
        let bytes = UnsafeRawBufferPointer(rebasing: input.dropFirst(2))
        var buffer = ByteBuffer(repeating: UInt8(ascii: "X"), count: skipped)
        buffer.writeBytes(bytes)
        buffer.moveReaderIndex(forwardBy: skipped)
        guard let head = PlainRequestHead(buffer.readableBytesView, maxLength: maxLength) else {
            return .refused("left to the decoder")
        }
        let view = buffer.readableBytesView
        guard head.length <= bytes.count, head.length <= maxLength else {
            return .invariantBroken("a head of \(head.length) bytes read from \(bytes.count), limit \(maxLength)")
        }
        let read = Array(view[view.startIndex..<(view.startIndex + head.length)])
        guard read.suffix(4).elementsEqual("\r\n\r\n".utf8) else {
            return .invariantBroken("the head read does not end with an empty line")
        }
        guard view.indices.contains(head.target.lowerBound), head.target.upperBound <= view.startIndex + head.length,
            view[head.target.lowerBound] == UInt8(ascii: "/")
        else { return .invariantBroken("target \(head.target) outside the head or not a path") }
        return compare(head, toDecoderOf: read)
    }

    /// Runs `bytes` (the head alone) through NIO's request decoder and checks it reads what `head` read.
    static func compare(_ head: PlainRequestHead, toDecoderOf bytes: [UInt8]) -> FuzzOutcome {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        defer { _ = try? channel.finish() }
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            return .invariantBroken("read here, refused by the decoder: \(error)")
        }
        guard case .head(let decoded) = try? channel.readInbound(as: HTTPServerRequestPart.self),
            case .end(nil) = try? channel.readInbound(as: HTTPServerRequestPart.self),
            (try? channel.readInbound(as: HTTPServerRequestPart.self)) == nil
        else { return .invariantBroken("the decoder did not read one whole head without a body") }
        let request = head.request
        guard decoded.method.rawValue == request.method.rawValue, decoded.version == .http1_1,
            decoded.uri == request.path
        else {
            return .invariantBroken(
                "decoder: \(decoded.method) \(decoded.uri); here: \(request.method) \(request.path ?? "")")
        }
        guard decoded.isKeepAlive == !head.closes else {
            return .invariantBroken("keep-alive \(decoded.isKeepAlive) in the decoder, closes \(head.closes) here")
        }
        // The fields: Host became the authority here; the rest are the request's fields. The decoder leaves trailing
        // spaces in a value, this reader takes them off (RFC 9110 5.5: they are not part of it).
        let here = [("host", request.authority ?? "")] + request.headerFields.map { ($0.name.canonicalName, $0.value) }
        let there = decoded.headers.map { field in
            (field.name.lowercased(), String(field.value.reversed().drop { $0 == " " || $0 == "\t" }.reversed()))
        }
        let sortedHere = here.sorted { $0.0 < $1.0 }
        let sortedThere = there.sorted { $0.0 < $1.0 }
        guard sortedHere.count == sortedThere.count,
            zip(sortedHere, sortedThere).allSatisfy({ mine, theirs in
                mine.0 == theirs.0 && (mine.0 == "connection" ? mine.1 == theirs.1.lowercased() : mine.1 == theirs.1)
            })
        else { return .invariantBroken("fields here \(sortedHere), in the decoder \(sortedThere)") }
        return .accepted("\(request.method) \(request.path ?? "") with \(here.count) fields")
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: RawRequestHeadHarness.run)
    }
#endif

@main
enum RawRequestHeadMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: RawRequestHeadHarness.run)
        #endif
    }
}
