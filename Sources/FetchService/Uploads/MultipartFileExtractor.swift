// A streaming multipart/form-data reader that passes on the bytes of one file part as they arrive, so an
// upload is never held whole in memory.

/// Extracts the file part of a multipart body: the first part with a `filename`, or named `file` (or, when
/// `fileField` is given, the part of that name alone).
///
/// One file per body: under the HTTP API's rule the parts after the file are read too, and a second file part is
/// refused (400 `too_many_files`; until session 36 it was dropped behind a 202). With `fileField` (S3's POST Object
/// form), what follows the file part is ignored, as S3 ignores it.
///
/// Feed the body in any chunking; file bytes come out through `emit` as soon as they cannot be the start of the
/// closing delimiter. Other parts are skipped, or, with a `fieldBytes` budget, kept as the form's fields (an S3
/// POST Object form sends its policy and key as fields before the file).
package struct MultipartFileExtractor {
    private enum State {
        case preamble
        case headers
        case fileBody
        case otherBody
        case done
    }

    private let delimiter: [UInt8]  // "\r\n--boundary"
    private var pending: [UInt8] = []
    private var state = State.preamble
    /// The file name the part was sent with, once its headers are read.
    package private(set) var fileName: String?
    /// Whether the file part arrived complete.
    package var foundFile: Bool { fileEnded || state == .done }
    /// The file part has ended (the parts after it are being read, under the HTTP API's rule).
    private var fileEnded = false
    /// Where the search for the end of the current part's headers resumes: the bytes before it hold no CRLFCRLF,
    /// so a part's headers sent a few bytes at a time are scanned once, not once per chunk.
    private var headerScanStart = 0
    /// The only part name that is the file part, or nil for the HTTP API's rule.
    private let fileField: String?
    /// How many bytes of field names and values may be kept (0: fields are skipped).
    private let fieldBytes: Int
    private var keptBytes = 0
    /// The form fields before the file part, in order, their names as sent.
    package private(set) var fields: [(name: String, value: String)] = []
    private var fieldName: String?
    private var fieldValue: [UInt8] = []
    /// Whether the file part's headers have been read: every field before it is in `fields`.
    package var reachedFile: Bool { state == .fileBody || foundFile }

    /// The most header bytes a part may have.
    static let maxHeaderBytes = 16 * 1024

    /// - Parameters:
    ///   - boundary: the `boundary` parameter of the body's `Content-Type`.
    ///   - fileField: the name of the file part, when only a part so named is the file.
    ///   - fieldBytes: how many bytes of other parts' names and values to keep in `fields`; 0 skips them.
    package init(boundary: String, fileField: String? = nil, fieldBytes: Int = 0) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The body starts with "--boundary" (no CRLF before it); pretend one was there.
        pending = Array("\r\n".utf8)
        self.fileField = fileField
        self.fieldBytes = fieldBytes
    }

    /// Takes the next chunk of the body.
    /// - Throws: 400 for a malformed body; whatever `emit` throws.
    package mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard state != .done else { return }
        pending.append(contentsOf: chunk)
        var progressed = true
        while progressed {
            progressed = false
            switch state {
            case .preamble, .otherBody, .fileBody:
                if let range = Self.find(delimiter, in: pending) {
                    if state == .fileBody {
                        try pending.withUnsafeBytes {
                            try emit(UnsafeRawBufferPointer(rebasing: $0[..<range.lowerBound]))
                        }
                        guard fileField == nil else {
                            pending.removeAll()
                            state = .done
                            return
                        }
                        // The parts after it are read, for a second file part.
                        fileEnded = true
                        fieldName = nil
                    }
                    if state == .otherBody { try keep(pending[..<range.lowerBound]) }
                    pending.removeSubrange(..<range.upperBound)
                    state = .headers
                    progressed = true
                } else {
                    // Keep what could be the start of the delimiter; the rest is file bytes or skipped.
                    let held = min(pending.count, delimiter.count - 1)
                    let flush = pending.count - held
                    if flush > 0 {
                        if state == .fileBody {
                            try pending.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[..<flush])) }
                        } else if state == .otherBody {
                            try keep(pending[..<flush], partial: true)
                        }
                        pending.removeSubrange(..<flush)
                    }
                }
            case .headers:
                // After the delimiter: "--" ends the body; otherwise CRLF then the part's headers.
                if pending.starts(with: Array("--".utf8)) {
                    guard fileEnded else { throw APIError.badRequest(noFilePart) }
                    pending.removeAll()
                    state = .done
                    return
                }
                let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: pending, from: headerScanStart)
                // The limit is on the headers' length, however the body was cut: measured where CRLFCRLF starts,
                // or, until it arrives, at least all but the last 3 bytes (which may begin it).
                guard (headerEnd?.lowerBound ?? pending.count - 3) <= Self.maxHeaderBytes else {
                    throw APIError.badRequest("a multipart part has more than \(Self.maxHeaderBytes) bytes of headers")
                }
                guard let end = headerEnd else {
                    headerScanStart = max(0, pending.count - 3)
                    return
                }
                headerScanStart = 0
                let text = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                pending.removeSubrange(..<end.upperBound)
                let names = Self.names(headers: text)
                if let fileField, names.name == fileField {
                    fileName = names.filename.flatMap { $0.isEmpty ? nil : $0 }
                    state = .fileBody
                } else if fileField == nil, let name = names.filename ?? (names.name == "file" ? "" : nil) {
                    if fileEnded { throw APIError.tooManyFiles(secondName: name.isEmpty ? nil : name) }
                    fileName = name.isEmpty ? nil : name
                    state = .fileBody
                } else {
                    fieldName = names.name
                    fieldValue = []
                    state = .otherBody
                }
                // The part's body starts right here; it ends at the next CRLF "--boundary".
                progressed = true
            case .done:
                return
            }
        }
    }

    /// Checks the body ended after a complete file part.
    /// - Throws: 400 when it did not.
    package func finish() throws {
        guard !foundFile else { return }
        throw APIError.badRequest(state == .fileBody ? "the multipart body ended inside the file part" : noFilePart)
    }

    private var noFilePart: String {
        fileField.map { "the multipart body has no part named '\($0)'" }
            ?? "the multipart body has no file part (send one with a filename, or named 'file')"
    }

    /// Keeps bytes of a field's value (all of it unless `partial`), within the `fieldBytes` budget.
    private mutating func keep(_ bytes: ArraySlice<UInt8>, partial: Bool = false) throws {
        guard fieldBytes > 0, let name = fieldName else { return }
        keptBytes += bytes.count
        guard keptBytes + name.utf8.count <= fieldBytes else {
            throw APIError.badRequest("the form's fields before the file have more than \(fieldBytes) bytes")
        }
        fieldValue.append(contentsOf: bytes)
        if !partial {
            keptBytes += name.utf8.count
            fields.append((name, String(decoding: fieldValue, as: UTF8.self)))
            fieldName = nil
            fieldValue = []
        }
    }

    /// The `name` and `filename` of a part's `Content-Disposition`.
    ///
    /// Values are tokens or quoted strings (RFC 7578, RFC 9110 §5.6.4): a `;` or `=` inside quotes is part of the
    /// value, and a backslash before `"` or `\` takes that character as it is (older clients' quoted-pairs). Any
    /// other backslash is the name's own: browsers send a name as it is but for `"`, CR and LF, written `%22`,
    /// `%0D` and `%0A` (the HTML standard's multipart/form-data encoding), so `back\slash.jpg` arrives as is (until
    /// session 28 it became `backslash.jpg`). Those three escapes are decoded, no other `%`, so a file named
    /// `100%.jpg` keeps its name.
    static func names(headers: String) -> (name: String?, filename: String?) {
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition"
            else { continue }
            let parameters = Self.parameters(Substring(pair[1]))
            return (parameters["name"].map(Self.formDecoded), parameters["filename"].map(Self.formDecoded))
        }
        return (nil, nil)
    }

    /// The parameters after the disposition type (`form-data; name="a"; filename="b"`), by lowercased name; the
    /// first of a name wins.
    static func parameters(_ value: Substring) -> [String: String] {
        var found: [String: String] = [:]
        var rest = value.drop { $0 != ";" }
        while !rest.isEmpty {
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }  // the ";" and blanks
            let name = rest.prefix { $0 != "=" && $0 != ";" }
            rest = rest.dropFirst(name.count)
            guard rest.first == "=" else { continue }  // a parameter without a value
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            var parameter = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.popFirst(), character != "\"" {
                    // An unterminated string runs to the end of the line.
                    if character == "\\", let next = rest.first, next == "\"" || next == "\\" {
                        parameter.append(next)
                        rest = rest.dropFirst()
                    } else {
                        parameter.append(character)
                    }
                }
                rest = rest.drop { $0 != ";" }
            } else {
                let token = rest.prefix { $0 != ";" }
                parameter = token.trimmingCharacters(in: .whitespaces)
                rest = rest.dropFirst(token.count)
            }
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            if found[key] == nil { found[key] = parameter }
        }
        return found
    }

    /// A form name with the HTML standard's three escapes (`%22`, `%0D`, `%0A`) decoded and every other `%` kept.
    static func formDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        return
            text
            .replacingOccurrences(of: "%22", with: "\"")
            .replacingOccurrences(of: "%0D", with: "\r")
            .replacingOccurrences(of: "%0A", with: "\n")
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Range<Int>? {
        guard needle.count <= haystack.count, let first = needle.first else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index..<(index + needle.count) }
            }
            index += 1
        }
        return nil
    }
}
