// libFuzzer harness: an upload's Content-Type and its multipart/form-data body (FetchService's streaming extractor).
import FetchService
import FuzzSupport

/// Feeds `CONTENT-TYPE \n BODY` to `UploadBody.kind` and `MultipartFileExtractor`, whole and in small chunks.
///
/// The extractor streams: the network cuts a body anywhere, so the file it finds must not depend on the cuts. An
/// input of odd length reads the body as an S3 POST Object form does: only the part named `file` is the file, and
/// the fields before it are kept within a budget (the fields found must not depend on the cuts either).
enum MultipartUploadHarness {
    /// What one pass over a body found.
    struct Extraction: Equatable {
        var file: [UInt8] = []
        var fileName: String?
        var error: String?
        var fields: [String] = []
    }

    /// The field budget of the form mode: small, so inputs reach it.
    static let fieldBytes = 256

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = UnsafeRawBufferPointer(rebasing: bytes[min(newline + 1, bytes.count)...])
        let boundary: String
        do {
            guard case .multipart(let value) = try UploadBody.kind(contentType: contentType) else {
                return .accepted("a raw image body")
            }
            boundary = value
        } catch {
            return .refused("content type: \(error)")
        }
        let form = bytes.count % 2 == 1
        let whole = extract(body, boundary: boundary, chunkSize: max(body.count, 1), form: form)
        let chunkSize = 1 + bytes.count % 13
        let chunked = extract(body, boundary: boundary, chunkSize: chunkSize, form: form)
        guard whole == chunked else {
            return .invariantBroken("in \(chunkSize)-byte chunks the extractor finds \(chunked), in one \(whole)")
        }
        if let error = whole.error { return .refused(error) }
        // The file ends at the first CRLF--boundary after its headers, so it never holds one. (Searching the body for
        // file + delimiter instead was quadratic: the harness itself timed out on a 17 KB input.)
        let delimiter = Array("\r\n--\(boundary)".utf8)
        if let offset = firstOffset(of: delimiter, in: whole.file) {
            return .invariantBroken("the \(whole.file.count) file bytes hold the delimiter at \(offset)")
        }
        // Counted in scalars: a byte that is not UTF-8 becomes one U+FFFD (three bytes) in the field's text.
        if whole.fields.reduce(0, { $0 + $1.unicodeScalars.count }) > Self.fieldBytes + whole.fields.count {
            return .invariantBroken("the fields \(whole.fields) pass the \(Self.fieldBytes)-byte budget")
        }
        return .accepted("\(whole.file.count) file bytes named \(whole.fileName ?? "nil")")
    }

    private static func extract(_ body: UnsafeRawBufferPointer, boundary: String, chunkSize: Int, form: Bool)
        -> Extraction
    {
        var extractor =
            form
            ? MultipartFileExtractor(boundary: boundary, fileField: "file", fieldBytes: Self.fieldBytes)
            : MultipartFileExtractor(boundary: boundary)
        var result = Extraction()
        do {
            var start = 0
            while start < body.count {
                let end = min(start + chunkSize, body.count)
                try extractor.feed(UnsafeRawBufferPointer(rebasing: body[start..<end])) { result.file += $0 }
                start = end
            }
            try extractor.finish()
            result.fileName = extractor.fileName
        } catch {
            result.error = "\(error)"
        }
        // Each field as "name=value" (its name's bytes and "=" are what the budget's `+ count` allows for).
        result.fields = extractor.fields.map { "\($0.name)=\($0.value)" }
        return result
    }

    /// Where `needle` first occurs in `haystack`: O(haystack × needle), and a delimiter is at most 74 bytes.
    private static func firstOffset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { start in
            !zip(needle.indices, start..<(start + needle.count)).contains { haystack[$1] != needle[$0] }
        }
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: MultipartUploadHarness.run)
    }
#endif

@main
enum MultipartUploadMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: MultipartUploadHarness.run)
        #endif
    }
}
