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
    /// The journal's id of the dead invocation (a function's letter): another invocation of the same input keeps a
    /// letter of its own.
    public var invocation: Int64?

    /// - Parameters: see the properties.
    public init(
        file: String, error: String, stage: String, time: Date = Date(), sha256: String? = nil, attempts: Int? = nil,
        invocation: Int64? = nil
    ) {
        self.file = file
        self.error = error
        self.stage = stage
        self.time = Timestamp.string(time, fractional: false)
        self.sha256 = sha256
        self.attempts = attempts
        self.invocation = invocation
    }

    /// Stores this record as `failed/NAME.error.json` and the failed bytes (when given) as `failed/NAME`.
    ///
    /// The same name with the same bytes reuses its slot (so a re-run does not pile up copies), as does the same
    /// input whose bytes are not there yet (an upload renamed in after its record, or a crash in between) unless
    /// another invocation's letter holds it;
    /// anything else under a taken name gets a numbered name. A new slot is claimed by creating its record
    /// exclusively: two failures of the same name at once (two subfolders' `IMG_0001.JPG`, ingested or batched side
    /// by side) get a slot each instead of one overwriting the other.
    /// - Returns: the name used inside `failed/`.
    @discardableResult
    public func store(bytes: Data?, name: String, in failed: StoreHandle) throws -> String {
        let base = Self.safeName(name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let record = try encoder.encode(self)
        var counter = 0
        while true {
            let chosen = counter == 0 ? base : Self.numbered(base, counter)
            counter += 1
            let claimed: Bool
            if holds(chosen, bytes: bytes, in: failed) {
                claimed = try failed.write(record, to: chosen + ".error.json")
            } else if failed.exists(chosen) {
                claimed = false
            } else {
                // False when another failure claimed the name since it was looked at.
                claimed = try failed.write(record, to: chosen + ".error.json", overwrite: false)
            }
            guard claimed else { continue }
            if let bytes { try failed.write(bytes, to: chosen) }
            return chosen
        }
    }

    /// Removes the dead letters a later success of the same work has made stale: the slots of `name` (and its
    /// numbered ones) whose record names the same input and stage, and the same content when the record knew it
    /// (the failed bytes beside it go too). Until session 27 they stayed in `failed/` after a replay or a second
    /// batch run had succeeded. Best effort: a failure to remove is no failure of the work.
    /// - Returns: how many records were removed.
    @discardableResult
    public static func clear(
        file: String, name: String, stage: String, sha256: String?, in failed: StoreHandle
    ) -> Int {
        let base = safeName(name)
        var removed = 0
        for counter in 0..<100 {
            let chosen = counter == 0 ? base : numbered(base, counter)
            guard let old = try? failed.read(chosen + ".error.json") else {
                if counter == 0 { continue }
                break
            }
            guard let record = try? JSONDecoder().decode(DeadLetter.self, from: old), record.file == file,
                record.stage == stage, record.sha256 == nil || sha256 == nil || record.sha256 == sha256
            else { continue }
            if failed.exists(chosen) { try? failed.remove(chosen) }
            if (try? failed.remove(chosen + ".error.json")) != nil { removed += 1 }
        }
        return removed
    }

    /// Removes every dead letter of a content deleted on purpose (its record names the SHA-256; the failed bytes
    /// beside it go too): a delete wins, so nothing of it waits in `failed/` for a redrive that could not run
    /// (until session 28 they stayed for ever). Best effort.
    /// - Returns: the names of the records removed.
    @discardableResult
    public static func settle(sha256: String, in failed: StoreHandle) -> [String] {
        var removed: [String] = []
        let decoder = JSONDecoder()
        for name in (try? failed.list()) ?? [] where name.hasSuffix(".error.json") {
            guard let data = try? failed.read(name), let record = try? decoder.decode(DeadLetter.self, from: data),
                record.sha256 == sha256
            else { continue }
            let bytes = String(name.dropLast(".error.json".count))
            if failed.isRegularFile(bytes) { try? failed.remove(bytes) }
            if (try? failed.remove(name)) != nil { removed.append(name) }
        }
        return removed
    }

    /// Whether the slot `chosen` already belongs to this failure: it holds the same bytes, or it has no bytes yet
    /// and its record names the same input, and the same invocation when both name one (a replay of it failing
    /// again; until session 37 another invocation of the input took the slot too, and its letter replaced the first).
    private func holds(_ chosen: String, bytes: Data?, in failed: StoreHandle) -> Bool {
        // Only a regular file is read (a link or a FIFO someone put in failed/ is not followed).
        if let bytes, failed.isRegularFile(chosen), let existing = try? failed.read(chosen) { return existing == bytes }
        guard !failed.exists(chosen), let old = try? failed.read(chosen + ".error.json"),
            let record = try? JSONDecoder().decode(DeadLetter.self, from: old)
        else { return false }
        return record.file == file && (record.invocation == nil || invocation == nil || record.invocation == invocation)
    }

    /// The longest name given in `failed/`, in bytes: a number and `.error.json` must still fit in the 255 bytes
    /// of a file name (the record keeps the whole name).
    static let maxNameBytes = 200

    /// A file name safe to use in one folder: the last path component, no leading dots, at most `maxNameBytes`
    /// (shortened before its extension).
    static func safeName(_ name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? "input"
        let trimmed = String(last.drop(while: { $0 == "." })).replacingOccurrences(of: "\0", with: "")
        guard !trimmed.isEmpty else { return "input" }
        guard trimmed.utf8.count > maxNameBytes else { return trimmed }
        let dot = trimmed.lastIndex(of: ".").flatMap { trimmed[$0...].utf8.count <= 16 ? $0 : nil }
        let ending = dot.map { trimmed[$0...] } ?? ""
        var stem = trimmed[..<(dot ?? trimmed.endIndex)]
        while stem.utf8.count + ending.utf8.count > maxNameBytes { stem = stem.dropLast() }
        return String(stem + ending)
    }

    static func numbered(_ name: String, _ n: Int) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot]).\(n)\(name[dot...])"
        }
        return "\(name).\(n)"
    }
}
