// Dead letters: a failed input kept in `failed/` with a NAME.error.json that says why.
import Foundation

/// What `failed/NAME.error.json` holds.
public struct DeadLetter: Codable, Sendable, Equatable {
    /// The input as the user named it (a path, an upload key).
    public var file: String
    /// The reason, as a sentence.
    public var error: String
    /// Where it failed: `decode`, `ingest`, a function name, …
    public var stage: String
    /// When, in ISO 8601 UTC.
    public var time: String
    /// The content hash, when the bytes could be read.
    public var sha256: String?
    /// How many attempts were made before giving up.
    public var attempts: Int?

    /// - Parameters: see the properties.
    public init(file: String, error: String, stage: String, time: Date = Date(), sha256: String? = nil, attempts: Int? = nil) {
        self.file = file
        self.error = error
        self.stage = stage
        self.time = Timestamp.string(time, fractional: false)
        self.sha256 = sha256
        self.attempts = attempts
    }

    /// Stores the failed bytes (when given) as `failed/NAME` and this record as `failed/NAME.error.json`.
    ///
    /// The same name with the same bytes reuses its slot (so a re-run does not pile up copies);
    /// different bytes under a taken name get a numbered name.
    /// - Returns: the name used inside `failed/`.
    @discardableResult
    public func store(bytes: Data?, name: String, in failed: StoreHandle) throws -> String {
        let base = Self.safeName(name)
        var chosen = base
        var counter = 1
        while failed.exists(chosen) || failed.exists(chosen + ".error.json") {
            if let bytes, let existing = try? failed.read(chosen), existing == bytes { break }
            if bytes == nil, !failed.exists(chosen), let old = try? failed.read(chosen + ".error.json"),
                let record = try? JSONDecoder().decode(DeadLetter.self, from: old), record.file == file
            {
                break
            }
            chosen = Self.numbered(base, counter)
            counter += 1
        }
        if let bytes { try failed.write(bytes, to: chosen) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try failed.write(try encoder.encode(self), to: chosen + ".error.json")
        return chosen
    }

    /// A file name safe to use in one folder: the last path component, no leading dots.
    static func safeName(_ name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? "input"
        let trimmed = String(last.drop(while: { $0 == "." })).replacingOccurrences(of: "\0", with: "")
        return trimmed.isEmpty ? "input" : trimmed
    }

    static func numbered(_ name: String, _ n: Int) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot]).\(n)\(name[dot...])"
        }
        return "\(name).\(n)"
    }
}
